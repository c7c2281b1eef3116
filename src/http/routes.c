/* The route table. The order matters only where two patterns could match one path: the literal
 * one ("/v1/orders/lookup") comes before the wildcard that would also match it. */
#include "http/api_handlers.h"
#include "http/router.h"

const struct route routes[] = {
    {"GET", "/", api_web_index, "web.index"},
    {"GET", "/web/*", api_web_asset, "web.asset"},
    {"GET", "/healthz", api_healthz, "healthz"},
    {"GET", "/metrics", api_metrics, "metrics"},
    {"GET", "/v1/test/clock", api_clock_get, "test.clock.get"},
    {"POST", "/v1/test/clock/advance", api_clock_advance, "test.clock.advance"},
    {"GET", "/v1/ledger/check", api_ledger_check, "ledger.check"},
    {"POST", "/v1/targets/check", api_targets_check, "targets.check"},
    {"POST", "/v1/sellers", api_sellers_create, "sellers.create"},
    {"POST", "/v1/api_keys", api_keys_create, "api_keys.create"},
    {"GET", "/v1/products", api_products_list, "products.list"},
    {"POST", "/v1/products", api_products_create, "products.create"},
    {"GET", "/v1/products/*", api_products_get, "products.get"},
    {"POST", "/v1/products/*/card_keys", api_cards_import, "card_keys.import"},
    {"POST", "/v1/orders/lookup", api_orders_lookup, "orders.lookup"},
    {"GET", "/v1/orders", api_orders_list, "orders.list"},
    {"POST", "/v1/orders", api_orders_create, "orders.create"},
    {"GET", "/v1/orders/*", api_orders_get, "orders.get"},
    {"POST", "/v1/orders/*/payments", api_payments_create, "payments.create"},
    {"POST", "/v1/orders/*/card_keys/*/reveal", api_orders_reveal, "card_keys.reveal"},
    {"POST", "/v1/orders/*/account_goods/reveal", api_orders_account_reveal,
     "account_goods.reveal"},
    {"POST", "/v1/orders/*/deliver", api_orders_deliver, "orders.deliver"},
    {"POST", "/v1/orders/*/confirm", api_orders_confirm, "orders.confirm"},
    {"POST", "/v1/sandbox/payments/*/pay", api_sandbox_pay, "sandbox.pay"},
    {"POST", "/v1/callbacks/payments/sandbox", api_callback_payment, "callbacks.payment"},
    {"POST", "/v1/callbacks/upstream/sandbox", api_callback_upstream, "callbacks.upstream"},
};

const int route_count = (int)(sizeof routes / sizeof routes[0]);
