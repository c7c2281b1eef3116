/* Money is integer fen (1/100 CNY) everywhere. These helpers check amounts against the shop's
 * limits and format them for people; they never see floating point. */
#ifndef KM_MONEY_H
#define KM_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"

/* Check an amount that must be positive and at most max_fen. `param` names the field in *e. */
KM_MUST_USE int money_check_positive(int64_t fen, int64_t max_fen, const char *param,
                                     struct km_error *e);

/* a * b without overflow and at most max_fen, for unit price × quantity. */
KM_MUST_USE int money_mul(int64_t unit_fen, int64_t quantity, int64_t max_fen, const char *param,
                          int64_t *out, struct km_error *e);

/* Write "12.34" (yuan, two decimals, '-' for negatives) into buf. Returns buf. */
char *money_format_yuan(int64_t fen, char *buf, size_t buf_len);

#endif
