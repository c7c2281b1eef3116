/* A hashed table of counters; a collision only makes two keys share a budget (stricter). */
#include "http/ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/clock.h"

#define RATELIMIT_SLOTS 8192 /* distinct guessers per minute before budgets are shared */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int64_t window;
    int count;
} slots[RATELIMIT_SLOTS];

bool ratelimit_allow(const char *scope, const char *key, int per_minute)
{
    uint8_t h[8];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)scope, strlen(scope) + 1);
    crypto_generichash_update(&st, (const unsigned char *)key, strlen(key));
    crypto_generichash_final(&st, h, sizeof h);
    size_t slot = ((size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2]) % RATELIMIT_SLOTS;
    int64_t window = clock_mono_ms() / 60000;
    pthread_mutex_lock(&lock);
    if (slots[slot].window != window) {
        slots[slot].window = window;
        slots[slot].count = 0;
    }
    bool ok = slots[slot].count < per_minute;
    if (ok) {
        slots[slot].count++;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}
