//! `SettlementService` messages from settlement's own types: amounts as exact decimal
//! strings in each currency's minor units (negatives allowed: a net or a balance).
use iso_currency::Currency;
use kakehashi_proto::v1 as pb;

use crate::fx::convert::minor_to_string;
use crate::settlement::Batch;
use crate::settlement::invoice::Invoice;
use crate::settlement::ledger::sql::Balance;
use crate::settlement::payout::Payout;
use crate::settlement::reconcile::{Class, Report, Side};
use kakehashi_adapter_core::recon::ReconKind;

/// Most ids one batch message lists; a larger batch gives counts only (its CSV lists all).
pub const BATCH_IDS_MAX: usize = 10_000;

pub fn money(minor: i64, currency: Currency) -> pb::Money {
    pb::Money {
        value: minor_to_string(minor, currency),
        currency: currency.code().to_owned(),
    }
}

/// The batch; `with_lines: false` for listings, whose size must not grow with the day.
pub fn batch(b: &Batch, with_lines: bool) -> pb::SettlementBatch {
    let c = b.currency;
    let ids: usize = b
        .lines
        .iter()
        .map(|l| l.payment_ids.len() + l.refund_ids.len() + l.reversal_ids.len())
        .sum();
    let with_ids = ids <= BATCH_IDS_MAX;
    let lines = if with_lines {
        b.lines
            .iter()
            .map(|l| pb::BatchLine {
                merchant_id: l.merchant_id.clone(),
                gross: Some(money(l.gross_minor, c)),
                refunds: Some(money(l.refunds_minor, c)),
                reversals: Some(money(l.reversals_minor, c)),
                fee_base: Some(money(l.fee_base_minor, c)),
                fee_rate: l.fee_rate.to_string(),
                fee: Some(money(l.fee_minor, c)),
                tax: Some(money(l.tax_minor, c)),
                net: Some(money(l.net_minor, c)),
                payment_ids: if with_ids {
                    l.payment_ids.clone()
                } else {
                    Vec::new()
                },
                refund_ids: if with_ids {
                    l.refund_ids.clone()
                } else {
                    Vec::new()
                },
                reversal_ids: if with_ids {
                    l.reversal_ids.clone()
                } else {
                    Vec::new()
                },
                payment_count: l.payment_ids.len() as u64,
                refund_count: l.refund_ids.len() as u64,
                reversal_count: l.reversal_ids.len() as u64,
            })
            .collect()
    } else {
        Vec::new()
    };
    let t = &b.totals;
    pb::SettlementBatch {
        batch_id: b.batch_id.clone(),
        network: b.network.clone(),
        business_date: b.business_date.to_string(),
        currency: c.code().to_owned(),
        fee_taxable: b.fee_taxable,
        tax_rate: b.tax_rate.to_string(),
        lines,
        totals: Some(pb::BatchTotals {
            payments: t.payments,
            refunds: t.refunds,
            reversals: t.reversals,
            gross: Some(money(t.gross_minor, c)),
            refunds_amount: Some(money(t.refunds_minor, c)),
            reversals_amount: Some(money(t.reversals_minor, c)),
            fee: Some(money(t.fee_minor, c)),
            tax: Some(money(t.tax_minor, c)),
            net: Some(money(t.net_minor, c)),
            receivable: Some(money(t.receivable_minor, c)),
        }),
        conversion: b.conversion.as_ref().map(|v| pb::BatchConversion {
            settlement_currency: v.settlement_currency.code().to_owned(),
            rate: v.rate.to_string(),
            rounding: v.rounding.name().to_owned(),
            receivable: Some(money(v.receivable_minor, v.settlement_currency)),
        }),
    }
}

pub fn payout(p: &Payout) -> pb::Payout {
    pb::Payout {
        payout_id: p.payout_id.clone(),
        merchant_id: p.merchant_id.clone(),
        amount: Some(money(
            i64::try_from(p.amount_yen).unwrap_or(i64::MAX),
            Currency::JPY,
        )),
        period_to: p.period_to.to_string(),
        transfer_date: p.transfer_date.to_string(),
    }
}

