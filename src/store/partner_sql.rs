//! What the partner gateway keeps (migration 0006): each partner request's idempotency key
//! with its content hash and answer, and the settlement reports partners submit. Functions
//! take a transaction so a key is claimed in the same commit as the change it answers for.
use sqlx::{Any, Row, Transaction};

use super::StoreError;

/// A request key as stored: the hash of the content it was first used with, and the answer
/// (a short text the caller encodes) it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    pub request_hash: String,
    pub answer: String,
}

/// The partner request with this key, if one was stored.
pub async fn partner_request(
    tx: &mut Transaction<'static, Any>,
    network: &str,
    kind: &str,
    key: &str,
) -> Result<Option<StoredRequest>, StoreError> {
    let row = sqlx::query(
        "SELECT request_hash, answer FROM partner_requests \
         WHERE network = $1 AND kind = $2 AND request_key = $3",
    )
    .bind(network)
    .bind(kind)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(StoredRequest {
            request_hash: r.try_get("request_hash")?,
            answer: r.try_get("answer")?,
        })
    })
    .transpose()
}

/// Stores a new key; `false` when the key is already there (a concurrent request won).
pub async fn insert_partner_request(
    tx: &mut Transaction<'static, Any>,
    (network, kind, key): (&str, &str, &str),
    stored: &StoredRequest,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO partner_requests (network, kind, request_key, request_hash, answer, \
         created_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(network)
    .bind(kind)
    .bind(key)
    .bind(&stored.request_hash)
    .bind(&stored.answer)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One settlement line as stored; money as exact text beside its minor units.
#[derive(Debug, Clone)]
pub struct ReportLine {
    pub payment_id: String,
    pub refund_id: String,
    pub network_txn_id: String,
    pub kind: &'static str,
    pub amount: kakehashi_adapter_core::Money,
    /// In the settlement currency; zero when the network charged none.
    pub fee: kakehashi_adapter_core::Money,
    pub settled: kakehashi_adapter_core::Money,
}

#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub network: &'a str,
    pub report_id: &'a str,
    pub business_date: &'a str,
    pub settlement_currency: &'a str,
    pub lines: &'a [ReportLine],
    pub received_at_ms: i64,
}

/// Stores a report and its lines; a line naming no payment of the network is stored as
/// unmatched. Returns how many lines are unmatched.
pub async fn insert_report(
    tx: &mut Transaction<'static, Any>,
    report: &Report<'_>,
) -> Result<u32, StoreError> {
    let mut unmatched: u32 = 0;
    for (line_no, line) in report.lines.iter().enumerate() {
        let network: Option<String> =
            sqlx::query_scalar("SELECT network FROM payments WHERE payment_id = $1")
                .bind(&line.payment_id)
                .fetch_optional(&mut **tx)
                .await?;
        let matched = network.as_deref() == Some(report.network);
        if !matched {
            unmatched = unmatched.saturating_add(1);
        }
        sqlx::query(
            "INSERT INTO partner_settlement_lines (network, report_id, line_no, payment_id, \
             refund_id, network_txn_id, kind, amount_value, amount_currency, amount_minor, \
             fee_value, fee_minor, settled_value, settled_minor, matched) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(report.network)
        .bind(report.report_id)
        .bind(i64::try_from(line_no).unwrap_or(i64::MAX))
        .bind(&line.payment_id)
        .bind(&line.refund_id)
        .bind(&line.network_txn_id)
        .bind(line.kind)
        .bind(line.amount.value_string())
        .bind(line.amount.currency_code())
        .bind(line.amount.minor())
        .bind(line.fee.value_string())
        .bind(line.fee.minor())
        .bind(line.settled.value_string())
        .bind(line.settled.minor())
        .bind(i64::from(matched))
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO partner_settlement_reports (network, report_id, business_date, \
         settlement_currency, line_count, unmatched_lines, received_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(report.network)
    .bind(report.report_id)
    .bind(report.business_date)
    .bind(report.settlement_currency)
    .bind(i64::try_from(report.lines.len()).unwrap_or(i64::MAX))
    .bind(i64::from(unmatched))
    .bind(report.received_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(unmatched)
}

/// The latest report of a network's day (the one reconciled): its id and line count.
pub async fn latest_report(
    pool: &sqlx::AnyPool,
    network: &str,
    business_date: &str,
) -> Result<Option<(String, i64)>, StoreError> {
    let row = sqlx::query(
        "SELECT report_id, line_count FROM partner_settlement_reports \
         WHERE network = $1 AND business_date = $2 \
         ORDER BY received_at_ms DESC, report_id DESC LIMIT 1",
    )
    .bind(network)
    .bind(business_date)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((r.try_get("report_id")?, r.try_get("line_count")?)))
        .transpose()
}
