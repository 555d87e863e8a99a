//! Reconciliation files: what a network's daily settlement or transaction file says, line
//! by line, in one shape every network's parser produces ([`ReconLine`]), and what the
//! simulators put into the files they write ([`lines_from_state`], with [`seed`]ed
//! discrepancies for tests). Each network's file format lives in its adapter crate
//! (`recon.rs`): a writer for its simulator and a parser for the switch, which the switch
//! reaches through the adapter's [`NetworkFactory::recon_format`](crate::NetworkFactory), so
//! no central match names the formats.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::sim_control::{Amount, PaymentStatus, RefundStatus, SimError, SimState};

/// Most lines one file may hold, written or parsed.
pub const RECON_LINES_MAX: usize = 2_000_000;
/// Largest file a parser reads.
pub const RECON_FILE_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Most seeded discrepancies one file may carry.
pub const RECON_SEEDS_MAX: usize = 1_000;

/// A network's reconciliation file format: its name (for people choosing a file and for the
/// error that lists the formats a build knows) and its strict parser. A parser refuses, never
/// guesses: a line it cannot read is an error naming the line, and nothing panics on any
/// input.
#[derive(Clone, Copy)]
pub struct ReconFormat {
    /// e.g. "WeChat Pay downloadbill (bill_type ALL)".
    pub name: &'static str,
    pub parse: fn(&[u8]) -> Result<Vec<ReconLine>, String>,
}

impl std::fmt::Debug for ReconFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconFormat")
            .field("name", &self.name)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconKind {
    Payment,
    Refund,
}

/// What the file says became of the line's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconStatus {
    /// Charged (a payment) or returned (a refund).
    Succeeded,
    /// Charged, then revoked or reversed: nothing stays charged.
    Reversed,
    /// Never charged.
    Failed,
}

/// One line of a network's file, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconLine {
    pub kind: ReconKind,
    /// The merchant side's payment id (the switch's payment id).
    pub payment_id: String,
    /// The merchant side's refund id, for a refund line where the network carries one.
    pub refund_id: Option<String>,
    /// The network's transaction (or refund) id.
    pub network_id: String,
    pub status: ReconStatus,
    /// In the merchant's currency, positive.
    pub amount: Amount,
    /// What the wallet paid (or got back), where the file says.
    pub wallet_amount: Option<Amount>,
    /// The rate the network applied, where the file says.
    pub rate: Option<Decimal>,
    /// The network's fee on the line, where the file says.
    pub fee: Option<Amount>,
    /// What the network settles for the line in its settlement currency and the quote it
    /// converted at, where the file says (Alipay+): the FX check for networks that settle in
    /// another currency than the merchant's and report no wallet amount.
    pub settlement: Option<ReconSettlement>,
}

/// A line's settlement figure: `amount` in the settlement currency, converted from the
/// line's merchant amount at `quote_price` (settlement units per merchant unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconSettlement {
    pub amount: Amount,
    pub quote_price: Decimal,
}

/// A discrepancy a simulator plants in a file, one line each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discrepancy {
    /// A line the switch has is left out.
    MissingAtNetwork,
    /// A line the switch never saw is added.
    MissingAtSwitch,
    /// One minor unit more than was charged.
    Amount,
    /// A success reported as reversed.
    Status,
    /// The wallet amount (or, in a file with none, the settlement amount) off by one major
    /// unit of its currency.
    Fx,
    /// The fee off by one minor unit.
    Fee,
}

/// `POST /_sim/recon-file`: the simulator's file for a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconFileRequest {
    /// `YYYY-MM-DD`: the day the file covers (and names).
    pub date: String,
    /// Discrepancies to plant, each on its own line.
    #[serde(default)]
    pub seeds: Vec<Discrepancy>,
    /// The network's fee rate on each line, for files with a fee column ("0.0245").
    #[serde(default)]
    pub fee_rate: Option<Decimal>,
}

// === impl ReconFileRequest ===

impl ReconFileRequest {
    /// The date's digits (`YYYYMMDD`), checked to be a date's shape.
    pub fn compact_date(&self) -> Result<String, SimError> {
        let d = self.date.as_bytes();
        let shaped = d.len() == 10
            && d[4] == b'-'
            && d[7] == b'-'
            && d.iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(SimError::Invalid("date must be YYYY-MM-DD".into()));
        }
        if self.seeds.len() > RECON_SEEDS_MAX {
            return Err(SimError::Invalid(format!(
                "at most {RECON_SEEDS_MAX} seeds"
            )));
        }
        Ok(self.date.replace('-', ""))
    }
}

