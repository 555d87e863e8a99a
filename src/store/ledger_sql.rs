//! Journal entries in SQL (migration 0005). [`post`] runs inside the caller's transaction, so
//! an entry commits with the state change that caused it or not at all; every read rebuilds
//! entries through [`JournalEntry::new`], so a row that no longer balances is reported as
//! corrupt, never repaired or skipped.
use std::collections::BTreeMap;

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use sqlx::{Any, Executor, Row, Transaction};

use crate::settlement::business_date::BusinessDate;
use crate::settlement::ledger::{Account, EntryKind, JournalEntry, Line, Side};
use crate::store::StoreError;

/// Most entries one reference may have (a payment: success, reversal, a few refunds).
pub const ENTRIES_PER_REFERENCE_MAX: i64 = 1_000;
/// Most account-currency balances one query returns.
pub const BALANCES_MAX: i64 = 1_000_000;

const TABLE: &str = "ledger_entries";
/// Lines per INSERT: few enough that the statement's Bind message goes out in one write
/// (sqlx 0.9 leaves Nagle on; a split message waits for PostgreSQL's delayed ACK).
const LINE_ROWS_PER_INSERT: usize = 8;

/// One account's totals in one currency up to an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub account: Account,
    pub currency: Currency,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

impl Balance {
    /// Debits − credits: positive for an asset (receivable, bank), negative for what we owe.
    pub fn net_minor(&self) -> i64 {
        self.debit_minor - self.credit_minor
    }
}

/// Writes `entry` inside `tx`. The entry is checked again first; an entry with the same
/// `(kind, reference)` already posted makes this fail with [`StoreError::Conflict`], so a
/// retried state change cannot post twice.
pub async fn post(tx: &mut Transaction<'_, Any>, entry: &JournalEntry) -> Result<(), StoreError> {
    entry.verify().map_err(|e| StoreError::Corrupt {
        table: TABLE,
        detail: format!("refused before writing: {e}"),
    })?;
    let inserted = sqlx::query(
        "INSERT INTO ledger_entries (entry_id, kind, reference, at_ms, business_date, line_count) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(entry.id())
    .bind(entry.kind().as_str())
    .bind(entry.reference())
    .bind(entry.at_ms())
    .bind(entry.business_date().to_string())
    .bind(entry.lines().len() as i64)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    // The lines in as few statements as the Bind message allows in one write (see
    // `LINE_ROWS_PER_INSERT`); an entry has 2 to 64.
    let lines = entry.lines();
    for (chunk_no, chunk) in lines.chunks(LINE_ROWS_PER_INSERT).enumerate() {
        let mut sql = String::from(
            "INSERT INTO ledger_lines (entry_id, line_no, account, side, amount_minor, \
             amount_value, currency, at_ms) VALUES ",
        );
        sql.push_str(&crate::store::placeholders(chunk.len(), 8));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (offset, line) in chunk.iter().enumerate() {
            query = query
                .bind(entry.id())
                .bind((chunk_no * LINE_ROWS_PER_INSERT + offset) as i64)
                .bind(line.account.to_string())
                .bind(line.side.as_str())
                .bind(line.amount.minor())
                .bind(line.amount.value_string())
                .bind(line.amount.currency_code())
                .bind(entry.at_ms());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every entry posted for a payment, refund, batch or payout id, oldest first.
pub async fn entries_for_reference<'e, E>(
    executor: E,
    reference: &str,
) -> Result<Vec<JournalEntry>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT e.entry_id, e.kind, e.reference, e.at_ms, e.business_date, e.line_count, \
         l.line_no, l.account, l.side, l.amount_minor, l.amount_value, l.currency \
         FROM ledger_entries e LEFT JOIN ledger_lines l ON l.entry_id = e.entry_id \
         WHERE e.reference = $1 ORDER BY e.at_ms, e.entry_id, l.line_no LIMIT $2",
    )
    .bind(reference)
    .bind(ENTRIES_PER_REFERENCE_MAX * entry_lines_max())
    .fetch_all(executor)
    .await?;
    let mut entries: Vec<(StoredHead, Vec<Line>)> = Vec::new();
    for row in &rows {
        let head = StoredHead::from_row(row)?;
        if entries.last().is_none_or(|(h, _)| h.id != head.id) {
            entries.push((head, Vec::new()));
        }
        if let Some(line) = line_from_row(row)?
            && let Some((_, lines)) = entries.last_mut()
        {
            lines.push(line);
        }
    }
    entries
        .into_iter()
        .map(|(head, lines)| head.rebuild(lines))
        .collect()
}

/// Every account's totals per currency over the entries at or before `as_of_ms`.
pub async fn balances<'e, E>(executor: E, as_of_ms: i64) -> Result<Vec<Balance>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT account, currency, \
         CAST(SUM(CASE WHEN side = 'debit' THEN amount_minor ELSE 0 END) AS BIGINT) AS debits, \
         CAST(SUM(CASE WHEN side = 'credit' THEN amount_minor ELSE 0 END) AS BIGINT) AS credits \
         FROM ledger_lines WHERE at_ms <= $1 GROUP BY account, currency \
         ORDER BY account, currency LIMIT $2",
    )
    .bind(as_of_ms)
    .bind(BALANCES_MAX)
    .fetch_all(executor)
    .await?;
    rows.iter().map(balance_from_row).collect()
}

