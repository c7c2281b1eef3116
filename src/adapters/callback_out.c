/* Signing, posting and the backoff schedule, once. */
#include "adapters/callback_out.h"

#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/check.h"
#include "core/clock.h"

#define BACKOFF_DOUBLINGS_MAX 10 /* base 2 s doubles to about half an hour, then stays there */

bool callback_post(const uint8_t key[32], const char *url, json_t *body, int64_t attempts_before,
                   int64_t base_ms, int64_t *retry_at)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    km_assert(text != NULL);
    char sig[SIGNATURE_HEADER_BYTES];
    signature_make(key, clock_now_ms(), text, strlen(text), sig);
    long status = 0;
    bool ok = http_out_post(url, text, sig, &status) == 0 && status >= 200 && status < 300;
    free(text);
    int64_t doublings = attempts_before < BACKOFF_DOUBLINGS_MAX ? attempts_before
                                                                : BACKOFF_DOUBLINGS_MAX;
    *retry_at = ok ? 0 : clock_now_ms() + (base_ms << doublings);
    return ok;
}
