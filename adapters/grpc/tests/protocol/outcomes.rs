//! Every pay and query outcome the partner can give, and every failure class the adapter
//! maps, as the switch would see them.
use std::time::{Duration, Instant};

use kakehashi_adapter_core::sim_control::{PaymentStatus, SimulatorControl};
use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{DeclineReason, MerchantQrRequest, Money, PayOutcome, ReverseOutcome};
use kakehashi_grpc::Operation;
use rust_decimal::Decimal;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_korean_wallet_pays_a_yen_price_in_won_at_the_partners_rate() {
    let w = world(kpay()).await;
    let profile = w.adapter.profile();
    assert_eq!(profile.id, "kpay");
    assert_eq!(profile.display_name, "K-Pay");
    assert_eq!(profile.code_patterns[0].prefix, "93");
    assert_eq!(profile.timing.call_timeout, Duration::from_secs(1));
    assert!(profile.capabilities.refund_idempotent);

    w.wallet("minji", "100000", "KRW");
    let code = w.code("minji");
    assert!(code.starts_with("93") && code.len() == 20, "{code}");
    let PayOutcome::Succeeded(paid) = w.adapter.pay(&pay("Ramen1", "1200", &code)).await else {
        panic!("paid")
    };
    let charged = paid.wallet_amount.clone().expect("charged in won");
    assert_eq!(charged.amount, Money::parse("11040", "KRW").unwrap());
    assert_eq!(charged.rate, Some(Decimal::new(92, 1)));
    assert_eq!(paid.wallet_brand.as_deref(), Some("K-Pay"));
    assert_eq!(w.balance("minji"), "88960");

    // The same Pay again is the same payment, not a second charge.
    let again = w.adapter.pay(&pay("Ramen1", "1200", &code)).await;
    assert_eq!(again, PayOutcome::Succeeded(paid.clone()));
    assert_eq!(w.adapter.query(&query("Ramen1", "1200")).await, again);
    assert_eq!(w.balance("minji"), "88960");
    let deadline = w
        .partner
        .last_deadline()
        .expect("the call carried a deadline");
    assert!(
        ["1000000u", "1000m", "1S"].contains(&deadline.as_str())
            || deadline
                .trim_end_matches('u')
                .parse::<u64>()
                .is_ok_and(|us| us <= 1_000_000),
        "grpc-timeout {deadline}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declines_are_final_and_say_why() {
    let w = world(kpay()).await;
    w.wallet("poor", "100", "KRW");
    let declined = |outcome: PayOutcome| match outcome {
        PayOutcome::Declined {
            reason,
            network_code,
        } => (reason, network_code),
        other => panic!("declined, not {other:?}"),
    };
    let code = w.code("poor");
    assert_eq!(
        declined(w.adapter.pay(&pay("Poor1", "1200", &code)).await),
        (
            DeclineReason::InsufficientFunds,
            "BALANCE_INSUFFICIENT".into()
        )
    );
    assert_eq!(
        declined(w.adapter.pay(&pay("Reused1", "10", &code)).await),
        (DeclineReason::CodeInvalid, "CODE_USED".into())
    );
    let unknown = "93000000000000000000";
    assert_eq!(
        declined(w.adapter.pay(&pay("Unknown1", "10", unknown)).await).0,
        DeclineReason::CodeInvalid
    );
    let mut dollars = pay("Usd1", "10", &w.code("poor"));
    dollars.amount = Money::parse("10.00", "USD").unwrap();
    assert_eq!(
        declined(w.adapter.pay(&dollars).await).0,
        DeclineReason::CurrencyNotSupported
    );
    let stale = w.code("poor");
    w.clock.advance_ms(kakehashi_grpc::sim::CODE_VALID_MS);
    assert_eq!(
        declined(w.adapter.pay(&pay("Stale1", "10", &stale)).await).0,
        DeclineReason::CodeExpired
    );
    assert_eq!(w.balance("poor"), "100", "no decline moved money");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_confirms_in_the_app_before_money_moves() {
    let w = world(kpay()).await;
    w.slow_wallet("jiwoo", "50000", "KRW", 3_000);
    let code = w.code("jiwoo");
    let waiting = w.adapter.pay(&pay("Slow1", "1000", &code)).await;
    assert!(
        matches!(
            waiting,
            PayOutcome::AwaitingCustomer {
                network_txn_id: Some(_)
            }
        ),
        "{waiting:?}"
    );
    assert_eq!(w.balance("jiwoo"), "50000", "nothing charged yet");
    w.clock.advance_ms(2_999);
    assert!(matches!(
        w.adapter.query(&query("Slow1", "1000")).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    w.clock.advance_ms(1);
    assert!(matches!(
        w.adapter.query(&query("Slow1", "1000")).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(w.balance("jiwoo"), "40800");

    // A customer who never confirms: the switch reverses, and nothing was charged.
    w.slow_wallet("gone", "50000", "KRW", u64::MAX);
    let code = w.code("gone");
    w.adapter.pay(&pay("Gone1", "1000", &code)).await;
    assert_eq!(
        w.adapter.reverse(&reverse("Gone1", "1000")).await,
        ReverseOutcome::Reversed
    );
    w.clock.advance_ms(3_600_000);
    assert_eq!(w.balance("gone"), "50000");
    let books = w.partner.state();
    assert_eq!(
        books.payment("Gone1").unwrap().status,
        PaymentStatus::Reversed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pay_that_never_arrived_is_not_received_and_a_late_one_is_refused() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    assert!(matches!(
        w.adapter.query(&query("Lost1", "1200")).await,
        PayOutcome::NotReceived { .. }
    ));
    assert_eq!(
        w.adapter.reverse(&reverse("Lost1", "1200")).await,
        ReverseOutcome::Reversed
    );
    let late = w.adapter.pay(&pay("Lost1", "1200", &w.code("minji"))).await;
    assert!(
        matches!(
            late,
            PayOutcome::Declined {
                reason: DeclineReason::PaymentExpired,
                ..
            }
        ),
        "{late:?}"
    );
    assert_eq!(w.balance("minji"), "100000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_reply_is_unknown_within_the_deadline_and_the_query_finds_the_money() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    w.fault(Operation::Pay, Fault::HangAfterProcessing);
    let started = Instant::now();
    let lost = w.adapter.pay(&pay("Hang1", "1200", &w.code("minji"))).await;
    let waited = started.elapsed();
    assert!(matches!(lost, PayOutcome::Unknown { .. }), "{lost:?}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "the profile's 1 s call timeout bounds the call: {waited:?}"
    );
    assert_eq!(w.balance("minji"), "88960", "the partner took the money");
    assert!(matches!(
        w.adapter.query(&query("Hang1", "1200")).await,
        PayOutcome::Succeeded(_)
    ));

    // Lost on the way in: nothing happened, the query says so.
    w.fault(Operation::Pay, Fault::Hang);
    let lost = w.adapter.pay(&pay("Hang2", "1200", &w.code("minji"))).await;
    assert!(matches!(lost, PayOutcome::Unknown { .. }), "{lost:?}");
    assert!(matches!(
        w.adapter.query(&query("Hang2", "1200")).await,
        PayOutcome::NotReceived { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_class_maps_by_the_one_table() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    let cases = [
        (Fault::HttpStatus { status: 503 }, "unknown"),
        (Fault::HttpStatus { status: 500 }, "unknown"),
        (Fault::Garbled, "unknown"),
        (Fault::Delay { ms: 1_500 }, "unknown"),
        (Fault::HttpStatus { status: 404 }, "NETWORK_UNSUPPORTED"),
        (Fault::HttpStatus { status: 401 }, "NETWORK_UNSUPPORTED"),
        (Fault::HttpStatus { status: 403 }, "NETWORK_UNSUPPORTED"),
        (
            Fault::Decline {
                code: "RISK_REJECTED".into(),
            },
            "RISK_REJECTED",
        ),
    ];
    for (index, (fault, expected)) in cases.into_iter().enumerate() {
        w.fault(Operation::Pay, fault.clone());
        let id = format!("Fault{index}");
        let outcome = w.adapter.pay(&pay(&id, "1200", &w.code("minji"))).await;
        let got = match &outcome {
            PayOutcome::Unknown { .. } => "unknown",
            PayOutcome::Declined { reason, .. } => reason.as_str(),
            other => panic!("{fault:?}: {other:?}"),
        };
        assert_eq!(got, expected, "{fault:?}: {outcome:?}");
    }
    // The partner honours the deadline it was sent: the slow one was dropped unprocessed.
    assert!(matches!(
        w.adapter.query(&query("Fault3", "1200")).await,
        PayOutcome::NotReceived { .. }
    ));
    assert_eq!(w.balance("minji"), "100000", "no failed call moved money");
    let paid = w.adapter.pay(&pay("Paid1", "1200", &w.code("minji"))).await;
    assert!(matches!(paid, PayOutcome::Succeeded(_)), "{paid:?}");

    // The partner's own refusals: a malformed request, an idempotency key reused.
    let mut nameless = pay("Bad1", "1200", &w.code("minji"));
    nameless.merchant.merchant_id.clear();
    assert!(matches!(
        w.adapter.pay(&nameless).await,
        PayOutcome::Declined { reason: DeclineReason::InvalidRequest, ref network_code }
            if network_code == "GRPC_INVALID_ARGUMENT"
    ));
    assert!(matches!(
        w.adapter.pay(&pay("Paid1", "999", &w.code("minji"))).await,
        PayOutcome::Declined {
            reason: DeclineReason::DuplicateOrder,
            ..
        }
    ));

    // A query's own trouble never declines a payment that may have succeeded.
    for fault in [
        Fault::HttpStatus { status: 404 },
        Fault::HttpStatus { status: 401 },
        Fault::Garbled,
    ] {
        w.fault(Operation::Query, fault.clone());
        let outcome = w.adapter.query(&query("Paid1", "1200")).await;
        assert!(
            matches!(outcome, PayOutcome::Unknown { .. }),
            "{fault:?}: {outcome:?}"
        );
    }
    let wrong_amount = w.adapter.query(&query("Paid1", "1300")).await;
    assert!(
        matches!(wrong_amount, PayOutcome::Unknown { .. }),
        "{wrong_amount:?}"
    );

    // A reversal that fails for want of an answer is retried; one refused is final.
    w.fault(Operation::Reverse, Fault::HttpStatus { status: 503 });
    assert!(matches!(
        w.adapter.reverse(&reverse("Paid1", "1200")).await,
        ReverseOutcome::Retry { .. }
    ));
    w.fault(Operation::Reverse, Fault::HttpStatus { status: 404 });
    assert!(matches!(
        w.adapter.reverse(&reverse("Paid1", "1200")).await,
        ReverseOutcome::Refused { .. }
    ));
    assert_eq!(
        w.adapter.reverse(&reverse("Paid1", "1200")).await,
        ReverseOutcome::Reversed
    );
    assert_eq!(
        w.balance("minji"),
        "100000",
        "the reversal gave the won back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_qr_is_paid_by_the_customer_and_found_by_query() {
    let w = world(kpay()).await;
    w.wallet("minji", "100000", "KRW");
    let request = MerchantQrRequest {
        payment_id: "Qr1".into(),
        merchant: merchant(),
        amount: yen("800"),
        description: "Gyoza".into(),
        created_at_ms: START_MS,
        expires_at_ms: START_MS + 300_000,
    };
    let qr = w.adapter.create_merchant_qr(&request).await.unwrap();
    assert!(
        qr.qr_payload.starts_with("https://qr.kpay."),
        "{}",
        qr.qr_payload
    );
    assert!(matches!(
        w.adapter.query(&query("Qr1", "800")).await,
        PayOutcome::AwaitingCustomer { .. }
    ));
    w.partner.pay_qr(&qr.qr_payload, "minji").unwrap();
    assert!(matches!(
        w.adapter.query(&query("Qr1", "800")).await,
        PayOutcome::Succeeded(_)
    ));
    assert_eq!(w.balance("minji"), "92640");
    w.fault(
        Operation::CreateMerchantQr,
        Fault::HttpStatus { status: 503 },
    );
    let request = MerchantQrRequest {
        payment_id: "Qr2".into(),
        ..request
    };
    assert!(matches!(
        w.adapter.create_merchant_qr(&request).await,
        Err(kakehashi_adapter_core::AdapterError::NoAnswer { .. })
    ));
}
