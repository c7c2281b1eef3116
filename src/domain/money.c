/* Checks and formatting for amounts in integer fen. Overflow is detected, never assumed away,
 * and formatting works on the magnitude as an unsigned number so that INT64_MIN prints
 * correctly. */
#include "domain/money.h"

#include <inttypes.h>
#include <stdio.h>

int money_check_positive(int64_t fen, int64_t max_fen, const char *param, struct km_error *e)
{
    km_assert(max_fen > 0);
    if (fen <= 0) {
        return km_fail(e, KM_EINVAL, "amount_too_small", param,
                       "%s must be a positive number of fen, not %" PRId64,
                       param != NULL ? param : "the amount", fen);
    }
    if (fen > max_fen) {
        return km_fail(e, KM_EINVAL, "amount_too_large", param,
                       "%s must be at most %" PRId64 " fen, not %" PRId64,
                       param != NULL ? param : "the amount", max_fen, fen);
    }
    return 0;
}

int money_mul(int64_t unit_fen, int64_t quantity, int64_t max_fen, const char *param, int64_t *out,
              struct km_error *e)
{
    km_assert(out != NULL);
    km_assert(max_fen > 0);
    int rc = money_check_positive(unit_fen, max_fen, param, e);
    if (rc != 0) {
        return rc;
    }
    if (quantity <= 0) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "quantity",
                       "quantity must be at least 1, not %" PRId64, quantity);
    }
    int64_t product = 0;
    if (__builtin_mul_overflow(unit_fen, quantity, &product) || product > max_fen) {
        return km_fail(e, KM_EINVAL, "amount_too_large", param,
                       "%s of %" PRId64 " fen times %" PRId64 " exceeds the limit of %" PRId64
                       " fen",
                       param != NULL ? param : "the amount", unit_fen, quantity, max_fen);
    }
    km_assert(product > 0);
    *out = product;
    return 0;
}

char *money_format_yuan(int64_t fen, char *buf, size_t buf_len)
{
    km_assert(buf != NULL);
    km_assert(buf_len > 0);
    /* Negating INT64_MIN overflows; the unsigned magnitude does not. */
    uint64_t magnitude = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    snprintf(buf, buf_len, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", magnitude / 100,
             magnitude % 100);
    return buf;
}
