/* Case life cycle: waiting (the machine will decide) | open (an agent decides) | awaiting_buyer
 * (an agent asked for evidence) | decided | appealed | closed. Each decision is a row naming its
 * stage, outcome, rule, amount, who decided and the facts consulted. */
#include "service/cases.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "service/evidence_log.h"
#include "service/orders.h"
#include "service/payouts.h"
#include "service/refunds.h"
#include "store/store.h"

#define HOUR_MS INT64_C(3600000)

static bool case_active(const struct case_row *c)
{
    return strcmp(c->status, "waiting") == 0 || strcmp(c->status, "open") == 0 ||
           strcmp(c->status, "awaiting_buyer") == 0 || strcmp(c->status, "appealed") == 0;
}

int cases_check_evidence(struct db *db, const char *order_id, const char *evidence_json,
                         struct km_error *e)
{
    json_error_t err;
    json_t *list = json_loads(evidence_json, 0, &err);
    if (!json_is_array(list) || json_array_size(list) > CASE_EVIDENCE_PER_MESSAGE_MAX) {
        json_decref(list);
        return km_fail(e, KM_EINVAL, "parameter_invalid", "evidence_ids",
                       "evidence_ids is a list of at most %d evidence ids",
                       CASE_EVIDENCE_PER_MESSAGE_MAX);
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char type[32], name[128];
        int64_t size = 0;
        if (!json_is_string(v) || store_evidence_meta(db, order_id, json_string_value(v), type,
                                                      sizeof type, &size, name, sizeof name) != 0) {
            json_decref(list);
            return km_fail(e, KM_EINVAL, "evidence_unknown", "evidence_ids",
                           "evidence %zu is not an upload of this order", i);
        }
    }
    json_decref(list);
    return 0;
}

/* A rejected request may be appealed for CASE_APPEAL_WINDOW_DAYS: account goods still held in
 * escrow stay held until then, so an appeal approved later is paid from the seller's hold, not by
 * the shop after the seller has the money. */
