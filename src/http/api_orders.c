/* Orders: checkout, the buyer's view, look-up by password, reveals, escrow delivery and
 * confirmation. */
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json_out.h"
#include "domain/target.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/ratelimit.h"
#include "http/views.h"
#include "service/fulfilment.h"
#include "service/orders.h"
#include "service/read_cache.h"
#include "service/read_cache.h"

/* argon2id costs 64 MiB and tens of milliseconds: at most LOOKUP_HASH_CONCURRENCY at once. */
static sem_t hash_slots;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_slots_init(void)
{
    sem_init(&hash_slots, 0, LOOKUP_HASH_CONCURRENCY);
}

static int password_hash(const char *password, char out[crypto_pwhash_STRBYTES])
{
    pthread_once(&hash_once, hash_slots_init);
    sem_wait(&hash_slots);
    int rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&hash_slots);
    return rc;
}

static bool password_verify(const char *hash, const char *password)
{
    pthread_once(&hash_once, hash_slots_init);
    sem_wait(&hash_slots);
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    sem_post(&hash_slots);
    return ok;
}

struct create_arg {
    char product_id[ID_BYTES_MAX];
    int64_t quantity;
    char contact[ORDER_CONTACT_BYTES_MAX + 1];
    char target_account[TARGET_ACCOUNT_BYTES_MAX + 1];
    char target_region[PRODUCT_REGIONS_BYTES_MAX + 1];
    bool has_target, has_region;
    char lookup_hash[crypto_pwhash_STRBYTES];
};

static void created_drop(void *kept)
{
    struct order_created *c = kept;
    sodium_memzero(c->token, sizeof c->token);
    free(c);
}

/* The new order as a summary, from what creating it returned (no second read), with the buyer
 * token: shown this once, as only its hash is stored. */
static json_t *created_view(void *kept)
{
    struct order_created *c = kept;
    json_t *v = view_order_created(c);
    json_object_set_new(v, "buyer_token", json_string(c->token));
    created_drop(c);
    return v;
}

static int create_write(struct db *db, struct api_req *r)
{
    struct create_arg *a = r->write_arg;
    struct order_input in = {.product_id = a->product_id,
                             .quantity = a->quantity,
                             .contact = a->contact,
                             .target_account = a->has_target ? a->target_account : NULL,
                             .target_region = a->has_region ? a->target_region : NULL,
                             .lookup_hash = a->lookup_hash[0] ? a->lookup_hash : NULL};
    struct order_created *c = malloc(sizeof *c); /* a few KiB: keys held for up to 100 */
    km_assert(c != NULL);
    struct km_error e;
    if (orders_create(db, &in, c, &e) != 0) {
        sodium_memzero(c->token, sizeof c->token);
        free(c);
        return api_error(r, &e);
    }
    /* The buyer pays with the token next, so it is kept for the check that follows (a token
     * opens its order for good). Should the batch's commit fail, the buyer gets an error and
     * never sees the token the entry is for. */
    read_cache_token_put(c->token_hash, c->order.id);
    return api_ok_later(r, 201, created_view, created_drop, c);
}

