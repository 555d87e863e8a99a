//! A till's shift, end to end: a real tonic client over loopback, the real switch on SQLite,
//! the LINE Pay simulator speaking the real protocol. Each test is one story.
use kakehashi_adapter_core::sim_control::SimulatorControl;
use kakehashi_linepay::Operation;
use kakehashi_proto::v1::{DeclineReason, PaymentState, RefundState};
use tonic::Code;

mod support;
use support::linepay as lp;
use support::switch::{OTHER_TILL_KEY, spawn_switch};

fn state(p: &kakehashi_proto::v1::Payment) -> PaymentState {
    PaymentState::try_from(p.state).expect("known state")
}

#[tokio::test]
async fn a_customer_pays_with_line_pay() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;

    let paid = till
        .pay("order-1", "1200", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(paid.network, "linepay");
    assert_eq!(
        paid.network_txn_id.len(),
        19,
        "LINE Pay transaction ids are 19 digits"
    );
    assert!(paid.code_masked.starts_with("••••") && paid.code_masked.chars().count() == 8);
    assert_eq!(lp::balance(&switch, &wallet), 8_800);
    assert_eq!(till.get("order-1").await.unwrap(), paid);
}

#[tokio::test]
async fn a_short_balance_is_declined_and_nothing_moves() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 500);
    let mut till = switch.terminal().await;

    let declined = till
        .pay("order-2", "1200", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    assert_eq!(state(&declined), PaymentState::Declined);
    assert_eq!(
        declined.decline_reason,
        DeclineReason::InsufficientFunds as i32
    );
    assert_eq!(declined.network_code, "1142");
    assert_eq!(lp::balance(&switch, &wallet), 500);
}

#[tokio::test]
async fn a_network_timeout_is_checked_then_voided_and_no_money_moves() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    lp::black_hole(&switch); // every call hangs until cleared: pay, check
    let code = lp::code(&switch, &wallet);
    let clear = {
        let control = lp::control(&switch);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
            control.clear_faults(); // the network comes back in time for the void
        })
    };

    let result = till.pay("order-3", "1200", "JPY", &code).await.unwrap();
    clear.await.unwrap();
    let result = if state(&result) == PaymentState::Reversed {
        result
    } else {
        lp::wait_state(&mut till, "order-3", PaymentState::Reversed).await
    };

    assert_eq!(state(&result), PaymentState::Reversed);
    assert_eq!(
        lp::balance(&switch, &wallet),
        10_000,
        "the simulator confirms no money moved"
    );
    let history = lp::history(&switch, &result.payment_id).await;
    assert_eq!(
        history,
        vec!["RECEIVED", "AUTHORIZING", "REVERSING", "REVERSED"]
    );
    // Once the network was back the switch checked the order, and voided it at the deadline.
    let sim = lp::control(&switch);
    assert!(sim.requests_seen(Operation::Check) >= 1, "checked");
    assert!(sim.requests_seen(Operation::Void) >= 1, "voided");
    assert_eq!(
        sim.requests_seen(Operation::Pay),
        0,
        "the hung pay never arrived"
    );
}

