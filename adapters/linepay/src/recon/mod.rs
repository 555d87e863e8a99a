//! LINE Pay's transaction list for reconciliation. LINE Pay publishes no settlement file a
//! program can read (the merchant portal's 収納明細書 is a PDF; payouts-jp.md §5.4): its
//! merchants read their transactions from the Payment details API (`GET /v3/payments`,
//! offline `GET /v4/payments`; linepay.md §4.2, §5). Each answer is the standard envelope
//! `{"returnCode":"0000","returnMessage":"Success.","info":[...]}` listing at most 100
//! transactions (more is return code 1177), each with `transactionId`, `orderId`,
//! `transactionDate`, `transactionType` (`PAYMENT`, `PAYMENT_REFUND`, `PARTIAL_REFUND`),
//! `payStatus` (`CAPTURE`, `AUTHORIZATION`, `VOIDED_AUTHORIZATION`,
//! `EXPIRED_AUTHORIZATION`), `currency`, `payInfo[{method, amount}]` and
//! `refundList[{refundTransactionId, transactionType, refundAmount, refundTransactionDate}]`.
//!
//! **The file is a JSON array of pages**, each page exactly one Payment details answer, in
//! the order they were fetched; a lone envelope (a day of one page) is read too. An array,
//! not the answers concatenated: each element is byte for byte what the API returned, so a
//! collector stores replies verbatim, and the array is one JSON document with an end, so a
//! download cut short fails to parse. A concatenation cut exactly between two answers would
//! look complete and silently lose the days' last transactions.
//!
//! Amounts are JSON numbers in the currency's major unit with at most its ISO 4217 minor
//! digits (JPY 0, TWD 2 as ISO 4217 lists it, THB 2), read as raw number text, never
//! through a float; `1200.0` in JPY is an error, not 1200. `transactionId` and
//! `refundTransactionId` are 19-digit numbers, read as u64 or digit strings.
//!
//! A payment line is matched by `orderId` (the switch's payment id). LINE Pay has no
//! merchant refund id: a refund line carries LINE Pay's `refundTransactionId`, which the
//! adapter stored as the refund's network reference, and the classifier falls back to the
//! payment and amount. A voided or expired authorization is reversed (nothing stays
//! charged); an open `AUTHORIZATION` was never captured, so it is failed. The list carries
//! no fee and no FX (a LINE Pay channel charges and settles in its one currency).
mod write;

use std::collections::HashMap;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::recon::{
    RECON_FILE_BYTES_MAX, RECON_LINES_MAX, ReconFormat, ReconKind, ReconLine, ReconStatus,
};
use kakehashi_adapter_core::sim_control::Amount;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::wire::{ListedRefund, PayMethod, TransactionId};

pub use write::{file_name, write_file};

/// Transactions one Payment details answer lists at most (LINE Pay: 1177 beyond).
pub const PAGE_ENTRIES_MAX: usize = 100;
/// Pages one file may hold: enough for [`RECON_LINES_MAX`] lines.
pub const PAGES_MAX: usize = RECON_LINES_MAX / PAGE_ENTRIES_MAX;
/// Payment methods one transaction may list (BALANCE, CREDIT_CARD, POINT, DISCOUNT, ...).
pub const PAY_METHODS_MAX: usize = 16;
/// Refunds one transaction may list; the adapter's own bound on a details answer.
pub const REFUNDS_MAX: usize = crate::wire::REFUNDS_LISTED_MAX;
/// LINE Pay's `orderId` is at most 100 characters.
const ORDER_ID_CHARS_MAX: usize = 100;

const _: () = assert!(PAGES_MAX * PAGE_ENTRIES_MAX <= RECON_LINES_MAX);

