//! `kakehashi.v1.AuditService`: read-only, and only what the latest checkpoint covers, so
//! every entry an auditor is shown can be proven against a signed tree.
use std::pin::Pin;

use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::audit_service_server::AuditService;
use sqlx::AnyPool;
use tlog_tiles::{prove_record, prove_tree};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::reason::{AuditReason, internal};
use crate::audit::config::AuditLimits;
use crate::audit::entry::leaf_hash;
use crate::store::audit_sql::{self, StoredCheckpoint, StoredEntry, with_hashes};

/// Pages an export stream may have queued for a slow reader.
const EXPORT_QUEUE_PAGES: usize = 4;
const PAYMENT_ID_LENGTH_MAX: usize = 128;

#[derive(Debug, Clone)]
pub struct AuditApi {
    pool: AnyPool,
    limits: AuditLimits,
}

type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportPeriodResponse, Status>> + Send>>;

// === impl AuditApi ===

impl AuditApi {
    pub fn new(pool: AnyPool, limits: AuditLimits) -> Self {
        Self { pool, limits }
    }

    async fn latest(&self) -> Result<StoredCheckpoint, Status> {
        audit_sql::latest_checkpoint(&self.pool)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                AuditReason::CheckpointNotFound.status("the log has no checkpoint yet", &[])
            })
    }

    /// The latest checkpoint for 0, else the kept one of that size.
    async fn checkpoint(&self, tree_size: u64) -> Result<StoredCheckpoint, Status> {
        if tree_size == 0 {
            return self.latest().await;
        }
        audit_sql::checkpoint_at(&self.pool, tree_size)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                AuditReason::CheckpointNotFound.status(
                    format!("no checkpoint of tree size {tree_size} was kept"),
                    &[("treeSize", tree_size.to_string())],
                )
            })
    }

    /// One page of `entries` (fetched with one row to spare, to know whether more follow),
    /// keeping those below `size`; the next page's start, or 0 when none follows.
    fn page(&self, entries: Vec<StoredEntry>, size: u64) -> (Vec<pb::LogEntry>, u64) {
        let page_max = self.limits.page_entries_max;
        let more = entries.len() > page_max && entries[page_max].index < size;
        let next = if more { entries[page_max].index } else { 0 };
        let list = entries
            .iter()
            .take(page_max)
            .filter(|e| e.index < size)
            .map(log_entry)
            .collect();
        (list, next)
    }
}

fn log_entry(e: &StoredEntry) -> pb::LogEntry {
    pb::LogEntry {
        index: e.index,
        kind: e.kind.clone(),
        at_ms: e.at_ms,
        payment_id: e.payment_id.clone().unwrap_or_default(),
        merchant_id: e.merchant_id.clone().unwrap_or_default(),
        entry: e.bytes.clone(),
        leaf_hash: leaf_hash(&e.bytes).0.to_vec(),
    }
}

fn pb_checkpoint(c: &StoredCheckpoint) -> pb::Checkpoint {
    pb::Checkpoint {
        origin: c.checkpoint.origin.clone(),
        tree_size: c.checkpoint.size,
        root_hash: c.checkpoint.root.0.to_vec(),
        note: c.checkpoint.note.clone(),
        created_at_ms: c.created_at_ms,
    }
}

fn check_period(start: i64, end: i64) -> Result<(), Status> {
    if start >= end {
        return Err(AuditReason::RangeInvalid.invalid(
            "end_time_ms",
            "the period is empty: end_time_ms must be after start_time_ms",
        ));
    }
    Ok(())
}

