//! An Alipay+ simulator (the network as an acquirer sees it) that enforces the protocol:
//! RSA256 request signatures verified with the acquirer's public key, replies signed with
//! the simulator's own key, Client-Id and Request-Time checks, byte-identical replays
//! refused, idempotent `paymentRequestId` and `refundRequestId`, several member wallets in
//! their own currencies with quotes that expire, a customer who must confirm in the wallet,
//! the cancel window (00:15 UTC+8 the next day) and fault injection.
mod books;
mod control;
mod recon;
mod routes;
mod schema;

use std::sync::{Arc, Mutex, MutexGuard};

use kakehashi_adapter_core::simkit::{Fault, Faults, ReplayGuard};
use kakehashi_adapter_core::wiretap::Wiretap;
use kakehashi_adapter_core::{AdapterError, Clock, RunningSimulator, SimulatorOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::sign::{Signer, Verifier, generate_pem_pair};

pub use books::{Member, PaymentView};
pub use recon::{SIM_AGREEMENT_ID, SIM_PARTICIPANT_ID};

pub const SIM_CLIENT_ID: &str = "SANDBOX_KAKEHASHI_ACQP_0001";
/// Requests whose Request-Time is further than this from the simulator's clock are refused.
pub const REQUEST_TIME_SKEW_MAX_MS: i64 = 5 * 60 * 1000;
pub const SIGNATURES_REMEMBERED_MAX: usize = 100_000;
pub const BODY_BYTES_MAX: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Pay,
    Inquiry,
    Cancel,
    Refund,
}

#[derive(Debug)]
pub struct SimControl {
    books: Mutex<books::Books>,
    faults: Faults<Operation>,
    seen_signatures: Mutex<ReplayGuard<String>>,
    clock: Arc<dyn Clock>,
    /// Verifies the acquirer's requests.
    acquirer_key: Verifier,
    /// Signs the simulator's replies.
    signer: Signer,
    /// When set, replies carry a signature made with the wrong key (a fault).
    bad_reply_signatures: Mutex<u32>,
    /// Every request the Alipay+ routes took in, byte for byte (tests pin the wire).
    pub wiretap: Wiretap,
}

// === impl SimControl ===

impl SimControl {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn books(&self) -> MutexGuard<'_, books::Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn balance(&self, wallet_id: &str) -> Option<i64> {
        self.books().balance(wallet_id)
    }

    pub fn payment(&self, payment_request_id: &str) -> Option<PaymentView> {
        let now = self.now_ms();
        self.books().view(payment_request_id, now)
    }

    /// The next `count` replies are signed with a key the acquirer does not know.
    pub fn sign_replies_wrongly(&self, count: u32) {
        *self
            .bad_reply_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = count;
    }

    fn take_fault(&self, operation: Operation) -> Option<Fault> {
        self.faults.take(operation)
    }

    fn take_bad_signature(&self) -> bool {
        let mut left = self
            .bad_reply_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let bad = *left > 0;
        *left = left.saturating_sub(1);
        bad
    }

    fn first_use_of_signature(&self, signature: &str) -> bool {
        self.seen_signatures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_use(&signature.to_owned())
    }
}

pub async fn spawn(options: SimulatorOptions) -> Result<RunningSimulator, AdapterError> {
    let key_err = |e: crate::sign::KeyError| AdapterError::Simulator(e.to_string());
    let (acquirer_private, acquirer_public) = generate_pem_pair().map_err(key_err)?;
    let (network_private, network_public) = generate_pem_pair().map_err(key_err)?;
    let control = Arc::new(SimControl {
        books: Mutex::new(books::Books::new(StdRng::seed_from_u64(options.seed))),
        faults: Faults::default(),
        seen_signatures: Mutex::new(ReplayGuard::new(SIGNATURES_REMEMBERED_MAX)),
        clock: options.clock,
        acquirer_key: Verifier::from_pem(&acquirer_public).map_err(key_err)?,
        signer: Signer::from_pkcs8_pem(&network_private).map_err(key_err)?,
        bad_reply_signatures: Mutex::new(0),
        wiretap: Wiretap::default(),
    });
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
    adapter_config.insert("client_id".into(), SIM_CLIENT_ID.into());
    adapter_config.insert("private_key_pem".into(), acquirer_private.into());
    adapter_config.insert("alipay_public_key_pem".into(), network_public.into());
    let wallets: Vec<toml::Value> = Member::ALL
        .iter()
        .filter_map(|m| m.routing_number().map(|r| (r, m.brand())))
        .map(|(routing, brand)| {
            let mut t = toml::Table::new();
            t.insert("routing_number".into(), routing.into());
            t.insert("brand".into(), brand.into());
            toml::Value::Table(t)
        })
        .collect();
    adapter_config.insert("wallets".into(), toml::Value::Array(wallets));
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
