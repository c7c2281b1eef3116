/* Views of the refund engine's objects. Every decision shows its rule with the rule's title, the
 * explanation the buyer reads, and the facts consulted, so a decision can be checked. */
#include "http/views_refunds.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/api.h"
#include "service/cases.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "store/store_events.h"
#include "store/store_log.h"

#define VIEW_MESSAGES_MAX 200
#define VIEW_CASES_MAX 16
#define VIEW_EVENTS_MAX 200
#define VIEW_LOG_ENTRIES_MAX 256 /* an order's life is a few dozen events */
#define APPEAL_WINDOW_MS ((int64_t)CASE_APPEAL_WINDOW_DAYS * 24 * 3600 * 1000)

/* movable_fen: what moving it to the shop balance would pay (payouts_movable), 0 if it may not. */
static json_t *refund_json(const struct refund_row *r, int64_t movable_fen)
{
    /* Still with the provider past the promised date (noted once by the timers). */
    bool overdue = r->overdue_at != 0 && strcmp(r->status, "pending") == 0;
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o,"
        " s:b, s:I, s:b}",
        "id",
        r->id, "object", "refund", "order_id", r->order_id, "case_id",
        r->case_id[0] ? json_string(r->case_id) : json_null(), "payment_id", r->payment_id,
        "method", r->method, "amount_fen", (json_int_t)r->amount_fen, "currency", "CNY", "rule",
        r->rule, "status", r->status, "provider_request_no", r->provider_request_no, "attempts",
        (json_int_t)r->attempts, "expected_by", api_time(r->expected_by), "created_at",
        api_time(r->created_at), "completed_at", api_time(r->completed_at), "failure_reason",
        r->failure_reason[0] ? json_string(r->failure_reason) : json_null(), "rerouted_from",
        r->rerouted_from[0] ? json_string(r->rerouted_from) : json_null(), "movable",
        movable_fen > 0, "movable_fen", (json_int_t)movable_fen, "overdue", overdue);
    km_assert(v != NULL);
    return v;
}

json_t *view_refund(struct db *db, const struct refund_row *r)
{
    int64_t movable_fen = 0;
    if (payouts_movable(db, r, &movable_fen) != 0) {
        return NULL;
    }
    return refund_json(r, movable_fen);
}

json_t *view_case_summary(const struct case_row *c, int64_t now)
{
    bool active = strcmp(c->status, "open") == 0 || strcmp(c->status, "awaiting_buyer") == 0 ||
                  strcmp(c->status, "appealed") == 0;
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o,"
                          " s:o, s:b}",
                          "id", c->id, "object", "case", "order_id", c->order_id, "origin",
                          c->origin, "reason", c->reason, "status", c->status, "policy_version",
                          c->policy_version, "preview", "outcome", c->preview_outcome, "rule",
                          c->preview_rule, "created_at", api_time(c->created_at), "updated_at",
                          api_time(c->updated_at), "sla_due_at", api_time(c->sla_due_at),
                          "buyer_reply_due_at", api_time(c->buyer_reply_due_at), "appealed_at",
                          api_time(c->appealed_at), "overdue",
                          active && c->sla_due_at != 0 && now > c->sla_due_at);
    km_assert(v != NULL);
    return v;
}

static json_t *next_steps(const struct case_row *c, const struct decision_row *last, int n,
                          int64_t now)
{
    json_t *steps = json_array();
    if (n == 0 || strcmp(last->outcome, "reject") != 0 ||
        (strcmp(c->status, "decided") != 0 && strcmp(c->status, "closed") != 0)) {
        return steps; /* nothing to do yet: an appeal is still being decided */
    }
    if (strcmp(c->status, "decided") == 0 && c->appealed_at == 0 &&
        now <= last->created_at + APPEAL_WINDOW_MS) {
        json_array_append_new(steps, json_pack("{s:s, s:s, s:o}", "action", "appeal", "text",
                                               "Appeal once, with new evidence; a different "
                                               "agent decides.",
                                               "until", api_time(last->created_at +
                                                                 APPEAL_WINDOW_MS)));
        return steps;
    }
    /* Final on the platform: what the buyer can still do outside it. */
    json_array_append_new(steps,
                          json_pack("{s:s, s:s}", "action", "provider_dispute", "text",
                                    "Open a dispute with your payment provider (支付宝交易纠纷 / "
                                    "微信支付投诉); they usually decide in 7–15 working days. "
                                    "The shop answers with this case's evidence."));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "action", "consumer_complaint", "text",
                                           "Complain to 12315 or 黑猫投诉 with the case export."));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "action", "small_claims", "text",
                                           "For larger sums (e.g. over 2000 CNY), a small-claims "
                                           "court."));
    return steps;
}

