//! `kakehashi bench-reconcile --payments N`: one synthetic WeChat Pay day of N payments (with
//! refunds and reversals, over many merchants, yuan wallets paying yen prices) stored as
//! settlement facts in a fresh SQLite file, the network's `downloadbill` written for it
//! with one seeded discrepancy of every class, and the bill reconciled by the same
//! `reconcile_file` the command runs; prints the time of each step and the process's peak
//! memory. A benchmark, not a test: CI never runs it.
use std::time::Instant;

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::recon::{self, Discrepancy, ReconKind, ReconLine, ReconStatus};
use kakehashi_adapter_core::sim_control::Amount;
use rust_decimal::Decimal;

use super::{Class, FxOptions, Report, reconcile_file};
use crate::fx::RoundingMode;
use crate::settlement::batch::apply_rate;
use crate::settlement::{BusinessDate, FactKind, SettledPaymentFact};

/// Most payments one run generates.
pub const PAYMENTS_MAX: usize = 1_800_000;
const MERCHANTS: usize = 1_000;
/// Facts per store transaction while filling the day.
const FACTS_PER_TRANSACTION: usize = 10_000;
const NETWORK: &str = "wechatpay";
const FEE_RATE: Decimal = Decimal::from_parts(245, 0, 0, false, 4);
/// Every class the bill can carry, once each.
const SEEDS: [Discrepancy; 6] = [
    Discrepancy::MissingAtNetwork,
    Discrepancy::MissingAtSwitch,
    Discrepancy::Amount,
    Discrepancy::Status,
    Discrepancy::Fx,
    Discrepancy::Fee,
];

// The bill (a payment per payment, a refund per 20, a seeded stranger) fits a parser's bound.
const _: () = assert!(PAYMENTS_MAX + PAYMENTS_MAX / 20 + SEEDS.len() <= recon::RECON_LINES_MAX);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchReport {
    pub payments: usize,
    pub facts: usize,
    pub file_lines: u64,
    pub file_bytes: usize,
    pub store_ms: u128,
    pub write_ms: u128,
    pub reconcile_ms: u128,
    pub report: Report,
    /// VmHWM from /proc/self/status, when the platform has it.
    pub peak_rss_kib: Option<u64>,
}

/// Runs the benchmark on a fresh SQLite file in `dir`.
pub async fn run(payments: usize, dir: &std::path::Path) -> Result<BenchReport, String> {
    if payments == 0 || payments > PAYMENTS_MAX {
        return Err(format!("--payments must be 1 to {PAYMENTS_MAX}"));
    }
    let date = BusinessDate::from_ymd(2026, 12, 24).map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.join("bench-reconcile.db").display());
    let store = crate::store::SqlStore::connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let facts = store_day(store.pool(), payments, date).await?;
    let store_ms = started.elapsed().as_millis();
    let started = Instant::now();
    let bill = bill(payments, date)?;
    let write_ms = started.elapsed().as_millis();
    let setup = setup()?;
    let fx = FxOptions {
        tolerance_minor: 1,
        rounding: RoundingMode::HalfUp,
    };
    let started = Instant::now();
    let report = reconcile_file(
        store.pool(),
        NETWORK,
        NETWORK,
        Some(&setup),
        date,
        &bill,
        fx,
    )
    .await
    .map_err(|e| e.to_string())?;
    let reconcile_ms = started.elapsed().as_millis();
    Ok(BenchReport {
        payments,
        facts,
        file_lines: report.file_lines,
        file_bytes: bill.len(),
        store_ms,
        write_ms,
        reconcile_ms,
        report,
        peak_rss_kib: peak_rss_kib(),
    })
}

