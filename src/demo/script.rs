//! The shift itself: what happens at the till, in order. Each scenario drives the real gRPC
//! API and records the state it ended in against the state it was meant to end in.
use std::time::Duration;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_linepay::{Fault, SimControl as LinePaySim};
use kakehashi_proto::v1::PaymentState;
use rust_decimal::Decimal;

use super::Shift;

/// Config the demo adds to each network's simulator table: short timeouts and deadlines,
/// so the shift's timeout scenarios resolve in seconds rather than minutes.
pub fn network_overrides(kind: &str) -> toml::Table {
    let table = |text: &str| -> toml::Table { text.parse::<toml::Table>().unwrap_or_default() };
    match kind {
        "linepay" => table(
            "pay_timeout_ms = 1000\nhttp = { request_timeout_ms = 1000 }\n\
             timing = { payment_deadline_ms = 3000, query_first_delay_ms = 300, query_interval_ms = 300 }",
        ),
        "paypay" => table(
            "http = { request_timeout_ms = 2000 }\n\
             timing = { payment_deadline_ms = 5000, query_first_delay_ms = 200, query_interval_ms = 300 }",
        ),
        "wechatpay" => table(
            "http = { request_timeout_ms = 2000 }\n\
             timing = { payment_deadline_ms = 4000, query_first_delay_ms = 500, query_interval_ms = 500 }",
        ),
        "alipayplus" => table(
            "http = { request_timeout_ms = 1500 }\n\
             timing = { payment_deadline_ms = 5000, query_first_delay_ms = 300, query_interval_ms = 300 }",
        ),
        _ => toml::Table::new(),
    }
}

pub async fn play(shift: &mut Shift) {
    linepay(shift).await;
    super::visitors::paypay(shift).await;
    super::visitors::wechatpay(shift).await;
    super::visitors::alipayplus(shift).await;
    super::partner::kpay(shift).await;
}

/// Wallets the demo funds at a network, with their starting balances and what each should
/// hold at the end of the shift.
struct Wallet {
    id: &'static str,
    start: Decimal,
    expected_end: Decimal,
    orders: &'static [&'static str],
}

async fn linepay(shift: &mut Shift) {
    let Some(sim) = shift
        .sims
        .get("linepay")
        .and_then(|s| s.control::<LinePaySim>())
    else {
        shift.report.payment(
            "LINE Pay simulator",
            &Err("not running".into()),
            PaymentState::Succeeded,
        );
        return;
    };
    let wallets = [
        Wallet {
            id: "lp-tanaka",
            start: Decimal::from(10_000),
            expected_end: Decimal::from(10_000 - 1_200 + 500),
            orders: &["shift-001"],
        },
        Wallet {
            id: "lp-sato",
            start: Decimal::from(500),
            expected_end: Decimal::from(500),
            orders: &["shift-002"],
        },
        Wallet {
            id: "lp-suzuki",
            start: Decimal::from(5_000),
            expected_end: Decimal::from(5_000),
            orders: &["shift-003"],
        },
    ];
    for w in &wallets {
        if let Ok(balance) = Amount::from_decimal(w.start, Currency::JPY) {
            let _ = sim.add_wallet(&NewWallet::new(w.id, balance));
        }
    }
    let code = |wallet: &str| sim.issue_code(wallet).unwrap_or_default();
    let till = &mut shift.till;

    let tanaka = code("lp-tanaka");
    let paid = till
        .pay("shift-001", "1200", "JPY", &tanaka)
        .await
        .map_err(|s| s.message().to_owned());
    shift
        .report
        .payment("LINE Pay: ramen set, paid", &paid, PaymentState::Succeeded);

    let retry = till
        .pay("shift-001", "1200", "JPY", &tanaka)
        .await
        .map_err(|s| s.message().to_owned());
    let same = match (&paid, &retry) {
        (Ok(a), Ok(b)) if a.payment_id == b.payment_id => retry.clone(),
        (_, Ok(_)) => Err("the retry returned a different payment".into()),
        _ => retry.clone(),
    };
    shift.report.payment(
        "LINE Pay: till retries the same order (replay)",
        &same,
        PaymentState::Succeeded,
    );

    let short = till
        .pay("shift-002", "3000", "JPY", &code("lp-sato"))
        .await
        .map_err(|s| s.message().to_owned());
    shift.report.payment(
        "LINE Pay: balance too low, declined",
        &short,
        PaymentState::Declined,
    );

    // The network goes silent: pay and every check time out; at the deadline the switch
    // voids the order. The network is back in time to confirm the void.
    sim.inject(None, Fault::Hang, None);
    let clear = {
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2_500)).await;
            sim.clear_faults();
        })
    };
    let timed_out = till
        .pay("shift-003", "980", "JPY", &code("lp-suzuki"))
        .await
        .map_err(|s| s.message().to_owned());
    let _ = clear.await;
    shift.report.payment(
        "LINE Pay: network timeout, checked, then voided",
        &timed_out,
        PaymentState::Reversed,
    );

    let refund = till
        .refund("shift-001", "shift-001-r1", Some(("500", "JPY")))
        .await
        .map_err(|s| s.message().to_owned())
        .and_then(|r| r.payment.ok_or_else(|| "no payment in reply".to_owned()));
    shift.report.payment(
        "LINE Pay: partial refund of ¥500",
        &refund,
        PaymentState::PartiallyRefunded,
    );

    for w in &wallets {
        let end = sim
            .balance(w.id)
            .map(|b| b.to_string())
            .unwrap_or_else(|| "missing".into());
        shift.report.balance(
            &format!("linepay/{}", w.id),
            "JPY",
            (w.start.to_string(), end, w.expected_end.to_string()),
            w.orders,
        );
    }
}
