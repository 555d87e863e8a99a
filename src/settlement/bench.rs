//! `kakehashi bench-settle --payments N`: closes one synthetic day of N payments (with
//! refunds and reversals, over many merchants) and renders its CSV and JSON reports, then
//! prints the time of each step and the process's peak memory. A benchmark, not a test: CI
//! never runs it.
use std::time::Instant;

use kakehashi_adapter_core::Money;
use rust_decimal::Decimal;

use super::batch::{BatchRules, FactKind, SettledPaymentFact, close_batch};
use super::business_date::{BusinessDate, Cutoff};
use super::config::NetworkRules;
use super::fees::{FeeRate, FeeSchedule};
use super::report;
use crate::fx::RoundingMode;

/// Most payments one run generates.
pub const PAYMENTS_MAX: usize = 5_000_000;
const MERCHANTS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchReport {
    pub payments: usize,
    pub facts: usize,
    pub merchants: usize,
    pub generate_ms: u128,
    pub close_ms: u128,
    pub report_ms: u128,
    pub csv_bytes: usize,
    pub json_bytes: usize,
    /// VmHWM from /proc/self/status, when the platform has it.
    pub peak_rss_kib: Option<u64>,
}

pub fn run(payments: usize) -> Result<BenchReport, String> {
    if payments == 0 || payments > PAYMENTS_MAX {
        return Err(format!("--payments must be 1 to {PAYMENTS_MAX}"));
    }
    let date = BusinessDate::from_ymd(2026, 12, 24).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let facts = synthetic_facts(payments, date)?;
    let generate_ms = started.elapsed().as_millis();
    let rules = NetworkRules {
        network: "paypay".into(),
        cutoff: Cutoff::MIDNIGHT,
        currency: iso_currency::Currency::JPY,
        settlement_currency: iso_currency::Currency::JPY,
        fee_taxable: true,
        fee_rounding: RoundingMode::Down,
        fees: FeeSchedule::new(vec![FeeRate {
            merchant: None,
            rate: Decimal::new(198, 4),
            from: date,
            to: None,
        }])?,
    };
    let batch_rules = BatchRules {
        network: &rules,
        tax_rate: Decimal::new(10, 2),
        tax_rounding: RoundingMode::Down,
        conversion_rate: None,
        fx_rounding: RoundingMode::HalfUp,
    };
    let started = Instant::now();
    let batch = close_batch("paypay", date, &facts, &batch_rules).map_err(|e| e.to_string())?;
    let close_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let csv = report::to_csv(&batch);
    let json = report::to_json(&batch).to_string();
    let report_ms = started.elapsed().as_millis();
    Ok(BenchReport {
        payments,
        facts: facts.len(),
        merchants: batch.lines.len(),
        generate_ms,
        close_ms,
        report_ms,
        csv_bytes: csv.len(),
        json_bytes: json.len(),
        peak_rss_kib: peak_rss_kib(),
    })
}

/// N payments over [`MERCHANTS`] merchants, one refund per 20 payments and one reversal per
/// 100, amounts from a fixed sequence so every run computes the same batch.
fn synthetic_facts(payments: usize, date: BusinessDate) -> Result<Vec<SettledPaymentFact>, String> {
    let mut facts = Vec::with_capacity(payments + payments / 20 + payments / 100);
    let start = date.start_ms();
    let progress = super::cli::progress_bar(payments as u64, "generate");
    for i in 0..payments {
        let amount = Money::from_minor(
            100 + (i as i64 * 7_919) % 50_000,
            iso_currency::Currency::JPY,
        )
        .map_err(|e| e.to_string())?;
        let fact = SettledPaymentFact {
            kind: FactKind::Payment,
            payment_id: format!("pay_{i:08}"),
            refund_id: None,
            merchant_id: format!("m{:04}", i % MERCHANTS),
            network: "paypay".into(),
            amount,
            wallet_amount: None,
            network_reference: Some(format!("{:020}", i)),
            at_ms: start + (i as i64 % 86_400_000),
        };
        if i % 20 == 0 {
            facts.push(SettledPaymentFact {
                kind: FactKind::Refund,
                refund_id: Some(format!("ref_{i:08}")),
                ..fact.clone()
            });
        } else if i % 100 == 1 {
            facts.push(SettledPaymentFact {
                kind: FactKind::Reversal,
                ..fact.clone()
            });
        }
        facts.push(fact);
        if let Some(p) = progress.as_ref().filter(|_| i % 10_000 == 0) {
            p.set_position(i as u64);
        }
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    Ok(facts)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_closes_every_fact() {
        let report = run(2_000).unwrap();
        assert_eq!(report.payments, 2_000);
        assert_eq!(report.facts, 2_000 + 100 + 20);
        assert_eq!(report.merchants, 1_000);
        assert!(report.csv_bytes > 0 && report.json_bytes > report.csv_bytes / 2);
        assert!(run(0).is_err());
    }
}