/// The list as the switch's `kakehashi reconcile` reads it (through the adapter's factory).
pub const FORMAT: ReconFormat = ReconFormat {
    name: "LINE Pay Payment details list (JSON array of pages)",
    parse: |bytes| parse_file(bytes).map_err(|e| e.to_string()),
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconFileError {
    #[error(
        "the list is larger than {RECON_FILE_BYTES_MAX} bytes, {PAGES_MAX} pages or \
         {RECON_LINES_MAX} lines"
    )]
    TooLarge,
    #[error("the list is not a JSON array of Payment details answers: {0}")]
    NotJson(String),
    #[error("page {page}: {reason}")]
    Page { page: usize, reason: String },
    /// `entry` counts from 1 within the page; `refund` too, within the entry's refundList.
    #[error("page {page}, entry {entry}{}: {reason}", refund.map(|r| format!(", refund {r}")).unwrap_or_default())]
    Line {
        page: usize,
        entry: usize,
        refund: Option<usize>,
        reason: String,
    },
}

/// One Payment details answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    return_code: String,
    #[serde(default)]
    info: Option<Vec<Entry>>,
}

/// One transaction of an answer, as much of it as reconciliation reads (the answer carries
/// more: productName, merchantName, packages).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    transaction_id: TransactionId,
    order_id: String,
    transaction_date: String,
    transaction_type: String,
    #[serde(default)]
    pay_status: Option<String>,
    currency: String,
    #[serde(default)]
    pay_info: Vec<PayMethod>,
    #[serde(default)]
    refund_list: Vec<ListedRefund>,
}

/// Where a line came from, for errors.
#[derive(Debug, Clone, Copy)]
struct At {
    page: usize,
    entry: usize,
}

// === impl At ===

impl At {
    fn error(self, refund: Option<usize>, reason: String) -> ReconFileError {
        ReconFileError::Line {
            page: self.page,
            entry: self.entry,
            refund,
            reason,
        }
    }
}

/// Parses the list: every payment, and every refund whether listed in its payment's
/// `refundList` or as a transaction of its own (the same refund in both is one line).
pub fn parse_file(bytes: &[u8]) -> Result<Vec<ReconLine>, ReconFileError> {
    if bytes.len() > RECON_FILE_BYTES_MAX {
        return Err(ReconFileError::TooLarge);
    }
    // By the first byte, not an untagged enum: serde buffers those, and raw numbers (the
    // amounts) cannot be read back from a buffer.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let pages = match first {
        Some(b'{') => serde_json::from_slice::<Page>(bytes).map(|page| vec![page]),
        _ => serde_json::from_slice::<Vec<Page>>(bytes),
    }
    .map_err(|e| ReconFileError::NotJson(e.to_string()))?;
    if pages.len() > PAGES_MAX {
        return Err(ReconFileError::TooLarge);
    }
    let mut lines = Vec::new();
    let mut payments_seen: HashMap<String, At> = HashMap::new();
    let mut refunds_seen: HashMap<String, usize> = HashMap::new();
    for (p, page) in pages.iter().enumerate() {
        let entries = page_entries(p + 1, page)?;
        for (e, entry) in entries.iter().enumerate() {
            let at = At {
                page: p + 1,
                entry: e + 1,
            };
            let parsed = parse_entry(at, entry)?;
            for (refund, line) in parsed {
                add_line(
                    at,
                    refund,
                    line,
                    &mut lines,
                    &mut payments_seen,
                    &mut refunds_seen,
                )?;
            }
            if lines.len() > RECON_LINES_MAX {
                return Err(ReconFileError::TooLarge);
            }
        }
    }
    Ok(lines)
}

fn page_entries(page: usize, p: &Page) -> Result<&[Entry], ReconFileError> {
    let refuse = |reason: String| ReconFileError::Page { page, reason };
    if p.return_code != "0000" {
        return Err(refuse(format!(
            "returnCode `{}`, not 0000: the call failed and the page lists nothing",
            p.return_code
                .chars()
                .take(8)
                .collect::<String>()
                .escape_debug()
        )));
    }
    let entries = p
        .info
        .as_deref()
        .ok_or_else(|| refuse("a 0000 answer without `info`".into()))?;
    if entries.len() > PAGE_ENTRIES_MAX {
        return Err(refuse(format!(
            "{} transactions; an answer lists at most {PAGE_ENTRIES_MAX}",
            entries.len()
        )));
    }
    Ok(entries)
}

