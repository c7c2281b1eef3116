-- The schema of migrations 0001-0020 in PostgreSQL's dialect, applied at once to a new
-- PostgreSQL database (SQLite applies the numbered files; 0010 and 0018 rewrite SQLite's own
-- catalog and cannot run here). Migrations after 0020 are written once for both backends.
-- Differences from SQLite's schema: integers are BIGINT (SQLite's INTEGER is 64-bit), blobs are
-- BYTEA, and the tables kameng lists in insertion order carry the rowid SQLite keeps for them.

CREATE TABLE sellers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash BYTEA NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role = 'admin' OR role = 'agent' OR role = 'seller'),
    seller_id TEXT REFERENCES sellers(id),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind = 'card_key' OR kind = 'direct_topup' OR kind = 'account'),
    name TEXT NOT NULL,
    price_fen BIGINT NOT NULL CHECK (price_fen > 0),
    face_value_fen BIGINT NOT NULL CHECK (face_value_fen > 0),
    target_format TEXT NOT NULL,
    regions TEXT NOT NULL,
    seller_id TEXT REFERENCES sellers(id),
    refund_window_hours BIGINT NOT NULL,
    no_reason_days BIGINT NOT NULL,
    topup_timeout_minutes BIGINT NOT NULL,
    escrow_days BIGINT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    stock_available BIGINT NOT NULL DEFAULT 0, stock_reserved BIGINT NOT NULL DEFAULT 0, stock_delivered BIGINT NOT NULL DEFAULT 0);
CREATE TABLE card_keys (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    fingerprint BYTEA NOT NULL UNIQUE,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    masked TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status = 'available' OR status = 'reserved' OR status = 'delivered' OR status = 'void'),
    order_id TEXT,
    batch_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    kind TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_fen BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL,
    lookup_hash TEXT,
    contact TEXT NOT NULL,
    target_account TEXT,
    target_region TEXT,
    seller_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    paid_at BIGINT,
    delivered_at BIGINT,
    completed_at BIGINT,
    escrow_release_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_by_created ON orders(created_at, id);
CREATE TABLE payments (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    method TEXT NOT NULL CHECK (method = 'alipay' OR method = 'wechat' OR method = 'bank_card' OR method = 'balance'),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL CHECK (status = 'requires_payment' OR status = 'succeeded' OR status = 'failed' OR status = 'canceled'),
    disposition TEXT CHECK (disposition = 'applied' OR disposition = 'duplicate' OR disposition = 'late' OR disposition = 'undeliverable'),
    provider_txn_id TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    captured_at BIGINT
);
CREATE TABLE reveals (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    card_key_id TEXT REFERENCES card_keys(id), -- NULL: the account goods of the order
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    revealed_at BIGINT NOT NULL,
    waiver_confirmed_at BIGINT, policy_version TEXT);
CREATE INDEX reveals_by_order ON reveals(order_id);
CREATE TABLE topups (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),
    upstream TEXT NOT NULL,
    upstream_ref TEXT,
    target_account TEXT NOT NULL,
    target_region TEXT,
    status TEXT NOT NULL CHECK (status = 'queued' OR status = 'submitted' OR status = 'succeeded' OR status = 'failed' OR status = 'wrong_region'),
    credited_region TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    submitted_at BIGINT,
    result_at BIGINT,
    next_poll_at BIGINT NOT NULL,
    result_via TEXT
);
CREATE INDEX topups_by_status_poll ON topups(status, next_poll_at);
CREATE TABLE account_deliveries (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    seller_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    delivered_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    confirmed_by TEXT
);
CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    status_code BIGINT NOT NULL,
    response_nonce BYTEA NOT NULL,
    response_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE TABLE events (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    webhook_state TEXT NOT NULL DEFAULT 'pending', webhook_attempts BIGINT NOT NULL DEFAULT 0, webhook_next_at BIGINT NOT NULL DEFAULT 0, order_id TEXT);
