//! Quick Pay, queries, reversals and refunds end to end; every error class; the
//! simulator's refusals.
use super::*;

#[tokio::test]
async fn quick_pay_from_a_mainland_wallet_records_the_cny_amount_and_rate() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("li", WalletKind::Mainland, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("li").unwrap();
    assert!(code.starts_with("13") && code.len() == 18);

    let PayOutcome::Succeeded(paid) = w.adapter.pay(&pay("W1", "1200", &code)).await else {
        panic!("not paid")
    };
    assert_eq!(paid.network_txn_id.len(), 28);
    assert_eq!(paid.wallet_brand.as_deref(), Some("WeChat Pay"));
    let wallet = paid.wallet_amount.clone().unwrap();
    assert_eq!(
        wallet.amount,
        Money::parse("57.36", "CNY").unwrap(),
        "JPY 1200 at 0.0478"
    );
    assert_eq!(wallet.rate, Some(Decimal::from_str("0.0478").unwrap()));
    assert_eq!(w.control.balance("li"), Some(100_000 - 5_736));
    assert_eq!(
        w.adapter.query(&query("W1", "1200")).await,
        PayOutcome::Succeeded(paid)
    );
}

#[tokio::test]
async fn a_customer_slow_to_enter_the_pin_is_awaited_then_paid() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("wang", WalletKind::Mainland, 100_000, Some(8_000)))
        .unwrap();
    let code = w.control.issue_code("wang").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("W2", "1000", &code)).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    w.clock.advance_ms(5_000);
    assert!(matches!(
        w.adapter.query(&query("W2", "1000")).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    w.clock.advance_ms(5_000);
    assert!(matches!(
        w.adapter.query(&query("W2", "1000")).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(w.control.balance("wang"), Some(100_000 - 4_780));
}

#[tokio::test]
async fn a_payment_that_never_resolves_is_reversed_after_15_seconds_and_no_money_moves() {
    let w = world().await;
    w.control
        .add_wallet(&wallet(
            "zhao",
            WalletKind::Mainland,
            50_000,
            Some(u64::MAX),
        ))
        .unwrap();
    let code = w.control.issue_code("zhao").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("W3", "1000", &code)).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    // Too early: the adapter refuses to call before 15 s.
    assert_eq!(
        w.adapter.reverse(&reverse("W3", "1000", START_MS)).await,
        ReverseOutcome::TooEarly {
            not_before_ms: START_MS + 15_000
        }
    );
    w.clock.advance_ms(15_000);
    // The customer is still at the PIN prompt: WeChat Pay closes it and says recall=Y...
    assert!(matches!(
        w.adapter.reverse(&reverse("W3", "1000", START_MS)).await,
        ReverseOutcome::Retry { .. }
    ));
    // ...so the adapter reverses again, and this time it is confirmed.
    assert_eq!(
        w.adapter.reverse(&reverse("W3", "1000", START_MS)).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.order("W3").unwrap().state, "REVOKED");
    assert_eq!(w.control.balance("zhao"), Some(50_000));
    assert_eq!(
        w.adapter.query(&query("W3", "1000")).await,
        PayOutcome::Declined {
            reason: DeclineReason::PaymentExpired,
            network_code: "REVOKED".into()
        }
    );
    // recall=Y asks for another reverse.
    w.control.inject(
        Some(Operation::Reverse),
        Fault::Decline {
            code: "SYSTEMERROR".into(),
        },
        Some(1),
    );
    assert!(matches!(
        w.adapter.reverse(&reverse("W3", "1000", START_MS)).await,
        ReverseOutcome::Retry { .. }
    ));
}

#[tokio::test]
async fn reversing_a_paid_order_returns_the_money_and_refunds_complete_asynchronously() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("chen", WalletKind::HongKong, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("chen").unwrap();
    assert!(code.starts_with("15"));
    let PayOutcome::Succeeded(paid) = w.adapter.pay(&pay("W4", "2000", &code)).await else {
        panic!()
    };
    assert_eq!(paid.wallet_brand.as_deref(), Some("WeChat Pay HK"));
    assert_eq!(
        paid.wallet_amount.unwrap().amount,
        Money::parse("104.20", "HKD").unwrap()
    );
    assert_eq!(w.control.balance("chen"), Some(100_000 - 10_420));

    assert!(matches!(
        w.adapter.refund(&refund("W4", "R1", "2000", "500")).await,
        RefundOutcome::Pending { .. }
    ));
    assert!(matches!(
        w.adapter
            .query_refund(&refund("W4", "R1", "2000", "500"))
            .await,
        RefundOutcome::Pending { .. }
    ));
    assert!(matches!(
        w.adapter
            .query_refund(&refund("W4", "R1", "2000", "500"))
            .await,
        RefundOutcome::Succeeded { .. }
    ));
    assert_eq!(
        w.control.balance("chen"),
        Some(100_000 - 10_420 + 2_605),
        "refunded at the original rate"
    );
    let over = w.adapter.refund(&refund("W4", "R2", "2000", "1501")).await;
    assert!(matches!(over, RefundOutcome::Declined { .. }), "{over:?}");

    let code = w.control.issue_code("chen").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("W5", "1000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    w.clock.advance_ms(15_000);
    assert_eq!(
        w.adapter.reverse(&reverse("W5", "1000", START_MS)).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("chen"), Some(100_000 - 10_420 + 2_605));
}

#[tokio::test]
async fn a_refund_the_cny_pool_cannot_cover_is_not_taken_until_sent_again() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("mei", WalletKind::Mainland, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("mei").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("W9", "2000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    // The day's CNY pool is short: NOTENOUGH, which WeChat Pay says to send again later
    // under the same out_refund_no. Until then WeChat Pay holds no such refund.
    w.control.set_refund_pool(Some(1_000));
    let short = refund("W9", "R1", "2000", "500");
    assert_eq!(
        w.adapter.refund(&short).await,
        RefundOutcome::NotTaken {
            detail: "NOTENOUGH".into()
        }
    );
    assert_eq!(
        w.adapter.query_refund(&short).await,
        RefundOutcome::NotTaken {
            detail: "REFUNDNOTEXIST".into()
        }
    );
    // New CNY arrives; the same refund, sent again, is taken and completes once.
    w.control.set_refund_pool(Some(5_000));
    assert!(matches!(
        w.adapter.refund(&short).await,
        RefundOutcome::Pending { .. }
    ));
    assert!(matches!(
        w.adapter.refund(&short).await,
        RefundOutcome::Pending { .. }
    ));
    w.adapter.query_refund(&short).await;
    assert!(matches!(
        w.adapter.query_refund(&short).await,
        RefundOutcome::Succeeded { .. }
    ));
    // ¥500 at 0.0478 is CNY 23.90, paid once from the pool and back in the wallet once.
    assert_eq!(w.control.balance("mei"), Some(100_000 - 9_560 + 2_390));
}

#[tokio::test]
async fn past_the_reverse_window_wechat_refuses_and_says_refund() {
    let w = world().await;
    w.control.set_reverse_window(ReverseWindow::SameDay);
    w.control
        .add_wallet(&wallet("lin", WalletKind::Mainland, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("lin").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("W8", "1000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    // START_MS is 09:00 China time; past midnight the same-day window has closed.
    w.clock.advance_ms(15 * 3_600_000 + 1);
    assert!(matches!(
        w.adapter.reverse(&reverse("W8", "1000", START_MS)).await,
        ReverseOutcome::Refused { network_code, .. } if network_code == "REVERSE_EXPIRE"
    ));
    assert_eq!(
        w.control.balance("lin"),
        Some(100_000 - 4_780),
        "still paid"
    );

    // With the seven-day window the same order could still have been reversed.
    w.control.set_reverse_window(ReverseWindow::SevenDays);
    assert_eq!(
        w.adapter.reverse(&reverse("W8", "1000", START_MS)).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("lin"), Some(100_000));
}

#[tokio::test]
async fn an_md5_configured_adapter_pays_and_the_simulator_checks_md5() {
    let w = world().await;
    let mut config = w.sim.adapter_config.clone();
    config.insert("sign_type".into(), "MD5".into());
    let md5 = kakehashi_wechatpay::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap();
    w.control
        .add_wallet(&wallet("hu", WalletKind::Mainland, 100_000, None))
        .unwrap();
    let code = w.control.issue_code("hu").unwrap();
    assert!(matches!(
        md5.pay(&pay("M1", "1000", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    assert!(matches!(
        md5.query(&query("M1", "1000")).await,
        PayOutcome::Succeeded(_)
    ));
    // An MD5 request whose signature was made with the wrong key is refused.
    let mut bad = config.clone();
    bad.insert("api_key".into(), "0".repeat(32).into());
    let forged = kakehashi_wechatpay::factory()
        .build(&bad, Arc::new(w.clock.clone()))
        .unwrap();
    assert!(matches!(
        forged.query(&query("M1", "1000")).await,
        PayOutcome::Unknown { .. }
    ));
}

#[tokio::test]
async fn an_unregistered_sub_merchant_and_a_reused_order_number_are_refused() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("gao", WalletKind::Mainland, 100_000, None))
        .unwrap();
    let mut stranger = pay("S1", "1000", &w.control.issue_code("gao").unwrap());
    stranger.merchant.network_merchant_id = Some("1900000999".into());
    assert_eq!(
        w.adapter.pay(&stranger).await,
        PayOutcome::Declined {
            reason: DeclineReason::MerchantNotEnabled,
            network_code: "MCHID_NOT_EXIST".into()
        }
    );
    w.control.add_sub_merchant("1900000999").unwrap();
    let mut registered = pay("S2", "1000", &w.control.issue_code("gao").unwrap());
    registered.merchant.network_merchant_id = Some("1900000999".into());
    assert!(matches!(
        w.adapter.pay(&registered).await,
        PayOutcome::Succeeded(_)
    ));

    // Our own order number again, for an order that did not succeed: OUT_TRADE_NO_USED,
    // which means "ask before deciding", never a second charge.
    w.control
        .add_wallet(&wallet("poor", WalletKind::Mainland, 100, None))
        .unwrap();
    assert!(matches!(
        w.adapter
            .pay(&pay("S3", "1000", &w.control.issue_code("poor").unwrap()))
            .await,
        PayOutcome::Declined { .. }
    ));
    assert!(matches!(
        w.adapter
            .pay(&pay("S3", "1000", &w.control.issue_code("gao").unwrap()))
            .await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("gao"), Some(100_000 - 4_780));
}

#[tokio::test]
async fn an_order_wechat_never_received_is_not_received_not_unknown() {
    let w = world().await;
    assert_eq!(
        w.adapter.query(&query("NEVER-SENT", "1000")).await,
        PayOutcome::NotReceived {
            detail: "orderquery ORDERNOTEXIST".into()
        }
    );
}

#[tokio::test]
async fn every_error_class_maps_to_its_outcome() {
    let w = world().await;
    w.control
        .add_wallet(&wallet("poor", WalletKind::Mainland, 100, None))
        .unwrap();
    w.control
        .add_wallet(&wallet("rich", WalletKind::Mainland, 1_000_000, None))
        .unwrap();
    let declined = |o: PayOutcome| match o {
        PayOutcome::Declined {
            reason,
            network_code,
        } => (reason, network_code),
        other => panic!("expected a decline, got {other:?}"),
    };
    let code = w.control.issue_code("poor").unwrap();
    assert_eq!(
        declined(w.adapter.pay(&pay("E1", "1000", &code)).await),
        (DeclineReason::InsufficientFunds, "NOTENOUGH".into())
    );
    assert_eq!(
        declined(w.adapter.pay(&pay("E2", "10", &code)).await),
        (DeclineReason::CodeInvalid, "AUTH_CODE_ERROR".into())
    );
    assert_eq!(
        declined(w.adapter.pay(&pay("E3", "10", "134567890123456789")).await),
        (DeclineReason::CodeInvalid, "AUTH_CODE_INVALID".into())
    );
    let code = w.control.issue_code("rich").unwrap();
    w.clock.advance_ms(61_000);
    assert_eq!(
        declined(w.adapter.pay(&pay("E4", "10", &code)).await),
        (DeclineReason::CodeExpired, "AUTHCODEEXPIRE".into())
    );
    // Our own order number again: query before deciding anything.
    let code = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("E5", "10", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    let code = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("E5", "10", &code)).await,
        PayOutcome::Unknown { .. }
    ));
    for fault in [
        Fault::Decline {
            code: "SYSTEMERROR".into(),
        },
        Fault::Decline {
            code: "BANKERROR".into(),
        },
        Fault::HttpStatus { status: 502 },
        Fault::Garbled,
        Fault::Hang,
    ] {
        w.control
            .inject(Some(Operation::Micropay), fault.clone(), Some(1));
        let code = w.control.issue_code("rich").unwrap();
        assert!(
            matches!(
                w.adapter.pay(&pay("E6", "10", &code)).await,
                PayOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
    assert!(
        matches!(
            w.adapter.query(&query("NOPE", "10")).await,
            PayOutcome::NotReceived { .. }
        ),
        "ORDERNOTEXIST"
    );
    assert_eq!(w.control.balance("rich"), Some(1_000_000 - 48));
}

fn signed(fields: &[(&str, &str)]) -> Fields {
    let mut f: Fields = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let s = sign::sign(&f, SIM_API_KEY, SignType::HmacSha256);
    f.insert("sign".into(), s);
    f
}

async fn post(sim: &RunningSimulator, path: &str, body: String, with_cert: bool) -> Fields {
    let config = &sim.adapter_config;
    let ca = reqwest::Certificate::from_pem(config["ca_pem"].as_str().unwrap().as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder().tls_certs_only([ca]);
    if with_cert {
        let pem = format!(
            "{}\n{}",
            config["client_cert_pem"].as_str().unwrap(),
            config["client_key_pem"].as_str().unwrap()
        );
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    let reply = builder
        .build()
        .unwrap()
        .post(format!("{}{path}", sim.base_url))
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    xml::read(&reply).unwrap()
}

#[tokio::test]
async fn the_simulator_refuses_tampered_replayed_and_certificate_less_requests() {
    let w = world().await;
    let base = [
        ("appid", SIM_APPID),
        ("mch_id", SIM_MCH_ID),
        ("sub_mch_id", "1900000109"),
        ("sign_type", "HMAC-SHA256"),
        ("out_trade_no", "NONE"),
    ];
    let with_nonce = |nonce: &'static str| {
        let mut fields = base.to_vec();
        fields.push(("nonce_str", nonce));
        signed(&fields)
    };
    // Tampered: signed, then a field changed.
    let mut tampered = with_nonce("nonce-a");
    tampered.insert("out_trade_no".into(), "OTHER".into());
    assert_eq!(
        post(&w.sim, "/pay/orderquery", xml::write(&tampered), false).await["return_msg"],
        "签名错误"
    );
    // Replayed nonce.
    let first = post(
        &w.sim,
        "/pay/orderquery",
        xml::write(&with_nonce("nonce-b")),
        false,
    )
    .await;
    assert_eq!(first["return_code"], "SUCCESS");
    assert!(
        sign::verify(&first, SIM_API_KEY, SignType::HmacSha256),
        "replies are signed"
    );
    let replay = post(
        &w.sim,
        "/pay/orderquery",
        xml::write(&with_nonce("nonce-b")),
        false,
    )
    .await;
    assert_eq!(replay["return_code"], "FAIL");
    // /secapi/ without the client certificate.
    let no_cert = post(
        &w.sim,
        "/secapi/pay/reverse",
        xml::write(&with_nonce("nonce-c")),
        false,
    )
    .await;
    assert_eq!(no_cert["return_code"], "FAIL");
    assert!(no_cert["return_msg"].contains("certificate"));
    let with_cert = post(
        &w.sim,
        "/secapi/pay/reverse",
        xml::write(&with_nonce("nonce-d")),
        true,
    )
    .await;
    assert_eq!(
        (
            with_cert["return_code"].as_str(),
            with_cert["err_code"].as_str()
        ),
        ("SUCCESS", "ORDERNOTEXIST")
    );
    // Not XML at all.
    assert_eq!(
        post(&w.sim, "/pay/orderquery", "{\"json\":true}".into(), false).await["return_code"],
        "FAIL"
    );
    let _ = &w.clock;
}
