-- The foundation: catalog, card keys, orders, payments, fulfilment, ledger, idempotency.
-- Times are integer milliseconds since the Unix epoch (UTC); money is integer fen.

CREATE TABLE sellers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'seller')),
    seller_id TEXT REFERENCES sellers(id),
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('card_key', 'direct_topup', 'account')),
    name TEXT NOT NULL,
    price_fen INTEGER NOT NULL CHECK (price_fen > 0),
    face_value_fen INTEGER NOT NULL CHECK (face_value_fen > 0),
    target_format TEXT NOT NULL,
    regions TEXT NOT NULL,
    seller_id TEXT REFERENCES sellers(id),
    refund_window_hours INTEGER NOT NULL,
    no_reason_days INTEGER NOT NULL,
    topup_timeout_minutes INTEGER NOT NULL,
    escrow_days INTEGER NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE card_keys (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    fingerprint BLOB NOT NULL UNIQUE,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    masked TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('available', 'reserved', 'delivered', 'void')),
    order_id TEXT,
    batch_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX card_keys_by_product_status ON card_keys(product_id, status);
CREATE INDEX card_keys_by_order ON card_keys(order_id);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    kind TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_fen INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL,
    lookup_hash TEXT,
    contact TEXT NOT NULL,
    target_account TEXT,
    target_region TEXT,
    seller_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    paid_at INTEGER,
    delivered_at INTEGER,
    completed_at INTEGER,
    escrow_release_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_pending_by_expiry ON orders(status, expires_at);
CREATE INDEX orders_by_created ON orders(created_at, id);

CREATE TABLE order_tokens (
    token_hash BLOB PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    created_at INTEGER NOT NULL,
    via TEXT NOT NULL
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    method TEXT NOT NULL CHECK (method IN ('alipay', 'wechat', 'bank_card', 'balance')),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'canceled')),
    disposition TEXT CHECK (disposition IN ('applied', 'duplicate', 'late', 'undeliverable')),
    provider_txn_id TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    captured_at INTEGER
);
CREATE INDEX payments_by_order ON payments(order_id);

CREATE TABLE reveals (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    card_key_id TEXT REFERENCES card_keys(id), -- NULL: the account goods of the order
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    revealed_at INTEGER NOT NULL
);
CREATE INDEX reveals_by_order ON reveals(order_id);

CREATE TABLE topups (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),
    upstream TEXT NOT NULL,
    upstream_ref TEXT,
    target_account TEXT NOT NULL,
    target_region TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'submitted', 'succeeded', 'failed', 'wrong_region')),
    credited_region TEXT,
    detail TEXT,
    created_at INTEGER NOT NULL,
    submitted_at INTEGER,
    result_at INTEGER,
    next_poll_at INTEGER NOT NULL,
    result_via TEXT
);
CREATE INDEX topups_by_status_poll ON topups(status, next_poll_at);

CREATE TABLE account_deliveries (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    seller_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    delivered_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    confirmed_by TEXT
);

CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    flags INTEGER NOT NULL,
    debits_pending INTEGER NOT NULL DEFAULT 0,
    debits_posted INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    credits_posted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE ledger_transfers (
    id TEXT PRIMARY KEY,
    debit_account TEXT NOT NULL REFERENCES ledger_accounts(id),
    credit_account TEXT NOT NULL REFERENCES ledger_accounts(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    kind TEXT NOT NULL CHECK (kind IN ('posted', 'pending', 'post_pending', 'void_pending')),
    pending_id TEXT REFERENCES ledger_transfers(id),
    pending_state TEXT CHECK (pending_state IN ('open', 'posted', 'voided')),
    ref_type TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_transfers_by_ref ON ledger_transfers(ref_type, ref_id);

CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status_code INTEGER NOT NULL,
    response_nonce BLOB NOT NULL,
    response_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (principal, key)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_by_object ON events(object_id, created_at);

-- The sandbox payment provider's and upstream's own books: what "their" servers know.
CREATE TABLE sandbox_charges (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    amount_fen INTEGER NOT NULL,
    method TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notify_next_at INTEGER NOT NULL,
    notified_at INTEGER
);
CREATE INDEX sandbox_charges_to_notify ON sandbox_charges(notified_at, notify_next_at);

CREATE TABLE sandbox_topups (
    id TEXT PRIMARY KEY,
    topup_id TEXT NOT NULL UNIQUE,
    target_account TEXT NOT NULL,
    target_region TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'wrong_region', 'stall')),
    callback INTEGER NOT NULL, -- 0: the callback is lost, only polling learns the result
    credited_region TEXT,
    created_at INTEGER NOT NULL,
    result_at INTEGER,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    notify_next_at INTEGER,
    notified_at INTEGER
);
CREATE INDEX sandbox_topups_to_notify ON sandbox_topups(notified_at, result_at);