pub fn balance(b: &Balance) -> pb::AccountBalance {
    pb::AccountBalance {
        account: b.account.to_string(),
        currency: b.currency.code().to_owned(),
        debit: Some(money(b.debit_minor, b.currency)),
        credit: Some(money(b.credit_minor, b.currency)),
        net: Some(money(b.net_minor(), b.currency)),
    }
}

pub fn invoice(i: &Invoice) -> pb::Invoice {
    let c = i.currency;
    pb::Invoice {
        invoice_id: i.invoice_id.clone(),
        registration_number: i.registration_number.as_str().to_owned(),
        issuer_name: i.issuer_name.clone(),
        recipient_name: i.recipient_name.clone(),
        merchant_id: i.merchant_id.clone(),
        issue_date: i.issue_date.to_string(),
        period_from: i.period_from.to_string(),
        period_to: i.period_to.to_string(),
        currency: c.code().to_owned(),
        items: i
            .items
            .iter()
            .map(|item| pb::InvoiceItem {
                business_date: item.business_date.to_string(),
                network: item.network.clone(),
                fee: Some(money(item.fee_minor, c)),
                taxable: item.taxable,
                batch_tax: Some(money(item.batch_tax_minor, c)),
            })
            .collect(),
        tax_rate: i.tax_rate.to_string(),
        taxable_total: Some(money(i.taxable_total_minor, c)),
        tax: Some(money(i.tax_minor, c)),
        non_taxable_total: Some(money(i.non_taxable_total_minor, c)),
        batch_tax: Some(money(i.batch_tax_minor, c)),
        tax_adjustment: Some(money(i.tax_adjustment_minor, c)),
        text: i.to_text(),
    }
}

/// Most findings one Reconcile answer lists.
pub const FINDINGS_MAX: usize = 10_000;

fn recon_class(c: Class) -> pb::ReconClass {
    match c {
        Class::Matched => pb::ReconClass::Matched,
        Class::MissingAtNetwork => pb::ReconClass::MissingAtNetwork,
        Class::MissingAtSwitch => pb::ReconClass::MissingAtSwitch,
        Class::AmountMismatch => pb::ReconClass::AmountMismatch,
        Class::StatusMismatch => pb::ReconClass::StatusMismatch,
        Class::FxDifference => pb::ReconClass::FxDifference,
        Class::FeeMismatch => pb::ReconClass::FeeMismatch,
    }
}

fn recon_side(s: &Side) -> pb::ReconSide {
    pb::ReconSide {
        status: s.status.clone(),
        amount: s.amount.clone().unwrap_or_default(),
        wallet_amount: s.wallet_amount.clone().unwrap_or_default(),
        settlement_amount: s.settlement_amount.clone().unwrap_or_default(),
        fee: s.fee.clone().unwrap_or_default(),
        network_id: s.network_id.clone().unwrap_or_default(),
    }
}

pub fn recon_report(r: &Report) -> pb::ReconcileResponse {
    pb::ReconcileResponse {
        network: r.network.clone(),
        business_date: r.business_date.clone(),
        file_lines: r.file_lines,
        our_records: r.our_records,
        counts: r
            .counts
            .iter()
            .map(|(class, count)| pb::ReconClassCount {
                class: recon_class(*class) as i32,
                count: *count,
            })
            .collect(),
        findings: r
            .findings
            .iter()
            .take(FINDINGS_MAX)
            .map(|f| pb::ReconFinding {
                class: recon_class(f.class) as i32,
                kind: match f.kind {
                    ReconKind::Payment => "payment",
                    ReconKind::Refund => "refund",
                }
                .into(),
                payment_id: f.payment_id.clone(),
                refund_id: f.refund_id.clone().unwrap_or_default(),
                ours: f.ours.as_ref().map(recon_side),
                theirs: f.theirs.as_ref().map(recon_side),
            })
            .collect(),
        truncated: r.findings.len() > FINDINGS_MAX,
    }
}
