/* Disputes at the payment provider: the sandbox provider's desk where a buyer opens one, its
 * signed notifications, and the staff's queue, evidence bundle and answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/dispute_sandbox.h"
#include "adapters/payment_sandbox.h"
#include "core/clock.h"
#include "domain/dispute.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/views.h"
#include "http/views_refunds.h"
#include "service/disputes.h"
#include "store/store_refunds.h"

#define DISPUTE_BUNDLE_CASES_MAX 16

/* --- the sandbox provider's desk ----------------------------------------------------------- */

struct sandbox_dispute_arg {
    char payment_id[ID_BYTES_MAX];
    char reason[DISPUTE_REASON_BYTES];
    int64_t amount_fen;
};

struct sandbox_dispute_made {
    char id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    int64_t respond_by;
};

static json_t *sandbox_dispute_view(void *kept)
{
    struct sandbox_dispute_made *m = kept;
    json_t *v = json_pack("{s:s, s:s, s:s, s:o, s:s}", "object", "sandbox_dispute", "id", m->id,
                          "payment_id", m->payment_id, "shop_respond_by", api_time(m->respond_by),
                          "message", "the provider has frozen the money and will notify the shop");
    free(m);
    return v;
}

static int sandbox_dispute_write(struct db *db, struct api_req *r)
{
    struct sandbox_dispute_arg *a = r->write_arg;
    struct sandbox_dispute_made *m = calloc(1, sizeof *m);
    km_assert(m != NULL);
    struct km_error e;
    if (dispute_sandbox_open(db, a->payment_id, a->reason, a->amount_fen, m->id, &m->respond_by,
                             &e) != 0) {
        free(m);
        return api_error(r, &e);
    }
    snprintf(m->payment_id, sizeof m->payment_id, "%s", a->payment_id);
    return api_ok_later(r, 201, sandbox_dispute_view, free, m);
}

int api_sandbox_dispute(struct api_req *r)
{
    static const char *const allowed[] = {"reason", "amount_fen", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *reason = NULL;
    int64_t amount = 0;
    int rc = api_field_string(r, body, "reason", true, DISPUTE_REASON_BYTES - 1, &reason);
    rc = rc ? rc : api_field_money(r, body, "amount_fen", false, &amount);
    if (rc == 0 && !dispute_reason_valid(reason)) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "reason",
                      "reason must be not_received, not_as_described, unauthorized, duplicate "
                      "or other");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct sandbox_dispute_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->payment_id, sizeof a->payment_id, "%s", r->seg[3]);
    snprintf(a->reason, sizeof a->reason, "%s", reason);
    a->amount_fen = amount;
    json_decref(body);
    return api_write_rerunnable(r, sandbox_dispute_write, a, free);
}

/* --- the provider's notifications ------------------------------------------------------------ */

struct dispute_cb_arg {
    bool closing;
    char provider_id[ID_BYTES_MAX];
    char payment_id[ID_BYTES_MAX];
    char reason[DISPUTE_REASON_BYTES];
    int64_t amount_fen;
    int64_t respond_by;
    char outcome[8];
    char detail[64];
};

struct dispute_noted {
    struct dispute_row d;
    bool replayed;
};

static json_t *dispute_noted_view(void *kept)
{
    struct dispute_noted *n = kept;
    json_t *v = json_pack("{s:b, s:b, s:o}", "received", 1, "replayed", n->replayed, "dispute",
                          view_dispute(&n->d, true));
    free(n);
    return v;
}

static int dispute_callback_write(struct db *db, struct api_req *r)
{
    struct dispute_cb_arg *a = r->write_arg;
    struct dispute_noted *n = calloc(1, sizeof *n);
    km_assert(n != NULL);
    struct km_error e;
    int64_t now = clock_now_ms();
    int rc;
    if (a->closing) {
        rc = disputes_close(db, a->provider_id, a->payment_id, a->outcome, a->detail, now, &n->d,
                            &n->replayed, &e);
    } else {
        struct dispute_notice notice = {
            .provider_dispute_id = a->provider_id,
            .payment_id = a->payment_id,
            .reason = a->reason,
            .amount_fen = a->amount_fen,
            .respond_by = a->respond_by,
        };
        rc = disputes_open(db, &notice, now, &n->d, &n->replayed, &e);
    }
    if (rc != 0) {
        free(n);
        return api_error(r, &e);
    }
    return api_ok_later(r, 200, dispute_noted_view, free, n);
}

