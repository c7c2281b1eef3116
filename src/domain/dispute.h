/* A dispute a payment provider opens on a captured payment (the buyer complained to Alipay,
 * WeChat Pay or the card's bank: 交易投诉, 拒付). The provider freezes the disputed money and
 * asks the shop for evidence by a due date; then it decides. Pure: the life of a dispute, what
 * the shop can freeze for it, and whether the shop's records prove the goods reached the buyer. */
#ifndef KM_DISPUTE_H
#define KM_DISPUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"
#include "domain/refund_policy.h"

enum dispute_status {
    DISPUTE_NEEDS_RESPONSE = 0, /* opened; the shop has not answered */
    DISPUTE_UNDER_REVIEW, /* the shop answered (evidence, or accepted); the provider decides */
    DISPUTE_WON,          /* final: the shop keeps the money, the freeze is released */
    DISPUTE_LOST,         /* final: the money went back to the buyer through the provider */
    DISPUTE_STATUS_COUNT
};

enum dispute_event {
    DISPUTE_EV_RESPOND = 0, /* the shop submitted its evidence or accepted the dispute */
    DISPUTE_EV_WIN,         /* the provider decided for the shop */
    DISPUTE_EV_LOSE,        /* the provider decided for the buyer (or the due date passed) */
    DISPUTE_EVENT_COUNT
};

/* 0 and *to set when ev is allowed in from; -KM_ESTATE otherwise. */
KM_MUST_USE int dispute_transition(enum dispute_status from, enum dispute_event ev,
                                   enum dispute_status *to);
const char *dispute_status_name(enum dispute_status s);
/* -KM_EINVAL for an unknown name. */
KM_MUST_USE int dispute_status_parse(const char *name, enum dispute_status *out);
bool dispute_is_open(enum dispute_status s);

/* What the shop freezes for a dispute of disputed_fen on a payment that captured captured_fen,
 * of which claimed_fen is refunded, on its way back or frozen for another dispute: never more
 * than is left, never below zero. */
int64_t dispute_freeze_fen(int64_t disputed_fen, int64_t captured_fen, int64_t claimed_fen);

/* Whether the shop's own records show the goods reached the buyer: a card key revealed or
 * activated, a top-up credited to the account and region ordered, account goods handed over. */
bool dispute_delivery_proven(const struct refund_facts *f);

/* The reasons a provider gives, as kameng names them. */
bool dispute_reason_valid(const char *reason);

#endif
