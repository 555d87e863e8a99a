//! The exact wire LINE Pay sees, pinned to the research file (`linepay.md` §4.2-§4.4, §4.9):
//! every JSON key path and query parameter of every request the adapter sends, so a rename
//! or a stray field cannot slip through a lenient simulator.
use std::collections::BTreeSet;

use kakehashi_adapter_core::wiretap::{Received, json_field_paths};

use super::*;

/// Pay v4 (§4.4): `amount, currency, oneTimeKey, orderId`, `packages[]{id, amount,
/// products[]{name, quantity, price}}`, `options{payment{capture}, extra{branchId}}`.
const PAY_FIELDS: &[&str] = &[
    "amount",
    "currency",
    "oneTimeKey",
    "options",
    "options.extra",
    "options.extra.branchId",
    "options.payment",
    "options.payment.capture",
    "orderId",
    "packages",
    "packages[].amount",
    "packages[].id",
    "packages[].products",
    "packages[].products[].name",
    "packages[].products[].price",
    "packages[].products[].quantity",
];

fn fields(received: &Received) -> BTreeSet<String> {
    json_field_paths(&received.body).expect("a JSON body")
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn last(w: &World, path: &str) -> Received {
    w.control
        .wiretap
        .last(path)
        .unwrap_or_else(|| panic!("nothing reached {path}"))
}

#[tokio::test]
async fn every_request_carries_exactly_the_documented_fields() {
    let w = world().await;
    paid_order(&w, "W1", "1000", 1_000).await;
    let pay = last(&w, wire::PAY_PATH);
    assert_eq!(pay.method, "POST");
    assert_eq!(fields(&pay), set(PAY_FIELDS));

    w.adapter.query(&query("W1", "1000")).await;
    let check = last(&w, "/v4/payments/orders/W1/check");
    assert_eq!((check.method.as_str(), check.query.as_str()), ("GET", ""));
    assert!(check.body.is_empty());

    // Partial refund: `refundAmount`; the rest: an empty object (§4.9, omit for full).
    w.adapter
        .refund(&refund_known("W1", "R1", "1000", "100", &[]))
        .await;
    let partial = last(&w, "/v4/payments/orders/W1/refund");
    assert_eq!(fields(&partial), set(&["refundAmount"]));
    assert_eq!(partial.body, br#"{"refundAmount":100}"#);

    w.adapter
        .query_refund(&refund_known("W1", "R1", "1000", "100", &[]))
        .await;
    let details = last(&w, wire::DETAILS_PATH);
    assert_eq!(
        (details.method.as_str(), details.query.as_str()),
        ("GET", "orderId=W1")
    );

    w.adapter.reverse(&reverse("W1", "1000")).await;
    let void = last(&w, "/v4/payments/orders/W1/void");
    assert_eq!(void.body, b"{}");
    let full = last(&w, "/v4/payments/orders/W1/refund");
    assert_eq!(full.body, b"{}", "the full refund names no amount");
}

#[tokio::test]
async fn the_terminals_store_is_sent_as_the_branch_and_omitted_when_unknown() {
    let w = world().await;
    paid_order(&w, "W2", "500", 1_000).await;
    let with_store: serde_json::Value =
        serde_json::from_slice(&last(&w, wire::PAY_PATH).body).unwrap();
    assert_eq!(with_store["options"]["extra"]["branchId"], "s");

    w.control
        .add_wallet(&jpy_wallet("anonymous", 1_000))
        .unwrap();
    let code = w.control.issue_code("anonymous").unwrap();
    let mut request = pay("W3", "500", &code);
    request.merchant.store_id = String::new();
    assert!(matches!(
        w.adapter.pay(&request).await,
        PayOutcome::Succeeded(_)
    ));
    let without = fields(&last(&w, wire::PAY_PATH));
    assert!(!without.contains("options.extra"), "{without:?}");
    assert_eq!(
        without,
        set(PAY_FIELDS)
            .into_iter()
            .filter(|f| !f.starts_with("options.extra"))
            .collect()
    );
}
