//! Closing a network's business day: [`close_batch`] is pure. From the day's settled payments,
//! refunds and reversals it computes, per merchant, gross, refunds, reversals, the fee at the
//! merchant's rate, the consumption tax on it and the net payable; every line lists the
//! payment, refund and reversal ids it was computed from, so any figure can be traced (and a
//! reconciliation can match the network's lines to ours).
use std::collections::BTreeMap;

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::business_date::BusinessDate;
use super::config::NetworkRules;
use crate::fx::RoundingMode;
use crate::fx::convert::{self, round_quotient};

/// Most facts one batch takes (a very busy network day; the benchmark runs a million).
pub const FACTS_PER_BATCH_MAX: usize = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    Payment,
    Refund,
    Reversal,
}

/// One money movement the network settles, as the write path records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledPaymentFact {
    pub kind: FactKind,
    pub payment_id: String,
    /// Set for refunds.
    pub refund_id: Option<String>,
    pub merchant_id: String,
    pub network: String,
    pub amount: Money,
    pub wallet_amount: Option<Money>,
    /// The network's transaction id, for reconciliation.
    pub network_reference: Option<String>,
    pub at_ms: i64,
}

/// What [`close_batch`] needs besides the facts.
#[derive(Debug, Clone)]
pub struct BatchRules<'a> {
    pub network: &'a NetworkRules,
    pub tax_rate: Decimal,
    pub tax_rounding: RoundingMode,
    /// The rate from `network.currency` to `network.settlement_currency` when they differ.
    pub conversion_rate: Option<Decimal>,
    /// The network's rounding for conversions (`[fx.rounding]`).
    pub fx_rounding: RoundingMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub batch_id: String,
    pub network: String,
    pub business_date: BusinessDate,
    pub currency: Currency,
    pub fee_taxable: bool,
    pub tax_rate: Decimal,
    pub lines: Vec<BatchLine>,
    pub totals: BatchTotals,
    /// What the network owes in its settlement currency, when that differs.
    pub conversion: Option<BatchConversion>,
}

/// One merchant's figures in a batch, all in minor units of the batch currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchLine {
    pub merchant_id: String,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub reversals_minor: i64,
    /// `gross − refunds − reversals`, what the fee is charged on (never below zero).
    pub fee_base_minor: i64,
    pub fee_rate: Decimal,
    pub fee_minor: i64,
    /// Tax on this line's fee, rounded once for the line; the invoice for the period
    /// recomputes it once over all its lines and posts the difference.
    pub tax_minor: i64,
    /// `gross − refunds − reversals − fee − tax`; negative when refunds exceed sales.
    pub net_minor: i64,
    pub payment_ids: Vec<String>,
    pub refund_ids: Vec<String>,
    pub reversal_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchTotals {
    pub payments: u64,
    pub refunds: u64,
    pub reversals: u64,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub reversals_minor: i64,
    pub fee_minor: i64,
    pub tax_minor: i64,
    pub net_minor: i64,
    /// `gross − refunds − reversals`: what the network owes us for the day.
    pub receivable_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchConversion {
    pub settlement_currency: Currency,
    pub rate: Decimal,
    pub rounding: RoundingMode,
    pub receivable_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("fact {fact} is for network {found}, not {expected}")]
    WrongNetwork {
        fact: String,
        found: String,
        expected: String,
    },
    #[error("fact {fact} is in {found}; the {network} batch is in {expected}")]
    WrongCurrency {
        fact: String,
        found: &'static str,
        expected: &'static str,
        network: String,
    },
    #[error("fact {fact} is a refund without a refund id")]
    RefundWithoutId { fact: String },
    #[error("no fee rate for merchant {merchant} on {network} at {date}: add one to the config")]
    NoFeeRate {
        merchant: String,
        network: String,
        date: BusinessDate,
    },
    #[error("{network} settles in {settlement} but no {currency}/{settlement} rate was given")]
    NoSettlementRate {
        network: String,
        currency: &'static str,
        settlement: &'static str,
    },
    #[error("a batch takes at most {FACTS_PER_BATCH_MAX} facts")]
    TooManyFacts,
    #[error("{0}")]
    Fx(#[from] crate::fx::FxError),
}

#[derive(Default)]
struct Accumulator {
    gross: i64,
    refunds: i64,
    reversals: i64,
    payment_ids: Vec<String>,
    refund_ids: Vec<String>,
    reversal_ids: Vec<String>,
}

// === impl SettledPaymentFact ===

impl SettledPaymentFact {
    /// `payment:<id>`, `refund:<refund id>` or `reversal:<id>`: one fact per movement.
    pub fn fact_id(&self) -> String {
        match self.kind {
            FactKind::Payment => format!("payment:{}", self.payment_id),
            FactKind::Refund => format!("refund:{}", self.refund_id.as_deref().unwrap_or("")),
            FactKind::Reversal => format!("reversal:{}", self.payment_id),
        }
    }
}

// === impl Batch ===

impl Batch {
    pub fn id_for(network: &str, business_date: BusinessDate) -> String {
        format!("{network}/{business_date}")
    }
}

/// Closes `network`'s batch for `business_date` over `facts` (the caller chose them: every
/// fact of the network before the day's cut-off not yet in a batch).
pub fn close_batch(
    network: &str,
    business_date: BusinessDate,
    facts: &[SettledPaymentFact],
    rules: &BatchRules<'_>,
) -> Result<Batch, BatchError> {
    if facts.len() > FACTS_PER_BATCH_MAX {
        return Err(BatchError::TooManyFacts);
    }
    let currency = rules.network.currency;
    let merchants = accumulate(network, currency, facts)?;
    let mut totals = BatchTotals::default();
    let mut lines = Vec::with_capacity(merchants.len());
    for (merchant_id, acc) in merchants {
        let line = batch_line(network, business_date, merchant_id, acc, rules)?;
        add_to_totals(&mut totals, &line);
        lines.push(line);
    }
    let conversion = convert_receivable(network, totals.receivable_minor, rules)?;
    Ok(Batch {
        batch_id: Batch::id_for(network, business_date),
        network: network.to_owned(),
        business_date,
        currency,
        fee_taxable: rules.network.fee_taxable,
        tax_rate: rules.tax_rate,
        lines,
        totals,
        conversion,
    })
}

fn accumulate<'f>(
    network: &str,
    currency: Currency,
    facts: &'f [SettledPaymentFact],
) -> Result<BTreeMap<&'f str, Accumulator>, BatchError> {
    let mut merchants: BTreeMap<&str, Accumulator> = BTreeMap::new();
    for fact in facts {
        if fact.network != network {
            return Err(BatchError::WrongNetwork {
                fact: fact.fact_id(),
                found: fact.network.clone(),
                expected: network.to_owned(),
            });
        }
        if fact.amount.currency() != currency {
            return Err(BatchError::WrongCurrency {
                fact: fact.fact_id(),
                found: fact.amount.currency_code(),
                expected: currency.code(),
                network: network.to_owned(),
            });
        }
        let acc = merchants.entry(fact.merchant_id.as_str()).or_default();
        let minor = fact.amount.minor();
        match fact.kind {
            FactKind::Payment => {
                acc.gross += minor;
                acc.payment_ids.push(fact.payment_id.clone());
            }
            FactKind::Refund => {
                let id = fact
                    .refund_id
                    .clone()
                    .ok_or_else(|| BatchError::RefundWithoutId {
                        fact: fact.fact_id(),
                    })?;
                acc.refunds += minor;
                acc.refund_ids.push(id);
            }
            FactKind::Reversal => {
                acc.reversals += minor;
                acc.reversal_ids.push(fact.payment_id.clone());
            }
        }
    }
    Ok(merchants)
}

