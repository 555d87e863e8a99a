//! Settlement facts and closed batches in SQL (migration 0005).
//!
//! Closing is idempotent and happens once even when two replicas try: the batch row has a
//! unique `(network, business_date)`, the insert that loses the race does nothing and the
//! loser returns the winner's batch. A closed batch is never updated (there is no function
//! for it), and its stored content carries a SHA-256 that every read checks.
use kakehashi_adapter_core::Money;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Executor, Row};

use crate::settlement::batch::{Batch, FACTS_PER_BATCH_MAX, FactKind, SettledPaymentFact};
use crate::settlement::business_date::BusinessDate;
use crate::settlement::ledger::JournalEntry;
use crate::store::StoreError;

/// Most batches one range query returns (a year of daily batches for 50 networks).
pub const BATCHES_MAX: i64 = 20_000;

const TABLE_FACTS: &str = "settlement_facts";
const TABLE_BATCHES: &str = "settlement_batches";

/// How a close ended: this call closed the batch, or another had already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub batch: Batch,
    pub won: bool,
}

/// Records a settled movement for the batches to come; the same fact twice is one row.
/// Returns whether it was new. The write path calls it in the state change's transaction.
pub async fn record_fact<'e, E>(executor: E, fact: &SettledPaymentFact) -> Result<bool, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let done = sqlx::query(
        "INSERT INTO settlement_facts (fact_id, kind, payment_id, refund_id, merchant_id, network, \
         amount_minor, amount_value, currency, wallet_value, wallet_currency, network_reference, \
         at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT DO NOTHING",
    )
    .bind(fact.fact_id())
    .bind(kind_str(fact.kind))
    .bind(&fact.payment_id)
    .bind(fact.refund_id.as_deref())
    .bind(&fact.merchant_id)
    .bind(&fact.network)
    .bind(fact.amount.minor())
    .bind(fact.amount.value_string())
    .bind(fact.amount.currency_code())
    .bind(fact.wallet_amount.map(|m| m.value_string()))
    .bind(fact.wallet_amount.map(|m| m.currency_code()))
    .bind(fact.network_reference.as_deref())
    .bind(fact.at_ms)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The network's facts before `before_ms` that no batch has taken yet: the day's own and
/// any that arrived after their own day closed.
pub async fn open_facts<'e, E>(
    executor: E,
    network: &str,
    before_ms: i64,
) -> Result<Vec<SettledPaymentFact>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FACT_COLUMNS} FROM settlement_facts WHERE network = $1 AND batch_id IS NULL \
         AND at_ms < $2 ORDER BY at_ms, fact_id LIMIT $3"
    )))
    .bind(network)
    .bind(before_ms)
    .bind(FACTS_PER_BATCH_MAX as i64 + 1)
    .fetch_all(executor)
    .await?;
    if rows.len() > FACTS_PER_BATCH_MAX {
        return Err(StoreError::Corrupt {
            table: TABLE_FACTS,
            detail: format!("more than {FACTS_PER_BATCH_MAX} open facts for {network}"),
        });
    }
    rows.iter().map(fact_from_row).collect()
}

/// A network's facts in `[from_ms, to_ms)`, batched or not: one business day's payments,
/// refunds and reversals, for reconciliation against the network's file. More than
/// `FACTS_PER_BATCH_MAX` is refused, as for a batch.
pub async fn facts_between<'e, E>(
    executor: E,
    network: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<SettledPaymentFact>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FACT_COLUMNS} FROM settlement_facts WHERE network = $1 AND at_ms >= $2 \
         AND at_ms < $3 ORDER BY at_ms, fact_id LIMIT $4"
    )))
    .bind(network)
    .bind(from_ms)
    .bind(to_ms)
    .bind(FACTS_PER_BATCH_MAX as i64 + 1)
    .fetch_all(executor)
    .await?;
    if rows.len() > FACTS_PER_BATCH_MAX {
        return Err(StoreError::Corrupt {
            table: TABLE_FACTS,
            detail: format!("more than {FACTS_PER_BATCH_MAX} facts for {network} in a day"),
        });
    }
    rows.iter().map(fact_from_row).collect()
}

/// The facts a closed batch took, for reconciliation against the network's file.
pub async fn facts_in_batch<'e, E>(
    executor: E,
    batch_id: &str,
) -> Result<Vec<SettledPaymentFact>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FACT_COLUMNS} FROM settlement_facts WHERE batch_id = $1 ORDER BY at_ms, fact_id \
         LIMIT $2"
    )))
    .bind(batch_id)
    .bind(FACTS_PER_BATCH_MAX as i64)
    .fetch_all(executor)
    .await?;
    rows.iter().map(fact_from_row).collect()
}