/// One account's totals in one currency at or before `as_of_ms` (zero when it has none).
pub async fn balance<'e, E>(
    executor: E,
    account: &Account,
    currency: Currency,
    as_of_ms: i64,
) -> Result<Balance, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN side = 'debit' THEN amount_minor ELSE 0 END), 0) AS BIGINT) AS debits, \
         CAST(COALESCE(SUM(CASE WHEN side = 'credit' THEN amount_minor ELSE 0 END), 0) AS BIGINT) AS credits \
         FROM ledger_lines WHERE account = $1 AND currency = $2 AND at_ms <= $3",
    )
    .bind(account.to_string())
    .bind(currency.code())
    .bind(as_of_ms)
    .fetch_one(executor)
    .await?;
    Ok(Balance {
        account: account.clone(),
        currency,
        debit_minor: row.try_get("debits")?,
        credit_minor: row.try_get("credits")?,
    })
}

/// Totals per currency over all accounts: debits and credits, equal in a healthy ledger.
pub fn trial_balance(balances: &[Balance]) -> BTreeMap<&'static str, (i64, i64)> {
    let mut totals: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    for b in balances {
        let t = totals.entry(b.currency.code()).or_default();
        t.0 += b.debit_minor;
        t.1 += b.credit_minor;
    }
    totals
}

fn entry_lines_max() -> i64 {
    crate::settlement::ledger::entry_lines_max() as i64
}

struct StoredHead {
    id: String,
    kind: EntryKind,
    reference: String,
    at_ms: i64,
    business_date: BusinessDate,
    line_count: i64,
}

impl StoredHead {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        let id: String = row.try_get("entry_id")?;
        let kind = EntryKind::parse(&row.try_get::<String, _>("kind")?)
            .map_err(|e| corrupt(&id, e.to_string()))?;
        let business_date = row.try_get::<String, _>("business_date")?.parse().map_err(
            |e: crate::settlement::business_date::DateError| corrupt(&id, e.to_string()),
        )?;
        Ok(Self {
            kind,
            reference: row.try_get("reference")?,
            at_ms: row.try_get("at_ms")?,
            business_date,
            line_count: row.try_get("line_count")?,
            id,
        })
    }

    fn rebuild(self, lines: Vec<Line>) -> Result<JournalEntry, StoreError> {
        if lines.len() as i64 != self.line_count {
            return Err(corrupt(
                &self.id,
                format!("{} lines stored, {} expected", lines.len(), self.line_count),
            ));
        }
        let entry = JournalEntry::new(
            self.kind,
            &self.reference,
            self.at_ms,
            self.business_date,
            lines,
        )
        .map_err(|e| corrupt(&self.id, e.to_string()))?;
        if entry.id() != self.id {
            return Err(corrupt(
                &self.id,
                "the id does not match kind/reference".into(),
            ));
        }
        Ok(entry)
    }
}

fn line_from_row(row: &sqlx::any::AnyRow) -> Result<Option<Line>, StoreError> {
    let id: String = row.try_get("entry_id")?;
    let Some(account) = row.try_get::<Option<String>, _>("account")? else {
        return Ok(None);
    };
    let account: Account = account
        .parse()
        .map_err(|e: crate::settlement::ledger::LedgerError| corrupt(&id, e.to_string()))?;
    let side =
        Side::parse(&row.try_get::<String, _>("side")?).map_err(|e| corrupt(&id, e.to_string()))?;
    let value: String = row.try_get("amount_value")?;
    let currency: String = row.try_get("currency")?;
    let amount = Money::parse(&value, &currency).map_err(|e| corrupt(&id, e.to_string()))?;
    let minor: i64 = row.try_get("amount_minor")?;
    if amount.minor() != minor {
        return Err(corrupt(
            &id,
            "amount_minor and amount_value disagree".into(),
        ));
    }
    Ok(Some(Line {
        account,
        side,
        amount,
    }))
}

fn balance_from_row(row: &sqlx::any::AnyRow) -> Result<Balance, StoreError> {
    let account: String = row.try_get("account")?;
    let currency: String = row.try_get("currency")?;
    Ok(Balance {
        account: account
            .parse()
            .map_err(|e: crate::settlement::ledger::LedgerError| {
                corrupt(&account, e.to_string())
            })?,
        currency: Currency::from_code(&currency)
            .ok_or_else(|| corrupt(&account, format!("unknown currency {currency}")))?,
        debit_minor: row.try_get("debits")?,
        credit_minor: row.try_get("credits")?,
    })
}

fn corrupt(entry: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        table: TABLE,
        detail: format!("{entry}: {detail}"),
    }
}