int api_callback_dispute(struct api_req *r)
{
    static const char *const allowed[] = {
        "id",     "type",       "dispute_id", "payment_id",     "amount_fen",
        "reason", "respond_by", "outcome",    "outcome_detail", NULL};
    json_t *body = NULL;
    if (api_signed_body(r, payment_sandbox_key, allowed, &body) != 0) {
        return 0;
    }
    const char *type = NULL, *id = NULL, *payment = NULL, *reason = NULL, *outcome = "",
               *detail = "";
    int64_t amount = 0, respond_by = 0;
    int rc = api_field_string(r, body, "type", true, 31, &type);
    rc = rc ? rc : api_field_string(r, body, "dispute_id", true, ID_BYTES_MAX - 1, &id);
    rc = rc ? rc : api_field_string(r, body, "payment_id", true, ID_BYTES_MAX - 1, &payment);
    rc = rc ? rc : api_field_money(r, body, "amount_fen", true, &amount);
    rc = rc ? rc : api_field_string(r, body, "reason", true, DISPUTE_REASON_BYTES - 1, &reason);
    rc = rc ? rc : api_field_int(r, body, "respond_by", true, 1, INT64_MAX / 2, &respond_by);
    rc = rc ? rc : api_field_string(r, body, "outcome", false, 7, &outcome);
    rc = rc ? rc : api_field_string(r, body, "outcome_detail", false, 63, &detail);
    bool closing = rc == 0 && strcmp(type, "dispute.closed") == 0;
    if (rc == 0 && !closing && strcmp(type, "dispute.opened") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "type", "unknown event type");
    }
    if (rc == 0 && closing && strcmp(outcome, "won") != 0 && strcmp(outcome, "lost") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "outcome",
                      "a closed dispute's outcome is won or lost");
    }
    if (rc == 0 && amount <= 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "amount_fen",
                      "a dispute is for a positive amount");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct dispute_cb_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    a->closing = closing;
    snprintf(a->provider_id, sizeof a->provider_id, "%s", id);
    snprintf(a->payment_id, sizeof a->payment_id, "%s", payment);
    snprintf(a->reason, sizeof a->reason, "%s", reason);
    snprintf(a->outcome, sizeof a->outcome, "%s", outcome);
    snprintf(a->detail, sizeof a->detail, "%s", detail);
    a->amount_fen = amount;
    a->respond_by = respond_by;
    json_decref(body);
    return api_write_rerunnable(r, dispute_callback_write, a, free);
}

/* --- staff ------------------------------------------------------------------------------------ */

int api_disputes_list(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct api_page page;
    if (api_query_page(r, &page) != 0) {
        return 0;
    }
    const char *status = api_query(r, "status");
    if (status != NULL && strcmp(status, "open") != 0 && strcmp(status, "all") != 0) {
        return api_fail(r, KM_EINVAL, "parameter_invalid", "status", "status is open or all");
    }
    static __thread struct dispute_row rows[LIST_LIMIT_MAX];
    int count = 0;
    bool more = false;
    bool open_only = status == NULL || strcmp(status, "open") == 0;
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    int rc = store_disputes_list(r->db, open_only, page.after, page.limit, rows, &count, &more);
    db_rollback(r->db);
    if (rc != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "disputes unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_array_append_new(data, view_dispute(&rows[i], true));
    }
    return api_ok(r, 200, view_list(data, more));
}

static int load_dispute(struct api_req *r, struct dispute_row *d)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return -1;
    }
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    int rc = store_dispute_get(r->db, r->seg[2], d);
    db_rollback(r->db);
    if (rc != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "dispute_id", "no such dispute: %s",
                        r->seg[2]);
    }
    return 0;
}

int api_disputes_get(struct api_req *r)
{
    struct dispute_row d;
    if (load_dispute(r, &d) != 0) {
        return 0;
    }
    return api_ok(r, 200, view_dispute(&d, true));
}

/* The evidence bundle for the provider: the dispute, the order with its payments, delivery,
 * reveals and refunds, every refund case on it with decisions and messages, the policy, and the
 * order's receipt from the evidence log (entries, inclusion proofs, signed checkpoint). */
