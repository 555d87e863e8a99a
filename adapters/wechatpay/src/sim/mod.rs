//! A WeChat Pay overseas v2 simulator that enforces the protocol: XML over HTTPS, signatures
//! (MD5 / HMAC-SHA256) both ways, single-use `nonce_str`, the client certificate on
//! `/secapi/`, single-use 18-digit auth codes that expire, customers who take a while to
//! enter the PIN, auto-revoke of unpaid orders at 45 s, reversal not before 15 s, FX to the
//! wallet's currency with `rate` ×10^8, asynchronous refunds bounded by the paid amount.
mod books;
mod control;
mod routes;
mod tls;

use std::sync::{Arc, Mutex, MutexGuard};

use kakehashi_adapter_core::sim_control::SimError;
use kakehashi_adapter_core::simkit::{Fault, Faults, ReplayGuard};
use kakehashi_adapter_core::wiretap::Wiretap;
use kakehashi_adapter_core::{AdapterError, Clock, RunningSimulator, SimulatorOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use books::{OrderView, ReverseWindow, WalletKind};

pub const SIM_APPID: &str = "wx2421b1c4370ec43b";
pub const SIM_MCH_ID: &str = "10000100";
pub const SIM_API_KEY: &str = "kakehashisimwechatpayapikey32chr";
pub const NONCES_MAX: usize = 100_000;
/// Unpaid Quick Pay orders are revoked by WeChat Pay 45 s after creation.
pub const AUTO_REVOKE_MS: i64 = 45_000;
/// WeChat Pay asks not to reverse an order in its first 15 s.
pub const REVERSE_NOT_BEFORE_MS: i64 = 15_000;
/// Auth codes refresh about once a minute.
pub const AUTH_CODE_VALID_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Micropay,
    OrderQuery,
    Reverse,
    Refund,
    RefundQuery,
}

#[derive(Debug)]
pub struct SimControl {
    books: Mutex<books::Books>,
    faults: Faults<Operation>,
    nonces: Mutex<ReplayGuard<String>>,
    clock: Arc<dyn Clock>,
    pub api_key: String,
    /// The merchants registered under this institution (`sub_mch_id`); others are refused.
    sub_merchants: Mutex<std::collections::BTreeSet<String>>,
    /// Every request the WeChat Pay routes took in, byte for byte (tests pin the wire).
    pub wiretap: Wiretap,
}

/// The sub-merchant every simulator starts with (the one in WeChat Pay's own samples).
pub const SIM_SUB_MCH_ID: &str = "1900000109";
/// Sub-merchants a simulator will register, so a sandbox cannot grow without limit.
const SUB_MERCHANTS_MAX: usize = 10_000;

// === impl SimControl ===

impl SimControl {
    fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            books: Mutex::new(books::Books::new(StdRng::seed_from_u64(seed))),
            faults: Faults::default(),
            nonces: Mutex::new(ReplayGuard::new(NONCES_MAX)),
            clock,
            api_key: SIM_API_KEY.into(),
            sub_merchants: Mutex::new([SIM_SUB_MCH_ID.to_owned()].into()),
            wiretap: Wiretap::default(),
        }
    }

    /// Registers a merchant (`sub_mch_id`) under the simulated institution.
    pub fn add_sub_merchant(&self, sub_mch_id: &str) -> Result<(), SimError> {
        if sub_mch_id.is_empty()
            || sub_mch_id.len() > 32
            || !sub_mch_id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(SimError::Invalid("sub_mch_id is 1..=32 digits".into()));
        }
        let mut known = self.sub_merchants.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= SUB_MERCHANTS_MAX {
            return Err(SimError::Full(format!(
                "the simulator holds {SUB_MERCHANTS_MAX} sub-merchants already"
            )));
        }
        known.insert(sub_mch_id.to_owned());
        Ok(())
    }

    fn is_sub_merchant(&self, sub_mch_id: &str) -> bool {
        self.sub_merchants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(sub_mch_id)
    }

    fn books(&self) -> MutexGuard<'_, books::Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn balance(&self, wallet_id: &str) -> Option<i64> {
        self.books().balance(wallet_id)
    }

    pub fn order(&self, out_trade_no: &str) -> Option<OrderView> {
        let now = self.now_ms();
        self.books().order_view(out_trade_no, now)
    }

    /// Limits the CNY available today for refunds to mainland wallets (fen); a refund that
    /// needs more is answered NOTENOUGH, as WeChat Pay does when the day's pool is short.
    /// `None` (the default): never short.
    pub fn set_refund_pool(&self, fen: Option<i64>) {
        self.books().set_refund_pool(fen);
    }

    /// How long reverse is allowed after an order (default: seven days).
    pub fn set_reverse_window(&self, window: books::ReverseWindow) {
        self.books().set_reverse_window(window);
    }

    fn take_fault(&self, operation: Operation) -> Option<Fault> {
        self.faults.take(operation)
    }

    fn first_use_of_nonce(&self, nonce: &str) -> bool {
        self.nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_use(&nonce.to_owned())
    }
}

pub async fn spawn(options: SimulatorOptions) -> Result<RunningSimulator, AdapterError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let material = tls::generate()?;
    let control = Arc::new(SimControl::new(options.seed, options.clock));
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| AdapterError::Simulator(format!("bind {}: {e}", options.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AdapterError::Simulator(e.to_string()))?;
    let task = tokio::spawn(routes::serve(
        listener,
        Arc::clone(&material.server),
        Arc::clone(&control),
    ));
    let base_url = format!("https://{addr}");
    let mut adapter_config = toml::Table::new();
    adapter_config.insert("base_url".into(), base_url.clone().into());
    adapter_config.insert("appid".into(), SIM_APPID.into());
    adapter_config.insert("mch_id".into(), SIM_MCH_ID.into());
    adapter_config.insert("api_key".into(), SIM_API_KEY.into());
    adapter_config.insert("client_cert_pem".into(), material.client_cert_pem.into());
    adapter_config.insert("client_key_pem".into(), material.client_key_pem.into());
    adapter_config.insert("ca_pem".into(), material.ca_pem.into());
    Ok(RunningSimulator {
        addr,
        base_url,
        adapter_config,
        merchant_network_id: Some(SIM_SUB_MCH_ID.into()),
        control,
        task,
    })
}
