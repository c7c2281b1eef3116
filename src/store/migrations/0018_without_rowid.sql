-- Tables found only by their primary key, written on every order, keep one B-tree instead of
-- two. A table with a TEXT or composite primary key is a rowid table plus an index on that key:
-- each insert wrote both, and each read of an account looked its rowid up in the index first.
-- WITHOUT ROWID stores the rows in the key's own B-tree. The ledger's accounts and transfers,
-- buyer tokens, the evidence log's tree nodes and the card-key commitments qualify: none is
-- listed in insertion order, none is watched by the read cache, and their rows are small. An
-- order's commands ran about 3% fewer instructions (bench/instructions.sh).
--
-- SQLite cannot change a table to WITHOUT ROWID in place: each is built anew, filled, and takes
-- the old one's name. The new ledger tables reference each other, the old transfers are dropped
-- before the old accounts, and the renames carry every REFERENCES clause over to the new names,
-- so no foreign key points at a missing row at any step. A PostgreSQL store has no such split and
-- nothing to do here.
CREATE TABLE ledger_accounts_new (
    id TEXT PRIMARY KEY,
    flags INTEGER NOT NULL,
    debits_pending INTEGER NOT NULL DEFAULT 0,
    debits_posted INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    credits_posted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE ledger_transfers_new (
    id TEXT PRIMARY KEY,
    debit_account TEXT NOT NULL REFERENCES ledger_accounts_new(id),
    credit_account TEXT NOT NULL REFERENCES ledger_accounts_new(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    kind TEXT NOT NULL CHECK (kind = 'posted' OR kind = 'pending' OR kind = 'post_pending' OR kind = 'void_pending'),
    pending_id TEXT REFERENCES ledger_transfers_new(id),
    pending_state TEXT CHECK (pending_state = 'open' OR pending_state = 'posted' OR pending_state = 'voided'),
    ref_type TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO ledger_accounts_new SELECT id, flags, debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts;
INSERT INTO ledger_transfers_new SELECT id, debit_account, credit_account, amount_fen, kind, pending_id, pending_state, ref_type, ref_id, created_at FROM ledger_transfers ORDER BY rowid;
DROP TABLE ledger_transfers;
DROP TABLE ledger_accounts;
ALTER TABLE ledger_accounts_new RENAME TO ledger_accounts;
ALTER TABLE ledger_transfers_new RENAME TO ledger_transfers;
CREATE INDEX ledger_transfers_by_ref ON ledger_transfers(ref_type, ref_id);

CREATE TABLE order_tokens_new (
    token_hash BLOB PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    created_at INTEGER NOT NULL,
    via TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO order_tokens_new SELECT token_hash, order_id, created_at, via FROM order_tokens;
DROP TABLE order_tokens;
ALTER TABLE order_tokens_new RENAME TO order_tokens;

CREATE TABLE log_nodes_new (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
INSERT INTO log_nodes_new SELECT level, idx, hash FROM log_nodes;
DROP TABLE log_nodes;
ALTER TABLE log_nodes_new RENAME TO log_nodes;

CREATE TABLE card_commitments_new (
    card_key_id TEXT PRIMARY KEY REFERENCES card_keys(id),
    nonce BLOB NOT NULL,
    salt_sealed BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO card_commitments_new SELECT card_key_id, nonce, salt_sealed FROM card_commitments;
DROP TABLE card_commitments;
ALTER TABLE card_commitments_new RENAME TO card_commitments;
