//! Reconciliation: a network's daily file (parsed by its adapter into
//! [`ReconLine`]s) against the switch's own records of that business day, every line
//! classified: matched, missing at the network, missing at the switch, amount mismatch,
//! status mismatch, FX difference beyond tolerance, fee mismatch. A line may show several
//! problems; each is reported with both sides' values. [`reconcile`] is pure;
//! `run.rs` loads the day's records and the file.
pub mod bench;
pub mod cli;
mod ours;
mod run;
mod settled;

use std::collections::{BTreeMap, HashMap};

use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::recon::{ReconKind, ReconLine, ReconStatus};
use kakehashi_adapter_core::sim_control::Amount;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::fx::RoundingMode;
use crate::fx::convert::minor_to_string;

pub use run::{FxOptions, ReconcileError, parse_file, reconcile_file};
use settled::{expected_settlement, settlement_apart};

/// What our records say of one payment that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurPayment {
    pub payment_id: String,
    pub merchant_id: String,
    pub network_txn_id: Option<String>,
    pub amount: Money,
    pub wallet_amount: Option<Money>,
    /// What the network said it would settle for the payment, where it said (Alipay+).
    pub settlement: Option<OurSettlement>,
    /// Captured and then reversed: nothing stays charged.
    pub reversed: bool,
}

/// The settlement quote a network attached to a payment when it was made: the settlement
/// amount and the quote price (settlement units per merchant unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurSettlement {
    pub amount: Money,
    pub quote_price: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurRefund {
    pub refund_id: String,
    pub payment_id: String,
    pub network_refund_id: Option<String>,
    pub amount: Money,
}

/// How far apart two figures may be and still match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tolerances {
    /// Wallet (or settlement) amounts may differ by this many minor units (a network's
    /// rounding).
    pub fx_minor: i64,
    /// How a settlement amount we compute from the file's quote is rounded: the network's
    /// conversion rounding.
    pub fx_rounding: RoundingMode,
    /// The fee each merchant's lines should carry (rate and rounding), where the file has a
    /// fee column; a merchant missing here is not fee-checked.
    pub fee_rates: BTreeMap<String, Decimal>,
    pub fee_rounding: RoundingMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Matched,
    MissingAtNetwork,
    MissingAtSwitch,
    AmountMismatch,
    StatusMismatch,
    FxDifference,
    FeeMismatch,
}

/// One side's values for a line, as text exactly as each side holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Side {
    pub status: String,
    pub amount: Option<String>,
    pub wallet_amount: Option<String>,
    /// The settlement amount and the quote price it was converted at ("12.34 USD at
    /// 0.00658"), for files that state one.
    pub settlement_amount: Option<String>,
    pub fee: Option<String>,
    pub network_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: Class,
    pub kind: ReconKind,
    pub payment_id: String,
    pub refund_id: Option<String>,
    pub ours: Option<Side>,
    pub theirs: Option<Side>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub network: String,
    pub business_date: String,
    /// Lines of the file, and our records of the day, looked at.
    pub file_lines: u64,
    pub our_records: u64,
    /// How many findings of each class (matched: lines with no problem).
    pub counts: BTreeMap<Class, u64>,
    /// Every problem, with both sides' values; matched lines are only counted.
    pub findings: Vec<Finding>,
}

// === impl Report ===

impl Report {
    pub fn count(&self, class: Class) -> u64 {
        self.counts.get(&class).copied().unwrap_or(0)
    }

    /// No finding but matches.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    fn push(&mut self, finding: Finding) {
        *self.counts.entry(finding.class).or_default() += 1;
        self.findings.push(finding);
    }

    fn matched(&mut self) {
        *self.counts.entry(Class::Matched).or_default() += 1;
    }
}

fn amount_text(a: &Amount) -> String {
    format!("{} {}", a.value_string(), a.currency_code())
}

fn money_text(m: &Money) -> String {
    format!("{} {}", m.value_string(), m.currency_code())
}

