-- The compliance audit log (src/audit, docs/audit-log.md). Entries and their stored hashes
-- are written in the same transaction as the change they describe. Index order is commit
-- order: every append first updates the one audit_head row, whose lock it holds to commit.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    size BIGINT NOT NULL
);

INSERT INTO audit_head (id, size) VALUES (1, 0);

-- entry is the canonical encoding (version 1 is RFC 8785 JSON, UTF-8 text), byte for byte
-- what the Merkle leaf hashes.
CREATE TABLE audit_entries (
    entry_index BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    payment_id TEXT,
    merchant_id TEXT,
    entry TEXT NOT NULL
);

CREATE INDEX audit_entries_by_payment ON audit_entries (payment_id, entry_index);
CREATE INDEX audit_entries_by_time ON audit_entries (at_ms, entry_index);

-- tlog stored hashes (hex), indexed as tlog_tiles::stored_hash_index lays them out.
CREATE TABLE audit_hashes (
    hash_index BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

-- Every checkpoint ever signed: the signed note as served at /checkpoint.
CREATE TABLE audit_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
)
