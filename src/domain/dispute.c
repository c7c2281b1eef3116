/* The dispute life and its money rules (dispute.h). */
#include "domain/dispute.h"

#include <string.h>

#include "core/err.h"

static const char *const status_names[DISPUTE_STATUS_COUNT] = {
    [DISPUTE_NEEDS_RESPONSE] = "needs_response",
    [DISPUTE_UNDER_REVIEW] = "under_review",
    [DISPUTE_WON] = "won",
    [DISPUTE_LOST] = "lost",
};

/* next[from][event]: the status after, or -1 where the event is not allowed. */
static const int next[DISPUTE_STATUS_COUNT][DISPUTE_EVENT_COUNT] = {
    [DISPUTE_NEEDS_RESPONSE] = {DISPUTE_UNDER_REVIEW, DISPUTE_WON, DISPUTE_LOST},
    [DISPUTE_UNDER_REVIEW] = {-1, DISPUTE_WON, DISPUTE_LOST},
    [DISPUTE_WON] = {-1, -1, -1},
    [DISPUTE_LOST] = {-1, -1, -1},
};

int dispute_transition(enum dispute_status from, enum dispute_event ev, enum dispute_status *to)
{
    if ((unsigned)from >= DISPUTE_STATUS_COUNT || (unsigned)ev >= DISPUTE_EVENT_COUNT ||
        next[from][ev] < 0) {
        return -KM_ESTATE;
    }
    *to = (enum dispute_status)next[from][ev];
    return 0;
}

const char *dispute_status_name(enum dispute_status s)
{
    return (unsigned)s < DISPUTE_STATUS_COUNT ? status_names[s] : "unknown";
}

int dispute_status_parse(const char *name, enum dispute_status *out)
{
    for (int i = 0; i < DISPUTE_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum dispute_status)i;
            return 0;
        }
    }
    return -KM_EINVAL;
}

bool dispute_is_open(enum dispute_status s)
{
    return s == DISPUTE_NEEDS_RESPONSE || s == DISPUTE_UNDER_REVIEW;
}

int64_t dispute_freeze_fen(int64_t disputed_fen, int64_t captured_fen, int64_t claimed_fen)
{
    int64_t left = captured_fen - claimed_fen;
    if (left <= 0 || disputed_fen <= 0) {
        return 0;
    }
    return disputed_fen < left ? disputed_fen : left;
}

bool dispute_delivery_proven(const struct refund_facts *f)
{
    switch (f->kind) {
    case GOODS_CARD_KEY:
        return f->keys_revealed > 0 || f->keys_activated > 0;
    case GOODS_DIRECT_TOPUP:
        return f->topup == TOPUP_CREDITED;
    case GOODS_ACCOUNT:
        return f->seller_delivered;
    }
    return false;
}

bool dispute_reason_valid(const char *reason)
{
    static const char *const reasons[] = {"not_received", "not_as_described", "unauthorized",
                                          "duplicate", "other"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(reason, reasons[i]) == 0) {
            return true;
        }
    }
    return false;
}
