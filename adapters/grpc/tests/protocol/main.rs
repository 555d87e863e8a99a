//! The adapter against the reference partner over real gRPC on loopback: every outcome
//! class, the failure table, deadlines, TLS and mutual TLS. One binary, one story per test.
mod outcomes;
mod pki;
mod refunds;
mod tls;

use std::sync::Arc;

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{
    ManualClock, MerchantRef, Money, PayRequest, PaymentCode, QueryRequest, RefundRequest,
    ReverseRequest, RunningSimulator, SimulatorOptions, WalletNetwork,
};
use kakehashi_grpc::{Operation, Partner};

/// The partner's clock starts here; tests move it by hand.
pub const START_MS: i64 = 1_795_000_000_000;

/// A running partner, its typed controls and an adapter built from its table.
pub struct World {
    pub sim: RunningSimulator,
    pub partner: Arc<Partner>,
    pub adapter: Arc<dyn WalletNetwork>,
    pub clock: Arc<ManualClock>,
}

/// A Korean wallet network: KRW wallets, yen prices, 1 s calls.
pub fn kpay() -> toml::Table {
    toml::toml! {
        network = "kpay"
        display_name = "K-Pay"
        code_prefix = "93"
        wallet_currency = "KRW"
        timing = { payment_deadline_ms = 20000, query_first_delay_ms = 200, query_interval_ms = 200, call_timeout_ms = 1000 }
    }
}

pub async fn world(settings: toml::Table) -> World {
    world_with(settings, |_| {}).await
}

/// Starts the partner, lets `adjust` change the adapter table, builds the adapter.
pub async fn world_with(settings: toml::Table, adjust: impl FnOnce(&mut toml::Table)) -> World {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let clock = Arc::new(ManualClock::new(START_MS));
    let factory = kakehashi_grpc::factory();
    let sim = factory
        .spawn_simulator_with(
            SimulatorOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                seed: 9,
                clock: clock.clone(),
            },
            &settings,
        )
        .await
        .expect("the partner starts");
    let partner = sim.control::<Partner>().expect("a reference partner");
    let id = partner.profile().id.clone();
    let mut table = sim.adapter_config.clone();
    adjust(&mut table);
    let adapter = factory
        .build_network(&id, &table, clock.clone())
        .expect("the adapter builds");
    World {
        sim,
        partner,
        adapter,
        clock,
    }
}

// === impl World ===

impl World {
    pub fn wallet(&self, id: &str, value: &str, currency: &str) {
        self.partner
            .add_wallet(&NewWallet::new(id, Amount::parse(value, currency).unwrap()))
            .unwrap();
    }

    pub fn slow_wallet(&self, id: &str, value: &str, currency: &str, confirm_ms: u64) {
        let wallet = NewWallet::new(id, Amount::parse(value, currency).unwrap())
            .confirm_after_ms(confirm_ms);
        self.partner.add_wallet(&wallet).unwrap();
    }

    pub fn code(&self, wallet: &str) -> String {
        self.partner.issue_code(wallet).unwrap()
    }

    pub fn balance(&self, wallet: &str) -> String {
        self.partner.wallet(wallet).unwrap().balance.value_string()
    }

    pub fn fault(&self, operation: Operation, fault: Fault) {
        self.partner.inject(Some(operation), fault, Some(1));
    }
}

pub fn merchant() -> MerchantRef {
    MerchantRef {
        merchant_id: "shinjuku-ramen".into(),
        network_merchant_id: None,
        name: "Shinjuku Ramen".into(),
        category_code: "5812".into(),
        store_id: "east".into(),
        terminal_id: "till-1".into(),
    }
}

pub fn yen(value: &str) -> Money {
    Money::parse(value, "JPY").unwrap()
}

pub fn pay(id: &str, value: &str, code: &str) -> PayRequest {
    PayRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(value),
        code: PaymentCode::parse(code).unwrap(),
        description: "Ramen".into(),
        created_at_ms: START_MS,
    }
}

pub fn query(id: &str, value: &str) -> QueryRequest {
    QueryRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(value),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

pub fn reverse(id: &str, value: &str) -> ReverseRequest {
    ReverseRequest {
        payment_id: id.into(),
        merchant: merchant(),
        amount: yen(value),
        network_txn_id: None,
        created_at_ms: START_MS,
    }
}

pub fn refund(payment: &str, refund_id: &str, of: &str, value: &str) -> RefundRequest {
    RefundRequest {
        payment_id: payment.into(),
        refund_id: refund_id.into(),
        merchant: merchant(),
        payment_amount: yen(of),
        amount: yen(value),
        network_txn_id: None,
        reason: String::new(),
        known_network_refund_ids: Vec::new(),
    }
}
