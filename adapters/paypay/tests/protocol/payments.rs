//! Dynamic QR, the CPM extension, cancels and refunds end to end; every error class;
//! tampered and replayed requests.
use super::*;

#[tokio::test]
async fn a_dynamic_qr_is_paid_by_the_customer_then_refunded_asynchronously() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("hanako", 5_000)).unwrap();
    let shown = w
        .adapter
        .create_merchant_qr(&qr("Q1", 1_200))
        .await
        .unwrap();
    assert!(shown.qr_payload.starts_with("https://qr.paypay.ne.jp/04-"));
    assert!(matches!(
        w.adapter.query(&query("Q1", 1_200)).await,
        PayOutcome::AwaitingCustomer { .. }
    ));

    w.control.pay_qr(&shown.qr_payload, "hanako").unwrap();
    let PayOutcome::Succeeded(paid) = w.adapter.query(&query("Q1", 1_200)).await else {
        panic!("not paid")
    };
    assert_eq!(w.control.balance("hanako"), Some(3_800));

    let first = w
        .adapter
        .refund(&refund("Q1", "R1", 1_200, 200, &paid.network_txn_id))
        .await;
    assert!(matches!(first, RefundOutcome::Pending { .. }), "{first:?}");
    assert_eq!(
        w.control.balance("hanako"),
        Some(3_800),
        "not refunded until PayPay completes it"
    );
    assert!(matches!(
        w.adapter
            .query_refund(&refund("Q1", "R1", 1_200, 200, &paid.network_txn_id))
            .await,
        RefundOutcome::Succeeded { .. }
    ));
    assert_eq!(w.control.balance("hanako"), Some(4_000));
    let over = w
        .adapter
        .refund(&refund("Q1", "R2", 1_200, 1_001, &paid.network_txn_id))
        .await;
    assert_eq!(
        over,
        RefundOutcome::Declined {
            reason: DeclineReason::InvalidRequest,
            network_code: "INVALID_PARAMS".into()
        }
    );
    // Refunding by merchantPaymentId instead of PayPay's paymentId is the classic mistake.
    assert!(matches!(
        w.adapter
            .refund(&refund("Q1", "R3", 1_200, 100, "Q1"))
            .await,
        RefundOutcome::Unknown { .. } | RefundOutcome::Declined { .. }
    ));
}

#[tokio::test]
async fn a_refund_lost_on_the_way_is_not_taken_and_sending_it_again_refunds_once() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("jiro", 5_000)).unwrap();
    let shown = w
        .adapter
        .create_merchant_qr(&qr("Q7", 1_000))
        .await
        .unwrap();
    // The customer's phone knows the QR by what it encodes: here, PayPay's codeId.
    let code_id = shown.network_code_id.expect("PayPay names its QR");
    w.control.pay_qr(&code_id, "jiro").unwrap();
    let PayOutcome::Succeeded(paid) = w.adapter.query(&query("Q7", 1_000)).await else {
        panic!("the customer paid")
    };
    let lost = refund("Q7", "R7", 1_000, 300, &paid.network_txn_id);
    w.control
        .inject(Some(Operation::Refund), Fault::Hang, Some(1));
    assert!(matches!(
        w.adapter.refund(&lost).await,
        RefundOutcome::Unknown { .. }
    ));
    assert!(matches!(
        w.adapter.query_refund(&lost).await,
        RefundOutcome::NotTaken { .. }
    ));
    assert!(matches!(
        w.adapter.refund(&lost).await,
        RefundOutcome::Pending { .. }
    ));
    assert!(matches!(
        w.adapter.refund(&lost).await,
        RefundOutcome::Pending { .. }
    ));
    assert!(matches!(
        w.adapter.query_refund(&lost).await,
        RefundOutcome::Succeeded { .. }
    ));
    assert_eq!(w.control.balance("jiro"), Some(4_300), "refunded once");
}

