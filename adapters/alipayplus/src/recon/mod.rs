//! Alipay+'s Transaction Detail Report: the clearing file an acquirer (ACQP) reconciles each
//! day's transactions with, one file per settlement currency.
//!
//! **Published** (Alipay+ docs, "Transaction Detail Report" for ACQPs,
//! <https://docs.alipayplus.com/alipayplus/alipayplus/reconcile_acq/trans_detail>, and
//! "Settlement Report", <https://docs.alipayplus.com/alipayplus/alipayplus/reconcile_acq/settlement>;
//! alipayplus.md §9.2, payouts-jp.md §5.3): delivered by SFTP under
//! `/v1/settlements/clearing/<participantId>/<date>` as UTF-8 text named
//! `transactionItems_<participantId>_<settlementCurrency>_<clearingBatchId>_<participantAgreementId>_<seq>.csv`
//! (`seq` 000–999; the Settlement Report is `settlement_…_<settlementBatchId>_…`); a summary
//! section (e.g. `totalCount`) and then a detail section; only the payments and refunds
//! completed in the clearing cycle (00:00–23:59:59 UTC+8, by `transactionTime`); the FX
//! rate is fixed when the transaction is made (`settlementQuote`); fees are netted out of
//! settlement. Amounts in Alipay+'s and Antom's APIs *and reconciliation reports* are
//! integers in the currency's smallest unit ("Usage rules of the Amount object",
//! <https://docs.antom.com/ac/ref/cc>).
//!
//! **Inferred** (the ACQP detail section's column list is not public): the columns below,
//! named after Antom's settlement file (`settlementBatchId, customerId, transactionId,
//! originalTransactionId, transactionRequestId, paymentMethodType, pspName,
//! transactionType, paymentTime, settlementTime, productCode, transactionAmountValue, …`,
//! <https://docs.antom.com/ac/amsapi/settlement>) and the Alipay+ API's own field names
//! (`settlementAmount`, `settlementQuote.quoteCurrencyPair`, `quotePrice`); the summary's
//! fields other than `totalCount`; the per-line fee (the real set puts fees in a separate Fee
//! Report), in the transaction currency; `CANCEL` lines for payments cancelled after they
//! were charged; `clearingBatchId` as the cycle's date. A real integration checks these
//! against the report layout Alipay+ hands over at onboarding.
//!
//! The layout, one value per comma-separated field, no quoting:
//!
//! ```text
//! totalCount,netSettlementAmountValue,settlementCurrency
//! 3,461,USD
//! transactionId,originalTransactionId,transactionRequestId,originalTransactionRequestId,pspId,transactionType,transactionTime,transactionAmountValue,transactionCurrency,settlementAmountValue,settlementCurrency,quoteCurrencyPair,quotePrice,feeAmountValue,feeCurrency
//! 20260000000000000001,,pay_1,,1022188000000000001,PAYMENT,2026-12-01T10:00:00+08:00,1200,JPY,790,USD,JPY/USD,0.00658,29,JPY
//! RF10000000001,20260000000000000001,ref_1,pay_1,1022188000000000001,REFUND,2026-12-01T10:05:00+08:00,500,JPY,329,USD,JPY/USD,0.00658,,
//! ```
//!
//! `quotePrice` is settlement units per transaction unit, the pair written transaction
//! currency first (as the adapter normalises `settlementQuote`); a line settled in its own
//! currency has no quote. `netSettlementAmountValue` is payments less refunds and cancels,
//! and must agree with the lines.
mod write;

use std::collections::HashMap;
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::recon::{
    RECON_FILE_BYTES_MAX, RECON_LINES_MAX, ReconFormat, ReconKind, ReconLine, ReconSettlement,
    ReconStatus,
};
use kakehashi_adapter_core::sim_control::Amount;
use rust_decimal::Decimal;

pub use write::{FileName, write_file};

