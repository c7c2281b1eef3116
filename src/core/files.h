/* File-system steps that make a rename or a new file durable. */
#ifndef KM_FILES_H
#define KM_FILES_H

#include "core/check.h"

/* fsync the directory that holds path, so that a file created, renamed or removed there stays
 * so after a power cut. 0, or -1 with errno set. */
KM_MUST_USE int file_sync_dir_of(const char *path);

#endif
