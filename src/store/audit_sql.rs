//! The audit log's tables (migration 0003): appends inside the caller's transaction, and
//! reads on the pool. One code path for SQLite and PostgreSQL (TEXT and BIGINT only).
//!
//! One global order across replicas: `append` first updates the single `audit_head` row.
//! PostgreSQL holds that row lock until the caller commits, so appenders take indexes one
//! after another and commit in index order; SQLite has one writer anyway. The committed
//! entries are therefore always a gapless prefix `0..size`, and `audit_head.size` is it.
//! Call `append` last in the transaction, just before commit: it serialises every writer of
//! the log from that point on.
use std::collections::BTreeMap;

use sqlx::{Any, AnyPool, Row, Transaction};
use tlog_tiles::{Hash, HashReader};

use super::StoreError;
use super::placeholders;
use crate::audit::checkpoint::SignedCheckpoint;
use crate::audit::entry::{AuditEntry, EncodedEntry, EntryKind, leaf_hash};
use crate::audit::limits::{APPEND_BATCH_MAX, HASH_READ_MAX, READ_PAGE_MAX};
use crate::audit::tiles::{TileId, bundle_bytes, hash_tile_bytes};
use crate::audit::tree::{IndexRecorder, PrefetchedHashes, append_hashes, append_reads};

/// Rows per multi-row INSERT: 6 parameters each stays far below SQLite's 32,766.
const INSERT_ROWS_MAX: usize = 256;
/// Entries per INSERT. Kept small so each statement's Bind message goes out in one write:
/// sqlx 0.9.0 no longer sets TCP_NODELAY (transact-rs/sqlx#4335), and a message split over
/// two writes waits ~40 ms for PostgreSQL's delayed ACK.
const ENTRY_ROWS_PER_INSERT: usize = 16;

/// An entry as stored, with its index in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub index: u64,
    pub kind: String,
    pub at_ms: i64,
    pub payment_id: Option<String>,
    pub merchant_id: Option<String>,
    pub bytes: Vec<u8>,
}

/// A kept checkpoint and when it was signed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub checkpoint: SignedCheckpoint,
    pub created_at_ms: i64,
}

/// A rule set kept by the routing engine (table `rule_sets`, migration 0004).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetRow {
    pub version: String,
    pub canonical: String,
}

/// Either pass of a two-pass read (see `audit::tree`): tlog functions take a sized reader.
enum TwoPass<'a> {
    Record(&'a IndexRecorder),
    Read(&'a PrefetchedHashes),
}

impl HashReader for TwoPass<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        match self {
            TwoPass::Record(r) => r.read_hashes(indexes),
            TwoPass::Read(r) => r.read_hashes(indexes),
        }
    }
}

/// Appends entries in the caller's transaction and returns their indexes. The caller
/// commits; a rollback takes the entries, their hashes and the head back together.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    entries: &[AuditEntry],
) -> Result<Vec<u64>, StoreError> {
    let encoded = entries.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
    append_encoded(tx, &encoded).await
}

/// An entry encoded (and so validated) for [`append_encoded`].
pub fn encode(entry: &AuditEntry) -> Result<EncodedEntry, StoreError> {
    entry
        .to_encoded()
        .map_err(|e| corrupt("audit_entries", format!("entry refused: {e}")))
}

/// As [`append`], for entries the caller encoded (and so validated) itself.
pub async fn append_encoded(
    tx: &mut Transaction<'_, Any>,
    entries: &[EncodedEntry],
) -> Result<Vec<u64>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    if entries.len() > APPEND_BATCH_MAX {
        return Err(corrupt(
            "audit_entries",
            format!(
                "{} entries in one append, over {APPEND_BATCH_MAX}",
                entries.len()
            ),
        ));
    }
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(&e.bytes)).collect();
    let start = append_leaves(tx, &leaves).await?;
    insert_entries(tx, start, entries).await?;
    Ok((start..start + entries.len() as u64).collect())
}

