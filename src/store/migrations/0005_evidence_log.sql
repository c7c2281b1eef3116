-- The evidence log: an append-only Merkle tree (RFC 9162 hashing) of the facts refunds turn on,
-- written in the same transaction as the change each entry records.
CREATE TABLE log_entries (
    seq INTEGER PRIMARY KEY,      -- the leaf index, 0-based, contiguous
    kind TEXT NOT NULL,
    order_id TEXT,
    entry BLOB NOT NULL,          -- the canonical encoding (docs/evidence-log.md)
    leaf_hash BLOB NOT NULL,      -- SHA-256(0x00 || entry)
    created_at INTEGER NOT NULL
);
CREATE INDEX log_entries_by_order ON log_entries(order_id, seq);

-- Hashes of the perfect subtrees above the leaves, kept as they complete, so that any proof is
-- O(log n) indexed reads: level k covers leaves [idx * 2^k, (idx + 1) * 2^k).
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Every checkpoint the shop signed (C2SP signed note over origin, size, root).
CREATE TABLE log_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    signed_at INTEGER NOT NULL
);

-- The salt of each card key's commitment, sealed: the shop can open a commitment in a dispute,
-- the database alone cannot.
CREATE TABLE card_commitments (
    card_key_id TEXT PRIMARY KEY REFERENCES card_keys(id),
    nonce BLOB NOT NULL,
    salt_sealed BLOB NOT NULL
);