int api_orders_create(struct api_req *r)
{
    static const char *const allowed[] = {"product_id",     "quantity",      "contact",
                                          "target_account", "target_region", "lookup_password",
                                          NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct create_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    const char *product = NULL, *contact = "", *account = NULL, *region = NULL, *password = NULL;
    a->quantity = 1;
    int rc = api_field_string(r, body, "product_id", true, ID_BYTES_MAX - 1, &product);
    rc = rc ? rc : api_field_int(r, body, "quantity", false, 1, ORDER_QUANTITY_MAX, &a->quantity);
    rc = rc ? rc : api_field_string(r, body, "contact", false, ORDER_CONTACT_BYTES_MAX, &contact);
    rc = rc ? rc
            : api_field_string(r, body, "target_account", false, TARGET_ACCOUNT_BYTES_MAX,
                               &account);
    rc = rc ? rc
            : api_field_string(r, body, "target_region", false, PRODUCT_REGIONS_BYTES_MAX,
                               &region);
    rc = rc ? rc
            : api_field_string(r, body, "lookup_password", false, LOOKUP_PASSWORD_BYTES_MAX,
                               &password);
    if (rc == 0 && password != NULL && strlen(password) < LOOKUP_PASSWORD_BYTES_MIN) {
        rc = api_fail(r, KM_EINVAL, "password_too_short", "lookup_password",
                      "a lookup password has at least %d characters", LOOKUP_PASSWORD_BYTES_MIN);
    }
    if (rc == 0) {
        snprintf(a->product_id, sizeof a->product_id, "%s", product);
        snprintf(a->contact, sizeof a->contact, "%s", contact);
        if (account != NULL) {
            a->has_target = true;
            snprintf(a->target_account, sizeof a->target_account, "%s", account);
        }
        if (region != NULL) {
            a->has_region = true;
            snprintf(a->target_region, sizeof a->target_region, "%s", region);
        }
        if (password != NULL && password_hash(password, a->lookup_hash) != 0) {
            rc = api_fail(r, KM_EINTERNAL, "hash_failed", NULL, "out of memory hashing");
        }
    }
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write_rerunnable(r, create_write, a, free);
}

struct view_build {
    struct api_req *r;
    const char *id;
};

static int order_view_text(void *ctx, int64_t now, char **text, size_t *len, int64_t *valid_until)
{
    struct view_build *b = ctx;
    return view_order_text(b->r->db, b->id, now, text, len, valid_until);
}

int api_orders_get(struct api_req *r)
{
    const char *id = r->seg[2];
    if (api_require_order_access(r, id) != 0) {
        return 0;
    }
    struct view_build b = {.r = r, .id = id};
    char *text = NULL;
    size_t len = 0;
    int rc = read_cache_view_read(id, clock_now_ms(), order_view_text, &b, &text, &len);
    if (rc == -KM_ENOTFOUND) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "order_id", "no such order: %s", id);
    }
    if (rc != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "order unavailable");
    }
    return api_bytes(r, 200, "application/json", text, len);
}

int api_orders_list(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct api_page page;
    if (api_query_page(r, &page) != 0) {
        return 0;
    }
    const char *status = api_query(r, "status");
    static __thread struct order rows[LIST_LIMIT_MAX];
    int count = 0;
    bool more = false;
    if (store_order_list(r->db, page.after, page.limit, status ? status : "", rows, &count,
                         &more) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "orders unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_array_append_new(data, view_order_summary(&rows[i]));
    }
    return api_ok(r, 200, view_list(data, more));
}

struct token_arg {
    char order_id[ID_BYTES_MAX];
};

static int lookup_write(struct db *db, struct api_req *r)
{
    struct token_arg *a = r->write_arg;
    char token[SECRET_BYTES_MAX];
    struct km_error e;
    if (orders_issue_token(db, a->order_id, "lookup", token, &e) != 0) {
        return api_error(r, &e);
    }
    struct order o;
    json_t *v = store_order_get(db, a->order_id, &o) == 0 ? view_order(db, &o) : NULL;
    if (v == NULL) {
        sodium_memzero(token, sizeof token);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "order unavailable");
    }
    json_object_set_new(v, "buyer_token", json_string(token));
    sodium_memzero(token, sizeof token);
    return api_ok(r, 200, v);
}

