//! The reference partner: a real `WalletNetworkService` server with its own books, for a
//! network that joins the switch by configuration alone (`kakehashi sim grpc-wallet`). A
//! Korean or Thai wallet is a setting: `--network kpay --prefix 93 --currency KRW`.
//!
//! One port serves both the gRPC service and the shared control API under `/_sim`
//! (HTTP/1.1 or HTTP/2, TLS when configured); faults act on the gRPC operations.
mod books;
mod control;
mod garble;
mod service;
mod settings;

use std::sync::{Arc, Mutex, MutexGuard};

use kakehashi_adapter_core::simkit::Faults;
use kakehashi_adapter_core::{
    AdapterError, Clock, NetworkProfile, RunningSimulator, SimulatorOptions,
};
use kakehashi_proto::v1::wallet_network_service_server::WalletNetworkServiceServer;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tonic::service::Routes;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

pub use books::{CODE_VALID_MS, Rules};
pub use settings::{ServerTlsSettings, SimSettings};

use crate::limits::MESSAGE_BYTES_DEFAULT;

/// The operations faults can target, as `POST /_sim/faults` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    GetProfile,
    Pay,
    Query,
    Reverse,
    Refund,
    QueryRefund,
    CreateMerchantQr,
}

pub const OPERATIONS: [Operation; 7] = [
    Operation::Pay,
    Operation::Query,
    Operation::Reverse,
    Operation::Refund,
    Operation::QueryRefund,
    Operation::CreateMerchantQr,
    Operation::GetProfile,
];

/// The partner: its profile, books and fault rules, shared by the gRPC service and the
/// control API.
#[derive(Debug)]
pub struct Partner {
    /// Leaked once per partner started: [`SimulatorControl::network`] hands out a
    /// `&'static str`, and a process starts a bounded number of simulators.
    ///
    /// [`SimulatorControl::network`]: kakehashi_adapter_core::sim_control::SimulatorControl::network
    network: &'static str,
    profile: NetworkProfile,
    books: Mutex<books::Books>,
    faults: Faults<Operation>,
    /// Faults for `GetProfile`, which only a rule naming it reaches: a rule for every
    /// operation is about payments, not about the switch starting.
    profile_faults: Faults<Operation>,
    clock: Arc<dyn Clock>,
    /// The `grpc-timeout` of the last call, as received (e.g. `"5000000u"`): the switch's
    /// deadline, for tests.
    last_deadline: Mutex<Option<String>>,
}

// === impl Partner ===

impl Partner {
    pub fn new(
        settings: &SimSettings,
        seed: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AdapterError> {
        let (profile, rules) = settings.profile_and_rules()?;
        Ok(Self {
            network: Box::leak(profile.id.clone().into_boxed_str()),
            profile,
            books: Mutex::new(books::Books::new(StdRng::seed_from_u64(seed), rules)),
            faults: Faults::default(),
            profile_faults: Faults::default(),
            clock,
            last_deadline: Mutex::new(None),
        })
    }

    pub fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    fn books(&self) -> MutexGuard<'_, books::Books> {
        // A panic while holding the lock leaves the books as the last whole step left them.
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn last_deadline(&self) -> Option<String> {
        self.last_deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn saw_deadline(&self, grpc_timeout: Option<String>) {
        *self.last_deadline.lock().unwrap_or_else(|p| p.into_inner()) = grpc_timeout;
    }
}

/// Starts the partner with `settings` on `options.bind` and returns the adapter table that
/// reaches it.
pub async fn spawn(
    options: SimulatorOptions,
    settings: SimSettings,
) -> Result<RunningSimulator, AdapterError> {
    let fail = |e: String| AdapterError::Simulator(e);
    let partner = Arc::new(Partner::new(&settings, options.seed, options.clock)?);
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| fail(format!("bind {}: {e}", options.bind)))?;
    let addr = listener.local_addr().map_err(|e| fail(e.to_string()))?;
    let grpc = WalletNetworkServiceServer::new(service::Service::new(Arc::clone(&partner)))
        .max_decoding_message_size(MESSAGE_BYTES_DEFAULT)
        .max_encoding_message_size(MESSAGE_BYTES_DEFAULT);
    let control =
        kakehashi_adapter_core::sim_control::router(Arc::clone(&partner), axum::Router::new());
    let routes = Routes::from(Routes::new(grpc).into_axum_router().merge(control));
    let mut server = Server::builder().accept_http1(true);
    if let Some(tls) = &settings.tls {
        let mut config =
            ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
        if let Some(ca) = &tls.client_ca_pem {
            config = config.client_ca_root(Certificate::from_pem(ca));
        }
        server = server
            .tls_config(config)
            .map_err(|e| fail(format!("TLS: {e}")))?;
    }
    let router = server.layer(garble::GarbleLayer).add_routes(routes);
    let network = partner.network;
    let task = tokio::spawn(async move {
        // TCP_NODELAY: tonic sets it only on an address it binds itself.
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        if let Err(e) = router.serve_with_incoming(incoming).await {
            tracing::error!(error = %e, network, "Reference partner stopped");
        }
    });
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let base_url = format!("{scheme}://{addr}");
    let mut adapter_config = toml::Table::new();
    if network != crate::ADAPTER_KIND {
        adapter_config.insert("adapter".into(), crate::ADAPTER_KIND.into());
    }
    adapter_config.insert("endpoint".into(), base_url.clone().into());
    if let Some(tls) = &settings.tls {
        adapter_config.insert("ca_pem".into(), tls.ca_pem.clone().into());
        adapter_config.insert("tls_server_name".into(), tls.server_name.clone().into());
    }
    Ok(RunningSimulator {
        addr,
        base_url,
        adapter_config,
        merchant_network_id: None,
        control: partner,
        task,
    })
}
