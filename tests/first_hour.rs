//! An integrator's first hour: what the switch and the `kakehashi` command tell a person
//! trying them by hand. The API says why a payment ended where it did; the `terminal`
//! command (the built binary, run as a user would) answers with help, made-up ids, exit
//! statuses a script can tell apart and a QR watch that gives up; logs read well in a file.
use kakehashi::store::Store;
use kakehashi_proto::v1::PaymentState;

mod support;
use support::linepay as lp;

#[tokio::test]
async fn a_reversed_payment_says_why_through_the_api() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    lp::black_hole(&switch); // pay and every check hang: the deadline passes unresolved
    let code = lp::code(&switch, &wallet);
    let clear = {
        let control = lp::control(&switch);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
            control.clear_faults(); // back in time for the void
        })
    };

    till.pay("order-why", "1200", "JPY", &code).await.unwrap();
    clear.await.unwrap();
    let reversed = lp::wait_state(&mut till, "order-why", PaymentState::Reversed).await;

    let transitions = switch
        .store()
        .await
        .transitions(&reversed.payment_id)
        .await
        .unwrap();
    let detail_into = |state: kakehashi::domain::PaymentState| {
        transitions
            .iter()
            .find(|t| t.to == state)
            .map(|t| t.detail.clone())
            .expect("transition stored")
    };
    let started = detail_into(kakehashi::domain::PaymentState::Reversing);
    let ended = detail_into(kakehashi::domain::PaymentState::Reversed);
    assert!(
        reversed.state_reason.starts_with(&started) && reversed.state_reason.ends_with(&ended),
        "why it started reversing ({started}) and how it ended ({ended}), got: {}",
        reversed.state_reason
    );
    assert_eq!(
        till.get("order-why").await.unwrap().state_reason,
        reversed.state_reason,
        "GetPayment tells the same reason"
    );
}