/// Takes indexes for `leaves` under the head row's lock and writes their stored hashes;
/// returns the first index. The entries themselves are the caller's to insert.
async fn append_leaves(tx: &mut Transaction<'_, Any>, leaves: &[Hash]) -> Result<u64, StoreError> {
    let count = leaves.len() as i64;
    // The head row's lock comes first: from here to commit this transaction owns the log.
    let size: i64 =
        sqlx::query_scalar("UPDATE audit_head SET size = size + $1 WHERE id = 1 RETURNING size")
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
    let start = u64::try_from(size - count)
        .map_err(|_| corrupt("audit_head", format!("size {size} below zero")))?;
    let reads = append_reads(start, count as u64);
    let prefetched = PrefetchedHashes::new(fetch_hashes(tx, &reads).await?);
    let hashes = append_hashes(start, leaves, prefetched)
        .map_err(|e| corrupt("audit_hashes", format!("append at {start}: {e}")))?;
    insert_hashes(tx, &hashes).await?;
    Ok(start)
}

async fn insert_entries(
    tx: &mut Transaction<'_, Any>,
    start: u64,
    entries: &[EncodedEntry],
) -> Result<(), StoreError> {
    for (chunk_number, chunk) in entries.chunks(ENTRY_ROWS_PER_INSERT).enumerate() {
        let mut sql = String::from(
            "INSERT INTO audit_entries (entry_index, kind, at_ms, payment_id, merchant_id, entry) \
             VALUES ",
        );
        sql.push_str(&placeholders(chunk.len(), 6));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (offset, e) in chunk.iter().enumerate() {
            let index = start + (chunk_number * ENTRY_ROWS_PER_INSERT + offset) as u64;
            let text = std::str::from_utf8(&e.bytes)
                .map_err(|_| corrupt("audit_entries", "entry bytes are not UTF-8".into()))?;
            query = query
                .bind(index as i64)
                .bind(e.kind.as_str().to_owned())
                .bind(e.at_ms)
                .bind(e.payment_id.clone())
                .bind(e.merchant_id.clone())
                .bind(text.to_owned());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts stored hashes, a few hundred per statement.
async fn insert_hashes(
    tx: &mut Transaction<'_, Any>,
    hashes: &[(u64, Hash)],
) -> Result<(), StoreError> {
    insert_hashes_per(tx, hashes, INSERT_ROWS_MAX).await
}

/// The bulk loader of `kakehashi bench-audit`: 4,096 hashes per statement (8,192
/// parameters, under SQLite's 32,766 and PostgreSQL's 65,535).
pub async fn insert_hashes_bulk(
    tx: &mut Transaction<'_, Any>,
    hashes: &[(u64, Hash)],
) -> Result<(), StoreError> {
    insert_hashes_per(tx, hashes, 4_096).await
}

async fn insert_hashes_per(
    tx: &mut Transaction<'_, Any>,
    hashes: &[(u64, Hash)],
    rows_per_statement: usize,
) -> Result<(), StoreError> {
    for chunk in hashes.chunks(rows_per_statement) {
        let mut sql = String::from("INSERT INTO audit_hashes (hash_index, hash) VALUES ");
        sql.push_str(&placeholders(chunk.len(), 2));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (index, hash) in chunk {
            query = query.bind(*index as i64).bind(hex::encode(hash.0));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Reads the stored hashes at `indexes` in one SELECT per 4,096; all must exist.
async fn fetch_hashes(
    conn: &mut sqlx::AnyConnection,
    indexes: &[u64],
) -> Result<Vec<(u64, Hash)>, StoreError> {
    let mut found = Vec::with_capacity(indexes.len());
    for chunk in indexes.chunks(HASH_READ_MAX) {
        let list = chunk
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // Integers formatted by us, not input: safe to inline, and one statement either way.
        let sql = format!("SELECT hash_index, hash FROM audit_hashes WHERE hash_index IN ({list})");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            let index: i64 = row.try_get("hash_index")?;
            let text: String = row.try_get("hash")?;
            found.push((index as u64, parse_hash(&text)?));
        }
    }
    if found.len() != indexes.len() {
        return Err(corrupt(
            "audit_hashes",
            format!(
                "{} of {} stored hashes missing",
                indexes.len() - found.len(),
                indexes.len()
            ),
        ));
    }
    Ok(found)
}

/// Runs a tlog read (`tree_hash`, `prove_record`, `prove_tree`, a tile) over the stored
/// hashes with one batched SELECT: first noting the indexes it asks for, then for real.
/// The caller checks sizes and indexes first; a read past the stored tree is `Corrupt`.
pub async fn with_hashes<T>(
    pool: &AnyPool,
    run: impl Fn(&TwoPassReader<'_>) -> Result<T, tlog_tiles::Error>,
) -> Result<T, StoreError> {
    let indexes =
        IndexRecorder::indexes_read_by(|recorder| run(&TwoPassReader(TwoPass::Record(recorder))))
            .map_err(|e| corrupt("audit_hashes", e.to_string()))?;
    let mut conn = pool.acquire().await?;
    let prefetched = PrefetchedHashes::new(fetch_hashes(&mut conn, &indexes).await?);
    run(&TwoPassReader(TwoPass::Read(&prefetched)))
        .map_err(|e| corrupt("audit_hashes", e.to_string()))
}

/// The reader `with_hashes` hands its closure: pass it to any tlog function.
pub struct TwoPassReader<'a>(TwoPass<'a>);

impl HashReader for TwoPassReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.read_hashes(indexes)
    }
}

/// A tile's bytes from storage, byte-exact to c2sp.org/tlog-tiles. The caller checks
/// that the tile lies within a signed tree (`TileId::within`).
pub async fn tile_bytes(pool: &AnyPool, tile: TileId) -> Result<Vec<u8>, StoreError> {
    match tile {
        TileId::Hash { .. } => with_hashes(pool, |r| hash_tile_bytes(tile, r)).await,
        TileId::Entries { .. } => {
            let first = tile.first_record();
            let end = first + u64::from(tile.width());
            let entries = entries_range(pool, first, end).await?;
            if entries.len() as u64 != end - first {
                return Err(corrupt(
                    "audit_entries",
                    format!(
                        "{tile} needs entries {first}..{end}, {} found",
                        entries.len()
                    ),
                ));
            }
            let bytes: Vec<&[u8]> = entries.iter().map(|e| e.bytes.as_slice()).collect();
            bundle_bytes(&bytes).map_err(|e| corrupt("audit_entries", e.to_string()))
        }
    }
}

/// The committed size of the log.
pub async fn tree_size(pool: &AnyPool) -> Result<u64, StoreError> {
    let size: i64 = sqlx::query_scalar("SELECT size FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await?;
    u64::try_from(size).map_err(|_| corrupt("audit_head", format!("size {size}")))
}

/// Entries `start..end` (at most 1,000 of them), by index.
pub async fn entries_range(
    pool: &AnyPool,
    start: u64,
    end: u64,
) -> Result<Vec<StoredEntry>, StoreError> {
    let end = end.min(start.saturating_add(READ_PAGE_MAX as u64));
    let rows = sqlx::query(
        "SELECT entry_index, kind, at_ms, payment_id, merchant_id, entry FROM audit_entries \
         WHERE entry_index >= $1 AND entry_index < $2 ORDER BY entry_index",
    )
    .bind(start as i64)
    .bind(end as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// A payment's entries in log order, from index `after` on (at most `limit`, ≤ 1,000).
pub async fn entries_for_payment(
    pool: &AnyPool,
    payment_id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT entry_index, kind, at_ms, payment_id, merchant_id, entry FROM audit_entries \
         WHERE payment_id = $1 AND entry_index >= $2 ORDER BY entry_index LIMIT $3",
    )
    .bind(payment_id)
    .bind(after as i64)
    .bind(limit.min(READ_PAGE_MAX) as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

/// Entries with `from_ms <= at_ms < to_ms`, in log order from index `after` on: page by
/// passing the last index returned plus one.
pub async fn entries_in_period(
    pool: &AnyPool,
    from_ms: i64,
    to_ms: i64,
    after: u64,
    limit: usize,
) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT entry_index, kind, at_ms, payment_id, merchant_id, entry FROM audit_entries \
         WHERE at_ms >= $1 AND at_ms < $2 AND entry_index >= $3 ORDER BY entry_index LIMIT $4",
    )
    .bind(from_ms)
    .bind(to_ms)
    .bind(after as i64)
    .bind(limit.min(READ_PAGE_MAX) as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<StoredEntry, StoreError> {
    let index: i64 = row.try_get("entry_index")?;
    let kind: String = row.try_get("kind")?;
    EntryKind::parse(&kind).map_err(|e| corrupt("audit_entries", e.to_string()))?;
    let text: String = row.try_get("entry")?;
    Ok(StoredEntry {
        index: index as u64,
        kind,
        at_ms: row.try_get("at_ms")?,
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        bytes: text.into_bytes(),
    })
}

/// Keeps a signed checkpoint. Replicas may sign the same size at once: Ed25519 is
/// deterministic, so their notes are identical and the second insert changes nothing.
pub async fn insert_checkpoint(
    pool: &AnyPool,
    checkpoint: &SignedCheckpoint,
    created_at_ms: i64,
) -> Result<(), StoreError> {
    let note = std::str::from_utf8(&checkpoint.note)
        .map_err(|_| corrupt("audit_checkpoints", "note is not UTF-8".into()))?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING",
    )
    .bind(checkpoint.size as i64)
    .bind(hex::encode(checkpoint.root.0))
    .bind(note)
    .bind(created_at_ms)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn latest_checkpoint(pool: &AnyPool) -> Result<Option<StoredCheckpoint>, StoreError> {
    let row = sqlx::query(
        "SELECT tree_size, root_hash, note, created_at_ms FROM audit_checkpoints \
         ORDER BY tree_size DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(checkpoint_from_row).transpose()
}

pub async fn checkpoint_at(
    pool: &AnyPool,
    size: u64,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    let row = sqlx::query(
        "SELECT tree_size, root_hash, note, created_at_ms FROM audit_checkpoints \
         WHERE tree_size = $1",
    )
    .bind(size as i64)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(checkpoint_from_row).transpose()
}

/// Every kept checkpoint, oldest first, from size `after` on (at most 1,000 per call).
pub async fn checkpoints(pool: &AnyPool, after: u64) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT tree_size, root_hash, note, created_at_ms FROM audit_checkpoints \
         WHERE tree_size >= $1 ORDER BY tree_size LIMIT $2",
    )
    .bind(after as i64)
    .bind(READ_PAGE_MAX as i64)
    .fetch_all(pool)
    .await?;
    rows.iter().map(checkpoint_from_row).collect()
}

fn checkpoint_from_row(row: &sqlx::any::AnyRow) -> Result<StoredCheckpoint, StoreError> {
    let size: i64 = row.try_get("tree_size")?;
    let root: String = row.try_get("root_hash")?;
    let note: String = row.try_get("note")?;
    let created_at_ms: i64 = row.try_get("created_at_ms")?;
    let origin = note.lines().next().unwrap_or_default().to_owned();
    Ok(StoredCheckpoint {
        checkpoint: SignedCheckpoint {
            origin,
            size: size as u64,
            root: parse_hash(&root)?,
            note: note.into_bytes(),
        },
        created_at_ms,
    })
}

/// The payment ids a merchant order id (or a payment id itself) names, across merchants.
pub async fn payment_ids_for_order(pool: &AnyPool, order: &str) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT payment_id FROM payments WHERE merchant_order_id = $1 OR payment_id = $1 \
         ORDER BY created_at_ms LIMIT 100",
    )
    .bind(order)
    .fetch_all(pool)
    .await?;
    if !ids.is_empty() {
        return Ok(ids);
    }
    // Entries may name a payment the payments table does not hold (tests, other tools).
    let logged: Option<String> =
        sqlx::query_scalar("SELECT payment_id FROM audit_entries WHERE payment_id = $1 LIMIT 1")
            .bind(order)
            .fetch_optional(pool)
            .await?;
    Ok(logged.into_iter().collect())
}

/// Rule sets by version, if the routing engine's migration 0004 has created their table.
pub async fn rule_sets(pool: &AnyPool) -> Result<Option<Vec<RuleSetRow>>, StoreError> {
    let migrated: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = 4")
            .fetch_one(pool)
            .await?;
    if migrated == 0 {
        return Ok(None);
    }
    let rows = sqlx::query("SELECT version, canonical FROM rule_sets ORDER BY version")
        .fetch_all(pool)
        .await?;
    let sets = rows
        .iter()
        .map(|row| {
            Ok(RuleSetRow {
                version: row.try_get("version")?,
                canonical: row.try_get("canonical")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(sets))
}

fn parse_hash(text: &str) -> Result<Hash, StoreError> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash)
        .map_err(|_| corrupt("audit_hashes", "a hash is not 64 hex digits".into()))?;
    Ok(Hash(hash))
}

fn corrupt(table: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { table, detail }
}

/// Counts by table, for tests and the benchmark.
pub async fn row_counts(pool: &AnyPool) -> Result<BTreeMap<&'static str, i64>, StoreError> {
    let mut counts = BTreeMap::new();
    for table in ["audit_entries", "audit_hashes", "audit_checkpoints"] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(pool)
                .await?;
        counts.insert(table, n);
    }
    Ok(counts)
}

#[cfg(test)]
#[path = "audit_sql_tests.rs"]
mod tests;
