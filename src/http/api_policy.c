/* GET /v1/policy: the refund policy as data, with its version — the same rules the engine runs
 * and the same ids its decisions cite. */
#include "http/api.h"
#include "http/api_handlers.h"
#include "service/cases.h"
#include "domain/refund_policy.h"

json_t *api_policy_json(void)
{
    json_t *rules = json_array();
    for (int i = RULE_E1; i < RULE_COUNT; i++) {
        enum refund_rule rule = (enum refund_rule)i;
        json_array_append_new(
            rules, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", refund_rule_id(rule), "title",
                             refund_rule_title(rule), "outcome",
                             i <= RULE_E5 ? "eligible" : "not_eligible", "text",
                             refund_rule_text_en(rule), "text_zh", refund_rule_text_zh(rule)));
    }
    json_t *review = json_pack(
        "[{s:s, s:s}, {s:s, s:s}]", "id", "A1", "text",
        "Direct top-up: read the supplier's record; not credited and not used -> approve (E1); "
        "credited to the account as entered -> reject (N1, or N3 for the buyer's own typo).",
        "id", "A2", "text",
        "Card key: not revealed -> approve where E4 or E2 apply; revealed but not activated -> void "
        "it at the issuer where possible and approve, otherwise an agent asks for proof of "
        "non-use; activated -> reject (N1).");
    json_t *doc = json_pack(
        "{s:s, s:s, s:o, s:o, s:{s:s, s:s, s:s}, s:{s:i, s:b, s:s}, s:{s:i, s:i, s:s},"
        " s:{s:i, s:i, s:i, s:s}}",
        "object", "policy", "version", REFUND_POLICY_VERSION, "rules", rules, "review", review,
        "decisions", "approve_cites", "an E rule", "reject_cites", "an N rule", "records",
        "outcome, rule, facts consulted, who decided, and the explanation shown to the buyer",
        "appeal", "window_days", CASE_APPEAL_WINDOW_DAYS, "once", 1, "decided_by",
        "a different agent; then final on the platform", "service", "agent_decision_hours",
        CASE_SLA_HOURS, "buyer_reply_hours", CASE_BUYER_REPLY_HOURS, "appeal",
        "decided within 48 hours", "payout", "under_100_cny_working_days", 3,
        "otherwise_working_days", 7, "wallets_working_days", 1, "route",
        "back the way the money came (原路返回); the shop balance at once");
    km_assert(doc != NULL);
    /* Past the shop (spec §2 item 8): what a complaint to the payment provider does here. */
    json_object_set_new(
        doc, "provider_disputes",
        json_pack("{s:b, s:s, s:s, s:s}", "money_frozen", 1, "frozen",
                  "the disputed money is frozen and not refunded again until the provider decides",
                  "shop_answers",
                  "before the provider's due date, with the order's delivery and reveal records, "
                  "their evidence-log proofs, the cases and messages, or by accepting",
                  "decided_by", "the payment provider; money the shop loses goes back through it"));
    return doc;
}

int api_policy(struct api_req *r)
{
    return api_ok(r, 200, api_policy_json());
}
