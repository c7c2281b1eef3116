/* The sandbox card issuer. POST /v1/sandbox/issuer/redeem is what happens when a buyer uses a
 * card key at the issuer (charges a game wallet with it): the issuer then tells the shop with a
 * signed callback, which records the activation the refund policy reads (N1). The callback is
 * sent from this request, outside any transaction, to the shop's own callback endpoint, on a
 * thread of its own while the request's connection is suspended. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "adapters/signature.h"
#include "core/clock.h"
#include "core/vault.h"
#include "domain/card_import.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "service/fulfilment.h"

static void issuer_key(uint8_t out[32])
{
    vault_subkey(VAULT_KEY_SANDBOX_ISSUER, out);
}

/* The signed activation, carried to the thread that posts it. */
struct redeem_arg {
    char *text; /* the event's JSON, owned */
    char id[ID_BYTES_MAX];
    char sig[SIGNATURE_HEADER_BYTES];
};

static void redeem_free(void *p)
{
    struct redeem_arg *a = p;
    if (a != NULL) {
        sodium_memzero(a->text, strlen(a->text));
        free(a->text);
        free(a);
    }
}

/* On a thread of its own, with the buyer's connection suspended: the post goes to the shop's own
 * callback endpoint, which needs a free server thread. Waiting for it on a server thread, four
 * redemptions at once held all four and each post waited out its timeout (and a server thread
 * may already have accepted the callback's connection before it began waiting). */
static int redeem_async(struct api_req *r)
{
    struct redeem_arg *a = r->write_arg;
    char url[320];
    snprintf(url, sizeof url, "%s/v1/callbacks/issuer/sandbox", api_public_url());
    long status = 0;
    int rc = http_out_post(url, a->text, a->sig, &status);
    if (rc != 0) {
        return api_fail(r, KM_EINTERNAL, "issuer_unavailable", NULL,
                        "the sandbox issuer could not reach the shop");
    }
    return api_ok(r, 200,
                  json_pack("{s:s, s:s, s:b, s:i}", "object", "sandbox_redemption", "id", a->id,
                            "shop_acknowledged", status >= 200 && status < 300, "shop_status",
                            (int)status));
}

int api_sandbox_issuer_redeem(struct api_req *r)
{
    static const char *const allowed[] = {"number", "password", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *number = "", *password = NULL;
    int rc = api_field_string(r, body, "number", false, CARD_FIELD_BYTES_MAX, &number);
    rc = rc ? rc : api_field_string(r, body, "password", true, CARD_FIELD_BYTES_MAX, &password);
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct redeem_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    id_new("iss", a->id);
    json_t *event = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", a->id, "type", "card.activated",
                              "number", number, "password", password, "activated_at",
                              (json_int_t)clock_now_ms());
    json_decref(body);
    a->text = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    km_assert(a->text != NULL);
    uint8_t key[32];
    issuer_key(key);
    signature_make(key, clock_now_ms(), a->text, strlen(a->text), a->sig);
    sodium_memzero(key, sizeof key);
    r->write_arg = a;
    r->write_free = redeem_free;
    r->async_fn = redeem_async;
    return 0;
}

struct activation_arg {
    char number[CARD_FIELD_BYTES_MAX + 1];
    char password[CARD_FIELD_BYTES_MAX + 1];
    int64_t at;
};

static void activation_free(void *p)
{
    if (p != NULL) {
        sodium_memzero(p, sizeof(struct activation_arg));
        free(p);
    }
}

static int activation_write(struct db *db, struct api_req *r)
{
    struct activation_arg *a = r->write_arg;
    struct km_error e;
    if (fulfil_activation(db, a->number, a->password, a->at, &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, json_pack("{s:b}", "received", 1));
}

int api_callback_issuer(struct api_req *r)
{
    static const char *const allowed[] = {"id", "type", "number", "password", "activated_at",
                                          NULL};
    json_t *body = NULL;
    if (api_signed_body(r, issuer_key, allowed, &body) != 0) {
        return 0;
    }
    const char *number = "", *password = NULL;
    int64_t at = 0;
    int rc = api_field_string(r, body, "number", false, CARD_FIELD_BYTES_MAX, &number);
    rc = rc ? rc : api_field_string(r, body, "password", true, CARD_FIELD_BYTES_MAX, &password);
    rc = rc ? rc : api_field_int(r, body, "activated_at", true, 1, INT64_MAX, &at);
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct activation_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->number, sizeof a->number, "%s", number);
    snprintf(a->password, sizeof a->password, "%s", password);
    a->at = at;
    json_decref(body);
    return api_write(r, activation_write, a, activation_free);
}
