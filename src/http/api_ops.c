/* Operations: health, metrics, the test clock, the ledger's trial balance, sellers, API keys,
 * and the target-account check a buyer sees before ordering. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "domain/target.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/metrics.h"
#include "jobs/jobs.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "store/store.h"
#include "store/store_ledger.h"

int api_healthz(struct api_req *r)
{
    int rc = db_ping(r->db) == 0 ? DB_ROW : DB_DONE;
    struct executor_stats es;
    executor_stats_get(&es);
    bool forked = evlog_fork_detected();
    bool ok = rc == DB_ROW && !forked;
    /* A log that no longer extends what was signed is an emergency: say so where monitors look. */
    return api_ok(r, ok ? 200 : 503,
                  json_pack("{s:s, s:b, s:s, s:I, s:b, s:s}", "status", ok ? "ok" : "degraded",
                            "database", rc == DB_ROW, "store", db_backend_name(r->db),
                            "write_queue_depth",
                            (json_int_t)es.queue_depth, "test_clock", clock_is_test(),
                            "evidence_log", forked ? "forked" : "ok"));
}

int api_metrics(struct api_req *r)
{
    return api_text(r, 200, "text/plain; version=0.0.4", metrics_render());
}

static json_t *clock_json(void)
{
    return json_pack("{s:s, s:o, s:b}", "object", "test_clock", "now", api_time(clock_now_ms()),
                     "test_clock", clock_is_test());
}

/* The test endpoints answer only on a server started with --test-clock. */
static int test_only(struct api_req *r)
{
    if (clock_is_test()) {
        return 0;
    }
    api_fail(r, KM_EFORBIDDEN, "test_clock_disabled", NULL,
             "the server runs on real time; start it with --test-clock");
    return -1;
}

int api_clock_get(struct api_req *r)
{
    if (test_only(r) != 0) {
        return 0;
    }
    return api_ok(r, 200, clock_json());
}

/* On its own thread: the timers call the shop's own HTTP endpoints (sandbox callbacks), which
 * need every server thread free. */
static int advance_async(struct api_req *r)
{
    const int64_t *delta = r->write_arg;
    clock_advance(*delta);
    /* Every timer that became due runs before the answer, so a test sees its effects. */
    jobs_run_now();
    return api_ok(r, 200, clock_json());
}

int api_clock_advance(struct api_req *r)
{
    if (test_only(r) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"seconds", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    int64_t seconds = 0;
    /* Up to a year at a time: enough for any window, small enough to stay far from overflow. */
    int rc = api_field_int(r, body, "seconds", true, 0, 366LL * 24 * 3600, &seconds);
    json_decref(body);
    if (rc != 0) {
        return 0;
    }
    int64_t *delta = malloc(sizeof *delta);
    km_assert(delta != NULL);
    *delta = seconds * 1000;
    r->write_arg = delta;
    r->write_free = free;
    r->async_fn = advance_async;
    return 0;
}

/* For tests of durability: while held, no WAL sync starts, so no write is acknowledged and no
 * answer built from a read goes out while something it could see is unsynced. */
int api_test_syncs(struct api_req *r)
{
    if (test_only(r) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"hold", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    bool hold = false;
    int rc = api_field_bool(r, body, "hold", true, &hold);
    json_decref(body);
    if (rc != 0) {
        return 0;
    }
    executor_hold_syncs(hold);
    return api_ok(r, 200, json_pack("{s:s, s:b}", "object", "test_syncs", "held", hold));
}

int api_ledger_check(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    struct ledger_totals t;
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    int rc = store_ledger_totals(r->db, &t);
    int64_t revenue = 0;
    rc = rc ? rc : store_ledger_balance(r->db, "revenue:shop", &revenue);
    db_rollback(r->db);
    if (rc != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "ledger unavailable");
    }
    bool balanced = t.account_debits_posted == t.account_credits_posted &&
                    t.account_debits_pending == t.account_credits_pending &&
                    t.mismatched_accounts == 0;
    return api_ok(r, 200,
                  json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "object",
                            "ledger_check", "balanced", balanced, "debits_posted_fen",
                            (json_int_t)t.account_debits_posted, "credits_posted_fen",
                            (json_int_t)t.account_credits_posted, "debits_pending_fen",
                            (json_int_t)t.account_debits_pending, "credits_pending_fen",
                            (json_int_t)t.account_credits_pending, "transfers",
                            (json_int_t)t.transfer_count, "mismatched_accounts",
                            (json_int_t)t.mismatched_accounts, "revenue_fen",
                            (json_int_t)revenue));
}

