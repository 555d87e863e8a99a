//! Group commit: concurrent writes share one durable transaction. A single writer task
//! takes every write queued while the previous commit was on disk, runs each inside its
//! own savepoint of one transaction, commits once, and only then answers each caller.
//! One fsync (SQLite) or one commit round trip (PostgreSQL) then carries up to
//! [`BATCH_MAX`] payments. The audit log joins the batch too: each write hands its entries
//! to the batch's [`AuditLater`], and the writer appends the kept ones in one append just
//! before the commit, so the log's head row is updated, its hashes read and written, once
//! per batch instead of once per write (and on PostgreSQL its lock is held only from there
//! to the commit).
//!
//! What each caller is promised is unchanged: its writes are all or nothing (its
//! savepoint), and it hears success only after the commit that holds them is durable. A
//! write that fails, or that asks to be undone, is rolled back to its savepoint without
//! touching the others; if the commit itself fails, every write of the batch fails and
//! nothing of it is stored. No batch waits for company: a lone write commits at once, so
//! batching adds no latency, only takes what queued up meanwhile.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::BoxFuture;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use crate::audit::entry::{AuditEntry, EncodedEntry};
use crate::audit::limits::APPEND_BATCH_MAX;

/// Writes in one transaction at most.
pub const BATCH_MAX: usize = 64;
/// Writes waiting for the writer at most; callers beyond wait to queue.
pub const QUEUE_MAX: usize = 1_024;

/// The transaction a batched write runs in.
pub type Tx = Transaction<'static, Any>;

/// What a batched write decides about its own writes.
pub enum Keep<T> {
    /// Keep them; `T` is the caller's answer once they are durable.
    Commit(T),
    /// Roll them back (e.g. a key turned out to be taken); `T` is the caller's answer.
    Undo(T),
}

/// The audit entries a batch's writes log, appended once for the whole batch just before
/// its commit, in the order the writes ran. A write that is undone or fails takes its
/// entries back with it; if the append fails, the batch fails and nothing of it is stored.
#[derive(Default)]
pub struct AuditLater {
    entries: Vec<EncodedEntry>,
}

impl AuditLater {
    /// Encodes `entries` now (so an entry the encoder refuses fails this write, not the
    /// batch) and keeps them for the batch's append.
    pub fn log(&mut self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        for entry in entries {
            self.entries.push(super::audit_sql::encode(entry)?);
        }
        Ok(())
    }

    fn mark(&self) -> usize {
        self.entries.len()
    }

    fn take_back(&mut self, mark: usize) {
        self.entries.truncate(mark);
    }
}

type Deliver = Box<dyn FnOnce(Result<(), Arc<str>>) + Send>;
type Job = Box<
    dyn for<'t> FnOnce(Option<(&'t mut Tx, &'t mut AuditLater)>) -> BoxFuture<'t, (bool, Deliver)>
        + Send,
>;

/// The queue to the store's one writer task.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// What the writer did, for benchmarks and tests: writes per commit is the batching.
#[derive(Debug, Default)]
pub struct Stats {
    writes: AtomicU64,
    commits: AtomicU64,
}

impl Stats {
    /// Writes run and transactions committed so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.writes.load(Ordering::Relaxed),
            self.commits.load(Ordering::Relaxed),
        )
    }
}

// === impl GroupCommit ===

impl GroupCommit {
    /// Starts the writer task on the current runtime; it stops when the last handle drops.
    pub fn start(pool: AnyPool) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE_MAX);
        let stats = Arc::new(Stats::default());
        tokio::spawn(writer(pool, jobs, Arc::clone(&stats)));
        Self { queue, stats }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Runs `write` in the next batch and returns its answer once the batch is durable
    /// (or, for [`Keep::Undo`], once its writes are rolled back). What it logs goes to the
    /// batch's [`AuditLater`], not straight to the log.
    pub async fn run<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(
                &'t mut Tx,
                &'t mut AuditLater,
            ) -> BoxFuture<'t, Result<Keep<T>, StoreError>>
            + Send
            + 'static,
    {
        let (answer_tx, answer_rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |batch: Option<(&mut Tx, &mut AuditLater)>| {
            Box::pin(async move {
                let result = match batch {
                    Some((tx, log)) => write(tx, log).await,
                    None => Err(StoreError::Batch(
                        "the store's transaction could not start".into(),
                    )),
                };
                let keep = matches!(result, Ok(Keep::Commit(_)));
                let deliver: Deliver = Box::new(move |commit: Result<(), Arc<str>>| {
                    let answer = match (result, commit) {
                        (Ok(Keep::Commit(_)), Err(e)) => Err(StoreError::Batch(e.to_string())),
                        (Ok(Keep::Commit(v) | Keep::Undo(v)), _) => Ok(v),
                        (Err(e), _) => Err(e),
                    };
                    let _ = answer_tx.send(answer);
                });
                (keep, deliver)
            })
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| StoreError::Batch("the store's writer has stopped".into()))?;
        answer_rx
            .await
            .map_err(|_| StoreError::Batch("the store's writer stopped mid-batch".into()))?
    }
}

