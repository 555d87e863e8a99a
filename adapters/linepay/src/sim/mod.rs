//! A LINE Pay Offline API v4 simulator that enforces the protocol as strictly as the real
//! service: HMAC signatures over the raw bytes, single-use nonces, one-time keys issued per
//! wallet that expire after 5 minutes and work once, one currency per channel, duplicate
//! orderIds refused, wallet balances that move only with money. Business errors are HTTP 200
//! with LINE Pay's return codes; 5xx, hangs and garbage only come from injected faults.
mod ledger;
mod routes;

use std::sync::{Arc, Mutex, MutexGuard};

use iso_currency::Currency;
use kakehashi_adapter_core::simkit::{Faults, ReplayGuard};
use kakehashi_adapter_core::{AdapterError, Clock, RunningSimulator, SimulatorOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;

pub use kakehashi_adapter_core::simkit::Fault;
pub use ledger::{OrderStatus, OrderView};

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

/// The simulator's handle: wallets, one-time keys, orders and fault injection. Shared by the
/// HTTP routes, the `/_sim` control routes and tests.
#[derive(Debug)]
pub struct SimControl {
    state: Mutex<ledger::Ledger>,
    faults: Faults<Operation>,
    nonces: Mutex<ReplayGuard<String>>,
    clock: Arc<dyn Clock>,
    pub channel_id: String,
    pub channel_secret: String,
    /// The channel's one currency.
    pub currency: Currency,
}

/// The API operations faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Pay,
    Check,
    Void,
    Refund,
}

// === impl SimControl ===

impl SimControl {
    pub fn new(seed: u64, clock: Arc<dyn Clock>, currency: Currency) -> Self {
        Self {
            state: Mutex::new(ledger::Ledger::new(StdRng::seed_from_u64(seed))),
            faults: Faults::default(),
            nonces: Mutex::new(ReplayGuard::new(NONCES_MAX)),
            clock,
            channel_id: SIM_CHANNEL_ID.into(),
            channel_secret: SIM_CHANNEL_SECRET.into(),
            currency,
        }
    }

    fn ledger(&self) -> MutexGuard<'_, ledger::Ledger> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Adds (or resets) a test wallet holding `balance` in the channel's currency.
    pub fn add_wallet(&self, wallet_id: &str, balance: Decimal) -> Result<(), String> {
        self.ledger().add_wallet(wallet_id, self.currency, balance)
    }

    /// Issues a one-time key (19 digits, JP MyCode format) for the wallet, valid 5 minutes.
    pub fn issue_code(&self, wallet_id: &str) -> Result<String, String> {
        let now = self.now_ms();
        self.ledger().issue_code(wallet_id, now)
    }

    pub fn balance(&self, wallet_id: &str) -> Option<Decimal> {
        self.ledger().balance(wallet_id)
    }

    pub fn order(&self, order_id: &str) -> Option<OrderView> {
        self.ledger().order(order_id)
    }

    /// How many Pay requests reached the simulator with a valid signature.
    pub fn pay_requests_seen(&self) -> usize {
        self.ledger().pay_requests_seen
    }

    /// Injects a fault for one operation (`None`: all) for `times` requests (`None`: until
    /// cleared).
    pub fn inject(&self, operation: Option<Operation>, fault: Fault, times: Option<u32>) {
        self.faults.inject(operation, fault, times);
    }

    pub fn clear_faults(&self) {
        self.faults.clear();
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

/// Serves the simulator on `options.bind` with a JPY channel.
pub async fn spawn(options: SimulatorOptions) -> Result<RunningSimulator, AdapterError> {
    spawn_with_currency(options, Currency::JPY).await
}

pub async fn spawn_with_currency(
    options: SimulatorOptions,
    currency: Currency,
) -> Result<RunningSimulator, AdapterError> {
    let control = Arc::new(SimControl::new(options.seed, options.clock, currency));
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| AdapterError::Simulator(format!("bind {}: {e}", options.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AdapterError::Simulator(e.to_string()))?;
    let app = routes::router(Arc::clone(&control));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "LINE Pay simulator stopped");
        }
    });
    let base_url = format!("http://{addr}");
    let mut adapter_config = toml::Table::new();
    adapter_config.insert("base_url".into(), base_url.clone().into());
    adapter_config.insert("channel_id".into(), control.channel_id.clone().into());
    adapter_config.insert(
        "channel_secret".into(),
        control.channel_secret.clone().into(),
    );
    adapter_config.insert(
        "currencies".into(),
        toml::Value::Array(vec![currency.code().into()]),
    );
    Ok(RunningSimulator {
        addr,
        base_url,
        adapter_config,
        control,
        task,
    })
}
