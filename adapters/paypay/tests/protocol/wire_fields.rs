//! The exact wire PayPay sees, pinned to the research file (`paypay.md` §2, §4.2, §4.4,
//! §4.6, §9): every JSON key path and query parameter of every request, and the terminal's
//! store as `storeId`, omitted when unknown.
use std::collections::BTreeSet;

use kakehashi_adapter_core::wiretap::{Received, json_field_paths};
use kakehashi_paypay::wire;

use super::*;

/// Create QR code (§4.4), as the adapter fills it.
const QR_FIELDS: &[&str] = &[
    "amount",
    "amount.amount",
    "amount.currency",
    "codeType",
    "isAuthorization",
    "merchantPaymentId",
    "orderDescription",
    "requestedAt",
    "storeId",
    "terminalId",
];

/// The Kakehashi scan extension (§9): the `/v2/payments` shape (§4.2) with
/// `kakehashiCustomerCode` where PayPay has `userAuthorizationId`.
const SCAN_FIELDS: &[&str] = &[
    "amount",
    "amount.amount",
    "amount.currency",
    "kakehashiCustomerCode",
    "merchantPaymentId",
    "requestedAt",
    "storeId",
    "terminalId",
];

/// Refund (§4.6), with a reason.
const REFUND_FIELDS: &[&str] = &[
    "amount",
    "amount.amount",
    "amount.currency",
    "merchantRefundId",
    "paymentId",
    "reason",
    "requestedAt",
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

/// A GET or DELETE: method, no body, and the query as sent.
fn bodiless(received: &Received) -> (&str, &str) {
    assert!(received.body.is_empty(), "{received:?}");
    (received.method.as_str(), received.query.as_str())
}

#[tokio::test]
async fn every_request_carries_exactly_the_documented_fields() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("hanako", 5_000)).unwrap();
    let shown = w
        .adapter
        .create_merchant_qr(&qr("W1", 1_000))
        .await
        .unwrap();
    assert_eq!(fields(&last(&w, wire::CODES_PATH)), set(QR_FIELDS));
    w.control.pay_qr(&shown.qr_payload, "hanako").unwrap();
    let PayOutcome::Succeeded(paid) = w.adapter.query(&query("W1", 1_000)).await else {
        panic!("the QR was not paid")
    };
    assert_eq!(bodiless(&last(&w, "/v2/codes/payments/W1")), ("GET", ""));

    let code = w.control.issue_code("hanako").unwrap();
    assert!(matches!(
        w.adapter.pay(&scan("W2", 100, &code)).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(fields(&last(&w, wire::EXT_SCAN_PATH)), set(SCAN_FIELDS));
    w.adapter.query(&query("W2", 100)).await;
    assert_eq!(bodiless(&last(&w, "/v2/payments/W2")), ("GET", ""));

    let mut request = refund("W1", "W1-R1", 1_000, 100, &paid.network_txn_id);
    request.reason = "returned".into();
    w.adapter.refund(&request).await;
    assert_eq!(fields(&last(&w, wire::REFUNDS_PATH)), set(REFUND_FIELDS));
    w.adapter.query_refund(&request).await;
    let asked = format!("paymentId={}", paid.network_txn_id);
    assert_eq!(
        bodiless(&last(&w, "/v2/refunds/W1-R1")),
        ("GET", asked.as_str())
    );
    // No reason: the field is omitted.
    w.adapter
        .refund(&refund("W1", "W1-R2", 1_000, 100, &paid.network_txn_id))
        .await;
    let without: BTreeSet<String> = set(REFUND_FIELDS)
        .into_iter()
        .filter(|f| f != "reason")
        .collect();
    assert_eq!(fields(&last(&w, wire::REFUNDS_PATH)), without);

    w.adapter.reverse(&reverse("W2", 100, None)).await;
    assert_eq!(bodiless(&last(&w, "/v2/payments/W2")), ("DELETE", ""));
    let unpaid = w.adapter.create_merchant_qr(&qr("W3", 300)).await.unwrap();
    w.adapter
        .reverse(&reverse("W3", 300, unpaid.network_code_id.clone()))
        .await;
    let code_path = format!("/v2/codes/{}", unpaid.network_code_id.unwrap());
    assert_eq!(bodiless(&last(&w, &code_path)), ("DELETE", ""));
    assert!(shown.network_code_id.is_some());
}

#[tokio::test]
async fn the_terminals_store_is_sent_as_store_id_and_omitted_when_unknown() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("kenji", 5_000)).unwrap();
    w.adapter.create_merchant_qr(&qr("W4", 100)).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&last(&w, wire::CODES_PATH).body).unwrap();
    assert_eq!(
        (body["storeId"].as_str(), body["terminalId"].as_str()),
        (Some("s1"), Some("t1"))
    );
    let code = w.control.issue_code("kenji").unwrap();
    w.adapter.pay(&scan("W5", 100, &code)).await;
    let body: serde_json::Value =
        serde_json::from_slice(&last(&w, wire::EXT_SCAN_PATH).body).unwrap();
    assert_eq!(body["storeId"], "s1");

    let mut storeless = qr("W6", 100);
    storeless.merchant.store_id = String::new();
    w.adapter.create_merchant_qr(&storeless).await.unwrap();
    assert!(!fields(&last(&w, wire::CODES_PATH)).contains("storeId"));
    let code = w.control.issue_code("kenji").unwrap();
    let mut storeless = scan("W7", 100, &code);
    storeless.merchant.store_id = String::new();
    assert!(matches!(
        w.adapter.pay(&storeless).await,
        PayOutcome::Succeeded(_)
    ));
    assert!(!fields(&last(&w, wire::EXT_SCAN_PATH)).contains("storeId"));
}
