/* Demo data for a newcomer: a seller, products of all three kinds, card keys in stock, and API
 * keys for an admin, an agent and the seller (printed once, and kept in a 0600 file). */
#ifndef KM_DEMO_H
#define KM_DEMO_H

#include <stdio.h>

#include "core/check.h"

/* Seed through the executor unless products exist already. Writes the keys to keys_path and
 * prints them to out. */
KM_MUST_USE int demo_seed(const char *keys_path, FILE *out);

#endif
