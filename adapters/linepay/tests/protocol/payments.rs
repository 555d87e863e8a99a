//! Payments and refunds end to end, every error class, the simulator's refusals.
use super::*;

#[tokio::test]
async fn pay_check_refund_and_reverse() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("w", 5_000)).unwrap();
    let code = w.control.issue_code("w").unwrap();
    assert!(code.starts_with("9000000000") && code.len() == 19);

    let PayOutcome::Succeeded(paid) = w.adapter.pay(&pay("O1", "1200", &code)).await else {
        panic!("pay failed")
    };
    assert_eq!(paid.network_txn_id.len(), 19);
    assert_eq!(w.control.balance("w"), Some(yen(3_800)));
    assert_eq!(
        w.adapter.query(&query("O1", "1200")).await,
        PayOutcome::Succeeded(paid.clone())
    );

    assert!(matches!(
        w.adapter.refund(&refund("O1", "1200", "200")).await,
        RefundOutcome::Succeeded { .. }
    ));
    let over = w.adapter.refund(&refund("O1", "1200", "1001")).await;
    assert_eq!(
        over,
        RefundOutcome::Declined {
            reason: DeclineReason::RefundNotAllowed,
            network_code: "1164".into()
        }
    );
    assert_eq!(w.control.balance("w"), Some(yen(4_000)));

    // Reversing a captured order refunds the rest; reversing again is still reversed.
    assert_eq!(
        w.adapter.reverse(&reverse("O1", "1200")).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(w.control.balance("w"), Some(yen(5_000)));
    assert_eq!(
        w.adapter.reverse(&reverse("O1", "1200")).await,
        ReverseOutcome::Reversed
    );
    // An order LINE Pay never saw is reversed by definition: nothing moved.
    assert_eq!(
        w.adapter.reverse(&reverse("NEVER", "100")).await,
        ReverseOutcome::Reversed
    );
    assert!(matches!(
        w.adapter.query(&query("NEVER", "100")).await,
        PayOutcome::Unknown { .. }
    ));
}

#[tokio::test]
async fn every_error_class_maps_to_its_outcome() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("poor", 100)).unwrap();
    w.control.add_wallet(&jpy_wallet("rich", 100_000)).unwrap();

    let code = w.control.issue_code("poor").unwrap();
    assert_eq!(
        declined(&w.adapter.pay(&pay("E1", "1200", &code)).await),
        (DeclineReason::InsufficientFunds, "1142".into())
    );
    // LINE Pay keeps a refused orderId: it cannot be paid again, and Check says FAIL.
    let again = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("E1", "50", &again)).await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(
        declined(&w.adapter.query(&query("E1", "1200")).await).1,
        "FAIL"
    );
    assert_eq!(w.control.balance("rich"), Some(yen(100_000)));
    // The key was consumed by that attempt: used keys are refused.
    assert_eq!(
        declined(&w.adapter.pay(&pay("E2", "50", &code)).await),
        (DeclineReason::CodeInvalid, "1133".into())
    );
    // A key the network never issued.
    assert_eq!(
        declined(&w.adapter.pay(&pay("E3", "50", "9000000000999999999")).await),
        (DeclineReason::CodeInvalid, "1133".into())
    );
    // An expired key: 5 minutes and a moment later.
    let code = w.control.issue_code("rich").unwrap();
    w.clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(
        declined(&w.adapter.pay(&pay("E4", "50", &code)).await),
        (DeclineReason::CodeExpired, "1180".into())
    );
    // A duplicate orderId is "unknown: check", never a second charge.
    let code = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("E5", "50", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    let code = w.control.issue_code("rich").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("E5", "50", &code)).await,
        PayOutcome::Unknown { .. }
    ));
    assert_eq!(w.control.balance("rich"), Some(yen(99_950)));

    // Transport failures are unknown.
    for fault in [
        Fault::HttpStatus { status: 503 },
        Fault::Garbled,
        Fault::Hang,
    ] {
        w.control
            .inject(Some(Operation::Pay), fault.clone(), Some(1));
        let code = w.control.issue_code("rich").unwrap();
        assert!(
            matches!(
                w.adapter.pay(&pay("E6", "50", &code)).await,
                PayOutcome::Unknown { .. }
            ),
            "{fault:?}"
        );
    }
    // An injected decline code passes through the table.
    w.control.inject(
        Some(Operation::Pay),
        Fault::Decline {
            code: "1283".into(),
        },
        Some(1),
    );
    let code = w.control.issue_code("rich").unwrap();
    assert_eq!(
        declined(&w.adapter.pay(&pay("E7", "50", &code)).await),
        (DeclineReason::RiskRejected, "1283".into())
    );
    assert_eq!(
        w.control.balance("rich"),
        Some(yen(99_950)),
        "no failure moved money"
    );
}