#[tokio::test]
async fn an_abandoned_qr_waits_unpaid_then_expires_and_a_reversal_deletes_it() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("taro", 5_000)).unwrap();
    let shown = w.adapter.create_merchant_qr(&qr("Q2", 800)).await.unwrap();
    w.control.abandon_qr(&shown.qr_payload).unwrap();
    // PayPay is not told that a customer walked away: the QR is still waiting...
    assert!(matches!(
        w.adapter.query(&query("Q2", 800)).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    // ...but nobody will pay it.
    assert!(matches!(
        w.control.pay_qr(&shown.qr_payload, "taro"),
        Err(SimError::Refused(_))
    ));
    assert_eq!(w.control.balance("taro"), Some(5_000));
    w.clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(
        w.adapter.query(&query("Q2", 800)).await,
        PayOutcome::Declined {
            reason: DeclineReason::PaymentExpired,
            network_code: "EXPIRED".into()
        }
    );

    let shown3 = w.adapter.create_merchant_qr(&qr("Q3", 800)).await.unwrap();
    assert_eq!(
        w.adapter
            .reverse(&reverse("Q3", 800, shown3.network_code_id.clone()))
            .await,
        ReverseOutcome::Reversed
    );
    assert!(
        w.control.pay_qr(&shown3.qr_payload, "taro").is_err(),
        "a reversed QR cannot be paid"
    );
    assert_eq!(w.control.balance("taro"), Some(5_000));
    assert!(shown.network_code_id.is_some());
}

#[tokio::test]
async fn the_cpm_extension_charges_a_scanned_code_once() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("kenji", 1_000)).unwrap();
    let code = w.control.issue_code("kenji").unwrap();
    assert!(code.starts_with("9000818188") && code.len() == 24);
    let PayOutcome::Succeeded(paid) = w.adapter.pay(&scan("S1", 600, &code)).await else {
        panic!("scan failed")
    };
    assert_eq!(w.control.balance("kenji"), Some(400));
    assert_eq!(
        w.adapter.query(&query("S1", 600)).await,
        PayOutcome::Succeeded(paid)
    );
    // Used code, unknown code, expired code, short balance.
    assert_eq!(
        w.adapter.pay(&scan("S2", 100, &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::CodeInvalid,
            network_code: "KAKEHASHI_EXT_CUSTOMER_CODE_INVALID".into()
        }
    );
    let code = w.control.issue_code("kenji").unwrap();
    assert_eq!(
        w.adapter.pay(&scan("S3", 500, &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::InsufficientFunds,
            network_code: "NO_SUFFICIENT_FUND".into()
        }
    );
    let code = w.control.issue_code("kenji").unwrap();
    w.clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(
        w.adapter.pay(&scan("S4", 100, &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::CodeExpired,
            network_code: "KAKEHASHI_EXT_CUSTOMER_CODE_EXPIRED".into()
        }
    );
    assert_eq!(w.control.balance("kenji"), Some(400));
}

#[tokio::test]
async fn cancel_returns_the_money_inside_the_window_and_is_refused_after() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("yuki", 3_000)).unwrap();
    let code = w.control.issue_code("yuki").unwrap();
    assert!(matches!(
        w.adapter.pay(&scan("C1", 1_000, &code)).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(
        w.adapter.reverse(&reverse("C1", 1_000, None)).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("yuki"), Some(3_000));

    let code = w.control.issue_code("yuki").unwrap();
    assert!(matches!(
        w.adapter.pay(&scan("C2", 1_000, &code)).await,
        PayOutcome::Succeeded(_)
    ));
    // 10:00 JST today -> 00:14:59 JST tomorrow is the last moment; 00:15:01 is past it.
    w.clock.advance_ms(14 * 3_600_000 + 15 * 60_000 + 1_000);
    assert!(matches!(
        w.adapter.reverse(&reverse("C2", 1_000, None)).await,
        ReverseOutcome::Refused { .. }
    ));
    assert_eq!(w.control.balance("yuki"), Some(2_000));
    // Never paid at all: nothing to cancel, nothing moved.
    assert_eq!(
        w.adapter.reverse(&reverse("NEVER", 1_000, None)).await,
        ReverseOutcome::Reversed
    );
}

#[tokio::test]
async fn transport_failures_are_unknown_and_declines_pass_through() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("aoi", 10_000)).unwrap();
    for fault in [
        Fault::HttpStatus { status: 500 },
        Fault::HttpStatus { status: 503 },
        Fault::Garbled,
        Fault::Hang,
    ] {
        w.control
            .inject(Some(Operation::Scan), fault.clone(), Some(1));
        let code = w.control.issue_code("aoi").unwrap();
        assert!(
            matches!(
                w.adapter.pay(&scan("F1", 100, &code)).await,
                PayOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
    w.control.inject(
        Some(Operation::Scan),
        Fault::Decline {
            code: "UNACCEPTABLE_OP".into(),
        },
        Some(1),
    );
    let code = w.control.issue_code("aoi").unwrap();
    assert_eq!(
        w.adapter.pay(&scan("F2", 100, &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::LimitExceeded,
            network_code: "UNACCEPTABLE_OP".into()
        }
    );
    w.control.inject(
        Some(Operation::Details),
        Fault::HttpStatus { status: 500 },
        Some(1),
    );
    assert!(matches!(
        w.adapter.query(&query("F1", 100)).await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("aoi"), Some(10_000));
}

async fn raw(
    sim: &RunningSimulator,
    auth: String,
    body: &str,
    content_type: &str,
) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{}/v2/codes", sim.base_url))
        .header("Authorization", auth)
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_simulator_refuses_tampered_replayed_and_stale_requests() {
    let w = world().await;
    let body = r#"{"merchantPaymentId":"RAW1","amount":{"amount":100,"currency":"JPY"},"codeType":"ORDER_QR","requestedAt":1}"#;
    let epoch = START_MS / 1000;
    let signed = |nonce: &'static str, epoch: i64| Signed {
        path: "/v2/codes",
        method: "POST",
        nonce,
        epoch,
        body: Some(("application/json", body.as_bytes())),
    };
    let good = sign::authorization(SIM_API_KEY, SIM_API_SECRET, &signed("nonce001", epoch));
    assert_eq!(
        raw(&w.sim, good.clone(), body, "application/json").await,
        201
    );
    assert_eq!(
        raw(&w.sim, good, body, "application/json").await,
        401,
        "replayed nonce"
    );
    let fresh = sign::authorization(SIM_API_KEY, SIM_API_SECRET, &signed("nonce002", epoch));
    assert_eq!(
        raw(&w.sim, fresh, &body.replace("100", "1"), "application/json").await,
        401,
        "tampered body"
    );
    let fresh = sign::authorization(SIM_API_KEY, SIM_API_SECRET, &signed("nonce003", epoch));
    assert_eq!(
        raw(&w.sim, fresh, body, "application/json;charset=UTF-8").await,
        401,
        "another content type"
    );
    let stale = sign::authorization(
        SIM_API_KEY,
        SIM_API_SECRET,
        &signed("nonce004", epoch - 121),
    );
    assert_eq!(
        raw(&w.sim, stale, body, "application/json").await,
        401,
        "epoch outside 2 minutes"
    );
    let wrong = sign::authorization(SIM_API_KEY, "not-the-secret", &signed("nonce005", epoch));
    assert_eq!(
        raw(&w.sim, wrong, body, "application/json").await,
        401,
        "wrong secret"
    );
}

#[tokio::test]
async fn a_refused_query_is_unknown_and_a_paid_qr_is_cancelled_with_its_code_deleted() {
    let w = world().await;
    w.control.add_wallet(&yen_wallet("mio", 5_000)).unwrap();
    let shown = w.adapter.create_merchant_qr(&qr("Q9", 700)).await.unwrap();
    w.control.pay_qr(&shown.qr_payload, "mio").unwrap();
    // A query PayPay refuses says nothing about the money: never a decline.
    w.control.inject(
        Some(Operation::Details),
        Fault::Decline {
            code: "UNAUTHORIZED".into(),
        },
        Some(1),
    );
    assert!(matches!(
        w.adapter.query(&query("Q9", 700)).await,
        PayOutcome::Unknown { .. }
    ));
    assert!(matches!(
        w.adapter.query(&query("Q9", 700)).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(w.control.balance("mio"), Some(4_300));
    // Reversing a paid QR: the code is deleted, the payment cancelled, the money returned.
    assert_eq!(
        w.adapter
            .reverse(&reverse("Q9", 700, shown.network_code_id))
            .await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("mio"), Some(5_000));
    assert_eq!(w.control.payment("Q9").unwrap().status, "FAILED");
}