fn their_side(l: &ReconLine) -> Side {
    Side {
        status: match l.status {
            ReconStatus::Succeeded => "succeeded",
            ReconStatus::Reversed => "reversed",
            ReconStatus::Failed => "failed",
        }
        .into(),
        amount: Some(amount_text(&l.amount)),
        wallet_amount: l.wallet_amount.as_ref().map(amount_text),
        settlement_amount: l
            .settlement
            .as_ref()
            .map(|s| format!("{} at {}", amount_text(&s.amount), s.quote_price)),
        fee: l.fee.as_ref().map(amount_text),
        network_id: Some(l.network_id.clone()).filter(|n| !n.is_empty()),
    }
}

fn our_payment_side(p: &OurPayment, fee: Option<String>, settlement: Option<String>) -> Side {
    Side {
        status: if p.reversed { "reversed" } else { "succeeded" }.into(),
        amount: Some(money_text(&p.amount)),
        wallet_amount: p.wallet_amount.as_ref().map(money_text),
        settlement_amount: settlement,
        fee,
        network_id: p.network_txn_id.clone(),
    }
}

fn our_refund_side(r: &OurRefund) -> Side {
    Side {
        status: "succeeded".into(),
        amount: Some(money_text(&r.amount)),
        wallet_amount: None,
        settlement_amount: None,
        fee: None,
        network_id: r.network_refund_id.clone(),
    }
}

/// Classifies every line of the file against our records of the same day.
pub fn reconcile(
    network: &str,
    business_date: &str,
    payments: &[OurPayment],
    refunds: &[OurRefund],
    file: &[ReconLine],
    tolerances: &Tolerances,
) -> Report {
    let mut report = Report {
        network: network.to_owned(),
        business_date: business_date.to_owned(),
        file_lines: file.len() as u64,
        our_records: (payments.len() + refunds.len()) as u64,
        ..Report::default()
    };
    let by_id: HashMap<&str, &OurPayment> = payments
        .iter()
        .map(|p| (p.payment_id.as_str(), p))
        .collect();
    let mut seen_payments: HashMap<&str, bool> = HashMap::new();
    let mut seen_refunds = vec![false; refunds.len()];
    for line in file {
        match line.kind {
            ReconKind::Payment => match by_id.get(line.payment_id.as_str()) {
                Some(ours) => {
                    seen_payments.insert(ours.payment_id.as_str(), true);
                    compare_payment(&mut report, ours, line, tolerances);
                }
                None => report.push(Finding {
                    class: Class::MissingAtSwitch,
                    kind: ReconKind::Payment,
                    payment_id: line.payment_id.clone(),
                    refund_id: None,
                    ours: None,
                    theirs: Some(their_side(line)),
                }),
            },
            ReconKind::Refund => match find_refund(refunds, &seen_refunds, line) {
                Some(index) => {
                    seen_refunds[index] = true;
                    compare_refund(&mut report, &refunds[index], line);
                }
                None => report.push(Finding {
                    class: Class::MissingAtSwitch,
                    kind: ReconKind::Refund,
                    payment_id: line.payment_id.clone(),
                    refund_id: line.refund_id.clone(),
                    ours: None,
                    theirs: Some(their_side(line)),
                }),
            },
        }
    }
    // What we hold that the file does not: a payment still charged, every refund. A payment
    // reversed the same day may or may not be listed (networks differ), so it is not missed.
    for p in payments {
        if !p.reversed && !seen_payments.contains_key(p.payment_id.as_str()) {
            report.push(Finding {
                class: Class::MissingAtNetwork,
                kind: ReconKind::Payment,
                payment_id: p.payment_id.clone(),
                refund_id: None,
                ours: Some(our_payment_side(p, None, None)),
                theirs: None,
            });
        }
    }
    for (r, seen) in refunds.iter().zip(&seen_refunds) {
        if !seen {
            report.push(Finding {
                class: Class::MissingAtNetwork,
                kind: ReconKind::Refund,
                payment_id: r.payment_id.clone(),
                refund_id: Some(r.refund_id.clone()),
                ours: Some(our_refund_side(r)),
                theirs: None,
            });
        }
    }
    report
}