/// Keeps a line, refusing a payment listed twice and a refund listed twice unless both
/// listings agree (its payment's refundList and its own transaction).
fn add_line(
    at: At,
    refund: Option<usize>,
    line: ReconLine,
    lines: &mut Vec<ReconLine>,
    payments_seen: &mut HashMap<String, At>,
    refunds_seen: &mut HashMap<String, usize>,
) -> Result<(), ReconFileError> {
    match line.kind {
        ReconKind::Payment => {
            if let Some(first) = payments_seen.insert(line.network_id.clone(), at) {
                return Err(at.error(
                    refund,
                    format!(
                        "transactionId {} is listed already (page {}, entry {})",
                        line.network_id, first.page, first.entry
                    ),
                ));
            }
        }
        ReconKind::Refund => {
            if let Some(&index) = refunds_seen.get(&line.network_id) {
                let first = &lines[index];
                if first.amount != line.amount || first.payment_id != line.payment_id {
                    return Err(at.error(
                        refund,
                        format!(
                            "refund {} is listed twice, differently ({} and {} {})",
                            line.network_id,
                            first.amount.value_string(),
                            line.amount.value_string(),
                            line.amount.currency_code()
                        ),
                    ));
                }
                return Ok(());
            }
            refunds_seen.insert(line.network_id.clone(), lines.len());
        }
    }
    lines.push(line);
    Ok(())
}

/// The lines of one transaction: a payment and its refunds, or a refund on its own; each
/// with the refund's position in the refundList, for errors.
fn parse_entry(at: At, e: &Entry) -> Result<Vec<(Option<usize>, ReconLine)>, ReconFileError> {
    let fail = |reason: String| at.error(None, reason);
    if e.order_id.is_empty() || e.order_id.chars().count() > ORDER_ID_CHARS_MAX {
        return Err(fail(format!(
            "orderId must be 1..={ORDER_ID_CHARS_MAX} characters"
        )));
    }
    check_date("transactionDate", &e.transaction_date).map_err(fail)?;
    let currency = parse_currency(&e.currency).map_err(|e| fail(format!("currency: {e}")))?;
    if e.pay_info.len() > PAY_METHODS_MAX || e.refund_list.len() > REFUNDS_MAX {
        return Err(fail(format!(
            "more than {PAY_METHODS_MAX} payInfo items or {REFUNDS_MAX} refunds"
        )));
    }
    let line = |kind, network_id: String, status, amount| ReconLine {
        kind,
        payment_id: e.order_id.clone(),
        refund_id: None,
        network_id,
        status,
        amount,
        wallet_amount: None,
        rate: None,
        fee: None,
        settlement: None,
    };
    let id = e.transaction_id.0.to_string();
    match e.transaction_type.as_str() {
        "PAYMENT" => {
            let status = pay_status(e.pay_status.as_deref()).map_err(fail)?;
            let amount = pay_info_total(&e.pay_info, currency, Sign::Positive).map_err(fail)?;
            let mut lines = vec![(None, line(ReconKind::Payment, id, status, amount))];
            for (r, listed) in e.refund_list.iter().enumerate() {
                let refund =
                    listed_refund(listed, currency).map_err(|why| at.error(Some(r + 1), why))?;
                let network_id = listed.refund_transaction_id.0.to_string();
                let refund_line = line(
                    ReconKind::Refund,
                    network_id,
                    ReconStatus::Succeeded,
                    refund,
                );
                lines.push((Some(r + 1), refund_line));
            }
            Ok(lines)
        }
        "PAYMENT_REFUND" | "PARTIAL_REFUND" => {
            if !e.refund_list.is_empty() {
                return Err(fail("a refund transaction with a refundList".into()));
            }
            let amount = pay_info_total(&e.pay_info, currency, Sign::Negative).map_err(fail)?;
            let refund = line(ReconKind::Refund, id, ReconStatus::Succeeded, amount);
            Ok(vec![(None, refund)])
        }
        other => Err(fail(format!(
            "unknown transactionType `{}` (PAYMENT, PAYMENT_REFUND or PARTIAL_REFUND)",
            other.chars().take(32).collect::<String>().escape_debug()
        ))),
    }
}

