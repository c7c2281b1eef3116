/* The account a direct top-up goes to. Checked against the product's format before the buyer
 * pays — a mistyped phone number or game account is the refusal the article blames most refund
 * fights on — and normalised, so the buyer confirms exactly what the upstream will receive. */
#ifndef KM_TARGET_H
#define KM_TARGET_H

#include <stddef.h>

#include "core/check.h"
#include "core/err.h"

#define TARGET_ACCOUNT_BYTES_MAX 64 /* game accounts are short; a mail-style id fits in 64 */

enum target_format {
    TARGET_NONE = 0,     /* card keys and account goods take no target */
    TARGET_PHONE_CN,     /* 话费: an 11-digit mainland mobile number, 1[3-9]xxxxxxxxx */
    TARGET_GAME_ACCOUNT, /* 游戏直充: 4–32 of [A-Za-z0-9_.@-], plus a region/server from the product's list */
};

const char *target_format_name(enum target_format f);
KM_MUST_USE int target_format_parse(const char *name, enum target_format *out);

/* Validate `input` for format f; write the normalised account (spaces and dashes removed from a
 * phone number) into out. `regions` is the product's comma-separated list of allowed
 * regions/servers ("" when the format needs none); `region` is the buyer's choice (may be NULL
 * when none is needed). Errors name param "target_account" or "target_region". out must hold
 * at least TARGET_ACCOUNT_BYTES_MAX + 1 bytes; it is "" on error and for TARGET_NONE. */
KM_MUST_USE int target_normalise(enum target_format f, const char *input, const char *regions,
                                 const char *region, char *out, size_t out_len,
                                 struct km_error *e);

/* A readable echo for the buyer to confirm: "138 0013 8000" for a phone, "account @ region"
 * for a game account. */
void target_display(enum target_format f, const char *normalised, const char *region, char *out,
                    size_t out_len);

#endif