/// The lines a network's file holds for the simulator's books: every payment that was
/// charged (succeeded, or reversed after the charge, which the networks keep under the
/// original number) and every completed refund. The books keep no times, so the file lists
/// all of them under the day asked for; a test's simulator lives within one day.
pub fn lines_from_state(state: &SimState, fee_rate: Option<Decimal>) -> Vec<ReconLine> {
    let fee = |amount: &Amount| -> Option<Amount> {
        let rate = fee_rate?;
        let exponent = u32::from(amount.currency().exponent().unwrap_or(0));
        let fee =
            (amount.decimal() * rate).round_dp_with_strategy(exponent, RoundingStrategy::ToZero);
        Amount::from_decimal(fee, amount.currency()).ok()
    };
    let mut lines = Vec::new();
    for p in &state.payments {
        let status = match p.status {
            PaymentStatus::Succeeded => ReconStatus::Succeeded,
            PaymentStatus::Reversed if p.network_id.is_some() => ReconStatus::Reversed,
            _ => continue,
        };
        lines.push(ReconLine {
            kind: ReconKind::Payment,
            payment_id: p.id.clone(),
            refund_id: None,
            network_id: p.network_id.clone().unwrap_or_default(),
            status,
            amount: p.amount,
            wallet_amount: p.wallet_amount,
            rate: None,
            fee: fee(&p.amount),
            settlement: None,
        });
    }
    for r in &state.refunds {
        if r.status != RefundStatus::Succeeded {
            continue;
        }
        lines.push(ReconLine {
            kind: ReconKind::Refund,
            payment_id: r.payment.clone(),
            refund_id: r.id.clone(),
            network_id: r.network_id.clone().unwrap_or_default(),
            status: ReconStatus::Succeeded,
            amount: r.amount,
            wallet_amount: r.wallet_amount,
            rate: None,
            fee: None,
            settlement: None,
        });
    }
    lines.truncate(RECON_LINES_MAX);
    lines
}

/// Plants each discrepancy on its own successful payment line, in order (the first seed on
/// the first such line); `MissingAtSwitch` adds a line instead. Seeds beyond the lines
/// there are to spoil are refused.
pub fn seed(lines: &mut Vec<ReconLine>, seeds: &[Discrepancy]) -> Result<(), SimError> {
    let mut targets = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == ReconKind::Payment && l.status == ReconStatus::Succeeded)
        .map(|(i, _)| i)
        .collect::<Vec<_>>()
        .into_iter();
    let mut dropped = Vec::new();
    for (n, discrepancy) in seeds.iter().enumerate() {
        if *discrepancy == Discrepancy::MissingAtSwitch {
            let template = lines
                .first()
                .cloned()
                .ok_or_else(|| SimError::Invalid("no line to copy for missing_at_switch".into()))?;
            lines.push(ReconLine {
                payment_id: format!("pay_unknown_to_the_switch_{n}"),
                // 19 digits: every network's id column takes it (LINE Pay's are u64).
                network_id: format!("9{n:018}"),
                kind: ReconKind::Payment,
                refund_id: None,
                status: ReconStatus::Succeeded,
                ..template
            });
            continue;
        }
        let index = targets
            .next()
            .ok_or_else(|| SimError::Invalid("more seeds than payments to spoil".into()))?;
        let line = &mut lines[index];
        let bump = |a: Amount, minor: i64| Amount::from_minor(a.minor() + minor, a.currency());
        match discrepancy {
            Discrepancy::MissingAtNetwork => dropped.push(index),
            Discrepancy::Amount => {
                line.amount = bump(line.amount, 1).map_err(|e| SimError::Invalid(e.to_string()))?;
            }
            Discrepancy::Status => line.status = ReconStatus::Reversed,
            Discrepancy::Fx => {
                let major = |a: Amount| 10_i64.pow(u32::from(a.currency().exponent().unwrap_or(0)));
                let invalid = |e: crate::sim_control::AmountError| SimError::Invalid(e.to_string());
                if let Some(wallet) = line.wallet_amount {
                    line.wallet_amount = Some(bump(wallet, major(wallet)).map_err(invalid)?);
                } else if let Some(settlement) = &mut line.settlement {
                    let amount = settlement.amount;
                    settlement.amount = bump(amount, major(amount)).map_err(invalid)?;
                } else {
                    return Err(SimError::Invalid(
                        "the file has no wallet or settlement amount".into(),
                    ));
                }
            }
            Discrepancy::Fee => {
                let Some(fee) = line.fee else {
                    return Err(SimError::Invalid("the file has no fee column".into()));
                };
                line.fee = Some(bump(fee, 1).map_err(|e| SimError::Invalid(e.to_string()))?);
            }
            Discrepancy::MissingAtSwitch => {}
        }
    }
    dropped.sort_unstable();
    for index in dropped.into_iter().rev() {
        lines.remove(index);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn line(settlement: bool) -> ReconLine {
        ReconLine {
            kind: ReconKind::Payment,
            payment_id: "p1".into(),
            refund_id: None,
            network_id: "n1".into(),
            status: ReconStatus::Succeeded,
            amount: Amount::from_minor(1200, Currency::JPY).unwrap(),
            wallet_amount: None,
            rate: None,
            fee: None,
            settlement: settlement.then(|| ReconSettlement {
                amount: Amount::from_minor(790, Currency::USD).unwrap(),
                quote_price: Decimal::new(658, 5),
            }),
        }
    }

    #[test]
    fn an_fx_seed_moves_the_settlement_where_there_is_no_wallet_amount() {
        let mut lines = vec![line(true)];
        seed(&mut lines, &[Discrepancy::Fx]).unwrap();
        let settled = lines[0].settlement.as_ref().unwrap().amount;
        assert_eq!(settled.minor(), 890, "one dollar more");
        let mut bare = vec![line(false)];
        assert!(seed(&mut bare, &[Discrepancy::Fx]).is_err());
        assert!(seed(&mut bare, &[Discrepancy::Fee]).is_err());
    }

    #[test]
    fn a_line_unknown_to_the_switch_has_a_19_digit_network_id() {
        let mut lines = vec![line(false)];
        seed(&mut lines, &[Discrepancy::MissingAtSwitch]).unwrap();
        let added = &lines[1];
        assert_eq!(added.network_id.len(), 19);
        assert!(added.network_id.parse::<u64>().is_ok());
        assert_eq!(added.payment_id, "pay_unknown_to_the_switch_0");
    }
}
