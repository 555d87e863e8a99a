//! The simulator's side of the list: a day's lines written as the Payment details answers a
//! merchant would have fetched, 100 transactions a page, each refund in its payment's
//! `refundList` (or, when its payment is not listed, as a refund transaction of its own).
use std::collections::HashMap;

use kakehashi_adapter_core::recon::{ReconKind, ReconLine, ReconStatus};
use serde::Serialize;
use serde_json::value::RawValue;

use super::PAGE_ENTRIES_MAX;
use crate::wire;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    return_code: &'static str,
    return_message: &'static str,
    info: &'a [Entry],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    transaction_id: serde_json::Value,
    order_id: String,
    transaction_date: String,
    transaction_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pay_status: Option<&'static str>,
    currency: &'static str,
    pay_info: Vec<wire::PayMethod>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refund_list: Vec<Refund>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Refund {
    refund_transaction_id: serde_json::Value,
    transaction_type: &'static str,
    refund_amount: Box<RawValue>,
    refund_transaction_date: String,
}

/// A name for the day's list, as a collector would save it.
pub fn file_name(channel_id: &str, day: &str) -> String {
    format!("linepay_payments_{channel_id}_{day}.json")
}

/// Writes the list for `date` (`YYYY-MM-DD`): a JSON array of answers.
pub fn write_file(date: &str, lines: &[ReconLine]) -> Result<Vec<u8>, serde_json::Error> {
    let mut refunds: HashMap<&str, Vec<&ReconLine>> = HashMap::new();
    for l in lines.iter().filter(|l| l.kind == ReconKind::Refund) {
        refunds.entry(l.payment_id.as_str()).or_default().push(l);
    }
    let time = |n: usize| format!("{date}T{:02}:{:02}:00Z", (n / 60) % 14, n % 60);
    let mut entries = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        if l.kind != ReconKind::Payment {
            continue;
        }
        let listed = refunds.remove(l.payment_id.as_str()).unwrap_or_default();
        let refund_list = listed
            .iter()
            .map(|r| Refund {
                refund_transaction_id: id(&r.network_id),
                transaction_type: refund_type(r, Some(l)),
                refund_amount: negative(r),
                refund_transaction_date: time(n + 1),
            })
            .collect();
        entries.push(Entry {
            transaction_id: id(&l.network_id),
            order_id: l.payment_id.clone(),
            transaction_date: time(n),
            transaction_type: "PAYMENT",
            pay_status: Some(match l.status {
                ReconStatus::Succeeded => "CAPTURE",
                ReconStatus::Reversed => "VOIDED_AUTHORIZATION",
                ReconStatus::Failed => "AUTHORIZATION",
            }),
            currency: l.amount.currency_code(),
            pay_info: vec![method(wire::number(&l.amount.decimal()))],
            refund_list,
        });
    }
    // Refunds whose payment the list leaves out (another day's, or a seeded omission).
    for (n, r) in lines.iter().enumerate() {
        if r.kind == ReconKind::Refund && refunds.contains_key(r.payment_id.as_str()) {
            entries.push(Entry {
                transaction_id: id(&r.network_id),
                order_id: r.payment_id.clone(),
                transaction_date: time(n),
                transaction_type: refund_type(r, None),
                pay_status: None,
                currency: r.amount.currency_code(),
                pay_info: vec![method(negative(r))],
                refund_list: Vec::new(),
            });
        }
    }
    let pages: Vec<Page<'_>> = entries
        .chunks(PAGE_ENTRIES_MAX)
        .map(|info| Page {
            return_code: "0000",
            return_message: "Success.",
            info,
        })
        .collect();
    let mut out = serde_json::to_vec(&pages)?;
    out.push(b'\n');
    Ok(out)
}

/// A 19-digit id as LINE Pay writes it, a JSON number; an id that is not one (no LINE Pay
/// id, but a test's) goes as a string, which the parser refuses unless it is digits.
fn id(network_id: &str) -> serde_json::Value {
    match network_id.parse::<u64>() {
        Ok(n) => serde_json::Value::from(n),
        Err(_) => serde_json::Value::from(network_id),
    }
}

fn method(amount: Box<RawValue>) -> wire::PayMethod {
    wire::PayMethod {
        method: "BALANCE".into(),
        amount,
    }
}

fn negative(refund: &ReconLine) -> Box<RawValue> {
    wire::number(&-refund.amount.decimal())
}

/// Full or partial, as far as the list knows the payment's amount.
fn refund_type(refund: &ReconLine, payment: Option<&ReconLine>) -> &'static str {
    match payment {
        Some(p) if p.amount == refund.amount => "PAYMENT_REFUND",
        _ => "PARTIAL_REFUND",
    }
}
