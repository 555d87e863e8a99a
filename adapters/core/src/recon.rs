//! Reconciliation files: what a network's daily settlement or transaction file says, line
//! by line, in one shape every network's parser produces ([`ReconLine`]), and what the
//! simulators put into the files they write ([`lines_from_state`], with [`seed`]ed
//! discrepancies for tests). Each network's file format lives in its adapter crate
//! (`recon.rs`): a writer for its simulator and a parser for the switch.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::sim_control::{Amount, PaymentStatus, RefundStatus, SimError, SimState};

/// Most lines one file may hold, written or parsed.
pub const RECON_LINES_MAX: usize = 2_000_000;
/// Largest file a parser reads.
pub const RECON_FILE_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Most seeded discrepancies one file may carry.
pub const RECON_SEEDS_MAX: usize = 1_000;

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
    /// The wallet amount off by one major unit of the wallet currency.
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
                network_id: format!("9{n:027}"),
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
                let Some(wallet) = line.wallet_amount else {
                    return Err(SimError::Invalid("the line has no wallet amount".into()));
                };
                let major = 10_i64.pow(u32::from(wallet.currency().exponent().unwrap_or(0)));
                line.wallet_amount =
                    Some(bump(wallet, major).map_err(|e| SimError::Invalid(e.to_string()))?);
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