int api_orders_lookup(struct api_req *r)
{
    static const char *const allowed[] = {"order_id", "lookup_password", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *id = NULL, *password = NULL;
    int rc = api_field_string(r, body, "order_id", true, ID_BYTES_MAX - 1, &id);
    rc = rc ? rc
            : api_field_string(r, body, "lookup_password", true, LOOKUP_PASSWORD_BYTES_MAX,
                               &password);
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    /* Rate limits first, so a guesser pays nothing and learns nothing. */
    if (!ratelimit_allow("lookup-ip", r->ip, LOOKUP_ATTEMPTS_PER_MINUTE) ||
        !ratelimit_allow("lookup-order", id, LOOKUP_ATTEMPTS_PER_MINUTE)) {
        json_decref(body);
        return api_fail(r, KM_ERATE, "rate_limited", "lookup_password",
                        "too many look-ups; wait a minute and try again");
    }
    struct order o;
    bool ok = store_order_get(r->db, id, &o) == 0 && o.lookup_hash[0] != '\0' &&
              password_verify(o.lookup_hash, password);
    json_decref(body);
    if (!ok) {
        /* One answer for a wrong id, a wrong password and an order without one. */
        return api_fail(r, KM_EAUTH, "lookup_failed", "lookup_password",
                        "no order matches this id and password");
    }
    struct token_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->order_id, sizeof a->order_id, "%s", o.id);
    return api_write(r, lookup_write, a, free);
}

struct reveal_arg {
    char order_id[ID_BYTES_MAX];
    char key_id[ID_BYTES_MAX];
    char actor[64];
    char ip[64];
    bool confirm_waiver;
};

static int reveal_write(struct db *db, struct api_req *r)
{
    struct reveal_arg *a = r->write_arg;
    char secret[CARD_SECRET_BYTES_MAX + 1];
    int64_t at = 0;
    struct km_error e;
    if (fulfil_reveal(db, a->order_id, a->key_id, a->actor, a->ip, a->confirm_waiver, secret,
                      sizeof secret, &at, &e) != 0) {
        return api_error(r, &e);
    }
    char *nl = strchr(secret, '\n');
    const char *number = "";
    const char *password = secret;
    if (nl != NULL) {
        *nl = '\0';
        number = secret;
        password = nl + 1;
    }
    json_t *v = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}", "object", "card_key_reveal",
                          "card_key_id", a->key_id, "order_id", a->order_id, "number",
                          number[0] ? json_string(number) : json_null(), "password", password,
                          "revealed_at", api_time(at));
    sodium_memzero(secret, sizeof secret);
    return api_ok(r, 200, v);
}

int api_orders_reveal(struct api_req *r)
{
    const char *order_id = r->seg[2];
    const char *key_id = r->seg[4];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    if (r->auth.role == AUTH_AGENT) {
        /* Agents see that a key was revealed, never the key itself. */
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "agents cannot reveal card keys");
    }
    bool confirm = false;
    if (r->body_len > 0) {
        /* {"confirm_waiver": true}: the buyer accepts that revealing ends the no-reason right. */
        static const char *const allowed[] = {"confirm_waiver", NULL};
        json_t *body = NULL;
        if (api_body_object(r, allowed, &body) != 0) {
            return 0;
        }
        int rc = api_field_bool(r, body, "confirm_waiver", false, &confirm);
        json_decref(body);
        if (rc != 0) {
            return 0;
        }
    }
    struct reveal_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    a->confirm_waiver = confirm;
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    snprintf(a->key_id, sizeof a->key_id, "%s", key_id);
    if (r->auth.role == AUTH_ADMIN) {
        snprintf(a->actor, sizeof a->actor, "admin:%s", r->auth.key_id);
    } else {
        snprintf(a->actor, sizeof a->actor, "buyer");
    }
    snprintf(a->ip, sizeof a->ip, "%s", r->ip);
    return api_write_rerunnable(r, reveal_write, a, free);
}

static int account_read_write(struct db *db, struct api_req *r)
{
    struct reveal_arg *a = r->write_arg;
    char content[ACCOUNT_DELIVERY_BYTES_MAX + 1];
    struct km_error e;
    if (fulfil_account_read(db, a->order_id, a->actor, a->ip, content, sizeof content, &e) != 0) {
        return api_error(r, &e);
    }
    json_t *v = json_pack("{s:s, s:s, s:s}", "object", "account_goods", "order_id", a->order_id,
                          "content", content);
    sodium_memzero(content, sizeof content);
    return api_ok(r, 200, v);
}

