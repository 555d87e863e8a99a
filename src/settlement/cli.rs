//! `kakehashi settle --config FILE --date YYYY-MM-DD`: close that business day's batch for
//! every configured network (fees posted with the close), write the batch reports, and for
//! every merchant whose payout period ends that day issue the fee invoice, post the invoice's
//! tax adjustment and the payout, and write the Zengin file. Every step is idempotent: a
//! second run (or a second replica) finds the work done and writes the same files again.
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use sqlx::AnyPool;

use super::batch::{Batch, BatchError, BatchRules, close_batch};
use super::business_date::BusinessDate;
use super::config::{MerchantSetup, NetworkRules, SettlementSetup};
use super::invoice::{InvoiceError, build_invoice};
use super::ledger::postings::{self, FeeFacts, PayoutFacts, TaxAdjustmentFacts};
use super::ledger::sql as ledger_sql;
use super::ledger::{JournalEntry, LedgerError};
use super::payout::{Payout, PayoutError, plan_payout, zengin_file};
use super::{report, sql};
use crate::fx::{FxError, Pair, RateBook};
use crate::store::StoreError;

/// Times a close is retried when facts arrive while it runs.
const CLOSE_ATTEMPTS_MAX: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("{0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Batch(#[from] BatchError),
    #[error("{0}")]
    Fx(#[from] FxError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("invoice: {0}")]
    Invoice(#[from] InvoiceError),
    #[error("payout: {0}")]
    Payout(#[from] PayoutError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{network} {date}: facts kept arriving while closing; run settle again")]
    Busy { network: String, date: BusinessDate },
}

/// What one run did, for the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettleReport {
    /// `(batch, whether this run closed it)`.
    pub batches: Vec<(Batch, bool)>,
    pub payouts: Vec<Payout>,
    /// Every file written.
    pub files: Vec<PathBuf>,
}

/// Loads the config, connects to its store and runs [`run`] for `date`, writing into `out`.
pub async fn settle(
    config_path: &Path,
    date: BusinessDate,
    out: &Path,
    now_ms: i64,
) -> Result<SettleReport, SettleError> {
    let config =
        crate::config::Config::load(config_path).map_err(|e| SettleError::Config(e.to_string()))?;
    let setup = config
        .settlement
        .as_ref()
        .ok_or_else(|| SettleError::Config("the config has no [settlement] section".into()))?
        .build()
        .map_err(|e| SettleError::Config(e.to_string()))?;
    let store = crate::store::SqlStore::connect(&config.store_url).await?;
    let book = book_for(store.pool(), &setup, config.fx.load_book()?, date).await?;
    run(store.pool(), &setup, &book, date, out, now_ms).await
}

/// The configured book plus the store's rates valid at each network's cut-off on `date`.
pub async fn book_for(
    pool: &AnyPool,
    setup: &SettlementSetup,
    mut book: RateBook,
    date: BusinessDate,
) -> Result<RateBook, SettleError> {
    for rate in sql_rates(pool, setup, date).await? {
        book.add(rate)?;
    }
    Ok(book)
}

/// Rates from the store (partner feeds, applied rates) valid at each network's cut-off.
async fn sql_rates(
    pool: &AnyPool,
    setup: &SettlementSetup,
    date: BusinessDate,
) -> Result<Vec<crate::fx::Rate>, SettleError> {
    let mut rates = Vec::new();
    for rules in setup.networks.values() {
        rates.extend(
            crate::fx::sql::rates_valid_at(pool, rules.cutoff.closes_at_ms(date) - 1).await?,
        );
    }
    Ok(rates)
}

/// Settles `date` against `pool`: the library form of the command.
pub async fn run(
    pool: &AnyPool,
    setup: &SettlementSetup,
    book: &RateBook,
    date: BusinessDate,
    out: &Path,
    now_ms: i64,
) -> Result<SettleReport, SettleError> {
    close_day(pool, setup, book, date, Some(out), now_ms).await
}

/// [`run`], writing the report files into `out` when given: `SettlementService` closes the
/// day with the same code and serves the results from the store instead of files.
pub async fn close_day(
    pool: &AnyPool,
    setup: &SettlementSetup,
    book: &RateBook,
    date: BusinessDate,
    out: Option<&Path>,
    now_ms: i64,
) -> Result<SettleReport, SettleError> {
    let mut report = SettleReport::default();
    let progress = progress_bar(
        setup.networks.len() as u64 + setup.merchants.len() as u64,
        "settle",
    );
    for rules in setup.networks.values() {
        let (batch, won) = close_network(pool, setup, book, rules, date, now_ms).await?;
        let stem = format!("batch-{}-{date}", rules.network);
        let csv = report::to_csv(&batch);
        write(
            out,
            &format!("{stem}.csv"),
            csv.as_bytes(),
            &mut report.files,
        )?;
        let json = report::to_json(&batch).to_string();
        write(
            out,
            &format!("{stem}.json"),
            json.as_bytes(),
            &mut report.files,
        )?;
        report.batches.push((batch, won));
        if let Some(p) = &progress {
            p.inc(1);
        }
    }
    for merchant in setup.merchants.values() {
        if merchant.cycle.closes_on(date)
            && let Some(payout) =
                settle_merchant(pool, setup, merchant, date, out, &mut report.files).await?
        {
            report.payouts.push(payout);
        }
        if let Some(p) = &progress {
            p.inc(1);
        }
    }
    write_zengin_files(setup, &report.payouts.clone(), out, &mut report.files)?;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    Ok(report)
}

async fn close_network(
    pool: &AnyPool,
    setup: &SettlementSetup,
    book: &RateBook,
    rules: &NetworkRules,
    date: BusinessDate,
    now_ms: i64,
) -> Result<(Batch, bool), SettleError> {
    let before = rules.cutoff.closes_at_ms(date);
    let conversion_rate = if rules.currency == rules.settlement_currency {
        None
    } else {
        let pair = Pair::new(rules.currency, rules.settlement_currency)?;
        Some(book.rate_at(pair, &rules.network, before - 1)?.value())
    };
    let batch_rules = BatchRules {
        network: rules,
        tax_rate: setup.tax_rate,
        tax_rounding: setup.tax_rounding,
        conversion_rate,
        fx_rounding: book.policy().for_network(&rules.network).rounding,
    };
    for _ in 0..CLOSE_ATTEMPTS_MAX {
        if let Some(existing) = sql::get_batch(pool, &rules.network, date).await? {
            return Ok((existing, false));
        }
        let facts = sql::open_facts(pool, &rules.network, before).await?;
        let batch = close_batch(&rules.network, date, &facts, &batch_rules)?;
        let entries = fee_entries(&batch, before - 1)?;
        match sql::close_once(pool, &batch, before, now_ms, &entries).await {
            Ok(closed) => return Ok((closed.batch, closed.won)),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SettleError::Busy {
        network: rules.network.clone(),
        date,
    })
}

/// One fee entry per merchant line with a fee, dated the last instant of the business day.
pub fn fee_entries(batch: &Batch, at_ms: i64) -> Result<Vec<JournalEntry>, SettleError> {
    let mut entries = Vec::new();
    for line in batch.lines.iter().filter(|l| l.fee_minor > 0) {
        let money = |minor| {
            Money::from_minor(minor, batch.currency).map_err(|e| LedgerError::Amount(e.to_string()))
        };
        let tax = if line.tax_minor > 0 {
            Some(money(line.tax_minor)?)
        } else {
            None
        };
        entries.push(postings::for_fee(&FeeFacts {
            batch_id: batch.batch_id.clone(),
            merchant_id: line.merchant_id.clone(),
            network: batch.network.clone(),
            fee: money(line.fee_minor)?,
            tax,
            at_ms,
            business_date: batch.business_date,
        })?);
    }
    Ok(entries)
}

/// Invoice, tax adjustment and payout for one merchant whose period closes on `date`. The
/// payout is the period's batch nets plus the invoice's tax adjustment: every yen of it is
/// traceable to batch lines, and post-cut-off payments wait for their own period.
async fn settle_merchant(
    pool: &AnyPool,
    setup: &SettlementSetup,
    merchant: &MerchantSetup,
    date: BusinessDate,
    out: Option<&Path>,
    files: &mut Vec<PathBuf>,
) -> Result<Option<Payout>, SettleError> {
    let from = merchant.cycle.period_start(date);
    let batches = sql::batches_between(pool, from, date).await?;
    let invoice = build_invoice(setup, merchant, from, date, date, &batches)?;
    let stem = format!("invoice-{}-{date}", merchant.merchant_id);
    let json = invoice.to_json().to_string();
    write(out, &format!("{stem}.json"), json.as_bytes(), files)?;
    write(
        out,
        &format!("{stem}.txt"),
        invoice.to_text().as_bytes(),
        files,
    )?;
    let end_ms = date
        .next()
        .map_err(|e| SettleError::Config(e.to_string()))?
        .start_ms()
        - 1;
    let adjustment = postings::for_tax_adjustment(&TaxAdjustmentFacts {
        invoice_id: invoice.invoice_id.clone(),
        merchant_id: merchant.merchant_id.clone(),
        difference_minor: invoice.tax_adjustment_minor,
        currency: invoice.currency,
        at_ms: end_ms,
        business_date: date,
    })?;
    let nets: i64 = batches
        .iter()
        .flat_map(|b| b.lines.iter())
        .filter(|l| l.merchant_id == merchant.merchant_id)
        .map(|l| l.net_minor)
        .sum();
    let owed = nets - invoice.tax_adjustment_minor;
    let Some(payout) = plan_payout(merchant, owed, date)? else {
        post_once(pool, adjustment.iter()).await?;
        return Ok(None);
    };
    let amount =
        Money::from_minor(owed, Currency::JPY).map_err(|e| LedgerError::Amount(e.to_string()))?;
    let entry = postings::for_payout(&PayoutFacts {
        payout_id: payout.payout_id.clone(),
        merchant_id: merchant.merchant_id.clone(),
        amount,
        at_ms: end_ms,
        business_date: date,
    })?;
    post_once(pool, adjustment.iter().chain(std::iter::once(&entry))).await?;
    Ok(Some(payout))
}

/// Posts entries in one transaction; entries an earlier run (or another replica) already
/// posted with the same content are skipped, one posted with other content is an error.
async fn post_once<'a>(
    pool: &AnyPool,
    entries: impl Iterator<Item = &'a JournalEntry> + Clone,
) -> Result<(), SettleError> {
    for _ in 0..CLOSE_ATTEMPTS_MAX {
        let mut pending = Vec::new();
        for entry in entries.clone() {
            let posted = ledger_sql::entries_for_reference(pool, entry.reference()).await?;
            match posted.iter().find(|p| p.kind() == entry.kind()) {
                Some(p) if p == entry => {}
                Some(_) => {
                    return Err(StoreError::Corrupt {
                        table: "ledger_entries",
                        detail: format!("{} was posted with other amounts", entry.id()),
                    }
                    .into());
                }
                None => pending.push(entry),
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        // Writes only inside the transaction, so SQLite takes its write lock at the first
        // statement; a replica that posted first makes this attempt a Conflict: look again.
        let mut tx = pool.begin().await.map_err(StoreError::from)?;
        let mut lost = false;
        for entry in pending {
            match ledger_sql::post(&mut tx, entry).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    lost = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if lost {
            tx.rollback().await.map_err(StoreError::from)?;
            continue;
        }
        tx.commit().await.map_err(StoreError::from)?;
        return Ok(());
    }
    Err(SettleError::Config(
        "entries kept changing while posting; run settle again".into(),
    ))
}

fn write_zengin_files(
    setup: &SettlementSetup,
    payouts: &[Payout],
    out: Option<&Path>,
    files: &mut Vec<PathBuf>,
) -> Result<(), SettleError> {
    if payouts.is_empty() {
        return Ok(());
    }
    let remitter = setup.remitter.as_ref().ok_or_else(|| {
        SettleError::Config("payouts are due but [settlement.remitter] is missing".into())
    })?;
    let mut dates: Vec<BusinessDate> = payouts.iter().map(|p| p.transfer_date).collect();
    dates.sort();
    dates.dedup();
    for date in dates {
        let group: Vec<Payout> = payouts
            .iter()
            .filter(|p| p.transfer_date == date)
            .cloned()
            .collect();
        let bytes = zengin_file(remitter, &group)?
            .write()
            .map_err(PayoutError::from)?;
        write(
            out,
            &format!("zengin-{}.txt", date.compact()),
            &bytes,
            files,
        )?;
    }
    Ok(())
}

/// Writes `name` into `dir` and lists it in `files`; without a directory, nothing.
fn write(
    dir: Option<&Path>,
    name: &str,
    bytes: &[u8],
    files: &mut Vec<PathBuf>,
) -> Result<(), SettleError> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| SettleError::Write {
        path: path.display().to_string(),
        source,
    })?;
    files.push(path);
    Ok(())
}

/// A progress bar on stderr, only when stderr is a terminal (never in logs or CI output).
pub fn progress_bar(len: u64, label: &'static str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_message(label);
    Some(bar)
}