int api_targets_check(struct api_req *r)
{
    static const char *const allowed[] = {"product_id", "target_account", "target_region", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *product = NULL, *account = NULL, *region = NULL;
    int rc = api_field_string(r, body, "product_id", true, ID_BYTES_MAX - 1, &product);
    rc = rc ? rc
            : api_field_string(r, body, "target_account", true, TARGET_ACCOUNT_BYTES_MAX,
                               &account);
    rc = rc ? rc
            : api_field_string(r, body, "target_region", false, PRODUCT_REGIONS_BYTES_MAX,
                               &region);
    struct product p;
    if (rc == 0 && (store_product_get(r->db, product, &p) != 0 || !p.active)) {
        rc = api_fail(r, KM_EINVAL, "resource_missing", "product_id", "no such product");
    }
    enum target_format f = TARGET_NONE;
    if (rc == 0) {
        if (target_format_parse(p.target_format, &f) != 0) {
            f = TARGET_NONE;
        }
    }
    char normalised[TARGET_ACCOUNT_BYTES_MAX + 1];
    struct km_error e;
    if (rc == 0 &&
        target_normalise(f, account, p.regions, region, normalised, sizeof normalised, &e) != 0) {
        rc = api_error(r, &e);
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    char display[160];
    target_display(f, normalised, region, display, sizeof display);
    json_t *v = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "object", "target_check", "product_id",
                          p.id, "account", normalised, "region",
                          region != NULL && f == TARGET_GAME_ACCOUNT ? json_string(region)
                                                                     : json_null(),
                          "display", display, "confirm_with",
                          "send this account as target_confirmed when paying");
    json_decref(body);
    return api_ok(r, 200, v);
}

struct seller_arg {
    char name[PRODUCT_NAME_BYTES_MAX + 1];
};

static int seller_write(struct db *db, struct api_req *r)
{
    struct seller_arg *a = r->write_arg;
    char id[ID_BYTES_MAX];
    id_new("sel", id);
    if (store_seller_insert(db, id, a->name, clock_now_ms()) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the seller was not stored");
    }
    return api_ok(r, 201, json_pack("{s:s, s:s, s:s}", "id", id, "object", "seller", "name",
                                    a->name));
}

int api_sellers_create(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"name", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *name = NULL;
    if (api_field_string(r, body, "name", true, PRODUCT_NAME_BYTES_MAX, &name) != 0) {
        json_decref(body);
        return 0;
    }
    struct seller_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->name, sizeof a->name, "%s", name);
    json_decref(body);
    return api_write(r, seller_write, a, free);
}

struct key_arg {
    char role[16];
    char label[64];
    char seller_id[ID_BYTES_MAX];
};

static int key_write(struct db *db, struct api_req *r)
{
    struct key_arg *a = r->write_arg;
    if (strcmp(a->role, "seller") == 0 && store_seller_exists(db, a->seller_id) != 0) {
        return api_fail(r, KM_EINVAL, "parameter_invalid", "seller_id", "no such seller");
    }
    char id[ID_BYTES_MAX], key[SECRET_BYTES_MAX];
    id_new("key", id);
    secret_new("sk", key);
    uint8_t hash[TOKEN_HASH_BYTES];
    token_hash(key, hash);
    if (store_api_key_insert(db, id, hash, a->role, a->seller_id, a->label, clock_now_ms()) != 0) {
        sodium_memzero(key, sizeof key);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the key was not stored");
    }
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "object", "api_key", "role",
                          a->role, "label", a->label, "key", key);
    sodium_memzero(key, sizeof key);
    return api_ok(r, 201, v);
}

int api_keys_create(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"role", "label", "seller_id", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *role = NULL, *label = "", *seller = "";
    int rc = api_field_string(r, body, "role", true, 15, &role);
    rc = rc ? rc : api_field_string(r, body, "label", false, 63, &label);
    rc = rc ? rc : api_field_string(r, body, "seller_id", false, ID_BYTES_MAX - 1, &seller);
    if (rc == 0 && strcmp(role, "admin") != 0 && strcmp(role, "agent") != 0 &&
        strcmp(role, "seller") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "role",
                      "role must be admin, agent or seller");
    }
    if (rc == 0 && (strcmp(role, "seller") == 0) != (seller[0] != '\0')) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "seller_id",
                      "a seller key names its seller, and only a seller key does");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct key_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->role, sizeof a->role, "%s", role);
    snprintf(a->label, sizeof a->label, "%s", label);
    snprintf(a->seller_id, sizeof a->seller_id, "%s", seller);
    json_decref(body);
    return api_write(r, key_write, a, free);
}

static json_t *key_json(const struct api_key_info *k)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", k->key.id, "object", "api_key",
                     "role", k->key.role, "label", k->key.label, "seller_id",
                     k->key.seller_id[0] ? json_string(k->key.seller_id) : json_null(),
                     "created_at", api_time(k->created_at), "revoked_at",
                     api_time(k->revoked_at));
}

int api_keys_list(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    struct api_page page;
    if (api_query_page(r, &page) != 0) {
        return 0;
    }
    static __thread struct api_key_info rows[LIST_LIMIT_MAX];
    int count = 0;
    bool more = false;
    if (store_api_key_list(r->db, page.after, page.limit, rows, &count, &more) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "keys unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_array_append_new(data, key_json(&rows[i]));
    }
    return api_ok(r, 200, json_pack("{s:s, s:o, s:b}", "object", "list", "data", data, "has_more",
                                    more));
}

struct revoke_arg {
    char id[ID_BYTES_MAX];
};

static int revoke_write(struct db *db, struct api_req *r)
{
    struct revoke_arg *a = r->write_arg;
    int rc = store_api_key_revoke(db, a->id, clock_now_ms());
    if (rc == -KM_ENOTFOUND) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "api_key_id", "no such key");
    }
    if (rc == -KM_ESTATE) {
        return api_fail(r, KM_ESTATE, "already_revoked", "api_key_id", "this key is revoked");
    }
    if (rc != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the key was not revoked");
    }
    log_write(LOG_WARN, "api_key_revoked", "api_key_id", a->id, NULL);
    return api_ok(r, 200, json_pack("{s:s, s:s, s:b}", "id", a->id, "object", "api_key",
                                    "revoked", 1));
}

int api_keys_revoke(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    if (strcmp(r->seg[2], r->auth.key_id) == 0) {
        /* An admin revoking the key it holds would lock the shop out of its own admin API. */
        return api_fail(r, KM_ESTATE, "revoking_own_key", "api_key_id",
                        "revoke this key with another admin key");
    }
    struct revoke_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->id, sizeof a->id, "%s", r->seg[2]);
    return api_write(r, revoke_write, a, free);
}
