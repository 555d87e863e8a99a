//! Batch reports for finance: CSV (one row per merchant line, then a totals row) and JSON,
//! every amount an exact decimal string in the batch currency, every line with the ids it
//! was computed from.
use serde_json::json;

use super::batch::Batch;
use crate::fx::convert::minor_to_string;

const CSV_HEADER: &str = "network,business_date,merchant_id,currency,payments,refunds,reversals,\
gross,refunds_amount,reversals_amount,fee_rate,fee,tax,net,payment_ids,refund_ids,reversal_ids";

/// The batch as CSV (RFC 4180 quoting; ids joined with spaces).
pub fn to_csv(batch: &Batch) -> String {
    let m = |minor| minor_to_string(minor, batch.currency);
    let mut out = String::with_capacity(256 + batch.lines.len() * 128);
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for line in &batch.lines {
        let row = [
            batch.network.clone(),
            batch.business_date.to_string(),
            line.merchant_id.clone(),
            batch.currency.code().to_owned(),
            line.payment_ids.len().to_string(),
            line.refund_ids.len().to_string(),
            line.reversal_ids.len().to_string(),
            m(line.gross_minor),
            m(line.refunds_minor),
            m(line.reversals_minor),
            line.fee_rate.to_string(),
            m(line.fee_minor),
            m(line.tax_minor),
            m(line.net_minor),
            line.payment_ids.join(" "),
            line.refund_ids.join(" "),
            line.reversal_ids.join(" "),
        ];
        push_row(&mut out, &row);
    }
    let t = &batch.totals;
    let totals = [
        batch.network.clone(),
        batch.business_date.to_string(),
        "TOTAL".to_owned(),
        batch.currency.code().to_owned(),
        t.payments.to_string(),
        t.refunds.to_string(),
        t.reversals.to_string(),
        m(t.gross_minor),
        m(t.refunds_minor),
        m(t.reversals_minor),
        String::new(),
        m(t.fee_minor),
        m(t.tax_minor),
        m(t.net_minor),
        String::new(),
        String::new(),
        String::new(),
    ];
    push_row(&mut out, &totals);
    out
}

fn push_row(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// The batch as JSON.
pub fn to_json(batch: &Batch) -> serde_json::Value {
    let m = |minor| minor_to_string(minor, batch.currency);
    let t = &batch.totals;
    json!({
        "batch_id": batch.batch_id,
        "network": batch.network,
        "business_date": batch.business_date.to_string(),
        "currency": batch.currency.code(),
        "fee_taxable": batch.fee_taxable,
        "tax_rate": batch.tax_rate.to_string(),
        "lines": batch.lines.iter().map(|l| json!({
            "merchant_id": l.merchant_id,
            "gross": m(l.gross_minor),
            "refunds": m(l.refunds_minor),
            "reversals": m(l.reversals_minor),
            "fee_base": m(l.fee_base_minor),
            "fee_rate": l.fee_rate.to_string(),
            "fee": m(l.fee_minor),
            "tax": m(l.tax_minor),
            "net": m(l.net_minor),
            "payment_ids": l.payment_ids,
            "refund_ids": l.refund_ids,
            "reversal_ids": l.reversal_ids,
        })).collect::<Vec<_>>(),
        "totals": {
            "payments": t.payments,
            "refunds": t.refunds,
            "reversals": t.reversals,
            "gross": m(t.gross_minor),
            "refunds_amount": m(t.refunds_minor),
            "reversals_amount": m(t.reversals_minor),
            "fee": m(t.fee_minor),
            "tax": m(t.tax_minor),
            "net": m(t.net_minor),
            "receivable": m(t.receivable_minor),
        },
        "settlement": batch.conversion.as_ref().map(|c| json!({
            "currency": c.settlement_currency.code(),
            "rate": c.rate.to_string(),
            "rounding": c.rounding.name(),
            "receivable": minor_to_string(c.receivable_minor, c.settlement_currency),
        })),
    })
}