#[tokio::test]
async fn a_lost_reply_is_found_by_check() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("w", 1_000)).unwrap();
    w.control
        .inject(Some(Operation::Pay), Fault::HangAfterProcessing, Some(1));
    let code = w.control.issue_code("w").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("L1", "300", &code)).await,
        PayOutcome::Unknown { .. }
    ));
    assert!(matches!(
        w.adapter.query(&query("L1", "300")).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(w.control.balance("w"), Some(yen(700)));
}

#[tokio::test]
async fn the_simulator_refuses_what_line_pay_refuses() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("w", 10_000)).unwrap();
    let body = |key: &str, amount: &str, currency: &str, order: &str| {
        format!(
            r#"{{"amount":{amount},"currency":"{currency}","oneTimeKey":"{key}","orderId":"{order}","packages":[{{"id":"1","amount":{amount},"products":[{{"name":"x","quantity":1,"price":{amount}}}]}}],"options":{{"payment":{{"capture":true}}}}}}"#
        )
    };
    let code = |_: ()| w.control.issue_code("w").unwrap();
    let return_code = |v: serde_json::Value| v["returnCode"].as_str().unwrap().to_owned();

    // A tampered body: signed one thing, sent another.
    let signed = body(&code(()), "100", "JPY", "T1");
    let signature = sign::signature(SIM_CHANNEL_SECRET, wire::PAY_PATH, signed.as_bytes(), "n-1");
    let tampered = signed.replace("100", "1");
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{}{}", w.sim.base_url, wire::PAY_PATH))
        .header("X-LINE-ChannelId", kakehashi_linepay::sim::SIM_CHANNEL_ID)
        .header("X-LINE-Authorization-Nonce", "n-1")
        .header("X-LINE-Authorization", signature)
        .body(tampered)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(return_code(reply), "1106");
    // The wrong secret.
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100", "JPY", "T2"),
                "n-2",
                "not-the-secret"
            )
            .await
        ),
        "1106"
    );
    // A replayed nonce.
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100", "JPY", "T3"),
                "n-3",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "0000"
    );
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100", "JPY", "T4"),
                "n-3",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "1106"
    );
    // Malformed key, wrong currency, JPY with decimals, zero amount, bad JSON.
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body("12345", "100", "JPY", "T5"),
                "n-5",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "2101"
    );
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100", "TWD", "T6"),
                "n-6",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "1178"
    );
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100.5", "JPY", "T7"),
                "n-7",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "1124"
    );
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "0", "JPY", "T8"),
                "n-8",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "1183"
    );
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                "{not json",
                "n-9",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "2102"
    );
    // Duplicate orderId.
    assert_eq!(
        return_code(
            raw_post(
                &w.sim,
                wire::PAY_PATH,
                &body(&code(()), "100", "JPY", "T3"),
                "n-10",
                SIM_CHANNEL_SECRET
            )
            .await
        ),
        "1172"
    );
    assert_eq!(
        w.control.balance("w"),
        Some(yen(9_900)),
        "only T3 moved money"
    );
}

