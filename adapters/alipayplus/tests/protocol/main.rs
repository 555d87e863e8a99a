//! The Alipay+ adapter against its simulator over loopback: pay from member wallets in their
//! own currencies with quotes, a customer who must confirm, cancel and its window, refunds,
//! every result class, the simulator's refusals of tampered, replayed and misspelt requests,
//! the exact wire, and requests no API took.
mod payments;
mod unrouted;
mod wire_fields;

use std::str::FromStr;
use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};

use kakehashi_adapter_core::Clock;
use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{
    DeclineReason, ManualClock, MerchantRef, Money, PayOutcome, PayRequest, PaymentCode,
    QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, RunningSimulator,
    SimulatorOptions, WalletNetwork,
};
use kakehashi_alipayplus::sign::{self, Signer};
use kakehashi_alipayplus::sim::{Member, SIM_CLIENT_ID};
use kakehashi_alipayplus::{Operation, SimControl};
use rust_decimal::Decimal;

/// 2026-11-25 10:00 JST.
const START_MS: i64 = 1_795_568_400_000;

struct World {
    sim: RunningSimulator,
    control: Arc<SimControl>,
    adapter: Arc<dyn WalletNetwork>,
    clock: ManualClock,
}

async fn world() -> World {
    let clock = ManualClock::new(START_MS);
    let factory = kakehashi_alipayplus::factory();
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 9,
            clock: Arc::new(clock.clone()),
        })
        .await
        .unwrap();
    let mut config = sim.adapter_config.clone();
    config.insert(
        "http".into(),
        toml::Value::Table("request_timeout_ms = 500".parse().unwrap()),
    );
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
        network_merchant_id: Some("JP-RAMEN".into()),
        name: "Ramen".into(),
        category_code: "5812".into(),
        store_id: "s".into(),
        terminal_id: "t".into(),
    }
}

fn jpy(v: &str) -> Money {
    Money::parse(v, "JPY").unwrap()
}

fn pay(id: &str, amount: &str, code: &str) -> PayRequest {
    PayRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: jpy(amount),
        code: PaymentCode::parse(code).unwrap(),
        description: String::new(),
        created_at_ms: START_MS,
    }
}

fn query(id: &str) -> QueryRequest {
    QueryRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: jpy("1"),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

fn reverse(id: &str) -> ReverseRequest {
    ReverseRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: jpy("1"),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

fn refund(id: &str, refund_id: &str, paid: &str, amount: &str) -> RefundRequest {
    RefundRequest {
        payment_id: id.into(),
        refund_id: refund_id.into(),
        merchant: merchant(),
        payment_amount: jpy(paid),
        amount: jpy(amount),
        network_txn_id: None,
        reason: String::new(),
        known_network_refund_ids: Vec::new(),
    }
}

/// The adapter as `world()` builds it, pointed elsewhere.
fn adapter_at(w: &World, base_url: &str) -> Arc<dyn WalletNetwork> {
    let mut config = w.sim.adapter_config.clone();
    config.insert("base_url".into(), base_url.into());
    config.insert(
        "http".into(),
        toml::Value::Table("request_timeout_ms = 500".parse().unwrap()),
    );
    kakehashi_alipayplus::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap()
}

/// POSTs `body` to `path` signed with the acquirer's key, as a hand-rolled client would.
async fn signed_post(w: &World, path: &str, body: &str) -> serde_json::Value {
    let signer =
        Signer::from_pkcs8_pem(w.sim.adapter_config["private_key_pem"].as_str().unwrap()).unwrap();
    let now = kakehashi_adapter_core::simkit::iso8601_utc(w.clock.now_ms());
    let signature = signer
        .header(&sign::content(
            "POST",
            path,
            SIM_CLIENT_ID,
            &now,
            body.as_bytes(),
        ))
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}{path}", w.sim.base_url))
        .header("Client-Id", SIM_CLIENT_ID)
        .header("Request-Time", now)
        .header("Signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `(resultStatus, resultCode)` of a reply.
fn result(reply: &serde_json::Value) -> (String, String) {
    let field = |name: &str| reply["result"][name].as_str().unwrap_or("").to_owned();
    (field("resultStatus"), field("resultCode"))
}

/// A customer's wallet at this member; `confirm_ms`: how long confirming in the app takes.
fn wallet(id: &str, member: Member, minor: i64, confirm_ms: Option<u64>) -> NewWallet {
    let balance = Amount::from_minor(minor, member.currency()).unwrap();
    let wallet = NewWallet::new(id, balance).kind(member.brand());
    match confirm_ms {
        Some(ms) => wallet.confirm_after_ms(ms),
        None => wallet,
    }
}
