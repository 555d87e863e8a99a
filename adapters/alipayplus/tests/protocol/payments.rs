//! Payments, cancels and refunds end to end; every result class; tampered and replayed
//! requests.
use super::*;

#[tokio::test]
async fn a_kakaopay_customer_pays_a_yen_price_in_won_with_the_quote_kept() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("kim", Member::KakaoPay, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("kim").unwrap();
    assert!(
        code.starts_with("281010") && code.len() == 24,
        "a CGCP code with routing number 010"
    );
    // The adapter's code table names the wallet before paying.
    let profile = w.adapter.profile();
    let hit = profile
        .code_patterns
        .iter()
        .filter(|p| p.matches(&PaymentCode::parse(&code).unwrap()))
        .max_by_key(|p| p.prefix.len())
        .unwrap();
    assert_eq!(hit.brand.as_deref(), Some("KakaoPay"));

    let PayOutcome::Succeeded(paid) = w.adapter.pay(&pay("A1", "1200", &code)).await else {
        panic!("not paid")
    };
    assert_eq!(paid.wallet_brand.as_deref(), Some("KakaoPay"));
    let wallet = paid.wallet_amount.clone().unwrap();
    assert_eq!(
        wallet.amount,
        Money::parse("10944", "KRW").unwrap(),
        "JPY 1200 at 9.12"
    );
    assert_eq!(wallet.rate, Some(Decimal::from_str("9.12").unwrap()));
    let quote = paid.settlement_quote.clone().unwrap();
    assert_eq!(quote.currency_pair, "JPY/USD");
    assert_eq!(quote.price, Decimal::from_str("0.00658").unwrap());
    assert_eq!(
        quote.settlement_amount,
        Some(Money::parse("7.90", "USD").unwrap())
    );
    assert_eq!(quote.expires_at_ms, Some(START_MS + 600_000));
    assert_eq!(w.control.balance("kim"), Some(100_000 - 10_944));
    assert_eq!(
        w.adapter.query(&query("A1")).await,
        PayOutcome::Succeeded(paid)
    );

    // Refunds: partial, then the rest; the customer gets back the same share in won.
    assert!(matches!(
        w.adapter.refund(&refund("A1", "R1", "1200", "200")).await,
        RefundOutcome::Succeeded { .. }
    ));
    assert!(
        matches!(
            w.adapter
                .query_refund(&refund("A1", "R1", "1200", "200"))
                .await,
            RefundOutcome::Succeeded { .. }
        ),
        "idempotent by refundRequestId"
    );
    assert_eq!(w.control.balance("kim"), Some(100_000 - 10_944 + 1_824));
    let over = w.adapter.refund(&refund("A1", "R2", "1200", "1001")).await;
    assert_eq!(
        over,
        RefundOutcome::Declined {
            reason: DeclineReason::RefundNotAllowed,
            network_code: "REFUND_AMOUNT_EXCEED".into()
        }
    );
    assert!(matches!(
        w.adapter.refund(&refund("A1", "R3", "1200", "1000")).await,
        RefundOutcome::Succeeded { .. }
    ));
    assert_eq!(w.control.balance("kim"), Some(100_000));
}