json_t *view_case(struct db *db, const struct case_row *c, bool staff, int64_t now)
{
    json_t *v = view_case_summary(c, now);
    struct decision_row ds[2];
    int dn = 0;
    static __thread struct message_row msgs[VIEW_MESSAGES_MAX];
    int mn = 0;
    struct refund_row *refunds = NULL;
    int rn = 0;
    if (store_decisions_of_case(db, c->id, ds, 2, &dn) != 0 ||
        store_messages_of_case(db, c->id, msgs, VIEW_MESSAGES_MAX, &mn) != 0 ||
        store_refunds_of_order(db, c->order_id, &refunds, &rn) != 0) {
        json_decref(v);
        return NULL;
    }
    json_t *decisions = json_array();
    for (int i = 0; i < dn; i++) {
        enum refund_rule rule = RULE_NONE;
        if (refund_rule_parse(ds[i].rule, &rule) != 0) {
            rule = RULE_NONE;
        }
        json_error_t err;
        json_t *facts = json_loads(ds[i].facts, 0, &err);
        const char *by = ds[i].automatic ? "system" : staff ? ds[i].decided_by : "agent";
        /* Only the shop's own sentences have a Chinese twin; an agent's words stay theirs, even
         * when they match one. */
        const char *zh = ds[i].automatic ? refund_explain_zh_of_en(ds[i].explanation) : "";
        json_array_append_new(
            decisions,
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s, s:o, s:o, s:o}", "stage", ds[i].stage,
                      "outcome", ds[i].outcome, "rule", ds[i].rule, "rule_title",
                      refund_rule_title(rule), "amount_fen", (json_int_t)ds[i].amount_fen,
                      "automatic", ds[i].automatic, "decided_by", by, "explanation",
                      ds[i].explanation, "facts", facts != NULL ? facts : json_null(),
                      "decided_at", api_time(ds[i].created_at), "explanation_zh",
                      zh[0] != '\0' ? json_string(zh) : json_null()));
    }
    json_object_set_new(v, "decisions", decisions);
    json_t *messages = json_array();
    for (int i = 0; i < mn; i++) {
        json_error_t err;
        json_t *ev = json_loads(msgs[i].evidence, 0, &err);
        const char *author = msgs[i].author;
        if (!staff && strncmp(author, "agent:", 6) == 0) {
            author = "agent";
        }
        json_array_append_new(messages,
                              json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", msgs[i].id, "author",
                                        author, "body", msgs[i].body, "evidence_ids",
                                        ev != NULL ? ev : json_array(), "created_at",
                                        api_time(msgs[i].created_at)));
    }
    json_object_set_new(v, "messages", messages);
    json_t *rs = json_array();
    json_object_set_new(v, "refunds", rs);
    for (int i = 0; i < rn; i++) {
        if (strcmp(refunds[i].case_id, c->id) != 0) {
            continue;
        }
        json_t *one = view_refund(db, &refunds[i]);
        if (one == NULL) {
            free(refunds);
            json_decref(v);
            return NULL;
        }
        json_array_append_new(rs, one);
    }
    free(refunds);
    json_object_set_new(v, "next_steps", next_steps(c, dn > 0 ? &ds[dn - 1] : NULL, dn, now));
    /* The log entries a decision stands on, checkable by anyone with the order's receipt. */
    json_t *log = view_log_citations(db, c->order_id);
    if (log == NULL) {
        json_decref(v);
        return NULL;
    }
    json_object_set_new(v, "evidence_log", log);
    return v;
}

