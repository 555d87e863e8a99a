//! The exact wire Alipay+ sees, pinned to the research file (`alipayplus.md` §4, §7): every
//! JSON key path of every request, spelt as Alipay+ spells it (`merchantMCC`, `storeMCC`),
//! the terminal's store as `referenceStoreId`, and the simulator refusing a misspelt key as
//! Alipay+ would (PARAM_ILLEGAL, F).
use std::collections::BTreeSet;

use kakehashi_adapter_core::wiretap::{Received, json_field_paths};
use kakehashi_alipayplus::wire;

use super::*;

/// pay (§4), as the adapter fills it for a user-presented code.
const PAY_FIELDS: &[&str] = &[
    "order",
    "order.merchant",
    "order.merchant.merchantMCC",
    "order.merchant.merchantName",
    "order.merchant.referenceMerchantId",
    "order.merchant.store",
    "order.merchant.store.referenceStoreId",
    "order.merchant.store.storeMCC",
    "order.merchant.store.storeName",
    "order.merchant.store.storeTerminalId",
    "order.orderAmount",
    "order.orderAmount.currency",
    "order.orderAmount.value",
    "order.orderDescription",
    "order.referenceOrderId",
    "paymentAmount",
    "paymentAmount.currency",
    "paymentAmount.value",
    "paymentFactor",
    "paymentFactor.inStorePaymentScenario",
    "paymentFactor.isInStorePayment",
    "paymentMethod",
    "paymentMethod.paymentMethodId",
    "paymentMethod.paymentMethodType",
    "paymentRequestId",
    "settlementStrategy",
    "settlementStrategy.settlementCurrency",
];

/// refund (§7), with a reason.
const REFUND_FIELDS: &[&str] = &[
    "paymentRequestId",
    "refundAmount",
    "refundAmount.currency",
    "refundAmount.value",
    "refundReason",
    "refundRequestId",
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

async fn paid(w: &World, id: &str, merchant: MerchantRef) {
    let wallet_id = format!("wallet-{id}");
    w.control
        .add_wallet(&wallet(&wallet_id, Member::AlipayCn, 1_000_000, None))
        .unwrap();
    let code = w.control.issue_code(&wallet_id).unwrap();
    let mut request = pay(id, "1000", &code);
    request.merchant = merchant;
    let outcome = w.adapter.pay(&request).await;
    assert!(matches!(outcome, PayOutcome::Succeeded(_)), "{outcome:?}");
}

#[tokio::test]
async fn every_request_carries_exactly_the_documented_fields() {
    let w = world().await;
    paid(&w, "W1", merchant()).await;
    assert_eq!(fields(&last(&w, wire::PAY_PATH)), set(PAY_FIELDS));
    // pay is followed by inquiryPayment for the settlement quote.
    assert_eq!(
        fields(&last(&w, wire::INQUIRY_PATH)),
        set(&["paymentRequestId"])
    );

    let mut request = refund("W1", "W1-R1", "1000", "100");
    request.reason = "returned".into();
    w.adapter.refund(&request).await;
    assert_eq!(fields(&last(&w, wire::REFUND_PATH)), set(REFUND_FIELDS));
    // No reason: the field is omitted, never "".
    w.adapter
        .refund(&refund("W1", "W1-R2", "1000", "100"))
        .await;
    let without: BTreeSet<String> = set(REFUND_FIELDS)
        .into_iter()
        .filter(|f| f != "refundReason")
        .collect();
    assert_eq!(fields(&last(&w, wire::REFUND_PATH)), without);

    // (Alipay+ refuses to cancel a payment it has refunded; only the wire matters here.)
    w.adapter.reverse(&reverse("W1")).await;
    assert_eq!(
        fields(&last(&w, wire::CANCEL_PATH)),
        set(&["paymentRequestId"])
    );
}

#[tokio::test]
async fn the_terminals_store_is_the_reference_store_and_omitted_when_unknown() {
    let w = world().await;
    paid(&w, "W2", merchant()).await;
    let body: serde_json::Value = serde_json::from_slice(&last(&w, wire::PAY_PATH).body).unwrap();
    let merchant_json = &body["order"]["merchant"];
    assert_eq!(merchant_json["referenceMerchantId"], "JP-RAMEN");
    assert_eq!(merchant_json["merchantMCC"], "5812");
    assert_eq!(merchant_json["store"]["referenceStoreId"], "s");
    assert_eq!(merchant_json["store"]["storeMCC"], "5812");
    assert_eq!(merchant_json["store"]["storeTerminalId"], "t");

    let mut storeless = merchant();
    storeless.store_id = String::new();
    paid(&w, "W3", storeless).await;
    let sent = fields(&last(&w, wire::PAY_PATH));
    assert!(
        !sent.contains("order.merchant.store.referenceStoreId"),
        "neither the merchant's id nor an empty string stands in for the store: {sent:?}"
    );
    assert!(sent.contains("order.merchant.store"), "UPM needs the store");
}

#[tokio::test]
async fn the_simulator_refuses_misspelt_fields_as_alipay_plus_would() {
    let w = world().await;
    paid(&w, "W4", merchant()).await;
    let sent = String::from_utf8(last(&w, wire::PAY_PATH).body).unwrap();
    let as_new = |id: &str, text: &str| text.replace("\"W4\"", &format!("\"{id}\""));

    for (id, wrong) in [
        ("W5", sent.replace("\"merchantMCC\"", "\"merchantMcc\"")),
        ("W6", sent.replace("\"storeMCC\"", "\"storeMcc\"")),
        (
            "W7",
            sent.replace("\"storeTerminalId\":\"t\"", "\"storeTerminalId\":\"\""),
        ),
        (
            "W8",
            sent.replace("\"storeName\"", "\"storeName\":\"x\",\"storeNickname\""),
        ),
    ] {
        let reply = signed_post(&w, wire::PAY_PATH, &as_new(id, &wrong)).await;
        assert_eq!(
            result(&reply),
            ("F".into(), "PARAM_ILLEGAL".into()),
            "{id}: {wrong}"
        );
        assert!(w.control.payment(id).is_none(), "{id} was not taken");
    }
    // The adapter's own body, under a new id, passes the check and meets the used code.
    let reply = signed_post(&w, wire::PAY_PATH, &as_new("W9", &sent)).await;
    assert_eq!(result(&reply), ("F".into(), "INVALID_CODE".into()));
}