/// Our refund for a file line: by our refund id where the file carries it, else by the
/// network's refund id, else the first unmatched refund of the payment with that amount.
fn find_refund(refunds: &[OurRefund], seen: &[bool], line: &ReconLine) -> Option<usize> {
    let open = |i: &usize| !seen[*i];
    let indices = || (0..refunds.len()).filter(open);
    if let Some(id) = &line.refund_id {
        return indices().find(|i| &refunds[*i].refund_id == id);
    }
    if !line.network_id.is_empty()
        && let Some(i) = indices()
            .find(|i| refunds[*i].network_refund_id.as_deref() == Some(line.network_id.as_str()))
    {
        return Some(i);
    }
    indices().find(|i| {
        refunds[*i].payment_id == line.payment_id
            && refunds[*i].amount.minor() == line.amount.minor()
    })
}

fn same_money(ours: &Money, theirs: &Amount) -> bool {
    ours.currency() == theirs.currency() && ours.minor() == theirs.minor()
}

fn compare_payment(report: &mut Report, ours: &OurPayment, line: &ReconLine, t: &Tolerances) {
    let expected_fee = t.fee_rates.get(&ours.merchant_id).map(|rate| {
        crate::settlement::batch::apply_rate(ours.amount.minor(), *rate, t.fee_rounding)
    });
    let mut problems = Vec::new();
    let charged_there = line.status == ReconStatus::Succeeded;
    if charged_there == ours.reversed {
        problems.push(Class::StatusMismatch);
    }
    if !same_money(&ours.amount, &line.amount) {
        problems.push(Class::AmountMismatch);
    }
    let wallets_apart = match (&ours.wallet_amount, &line.wallet_amount) {
        (Some(our_wallet), Some(their_wallet)) => {
            our_wallet.currency() != their_wallet.currency()
                || (our_wallet.minor() - their_wallet.minor()).abs() > t.fx_minor
        }
        _ => false,
    };
    let expected_settlement = line
        .settlement
        .as_ref()
        .map(|theirs| expected_settlement(ours, theirs, t.fx_rounding));
    let settlement_apart = match (&expected_settlement, &line.settlement) {
        (Some(expected), Some(theirs)) => settlement_apart(expected, theirs, t.fx_minor),
        _ => false,
    };
    if wallets_apart || settlement_apart {
        problems.push(Class::FxDifference);
    }
    if let (Some(expected), Some(fee)) = (expected_fee, &line.fee)
        && (fee.currency() != ours.amount.currency() || fee.minor() != expected)
    {
        problems.push(Class::FeeMismatch);
    }
    if problems.is_empty() {
        report.matched();
        return;
    }
    let fee_text = expected_fee.map(|f| {
        format!(
            "{} {}",
            minor_to_string(f, ours.amount.currency()),
            ours.amount.currency_code()
        )
    });
    let settlement_text = expected_settlement.map(|e| e.text());
    for class in problems {
        report.push(Finding {
            class,
            kind: ReconKind::Payment,
            payment_id: ours.payment_id.clone(),
            refund_id: None,
            ours: Some(our_payment_side(
                ours,
                fee_text.clone(),
                settlement_text.clone(),
            )),
            theirs: Some(their_side(line)),
        });
    }
}

fn compare_refund(report: &mut Report, ours: &OurRefund, line: &ReconLine) {
    let mut problems = Vec::new();
    if line.status != ReconStatus::Succeeded {
        problems.push(Class::StatusMismatch);
    }
    if !same_money(&ours.amount, &line.amount) {
        problems.push(Class::AmountMismatch);
    }
    if problems.is_empty() {
        report.matched();
        return;
    }
    for class in problems {
        report.push(Finding {
            class,
            kind: ReconKind::Refund,
            payment_id: ours.payment_id.clone(),
            refund_id: Some(ours.refund_id.clone()),
            ours: Some(our_refund_side(ours)),
            theirs: Some(their_side(line)),
        });
    }
}

#[cfg(test)]
mod tests;
