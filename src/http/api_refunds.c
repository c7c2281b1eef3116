/* Refunds and cases: the preview a buyer sees before submitting, the request, the message thread
 * and evidence, the agents' queue and decisions, the appeal, the refunds themselves, the policy as
 * data, and the provider's refund callbacks. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/payment_sandbox.h"
#include "adapters/signature.h"
#include "core/clock.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/views.h"
#include "http/views_refunds.h"
#include "service/cases.h"
#include "service/payouts.h"
#include "service/refunds.h"

static bool staff(const struct api_req *r)
{
    return r->auth.role == AUTH_ADMIN || r->auth.role == AUTH_AGENT;
}

static int parse_reason(struct api_req *r, json_t *body, enum refund_reason *reason)
{
    const char *name = NULL;
    if (api_field_string(r, body, "reason", true, 31, &name) != 0) {
        return -1;
    }
    if (refund_reason_parse(name, reason) != 0) {
        return api_fail(r, KM_EINVAL, "parameter_invalid", "reason",
                        "reason is one of not_received, wrong_item, duplicate_charge, "
                        "changed_mind, key_not_working, not_as_described, wrong_account");
    }
    return 0;
}

/* evidence_ids: an optional array of strings, re-serialised for storage. */
static int parse_evidence(struct api_req *r, json_t *body, char *out, size_t out_len)
{
    json_t *list = json_object_get(body, "evidence_ids");
    if (list == NULL || json_is_null(list)) {
        snprintf(out, out_len, "[]");
        return 0;
    }
    if (!json_is_array(list) || json_array_size(list) > CASE_EVIDENCE_PER_MESSAGE_MAX) {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", "evidence_ids",
                        "evidence_ids is a list of at most %d evidence ids",
                        CASE_EVIDENCE_PER_MESSAGE_MAX);
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) >= ID_BYTES_MAX) {
            return api_fail(r, KM_EINVAL, "parameter_invalid_type", "evidence_ids",
                            "evidence_ids holds evidence ids (strings)");
        }
    }
    char *text = json_dumps(list, JSON_COMPACT);
    km_assert(text != NULL);
    snprintf(out, out_len, "%s", text);
    free(text);
    return 0;
}

int api_refund_preview(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"reason", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    enum refund_reason reason;
    int rc = parse_reason(r, body, &reason);
    json_decref(body);
    if (rc != 0) {
        return 0;
    }
    struct refund_decision d;
    int64_t expected = 0;
    struct km_error e;
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    rc = refunds_preview(r->db, order_id, reason, clock_now_ms(), &d, &expected, &e);
    db_rollback(r->db);
    if (rc != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, view_decision_preview(&d, expected));
}

struct case_arg {
    char order_id[ID_BYTES_MAX];
    char case_id[ID_BYTES_MAX];
    enum refund_reason reason;
    char body[CASE_BODY_BYTES_MAX + 1];
    char evidence[1024];
    char actor[64];
    bool actor_is_buyer;
    char outcome[16];
    char rule[4];
    int64_t amount_fen;
};

static int case_answer(struct db *db, struct api_req *r, const char *case_id, int status)
{
    struct case_row c;
    json_t *v = store_case_get(db, case_id, &c) == 0 ? view_case(db, &c, staff(r), clock_now_ms())
                                                      : NULL;
    if (v == NULL) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "case unavailable");
    }
    return api_ok(r, status, v);
}

static int case_open_write(struct db *db, struct api_req *r)
{
    struct case_arg *a = r->write_arg;
    struct case_row c;
    struct refund_decision d;
    struct km_error e;
    if (cases_open(db, a->order_id, a->reason, a->body, a->evidence, &c, &d, &e) != 0) {
        return api_error(r, &e);
    }
    return case_answer(db, r, c.id, 201);
}

static int text_field(struct api_req *r, json_t *body, const char *name, bool required,
                      char *out, size_t out_len)
{
    /* Messages are paragraphs: line breaks are text, other control characters are not. */
    json_t *v = json_object_get(body, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
        }
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v)) {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", name, "%s must be a string", name);
    }
    size_t n = json_string_length(v);
    if (n >= out_len) {
        return api_fail(r, KM_EINVAL, "parameter_too_long", name, "%s is over %zu bytes", name,
                        out_len - 1);
    }
    const char *s = json_string_value(v);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
            return api_fail(r, KM_EINVAL, "parameter_invalid", name,
                            "%s contains control characters", name);
        }
    }
    if (required && n == 0) {
        return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s must not be empty", name);
    }
    memcpy(out, s, n + 1);
    return 0;
}