async fn writer(pool: AnyPool, mut jobs: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    while jobs.recv_many(&mut batch, BATCH_MAX).await > 0 {
        stats
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        if run_batch(&pool, &mut batch).await {
            stats.commits.fetch_add(1, Ordering::Relaxed);
        }
        debug_assert!(batch.is_empty());
    }
}

/// Runs and commits one batch, then answers every job in it; `true` if it committed.
async fn run_batch(pool: &AnyPool, batch: &mut Vec<Job>) -> bool {
    let mut delivers = Vec::with_capacity(batch.len());
    let mut tx = match pool.begin().await {
        Ok(tx) => {
            super::stats::transaction_begun();
            tx
        }
        Err(e) => {
            let why: Arc<str> = format!("begin: {e}").into();
            for job in batch.drain(..) {
                let (_, deliver) = job(None).await;
                delivers.push(deliver);
            }
            for deliver in delivers {
                deliver(Err(why.clone()));
            }
            return false;
        }
    };
    let alone = batch.len() == 1;
    let mut broken: Option<Arc<str>> = None;
    let mut kept = 0;
    let mut log = AuditLater::default();
    for job in batch.drain(..) {
        if broken.is_some() {
            let (_, deliver) = job(None).await;
            delivers.push(deliver);
            continue;
        }
        let mark = log.mark();
        if alone {
            let (keep, deliver) = job(Some((&mut tx, &mut log))).await;
            kept += usize::from(keep);
            if !keep {
                log.take_back(mark);
            }
            delivers.push(deliver);
            continue;
        }
        if let Err(e) = sqlx::query("SAVEPOINT batched").execute(&mut *tx).await {
            broken = Some(format!("savepoint: {e}").into());
            let (_, deliver) = job(None).await;
            delivers.push(deliver);
            continue;
        }
        let (keep, deliver) = job(Some((&mut tx, &mut log))).await;
        delivers.push(deliver);
        let end = if keep {
            kept += 1;
            "RELEASE SAVEPOINT batched"
        } else {
            log.take_back(mark);
            "ROLLBACK TO SAVEPOINT batched"
        };
        let mut ended = sqlx::query(end).execute(&mut *tx).await.map(|_| ());
        if !keep && ended.is_ok() {
            ended = sqlx::query("RELEASE SAVEPOINT batched")
                .execute(&mut *tx)
                .await
                .map(|_| ());
        }
        if let Err(e) = ended {
            broken = Some(format!("savepoint end: {e}").into());
        }
    }
    if broken.is_none() && kept > 0 {
        // The log last, just before the commit: from its head row's update on, this
        // transaction serialises every writer of the log.
        for chunk in log.entries.chunks(APPEND_BATCH_MAX) {
            if let Err(e) = super::audit_sql::append_encoded(&mut tx, chunk).await {
                broken = Some(format!("audit append: {e}").into());
                break;
            }
        }
    }
    let committing = broken.is_none() && !(alone && kept == 0);
    let outcome: Result<(), Arc<str>> = match broken {
        Some(why) => {
            let _ = tx.rollback().await;
            Err(why)
        }
        // A lone write that asked to be undone: nothing of it may be committed.
        None if alone && kept == 0 => tx
            .rollback()
            .await
            .map_err(|e| Arc::from(format!("rollback: {e}"))),
        None => tx
            .commit()
            .await
            .map_err(|e| Arc::from(format!("commit: {e}"))),
    };
    let committed = committing && outcome.is_ok();
    if committed {
        super::stats::committed();
    }
    for deliver in delivers {
        deliver(outcome.clone());
    }
    committed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SqlStore, Store};

    async fn store() -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("group.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE kv (k TEXT PRIMARY KEY)")
            .execute(store.pool())
            .await
            .unwrap();
        (dir, store)
    }

    /// Inserts `k`; `then` decides what the write does after its insert.
    fn insert(
        group: &GroupCommit,
        k: String,
        then: &'static str,
    ) -> impl std::future::Future<Output = Result<String, StoreError>> + use<> {
        let group = group.clone();
        async move {
            group
                .run(move |tx, log| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO kv (k) VALUES ($1)")
                            .bind(&k)
                            .execute(&mut **tx)
                            .await?;
                        log.log(&[logged(&k)])?;
                        match then {
                            "undo" => Ok(Keep::Undo(k)),
                            "fail" => Err(StoreError::Conflict),
                            "duplicate" => {
                                // A statement the database refuses, mid-write.
                                sqlx::query("INSERT INTO kv (k) VALUES ($1)")
                                    .bind(&k)
                                    .execute(&mut **tx)
                                    .await?;
                                Ok(Keep::Commit(k))
                            }
                            _ => Ok(Keep::Commit(k)),
                        }
                    })
                })
                .await
        }
    }

    /// The entry a test write logs: its key as the payment id.
    fn logged(k: &str) -> AuditEntry {
        AuditEntry {
            kind: crate::audit::entry::EntryKind::parse("test_write").unwrap(),
            at_ms: 1,
            payment_id: Some(k.to_owned()),
            merchant_id: None,
            body: serde_json::json!({ "k": k }),
        }
    }

    /// The keys of the logged entries, in log order.
    async fn logged_keys(store: &SqlStore) -> Vec<String> {
        let size = crate::store::audit_sql::tree_size(store.pool())
            .await
            .unwrap();
        let mut keys = Vec::new();
        let mut start = 0;
        while start < size {
            let page = crate::store::audit_sql::entries_range(store.pool(), start, size)
                .await
                .unwrap();
            start += page.len() as u64;
            keys.extend(page.into_iter().map(|e| e.payment_id.unwrap()));
        }
        keys
    }

    async fn stored(store: &SqlStore) -> Vec<String> {
        sqlx::query_scalar("SELECT k FROM kv ORDER BY k")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_each_is_all_or_nothing() {
        let (_dir, store) = store().await;
        let group = Store::group(&store).clone();
        let mut tasks = Vec::new();
        for i in 0..300 {
            let then = match i % 10 {
                3 => "undo",
                5 => "fail",
                7 => "duplicate",
                _ => "commit",
            };
            tasks.push(tokio::spawn(insert(&group, format!("k{i:03}"), then)));
        }
        let mut want = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let answer = task.await.unwrap();
            match i % 10 {
                3 => assert_eq!(answer.unwrap(), format!("k{i:03}")),
                5 => assert!(matches!(answer, Err(StoreError::Conflict))),
                7 => assert!(matches!(answer, Err(StoreError::Database(_)))),
                _ => {
                    assert_eq!(answer.unwrap(), format!("k{i:03}"));
                    want.push(format!("k{i:03}"));
                }
            }
        }
        // Every kept write is stored, and nothing of an undone or failed one; the log
        // holds exactly the kept writes' entries, each once.
        assert_eq!(stored(&store).await, want);
        let mut keys = logged_keys(&store).await;
        keys.sort();
        assert_eq!(keys, want);
        let (writes, commits) = group.stats().snapshot();
        assert_eq!(writes, 300);
        assert!(
            commits < 300,
            "{commits} commits for 300 writes: nothing was batched"
        );
    }

    #[tokio::test]
    async fn a_lone_write_that_is_undone_leaves_nothing() {
        let (_dir, store) = store().await;
        let group = Store::group(&store).clone();
        assert_eq!(insert(&group, "a".into(), "undo").await.unwrap(), "a");
        assert!(insert(&group, "b".into(), "fail").await.is_err());
        assert_eq!(insert(&group, "c".into(), "commit").await.unwrap(), "c");
        assert_eq!(stored(&store).await, ["c"]);
        assert_eq!(logged_keys(&store).await, ["c"]);
    }

    #[tokio::test]
    async fn a_write_hears_nothing_before_its_commit() {
        let (_dir, store) = store().await;
        let group = Store::group(&store).clone();
        insert(&group, "x".into(), "commit").await.unwrap();
        // Answered means committed: a fresh connection sees it at once.
        let other = SqlStore::connect(&format!(
            "sqlite://{}",
            _dir.path().join("group.db").display()
        ))
        .await
        .unwrap();
        assert_eq!(stored(&other).await, ["x"]);
    }
}
