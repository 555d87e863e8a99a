//! The LINE Pay adapter against its simulator over loopback: every operation, every error
//! class, the simulator's refusals of what the real service refuses, refunds in doubt
//! resolved from Payment details, and the exact wire.
mod payments;
mod refunds_in_doubt;
mod unrouted;
mod wire_fields;

use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};

use kakehashi_adapter_core::{
    DeclineReason, ManualClock, MerchantRef, Money, PayOutcome, PayRequest, PaymentCode,
    QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, RunningSimulator,
    SimulatorOptions, WalletNetwork,
};
use kakehashi_linepay::sim::SIM_CHANNEL_SECRET;
use kakehashi_linepay::{Fault, Operation, SimControl, sign, wire};
use rust_decimal::Decimal;

struct World {
    sim: RunningSimulator,
    control: Arc<SimControl>,
    adapter: Arc<dyn WalletNetwork>,
    clock: ManualClock,
}

async fn world() -> World {
    let clock = ManualClock::new(1_795_000_000_000);
    let factory = kakehashi_linepay::factory();
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 1,
            clock: Arc::new(clock.clone()),
        })
        .await
        .unwrap();
    let mut config = sim.adapter_config.clone();
    let http: toml::Table = "request_timeout_ms = 400".parse().unwrap();
    config.insert("http".into(), toml::Value::Table(http));
    config.insert("pay_timeout_ms".into(), toml::Value::Integer(400));
    let adapter = factory.build(&config, Arc::new(clock.clone())).unwrap();
    let control = sim.control::<SimControl>().unwrap();
    World {
        sim,
        control,
        adapter,
        clock,
    }
}

fn merchant() -> MerchantRef {
    MerchantRef {
        merchant_id: "m".into(),
        network_merchant_id: None,
        name: "Shinjuku Ramen".into(),
        category_code: "5812".into(),
        store_id: "s".into(),
        terminal_id: "t".into(),
    }
}

fn pay(order: &str, amount: &str, code: &str) -> PayRequest {
    PayRequest {
        payment_id: order.into(),
        merchant: merchant(),
        amount: Money::parse(amount, "JPY").unwrap(),
        code: PaymentCode::parse(code).unwrap(),
        description: "Ramen".into(),
        created_at_ms: 0,
    }
}

fn query(order: &str, amount: &str) -> QueryRequest {
    QueryRequest {
        payment_id: order.into(),
        merchant: merchant(),
        amount: Money::parse(amount, "JPY").unwrap(),
        network_txn_id: None,
        created_at_ms: 0,
    }
}

fn reverse(order: &str, amount: &str) -> ReverseRequest {
    ReverseRequest {
        payment_id: order.into(),
        merchant: merchant(),
        amount: Money::parse(amount, "JPY").unwrap(),
        network_txn_id: None,
        created_at_ms: 0,
    }
}

fn refund(order: &str, paid: &str, amount: &str) -> RefundRequest {
    RefundRequest {
        payment_id: order.into(),
        refund_id: format!("{order}-r{amount}"),
        merchant: merchant(),
        payment_amount: Money::parse(paid, "JPY").unwrap(),
        amount: Money::parse(amount, "JPY").unwrap(),
        network_txn_id: None,
        reason: String::new(),
        known_network_refund_ids: Vec::new(),
    }
}

fn declined(outcome: &PayOutcome) -> (DeclineReason, String) {
    match outcome {
        PayOutcome::Declined {
            reason,
            network_code,
        } => (*reason, network_code.clone()),
        other => panic!("expected a decline, got {other:?}"),
    }
}

fn yen(n: i64) -> Decimal {
    Decimal::from(n)
}

/// Sends a raw signed request, as a hand-rolled client would.
async fn raw_post(
    sim: &RunningSimulator,
    path: &str,
    body: &str,
    nonce: &str,
    secret: &str,
) -> serde_json::Value {
    let signature = sign::signature(secret, path, body.as_bytes(), nonce);
    reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url))
        .header("Content-Type", "application/json")
        .header("X-LINE-ChannelId", kakehashi_linepay::sim::SIM_CHANNEL_ID)
        .header("X-LINE-Authorization-Nonce", nonce)
        .header("X-LINE-Authorization", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A refund under its own id, with the network refund ids the switch already recorded.
fn refund_known(order: &str, id: &str, paid: &str, amount: &str, known: &[&str]) -> RefundRequest {
    RefundRequest {
        refund_id: id.into(),
        known_network_refund_ids: known.iter().map(|k| (*k).to_owned()).collect(),
        ..refund(order, paid, amount)
    }
}

/// The adapter as `world()` builds it, pointed elsewhere.
fn adapter_at(w: &World, base_url: &str) -> Arc<dyn WalletNetwork> {
    let mut config = w.sim.adapter_config.clone();
    config.insert("base_url".into(), base_url.into());
    let http: toml::Table = "request_timeout_ms = 400".parse().unwrap();
    config.insert("http".into(), toml::Value::Table(http));
    config.insert("pay_timeout_ms".into(), toml::Value::Integer(400));
    kakehashi_linepay::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap()
}

/// Sends a raw signed GET (`query` without `?`), as a hand-rolled client would.
async fn raw_get(
    sim: &RunningSimulator,
    path: &str,
    query: &str,
    nonce: &str,
    secret: &str,
) -> serde_json::Value {
    let signature = sign::signature(secret, path, query.as_bytes(), nonce);
    reqwest::Client::new()
        .get(format!("{}{path}?{query}", sim.base_url))
        .header("X-LINE-ChannelId", kakehashi_linepay::sim::SIM_CHANNEL_ID)
        .header("X-LINE-Authorization-Nonce", nonce)
        .header("X-LINE-Authorization", signature)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The ids of the refunds the simulator booked against an order, oldest first.
fn booked_refunds(w: &World, order: &str) -> Vec<String> {
    w.control
        .order(order)
        .map(|o| {
            o.refunds
                .iter()
                .map(|r| r.refund_transaction_id.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Pays `amount` yen from a fresh wallet holding `balance`.
async fn paid_order(w: &World, order: &str, amount: &str, balance: i64) {
    let wallet = format!("wallet-{order}");
    w.control.add_wallet(&jpy_wallet(&wallet, balance)).unwrap();
    let code = w.control.issue_code(&wallet).unwrap();
    let outcome = w.adapter.pay(&pay(order, amount, &code)).await;
    assert!(matches!(outcome, PayOutcome::Succeeded(_)), "{outcome:?}");
}

fn jpy_wallet(id: &str, yen: i64) -> NewWallet {
    NewWallet::new(
        id,
        Amount::from_minor(yen, iso_currency::Currency::JPY).unwrap(),
    )
}