fn batch_line(
    network: &str,
    business_date: BusinessDate,
    merchant_id: &str,
    acc: Accumulator,
    rules: &BatchRules<'_>,
) -> Result<BatchLine, BatchError> {
    let fee_rate = rules
        .network
        .fees
        .rate_for(merchant_id, business_date)
        .ok_or_else(|| BatchError::NoFeeRate {
            merchant: merchant_id.to_owned(),
            network: network.to_owned(),
            date: business_date,
        })?;
    let fee_base_minor = (acc.gross - acc.refunds - acc.reversals).max(0);
    let fee_minor = apply_rate(fee_base_minor, fee_rate, rules.network.fee_rounding);
    let tax_minor = if rules.network.fee_taxable {
        apply_rate(fee_minor, rules.tax_rate, rules.tax_rounding)
    } else {
        0
    };
    Ok(BatchLine {
        merchant_id: merchant_id.to_owned(),
        gross_minor: acc.gross,
        refunds_minor: acc.refunds,
        reversals_minor: acc.reversals,
        fee_base_minor,
        fee_rate,
        fee_minor,
        tax_minor,
        net_minor: acc.gross - acc.refunds - acc.reversals - fee_minor - tax_minor,
        payment_ids: acc.payment_ids,
        refund_ids: acc.refund_ids,
        reversal_ids: acc.reversal_ids,
    })
}

/// `minor × rate`, rounded once with `rounding`. Rates are at most 6 decimals below 1 and
/// amounts at most ~10^18 summed, so the product stays inside i128.
pub fn apply_rate(minor: i64, rate: Decimal, rounding: RoundingMode) -> i64 {
    if minor <= 0 {
        return 0;
    }
    let rate = rate.normalize();
    let numerator = i128::from(minor) * rate.mantissa();
    let denominator = 10_i128.pow(rate.scale());
    i64::try_from(round_quotient(numerator, denominator, rounding)).unwrap_or(i64::MAX)
}

fn add_to_totals(totals: &mut BatchTotals, line: &BatchLine) {
    totals.payments += line.payment_ids.len() as u64;
    totals.refunds += line.refund_ids.len() as u64;
    totals.reversals += line.reversal_ids.len() as u64;
    totals.gross_minor += line.gross_minor;
    totals.refunds_minor += line.refunds_minor;
    totals.reversals_minor += line.reversals_minor;
    totals.fee_minor += line.fee_minor;
    totals.tax_minor += line.tax_minor;
    totals.net_minor += line.net_minor;
    totals.receivable_minor += line.gross_minor - line.refunds_minor - line.reversals_minor;
}

fn convert_receivable(
    network: &str,
    receivable_minor: i64,
    rules: &BatchRules<'_>,
) -> Result<Option<BatchConversion>, BatchError> {
    let from = rules.network.currency;
    let to = rules.network.settlement_currency;
    if from == to {
        return Ok(None);
    }
    let rate = rules.conversion_rate.ok_or(BatchError::NoSettlementRate {
        network: network.to_owned(),
        currency: from.code(),
        settlement: to.code(),
    })?;
    let rounding = rules.fx_rounding;
    let minor = if receivable_minor > 0 {
        convert::convert_minor(
            receivable_minor,
            convert::exponent(from)?,
            rate,
            convert::exponent(to)?,
            rounding,
        )?
    } else {
        0
    };
    Ok(Some(BatchConversion {
        settlement_currency: to,
        rate,
        rounding,
        receivable_minor: minor,
    }))
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
