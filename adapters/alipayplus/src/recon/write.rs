//! The simulator's side of the report: a clearing cycle's lines written as a Transaction
//! Detail Report, and the report's file name.
use std::collections::HashMap;
use std::fmt;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::recon::{ReconKind, ReconLine, ReconStatus};
use kakehashi_adapter_core::sim_control::Amount;

use super::{COLUMNS, SUMMARY};

/// `transactionItems_<participantId>_<settlementCurrency>_<clearingBatchId>_<participantAgreementId>_<seq>.csv`,
/// as Alipay+ names the report (published). The ids carry no `_`, so the name splits back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub participant_id: String,
    pub settlement_currency: Currency,
    pub clearing_batch_id: String,
    pub participant_agreement_id: String,
    /// 0..=999: the file's index when a cycle needs several.
    pub seq: u16,
}

// === impl FileName ===

impl FileName {
    pub fn parse(name: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{}` is not a transactionItems_*_<seq>.csv name",
                super::short(name)
            )
        };
        let stem = name
            .strip_prefix("transactionItems_")
            .and_then(|n| n.strip_suffix(".csv"))
            .ok_or_else(bad)?;
        let parts: Vec<&str> = stem.split('_').collect();
        let [participant, currency, batch, agreement, seq] = parts[..] else {
            return Err(bad());
        };
        let id = |s: &str| {
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        let seq_ok = seq.len() == 3 && seq.bytes().all(|b| b.is_ascii_digit());
        if !(id(participant) && id(batch) && id(agreement) && seq_ok) {
            return Err(bad());
        }
        Ok(Self {
            participant_id: participant.to_owned(),
            settlement_currency: parse_currency(currency).map_err(|e| e.to_string())?,
            clearing_batch_id: batch.to_owned(),
            participant_agreement_id: agreement.to_owned(),
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "transactionItems_{}_{}_{}_{}_{:03}.csv",
            self.participant_id,
            self.settlement_currency.code(),
            self.clearing_batch_id,
            self.participant_agreement_id,
            self.seq
        )
    }
}

/// One detail row's values, in [`COLUMNS`] order.
struct Row {
    transaction_type: &'static str,
    transaction_id: String,
    original_transaction_id: String,
    request_id: String,
    original_request_id: String,
    amount: Amount,
    settled: Amount,
    /// `quoteCurrencyPair` and `quotePrice`.
    quote: Option<(String, String)>,
    fee: Option<Amount>,
}

/// Writes the report of a cycle (`date`, `YYYY-MM-DD`, UTC+8) settled in
/// `settlement_currency`. A payment reversed after it was charged is its `PAYMENT` and a
/// `CANCEL`; a payment never charged is not cleared, so not listed. A line without a
/// settlement figure settles in its own currency.
pub fn write_file(date: &str, settlement_currency: Currency, lines: &[ReconLine]) -> Vec<u8> {
    let paid_ids: HashMap<&str, &str> = lines
        .iter()
        .filter(|l| l.kind == ReconKind::Payment)
        .map(|l| (l.payment_id.as_str(), l.network_id.as_str()))
        .collect();
    let mut rows = Vec::new();
    for l in lines {
        let (settled, quote) = match &l.settlement {
            Some(s) => (
                s.amount,
                Some((
                    format!("{}/{}", l.amount.currency_code(), s.amount.currency_code()),
                    s.quote_price.to_string(),
                )),
            ),
            None => (l.amount, None),
        };
        let row = |transaction_type| Row {
            transaction_type,
            transaction_id: l.network_id.clone(),
            original_transaction_id: String::new(),
            request_id: l.payment_id.clone(),
            original_request_id: String::new(),
            amount: l.amount,
            settled,
            quote: quote.clone(),
            fee: l.fee,
        };
        match (l.kind, l.status) {
            (ReconKind::Payment, ReconStatus::Succeeded) => rows.push(row("PAYMENT")),
            (ReconKind::Payment, ReconStatus::Reversed) => {
                rows.push(row("PAYMENT"));
                rows.push(Row {
                    fee: None,
                    ..row("CANCEL")
                });
            }
            (ReconKind::Payment, ReconStatus::Failed) => {}
            (ReconKind::Refund, _) => rows.push(Row {
                original_transaction_id: paid_ids
                    .get(l.payment_id.as_str())
                    .map(|id| (*id).to_owned())
                    .unwrap_or_default(),
                request_id: l.refund_id.clone().unwrap_or_default(),
                original_request_id: l.payment_id.clone(),
                ..row("REFUND")
            }),
        }
    }
    // i128: a cycle's sum may pass i64 though no line does (the parser then refuses it).
    let net: i128 = rows
        .iter()
        .map(|r| match r.transaction_type {
            "PAYMENT" => i128::from(r.settled.minor()),
            _ => -i128::from(r.settled.minor()),
        })
        .sum();
    let mut out = SUMMARY.join(",");
    out.push('\n');
    out.push_str(&format!(
        "{},{net},{}\n",
        rows.len(),
        settlement_currency.code()
    ));
    out.push_str(&COLUMNS.join(","));
    out.push('\n');
    for (n, r) in rows.iter().enumerate() {
        let (fee_value, fee_currency) = match &r.fee {
            Some(fee) => (fee.minor().to_string(), fee.currency_code()),
            None => (String::new(), ""),
        };
        let (pair, price) = match &r.quote {
            Some((pair, price)) => (pair.as_str(), price.as_str()),
            None => ("", ""),
        };
        let fields = [
            r.transaction_id.as_str(),
            &r.original_transaction_id,
            &r.request_id,
            &r.original_request_id,
            "",
            r.transaction_type,
            &format!("{date}T{:02}:{:02}:00+08:00", 9 + (n / 60) % 14, n % 60),
            &r.amount.minor().to_string(),
            r.amount.currency_code(),
            &r.settled.minor().to_string(),
            r.settled.currency_code(),
            pair,
            price,
            &fee_value,
            fee_currency,
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out.into_bytes()
}
