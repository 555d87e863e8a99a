//! Loading both sides: the network's file through its adapter's parser, and our records of
//! the business day from the settlement facts the payments recorded with their state
//! changes (captures, reversals, refunds), cut at the network's configured cut-off.
use std::collections::BTreeMap;

use kakehashi_adapter_core::recon::ReconLine;
use sqlx::AnyPool;

use super::{OurPayment, OurRefund, Report, Tolerances, reconcile};
use crate::fx::RoundingMode;
use crate::settlement::{BusinessDate, Cutoff, FactKind, SettlementSetup};
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

/// The file's lines, by the network's adapter (its format): WeChat Pay's `downloadbill`,
/// PayPay's 突合ファイル. Other networks' formats are not written yet.
pub fn parse_file(adapter_kind: &str, bytes: &[u8]) -> Result<Vec<ReconLine>, ReconcileError> {
    let file = |e: &dyn std::fmt::Display| ReconcileError::File(e.to_string());
    match adapter_kind {
        "wechatpay" => kakehashi_wechatpay::recon::parse_bill(bytes).map_err(|e| file(&e)),
        "paypay" => kakehashi_paypay::recon::parse_file(bytes).map_err(|e| file(&e)),
        other => Err(ReconcileError::Config(format!(
            "no reconciliation file format for adapter `{other}` (known: wechatpay, paypay)"
        ))),
    }
}

/// Reconciles `bytes`, the network's file for `date`, against our records of that day.
/// `setup` gives the network's cut-off and fee rates (without it: midnight JST, no fee
/// check); `fx_minor` is the wallet-amount tolerance.
pub async fn reconcile_file(
    pool: &AnyPool,
    network: &str,
    adapter_kind: &str,
    setup: Option<&SettlementSetup>,
    date: BusinessDate,
    bytes: &[u8],
    fx_minor: i64,
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
    let mut payments: Vec<OurPayment> = Vec::new();
    let mut refunds = Vec::new();
    for fact in &facts {
        match fact.kind {
            FactKind::Payment => payments.push(OurPayment {
                payment_id: fact.payment_id.clone(),
                merchant_id: fact.merchant_id.clone(),
                network_txn_id: fact.network_reference.clone(),
                amount: fact.amount,
                wallet_amount: fact.wallet_amount,
                reversed: false,
            }),
            FactKind::Refund => refunds.push(OurRefund {
                refund_id: fact.refund_id.clone().unwrap_or_default(),
                payment_id: fact.payment_id.clone(),
                network_refund_id: fact.network_reference.clone(),
                amount: fact.amount,
            }),
            FactKind::Reversal => {}
        }
    }
    for fact in facts.iter().filter(|f| f.kind == FactKind::Reversal) {
        if let Some(p) = payments
            .iter_mut()
            .find(|p| p.payment_id == fact.payment_id)
        {
            p.reversed = true;
        }
    }
    let mut fee_rates = BTreeMap::new();
    if let Some(rules) = rules {
        for p in &payments {
            if let Some(rate) = rules.fees.rate_for(&p.merchant_id, date) {
                fee_rates.insert(p.merchant_id.clone(), rate);
            }
        }
    }
    let tolerances = Tolerances {
        fx_minor,
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