fn not_in_tree(what: &str, value: u64, size: u64) -> Status {
    AuditReason::NotInTree.status(
        format!("{what} {value} is beyond the checkpoint's tree of size {size}"),
        &[("treeSize", size.to_string())],
    )
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        let c = self.checkpoint(request.into_inner().tree_size).await?;
        Ok(Response::new(pb::GetCheckpointResponse {
            checkpoint: Some(pb_checkpoint(&c)),
        }))
    }

    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let r = request.into_inner();
        let size = self.latest().await?.checkpoint.size;
        let end = if r.end_index == 0 { size } else { r.end_index };
        if end > size {
            return Err(not_in_tree("end_index", end, size));
        }
        if r.start_index > end {
            return Err(
                AuditReason::RangeInvalid.invalid("start_index", "start_index is after end_index")
            );
        }
        let page_end = end.min(r.start_index + self.limits.page_entries_max as u64);
        let entries = audit_sql::entries_range(&self.pool, r.start_index, page_end)
            .await
            .map_err(internal)?;
        let next_index = r.start_index + entries.len() as u64;
        Ok(Response::new(pb::ListEntriesResponse {
            entries: entries.iter().map(log_entry).collect(),
            next_index,
        }))
    }

    async fn list_payment_entries(
        &self,
        request: Request<pb::ListPaymentEntriesRequest>,
    ) -> Result<Response<pb::ListPaymentEntriesResponse>, Status> {
        let r = request.into_inner();
        let id = r.payment_id.as_str();
        if id.is_empty() || id.len() > PAYMENT_ID_LENGTH_MAX || id.chars().any(char::is_control) {
            return Err(AuditReason::PaymentIdFormat.invalid(
                "payment_id",
                "must be 1..=128 characters without control characters",
            ));
        }
        let size = self.latest().await?.checkpoint.size;
        let entries = audit_sql::entries_for_payment(
            &self.pool,
            id,
            r.start_index,
            self.limits.page_entries_max + 1,
        )
        .await
        .map_err(internal)?;
        let (entries, next_index) = self.page(entries, size);
        Ok(Response::new(pb::ListPaymentEntriesResponse {
            entries,
            next_index,
        }))
    }

    async fn list_period_entries(
        &self,
        request: Request<pb::ListPeriodEntriesRequest>,
    ) -> Result<Response<pb::ListPeriodEntriesResponse>, Status> {
        let r = request.into_inner();
        check_period(r.start_time_ms, r.end_time_ms)?;
        let size = self.latest().await?.checkpoint.size;
        let entries = audit_sql::entries_in_period(
            &self.pool,
            r.start_time_ms,
            r.end_time_ms,
            r.start_index,
            self.limits.page_entries_max + 1,
        )
        .await
        .map_err(internal)?;
        let (entries, next_index) = self.page(entries, size);
        Ok(Response::new(pb::ListPeriodEntriesResponse {
            entries,
            next_index,
        }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        let r = request.into_inner();
        let c = self.checkpoint(r.tree_size).await?;
        let size = c.checkpoint.size;
        if r.index >= size {
            return Err(not_in_tree("index", r.index, size));
        }
        let entry = audit_sql::entries_range(&self.pool, r.index, r.index + 1)
            .await
            .map_err(internal)?;
        let entry = entry
            .first()
            .ok_or_else(|| internal(format!("entry {} missing", r.index)))?;
        let proof = with_hashes(&self.pool, |h| prove_record(size, r.index, h))
            .await
            .map_err(internal)?;
        Ok(Response::new(pb::GetInclusionProofResponse {
            index: r.index,
            leaf_hash: leaf_hash(&entry.bytes).0.to_vec(),
            proof: proof.iter().map(|h| h.0.to_vec()).collect(),
            checkpoint: Some(pb_checkpoint(&c)),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        let r = request.into_inner();
        let latest = self.latest().await?.checkpoint.size;
        let second = if r.second_size == 0 {
            latest
        } else {
            r.second_size
        };
        if second > latest {
            return Err(not_in_tree("second_size", second, latest));
        }
        if r.first_size == 0 || r.first_size > second {
            return Err(AuditReason::RangeInvalid
                .invalid("first_size", "first_size must be between 1 and second_size"));
        }
        let proof = with_hashes(&self.pool, |h| prove_tree(second, r.first_size, h))
            .await
            .map_err(internal)?;
        Ok(Response::new(pb::GetConsistencyProofResponse {
            first_size: r.first_size,
            second_size: second,
            proof: proof.iter().map(|h| h.0.to_vec()).collect(),
        }))
    }

    type ExportPeriodStream = ExportStream;

    async fn export_period(
        &self,
        request: Request<pb::ExportPeriodRequest>,
    ) -> Result<Response<Self::ExportPeriodStream>, Status> {
        let r = request.into_inner();
        check_period(r.start_time_ms, r.end_time_ms)?;
        let latest = self.latest().await?;
        let (tx, rx) = tokio::sync::mpsc::channel(EXPORT_QUEUE_PAGES);
        let api = self.clone();
        tokio::spawn(async move {
            let size = latest.checkpoint.size;
            let mut first = Some(pb_checkpoint(&latest));
            let mut after = 0u64;
            let mut sent = 0u64;
            // Each page advances `after` past its last index, so this ends within
            // size / page_entries_max pages.
            while after < size {
                let page = match audit_sql::entries_in_period(
                    &api.pool,
                    r.start_time_ms,
                    r.end_time_ms,
                    after,
                    api.limits.page_entries_max,
                )
                .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                };
                let entries: Vec<pb::LogEntry> = page
                    .iter()
                    .filter(|e| e.index < size)
                    .map(log_entry)
                    .collect();
                let done = entries.len() < page.len() || page.len() < api.limits.page_entries_max;
                sent += entries.len() as u64;
                if sent > api.limits.export_entries_max {
                    let status = AuditReason::ExportTooLarge.status(
                        format!(
                            "the period holds more than {} entries; export a shorter one",
                            api.limits.export_entries_max
                        ),
                        &[],
                    );
                    let _ = tx.send(Err(status)).await;
                    return;
                }
                after = page.last().map_or(size, |e| e.index + 1);
                if (!entries.is_empty() || first.is_some())
                    && tx
                        .send(Ok(pb::ExportPeriodResponse {
                            checkpoint: first.take(),
                            entries,
                        }))
                        .await
                        .is_err()
                {
                    return;
                }
                if done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