#[tokio::test]
async fn a_lost_reply_is_found_by_checking_and_charged_once() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    lp::lose_next_pay_reply(&switch); // the network takes the money, the reply never comes

    let paid = till
        .pay("order-4", "1500", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(lp::balance(&switch, &wallet), 8_500, "charged exactly once");
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_captured_amount_and_no_further() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    till.pay("order-5", "1200", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    let first = till
        .refund("order-5", "refund-1", Some(("500", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        first.refund.as_ref().unwrap().state,
        RefundState::Succeeded as i32
    );
    assert_eq!(
        state(first.payment.as_ref().unwrap()),
        PaymentState::PartiallyRefunded
    );
    assert_eq!(lp::balance(&switch, &wallet), 9_300);

    let over = till
        .refund("order-5", "refund-2", Some(("701", "JPY")))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Code::FailedPrecondition);

    let rest = till.refund("order-5", "refund-3", None).await.unwrap();
    let payment = rest.payment.unwrap();
    assert_eq!(state(&payment), PaymentState::Refunded);
    assert_eq!(payment.refunded_amount.unwrap().value, "1200");
    assert_eq!(payment.refunds.len(), 2);
    assert_eq!(lp::balance(&switch, &wallet), 10_000);

    // The refund's replay returns the stored answer and moves nothing.
    let replay = till
        .refund("order-5", "refund-1", Some(("500", "JPY")))
        .await
        .unwrap();
    assert_eq!(replay.refund, first.refund);
    assert_eq!(lp::balance(&switch, &wallet), 10_000);
}

#[tokio::test]
async fn a_retried_pay_returns_the_stored_answer_and_a_changed_one_is_refused() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    let code = lp::code(&switch, &wallet);

    let first = till.pay("order-6", "1200", "JPY", &code).await.unwrap();
    let again = till.pay("order-6", "1200", "JPY", &code).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(lp::balance(&switch, &wallet), 8_800);

    let changed = till.pay("order-6", "1300", "JPY", &code).await.unwrap_err();
    assert_eq!(changed.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn fifty_concurrent_duplicates_charge_exactly_once() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 100_000);
    let code = lp::code(&switch, &wallet);
    let mut calls = Vec::new();
    for _ in 0..50 {
        let mut till = switch.terminal().await;
        let code = code.clone();
        calls.push(tokio::spawn(async move {
            till.pay("order-7", "1000", "JPY", &code).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for call in calls {
        let payment = call.await.unwrap().unwrap();
        assert_eq!(state(&payment), PaymentState::Succeeded);
        ids.insert(payment.payment_id);
    }
    assert_eq!(ids.len(), 1, "one payment behind all fifty answers");
    assert_eq!(
        lp::balance(&switch, &wallet),
        99_000,
        "exactly one network charge"
    );
    assert_eq!(lp::pay_requests_seen(&switch), 1);
}

#[tokio::test]
async fn racing_requests_with_one_key_and_different_amounts_charge_once_and_refuse_the_other() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 100_000);
    let code = lp::code(&switch, &wallet);
    for round in 0..8 {
        let order = format!("race-{round}");
        let mut calls = Vec::new();
        for amount in ["100", "200"] {
            let mut till = switch.terminal().await;
            let (order, code) = (order.clone(), code.clone());
            calls.push(tokio::spawn(async move {
                (amount, till.pay(&order, amount, "JPY", &code).await)
            }));
        }
        let mut answered = Vec::new();
        for call in calls {
            match call.await.unwrap() {
                (amount, Ok(payment)) => {
                    assert_eq!(payment.amount.unwrap().value, amount, "its own amount");
                    answered.push(amount);
                }
                (_, Err(status)) => assert_eq!(status.code(), Code::AlreadyExists),
            }
        }
        assert_eq!(
            answered.len(),
            1,
            "round {round}: one request wins, the other is refused"
        );
    }
}

#[tokio::test]
async fn a_retried_refund_of_the_rest_returns_its_stored_answer() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    let code = lp::code(&switch, &wallet);
    till.pay("order-r", "1200", "JPY", &code).await.unwrap();

    let first = till.refund("order-r", "order-r-all", None).await.unwrap();
    let again = till.refund("order-r", "order-r-all", None).await.unwrap();

    assert_eq!(again.refund, first.refund);
    assert_eq!(state(&again.payment.unwrap()), PaymentState::Refunded);
    assert_eq!(lp::balance(&switch, &wallet), 10_000, "refunded once");
    let other = till
        .refund("order-r", "order-r-more", None)
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        Code::FailedPrecondition,
        "nothing remains for a new refund"
    );
}

#[tokio::test]
async fn watching_a_payment_streams_its_states_until_it_settles() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    till.pay("order-8", "800", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let last = till
        .watch("order-8", |p| seen.push(state(p)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state(&last), PaymentState::Succeeded);
    assert_eq!(seen.last(), Some(&PaymentState::Succeeded));
}

#[tokio::test]
async fn cancelling_a_succeeded_payment_returns_the_money() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    till.pay("order-9", "2000", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    let cancelled = till.cancel("order-9").await.unwrap();
    assert_eq!(state(&cancelled), PaymentState::Reversed);
    assert_eq!(lp::balance(&switch, &wallet), 10_000);
    // Cancelling again is a replay.
    assert_eq!(
        state(&till.cancel("order-9").await.unwrap()),
        PaymentState::Reversed
    );
}

#[tokio::test]
async fn a_terminal_sees_only_its_own_merchants_payments() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    till.pay("order-10", "100", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;
    assert_eq!(
        osaka.get("order-10").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        osaka
            .refund("order-10", "r", None)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        osaka.cancel("order-10").await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_payment_in_doubt_at_a_crash_is_resolved_on_start_up() {
    let mut switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let code = lp::code(&switch, &wallet);
    lp::lose_next_pay_reply(&switch);
    let mut till = switch.terminal().await;
    let pending = tokio::spawn(async move { till.pay("order-11", "1200", "JPY", &code).await });

    // Wait until AUTHORIZING is durable and the network has taken the money...
    let store = switch.store().await;
    lp::wait_until_authorizing(&store, "order-11").await;
    lp::wait_until_balance(&switch, &wallet, 8_800).await;
    // ...then crash before the outcome is stored.
    switch.crash().await;
    pending.abort();
    let stored =
        kakehashi::store::Store::payment_by_order(&store, support::switch::MERCHANT, "order-11")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.state, kakehashi::domain::PaymentState::Authorizing);

    switch.restart().await;
    let mut till = switch.terminal().await;
    let resolved = lp::wait_state(&mut till, "order-11", PaymentState::Succeeded).await;
    assert_eq!(state(&resolved), PaymentState::Succeeded);
    assert_eq!(
        lp::balance(&switch, &wallet),
        8_800,
        "charged once, found by querying"
    );
}

#[tokio::test]
async fn the_till_story_runs_on_postgresql_too() {
    let Some(url) = support::postgres::fresh_database("acceptance").await else {
        return;
    };
    let switch = support::switch::spawn_with(support::switch::Options {
        store_url: Some(url),
        ..Default::default()
    })
    .await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;

    let paid = till
        .pay("pg-order-1", "1200", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();
    assert_eq!(state(&paid), PaymentState::Succeeded);
    let refunded = till
        .refund("pg-order-1", "pg-refund-1", Some(("200", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        state(refunded.payment.as_ref().unwrap()),
        PaymentState::PartiallyRefunded
    );
    assert_eq!(
        till.pay("pg-order-1", "1200", "JPY", "9000000000000000000")
            .await
            .unwrap_err()
            .code(),
        Code::AlreadyExists
    );
    assert_eq!(lp::balance(&switch, &wallet), 9_000);
}