static int hold_escrow_for_appeal(struct db *db, const struct case_row *c, int64_t now,
                                  struct km_error *e)
{
    struct order o;
    if (store_order_get(db, c->order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_case", NULL, "case without order");
    }
    int64_t until = now + (int64_t)CASE_APPEAL_WINDOW_DAYS * 24 * HOUR_MS;
    if (strcmp(o.kind, "account") != 0 || strcmp(o.status, "delivered") != 0 ||
        o.escrow_release_at >= until) {
        return 0;
    }
    o.escrow_release_at = until;
    o.updated_at = now;
    return store_order_update(db, &o) == 0
               ? 0
               : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the order was not stored");
}

/* due: the deadline a person's decision was due by (0 for the machine's), kept for the trust
 * signals once the case's own is cleared. */
static int record_decision(struct db *db, struct case_row *c, const char *stage,
                           const char *outcome, const char *rule, int64_t amount, bool automatic,
                           const char *by, const char *facts, const char *explanation, int64_t due,
                           int64_t now, struct km_error *e)
{
    struct decision_row d = {0};
    d.sla_due_at = due;
    id_new("dec", d.id);
    snprintf(d.case_id, sizeof d.case_id, "%s", c->id);
    snprintf(d.stage, sizeof d.stage, "%s", stage);
    snprintf(d.outcome, sizeof d.outcome, "%s", outcome);
    snprintf(d.rule, sizeof d.rule, "%s", rule);
    snprintf(d.decided_by, sizeof d.decided_by, "%s", by);
    snprintf(d.facts, sizeof d.facts, "%s", facts);
    snprintf(d.explanation, sizeof d.explanation, "%s", explanation);
    d.amount_fen = amount;
    d.automatic = automatic;
    d.created_at = now;
    int rc = store_decision_insert(db, &d);
    if (rc == -KM_EDUPLICATE) {
        return km_fail(e, KM_ESTATE, "already_decided", "case_id", "this stage is decided");
    }
    json_error_t err;
    json_t *facts_obj = json_loads(facts, 0, &err);
    int lrc = rc != 0 ? rc
                      : evlog_append(db, "refund_decision", c->order_id,
                                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:o}",
                                               "decision_id", d.id, "case_id", c->id, "stage",
                                               stage, "outcome", outcome, "rule", rule,
                                               "amount_fen", (json_int_t)amount, "automatic",
                                               automatic, "decided_by", by, "facts",
                                               facts_obj != NULL ? facts_obj : json_null()),
                                     now, e);
    if (rc != 0) {
        json_decref(facts_obj); /* evlog_append was not called, so it did not take it */
    }
    if (lrc != 0 && rc == 0) {
        return lrc;
    }
    if (rc != 0 || orders_event(db, "case.decided", c->id, c->order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the decision was not stored");
    }
    if (strcmp(outcome, "approve") != 0) {
        return strcmp(stage, "initial") == 0 ? hold_escrow_for_appeal(db, c, now, e) : 0;
    }
    struct order o;
    if (store_order_get(db, c->order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_case", NULL, "case without order");
    }
    return refunds_execute(db, &o, c->id, rule, amount, now, e);
}

static int save_case(struct db *db, struct case_row *c, int64_t now, struct km_error *e)
{
    c->updated_at = now;
    return store_case_update(db, c) == 0
               ? 0
               : km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the case was not stored");
}

static const char *reason_for_rule(enum refund_rule rule)
{
    switch (rule) {
    case RULE_E2:
        return "wrong_item";
    case RULE_E3:
        return "duplicate_charge";
    default:
        return "not_received";
    }
}

int cases_open(struct db *db, const char *order_id, enum refund_reason reason, const char *body,
               const char *evidence_json, struct case_row *out, struct refund_decision *d,
               struct km_error *e)
{
    memset(out, 0, sizeof *out);
    struct order o;
    if (store_order_get(db, order_id, &o) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    struct case_row existing[16];
    int n = 0;
    if (store_cases_of_order(db, o.id, existing, 16, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "cases unavailable");
    }
    for (int i = 0; i < n; i++) {
        if (case_active(&existing[i])) {
            return km_fail(e, KM_ESTATE, "case_already_open", "order_id",
                           "case %s for this order is still open", existing[i].id);
        }
    }
    int rc = cases_check_evidence(db, o.id, evidence_json, e);
    if (rc != 0) {
        return rc;
    }
    int64_t now = clock_now_ms();
    struct refund_facts f;
    rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    refund_policy_decide(&f, reason, d);
    if (d->outcome == OUTCOME_NONE) {
        return km_fail(e, KM_ESTATE,
                       strcmp(d->explanation, "payment_disputed") == 0 ? "payment_disputed"
                                                                       : "nothing_to_refund",
                       "order_id", "%s", refund_explain_en(d->explanation));
    }
    if (d->outcome == OUTCOME_REJECT && d->rule == RULE_NONE) {
        return km_fail(e, KM_ESTATE, "order_not_paid", "order_id", "%s",
                       refund_explain_en(d->explanation));
    }
    id_new("case", out->id);
    snprintf(out->order_id, sizeof out->order_id, "%s", o.id);
    snprintf(out->origin, sizeof out->origin, "buyer");
    snprintf(out->reason, sizeof out->reason, "%s", refund_reason_name(reason));
    snprintf(out->policy_version, sizeof out->policy_version, "%s", REFUND_POLICY_VERSION);
    snprintf(out->preview_outcome, sizeof out->preview_outcome, "%s",
             refund_outcome_name(d->outcome));
    snprintf(out->preview_rule, sizeof out->preview_rule, "%s", refund_rule_id(d->rule));
    const char *status = d->outcome == OUTCOME_REVIEW ? "open"
                         : d->outcome == OUTCOME_WAIT ? "waiting"
                                                      : "decided";
    snprintf(out->status, sizeof out->status, "%s", status);
    out->sla_due_at = d->outcome == OUTCOME_REVIEW ? now + CASE_SLA_HOURS * HOUR_MS
                      : d->outcome == OUTCOME_WAIT ? d->wait_until_ms
                                                   : 0;
    out->created_at = now;
    out->updated_at = now;
    if (d->outcome == OUTCOME_APPROVE || d->outcome == OUTCOME_REJECT) {
        snprintf(out->first_decided_by, sizeof out->first_decided_by, "system");
    }
    if (store_case_insert(db, out) != 0 ||
        store_message_insert(db, out->id, "buyer", body, evidence_json, now) != 0 ||
        orders_event(db, "case.created", out->id, o.id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the case was not stored");
    }
    if (out->first_decided_by[0] != '\0' && save_case(db, out, now, e) != 0) {
        return -KM_EINTERNAL;
    }
    if (d->outcome != OUTCOME_APPROVE && d->outcome != OUTCOME_REJECT) {
        return 0;
    }
    char facts[FACTS_JSON_BYTES_MAX];
    refunds_facts_json(&f, d->facts, facts, sizeof facts);
    return record_decision(db, out, "initial", refund_outcome_name(d->outcome),
                           refund_rule_id(d->rule), d->amount_fen, true, "system", facts,
                           refund_explain_en(d->explanation), 0, now, e);
}

int cases_system_decision(struct db *db, const char *order_id, const struct refund_decision *d,
                          const char *facts_json, int64_t now, struct km_error *e)
{
    km_assert(d->outcome == OUTCOME_APPROVE);
    struct case_row c;
    char waiting[ID_BYTES_MAX];
    if (store_case_waiting_of_order(db, order_id, waiting) == 0) {
        if (store_case_get(db, waiting, &c) != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "case vanished");
        }
    } else {
        memset(&c, 0, sizeof c);
        id_new("case", c.id);
        snprintf(c.order_id, sizeof c.order_id, "%s", order_id);
        snprintf(c.origin, sizeof c.origin, "system");
        snprintf(c.reason, sizeof c.reason, "%s", reason_for_rule(d->rule));
        snprintf(c.policy_version, sizeof c.policy_version, "%s", REFUND_POLICY_VERSION);
        snprintf(c.preview_outcome, sizeof c.preview_outcome, "approve");
        snprintf(c.preview_rule, sizeof c.preview_rule, "%s", refund_rule_id(d->rule));
        snprintf(c.status, sizeof c.status, "waiting");
        c.created_at = now;
        c.updated_at = now;
        if (store_case_insert(db, &c) != 0 ||
            store_message_insert(db, c.id, "system", refund_explain_en(d->explanation), "[]",
                                 now) != 0 ||
            orders_event(db, "case.created", c.id, order_id, now) != 0) {
            return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the case was not stored");
        }
    }
    snprintf(c.status, sizeof c.status, "decided");
    snprintf(c.first_decided_by, sizeof c.first_decided_by, "system");
    c.sla_due_at = 0;
    if (save_case(db, &c, now, e) != 0) {
        return -KM_EINTERNAL;
    }
    return record_decision(db, &c, "initial", "approve", refund_rule_id(d->rule), d->amount_fen,
                           true, "system", facts_json, refund_explain_en(d->explanation), 0, now,
                           e);
}

static bool in_appeal(const struct case_row *c)
{
    return c->appealed_at != 0;
}

int cases_message(struct db *db, const char *case_id, const char *author, bool author_is_buyer,
                  const char *body, const char *evidence_json, struct km_error *e)
{
    struct case_row c;
    if (store_case_get(db, case_id, &c) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "case_id", "no such case");
    }
    int rc = cases_check_evidence(db, c.order_id, evidence_json, e);
    if (rc != 0) {
        return rc;
    }
    int64_t now = clock_now_ms();
    if (store_message_insert(db, c.id, author, body, evidence_json, now) != 0 ||
        orders_event(db, "case.message", c.id, c.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the message was not stored");
    }
    if (author_is_buyer && strcmp(c.status, "awaiting_buyer") == 0) {
        /* The buyer answered: back in the queue, with a fresh clock for the agent. */
        snprintf(c.status, sizeof c.status, "%s", in_appeal(&c) ? "appealed" : "open");
        c.buyer_reply_due_at = 0;
        c.sla_due_at =
            now + (in_appeal(&c) ? CASE_APPEAL_SLA_HOURS : CASE_SLA_HOURS) * HOUR_MS;
    }
    return save_case(db, &c, now, e);
}

int cases_request_evidence(struct db *db, const char *case_id, const char *agent,
                           const char *body, struct km_error *e)
{
    struct case_row c;
    if (store_case_get(db, case_id, &c) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "case_id", "no such case");
    }
    if (strcmp(c.status, "open") != 0 && strcmp(c.status, "appealed") != 0) {
        return km_fail(e, KM_ESTATE, "case_state", "case_id",
                       "evidence can be asked for on an open case; this one is %s", c.status);
    }
    int64_t now = clock_now_ms();
    if (store_message_insert(db, c.id, agent, body, "[]", now) != 0 ||
        orders_event(db, "case.evidence_requested", c.id, c.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the message was not stored");
    }
    if (c.late_at == 0 && c.sla_due_at != 0 && now > c.sla_due_at) {
        c.late_at = c.sla_due_at; /* asking now does not make the agent's answer timely */
    }
    snprintf(c.status, sizeof c.status, "awaiting_buyer");
    c.buyer_reply_due_at = now + CASE_BUYER_REPLY_HOURS * HOUR_MS;
    c.sla_due_at = c.buyer_reply_due_at; /* back in the queue when the buyer's time is up */
    return save_case(db, &c, now, e);
}

/* The deadline an agent deciding now was due by, for the trust signals. While the buyer has time
 * to answer, nobody waits on the agent; once it ran out, the agent has the usual hours from then.
 * A deadline missed before the buyer was asked stays missed. */
static int64_t agent_deadline(const struct case_row *c, bool appeal)
{
    int64_t due = c->sla_due_at;
    if (strcmp(c->status, "awaiting_buyer") == 0) {
        due = c->buyer_reply_due_at +
              (int64_t)(appeal ? CASE_APPEAL_SLA_HOURS : CASE_SLA_HOURS) * HOUR_MS;
    }
    return c->late_at != 0 && c->late_at < due ? c->late_at : due;
}

int cases_decide(struct db *db, const char *case_id, const char *agent, const char *outcome,
                 const char *rule_id, int64_t amount_fen, const char *explanation,
                 struct km_error *e)
{
    struct case_row c;
    if (store_case_get(db, case_id, &c) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "case_id", "no such case");
    }
    bool appeal = strcmp(c.status, "appealed") == 0 ||
                  (strcmp(c.status, "awaiting_buyer") == 0 && in_appeal(&c));
    bool initial = !appeal && (strcmp(c.status, "open") == 0 ||
                               strcmp(c.status, "awaiting_buyer") == 0);
    if (!appeal && !initial) {
        return km_fail(e, KM_ESTATE, "case_state", "case_id", "case %s is %s; nothing to decide",
                       c.id, c.status);
    }
    int64_t due = agent_deadline(&c, appeal); /* before the case's state moves on */
    if (appeal && strcmp(c.first_decided_by, agent) == 0) {
        return km_fail(e, KM_EFORBIDDEN, "same_agent", "case_id",
                       "an appeal is decided by a different agent than the first decision");
    }
    enum refund_rule rule;
    enum refund_outcome out = strcmp(outcome, "approve") == 0  ? OUTCOME_APPROVE
                              : strcmp(outcome, "reject") == 0 ? OUTCOME_REJECT
                                                               : OUTCOME_NONE;
    if (out == OUTCOME_NONE) {
        return km_fail(e, KM_EINVAL, "parameter_invalid", "outcome",
                       "outcome is approve or reject");
    }
    if (refund_rule_parse(rule_id, &rule) != 0 || !refund_policy_agent_may_cite(out, rule)) {
        return km_fail(e, KM_EINVAL, "rule_mismatch", "rule",
                       "an approval cites an E rule (E1–E5), a rejection an N rule (N1–N3)");
    }
    int64_t now = clock_now_ms();
    struct order o;
    struct refund_facts f;
    if (store_order_get(db, c.order_id, &o) != 0) {
        return km_fail(e, KM_EINTERNAL, "corrupt_case", NULL, "case without order");
    }
    int rc = refunds_facts(db, &o, now, &f, e);
    if (rc != 0) {
        return rc;
    }
    int64_t left = refund_policy_refundable_fen(&f) + (rule == RULE_E3 ? f.unapplied_fen : 0);
    if (out == OUTCOME_APPROVE) {
        /* A refund that was approved and not paid out is paid by moving it, not by approving
         * the claim again: the cap alone cannot tell a second claim from the same one. */
        struct refund_row stuck;
        rc = payouts_unsettled(db, o.id, &stuck, e);
        if (rc < 0) {
            return rc;
        }
        if (rc == 1) {
            return km_fail(e, KM_ESTATE, "refund_unsettled", "outcome",
                           "refund %s of this order (%lld fen) was not paid out (%s); move it to "
                           "the shop balance before approving another refund",
                           stuck.id, (long long)stuck.amount_fen, stuck.status);
        }
        if (amount_fen == 0) {
            amount_fen = left;
        }
        if (amount_fen > left && f.disputed_fen > 0) {
            return km_fail(e, KM_ESTATE, "payment_disputed", "amount_fen",
                           "%lld fen of this order are frozen for a dispute at the payment "
                           "provider; at most %lld fen can be refunded until it decides",
                           (long long)f.disputed_fen, (long long)left);
        }
        if (amount_fen <= 0 || amount_fen > left) {
            return km_fail(e, KM_EINVAL, "refund_exceeds_captured", "amount_fen",
                           "at most %lld fen is left to refund", (long long)left);
        }
    } else {
        amount_fen = 0;
    }
    char facts[FACTS_JSON_BYTES_MAX];
    refunds_facts_json(&f, FACT_PAYMENTS | FACT_REFUNDS | FACT_DELIVERY | FACT_TOPUP_RECORD |
                               FACT_REVEALS | FACT_ACTIVATIONS | FACT_ESCROW | FACT_TERMS,
                       facts, sizeof facts);
    if (initial) {
        snprintf(c.first_decided_by, sizeof c.first_decided_by, "%s", agent);
        snprintf(c.status, sizeof c.status, "decided");
    } else {
        snprintf(c.status, sizeof c.status, "closed");
    }
    if (initial) {
        c.late_at = 0; /* an appeal is a new turn with its own deadline */
    }
    c.sla_due_at = 0;
    c.buyer_reply_due_at = 0;
    if (save_case(db, &c, now, e) != 0) {
        return -KM_EINTERNAL;
    }
    return record_decision(db, &c, initial ? "initial" : "appeal", outcome, rule_id, amount_fen,
                           false, agent, facts, explanation, due, now, e);
}

int cases_appeal(struct db *db, const char *case_id, const char *body, const char *evidence_json,
                 struct km_error *e)
{
    struct case_row c;
    if (store_case_get(db, case_id, &c) != 0) {
        return km_fail(e, KM_ENOTFOUND, "resource_missing", "case_id", "no such case");
    }
    if (c.appealed_at != 0) {
        return km_fail(e, KM_ESTATE, "already_appealed", "case_id",
                       "a case is appealed once; this one was");
    }
    struct decision_row ds[2];
    int n = 0;
    if (store_decisions_of_case(db, c.id, ds, 2, &n) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "decisions unavailable");
    }
    if (strcmp(c.status, "decided") != 0 || n == 0 || strcmp(ds[0].outcome, "reject") != 0) {
        return km_fail(e, KM_ESTATE, "not_appealable", "case_id",
                       "only a rejected case can be appealed");
    }
    int64_t now = clock_now_ms();
    if (now > ds[0].created_at + CASE_APPEAL_WINDOW_DAYS * 24 * HOUR_MS) {
        return km_fail(e, KM_ESTATE, "appeal_window_closed", "case_id",
                       "appeals are accepted within %d days of the rejection",
                       CASE_APPEAL_WINDOW_DAYS);
    }
    int rc = cases_check_evidence(db, c.order_id, evidence_json, e);
    if (rc != 0) {
        return rc;
    }
    snprintf(c.status, sizeof c.status, "appealed");
    c.appealed_at = now;
    c.sla_due_at = now + CASE_APPEAL_SLA_HOURS * HOUR_MS;
    if (store_message_insert(db, c.id, "buyer", body, evidence_json, now) != 0 ||
        orders_event(db, "case.appealed", c.id, c.order_id, now) != 0) {
        return km_fail(e, KM_EINTERNAL, "storage_error", NULL, "the appeal was not stored");
    }
    return save_case(db, &c, now, e);
}
