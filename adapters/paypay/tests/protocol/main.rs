//! The PayPay adapter against its simulator over loopback: dynamic QR paid and abandoned,
//! the Kakehashi CPM extension, cancel and its window, asynchronous refunds, every error
//! class, the simulator's refusals of tampered and replayed requests, the exact wire, and
//! requests no API took.
mod payments;
mod unrouted;
mod wire_fields;

use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimError, SimulatorControl};

use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{
    DeclineReason, ManualClock, MerchantQrRequest, MerchantRef, Money, PayOutcome, PayRequest,
    PaymentCode, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest,
    RunningSimulator, SimulatorOptions, WalletNetwork,
};
use kakehashi_paypay::sign::{self, Signed};
use kakehashi_paypay::sim::{SIM_API_KEY, SIM_API_SECRET};
use kakehashi_paypay::{Operation, SimControl};

/// 2026-11-25 10:00 JST (01:00 UTC).
const START_MS: i64 = 1_795_568_400_000;

struct World {
    sim: RunningSimulator,
    control: Arc<SimControl>,
    adapter: Arc<dyn WalletNetwork>,
    clock: ManualClock,
}

async fn world() -> World {
    let clock = ManualClock::new(START_MS);
    let factory = kakehashi_paypay::factory();
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 3,
            clock: Arc::new(clock.clone()),
        })
        .await
        .unwrap();
    let mut config = sim.adapter_config.clone();
    config.insert(
        "http".into(),
        toml::Value::Table("request_timeout_ms = 400".parse().unwrap()),
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
        network_merchant_id: Some("pp-m".into()),
        name: "Ramen".into(),
        category_code: "5812".into(),
        store_id: "s1".into(),
        terminal_id: "t1".into(),
    }
}

fn yen(v: i64) -> Money {
    Money::from_minor(v, iso_currency::Currency::JPY).unwrap()
}

fn qr(id: &str, amount: i64) -> MerchantQrRequest {
    MerchantQrRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(amount),
        description: "Ramen".into(),
        created_at_ms: START_MS,
        expires_at_ms: START_MS + 300_000,
    }
}

fn query(id: &str, amount: i64) -> QueryRequest {
    QueryRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(amount),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

fn reverse(id: &str, amount: i64, reference: Option<String>) -> ReverseRequest {
    ReverseRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(amount),
        network_txn_id: reference,
        created_at_ms: START_MS,
    }
}

fn refund(id: &str, refund_id: &str, paid: i64, amount: i64, payment_id: &str) -> RefundRequest {
    RefundRequest {
        payment_id: id.into(),
        refund_id: refund_id.into(),
        merchant: merchant(),
        payment_amount: yen(paid),
        amount: yen(amount),
        network_txn_id: Some(payment_id.into()),
        reason: String::new(),
        known_network_refund_ids: Vec::new(),
    }
}

fn scan(id: &str, amount: i64, code: &str) -> PayRequest {
    PayRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(amount),
        code: PaymentCode::parse(code).unwrap(),
        description: String::new(),
        created_at_ms: START_MS,
    }
}

/// The adapter as `world()` builds it, pointed elsewhere.
fn adapter_at(w: &World, base_url: &str) -> Arc<dyn WalletNetwork> {
    let mut config = w.sim.adapter_config.clone();
    config.insert("base_url".into(), base_url.into());
    config.insert(
        "http".into(),
        toml::Value::Table("request_timeout_ms = 400".parse().unwrap()),
    );
    kakehashi_paypay::factory()
        .build(&config, Arc::new(w.clock.clone()))
        .unwrap()
}

fn yen_wallet(id: &str, yen: i64) -> NewWallet {
    NewWallet::new(
        id,
        Amount::from_minor(yen, iso_currency::Currency::JPY).unwrap(),
    )
}
