//! The WeChat Pay adapter against its simulator over loopback HTTPS: Quick Pay with and
//! without PIN entry, orderquery, reverse (15 s rule, recall), asynchronous refunds, the
//! documented error classes, cross-currency amounts, the simulator's refusals, the exact
//! wire, and requests no API took.
mod payments;
mod unrouted;
mod wire_fields;

use std::str::FromStr;
use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};

use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{
    DeclineReason, ManualClock, MerchantRef, Money, PayOutcome, PayRequest, PaymentCode,
    QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, RunningSimulator,
    SimulatorOptions, WalletNetwork,
};
use kakehashi_wechatpay::sign::{self, SignType};
use kakehashi_wechatpay::sim::{ReverseWindow, SIM_API_KEY, SIM_APPID, SIM_MCH_ID, WalletKind};
use kakehashi_wechatpay::xml::{self, Fields};
use kakehashi_wechatpay::{Operation, SimControl};
use rust_decimal::Decimal;

const START_MS: i64 = 1_795_568_400_000;

struct World {
    sim: RunningSimulator,
    control: Arc<SimControl>,
    adapter: Arc<dyn WalletNetwork>,
    clock: ManualClock,
}

async fn world() -> World {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let clock = ManualClock::new(START_MS);
    let factory = kakehashi_wechatpay::factory();
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 5,
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
        network_merchant_id: Some("1900000109".into()),
        name: "Ramen".into(),
        category_code: "5812".into(),
        store_id: "s".into(),
        terminal_id: "till-1".into(),
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
        description: "Ramen".into(),
        created_at_ms: START_MS,
    }
}

fn query(id: &str, amount: &str) -> QueryRequest {
    QueryRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: jpy(amount),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

fn reverse(id: &str, amount: &str, created_at_ms: i64) -> ReverseRequest {
    ReverseRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: jpy(amount),
        network_txn_id: None,
        created_at_ms,
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
    kakehashi_wechatpay::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap()
}

/// A test customer's wallet of this kind; `pin_entry_ms`: how long the PIN takes.
fn wallet(id: &str, kind: WalletKind, minor: i64, pin_entry_ms: Option<u64>) -> NewWallet {
    let balance = Amount::from_minor(minor, kind.currency()).unwrap();
    let wallet = NewWallet::new(id, balance).kind(kind.as_str());
    match pin_entry_ms {
        Some(ms) => wallet.confirm_after_ms(ms),
        None => wallet,
    }
}