/// The summary section's header.
pub const SUMMARY: [&str; 3] = [
    "totalCount",
    "netSettlementAmountValue",
    "settlementCurrency",
];
/// The detail section's header, in order.
pub const COLUMNS: [&str; 15] = [
    "transactionId",
    "originalTransactionId",
    "transactionRequestId",
    "originalTransactionRequestId",
    "pspId",
    "transactionType",
    "transactionTime",
    "transactionAmountValue",
    "transactionCurrency",
    "settlementAmountValue",
    "settlementCurrency",
    "quoteCurrencyPair",
    "quotePrice",
    "feeAmountValue",
    "feeCurrency",
];
/// Ids are at most 64 characters in Alipay+'s API.
const ID_CHARS_MAX: usize = 64;
/// Decimals a quote price may carry (Alipay+ sends a BigDecimal; the switch's rates bound).
const QUOTE_SCALE_MAX: u32 = 12;
/// Digits a minor-unit amount may have: Alipay+'s `value` is at most 16 characters.
const VALUE_DIGITS_MAX: usize = 16;

/// The report as the switch's `kakehashi reconcile` reads it (through the adapter's factory).
pub const FORMAT: ReconFormat = ReconFormat {
    name: "Alipay+ Transaction Detail Report (transactionItems_*.csv)",
    parse: |bytes| parse_file(bytes).map_err(|e| e.to_string()),
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconFileError {
    #[error("the report is larger than {RECON_FILE_BYTES_MAX} bytes or {RECON_LINES_MAX} lines")]
    TooLarge,
    #[error("the report is not UTF-8 text")]
    NotText,
    #[error("the report's {section} header is not Alipay+'s: expected {expected}")]
    Header {
        section: &'static str,
        expected: String,
    },
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the summary says {stated}, the lines add up to {listed}")]
    Summary { stated: String, listed: String },
}

/// A detail line's columns, by name.
struct Row<'a>(Vec<&'a str>);

// === impl Row ===

impl<'a> Row<'a> {
    fn get(&self, name: &str) -> &'a str {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.0.get(i).copied())
            .unwrap_or_default()
    }
}

/// What the summary states.
struct Summary {
    total_count: usize,
    net_minor: i64,
    currency: Currency,
}