int api_orders_account_reveal(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    if (r->auth.role == AUTH_AGENT) {
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "agents cannot read delivered accounts");
    }
    struct order o;
    if (store_order_get(r->db, order_id, &o) != 0) {
        /* An admin naming an order that does not exist: not "not delivered yet". */
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "order_id", "no such order: %s",
                        order_id);
    }
    struct reveal_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    snprintf(a->actor, sizeof a->actor, "%s",
             r->auth.role == AUTH_ADMIN ? "admin" : "buyer");
    snprintf(a->ip, sizeof a->ip, "%s", r->ip);
    return api_write(r, account_read_write, a, free);
}

struct deliver_arg {
    char order_id[ID_BYTES_MAX];
    char seller_id[ID_BYTES_MAX];
    char content[ACCOUNT_DELIVERY_BYTES_MAX + 1];
};

static void deliver_free(void *p)
{
    if (p != NULL) {
        sodium_memzero(p, sizeof(struct deliver_arg));
        free(p);
    }
}

static int order_answer(struct db *db, struct api_req *r, const char *order_id)
{
    struct order o;
    json_t *v = store_order_get(db, order_id, &o) == 0 ? view_order(db, &o) : NULL;
    if (v == NULL) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "order unavailable");
    }
    return api_ok(r, 200, v);
}

static int deliver_write(struct db *db, struct api_req *r)
{
    struct deliver_arg *a = r->write_arg;
    struct km_error e;
    if (fulfil_account_deliver(db, a->order_id, a->seller_id, a->content, clock_now_ms(), &e) !=
        0) {
        return api_error(r, &e);
    }
    return order_answer(db, r, a->order_id);
}

/* Account goods are several lines (account, password, notes): line breaks and tabs are text
 * here, every other control character is still refused by api_field_string. */
static int field_multiline(struct api_req *r, json_t *body, const char *name, size_t max_bytes,
                           const char **out)
{
    json_t *v = json_object_get(body, name);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        bool ok = n > 0 && n <= max_bytes;
        for (size_t i = 0; ok && i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            ok = !((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f);
        }
        if (ok) {
            *out = s;
            return 0;
        }
    }
    return api_field_string(r, body, name, true, max_bytes, out);
}

int api_orders_deliver(struct api_req *r)
{
    if (r->auth.role != AUTH_SELLER) {
        bool anonymous = r->auth.role == AUTH_NONE;
        return api_fail(r, anonymous ? KM_EAUTH : KM_EFORBIDDEN,
                        anonymous ? "authentication_required" : "forbidden", "Authorization",
                        "only the order's seller delivers account goods");
    }
    static const char *const allowed[] = {"content", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *content = NULL;
    if (field_multiline(r, body, "content", ACCOUNT_DELIVERY_BYTES_MAX, &content) != 0) {
        json_decref(body);
        return 0;
    }
    struct deliver_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->order_id, sizeof a->order_id, "%s", r->seg[2]);
    snprintf(a->seller_id, sizeof a->seller_id, "%s", r->auth.seller_id);
    snprintf(a->content, sizeof a->content, "%s", content);
    json_decref(body);
    return api_write(r, deliver_write, a, deliver_free);
}

static int confirm_write(struct db *db, struct api_req *r)
{
    struct token_arg *a = r->write_arg;
    struct km_error e;
    if (fulfil_confirm(db, a->order_id, "buyer", clock_now_ms(), &e) != 0) {
        return api_error(r, &e);
    }
    return order_answer(db, r, a->order_id);
}

int api_orders_confirm(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (r->auth.role == AUTH_NONE) {
        return api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                        "use the order's buyer token");
    }
    if (r->auth.role != AUTH_BUYER) {
        /* Staff and sellers never confirm for the buyer. */
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "only the buyer confirms receipt");
    }
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    struct token_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    return api_write(r, confirm_write, a, free);
}
