//! The partner gateway: `kakehashi.v1.PartnerGatewayService`, served to partner wallet
//! networks on a listener of its own, with mutual TLS only. A partner is the network its
//! client certificate is bound to in `[partners.<name>]` (`identity.rs`); every call acts
//! for that network alone. See docs/adr/0009-partner-gateway.md.
pub mod config;

pub use config::{PartnerConfig, PartnerGatewayConfig};
pub mod api;
pub mod codes;
pub mod identity;
pub mod reason;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::Clock;
use kakehashi_proto::v1::partner_gateway_service_server::PartnerGatewayServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

pub use api::PartnerGatewayApi;
pub use identity::{Partner, PartnerDirectory};

use crate::config::Config;
use crate::payments::Payments;

/// Longest one partner request may run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest partner request: a settlement report of 10,000 lines fits.
pub const REQUEST_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Requests served at once per partner connection.
const CONCURRENCY_PER_CONNECTION: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum GatewayServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("partner gateway TLS: {0}")]
    Tls(String),
    #[error("partner gateway: {0}")]
    Serve(String),
}

/// The partner listener, bound (so a taken port stops start-up) and ready to serve.
pub struct GatewayServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: ServerTlsConfig,
    directory: PartnerDirectory,
    codes: Arc<codes::MerchantCodes>,
}

// === impl GatewayServer ===

impl GatewayServer {
    /// Reads the TLS files and binds `[partner_gateway] listen`.
    pub async fn bind(
        gateway: &PartnerGatewayConfig,
        config: &Config,
        codes: Arc<codes::MerchantCodes>,
    ) -> Result<Self, GatewayServeError> {
        let read = |path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|e| GatewayServeError::Tls(format!("{}: {e}", path.display())))
        };
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(
                read(&gateway.cert_path)?,
                read(&gateway.key_path)?,
            ))
            .client_ca_root(Certificate::from_pem(read(&gateway.client_ca_path)?))
            .client_auth_optional(false);
        let addr = gateway.listen;
        let bind = |source| GatewayServeError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        Ok(Self {
            listener,
            local_addr,
            tls,
            directory: PartnerDirectory::new(&config.partners),
            codes,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `PartnerGatewayService` until `shutdown` turns true.
    pub async fn run(
        self,
        payments: Payments,
        clock: Arc<dyn Clock>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), GatewayServeError> {
        let api = PartnerGatewayApi::new(payments, self.directory, self.codes, clock);
        let service =
            PartnerGatewayServiceServer::new(api).max_decoding_message_size(REQUEST_BYTES_MAX);
        tracing::info!(addr = %self.local_addr, "Partner gateway serving");
        Server::builder()
            .timeout(REQUEST_TIMEOUT)
            .concurrency_limit_per_connection(CONCURRENCY_PER_CONNECTION)
            .tls_config(self.tls)
            .map_err(|e| GatewayServeError::Tls(e.to_string()))?
            .add_service(service)
            .serve_with_incoming_shutdown(crate::switch::incoming(self.listener), async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .map_err(|e| GatewayServeError::Serve(e.to_string()))
    }
}