/// Parses the report: the summary, then every detail line; a `CANCEL` turns its payment's
/// line reversed (or stands as a reversed payment when the payment cleared earlier).
pub fn parse_file(bytes: &[u8]) -> Result<Vec<ReconLine>, ReconFileError> {
    if bytes.len() > RECON_FILE_BYTES_MAX {
        return Err(ReconFileError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ReconFileError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = |section, found: Option<&str>, expected: &[&str]| {
        let matches =
            found.is_some_and(|h| h.split(',').map(str::trim).eq(expected.iter().copied()));
        if matches {
            Ok(())
        } else {
            Err(ReconFileError::Header {
                section,
                expected: expected.join(","),
            })
        }
    };
    header("summary", rows.next().map(|r| r.1), &SUMMARY)?;
    let (n, stated) = rows.next().ok_or(ReconFileError::Header {
        section: "summary",
        expected: "a summary line after the summary header".into(),
    })?;
    let summary = parse_summary(stated).map_err(|reason| ReconFileError::Line {
        line: n + 1,
        reason,
    })?;
    header("detail", rows.next().map(|r| r.1), &COLUMNS)?;
    let mut lines: Vec<ReconLine> = Vec::new();
    let mut payments: HashMap<String, usize> = HashMap::new();
    let mut net_minor: i64 = 0;
    let mut count = 0usize;
    for (n, row) in rows {
        count += 1;
        if count > RECON_LINES_MAX {
            return Err(ReconFileError::TooLarge);
        }
        let fail = |reason: String| ReconFileError::Line {
            line: n + 1,
            reason,
        };
        let (kind, line) = parse_row(row, summary.currency).map_err(fail)?;
        let settled = line
            .settlement
            .as_ref()
            .map_or(line.amount.minor(), |s| s.amount.minor());
        net_minor = match kind {
            Type::Payment => net_minor.checked_add(settled),
            Type::Refund | Type::Cancel => net_minor.checked_sub(settled),
        }
        .ok_or_else(|| fail("the amounts overflow".into()))?;
        add(kind, line, &mut lines, &mut payments).map_err(fail)?;
    }
    if count != summary.total_count || net_minor != summary.net_minor {
        let text = |count: usize, net: i64| {
            format!("{count} lines netting {net} {}", summary.currency.code())
        };
        return Err(ReconFileError::Summary {
            stated: text(summary.total_count, summary.net_minor),
            listed: text(count, net_minor),
        });
    }
    Ok(lines)
}

fn parse_summary(row: &str) -> Result<Summary, String> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    let [count, net, currency] = fields[..] else {
        return Err(format!(
            "{} summary fields, expected {}",
            fields.len(),
            SUMMARY.len()
        ));
    };
    let total_count = count
        .parse::<usize>()
        .map_err(|_| format!("totalCount `{}` is not a count", short(count)))?;
    let (negative, magnitude) = match net.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, net),
    };
    let magnitude =
        minor_units(magnitude).map_err(|why| format!("netSettlementAmountValue: {why}"))?;
    let currency = parse_currency(currency).map_err(|e| format!("settlementCurrency: {e}"))?;
    Ok(Summary {
        total_count,
        net_minor: if negative { -magnitude } else { magnitude },
        currency,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Payment,
    Refund,
    Cancel,
}

/// Keeps a line: a payment once, a cancel on its payment, a refund as it is.
fn add(
    kind: Type,
    line: ReconLine,
    lines: &mut Vec<ReconLine>,
    payments: &mut HashMap<String, usize>,
) -> Result<(), String> {
    match kind {
        Type::Refund => lines.push(line),
        Type::Payment => {
            if payments.contains_key(&line.payment_id) {
                return Err(format!(
                    "payment {} is listed twice",
                    short(&line.payment_id)
                ));
            }
            payments.insert(line.payment_id.clone(), lines.len());
            lines.push(line);
        }
        Type::Cancel => match payments.get(&line.payment_id).map(|&i| &mut lines[i]) {
            Some(paid) if paid.status == ReconStatus::Reversed => {
                return Err(format!(
                    "payment {} is cancelled twice",
                    short(&line.payment_id)
                ));
            }
            Some(paid) if paid.amount != line.amount || paid.network_id != line.network_id => {
                return Err(format!(
                    "the cancel of {} is not the payment's transactionId and amount",
                    short(&line.payment_id)
                ));
            }
            Some(paid) => paid.status = ReconStatus::Reversed,
            None => {
                payments.insert(line.payment_id.clone(), lines.len());
                lines.push(line);
            }
        },
    }
    Ok(())
}

fn parse_row(row: &str, settlement_currency: Currency) -> Result<(Type, ReconLine), String> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    if fields.len() != COLUMNS.len() {
        return Err(format!(
            "{} fields, expected {}",
            fields.len(),
            COLUMNS.len()
        ));
    }
    if fields.iter().any(|f| f.contains('"')) {
        return Err("a quoted field: the report's values carry no quotes".into());
    }
    let row = Row(fields);
    let kind = match row.get("transactionType") {
        "PAYMENT" => Type::Payment,
        "REFUND" => Type::Refund,
        "CANCEL" => Type::Cancel,
        other => {
            return Err(format!(
                "unknown transactionType `{}` (PAYMENT, REFUND or CANCEL)",
                short(other)
            ));
        }
    };
    let transaction_id = id(&row, "transactionId", true)?;
    let request_id = id(&row, "transactionRequestId", true)?;
    let original_request = id(&row, "originalTransactionRequestId", kind == Type::Refund)?;
    // Optional: a refund of a payment cleared in an earlier cycle may not name it.
    id(&row, "originalTransactionId", false)?;
    id(&row, "pspId", false)?;
    check_time(row.get("transactionTime"))?;
    let currency = column_currency(&row, "transactionCurrency")?;
    let amount = amount_in(&row, "transactionAmountValue", currency)?;
    if amount.minor() == 0 {
        return Err("transactionAmountValue is zero".into());
    }
    let settlement = settlement(&row, amount, settlement_currency)?;
    let fee = match (row.get("feeAmountValue"), row.get("feeCurrency")) {
        ("", "") => None,
        _ => Some(amount_in(
            &row,
            "feeAmountValue",
            column_currency(&row, "feeCurrency")?,
        )?),
    };
    let (kind_out, payment_id, refund_id) = match kind {
        Type::Refund => (ReconKind::Refund, original_request, Some(request_id)),
        Type::Payment | Type::Cancel => (ReconKind::Payment, request_id, None),
    };
    let line = ReconLine {
        kind: kind_out,
        payment_id,
        refund_id,
        network_id: transaction_id,
        status: match kind {
            Type::Cancel => ReconStatus::Reversed,
            Type::Payment | Type::Refund => ReconStatus::Succeeded,
        },
        amount,
        wallet_amount: None,
        // The quote is the settlement's; the report states no wallet-side rate.
        rate: None,
        fee,
        settlement,
    };
    Ok((kind, line))
}

