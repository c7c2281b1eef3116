/* The route table. The order matters only where two patterns could match one path: the literal
 * one ("/v1/orders/lookup") comes before the wildcard that would also match it. The last field is
 * the body a route accepts, 0 meaning HTTP_BODY_BYTES_MAX. */
#include "core/limits.h"
#include "http/api_handlers.h"
#include "http/router.h"

const struct route routes[] = {
    {"GET", "/", api_web_index, "web.index", 0},
    {"GET", "/web/*", api_web_asset, "web.asset", 0},
    {"GET", "/healthz", api_healthz, "healthz", 0},
    {"GET", "/metrics", api_metrics, "metrics", 0},
    {"GET", "/v1/policy", api_policy, "policy", 0},
    {"GET", "/v1/test/clock", api_clock_get, "test.clock.get", 0},
    {"POST", "/v1/test/clock/advance", api_clock_advance, "test.clock.advance", 0},
    {"GET", "/v1/ledger/check", api_ledger_check, "ledger.check", 0},
    {"POST", "/v1/targets/check", api_targets_check, "targets.check", 0},
    {"POST", "/v1/sellers", api_sellers_create, "sellers.create", 0},
    {"POST", "/v1/api_keys", api_keys_create, "api_keys.create", 0},
    {"GET", "/v1/products", api_products_list, "products.list", 0},
    {"POST", "/v1/products", api_products_create, "products.create", 0},
    {"GET", "/v1/products/*", api_products_get, "products.get", 0},
    {"POST", "/v1/products/*/card_keys", api_cards_import, "card_keys.import", 0},
    {"POST", "/v1/orders/lookup", api_orders_lookup, "orders.lookup", 0},
    {"GET", "/v1/orders", api_orders_list, "orders.list", 0},
    {"POST", "/v1/orders", api_orders_create, "orders.create", 0},
    {"GET", "/v1/orders/*", api_orders_get, "orders.get", 0},
    {"POST", "/v1/orders/*/payments", api_payments_create, "payments.create", 0},
    {"POST", "/v1/orders/*/card_keys/*/reveal", api_orders_reveal, "card_keys.reveal", 0},
    {"POST", "/v1/orders/*/account_goods/reveal", api_orders_account_reveal,
     "account_goods.reveal", 0},
    {"POST", "/v1/orders/*/deliver", api_orders_deliver, "orders.deliver", 0},
    {"POST", "/v1/orders/*/confirm", api_orders_confirm, "orders.confirm", 0},
    {"POST", "/v1/orders/*/refund_preview", api_refund_preview, "refunds.preview", 0},
    {"POST", "/v1/orders/*/cases", api_cases_create, "cases.create", 0},
    {"GET", "/v1/orders/*/cases", api_order_cases, "cases.of_order", 0},
    {"POST", "/v1/orders/*/evidence", api_evidence_upload, "evidence.upload",
     EVIDENCE_BYTES_MAX},
    {"GET", "/v1/orders/*/evidence/*", api_evidence_download, "evidence.download", 0},
    {"GET", "/v1/cases", api_cases_queue, "cases.queue", 0},
    {"GET", "/v1/cases/*", api_cases_get, "cases.get", 0},
    {"POST", "/v1/cases/*/messages", api_cases_message, "cases.message", 0},
    {"POST", "/v1/cases/*/request_evidence", api_cases_request_evidence,
     "cases.request_evidence", 0},
    {"POST", "/v1/cases/*/decide", api_cases_decide, "cases.decide", 0},
    {"POST", "/v1/cases/*/appeal", api_cases_appeal, "cases.appeal", 0},
    {"GET", "/v1/refunds/*", api_refunds_get, "refunds.get", 0},
    {"POST", "/v1/refunds/*/reroute", api_refunds_reroute, "refunds.reroute", 0},
    {"POST", "/v1/sandbox/payments/*/pay", api_sandbox_pay, "sandbox.pay", 0},
    {"POST", "/v1/callbacks/payments/sandbox", api_callback_payment, "callbacks.payment", 0},
    {"POST", "/v1/callbacks/upstream/sandbox", api_callback_upstream, "callbacks.upstream", 0},
    {"POST", "/v1/sandbox/issuer/redeem", api_sandbox_issuer_redeem, "sandbox.issuer.redeem", 0},
    {"POST", "/v1/callbacks/refunds/sandbox", api_callback_refund, "callbacks.refund", 0},
    {"POST", "/v1/callbacks/issuer/sandbox", api_callback_issuer, "callbacks.issuer", 0},
};

const int route_count = (int)(sizeof routes / sizeof routes[0]);
