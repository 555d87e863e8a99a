//! A PayPay OPA simulator that enforces the protocol: `hmac OPA-Auth` over the received
//! Content-Type and body, epoch within 2 minutes, single-use nonces, JPY integers, idempotent
//! `merchantPaymentId`/`merchantRefundId`, the cancel window (00:14:59 JST the next day),
//! asynchronous refunds. Dynamic QR codes are paid or abandoned by a simulated customer.
//!
//! **Kakehashi extension:** `POST /kakehashi-extension/v2/payments/scan` charges a scanned
//! customer code. PayPay's public API has no such endpoint; the simulator serves it so a till
//! can rehearse scanning PayPay codes, and it is not PayPay-conformant behaviour.
mod books;
mod control;
mod routes;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use kakehashi_adapter_core::simkit::{Fault, Faults, ReplayGuard};
use kakehashi_adapter_core::wiretap::Wiretap;
use kakehashi_adapter_core::{AdapterError, Clock, RunningSimulator, SimulatorOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use books::{PaymentView, RefundView};

pub const SIM_API_KEY: &str = "a_kakehashi_sim_key";
pub const SIM_API_SECRET: &str = "kakehashi-sim-paypay-api-secret";
/// Requests whose epoch is further than this from the simulator's clock are refused.
pub const EPOCH_SKEW_MAX_S: i64 = 120;
pub const NONCES_MAX: usize = 100_000;
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// How long a dynamic QR and a scanned customer code stay valid.
pub const QR_VALID_MS: i64 = 5 * 60 * 1000;
pub const CUSTOMER_CODE_VALID_MS: i64 = 5 * 60 * 1000;

/// The API operations faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    CreateQr,
    Scan,
    Details,
    Cancel,
    Refund,
    RefundDetails,
}

#[derive(Debug)]
pub struct SimControl {
    books: Mutex<books::Books>,
    faults: Faults<Operation>,
    nonces: Mutex<ReplayGuard<String>>,
    clock: Arc<dyn Clock>,
    pub api_key: String,
    pub api_secret: String,
    /// Whether the Kakehashi scan extension is served. Real PayPay does not serve it: off,
    /// the simulator answers its path as it answers any path PayPay has no API for.
    scan_extension: AtomicBool,
    /// Every request the PayPay routes took in, byte for byte (tests pin the wire).
    pub wiretap: Wiretap,
}

// === impl SimControl ===

impl SimControl {
    pub fn new(seed: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            books: Mutex::new(books::Books::new(StdRng::seed_from_u64(seed))),
            faults: Faults::default(),
            nonces: Mutex::new(ReplayGuard::new(NONCES_MAX)),
            clock,
            api_key: SIM_API_KEY.into(),
            api_secret: SIM_API_SECRET.into(),
            scan_extension: AtomicBool::new(true),
            wiretap: Wiretap::default(),
        }
    }

    /// Serves the Kakehashi scan extension (the default) or not, as real PayPay does not.
    pub fn serve_scan_extension(&self, served: bool) {
        self.scan_extension.store(served, Ordering::SeqCst);
    }

    fn scan_extension_served(&self) -> bool {
        self.scan_extension.load(Ordering::SeqCst)
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

    pub fn payment(&self, merchant_payment_id: &str) -> Option<PaymentView> {
        let now = self.now_ms();
        self.books().payment_view(merchant_payment_id, now)
    }

    pub fn refund(&self, merchant_refund_id: &str) -> Option<RefundView> {
        self.books().refund_view(merchant_refund_id)
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
    let mut adapter_config = toml::Table::new();
    adapter_config.insert("base_url".into(), base_url.clone().into());
    adapter_config.insert("api_key".into(), control.api_key.clone().into());
    adapter_config.insert("api_secret".into(), control.api_secret.clone().into());
    kakehashi_adapter_core::sim_server::speak_http2(&mut adapter_config);
    Ok(RunningSimulator {
        addr,
        base_url,
        adapter_config,
        merchant_network_id: None,
        control,
        task,
    })
}