/// Stores `batch` once, marks the facts it took, and posts `entries` (its fees), all in one
/// transaction. `before_ms` is the cut-off instant the facts were chosen by. If the batch
/// was already closed, nothing changes and the stored batch comes back with `won: false`.
/// If a fact arrived between choosing and closing, [`StoreError::Conflict`]: choose again.
pub async fn close_once(
    pool: &AnyPool,
    batch: &Batch,
    before_ms: i64,
    closed_at_ms: i64,
    entries: &[JournalEntry],
) -> Result<Closed, StoreError> {
    let content = serde_json::to_string(batch).map_err(|e| StoreError::Corrupt {
        table: TABLE_BATCHES,
        detail: e.to_string(),
    })?;
    let digest = hex::encode(Sha256::digest(content.as_bytes()));
    let mut tx = pool.begin().await?;
    // The first statement writes, so SQLite takes its write lock here and waits its turn
    // instead of failing a read-then-write upgrade.
    let inserted = sqlx::query(
        "INSERT INTO settlement_batches (batch_id, network, business_date, closed_at_ms, content, \
         content_sha256) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&batch.batch_id)
    .bind(&batch.network)
    .bind(batch.business_date.to_string())
    .bind(closed_at_ms)
    .bind(&content)
    .bind(&digest)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        tx.rollback().await?;
        let winner = get_batch(pool, &batch.network, batch.business_date)
            .await?
            .ok_or(StoreError::Conflict)?;
        return Ok(Closed {
            batch: winner,
            won: false,
        });
    }
    let taken = sqlx::query(
        "UPDATE settlement_facts SET batch_id = $1 WHERE network = $2 AND batch_id IS NULL \
         AND at_ms < $3",
    )
    .bind(&batch.batch_id)
    .bind(&batch.network)
    .bind(before_ms)
    .execute(&mut *tx)
    .await?;
    let t = &batch.totals;
    if taken.rows_affected() != t.payments + t.refunds + t.reversals {
        tx.rollback().await?;
        return Err(StoreError::Conflict);
    }
    for entry in entries {
        crate::settlement::ledger::sql::post(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(Closed {
        batch: batch.clone(),
        won: true,
    })
}

/// The closed batch of `network` for `business_date`, its content checked against its hash.
pub async fn get_batch<'e, E>(
    executor: E,
    network: &str,
    business_date: BusinessDate,
) -> Result<Option<Batch>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT batch_id, network, business_date, content, content_sha256 FROM settlement_batches \
         WHERE network = $1 AND business_date = $2",
    )
    .bind(network)
    .bind(business_date.to_string())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(batch_from_row).transpose()
}

/// Every closed batch with a business date in `from..=to`, by date then network.
pub async fn batches_between<'e, E>(
    executor: E,
    from: BusinessDate,
    to: BusinessDate,
) -> Result<Vec<Batch>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT batch_id, network, business_date, content, content_sha256 FROM settlement_batches \
         WHERE business_date >= $1 AND business_date <= $2 ORDER BY business_date, network LIMIT $3",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(BATCHES_MAX)
    .fetch_all(executor)
    .await?;
    rows.iter().map(batch_from_row).collect()
}

const FACT_COLUMNS: &str = "fact_id, kind, payment_id, refund_id, merchant_id, network, \
    amount_minor, amount_value, currency, wallet_value, wallet_currency, network_reference, at_ms";

fn kind_str(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Payment => "payment",
        FactKind::Refund => "refund",
        FactKind::Reversal => "reversal",
    }
}

fn fact_from_row(row: &sqlx::any::AnyRow) -> Result<SettledPaymentFact, StoreError> {
    let id: String = row.try_get("fact_id")?;
    let corrupt = |detail: String| StoreError::Corrupt {
        table: TABLE_FACTS,
        detail: format!("{id}: {detail}"),
    };
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "payment" => FactKind::Payment,
        "refund" => FactKind::Refund,
        "reversal" => FactKind::Reversal,
        other => return Err(corrupt(format!("unknown kind {other}"))),
    };
    let amount = Money::parse(
        &row.try_get::<String, _>("amount_value")?,
        &row.try_get::<String, _>("currency")?,
    )
    .map_err(|e| corrupt(e.to_string()))?;
    if amount.minor() != row.try_get::<i64, _>("amount_minor")? {
        return Err(corrupt("amount_minor and amount_value disagree".into()));
    }
    let wallet_amount = match (
        row.try_get::<Option<String>, _>("wallet_value")?,
        row.try_get::<Option<String>, _>("wallet_currency")?,
    ) {
        (Some(value), Some(currency)) => {
            Some(Money::parse(&value, &currency).map_err(|e| corrupt(e.to_string()))?)
        }
        _ => None,
    };
    let fact = SettledPaymentFact {
        kind,
        payment_id: row.try_get("payment_id")?,
        refund_id: row.try_get("refund_id")?,
        merchant_id: row.try_get("merchant_id")?,
        network: row.try_get("network")?,
        amount,
        wallet_amount,
        network_reference: row.try_get("network_reference")?,
        at_ms: row.try_get("at_ms")?,
    };
    if fact.fact_id() != id {
        return Err(corrupt("the id does not match the fact".into()));
    }
    Ok(fact)
}

fn batch_from_row(row: &sqlx::any::AnyRow) -> Result<Batch, StoreError> {
    let id: String = row.try_get("batch_id")?;
    let corrupt = |detail: &str| StoreError::Corrupt {
        table: TABLE_BATCHES,
        detail: format!("{id}: {detail}"),
    };
    let content: String = row.try_get("content")?;
    let digest: String = row.try_get("content_sha256")?;
    if hex::encode(Sha256::digest(content.as_bytes())) != digest {
        return Err(corrupt(
            "the content does not match its SHA-256: a closed batch changed",
        ));
    }
    let batch: Batch = serde_json::from_str(&content).map_err(|_| corrupt("unreadable content"))?;
    let date: String = row.try_get("business_date")?;
    let network: String = row.try_get("network")?;
    if batch.batch_id != id || batch.network != network || batch.business_date.to_string() != date {
        return Err(corrupt("the content is another batch's"));
    }
    Ok(batch)
}
