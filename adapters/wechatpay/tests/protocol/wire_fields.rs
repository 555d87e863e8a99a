//! The exact wire WeChat Pay sees, pinned to the research file (`wechatpay.md` §1.4,
//! §1.8-§1.11): the XML field names of every request. v2 Quick Pay has no store field:
//! `device_info` carries the terminal, and the store is not sent.
use std::collections::BTreeSet;

use kakehashi_adapter_core::wiretap::Received;

use super::*;

/// Every request: the institution, the merchant, a nonce and the signature (§1.1, §1.2).
const ENVELOPE: &[&str] = &[
    "appid",
    "mch_id",
    "nonce_str",
    "sign",
    "sign_type",
    "sub_mch_id",
];

/// micropay (§1.4), as the adapter fills it.
const MICROPAY: &[&str] = &[
    "auth_code",
    "body",
    "device_info",
    "fee_type",
    "out_trade_no",
    "spbill_create_ip",
    "total_fee",
    "version",
];

/// refund (§1.10), with a reason.
const REFUND: &[&str] = &[
    "out_refund_no",
    "out_trade_no",
    "refund_desc",
    "refund_fee",
    "refund_fee_type",
    "total_fee",
];

fn names(received: &Received) -> BTreeSet<String> {
    xml::read(&received.body)
        .expect("an XML body")
        .into_keys()
        .collect()
}

fn with_envelope(names: &[&str]) -> BTreeSet<String> {
    ENVELOPE
        .iter()
        .chain(names)
        .map(|n| (*n).to_owned())
        .collect()
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
    w.control
        .add_wallet(&wallet("li", WalletKind::Mainland, 1_000_000, None))
        .unwrap();
    let code = w.control.issue_code("li").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("X1", "1000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    let micropay = last(&w, "/pay/micropay");
    assert_eq!(names(&micropay), with_envelope(MICROPAY));
    let sent = xml::read(&micropay.body).unwrap();
    assert_eq!(sent["device_info"], "till-1", "the terminal, not the store");
    assert!(!sent.values().any(|v| v == "s"), "the store is not sent");
    // micropay is followed by orderquery for the rate.
    assert_eq!(
        names(&last(&w, "/pay/orderquery")),
        with_envelope(&["out_trade_no"])
    );

    let mut request = refund("X1", "X1R1", "1000", "100");
    request.reason = "returned".into();
    w.adapter.refund(&request).await;
    assert_eq!(
        names(&last(&w, "/secapi/pay/refund")),
        with_envelope(REFUND)
    );
    w.adapter.query_refund(&request).await;
    assert_eq!(
        names(&last(&w, "/pay/refundquery")),
        with_envelope(&["out_refund_no"])
    );

    w.clock.advance_ms(16_000);
    w.adapter.reverse(&reverse("X1", "1000", START_MS)).await;
    assert_eq!(
        names(&last(&w, "/secapi/pay/reverse")),
        with_envelope(&["out_trade_no"])
    );
}
