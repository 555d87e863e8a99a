//! The log against the books: every stored payment has its routing decision and one entry
//! per transition, every refund its creation and its settlement, and no entry describes a
//! change the store does not hold (a refused decision, which stores nothing, excepted).
//! Since entries are written in the transaction of their change, a crash at any point must
//! leave this check empty; the soak and the crash tests run it after every storm.
use std::collections::BTreeSet;

use sqlx::Row;

use super::entry::{AuditEntry, EntryKind};
use crate::domain::{PaymentRecord, RefundState};
use crate::routing::rules::Decision;
use crate::store::audit_sql::{self, StoredEntry};
use crate::store::{SqlStore, Store, StoreError};

/// Payments read per page.
const PAGE: i64 = 500;
/// Entries one payment may have in the log before the check calls it runaway.
const ENTRIES_PER_PAYMENT_MAX: usize = 1_000;
/// Problems reported in full; the check stops looking after this many.
const PROBLEMS_MAX: usize = 100;
/// Entries naming payments the store does not hold, read at most.
const ORPHANS_MAX: i64 = 100_000;

/// What a payment's entries say happened, to compare with what its rows say.
#[derive(Default)]
struct Logged {
    decisions_routed: usize,
    decisions_refused: usize,
    transitions: BTreeSet<(i64, Option<String>, String)>,
    refunds: BTreeSet<(String, Option<String>, String)>,
}

/// Every disagreement between the log and the store, in words; empty when they agree.
pub async fn check(store: &SqlStore) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let mut after = String::new();
    'pages: loop {
        let page = store.payments_page(&after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.payment_id.clone();
        for p in &page {
            check_payment(store, p, &mut problems).await?;
            if problems.len() >= PROBLEMS_MAX {
                break 'pages;
            }
        }
    }
    check_orphans(store, &mut problems).await?;
    problems.truncate(PROBLEMS_MAX);
    Ok(problems)
}

async fn check_payment(
    store: &SqlStore,
    p: &PaymentRecord,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let id = &p.payment_id;
    let entries =
        audit_sql::entries_for_payment(store.pool(), id, 0, ENTRIES_PER_PAYMENT_MAX).await?;
    let logged = match read_logged(&entries) {
        Ok(logged) => logged,
        Err(why) => {
            problems.push(format!("{id}: {why}"));
            return Ok(());
        }
    };
    if logged.decisions_routed != 1 || logged.decisions_refused != 0 {
        problems.push(format!(
            "{id}: stored with {} routed and {} refused decisions logged (want 1 routed)",
            logged.decisions_routed, logged.decisions_refused
        ));
    }
    let stored: BTreeSet<_> = store
        .transitions(id)
        .await?
        .into_iter()
        .map(|t| {
            (
                t.seq,
                t.from.map(|s| s.as_str().to_owned()),
                t.to.as_str().to_owned(),
            )
        })
        .collect();
    for t in stored.difference(&logged.transitions) {
        problems.push(format!("{id}: transition {t:?} stored but not logged"));
    }
    for t in logged.transitions.difference(&stored) {
        problems.push(format!("{id}: transition {t:?} logged but not stored"));
    }
    let mut refunds = BTreeSet::new();
    for r in store.refunds_for_payment(id).await? {
        let pending = RefundState::Pending.as_str().to_owned();
        refunds.insert((r.refund_id.clone(), None, pending.clone()));
        if r.state != RefundState::Pending {
            refunds.insert((r.refund_id, Some(pending), r.state.as_str().to_owned()));
        }
    }
    for r in refunds.difference(&logged.refunds) {
        problems.push(format!("{id}: refund change {r:?} stored but not logged"));
    }
    for r in logged.refunds.difference(&refunds) {
        problems.push(format!("{id}: refund change {r:?} logged but not stored"));
    }
    Ok(())
}

fn read_logged(entries: &[StoredEntry]) -> Result<Logged, String> {
    if entries.len() >= ENTRIES_PER_PAYMENT_MAX {
        return Err(format!("{} entries or more", ENTRIES_PER_PAYMENT_MAX));
    }
    let mut logged = Logged::default();
    for stored in entries {
        let entry = AuditEntry::decode(&stored.bytes)
            .map_err(|e| format!("entry {} does not decode: {e}", stored.index))?;
        let text = |name: &str| entry.body.get(name).and_then(|v| v.as_str());
        match entry.kind.as_str() {
            EntryKind::ROUTING_DECISION => {
                let decision = Decision::from_canonical_json(&entry.body)
                    .map_err(|e| format!("entry {} is not a decision: {e}", stored.index))?;
                match decision.refusal() {
                    Some(_) => logged.decisions_refused += 1,
                    None => logged.decisions_routed += 1,
                }
            }
            EntryKind::PAYMENT_TRANSITION => {
                let seq = entry.body.get("seq").and_then(|v| v.as_i64());
                let (Some(seq), Some(to)) = (seq, text("to")) else {
                    return Err(format!("entry {} has no seq or to", stored.index));
                };
                let row = (seq, text("from").map(str::to_owned), to.to_owned());
                if !logged.transitions.insert(row) {
                    return Err(format!("transition {seq} logged twice"));
                }
            }
            EntryKind::REFUND_TRANSITION => {
                let (Some(refund), Some(to)) = (text("refund_id"), text("to")) else {
                    return Err(format!("entry {} has no refund_id or to", stored.index));
                };
                let row = (
                    refund.to_owned(),
                    text("from").map(str::to_owned),
                    to.to_owned(),
                );
                if !logged.refunds.insert(row.clone()) {
                    return Err(format!("refund change {row:?} logged twice"));
                }
            }
            other => return Err(format!("entry {} of unexpected kind {other}", stored.index)),
        }
    }
    Ok(logged)
}

/// Entries naming a payment the store does not hold may only be refused decisions.
async fn check_orphans(store: &SqlStore, problems: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT e.entry_index, e.kind, e.at_ms, e.payment_id, e.merchant_id, e.entry \
         FROM audit_entries e WHERE e.payment_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM payments p WHERE p.payment_id = e.payment_id) \
         ORDER BY e.entry_index LIMIT $1",
    )
    .bind(ORPHANS_MAX)
    .fetch_all(store.pool())
    .await?;
    for row in rows {
        let index: i64 = row.try_get("entry_index")?;
        let kind: String = row.try_get("kind")?;
        let bytes: String = row.try_get("entry")?;
        let refused = kind == EntryKind::ROUTING_DECISION
            && AuditEntry::decode(bytes.as_bytes())
                .ok()
                .and_then(|e| Decision::from_canonical_json(&e.body).ok())
                .is_some_and(|d| d.refusal().is_some());
        if !refused && problems.len() < PROBLEMS_MAX {
            problems.push(format!(
                "entry {index} ({kind}) names a payment the store does not hold"
            ));
        }
    }
    Ok(())
}