int api_cases_create(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    if (r->auth.role != AUTH_BUYER) {
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "a refund is requested with the order's buyer token");
    }
    static const char *const allowed[] = {"reason", "message", "evidence_ids", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct case_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    int rc = parse_reason(r, body, &a->reason);
    rc = rc ? rc : text_field(r, body, "message", false, a->body, sizeof a->body);
    rc = rc ? rc : parse_evidence(r, body, a->evidence, sizeof a->evidence);
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    return api_write(r, case_open_write, a, free);
}

int api_order_cases(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    struct case_row cases[16];
    int n = 0;
    if (store_cases_of_order(r->db, order_id, cases, 16, &n) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "cases unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(data, view_case_summary(&cases[i], clock_now_ms()));
    }
    return api_ok(r, 200, json_pack("{s:s, s:o, s:b}", "object", "list", "data", data, "has_more",
                                    0));
}

/* A case is visible to staff, and to the buyer token of its order; to anyone else it does not
 * exist. */
static int load_case(struct api_req *r, struct case_row *c)
{
    const char *id = r->seg[2];
    if (r->auth.role == AUTH_NONE) {
        return api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                        "use the order's buyer token or an agent's key");
    }
    if (store_case_get(r->db, id, c) != 0 ||
        (!staff(r) && !(r->auth.role == AUTH_BUYER && strcmp(r->auth.order_id, c->order_id) == 0))) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "case_id", "no such case: %s", id);
    }
    return 0;
}

int api_cases_get(struct api_req *r)
{
    struct case_row c;
    if (db_begin_read(r->db) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    json_t *v = NULL;
    if (load_case(r, &c) == 0) {
        v = view_case(r->db, &c, staff(r), clock_now_ms());
        struct order o;
        if (v != NULL && staff(r)) {
            /* The agent's view puts the machine-collected facts beside the buyer's words: the
             * order with its payments, top-up record, reveals, activations, refunds, earlier
             * cases and timeline. */
            json_t *facts = store_order_get(r->db, c.order_id, &o) == 0 ? view_order(r->db, &o)
                                                                         : NULL;
            json_object_set_new(v, "order", facts != NULL ? facts : json_null());
            /* What a decision may still approve, as the shop will check it: the goods' money
             * not refunded or frozen for a provider dispute, and under E3 the money the order
             * did not need as well. */
            struct refund_facts f;
            struct km_error e;
            if (facts != NULL && refunds_facts(r->db, &o, clock_now_ms(), &f, &e) == 0) {
                json_object_set_new(v, "refundable",
                                    json_pack("{s:I, s:I, s:I}", "fen",
                                              (json_int_t)refund_policy_refundable_fen(&f),
                                              "unapplied_fen", (json_int_t)f.unapplied_fen,
                                              "disputed_fen", (json_int_t)f.disputed_fen));
            }
        }
        if (v == NULL) {
            api_fail(r, KM_EINTERNAL, "storage_error", NULL, "case unavailable");
        }
    }
    db_rollback(r->db);
    return v != NULL ? api_ok(r, 200, v) : 0;
}

int api_cases_queue(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct api_page page;
    if (api_query_page(r, &page) != 0) {
        return 0;
    }
    static __thread struct case_row rows[LIST_LIMIT_MAX];
    int count = 0;
    bool more = false;
    if (store_cases_queue(r->db, page.after, page.limit, rows, &count, &more) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "queue unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_array_append_new(data, view_case_summary(&rows[i], clock_now_ms()));
    }
    return api_ok(r, 200, json_pack("{s:s, s:o, s:b}", "object", "list", "data", data, "has_more",
                                    more));
}

static int message_write(struct db *db, struct api_req *r)
{
    struct case_arg *a = r->write_arg;
    struct km_error e;
    if (cases_message(db, a->case_id, a->actor, a->actor_is_buyer, a->body, a->evidence, &e) !=
        0) {
        return api_error(r, &e);
    }
    return case_answer(db, r, a->case_id, 201);
}

/* Who acts, as cases and refunds record it: "buyer", or "agent:<key>" for staff (buyers see
 * "agent"). */
static void actor_of(const struct api_req *r, char *out, size_t len)
{
    if (r->auth.role == AUTH_BUYER) {
        snprintf(out, len, "buyer");
    } else {
        snprintf(out, len, "agent:%s", r->auth.key_id);
    }
}

static struct case_arg *case_arg_for(struct api_req *r, const struct case_row *c)
{
    struct case_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->case_id, sizeof a->case_id, "%s", c->id);
    snprintf(a->order_id, sizeof a->order_id, "%s", c->order_id);
    a->actor_is_buyer = r->auth.role == AUTH_BUYER;
    actor_of(r, a->actor, sizeof a->actor);
    return a;
}

