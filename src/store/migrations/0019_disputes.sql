-- Disputes a payment provider opens on a captured payment: the buyer complained to Alipay,
-- WeChat Pay or the card's bank instead of (or after) the shop. The provider freezes the money
-- in dispute and asks the shop for evidence by a due date; then it decides, and money the shop
-- loses goes back to the buyer through the provider (a chargeback).
--
-- frozen_fen is what the shop holds for the dispute in its ledger (a pending transfer with
-- ref_type 'dispute'): the disputed amount, less what was already refunded or frozen for another
-- dispute. frozen_from_escrow_fen is the part taken from a seller's escrow hold, given back to it
-- if the shop wins. bundle is the evidence bundle exactly as submitted, bundle_sha256 its hash,
-- also appended to the evidence log.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    provider_dispute_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    reason TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    frozen_fen INTEGER NOT NULL CHECK (frozen_fen >= 0),
    frozen_from_escrow_fen INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status = 'needs_response' OR status = 'under_review' OR status = 'won' OR status = 'lost'),
    respond_by INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    response TEXT CHECK (response = 'evidence' OR response = 'accepted'),
    responded_by TEXT,
    responded_at INTEGER,
    bundle TEXT,
    bundle_sha256 TEXT,
    closed_at INTEGER,
    outcome_detail TEXT
);
CREATE INDEX disputes_by_order ON disputes(order_id);
CREATE INDEX disputes_by_payment ON disputes(payment_id, status);
CREATE INDEX disputes_by_due ON disputes(status, respond_by);

-- The sandbox provider's own record of the disputes its buyers open. One per payment, as at the
-- real providers. The notification of the opening is due at once; the closing one when the shop
-- has answered (the provider decides at once) or, without an answer, at respond_by (lost).
CREATE TABLE sandbox_disputes (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    method TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    respond_by INTEGER NOT NULL,
    response TEXT,
    outcome TEXT,
    outcome_detail TEXT,
    decided_at INTEGER,
    opened_notified INTEGER NOT NULL DEFAULT 0,
    closed_notified INTEGER NOT NULL DEFAULT 0,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notify_next_at INTEGER NOT NULL
);
CREATE INDEX sandbox_disputes_to_notify ON sandbox_disputes(closed_notified, notify_next_at);