json_t *view_log_citations(struct db *db, const char *order_id)
{
    static __thread int64_t seqs[VIEW_LOG_ENTRIES_MAX];
    static __thread char kinds[VIEW_LOG_ENTRIES_MAX][32];
    int n = 0;
    if (store_log_kinds_of_order(db, order_id, seqs, kinds, VIEW_LOG_ENTRIES_MAX, &n) != 0) {
        return NULL;
    }
    json_t *entries = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(entries, json_pack("{s:I, s:s}", "index", (json_int_t)seqs[i],
                                                 "kind", kinds[i]));
    }
    char receipt[96];
    snprintf(receipt, sizeof receipt, "/v1/orders/%s/receipt", order_id);
    return json_pack("{s:o, s:s}", "entries", entries, "receipt", receipt);
}

json_t *view_decision_preview(const struct refund_decision *d, int64_t expected_by)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s, s:s, s:o, s:o}", "object",
                          "refund_preview", "policy_version", REFUND_POLICY_VERSION, "outcome",
                          refund_outcome_name(d->outcome), "rule", refund_rule_id(d->rule),
                          "amount_fen", (json_int_t)d->amount_fen, "automatic", d->automatic,
                          "rule_title", refund_rule_title(d->rule), "explanation",
                          refund_explain_en(d->explanation), "explanation_zh",
                          refund_explain_zh(d->explanation), "wait_until",
                          api_time(d->wait_until_ms), "expected_by", api_time(expected_by));
    km_assert(v != NULL);
    return v;
}

int view_order_add_refunds(struct db *db, json_t *order_view, const char *order_id, int64_t now,
                           int64_t *valid_until)
{
    struct refund_row *refunds = NULL;
    struct case_row cases[VIEW_CASES_MAX];
    int rn = 0, cn = 0;
    if (store_refunds_of_order(db, order_id, &refunds, &rn) != 0) {
        return -1;
    }
    if (store_cases_of_order(db, order_id, cases, VIEW_CASES_MAX, &cn) != 0) {
        free(refunds);
        return -1;
    }
    json_t *rs = json_array();
    json_object_set_new(order_view, "refunds", rs);
    int64_t refunded = 0;
    for (int i = 0; i < rn; i++) {
        json_t *one = view_refund(db, &refunds[i]);
        if (one == NULL) {
            free(refunds);
            return -1;
        }
        json_array_append_new(rs, one);
        if (strcmp(refunds[i].status, "failed") != 0) {
            refunded += refunds[i].amount_fen;
        }
    }
    free(refunds);
    json_object_set_new(order_view, "amount_refunded_fen", json_integer(refunded));
    json_t *cs = json_array();
    for (int i = 0; i < cn; i++) {
        json_array_append_new(cs, view_case_summary(&cases[i], now));
        /* An open case turns overdue at its deadline with no write: the view changes then. */
        if (cases[i].sla_due_at != 0 && now <= cases[i].sla_due_at &&
            cases[i].sla_due_at + 1 < *valid_until) {
            *valid_until = cases[i].sla_due_at + 1;
        }
    }
    json_object_set_new(order_view, "cases", cs);
    static __thread struct event_row events[VIEW_EVENTS_MAX];
    int en = 0;
    if (store_events_of_order(db, order_id, events, VIEW_EVENTS_MAX, &en) != 0) {
        return -1;
    }
    json_t *timeline = json_array();
    for (int i = 0; i < en; i++) {
        json_array_append_new(timeline, json_pack("{s:s, s:s, s:s, s:o}", "id", events[i].id,
                                                  "type", events[i].type, "object_id",
                                                  events[i].object_id, "at",
                                                  api_time(events[i].created_at)));
    }
    json_object_set_new(order_view, "timeline", timeline);
    json_t *log = view_log_citations(db, order_id);
    if (log == NULL) {
        return -1;
    }
    json_object_set_new(order_view, "evidence_log", log);
    return 0;
}