int api_cases_message(struct api_req *r)
{
    struct case_row c;
    if (load_case(r, &c) != 0) {
        return 0;
    }
    if (r->auth.role != AUTH_BUYER && !staff(r)) {
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization", "not a party to this case");
    }
    static const char *const allowed[] = {"body", "evidence_ids", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct case_arg *a = case_arg_for(r, &c);
    int rc = text_field(r, body, "body", true, a->body, sizeof a->body);
    rc = rc ? rc : parse_evidence(r, body, a->evidence, sizeof a->evidence);
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write(r, message_write, a, free);
}

static int request_evidence_write(struct db *db, struct api_req *r)
{
    struct case_arg *a = r->write_arg;
    struct km_error e;
    if (cases_request_evidence(db, a->case_id, a->actor, a->body, &e) != 0) {
        return api_error(r, &e);
    }
    return case_answer(db, r, a->case_id, 200);
}

int api_cases_request_evidence(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct case_row c;
    if (load_case(r, &c) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"message", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct case_arg *a = case_arg_for(r, &c);
    int rc = text_field(r, body, "message", true, a->body, sizeof a->body);
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write(r, request_evidence_write, a, free);
}

static int decide_write(struct db *db, struct api_req *r)
{
    struct case_arg *a = r->write_arg;
    struct km_error e;
    if (cases_decide(db, a->case_id, a->actor, a->outcome, a->rule, a->amount_fen, a->body, &e) !=
        0) {
        return api_error(r, &e);
    }
    return case_answer(db, r, a->case_id, 200);
}

int api_cases_decide(struct api_req *r)
{
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    struct case_row c;
    if (load_case(r, &c) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"outcome", "rule", "amount_fen", "explanation", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct case_arg *a = case_arg_for(r, &c);
    const char *outcome = NULL, *rule = NULL;
    int rc = api_field_string(r, body, "outcome", true, 15, &outcome);
    rc = rc ? rc : api_field_string(r, body, "rule", true, 3, &rule);
    rc = rc ? rc : api_field_money(r, body, "amount_fen", false, &a->amount_fen);
    rc = rc ? rc : text_field(r, body, "explanation", true, a->body, sizeof a->body);
    if (rc == 0) {
        snprintf(a->outcome, sizeof a->outcome, "%s", outcome);
        snprintf(a->rule, sizeof a->rule, "%s", rule);
    }
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write(r, decide_write, a, free);
}

static int appeal_write(struct db *db, struct api_req *r)
{
    struct case_arg *a = r->write_arg;
    struct km_error e;
    if (cases_appeal(db, a->case_id, a->body, a->evidence, &e) != 0) {
        return api_error(r, &e);
    }
    return case_answer(db, r, a->case_id, 200);
}

int api_cases_appeal(struct api_req *r)
{
    struct case_row c;
    if (load_case(r, &c) != 0) {
        return 0;
    }
    if (r->auth.role != AUTH_BUYER) {
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "the buyer appeals, with the order's buyer token");
    }
    static const char *const allowed[] = {"message", "evidence_ids", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct case_arg *a = case_arg_for(r, &c);
    int rc = text_field(r, body, "message", true, a->body, sizeof a->body);
    rc = rc ? rc : parse_evidence(r, body, a->evidence, sizeof a->evidence);
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write(r, appeal_write, a, free);
}

int api_refunds_get(struct api_req *r)
{
    struct refund_row rf;
    if (store_refund_get(r->db, r->seg[2], &rf) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    if (!staff(r) && !(r->auth.role == AUTH_BUYER && strcmp(r->auth.order_id, rf.order_id) == 0)) {
        return r->auth.role == AUTH_NONE
                   ? api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                              "use the order's buyer token")
                   : api_fail(r, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    json_t *v = view_refund(r->db, &rf);
    return v != NULL ? api_ok(r, 200, v)
                     : api_fail(r, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
}

struct reroute_arg {
    char refund_id[ID_BYTES_MAX];
    char by[ID_BYTES_MAX + 8];
};

static int reroute_write(struct db *db, struct api_req *r)
{
    struct reroute_arg *a = r->write_arg;
    struct refund_row out;
    struct km_error e;
    if (payouts_move_to_balance(db, a->refund_id, a->by, clock_now_ms(), &out, &e) != 0) {
        return api_error(r, &e);
    }
    json_t *v = view_refund(db, &out);
    return v != NULL ? api_ok(r, 201, v)
                     : api_fail(r, KM_EINTERNAL, "storage_error", NULL, "refunds unavailable");
}

int api_refunds_reroute(struct api_req *r)
{
    /* The order's buyer, or staff paying out what an agent approved. */
    struct refund_row rf;
    if (store_refund_get(r->db, r->seg[2], &rf) != 0 ||
        !(staff(r) ||
          (r->auth.role == AUTH_BUYER && strcmp(r->auth.order_id, rf.order_id) == 0))) {
        return r->auth.role == AUTH_NONE
                   ? api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                              "use the order's buyer token")
                   : api_fail(r, KM_ENOTFOUND, "resource_missing", "refund_id", "no such refund");
    }
    static const char *const allowed[] = {"method", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    const char *method = NULL;
    int rc = api_field_string(r, body, "method", true, 15, &method);
    if (rc == 0 && strcmp(method, "balance") != 0) {
        rc = api_fail(r, KM_EINVAL, "parameter_invalid", "method",
                      "a refund stuck on an abnormal account can move to the shop balance");
    }
    json_decref(body);
    if (rc != 0) {
        return 0;
    }
    struct reroute_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->refund_id, sizeof a->refund_id, "%s", rf.id);
    actor_of(r, a->by, sizeof a->by);
    return api_write(r, reroute_write, a, free);
}

struct refund_cb_arg {
    char request_no[ID_BYTES_MAX];
    char status[20];
};

static int refund_callback_write(struct db *db, struct api_req *r)
{
    struct refund_cb_arg *a = r->write_arg;
    /* Find the refund by the request number the shop gave the provider. */
    char refund_id[ID_BYTES_MAX];
    if (store_refund_by_request_no(db, a->request_no, refund_id) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "request_no",
                        "no refund has this request number");
    }
    struct km_error e;
    if (payouts_result(db, refund_id, a->status, "reported by the provider's callback",
                       clock_now_ms(), &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, json_pack("{s:b}", "received", 1));
}

int api_callback_refund(struct api_req *r)
{
    static const char *const allowed[] = {"id", "request_no", "provider_refund_id", "status",
                                          "amount_fen", NULL};
    json_t *body = NULL;
    if (api_signed_body(r, payment_sandbox_key, allowed, &body) != 0) {
        return 0;
    }
    const char *request_no = NULL, *status = NULL;
    int rc = api_field_string(r, body, "request_no", true, ID_BYTES_MAX - 1, &request_no);
    rc = rc ? rc : api_field_string(r, body, "status", true, 19, &status);
    if (rc != 0) {
        json_decref(body);
        return 0;
    }
    struct refund_cb_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->request_no, sizeof a->request_no, "%s", request_no);
    snprintf(a->status, sizeof a->status, "%s", status);
    json_decref(body);
    return api_write(r, refund_callback_write, a, free);
}

/* A case's evidence bundle: everything a payment provider's dispute desk, 12315 or a court needs
 * to check the shop's decision without trusting the shop — the case with its decisions, rules,
 * facts, messages and evidence list; the order with its payments, delivery, reveals and refunds;
 * the policy in force; and the order's receipt from the evidence log (entries, inclusion proofs,
 * signed checkpoint, verifier key). For staff and for the order's buyer (a complaint pack). */
int api_cases_bundle(struct api_req *r)
{
    struct case_row c;
    if (load_case(r, &c) != 0) {
        return 0;
    }
    json_t *receipt = NULL;
    if (api_receipt_json(r, c.order_id, &receipt) != 0) {
        return 0;
    }
    if (db_begin_read(r->db) != 0) {
        json_decref(receipt);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "database unavailable");
    }
    int64_t now = clock_now_ms();
    json_t *cv = view_case(r->db, &c, staff(r), now);
    struct order o;
    json_t *ov = store_order_get(r->db, c.order_id, &o) == 0 ? view_order(r->db, &o) : NULL;
    db_rollback(r->db);
    if (cv == NULL || ov == NULL) {
        json_decref(cv);
        json_decref(ov);
        json_decref(receipt);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the bundle cannot be built");
    }
    char at[40];
    json_t *bundle = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "object", "evidence_bundle", "case_id", c.id,
        "generated_at", clock_format(now, at, sizeof at), "case", cv, "order", ov, "policy",
        api_policy_json(), "receipt", receipt, "how_to_verify",
        "Save `receipt` as a file and run: kameng log verify --receipt FILE --key <verifier_key>. "
        "Each decision names its rule and the facts it consulted; the log entries it stands on "
        "are listed in case.evidence_log and proven in the receipt.");
    km_assert(bundle != NULL);
    return api_ok(r, 200, bundle);
}
