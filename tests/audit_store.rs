//! The audit log's storage on real SQLite and PostgreSQL: entries appended inside the
//! caller's transaction, one gapless global order that is the commit order even with
//! several appenders at once, and a tree that re-verifies from the entries alone.
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kakehashi::audit::entry::leaf_hash;
use kakehashi::audit::tree::MemoryHashes;
use kakehashi::audit::{AuditEntry, EntryKind};
use kakehashi::store::SqlStore;
use kakehashi::store::audit_sql::{self, with_hashes};
use serde_json::json;
use sqlx::AnyPool;

fn transition(payment: &str, seq: i64, at_ms: i64) -> AuditEntry {
    AuditEntry {
        kind: EntryKind::parse(EntryKind::PAYMENT_TRANSITION).unwrap(),
        at_ms,
        payment_id: Some(payment.to_owned()),
        merchant_id: Some("shinjuku-ramen".to_owned()),
        body: json!({"seq": seq, "from": "AUTHORIZING", "to": "SUCCEEDED", "code": "****1234"}),
    }
}

async fn sqlite_pool(dir: &tempfile::TempDir) -> AnyPool {
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    SqlStore::connect(&url).await.unwrap().pool().clone()
}

/// Every stored hash and the root re-derived from the entries alone.
async fn assert_tree_matches_entries(pool: &AnyPool) -> u64 {
    let size = audit_sql::tree_size(pool).await.unwrap();
    let mut memory = MemoryHashes::default();
    let mut next = 0;
    while next < size {
        let page = audit_sql::entries_range(pool, next, size).await.unwrap();
        assert!(!page.is_empty(), "entries stop at {next} of {size}");
        for e in page {
            assert_eq!(e.index, next, "gap or repeat in the entry indexes");
            memory.push(leaf_hash(&e.bytes)).unwrap();
            next += 1;
        }
    }
    let stored = with_hashes(pool, |r| tlog_tiles::tree_hash(size, r))
        .await
        .unwrap();
    assert_eq!(stored, tlog_tiles::tree_hash(size, &memory).unwrap());
    let counts = audit_sql::row_counts(pool).await.unwrap();
    assert_eq!(counts["audit_entries"] as u64, size);
    assert_eq!(
        counts["audit_hashes"] as u64,
        tlog_tiles::stored_hash_count(size)
    );
    size
}

async fn append_committed(pool: &AnyPool, entries: &[AuditEntry]) -> Vec<u64> {
    let mut tx = pool.begin().await.unwrap();
    let indexes = audit_sql::append(&mut tx, entries).await.unwrap();
    tx.commit().await.unwrap();
    indexes
}

async fn appends_read_back_by_index_payment_and_period(pool: &AnyPool) {
    let first = append_committed(pool, &[transition("pay-1", 1, 1_000)]).await;
    assert_eq!(first, [0]);
    let batch: Vec<AuditEntry> = (0..64).map(|i| transition("pay-2", i, 2_000 + i)).collect();
    let second = append_committed(pool, &batch).await;
    assert_eq!(second, (1..65).collect::<Vec<u64>>());
    // A rolled-back append leaves nothing behind: no entry, no hash, no head change.
    let mut tx = pool.begin().await.unwrap();
    audit_sql::append(&mut tx, &[transition("pay-3", 1, 3_000)])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(assert_tree_matches_entries(pool).await, 65);

    let pay1 = audit_sql::entries_for_payment(pool, "pay-1", 0, 100)
        .await
        .unwrap();
    assert_eq!(pay1.len(), 1);
    assert_eq!(
        AuditEntry::decode(&pay1[0].bytes).unwrap(),
        transition("pay-1", 1, 1_000)
    );
    let period = audit_sql::entries_in_period(pool, 2_010, 2_020, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        period.iter().map(|e| e.index).collect::<Vec<_>>(),
        (11..21).collect::<Vec<_>>()
    );
    let next = append_committed(pool, &[transition("pay-3", 1, 3_000)]).await;
    assert_eq!(next, [65], "the rolled-back index is taken again: no gap");
}

#[tokio::test]
async fn sqlite_appends_in_the_callers_transaction_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlite_pool(&dir).await;
    appends_read_back_by_index_payment_and_period(&pool).await;
}

#[tokio::test]
async fn postgres_appends_in_the_callers_transaction_and_reads_back() {
    let Some(url) = support::postgres::fresh_database("audit_store").await else {
        return;
    };
    let pool = SqlStore::connect(&url).await.unwrap().pool().clone();
    appends_read_back_by_index_payment_and_period(&pool).await;
}

#[tokio::test]
async fn a_refused_entry_fails_the_append_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlite_pool(&dir).await;
    let mut leaky = transition("pay-1", 1, 1_000);
    leaky.body = json!({"code": "281234567890123456"});
    let mut tx = pool.begin().await.unwrap();
    let err = audit_sql::append(&mut tx, &[leaky]).await.unwrap_err();
    assert!(err.to_string().contains("mask codes"), "{err}");
    assert!(!err.to_string().contains("28123456"), "{err}");
    drop(tx);
    assert_eq!(assert_tree_matches_entries(&pool).await, 0);
}

/// Several appenders on their own connections while an observer checks, in single-statement
/// snapshots, that the committed entries are always exactly `0..head.size`: an index is
/// never visible before every smaller one, which is what "index order = commit order" means
/// to a reader.
async fn concurrent_appenders_commit_in_index_order(pool: AnyPool, writers: usize, rounds: usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let pool = pool.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut observations = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (head, count, end): (i64, i64, i64) = sqlx::query_as(
                    "SELECT (SELECT size FROM audit_head WHERE id = 1), \
                     (SELECT COUNT(*) FROM audit_entries), \
                     (SELECT COALESCE(MAX(entry_index) + 1, 0) FROM audit_entries)",
                )
                .fetch_one(&pool)
                .await
                .unwrap();
                assert_eq!(count, end, "a hole in the committed entries");
                assert_eq!(head, count, "the head is not the committed size");
                observations += 1;
                tokio::task::yield_now().await;
            }
            observations
        })
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for round in 0..rounds {
                let batch: Vec<AuditEntry> = (0..(round % 3 + 1))
                    .map(|k| transition(&format!("pay-{w}-{round}"), k as i64, 10 + round as i64))
                    .collect();
                mine.extend(append_committed(&pool, &batch).await);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let observations = observer.await.unwrap();
    assert!(observations > 0);
    all.sort_unstable();
    let expected: Vec<u64> = (0..all.len() as u64).collect();
    assert_eq!(all, expected, "indexes are not gapless and unique");
    assert_eq!(assert_tree_matches_entries(&pool).await, all.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_appenders_keep_one_gapless_order() {
    let Some(url) = support::postgres::fresh_database("audit_concurrent").await else {
        return;
    };
    let pool = SqlStore::connect(&url).await.unwrap().pool().clone();
    concurrent_appenders_commit_in_index_order(pool, 6, 40).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_appenders_keep_one_gapless_order() {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlite_pool(&dir).await;
    concurrent_appenders_commit_in_index_order(pool, 3, 30).await;
}