/// What `payStatus` says stays charged. Every payment lists one.
fn pay_status(status: Option<&str>) -> Result<ReconStatus, String> {
    match status {
        Some("CAPTURE") => Ok(ReconStatus::Succeeded),
        // The hold was released: nothing stays charged.
        Some("VOIDED_AUTHORIZATION" | "EXPIRED_AUTHORIZATION") => Ok(ReconStatus::Reversed),
        // Authorized, never captured: nothing was charged yet.
        Some("AUTHORIZATION") => Ok(ReconStatus::Failed),
        Some(other) => Err(format!(
            "unknown payStatus `{}` (CAPTURE, AUTHORIZATION, VOIDED_AUTHORIZATION or \
             EXPIRED_AUTHORIZATION)",
            other.chars().take(32).collect::<String>().escape_debug()
        )),
        None => Err("a PAYMENT without payStatus".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Positive,
    /// Refunds are listed negative, as LINE Pay's examples show them.
    Negative,
}

/// The sum of the payment methods: what the customer was charged (or got back).
fn pay_info_total(methods: &[PayMethod], currency: Currency, sign: Sign) -> Result<Amount, String> {
    if methods.is_empty() {
        return Err("no payInfo: the amount is unknown".into());
    }
    let mut minor: i64 = 0;
    for (i, m) in methods.iter().enumerate() {
        if m.method.is_empty() || m.method.len() > 32 {
            return Err(format!(
                "payInfo {}: method must be 1..=32 characters",
                i + 1
            ));
        }
        let amount = number(&m.amount, currency, sign).map_err(|why| {
            format!(
                "payInfo {} ({}) amount: {why}",
                i + 1,
                m.method.escape_debug()
            )
        })?;
        minor = minor
            .checked_add(amount.minor())
            .ok_or_else(|| "payInfo amounts overflow".to_owned())?;
    }
    let total = Amount::from_minor(minor, currency).map_err(|e| format!("payInfo total: {e}"))?;
    if total.minor() == 0 {
        return Err("payInfo amounts sum to zero".into());
    }
    Ok(total)
}

fn listed_refund(r: &ListedRefund, currency: Currency) -> Result<Amount, String> {
    if !matches!(
        r.transaction_type.as_str(),
        "PAYMENT_REFUND" | "PARTIAL_REFUND"
    ) {
        return Err(format!(
            "unknown transactionType `{}` (PAYMENT_REFUND or PARTIAL_REFUND)",
            r.transaction_type
                .chars()
                .take(32)
                .collect::<String>()
                .escape_debug()
        ));
    }
    check_date("refundTransactionDate", &r.refund_transaction_date)?;
    let amount = number(&r.refund_amount, currency, Sign::Negative)
        .map_err(|why| format!("refundAmount: {why}"))?;
    if amount.minor() == 0 {
        return Err("refundAmount is zero".into());
    }
    Ok(amount)
}

/// A JSON number of `currency` with its sign as expected, as an amount (its magnitude):
/// the raw text exactly, so `12.50` in THB is 1250 satang and `1200.0` in JPY an error.
fn number(raw: &RawValue, currency: Currency, sign: Sign) -> Result<Amount, String> {
    let text = raw.get();
    let magnitude = match (sign, text.strip_prefix('-')) {
        (Sign::Positive, None) => text,
        (Sign::Negative, Some(magnitude)) => magnitude,
        (Sign::Positive, Some(_)) => return Err(format!("`{}` must not be negative", short(text))),
        (Sign::Negative, None) => return Err(format!("`{}` must be negative", short(text))),
    };
    Amount::parse(magnitude, currency.code()).map_err(|e| e.to_string())
}

fn short(text: &str) -> String {
    text.chars()
        .take(24)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

/// ISO 8601 with a date and a time (`2026-12-01T01:02:03Z`): the list's dates are not
/// reconciled (the switch's business day decides), but one that is not a date is a sign of
/// a file that is not LINE Pay's.
fn check_date(field: &str, value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let shaped = (20..=40).contains(&b.len())
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && b[10] == b'T';
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "{field} `{}` is not an ISO 8601 date and time",
            short(value)
        ))
    }
}

#[cfg(test)]
mod tests;