/// The settlement amount and its quote. A line settled in another currency names its quote
/// as `<transaction>/<settlement>`; one settled in its own carries none (price 1).
fn settlement(
    row: &Row<'_>,
    amount: Amount,
    settlement_currency: Currency,
) -> Result<Option<ReconSettlement>, String> {
    let currency = column_currency(row, "settlementCurrency")?;
    if currency != settlement_currency {
        return Err(format!(
            "settlementCurrency {} in a {} report",
            currency.code(),
            settlement_currency.code()
        ));
    }
    let settled = amount_in(row, "settlementAmountValue", currency)?;
    let (pair, price) = (row.get("quoteCurrencyPair"), row.get("quotePrice"));
    if pair.is_empty() && price.is_empty() {
        if currency != amount.currency() {
            return Err("a line settled in another currency without its quote".into());
        }
        return Ok(Some(ReconSettlement {
            amount: settled,
            quote_price: Decimal::ONE,
        }));
    }
    let expected = format!("{}/{}", amount.currency_code(), currency.code());
    if pair != expected {
        return Err(format!(
            "quoteCurrencyPair `{}` is not {expected} (transaction currency first)",
            short(pair)
        ));
    }
    let quote_price = Decimal::from_str_exact(price)
        .ok()
        .filter(|p| *p > Decimal::ZERO && p.scale() <= QUOTE_SCALE_MAX && !price.starts_with('+'))
        .ok_or_else(|| {
            format!(
                "quotePrice `{}` is not a positive decimal of at most {QUOTE_SCALE_MAX} places",
                short(price)
            )
        })?;
    Ok(Some(ReconSettlement {
        amount: settled,
        quote_price,
    }))
}

fn id(row: &Row<'_>, column: &str, required: bool) -> Result<String, String> {
    let value = row.get(column);
    if value.is_empty() && !required {
        return Ok(String::new());
    }
    let good = !value.is_empty()
        && value.chars().count() <= ID_CHARS_MAX
        && value.chars().all(|c| c.is_ascii_graphic());
    if good {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{column} must be 1..={ID_CHARS_MAX} printable ASCII characters"
        ))
    }
}

fn column_currency(row: &Row<'_>, column: &str) -> Result<Currency, String> {
    parse_currency(row.get(column)).map_err(|e| format!("{column}: {e}"))
}

fn amount_in(row: &Row<'_>, column: &str, currency: Currency) -> Result<Amount, String> {
    let minor = minor_units(row.get(column)).map_err(|why| format!("{column}: {why}"))?;
    Amount::from_minor(minor, currency).map_err(|e| format!("{column}: {e}"))
}

/// A non-negative integer of minor units, as Alipay+ writes `value`: digits only, no sign,
/// no decimal point (USD 12.34 is `1234`), no leading zero.
fn minor_units(text: &str) -> Result<i64, String> {
    let digits = !text.is_empty()
        && text.len() <= VALUE_DIGITS_MAX
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !digits {
        return Err(format!(
            "`{}` is not an amount in minor units (digits only: USD 12.34 is 1234)",
            short(text)
        ));
    }
    i64::from_str(text).map_err(|_| "too large".to_owned())
}

/// ISO 8601 with an offset (`2026-12-01T10:00:00+08:00`); not reconciled, but a line
/// without one is not Alipay+'s.
fn check_time(value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let shaped = (20..=35).contains(&b.len())
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
            "transactionTime `{}` is not an ISO 8601 time",
            short(value)
        ))
    }
}

fn short(text: &str) -> String {
    text.chars()
        .take(24)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

#[cfg(test)]
mod tests;
