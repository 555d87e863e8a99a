//! `kakehashi bench-audit`: the audit log's figures on a real store. A benchmark, not a
//! test: it prints, and asserts only that every proof it timed verifies.
//!
//! 1. Builds a tree of `--entries` records quickly: stored hashes are computed in memory
//!    (tlog's own `stored_hashes`, keeping only the last node of each level) and
//!    bulk-inserted, thousands per statement. Those records get no `audit_entries` rows:
//!    proofs read stored hashes only. Use a throwaway database.
//! 2. Durable appends on top of it, through `audit_sql::append` as the switch does: each
//!    transaction committed (SQLite runs `synchronous=FULL`), batches of 1 and of 64.
//! 3. Inclusion proofs at that size for random indexes, through the same batched pool
//!    reader the auditor listener uses, each checked with `check_record`.
use std::time::Instant;

use rand::Rng;
use sqlx::AnyPool;
use tlog_tiles::{Error, Hash, HashReader, check_record, prove_record, stored_hash_index};

use super::entry::{AuditEntry, EntryKind};
use crate::store::SqlStore;
use crate::store::audit_sql::{self, with_hashes};

/// Stored hashes per bulk INSERT statement (two parameters each).
const BULK_ROWS: usize = 4_096;
/// Records per bulk transaction.
const BULK_RECORDS_PER_TX: u64 = 200_000;
const PROOFS: usize = 1_000;
const ENTRIES_MAX: u64 = 100_000_000;

/// The last stored hash of each tree level: all `stored_hashes` of the next record reads.
#[derive(Default)]
struct Frontier {
    latest: Vec<(u64, Hash)>,
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Error> {
        indexes
            .iter()
            .map(|i| {
                self.latest
                    .iter()
                    .find(|(index, _)| index == i)
                    .map(|(_, h)| *h)
                    .ok_or(Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Runs the benchmark on `store_url` (which must hold an empty audit log) and returns the
/// report to print.
pub async fn run(entries: u64, appends: u64, store_url: &str) -> Result<String, String> {
    if entries > ENTRIES_MAX {
        return Err(format!("--entries is at most {ENTRIES_MAX}"));
    }
    let store = SqlStore::connect(store_url)
        .await
        .map_err(|e| e.to_string())?;
    let pool = store.pool().clone();
    if audit_sql::tree_size(&pool)
        .await
        .map_err(|e| e.to_string())?
        != 0
    {
        return Err("the store's audit log is not empty: use a throwaway database".into());
    }
    let mut report = format!("store: {}\n", redact(store_url));
    let started = Instant::now();
    bulk_build(&pool, entries).await?;
    report.push_str(&format!(
        "built a tree of {entries} records in {:.1} s (bulk insert of stored hashes)\n",
        started.elapsed().as_secs_f64()
    ));
    for batch in [1u64, 64] {
        let transactions = (appends / batch).max(1);
        let rate = append_rate(&pool, batch, transactions).await?;
        report.push_str(&format!(
            "durable append, batches of {batch:>2}: {rate:>9.0} entries/s ({:.0} commits/s, \
             {transactions} commits)\n",
            rate / batch as f64
        ));
    }
    let size = audit_sql::tree_size(&pool)
        .await
        .map_err(|e| e.to_string())?;
    report.push_str(&proof_times(&pool, size).await?);
    Ok(report)
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((scheme_user, host)) => {
            let scheme = scheme_user.split("://").next().unwrap_or("");
            format!("{scheme}://…@{host}")
        }
        None => url.to_owned(),
    }
}

async fn bulk_build(pool: &AnyPool, entries: u64) -> Result<(), String> {
    let mut frontier = Frontier::default();
    let mut n = 0u64;
    while n < entries {
        let end = (n + BULK_RECORDS_PER_TX).min(entries);
        let mut rows = Vec::with_capacity(((end - n) * 2) as usize);
        for record in n..end {
            let hashes = tlog_tiles::stored_hashes(record, &record.to_be_bytes(), &frontier)
                .map_err(|e| e.to_string())?;
            let first = stored_hash_index(0, record);
            for (level, hash) in hashes.into_iter().enumerate() {
                let index = first + level as u64;
                if frontier.latest.len() <= level {
                    frontier.latest.push((index, hash));
                } else {
                    frontier.latest[level] = (index, hash);
                }
                rows.push((index, hash));
            }
        }
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        for chunk in rows.chunks(BULK_ROWS) {
            audit_sql::insert_hashes_bulk(&mut tx, chunk)
                .await
                .map_err(|e| e.to_string())?;
        }
        sqlx::query("UPDATE audit_head SET size = $1 WHERE id = 1")
            .bind(end as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        n = end;
    }
    Ok(())
}

async fn append_rate(pool: &AnyPool, batch: u64, transactions: u64) -> Result<f64, String> {
    let entries: Vec<AuditEntry> = (0..batch)
        .map(|i| AuditEntry {
            kind: EntryKind::parse(EntryKind::PAYMENT_TRANSITION).expect("a valid kind"),
            at_ms: 1_767_225_600_000 + i as i64,
            payment_id: Some(format!("bench-{i}")),
            merchant_id: Some("bench-merchant".into()),
            body: serde_json::json!({"from": "AUTHORIZING", "to": "SUCCEEDED", "code": "****1234"}),
        })
        .collect();
    let started = Instant::now();
    for _ in 0..transactions {
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        audit_sql::append(&mut tx, &entries)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok((transactions * batch) as f64 / started.elapsed().as_secs_f64())
}

async fn proof_times(pool: &AnyPool, size: u64) -> Result<String, String> {
    if size == 0 {
        return Ok("no entries: no proofs to time\n".into());
    }
    let root = with_hashes(pool, |r| tlog_tiles::tree_hash(size, r))
        .await
        .map_err(|e| e.to_string())?;
    let mut times_us = Vec::with_capacity(PROOFS);
    let (mut hashes_min, mut hashes_max) = (usize::MAX, 0);
    for _ in 0..PROOFS {
        let index = rand::rng().random_range(0..size);
        let started = Instant::now();
        let proof = with_hashes(pool, |r| prove_record(size, index, r))
            .await
            .map_err(|e| e.to_string())?;
        times_us.push(started.elapsed().as_secs_f64() * 1e6);
        let leaf = with_hashes(pool, |r| {
            r.read_hashes(&[stored_hash_index(0, index)])?
                .first()
                .copied()
                .ok_or(Error::IndexesNotInTree)
        })
        .await
        .map_err(|e| e.to_string())?;
        check_record(&proof, size, root, index, leaf)
            .map_err(|e| format!("proof of {index} does not verify: {e}"))?;
        hashes_min = hashes_min.min(proof.len());
        hashes_max = hashes_max.max(proof.len());
    }
    times_us.sort_by(f64::total_cmp);
    let mean = times_us.iter().sum::<f64>() / times_us.len() as f64;
    Ok(format!(
        "inclusion proof at {size} entries ({hashes_min}-{hashes_max} hashes, one SELECT): \
         mean {:.0} µs, p50 {:.0} µs, p99 {:.0} µs over {PROOFS} random indexes, all verified\n",
        mean,
        times_us[times_us.len() / 2],
        times_us[times_us.len() * 99 / 100]
    ))
}
