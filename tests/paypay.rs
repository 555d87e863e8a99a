//! PayPay through the switch: a dynamic QR the customer pays, watched to the end; a QR
//! nobody pays, reversed at its deadline; a scanned code (Kakehashi extension); refunds
//! that PayPay completes asynchronously.
use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{
    Amount, NewWallet, PaymentStatus, SimError, SimulatorControl,
};
use kakehashi_paypay::SimControl;
use kakehashi_proto::v1::{PaymentState, RefundState};

mod support;
use support::switch::{Options, TestSwitch, spawn_with};

async fn switch() -> TestSwitch {
    let mut options = Options {
        networks: vec!["linepay", "paypay"],
        ..Options::default()
    };
    options.network_extra.insert(
        "paypay",
        "http = { request_timeout_ms = 1000 }\ntiming = { payment_deadline_ms = 3000, query_first_delay_ms = 100, query_interval_ms = 100 }".into(),
    );
    spawn_with(options).await
}

fn paypay(switch: &TestSwitch) -> Arc<SimControl> {
    switch
        .sim("paypay")
        .control::<SimControl>()
        .expect("PayPay simulator")
}

fn yen_wallet(id: &str, yen: i64) -> NewWallet {
    NewWallet::new(
        id,
        Amount::from_minor(yen, iso_currency::Currency::JPY).unwrap(),
    )
}

fn state(p: &kakehashi_proto::v1::Payment) -> PaymentState {
    PaymentState::try_from(p.state).unwrap()
}

#[tokio::test]
async fn a_dynamic_qr_paid_by_the_customer_is_seen_through_watch_payment() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&yen_wallet("hanako", 5_000)).unwrap();
    let mut till = switch.terminal().await;

    let shown = till
        .create_qr("qr-1", "1500", "JPY", "paypay")
        .await
        .unwrap();
    assert_eq!(state(&shown), PaymentState::AwaitingCustomer);
    assert!(
        shown.qr_payload.starts_with("https://qr.paypay.ne.jp/"),
        "{}",
        shown.qr_payload
    );

    let customer = {
        let sim = Arc::clone(&sim);
        // The customer's phone reads what the till shows: the QR's payload.
        let qr = shown.qr_payload.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            sim.pay_qr(&qr, "hanako")
        })
    };
    let mut seen = Vec::new();
    let last = till
        .watch("qr-1", |p| seen.push(state(p)))
        .await
        .unwrap()
        .unwrap();
    customer.await.unwrap().unwrap();

    assert_eq!(seen.first(), Some(&PaymentState::AwaitingCustomer));
    assert_eq!(state(&last), PaymentState::Succeeded);
    assert_eq!(last.network, "paypay");
    assert_eq!(last.wallet_brand, "PayPay");
    assert!(
        !last.network_txn_id.starts_with("04-"),
        "the QR id is replaced by PayPay's paymentId"
    );
    assert_eq!(sim.balance("hanako"), Some(3_500));

    // A partial refund: PayPay accepts it, completes it asynchronously, the switch waits.
    let refund = till
        .refund("qr-1", "qr-1-r1", Some(("500", "JPY")))
        .await
        .unwrap();
    assert_eq!(refund.refund.unwrap().state, RefundState::Succeeded as i32);
    assert_eq!(
        state(&refund.payment.unwrap()),
        PaymentState::PartiallyRefunded
    );
    assert_eq!(sim.balance("hanako"), Some(4_000));
}

#[tokio::test]
async fn a_qr_nobody_pays_is_reversed_at_its_deadline_and_cannot_be_paid_after() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&yen_wallet("late", 5_000)).unwrap();
    let mut till = switch.terminal().await;
    let shown = till
        .create_qr("qr-2", "900", "JPY", "paypay")
        .await
        .unwrap();
    // Until it is paid, a QR's network id is the payment's network reference (PayPay codeId).
    assert!(
        shown.network_txn_id.starts_with("04-"),
        "{}",
        shown.network_txn_id
    );
    sim.abandon_qr(&shown.network_txn_id).unwrap();

    let last = till.watch("qr-2", |_| {}).await.unwrap().unwrap();
    assert_eq!(state(&last), PaymentState::Reversed);
    assert!(sim.pay_qr(&shown.qr_payload, "late").is_err());
    assert_eq!(sim.balance("late"), Some(5_000));
}

