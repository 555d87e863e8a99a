//! A LINE Pay Offline API v4 simulator that enforces the protocol as strictly as the real
//! service: HMAC signatures over the raw bytes, single-use nonces, one-time keys issued per
//! wallet that expire after 5 minutes and work once, one currency per channel, duplicate
//! orderIds refused, wallet balances that move only with money. Business errors are HTTP 200
//! with LINE Pay's return codes; 5xx, hangs and garbage only come from injected faults.
//!
//! Like LINE Pay, each merchant channel settles in exactly one currency. The simulator hosts
//! three channels: JPY (the Japanese service, closed in 2025; the default), TWD (Taiwan) and
//! THB (Thailand). Each region's MyCode has its own length (JP 19, TW 18, TH 12 digits); the
//! prefixes are the simulator's own, since LINE Pay does not publish them (a real TW/TH
//! deployment sets `code_patterns` from LINE Pay's onboarding pack).
mod control;
mod ledger;
mod routes;

use std::sync::{Arc, Mutex, MutexGuard};

use iso_currency::Currency;
use kakehashi_adapter_core::simkit::{Faults, ReplayGuard};
use kakehashi_adapter_core::wiretap::Wiretap;
use kakehashi_adapter_core::{AdapterError, Clock, RunningSimulator, SimulatorOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;

pub use kakehashi_adapter_core::simkit::Fault;
pub use ledger::{OrderStatus, OrderView, RefundView};

/// How long a issued oneTimeKey stays valid (LINE Pay: 5 minutes from opening MyCode).
pub const ONE_TIME_KEY_TTL_MS: i64 = 5 * 60 * 1000;
/// Nonces remembered for replay detection; older ones are evicted first.
pub const NONCES_MAX: usize = 100_000;
/// Largest request body the simulator reads.
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Upper bounds on simulator state, so a long-running sandbox cannot grow without limit.
pub const WALLETS_MAX: usize = 10_000;
pub const CODES_MAX: usize = 100_000;

pub const SIM_CHANNEL_ID: &str = "1656000000";
pub const SIM_CHANNEL_SECRET: &str = "kakehashi-sim-linepay-channel-secret";

/// A merchant channel: its credentials and its one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub secret: String,
    pub currency: Currency,
}

/// The MyCode format of a region, by its channel currency: (prefix, length).
pub fn code_format(currency: Currency) -> (&'static str, usize) {
    match currency {
        Currency::TWD => ("900001", 18),
        Currency::THB => ("900002", 12),
        _ => (ledger::CODE_PREFIX, ledger::CODE_LENGTH),
    }
}

fn sim_channels() -> Vec<Channel> {
    [
        (SIM_CHANNEL_ID, SIM_CHANNEL_SECRET, Currency::JPY),
        (
            "1656000001",
            "kakehashi-sim-linepay-taiwan-secret",
            Currency::TWD,
        ),
        (
            "1656000002",
            "kakehashi-sim-linepay-thailand-secret",
            Currency::THB,
        ),
    ]
    .into_iter()
    .map(|(id, secret, currency)| Channel {
        id: id.into(),
        secret: secret.into(),
        currency,
    })
    .collect()
}

/// The simulator's handle: wallets, one-time keys, orders and fault injection. Shared by the
/// HTTP routes, the `/_sim` control routes and tests; the shared control API is its
/// [`SimulatorControl`](kakehashi_adapter_core::sim_control::SimulatorControl) impl.
#[derive(Debug)]
pub struct SimControl {
    state: Mutex<ledger::Ledger>,
    faults: Faults<Operation>,
    nonces: Mutex<ReplayGuard<String>>,
    clock: Arc<dyn Clock>,
    /// The merchant channels, the default (JPY) first.
    pub channels: Vec<Channel>,
    /// Authenticated requests per operation, so tests can see what the switch asked.
    seen: Mutex<std::collections::HashMap<Operation, usize>>,
    /// Every request the LINE Pay routes took in, byte for byte (tests pin the wire).
    pub wiretap: Wiretap,
}

