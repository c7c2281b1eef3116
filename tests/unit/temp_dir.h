/* A test's own directory under /tmp, and its removal with everything in it. */
#ifndef KM_TEST_TEMP_DIR_H
#define KM_TEST_TEMP_DIR_H

#include <stddef.h>

/* dir (at least 64 bytes) receives a new directory /tmp/kameng-<name>-XXXXXX. */
void temp_dir_make(const char *name, char *dir, size_t dir_len);
void temp_dir_remove(const char *dir);

#endif