CREATE TABLE sandbox_charges (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    amount_fen BIGINT NOT NULL,
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    notify_attempts BIGINT NOT NULL DEFAULT 0,
    notify_next_at BIGINT NOT NULL,
    notified_at BIGINT
);
CREATE INDEX sandbox_charges_to_notify ON sandbox_charges(notified_at, notify_next_at);
CREATE TABLE sandbox_topups (
    id TEXT PRIMARY KEY,
    topup_id TEXT NOT NULL UNIQUE,
    target_account TEXT NOT NULL,
    target_region TEXT,
    outcome TEXT NOT NULL CHECK (outcome = 'succeeded' OR outcome = 'failed' OR outcome = 'wrong_region' OR outcome = 'stall'),
    callback BIGINT NOT NULL, -- 0: the callback is lost, only polling learns the result
    credited_region TEXT,
    created_at BIGINT NOT NULL,
    result_at BIGINT,
    notify_attempts BIGINT NOT NULL DEFAULT 0,
    notify_next_at BIGINT,
    notified_at BIGINT
);
CREATE INDEX sandbox_topups_to_notify ON sandbox_topups(notified_at, result_at);
CREATE TABLE cases (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    origin TEXT NOT NULL CHECK (origin IN ('buyer', 'system')),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status = 'waiting' OR status = 'open' OR status = 'awaiting_buyer' OR status = 'decided' OR status = 'appealed' OR status = 'closed'),
    policy_version TEXT NOT NULL,
    preview_outcome TEXT NOT NULL,
    preview_rule TEXT NOT NULL,
    first_decided_by TEXT,
    appealed_at BIGINT,
    sla_due_at BIGINT,
    buyer_reply_due_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    late_at BIGINT);
CREATE INDEX cases_by_order ON cases(order_id, created_at);
CREATE INDEX cases_queue ON cases(status, sla_due_at);
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    stage TEXT NOT NULL CHECK (stage IN ('initial', 'appeal')),
    outcome TEXT NOT NULL CHECK (outcome IN ('approve', 'reject')),
    rule TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    automatic BIGINT NOT NULL,
    decided_by TEXT NOT NULL,
    facts TEXT NOT NULL,
    explanation TEXT NOT NULL,
    created_at BIGINT NOT NULL, sla_due_at BIGINT,
    UNIQUE (case_id, stage)
);
CREATE TABLE case_messages (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    evidence TEXT NOT NULL, -- JSON array of evidence ids
    created_at BIGINT NOT NULL
);
CREATE INDEX case_messages_by_case ON case_messages(case_id, created_at);
CREATE TABLE evidence (
    id TEXT NOT NULL,             -- "ev_" + the first 128 bits of SHA-256(content), in hex
    order_id TEXT NOT NULL REFERENCES orders(id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    filename TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    data BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, id)    -- content-addressed within an order
);
CREATE TABLE refunds (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    case_id TEXT REFERENCES cases(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    method TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    rule TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status = 'pending' OR status = 'succeeded' OR status = 'failed' OR status = 'requires_action'),
    provider_request_no TEXT NOT NULL UNIQUE, -- immutable, reused on every retry
    provider_refund_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    expected_by BIGINT NOT NULL,
    failure_reason TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    rerouted_from TEXT REFERENCES refunds(id), overdue_at BIGINT);
