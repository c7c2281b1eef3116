/* Every route handler, listed once for the route table. */
#ifndef KM_API_HANDLERS_H
#define KM_API_HANDLERS_H

#include "http/api.h"

int api_web_index(struct api_req *r);
int api_web_asset(struct api_req *r);
int api_healthz(struct api_req *r);
int api_metrics(struct api_req *r);
int api_clock_get(struct api_req *r);
int api_clock_advance(struct api_req *r);
int api_test_syncs(struct api_req *r);
int api_ledger_check(struct api_req *r);
int api_targets_check(struct api_req *r);
int api_sellers_create(struct api_req *r);
int api_keys_create(struct api_req *r);
int api_keys_list(struct api_req *r);
int api_keys_revoke(struct api_req *r);

int api_products_list(struct api_req *r);
int api_products_get(struct api_req *r);
int api_products_create(struct api_req *r);
int api_cards_import(struct api_req *r);

int api_orders_create(struct api_req *r);
int api_orders_get(struct api_req *r);
int api_orders_list(struct api_req *r);
int api_orders_lookup(struct api_req *r);
int api_orders_reveal(struct api_req *r);
int api_orders_account_reveal(struct api_req *r);
int api_orders_deliver(struct api_req *r);
int api_orders_confirm(struct api_req *r);

int api_payments_create(struct api_req *r);
int api_sandbox_pay(struct api_req *r);
int api_callback_payment(struct api_req *r);
int api_callback_upstream(struct api_req *r);

int api_policy(struct api_req *r);
int api_trust(struct api_req *r);
int api_refund_preview(struct api_req *r);
int api_cases_create(struct api_req *r);
int api_order_cases(struct api_req *r);
int api_cases_get(struct api_req *r);
int api_cases_queue(struct api_req *r);
int api_cases_message(struct api_req *r);
int api_cases_request_evidence(struct api_req *r);
int api_cases_decide(struct api_req *r);
int api_cases_appeal(struct api_req *r);
int api_refunds_get(struct api_req *r);
int api_attention(struct api_req *r);
int api_attention_settle(struct api_req *r);
int api_refund_stats(struct api_req *r);
int api_refunds_reroute(struct api_req *r);
int api_callback_refund(struct api_req *r);
int api_evidence_upload(struct api_req *r);
int api_evidence_download(struct api_req *r);

int api_sandbox_issuer_redeem(struct api_req *r);
int api_callback_issuer(struct api_req *r);

int api_log_checkpoint(struct api_req *r);
int api_log_entries(struct api_req *r);
int api_log_inclusion(struct api_req *r);
int api_log_consistency(struct api_req *r);
int api_order_receipt(struct api_req *r);
/* The receipt of an order (its log entries, proofs and checkpoint): 0 and *out, or an answered
 * error. Shared by the receipt and the case's evidence bundle. */
int api_receipt_json(struct api_req *r, const char *order_id, json_t **out);
/* The policy as data. */
json_t *api_policy_json(void);
int api_cases_bundle(struct api_req *r);

/* Disputes at the payment provider (api_disputes.c). */
int api_sandbox_dispute(struct api_req *r);
int api_callback_dispute(struct api_req *r);
int api_disputes_list(struct api_req *r);
int api_disputes_get(struct api_req *r);
int api_disputes_bundle(struct api_req *r);
int api_disputes_respond(struct api_req *r);

#endif