#[tokio::test]
async fn a_scanned_paypay_code_uses_the_kakehashi_extension() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&yen_wallet("kenji", 2_000)).unwrap();
    let mut till = switch.terminal().await;

    let paid = till
        .pay("cpm-1", "1200", "JPY", &sim.issue_code("kenji").unwrap())
        .await
        .unwrap();
    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(paid.network, "paypay");
    let declined = till
        .pay("cpm-2", "1200", "JPY", &sim.issue_code("kenji").unwrap())
        .await
        .unwrap();
    assert_eq!(state(&declined), PaymentState::Declined);
    assert_eq!(declined.network_code, "NO_SUFFICIENT_FUND");

    let refunded = till.refund("cpm-1", "cpm-1-r", None).await.unwrap();
    assert_eq!(state(&refunded.payment.unwrap()), PaymentState::Refunded);
    assert_eq!(sim.balance("kenji"), Some(2_000));
}

#[tokio::test]
async fn a_cancel_paypay_refuses_after_its_window_becomes_a_full_refund() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&yen_wallet("yuki", 3_000)).unwrap();
    let mut till = switch.terminal().await;
    let paid = till
        .pay("cpm-9", "1000", "JPY", &sim.issue_code("yuki").unwrap())
        .await
        .unwrap();
    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(sim.balance("yuki"), Some(2_000));

    // Past 00:15 JST the next day PayPay refuses to cancel; the money must go back by refund.
    sim.inject(
        Some(kakehashi_paypay::Operation::Cancel),
        kakehashi_adapter_core::simkit::Fault::Decline {
            code: "ORDER_NOT_REVERSIBLE".into(),
        },
        Some(1),
    );
    let cancelled = till.cancel("cpm-9").await.unwrap();

    assert_eq!(state(&cancelled), PaymentState::Refunded);
    assert_eq!(cancelled.refunds.len(), 1);
    assert_eq!(cancelled.refunds[0].state, RefundState::Succeeded as i32);
    assert_eq!(cancelled.refunds[0].amount.clone().unwrap().value, "1000");
    assert_eq!(
        sim.balance("yuki"),
        Some(3_000),
        "the customer has the money back"
    );
    let history = support::linepay::history(&switch, &cancelled.payment_id).await;
    assert_eq!(
        history,
        vec![
            "RECEIVED",
            "AUTHORIZING",
            "SUCCEEDED",
            "REVERSING",
            "SUCCEEDED",
            "REFUNDED"
        ]
    );
}

#[tokio::test]
async fn a_qr_whose_creation_goes_unanswered_is_closed_at_once() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&yen_wallet("mika", 5_000)).unwrap();
    // PayPay creates the QR, but its answer is lost on the way back.
    sim.inject(
        Some(kakehashi_paypay::Operation::CreateQr),
        kakehashi_adapter_core::simkit::Fault::HangAfterProcessing,
        Some(1),
    );
    let mut till = switch.terminal().await;
    let shown = till
        .create_qr("qr-lost", "700", "JPY", "paypay")
        .await
        .unwrap();
    assert!(shown.qr_payload.is_empty(), "the till has no QR to show");

    let last = till.watch("qr-lost", |_| {}).await.unwrap().unwrap();
    assert_eq!(state(&last), PaymentState::Reversed);
    let books = sim.state();
    let made = books
        .payment(&shown.payment_id)
        .expect("PayPay made the QR");
    assert_eq!(made.status, PaymentStatus::Reversed, "PayPay closed it");
    let code_id = made.extras["qr_code_id"].as_str().expect("a QR payment");
    assert!(
        matches!(sim.pay_qr(code_id, "mika"), Err(SimError::Refused(_))),
        "the QR PayPay made was closed"
    );
    assert_eq!(sim.balance("mika"), Some(5_000));
}