CREATE INDEX refunds_by_order ON refunds(order_id);
CREATE INDEX refunds_due ON refunds(status, next_attempt_at);
CREATE TABLE sandbox_refunds (
    id TEXT PRIMARY KEY,
    request_no TEXT NOT NULL UNIQUE,
    payment_id TEXT NOT NULL,
    method TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome = 'succeeded' OR outcome = 'failed' OR outcome = 'requires_action'),
    failures_left BIGINT NOT NULL, -- transient failures before it goes through
    created_at BIGINT NOT NULL,
    result_at BIGINT NOT NULL,
    notified_at BIGINT,
    notify_attempts BIGINT NOT NULL DEFAULT 0,
    notify_next_at BIGINT NOT NULL
);
CREATE TABLE activations (
    card_key_id TEXT PRIMARY KEY REFERENCES card_keys(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    activated_at BIGINT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX events_by_order ON events(order_id, created_at);
CREATE INDEX payments_unapplied ON payments(order_id) WHERE disposition != 'applied';
CREATE INDEX refunds_by_payment ON refunds(payment_id);
CREATE TABLE log_entries (
    seq BIGINT PRIMARY KEY,      -- the leaf index, 0-based, contiguous
    kind TEXT NOT NULL,
    order_id TEXT,
    entry BYTEA NOT NULL,          -- the canonical encoding (docs/evidence-log.md)
    leaf_hash BYTEA NOT NULL,      -- SHA-256(0x00 || entry)
    created_at BIGINT NOT NULL
);
CREATE INDEX log_entries_by_order ON log_entries(order_id, seq);
CREATE TABLE log_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);
CREATE INDEX reveals_by_key ON reveals(card_key_id);
CREATE INDEX orders_awaiting_payment ON orders(expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_in_escrow ON orders(escrow_release_at)
    WHERE status = 'delivered' AND kind = 'account';
CREATE INDEX orders_failed ON orders(id) WHERE status = 'failed';
CREATE INDEX card_keys_by_product ON card_keys(product_id);
CREATE INDEX card_keys_by_order ON card_keys(order_id, id) WHERE order_id IS NOT NULL;
CREATE INDEX payments_by_order ON payments(order_id, created_at);
CREATE INDEX events_webhook_due ON events(created_at) WHERE webhook_state = 'pending';
CREATE UNIQUE INDEX refunds_rerouted_from ON refunds(rerouted_from) WHERE rerouted_from IS NOT NULL;
CREATE INDEX refunds_to_note_overdue ON refunds(expected_by)
WHERE overdue_at IS NULL AND status = 'pending';
CREATE INDEX decisions_by_time ON decisions(created_at);
CREATE TABLE attention_settlements (
    event_id TEXT PRIMARY KEY REFERENCES events(id),
    order_id TEXT NOT NULL,
    settled_by TEXT NOT NULL,
    note TEXT NOT NULL,
    settled_at BIGINT NOT NULL
);
CREATE INDEX events_needing_a_person ON events(created_at)
WHERE type = 'refund.paid_twice' OR type = 'topup.credited_after_refund'
    OR type = 'refund.seller_recovery_due';
CREATE INDEX card_keys_available ON card_keys(product_id, created_at, rowid)
    WHERE status = 'available';
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    flags BIGINT NOT NULL,
    debits_pending BIGINT NOT NULL DEFAULT 0,
    debits_posted BIGINT NOT NULL DEFAULT 0,
    credits_pending BIGINT NOT NULL DEFAULT 0,
    credits_posted BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE ledger_transfers (
    id TEXT PRIMARY KEY,
    debit_account TEXT NOT NULL REFERENCES ledger_accounts(id),
    credit_account TEXT NOT NULL REFERENCES ledger_accounts(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    kind TEXT NOT NULL CHECK (kind = 'posted' OR kind = 'pending' OR kind = 'post_pending' OR kind = 'void_pending'),
    pending_id TEXT REFERENCES ledger_transfers(id),
    pending_state TEXT CHECK (pending_state = 'open' OR pending_state = 'posted' OR pending_state = 'voided'),
    ref_type TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_transfers_by_ref ON ledger_transfers(ref_type, ref_id);
CREATE TABLE order_tokens (
    token_hash BYTEA PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    created_at BIGINT NOT NULL,
    via TEXT NOT NULL
);
CREATE TABLE log_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE card_commitments (
    card_key_id TEXT PRIMARY KEY REFERENCES card_keys(id),
    nonce BYTEA NOT NULL,
    salt_sealed BYTEA NOT NULL
);
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    provider_dispute_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    reason TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    frozen_fen BIGINT NOT NULL CHECK (frozen_fen >= 0),
    frozen_from_escrow_fen BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status = 'needs_response' OR status = 'under_review' OR status = 'won' OR status = 'lost'),
    respond_by BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    response TEXT CHECK (response = 'evidence' OR response = 'accepted'),
    responded_by TEXT,
    responded_at BIGINT,
    bundle TEXT,
    bundle_sha256 TEXT,
    closed_at BIGINT,
    outcome_detail TEXT,
    poll_next_at BIGINT NOT NULL DEFAULT 0);
CREATE INDEX disputes_by_order ON disputes(order_id);
CREATE INDEX disputes_by_payment ON disputes(payment_id, status);
CREATE INDEX disputes_by_due ON disputes(status, respond_by);
CREATE TABLE sandbox_disputes (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    respond_by BIGINT NOT NULL,
    response TEXT,
    outcome TEXT,
    outcome_detail TEXT,
    decided_at BIGINT,
    opened_notified BIGINT NOT NULL DEFAULT 0,
    closed_notified BIGINT NOT NULL DEFAULT 0,
    notify_attempts BIGINT NOT NULL DEFAULT 0,
    notify_next_at BIGINT NOT NULL
);
CREATE INDEX sandbox_disputes_to_notify ON sandbox_disputes(closed_notified, notify_next_at);