#[tokio::test]
async fn a_customer_who_must_confirm_is_awaited_and_cancel_wins() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("wei", Member::AlipayCn, 100_000, Some(4_000)))
        .unwrap();
    let code = w.control.issue_code("wei").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("A2", "1000", &code)).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    assert!(matches!(
        w.adapter.query(&query("A2")).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    w.clock.advance_ms(4_000);
    let PayOutcome::Succeeded(paid) = w.adapter.query(&query("A2")).await else {
        panic!("not confirmed")
    };
    assert_eq!(
        paid.wallet_amount.unwrap().amount,
        Money::parse("47.80", "CNY").unwrap()
    );
    assert_eq!(w.control.balance("wei"), Some(100_000 - 4_780));
    // Cancel returns the money, is idempotent, and nothing succeeds afterwards.
    assert_eq!(
        w.adapter.reverse(&reverse("A2")).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(
        w.adapter.reverse(&reverse("A2")).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("wei"), Some(100_000));
    assert!(matches!(
        w.adapter.query(&query("A2")).await,
        PayOutcome::Declined { .. }
    ));
    // Never seen: nothing to cancel.
    assert_eq!(
        w.adapter.reverse(&reverse("NEVER")).await,
        ReverseOutcome::Reversed
    );
}

#[tokio::test]
async fn cancel_is_refused_after_00_15_utc8_the_next_day() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("hk", Member::AlipayHk, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("hk").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("A3", "1000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    // 09:00 UTC+8 today -> 00:15:01 UTC+8 tomorrow.
    w.clock.advance_ms(15 * 3_600_000 + 15 * 60_000 + 1_000);
    assert!(matches!(
        w.adapter.reverse(&reverse("A3")).await,
        ReverseOutcome::Refused { .. }
    ));
    assert_eq!(w.control.balance("hk"), Some(100_000 - 5_210));
}

#[tokio::test]
async fn every_result_class_maps_to_its_outcome() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("poor", Member::TrueMoney, 100, None))
        .unwrap();
    w.control
        .add_wallet(&wallet("rich", Member::AlipayCn, 10_000_000, None))
        .unwrap();
    let code = w.control.issue_code("poor").unwrap();
    assert_eq!(
        w.adapter.pay(&pay("F1", "1000", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::InsufficientFunds,
            network_code: "USER_BALANCE_NOT_ENOUGH".into()
        }
    );
    assert_eq!(
        w.adapter.pay(&pay("F2", "10", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::CodeInvalid,
            network_code: "INVALID_CODE".into()
        }
    );
    assert_eq!(
        w.adapter.pay(&pay("F3", "10", "2812345678901234567")).await,
        PayOutcome::Declined {
            reason: DeclineReason::CodeInvalid,
            network_code: "INVALID_PAYMENT_CODE".into()
        }
    );
    let code = w.control.issue_code("rich").unwrap();
    w.clock.advance_ms(120_001);
    assert_eq!(
        w.adapter.pay(&pay("F4", "10", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::CodeExpired,
            network_code: "EXPIRED_CODE".into()
        }
    );
    // The same paymentRequestId with other content is refused; the same content is a replay.
    let code = w.control.issue_code("rich").unwrap();
    let first = w.adapter.pay(&pay("F5", "10", &code)).await;
    assert!(matches!(first, PayOutcome::Succeeded(_)));
    assert_eq!(w.adapter.pay(&pay("F5", "10", &code)).await, first);
    assert_eq!(
        w.adapter.pay(&pay("F5", "11", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::DuplicateOrder,
            network_code: "REPEAT_REQ_INCONSISTENT".into()
        }
    );
    for fault in [
        Fault::Decline {
            code: "UNKNOWN_EXCEPTION".into(),
        },
        Fault::Decline {
            code: "REQUEST_TRAFFIC_EXCEED_LIMIT".into(),
        },
        Fault::HttpStatus { status: 500 },
        Fault::Garbled,
        Fault::Hang,
    ] {
        w.control
            .inject(Some(Operation::Pay), fault.clone(), Some(1));
        let code = w.control.issue_code("rich").unwrap();
        assert!(
            matches!(
                w.adapter.pay(&pay("F6", "10", &code)).await,
                PayOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
    w.control.inject(
        Some(Operation::Pay),
        Fault::Decline {
            code: "RISK_REJECT".into(),
        },
        Some(1),
    );
    let code = w.control.issue_code("rich").unwrap();
    assert_eq!(
        w.adapter.pay(&pay("F7", "10", &code)).await,
        PayOutcome::Declined {
            reason: DeclineReason::RiskRejected,
            network_code: "RISK_REJECT".into()
        }
    );
    // A reply signed with the wrong key is not believed.
    w.control.sign_replies_wrongly(1);
    let code = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("F8", "10", &code)).await,
        PayOutcome::Unknown { .. }
    ));
    assert!(
        matches!(
            w.adapter.query(&query("F8")).await,
            PayOutcome::Succeeded(_)
        ),
        "it did go through"
    );
}

async fn raw(w: &World, signature: &str, time: &str, body: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!(
            "{}/aps/api/v1/payments/inquiryPayment",
            w.sim.base_url
        ))
        .header("Client-Id", SIM_CLIENT_ID)
        .header("Request-Time", time)
        .header("Signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_simulator_refuses_tampered_replayed_and_stale_requests() {
    let w = world().await;
    let signer =
        Signer::from_pkcs8_pem(w.sim.adapter_config["private_key_pem"].as_str().unwrap()).unwrap();
    let path = "/aps/api/v1/payments/inquiryPayment";
    let body = r#"{"paymentRequestId":"NOPE"}"#;
    let now = kakehashi_adapter_core::simkit::iso8601_utc(START_MS);
    let sig = signer
        .header(&sign::content(
            "POST",
            path,
            SIM_CLIENT_ID,
            &now,
            body.as_bytes(),
        ))
        .unwrap();
    let code = |v: serde_json::Value| v["result"]["resultCode"].as_str().unwrap().to_owned();
    assert_eq!(
        code(raw(&w, &sig, &now, body).await),
        "ORDER_NOT_EXIST",
        "a good request is served"
    );
    assert_eq!(
        code(raw(&w, &sig, &now, body).await),
        "ACCESS_DENIED",
        "the same signed bytes again: replay"
    );
    assert_eq!(
        code(raw(&w, &sig, &now, r#"{"paymentRequestId":"NOPF"}"#).await),
        "INVALID_SIGNATURE",
        "tampered body"
    );
    let stale = kakehashi_adapter_core::simkit::iso8601_utc(START_MS - 301_000);
    let stale_sig = signer
        .header(&sign::content(
            "POST",
            path,
            SIM_CLIENT_ID,
            &stale,
            body.as_bytes(),
        ))
        .unwrap();
    assert_eq!(
        code(raw(&w, &stale_sig, &stale, body).await),
        "INVALID_SIGNATURE",
        "Request-Time too old"
    );
    let (other, _) = sign::generate_pem_pair().unwrap();
    let forged = Signer::from_pkcs8_pem(&other)
        .unwrap()
        .header(&sign::content(
            "POST",
            path,
            SIM_CLIENT_ID,
            &now,
            body.as_bytes(),
        ))
        .unwrap();
    assert_eq!(
        code(raw(&w, &forged, &now, body).await),
        "INVALID_SIGNATURE",
        "someone else's key"
    );
    let epoch_ms = START_MS.to_string();
    let epoch_sig = signer
        .header(&sign::content(
            "POST",
            path,
            SIM_CLIENT_ID,
            &epoch_ms,
            body.as_bytes(),
        ))
        .unwrap();
    assert_eq!(
        code(raw(&w, &epoch_sig, &epoch_ms, body).await),
        "ORDER_NOT_EXIST",
        "epoch-millisecond Request-Time accepted (Java SDK)"
    );
}
