/* Products and their card-key stock: creating products with their refund terms, bulk import of
 * card keys (all rows or none, each problem named by line), and stock counts. */
#ifndef KM_CATALOG_H
#define KM_CATALOG_H

#include <stdbool.h>

#include "core/check.h"
#include "core/err.h"
#include "domain/card_import.h"
#include "store/store.h"

/* Check terms and kind-specific fields, give it an id, store it. */
KM_MUST_USE int catalog_product_create(struct db *db, struct product *p, struct km_error *e);

/* Import parsed rows into product_id: encrypted, fingerprinted, checked against stock already
 * held. Any problem (in the file or against stock) imports nothing; *imp lists them. */
KM_MUST_USE int catalog_cards_import(struct db *db, const char *product_id,
                                     struct card_import *imp, char *batch_id, int *imported,
                                     struct km_error *e);

#endif
