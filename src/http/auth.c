/* Bearer tokens: "sk_…" API keys and "bt_…" buyer tokens, looked up by hash on the reader. */
#include "http/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "service/read_cache.h"
#include "store/store.h"

const char *auth_role_name(enum auth_role role)
{
    switch (role) {
    case AUTH_BUYER:
        return "buyer";
    case AUTH_ADMIN:
        return "admin";
    case AUTH_AGENT:
        return "agent";
    case AUTH_SELLER:
        return "seller";
    case AUTH_NONE:
        break;
    }
    return "anonymous";
}

/* The store did not answer (the database restarting, say): the credentials may well be good,
 * so the caller is told to try again rather than that they are wrong. */
static int store_unavailable(struct api_req *r)
{
    return api_fail(r, KM_EBUSY, "store_unavailable", NULL,
                    "the shop cannot check credentials just now: try again shortly");
}

int auth_resolve(struct api_req *r)
{
    memset(&r->auth, 0, sizeof r->auth);
    /* Anonymous callers (a buyer at checkout) are told apart by address, so one buyer's
     * Idempotency-Key can never replay another's answer (and buyer token). */
    snprintf(r->auth.principal, sizeof r->auth.principal, "anon:%s", r->ip);
    if (r->authorization[0] == '\0') {
        return 0;
    }
    if (strncmp(r->authorization, "Bearer ", 7) != 0) {
        return api_fail(r, KM_EAUTH, "invalid_authorization", "Authorization",
                        "use 'Authorization: Bearer <key or buyer token>'");
    }
    const char *token = r->authorization + 7;
    uint8_t hash[TOKEN_HASH_BYTES];
    token_hash(token, hash);
    if (strncmp(token, "sk_", 3) == 0) {
        struct api_key_row key;
        int rc = store_api_key_find(r->db, hash, &key);
        if (rc == -KM_ENOTFOUND) {
            return api_fail(r, KM_EAUTH, "invalid_api_key", "Authorization",
                            "this API key is not valid");
        }
        if (rc != 0) {
            return store_unavailable(r);
        }
        r->auth.role = strcmp(key.role, "admin") == 0   ? AUTH_ADMIN
                       : strcmp(key.role, "agent") == 0 ? AUTH_AGENT
                                                        : AUTH_SELLER;
        snprintf(r->auth.key_id, sizeof r->auth.key_id, "%s", key.id);
        snprintf(r->auth.seller_id, sizeof r->auth.seller_id, "%s", key.seller_id);
        snprintf(r->auth.principal, sizeof r->auth.principal, "key:%s", key.id);
        return 0;
    }
    if (strncmp(token, "bt_", 3) == 0) {
        /* A buyer token opens the same order for good, so what was found once is kept. */
        if (!read_cache_token_get(hash, r->auth.order_id, sizeof r->auth.order_id)) {
            int rc =
                store_order_token_find(r->db, hash, r->auth.order_id, sizeof r->auth.order_id);
            if (rc == -KM_ENOTFOUND) {
                return api_fail(r, KM_EAUTH, "invalid_buyer_token", "Authorization",
                                "this buyer token opens no order");
            }
            if (rc != 0) {
                return store_unavailable(r);
            }
            read_cache_token_put(hash, r->auth.order_id);
        }
        r->auth.role = AUTH_BUYER;
        snprintf(r->auth.principal, sizeof r->auth.principal, "buyer:%s", r->auth.order_id);
        return 0;
    }
    return api_fail(r, KM_EAUTH, "invalid_authorization", "Authorization",
                    "the bearer token is neither an API key nor a buyer token");
}
