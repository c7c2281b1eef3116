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
int api_ledger_check(struct api_req *r);
int api_targets_check(struct api_req *r);
int api_sellers_create(struct api_req *r);
int api_keys_create(struct api_req *r);

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

#endif
