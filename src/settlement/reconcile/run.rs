//! Loading both sides: the network's file through its adapter's parser, and our records of
//! the business day from the settlement facts the payments recorded with their state
//! changes (captures, reversals, refunds), cut at the network's configured cut-off.
use std::collections::BTreeMap;

use kakehashi_adapter_core::recon::ReconLine;
use sqlx::AnyPool;

use super::{Report, Tolerances, ours, reconcile};
use crate::fx::RoundingMode;
use crate::settlement::{BusinessDate, Cutoff, SettlementSetup};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the file does not parse: {0}")]
    File(String),
}

/// How far apart a file's converted figures may be from ours, and how ours are rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FxOptions {
    /// Wallet or settlement amounts may differ by this many minor units.
    pub tolerance_minor: i64,
    /// The network's rounding for conversions (`[fx.rounding]`), for a settlement amount we
    /// must compute from the file's quote because the network never told us one.
    pub rounding: RoundingMode,
}

/// The file's lines, read by the parser of the adapter the network is configured with,
/// found among the adapters this build links (`NetworkFactory::recon_format`): adding a
/// network with a file format edits nothing here.
pub fn parse_file(adapter_kind: &str, bytes: &[u8]) -> Result<Vec<ReconLine>, ReconcileError> {
    let factories = crate::networks::factories();
    let format = factories
        .iter()
        .find(|f| f.kind() == adapter_kind)
        .and_then(|f| f.recon_format());
    match format {
        Some(format) => (format.parse)(bytes).map_err(ReconcileError::File),
        None => {
            let known: Vec<&str> = factories
                .iter()
                .filter(|f| f.recon_format().is_some())
                .map(|f| f.kind())
                .collect();
            Err(ReconcileError::Config(format!(
                "no reconciliation file format for adapter `{adapter_kind}` (known: {})",
                known.join(", ")
            )))
        }
    }
}

/// Reconciles `bytes`, the network's file for `date`, against our records of that day.
/// `setup` gives the network's cut-off and fee rates (without it: midnight JST, no fee
/// check).
pub async fn reconcile_file(
    pool: &AnyPool,
    network: &str,
    adapter_kind: &str,
    setup: Option<&SettlementSetup>,
    date: BusinessDate,
    bytes: &[u8],
    fx: FxOptions,
) -> Result<Report, ReconcileError> {
    let lines = parse_file(adapter_kind, bytes)?;
    let rules = setup.and_then(|s| s.networks.get(network));
    let cutoff = rules.map_or(Cutoff::MIDNIGHT, |r| r.cutoff);
    let previous = date
        .previous()
        .map_err(|e| ReconcileError::Config(e.to_string()))?;
    let facts = crate::settlement::sql::facts_between(
        pool,
        network,
        cutoff.closes_at_ms(previous),
        cutoff.closes_at_ms(date),
    )
    .await?;
    let (mut payments, refunds) = ours::from_facts(&facts);
    drop(facts);
    // Only a file that states settlement amounts needs the quotes the payments recorded.
    if lines.iter().any(|l| l.settlement.is_some()) {
        ours::add_settlement_quotes(pool, &mut payments).await?;
    }
    let mut fee_rates = BTreeMap::new();
    if let Some(rules) = rules {
        for p in &payments {
            if fee_rates.contains_key(&p.merchant_id) {
                continue;
            }
            if let Some(rate) = rules.fees.rate_for(&p.merchant_id, date) {
                fee_rates.insert(p.merchant_id.clone(), rate);
            }
        }
    }
    let tolerances = Tolerances {
        fx_minor: fx.tolerance_minor,
        fx_rounding: fx.rounding,
        fee_rates,
        fee_rounding: rules.map_or(RoundingMode::Down, |r| r.fee_rounding),
    };
    Ok(reconcile(
        network,
        &date.to_string(),
        &payments,
        &refunds,
        &lines,
        &tolerances,
    ))
}
