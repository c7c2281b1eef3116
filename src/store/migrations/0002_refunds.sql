-- The refund engine: cases with their decisions, messages and evidence; refunds paid back by the
-- route that paid; the sandbox provider's refund books; outbound webhook delivery state.

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    origin TEXT NOT NULL CHECK (origin IN ('buyer', 'system')),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'open', 'awaiting_buyer', 'decided',
                                           'appealed', 'closed')),
    policy_version TEXT NOT NULL,
    preview_outcome TEXT NOT NULL,
    preview_rule TEXT NOT NULL,
    first_decided_by TEXT,
    appealed_at INTEGER,
    sla_due_at INTEGER,
    buyer_reply_due_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_by_order ON cases(order_id, created_at);
CREATE INDEX cases_queue ON cases(status, sla_due_at);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    stage TEXT NOT NULL CHECK (stage IN ('initial', 'appeal')),
    outcome TEXT NOT NULL CHECK (outcome IN ('approve', 'reject')),
    rule TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    automatic INTEGER NOT NULL,
    decided_by TEXT NOT NULL,
    facts TEXT NOT NULL,
    explanation TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (case_id, stage)
);

CREATE TABLE case_messages (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    evidence TEXT NOT NULL, -- JSON array of evidence ids
    created_at INTEGER NOT NULL
);
CREATE INDEX case_messages_by_case ON case_messages(case_id, created_at);

CREATE TABLE evidence (
    id TEXT NOT NULL,             -- "ev_" + the first 128 bits of SHA-256(content), in hex
    order_id TEXT NOT NULL REFERENCES orders(id),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    filename TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (order_id, id)    -- content-addressed within an order
);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    case_id TEXT REFERENCES cases(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    method TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    rule TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'requires_action')),
    provider_request_no TEXT NOT NULL UNIQUE, -- immutable, reused on every retry
    provider_refund_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    expected_by INTEGER NOT NULL,
    failure_reason TEXT,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX refunds_by_order ON refunds(order_id);
CREATE INDEX refunds_due ON refunds(status, next_attempt_at);

CREATE TABLE sandbox_refunds (
    id TEXT PRIMARY KEY,
    request_no TEXT NOT NULL UNIQUE,
    payment_id TEXT NOT NULL,
    method TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'requires_action')),
    failures_left INTEGER NOT NULL, -- transient failures before it goes through
    created_at INTEGER NOT NULL,
    result_at INTEGER NOT NULL,
    notified_at INTEGER,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notify_next_at INTEGER NOT NULL
);

ALTER TABLE events ADD COLUMN webhook_state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE events ADD COLUMN webhook_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN webhook_next_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_webhook_due ON events(webhook_state, webhook_next_at);

ALTER TABLE reveals ADD COLUMN waiver_confirmed_at INTEGER;
ALTER TABLE reveals ADD COLUMN policy_version TEXT;

CREATE TABLE activations (
    card_key_id TEXT PRIMARY KEY REFERENCES card_keys(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    activated_at INTEGER NOT NULL,
    source TEXT NOT NULL
);