static json_t *bundle_build(struct api_req *r, const struct dispute_row *d)
{
    json_t *receipt = NULL;
    if (api_receipt_json(r, d->order_id, &receipt) != 0) {
        return NULL; /* answered */
    }
    if (db_begin_read(r->db) != 0) {
        json_decref(receipt);
        api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
        return NULL;
    }
    int64_t now = clock_now_ms();
    struct order o;
    json_t *ov = store_order_get(r->db, d->order_id, &o) == 0 ? view_order(r->db, &o) : NULL;
    static __thread struct case_row cases[DISPUTE_BUNDLE_CASES_MAX];
    int cn = 0;
    json_t *cv = json_array();
    if (ov != NULL &&
        store_cases_of_order(r->db, d->order_id, cases, DISPUTE_BUNDLE_CASES_MAX, &cn) == 0) {
        for (int i = 0; i < cn; i++) {
            json_t *c = view_case(r->db, &cases[i], true, now);
            if (c != NULL) {
                json_array_append_new(cv, c);
            }
        }
    }
    db_rollback(r->db);
    if (ov == NULL) {
        json_decref(cv);
        json_decref(receipt);
        api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the bundle cannot be built");
        return NULL;
    }
    char at[40];
    json_t *b = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "object", "dispute_evidence_bundle",
        "dispute_id", d->id, "generated_at", clock_format(now, at, sizeof at), "dispute",
        view_dispute(d, false), "order", ov, "cases", cv, "policy", api_policy_json(), "receipt",
        receipt, "how_to_verify",
        "Save `receipt` as a file and run: kameng log verify --receipt FILE --key <verifier_key>. "
        "The delivery and reveal entries show when the goods reached the buyer; each refund "
        "decision names its rule and the facts it consulted.");
    km_assert(b != NULL);
    return b;
}

int api_disputes_bundle(struct api_req *r)
{
    struct dispute_row d;
    if (load_dispute(r, &d) != 0) {
        return 0;
    }
    /* Once submitted, the bundle is the one the provider received, byte for byte. */
    char *sent = NULL;
    if (d.bundle_sha256[0] != '\0') {
        if (db_begin_read(r->db) != 0) {
            return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
        }
        int rc = store_dispute_bundle(r->db, d.id, &sent);
        db_rollback(r->db);
        if (rc != 0 || sent == NULL) {
            /* Never a newly built bundle in its place: it would not hash to bundle_sha256. */
            return api_fail(r, KM_EINTERNAL, "storage_error", NULL,
                            "the bundle as submitted cannot be read");
        }
        return api_text(r, 200, "application/json", sent);
    }
    json_t *b = bundle_build(r, &d);
    return b != NULL ? api_ok(r, 200, b) : 0;
}

struct respond_arg {
    char dispute_id[ID_BYTES_MAX];
    char response[12];
    char staff[64];
    char *bundle;
};

static void respond_arg_free(void *p)
{
    struct respond_arg *a = p;
    free(a->bundle);
    free(a);
}

static json_t *dispute_view_kept(void *kept)
{
    json_t *v = view_dispute(kept, true);
    free(kept);
    return v;
}

static int respond_write(struct db *db, struct api_req *r)
{
    struct respond_arg *a = r->write_arg;
    struct dispute_row *d = calloc(1, sizeof *d);
    km_assert(d != NULL);
    struct km_error e;
    if (disputes_respond(db, a->dispute_id, a->response, a->bundle, a->staff, clock_now_ms(), d,
                         &e) != 0) {
        free(d);
        return api_error(r, &e);
    }
    return api_ok_later(r, 200, dispute_view_kept, free, d);
}

int api_disputes_respond(struct api_req *r)
{
    static const char *const allowed[] = {"response", NULL};
    json_t *body = NULL;
    struct dispute_row d;
    if (load_dispute(r, &d) != 0 || api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *response = NULL;
    int rc = api_field_string(r, body, "response", true, 11, &response);
    if (rc == 0 && strcmp(response, "evidence") != 0 && strcmp(response, "accepted") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "response",
                      "response is evidence (send the evidence bundle) or accepted (the buyer "
                      "gets the money back)");
    }
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct respond_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->dispute_id, sizeof a->dispute_id, "%s", d.id);
    snprintf(a->response, sizeof a->response, "%s", response);
    snprintf(a->staff, sizeof a->staff, "agent:%s", r->auth.key_id);
    json_decref(body);
    if (strcmp(a->response, "evidence") == 0) {
        json_t *b = bundle_build(r, &d);
        if (b == NULL) {
            respond_arg_free(a);
            return 0;
        }
        a->bundle = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(b);
        km_assert(a->bundle != NULL);
    }
    return api_write(r, respond_write, a, respond_arg_free);
}
