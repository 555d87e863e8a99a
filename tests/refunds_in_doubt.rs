//! A LINE Pay refund whose outcome is unknown never stays PENDING while LINE Pay can
//! answer: Payment details says whether it exists; one that never arrived is sent again
//! exactly once (LINE Pay has no refund id, so every send may refund again).
use std::time::Duration;

use kakehashi_adapter_core::sim_control::SimulatorControl;
use kakehashi_linepay::{Fault, Operation};
use kakehashi_proto::v1::{PaymentState, RefundState};

mod support;
use support::linepay as lp;

async fn paid_order(switch: &support::switch::TestSwitch, order: &str) -> String {
    let wallet = lp::wallet(switch, 10_000);
    let mut till = switch.terminal().await;
    let paid = till
        .pay(order, "3000", "JPY", &lp::code(switch, &wallet))
        .await
        .unwrap();
    assert_eq!(paid.state, PaymentState::Succeeded as i32);
    wallet
}

/// Refunds LINE Pay processed (a request lost on the way in is not among them).
fn refunds_seen(switch: &support::switch::TestSwitch) -> usize {
    lp::control(switch).requests_seen(Operation::Refund)
}

/// How often the switch sent the refund, as it counted durably before each send.
async fn sends(switch: &support::switch::TestSwitch, refund_key: &str) -> i64 {
    use kakehashi::store::Store;
    switch
        .store()
        .await
        .refund_by_key(support::switch::MERCHANT, refund_key)
        .await
        .unwrap()
        .expect("refund stored")
        .send_count
}

async fn refund_state(till: &mut kakehashi::terminal::Terminal, order: &str) -> (i32, String) {
    let p = till.get(order).await.unwrap();
    let r = p.refunds.first().cloned().expect("one refund");
    (r.state, r.network_refund_id)
}

#[tokio::test]
async fn a_refund_executed_whose_reply_was_lost_is_found_in_payment_details() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = paid_order(&switch, "rd-1").await;
    lp::control(&switch).inject(Some(Operation::Refund), Fault::HangAfterProcessing, Some(1));
    let mut till = switch.terminal().await;

    let answer = till
        .refund("rd-1", "rd-1-back", Some(("1000", "JPY")))
        .await
        .unwrap();

    let refund = answer.refund.unwrap();
    assert_eq!(refund.state, RefundState::Succeeded as i32, "{refund:?}");
    assert!(
        !refund.network_refund_id.is_empty(),
        "LINE Pay's refund id is kept"
    );
    assert_eq!(lp::balance(&switch, &wallet), 8_000, "refunded once");
    assert_eq!(refunds_seen(&switch), 1, "never sent again");
}

#[tokio::test]
async fn a_refund_that_never_reached_line_pay_is_sent_again_once() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = paid_order(&switch, "rd-2").await;
    lp::control(&switch).inject(Some(Operation::Refund), Fault::Hang, Some(1));
    let mut till = switch.terminal().await;

    let answer = till
        .refund("rd-2", "rd-2-back", Some(("1000", "JPY")))
        .await
        .unwrap();

    assert_eq!(answer.refund.unwrap().state, RefundState::Succeeded as i32);
    assert_eq!(lp::balance(&switch, &wallet), 8_000, "refunded once");
    assert_eq!(refunds_seen(&switch), 1, "LINE Pay took only the re-send");
    assert_eq!(
        sends(&switch, "rd-2-back").await,
        2,
        "the lost one and its one re-send"
    );
}

#[tokio::test]
async fn a_refund_lost_twice_is_never_sent_a_third_time() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = paid_order(&switch, "rd-3").await;
    lp::control(&switch).inject(Some(Operation::Refund), Fault::Hang, Some(2));
    let mut till = switch.terminal().await;

    let answer = till
        .refund("rd-3", "rd-3-back", Some(("1000", "JPY")))
        .await
        .unwrap();
    assert_eq!(answer.refund.unwrap().state, RefundState::Pending as i32);
    // Recovery keeps asking (every 200 ms here) but sends it no more: an operator decides.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(sends(&switch, "rd-3-back").await, 2);
    assert_eq!(refunds_seen(&switch), 0);
    assert_eq!(lp::balance(&switch, &wallet), 7_000, "nothing refunded");
    let (state, _) = refund_state(&mut till, "rd-3").await;
    assert_eq!(state, RefundState::Pending as i32);
}

#[tokio::test]
async fn a_restart_does_not_reset_the_one_re_send() {
    let mut switch = lp::spawn_with_short_deadline().await;
    let wallet = paid_order(&switch, "rd-4").await;
    lp::control(&switch).inject(Some(Operation::Refund), Fault::Hang, Some(2));
    let mut till = switch.terminal().await;
    let answer = till
        .refund("rd-4", "rd-4-back", Some(("1000", "JPY")))
        .await
        .unwrap();
    assert_eq!(answer.refund.unwrap().state, RefundState::Pending as i32);
    assert_eq!(sends(&switch, "rd-4-back").await, 2);

    switch.restart().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        sends(&switch, "rd-4-back").await,
        2,
        "the count survives the restart"
    );
    assert_eq!(refunds_seen(&switch), 0);
    assert_eq!(lp::balance(&switch, &wallet), 7_000);
}