/// The classes found, for people: one per seed expected, the rest matched.
pub fn summary(report: &Report) -> String {
    [
        Class::Matched,
        Class::MissingAtNetwork,
        Class::MissingAtSwitch,
        Class::AmountMismatch,
        Class::StatusMismatch,
        Class::FxDifference,
        Class::FeeMismatch,
    ]
    .iter()
    .map(|c| format!("{c:?} {}", report.count(*c)))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Payment `i` of the day: its amounts, and whether it is refunded (one in 20) or reversed
/// (one in 100), from a fixed sequence so every run reconciles the same day.
struct Synthetic {
    payment_id: String,
    merchant_id: String,
    network_reference: String,
    yen: i64,
    fen: i64,
    at_ms: i64,
    refunded: bool,
    reversed: bool,
}

fn synthetic(i: usize, date: BusinessDate) -> Synthetic {
    let yen = 100 + (i as i64 * 7_919) % 50_000;
    Synthetic {
        payment_id: format!("pay_{i:08}"),
        merchant_id: format!("m{:04}", i % MERCHANTS),
        network_reference: format!("4200{i:024}"),
        yen,
        // 0.0478 CNY per JPY, in fen, rounded down: the bill states the same.
        fen: yen * 478 / 100,
        at_ms: date.start_ms() + (i as i64 % 86_400_000),
        refunded: i.is_multiple_of(20),
        reversed: i % 100 == 1,
    }
}

fn facts_of(s: &Synthetic) -> Result<Vec<SettledPaymentFact>, String> {
    let amount = Money::from_minor(s.yen, Currency::JPY).map_err(|e| e.to_string())?;
    let wallet = Money::from_minor(s.fen, Currency::CNY).map_err(|e| e.to_string())?;
    let payment = SettledPaymentFact {
        kind: FactKind::Payment,
        payment_id: s.payment_id.clone(),
        refund_id: None,
        merchant_id: s.merchant_id.clone(),
        network: NETWORK.into(),
        amount,
        wallet_amount: Some(wallet),
        network_reference: Some(s.network_reference.clone()),
        at_ms: s.at_ms,
    };
    let mut facts = Vec::with_capacity(2);
    if s.refunded {
        facts.push(SettledPaymentFact {
            kind: FactKind::Refund,
            refund_id: Some(format!("ref_{}", s.payment_id)),
            wallet_amount: None,
            network_reference: Some(format!("5030{}", &s.network_reference[4..])),
            ..payment.clone()
        });
    } else if s.reversed {
        facts.push(SettledPaymentFact {
            kind: FactKind::Reversal,
            ..payment.clone()
        });
    }
    facts.push(payment);
    Ok(facts)
}

/// Stores the day's facts as the write path records them; returns how many.
async fn store_day(
    pool: &sqlx::AnyPool,
    payments: usize,
    date: BusinessDate,
) -> Result<usize, String> {
    let progress = crate::settlement::cli::progress_bar(payments as u64, "store");
    let mut stored = 0;
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for i in 0..payments {
        for fact in facts_of(&synthetic(i, date))? {
            crate::settlement::sql::record_fact(&mut *tx, &fact)
                .await
                .map_err(|e| e.to_string())?;
            stored += 1;
        }
        if i % FACTS_PER_TRANSACTION == FACTS_PER_TRANSACTION - 1 {
            tx.commit().await.map_err(|e| e.to_string())?;
            tx = pool.begin().await.map_err(|e| e.to_string())?;
            if let Some(p) = &progress {
                p.set_position(i as u64);
            }
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    Ok(stored)
}

/// The day's `downloadbill`, with every seed planted.
fn bill(payments: usize, date: BusinessDate) -> Result<Vec<u8>, String> {
    let mut lines = Vec::with_capacity(payments + payments / 20);
    for i in 0..payments {
        let s = synthetic(i, date);
        let amount = Amount::from_minor(s.yen, Currency::JPY).map_err(|e| e.to_string())?;
        let fee = apply_rate(s.yen, FEE_RATE, RoundingMode::Down);
        let payment = ReconLine {
            kind: ReconKind::Payment,
            payment_id: s.payment_id.clone(),
            refund_id: None,
            network_id: s.network_reference.clone(),
            status: if s.reversed {
                ReconStatus::Reversed
            } else {
                ReconStatus::Succeeded
            },
            amount,
            wallet_amount: Some(
                Amount::from_minor(s.fen, Currency::CNY).map_err(|e| e.to_string())?,
            ),
            rate: Some(Decimal::new(478, 4)),
            fee: Some(Amount::from_minor(fee, Currency::JPY).map_err(|e| e.to_string())?),
            settlement: None,
        };
        if s.refunded {
            lines.push(ReconLine {
                kind: ReconKind::Refund,
                refund_id: Some(format!("ref_{}", s.payment_id)),
                network_id: format!("5030{}", &s.network_reference[4..]),
                wallet_amount: None,
                rate: None,
                fee: None,
                ..payment.clone()
            });
        }
        lines.push(payment);
    }
    recon::seed(&mut lines, &SEEDS).map_err(|e| e.to_string())?;
    let header = kakehashi_wechatpay::recon::BillHeader {
        appid: "wx2421b1c4370ec43b",
        mch_id: "10000100",
        sub_mch_id: "1900000109",
    };
    Ok(kakehashi_wechatpay::recon::write_bill(
        &header,
        &date.to_string(),
        &lines,
    ))
}

fn setup() -> Result<crate::settlement::SettlementSetup, String> {
    let config: crate::settlement::SettlementConfig = toml::from_str(&format!(
        r#"
registration_number = "T1180301018771"
issuer_name = "カケハシペイメンツ株式会社"
[networks.{NETWORK}]
fee_taxable = true
fee_rounding = "down"
fees = [{{ rate = "{FEE_RATE}", from = "2020-01-01" }}]
"#
    ))
    .map_err(|e| e.to_string())?;
    config.build().map_err(|e| e.to_string())
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_small_day_finds_exactly_its_seeds() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(2_000, dir.path()).await.unwrap();
        assert_eq!(r.facts, 2_000 + 100 + 20);
        // 2,000 payments and 100 refunds, one left out and one added.
        assert_eq!(r.file_lines, 2_100);
        for class in [
            Class::MissingAtNetwork,
            Class::MissingAtSwitch,
            Class::AmountMismatch,
            Class::StatusMismatch,
            Class::FxDifference,
            Class::FeeMismatch,
        ] {
            assert_eq!(
                r.report.count(class),
                1,
                "{class:?}: {}",
                summary(&r.report)
            );
        }
        assert_eq!(r.report.count(Class::Matched), 2_100 - 5);
        assert!(run(0, dir.path()).await.is_err());
    }
}
