//! The checkpoint writer: signs the committed tree every `checkpoint_interval_ms`, or as
//! soon as `checkpoint_entries` entries arrived since the last checkpoint, or on demand.
//! Every checkpoint is kept. Replicas may all run one: they sign the same committed size to
//! the same bytes (Ed25519 is deterministic), so the store keeps one row per size.
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::Clock;
use sqlx::AnyPool;
use tokio::sync::{Notify, watch};

use super::checkpoint::{LogSigner, SignedCheckpoint};
use crate::store::StoreError;
use crate::store::audit_sql;

/// How often the writer looks at the log's size between checkpoints.
const POLL_INTERVAL_MS_MAX: u64 = 1_000;

/// The writer task's settings and handles; `run` consumes it.
#[derive(Debug, Clone)]
pub struct CheckpointWriter {
    pub pool: AnyPool,
    pub signer: Arc<LogSigner>,
    pub clock: Arc<dyn Clock>,
    pub interval_ms: u64,
    pub entries: u64,
    /// Notified to checkpoint at once (e.g. before an export).
    pub on_demand: Arc<Notify>,
}

// === impl CheckpointWriter ===

impl CheckpointWriter {
    /// Runs until `shutdown` turns true; store errors are logged and retried next tick.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.interval_ms.clamp(10, POLL_INTERVAL_MS_MAX));
        let mut last_at_ms = self.clock.now_ms();
        loop {
            let forced = tokio::select! {
                _ = tokio::time::sleep(poll) => false,
                _ = self.on_demand.notified() => true,
                _ = shutdown.changed() => return,
            };
            let now_ms = self.clock.now_ms();
            let due_by_time = now_ms.saturating_sub(last_at_ms) >= self.interval_ms as i64;
            match self.tick(forced || due_by_time).await {
                Ok(Some(checkpoint)) => {
                    last_at_ms = now_ms;
                    tracing::debug!(size = checkpoint.size, "Audit checkpoint signed");
                }
                Ok(None) => {
                    if due_by_time {
                        last_at_ms = now_ms;
                    }
                }
                Err(error) => tracing::warn!(%error, "Audit checkpoint failed; retrying"),
            }
        }
    }

    /// Signs a checkpoint if the log grew and either `due` or enough entries arrived.
    async fn tick(&self, due: bool) -> Result<Option<SignedCheckpoint>, StoreError> {
        let size = audit_sql::tree_size(&self.pool).await?;
        let kept = audit_sql::latest_checkpoint(&self.pool)
            .await?
            .map_or(0, |c| c.checkpoint.size);
        let grown = size.saturating_sub(kept);
        if grown == 0 || (!due && grown < self.entries) {
            return Ok(None);
        }
        checkpoint_now(&self.pool, &self.signer, self.clock.now_ms()).await
    }
}

/// Signs and keeps a checkpoint of the committed log, unless one of that size exists (or the
/// log is empty). Returns the new checkpoint.
pub async fn checkpoint_now(
    pool: &AnyPool,
    signer: &LogSigner,
    now_ms: i64,
) -> Result<Option<SignedCheckpoint>, StoreError> {
    let size = audit_sql::tree_size(pool).await?;
    if size == 0 || audit_sql::checkpoint_at(pool, size).await?.is_some() {
        return Ok(None);
    }
    let root = audit_sql::with_hashes(pool, |r| tlog_tiles::tree_hash(size, r)).await?;
    let checkpoint = signer.sign(size, root).map_err(|e| StoreError::Corrupt {
        table: "audit_checkpoints",
        detail: e.to_string(),
    })?;
    audit_sql::insert_checkpoint(pool, &checkpoint, now_ms).await?;
    Ok(Some(checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::checkpoint::keygen;
    use crate::audit::{AuditEntry, EntryKind};
    use crate::store::SqlStore;
    use kakehashi_adapter_core::SystemClock;

    async fn append(pool: &AnyPool, count: usize) {
        let entries: Vec<AuditEntry> = (0..count)
            .map(|i| AuditEntry {
                kind: EntryKind::parse(EntryKind::RULE_SET_ACTIVATED).unwrap(),
                at_ms: i as i64,
                payment_id: None,
                merchant_id: None,
                body: serde_json::json!({"rule_set_version": "v1"}),
            })
            .collect();
        let mut tx = pool.begin().await.unwrap();
        audit_sql::append(&mut tx, &entries).await.unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_checkpoint_waits_for_enough_entries_unless_it_is_due() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let pool = SqlStore::connect(&url).await.unwrap().pool().clone();
        let origin = "kakehashi.example/audit/writer";
        let (private, _) = keygen(origin).unwrap();
        let writer = CheckpointWriter {
            pool: pool.clone(),
            signer: Arc::new(LogSigner::from_key(&private, origin).unwrap()),
            clock: Arc::new(SystemClock),
            interval_ms: 3_600_000,
            entries: 10,
            on_demand: Arc::new(Notify::new()),
        };
        assert!(writer.tick(true).await.unwrap().is_none(), "an empty log");
        append(&pool, 5).await;
        assert!(
            writer.tick(false).await.unwrap().is_none(),
            "5 of 10 entries"
        );
        append(&pool, 5).await;
        assert_eq!(writer.tick(false).await.unwrap().unwrap().size, 10);
        append(&pool, 2).await;
        assert!(writer.tick(false).await.unwrap().is_none());
        assert_eq!(
            writer.tick(true).await.unwrap().unwrap().size,
            12,
            "due by time"
        );
        assert!(writer.tick(true).await.unwrap().is_none(), "nothing new");
        let kept = audit_sql::checkpoints(&pool, 0).await.unwrap();
        assert_eq!(
            kept.iter().map(|c| c.checkpoint.size).collect::<Vec<_>>(),
            [10, 12]
        );
    }
}
