//! LINE Pay simulator helpers for the end-to-end stories.
use std::sync::Arc;
use std::time::Duration;

use kakehashi::store::{SqlStore, Store};
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_linepay::{Fault, Operation, SimControl};
use kakehashi_proto::v1::{Payment, PaymentState};

use super::switch::{MERCHANT, Options, TestSwitch, spawn_with};

pub fn control(switch: &TestSwitch) -> Arc<SimControl> {
    switch
        .sim("linepay")
        .control::<SimControl>()
        .expect("LINE Pay simulator control")
}

/// A new wallet in the simulator with `yen` in it; returns its id.
pub fn wallet(switch: &TestSwitch, yen: i64) -> String {
    let id = format!("wallet-{}", kakehashi::domain::new_id("w"));
    let balance = Amount::parse(&yen.to_string(), "JPY").expect("yen");
    control(switch)
        .add_wallet(&NewWallet::new(&id, balance))
        .expect("wallet");
    id
}

/// A fresh MyCode one-time key for the wallet, as the customer's phone would show it.
pub fn code(switch: &TestSwitch, wallet: &str) -> String {
    control(switch).issue_code(wallet).expect("code")
}

pub fn balance(switch: &TestSwitch, wallet: &str) -> i64 {
    let balance = control(switch).balance(wallet).expect("wallet exists");
    i64::try_from(balance.mantissa()).expect("yen fit") / 10_i64.pow(balance.scale())
}

pub fn pay_requests_seen(switch: &TestSwitch) -> usize {
    control(switch).pay_requests_seen()
}

/// Every request hangs, unprocessed, until the faults are cleared.
pub fn black_hole(switch: &TestSwitch) {
    control(switch).inject(None, Fault::Hang, None);
}

/// The next Pay is processed (money moves) and its reply is lost.
pub fn lose_next_pay_reply(switch: &TestSwitch) {
    control(switch).inject(Some(Operation::Pay), Fault::HangAfterProcessing, Some(1));
}

/// A switch whose LINE Pay calls time out after 300 ms and whose payments must resolve
/// within 2.5 s, so timeout stories finish quickly.
pub async fn spawn_with_short_deadline() -> TestSwitch {
    let mut options = Options::default();
    options.network_extra.insert(
        "linepay",
        "pay_timeout_ms = 300\nhttp = { request_timeout_ms = 300 }\ntiming = { payment_deadline_ms = 2500, query_first_delay_ms = 100, query_interval_ms = 100 }".into(),
    );
    spawn_with(options).await
}

/// Polls GetPayment until the payment reaches `want` (at most 30 s).
pub async fn wait_state(
    till: &mut kakehashi::terminal::Terminal,
    order: &str,
    want: PaymentState,
) -> Payment {
    let mut last = None;
    for _ in 0..600 {
        if let Ok(p) = till.get(order).await {
            if p.state == want as i32 {
                return p;
            }
            last = Some(p);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("payment {order} never reached {want:?}; last seen {last:?}");
}

pub async fn wait_until_authorizing(store: &SqlStore, order: &str) {
    for _ in 0..300 {
        if let Ok(Some(p)) = store.payment_by_order(MERCHANT, order).await
            && p.state == kakehashi::domain::PaymentState::Authorizing
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("payment {order} never became AUTHORIZING");
}

pub async fn wait_until_balance(switch: &TestSwitch, wallet: &str, yen: i64) {
    for _ in 0..300 {
        if balance(switch, wallet) == yen {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("wallet {wallet} never reached {yen}");
}

pub async fn history(switch: &TestSwitch, payment_id: &str) -> Vec<String> {
    let store = switch.store().await;
    store
        .transitions(payment_id)
        .await
        .expect("history")
        .into_iter()
        .map(|t| t.to.as_str().to_owned())
        .collect()
}
