/* What about refunds needs a person, read from the books (GET /v1/attention), in three groups,
 * each oldest first: money to recover (a buyer paid twice, a top-up credited after a refund of it
 * was paid, a refund the shop paid for account goods whose escrow went to the seller), refunds
 * past their promised date, and refunds not paid out that are still owed. Money to recover is
 * settled outside the shop, with the buyer, the seller or the provider; staff record that they
 * did: who, why and when, on the order's timeline too. */
#ifndef KM_ATTENTION_H
#define KM_ATTENTION_H

#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "store/store_events.h"
#include "store/store_refunds.h"

#define ATTENTION_NOTE_BYTES_MAX 1500 /* what was done: 500 characters of Chinese, in UTF-8 */

enum attention_kind {
    /* money to recover, settled by a person */
    ATTENTION_PAID_TWICE,
    ATTENTION_TOPUP_CREDITED_AFTER_REFUND,
    ATTENTION_SELLER_RECOVERY_DUE,
    /* these end by themselves when their refund moves on */
    ATTENTION_OVERDUE,
    ATTENTION_UNPAID_REFUND,
};

struct attention_item {
    enum attention_kind kind;
    char id[ID_BYTES_MAX]; /* the event, for money to recover (what settling takes); else "" */
    char order_id[ID_BYTES_MAX];
    bool has_refund; /* all but a late-credited top-up */
    struct refund_row refund;
    int64_t since;      /* when it began to need a person */
    int64_t amount_fen; /* what revenue fronted, for a seller recovery; else -1 */
};

/* "paid_twice", "topup_credited_after_refund", ... as the API names them. */
const char *attention_kind_name(enum attention_kind kind);
/* Everything that needs a person, in the order above, into a grown array (free it). Inside the
 * caller's read transaction. */
KM_MUST_USE int attention_list(struct db *db, struct attention_item **out, int *count);

/* by: "agent:<key>"; note: what was done. out: the event settled. */
KM_MUST_USE int attention_settle(struct db *db, const char *event_id, const char *by,
                                 const char *note, int64_t now, struct attention_event *out,
                                 struct km_error *e);

#endif
