/* `kameng log verify`: checking the evidence log as someone who does not trust the shop would.
 * A receipt offline with only the shop's public key; a saved checkpoint against the live log
 * (consistency); and the whole tree rebuilt from the database to find any entry, or business row
 * an entry covers, that was changed, removed or reordered behind the server's back. Each prints
 * what it checked and what failed, and returns 0 only when everything holds. */
#ifndef KM_LOG_VERIFY_H
#define KM_LOG_VERIFY_H

#include <stddef.h>
#include <stdio.h>

#include "store/db.h"

#define LOG_VERIFY_PROBLEMS_MAX 50 /* reported in full; the count goes on */

int log_verify_receipt(const char *receipt, size_t len, const char *key_text, FILE *out);
int log_verify_database(struct db *db, const char *checkpoint_file, const char *key_text,
                        FILE *out);
/* saved: a signed checkpoint note kept earlier; base_url: the shop. */
int log_verify_against_live(const char *saved, size_t len, const char *base_url,
                            const char *key_text, FILE *out);

#endif