/// The API operations faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Pay,
    Check,
    Void,
    Refund,
    /// Payment details (`GET /v4/payments`).
    Details,
}

// === impl SimControl ===

impl SimControl {
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(ledger::Ledger::new(StdRng::seed_from_u64(seed))),
            faults: Faults::default(),
            nonces: Mutex::new(ReplayGuard::new(NONCES_MAX)),
            clock,
            channels: sim_channels(),
            seen: Mutex::new(std::collections::HashMap::new()),
            wiretap: Wiretap::default(),
        }
    }

    /// The channel that settles in `currency`.
    pub fn channel(&self, currency: Currency) -> Option<&Channel> {
        self.channels.iter().find(|c| c.currency == currency)
    }

    fn channel_by_id(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    fn ledger(&self) -> MutexGuard<'_, ledger::Ledger> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn balance(&self, wallet_id: &str) -> Option<Decimal> {
        self.ledger().balance(wallet_id)
    }

    pub fn order(&self, order_id: &str) -> Option<OrderView> {
        self.ledger().order(order_id)
    }

    /// How many requests of this operation reached the simulator with a valid signature.
    pub fn requests_seen(&self, operation: Operation) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&operation)
            .copied()
            .unwrap_or(0)
    }

    fn note_request(&self, operation: Operation) {
        *self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(operation)
            .or_insert(0) += 1;
    }

    /// How many Pay requests reached the simulator with a valid signature.
    pub fn pay_requests_seen(&self) -> usize {
        self.ledger().pay_requests_seen
    }

    fn take_fault(&self, operation: Operation) -> Option<Fault> {
        self.faults.take(operation)
    }

    /// Remembers a nonce; false if it was seen before.
    fn remember_nonce(&self, nonce: &str) -> bool {
        self.nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_use(&nonce.to_owned())
    }
}

/// The adapter configuration that talks to this simulator's channel for `currency`, with the
/// code pattern of that region's MyCode.
pub fn adapter_config(base_url: &str, channel: &Channel) -> toml::Table {
    let mut config = toml::Table::new();
    config.insert("base_url".into(), base_url.into());
    config.insert("channel_id".into(), channel.id.clone().into());
    config.insert("channel_secret".into(), channel.secret.clone().into());
    config.insert(
        "currencies".into(),
        toml::Value::Array(vec![channel.currency.code().into()]),
    );
    if channel.currency != Currency::JPY {
        let (prefix, length) = code_format(channel.currency);
        let mut row = toml::Table::new();
        row.insert("prefix".into(), prefix.into());
        row.insert("length_min".into(), (length as i64).into());
        row.insert("length_max".into(), (length as i64).into());
        row.insert("brand".into(), "LINE Pay".into());
        config.insert(
            "code_patterns".into(),
            toml::Value::Array(vec![toml::Value::Table(row)]),
        );
    }
    kakehashi_adapter_core::sim_server::speak_http2(&mut config);
    config
}

/// Serves the simulator on `options.bind`; its printed adapter config is the JPY channel's.
pub async fn spawn(options: SimulatorOptions) -> Result<RunningSimulator, AdapterError> {
    let control = Arc::new(SimControl::new(options.seed, options.clock));
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| AdapterError::Simulator(format!("bind {}: {e}", options.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AdapterError::Simulator(e.to_string()))?;
    let app = routes::router(Arc::clone(&control));
    let task = tokio::spawn(kakehashi_adapter_core::serve_simulator(listener, app));
    let base_url = format!("http://{addr}");
    let default_channel = control
        .channels
        .first()
        .ok_or_else(|| AdapterError::Simulator("no channel".into()))?;
    let adapter_config = adapter_config(&base_url, default_channel);
    Ok(RunningSimulator {
        addr,
        base_url,
        adapter_config,
        merchant_network_id: None,
        control,
        task,
    })
}