#[tokio::test]
async fn a_refused_check_is_unknown_never_a_decline() {
    let w = world().await;
    w.control.add_wallet(&jpy_wallet("w", 1_000)).unwrap();
    let code = w.control.issue_code("w").unwrap();
    assert!(matches!(
        w.adapter.pay(&pay("K1", "300", &code)).await,
        PayOutcome::Succeeded(_)
    ));
    for refusal in ["1106", "9000", "1142"] {
        w.control.inject(
            Some(Operation::Check),
            Fault::Decline {
                code: refusal.into(),
            },
            Some(1),
        );
        assert!(
            matches!(
                w.adapter.query(&query("K1", "300")).await,
                PayOutcome::Unknown { .. }
            ),
            "{refusal}"
        );
    }
    assert!(matches!(
        w.adapter.query(&query("K1", "300")).await,
        PayOutcome::Succeeded(_)
    ));
}

/// An adapter configured for the simulator's channel in `currency`, as a Taiwanese or Thai
/// deployment would be.
fn regional_adapter(w: &World, currency: iso_currency::Currency) -> Arc<dyn WalletNetwork> {
    let channel = w.control.channel(currency).unwrap();
    let mut config = kakehashi_linepay::sim::adapter_config(&w.sim.base_url, channel);
    // The switch takes code_patterns for its routing table before the adapter sees them.
    let patterns = config.remove("code_patterns").unwrap();
    assert_eq!(patterns.as_array().unwrap().len(), 1);
    kakehashi_linepay::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap()
}

fn in_currency<R>(mut request: R, currency: &str, set: impl Fn(&mut R, Money)) -> R {
    let amount = Money::parse("150", currency).unwrap();
    set(&mut request, amount);
    request
}

#[tokio::test]
async fn taiwan_and_thailand_channels_take_their_own_currency_and_mycode() {
    use iso_currency::Currency;
    let w = world().await;
    for (currency, length) in [(Currency::TWD, 18), (Currency::THB, 12)] {
        let code_name = currency.code();
        let adapter = regional_adapter(&w, currency);
        let wallet = format!("wallet-{code_name}");
        w.control
            .add_wallet(&NewWallet::new(
                &wallet,
                Amount::from_decimal(yen(1_000), currency).unwrap(),
            ))
            .unwrap();
        let code = w.control.issue_code(&wallet).unwrap();
        assert_eq!(code.len(), length, "{code_name} MyCode length");

        let order = format!("{code_name}-1");
        let paid = adapter
            .pay(&in_currency(pay(&order, "1", &code), code_name, |r, m| {
                r.amount = m
            }))
            .await;
        assert!(
            matches!(paid, PayOutcome::Succeeded(_)),
            "{code_name}: {paid:?}"
        );
        assert_eq!(w.control.balance(&wallet), Some(yen(850)));
        let refunded = adapter
            .refund(&in_currency(refund(&order, "1", "1"), code_name, |r, m| {
                r.amount = m;
                r.payment_amount = m;
            }))
            .await;
        assert!(
            matches!(refunded, RefundOutcome::Succeeded { .. }),
            "{refunded:?}"
        );
        assert_eq!(w.control.balance(&wallet), Some(yen(1_000)));

        // A yen price on this channel is refused with LINE Pay's currency code...
        let code = w.control.issue_code(&wallet).unwrap();
        assert_eq!(
            declined(
                &adapter
                    .pay(&pay(&format!("{code_name}-2"), "150", &code))
                    .await
            ),
            (DeclineReason::CurrencyNotSupported, "1178".into())
        );
        // ...and the Japanese channel cannot see this channel's orders.
        assert!(matches!(
            w.adapter.query(&query(&order, "150")).await,
            PayOutcome::Unknown { .. } | PayOutcome::Declined { .. }
        ));
        assert!(w.control.order(&order).is_some());
    }
    // A Japanese customer's MyCode does not pay on the Taiwanese channel.
    w.control.add_wallet(&jpy_wallet("jp", 1_000)).unwrap();
    let jp_code = w.control.issue_code("jp").unwrap();
    let taiwan = regional_adapter(&w, Currency::TWD);
    assert_eq!(
        declined(
            &taiwan
                .pay(&in_currency(pay("TW-3", "1", &jp_code), "TWD", |r, m| r
                    .amount =
                    m))
                .await
        )
        .1,
        "1178"
    );
    assert_eq!(w.control.balance("jp"), Some(yen(1_000)));
}
