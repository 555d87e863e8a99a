//! The audit runtime of a switch process: the checkpoint writer, and the auditor-only
//! listener serving gRPC `AuditService` and the tlog-tiles HTTP paths on one port. A
//! request is routed by path: `/kakehashi.v1.AuditService/*` is gRPC, `/checkpoint` and
//! `/tile/*` are HTTP (1.1 or 2); anything else is UNIMPLEMENTED (gRPC) or 404. The
//! terminals' port never serves any of it, and this port serves nothing of theirs.
mod auth;
mod grpc;
mod http;
pub mod reason;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::Clock;
use kakehashi_proto::v1::audit_service_server::AuditServiceServer;
use sqlx::AnyPool;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tonic::service::Routes;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

pub use auth::{Auditor, AuditorAuth};
pub use grpc::AuditApi;

use super::checkpoint::LogSigner;
use super::config::AuditConfig;
use super::writer::CheckpointWriter;

/// Longest a single auditor request (or export stream) may run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest auditor request message; every request is a few integers or an id.
const REQUEST_BYTES_MAX: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuditServeError {
    #[error("audit signing key: {0}")]
    Key(#[from] super::checkpoint::CheckpointError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("audit TLS: {0}")]
    Tls(String),
    #[error("auditor listener: {0}")]
    Serve(String),
}

/// The audit side of a running switch, bound and ready to run.
pub struct AuditServer {
    writer: CheckpointWriter,
    listener: Option<(TcpListener, SocketAddr)>,
    tls: Option<ServerTlsConfig>,
    pool: AnyPool,
    config: AuditConfig,
}

// === impl AuditServer ===

impl AuditServer {
    /// Reads the signing key and binds `[audit] listen` (if set), so a bad key or a taken
    /// port stops start-up rather than the first checkpoint.
    pub async fn bind(
        config: &AuditConfig,
        pool: AnyPool,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditServeError> {
        let signer = LogSigner::from_key_file(&config.key_path, &config.origin)?;
        let writer = CheckpointWriter {
            pool: pool.clone(),
            signer: Arc::new(signer),
            clock,
            interval_ms: config.checkpoint_interval_ms,
            entries: config.checkpoint_entries,
            on_demand: Arc::new(Notify::new()),
        };
        let listener = match config.listen {
            None => None,
            Some(addr) => {
                let bind = |source| AuditServeError::Bind { addr, source };
                let listener = TcpListener::bind(addr).await.map_err(bind)?;
                let local = listener.local_addr().map_err(bind)?;
                Some((listener, local))
            }
        };
        Ok(Self {
            writer,
            listener,
            tls: tls_config(config)?,
            pool,
            config: config.clone(),
        })
    }

    /// The auditor listener's address, when one is configured.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().map(|(_, addr)| *addr)
    }

    /// Wakes the checkpoint writer to sign the committed log now.
    pub fn checkpoint_on_demand(&self) -> Arc<Notify> {
        Arc::clone(&self.writer.on_demand)
    }

    /// Runs the checkpoint writer and the listener until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), AuditServeError> {
        let writer = tokio::spawn(self.writer.clone().run(shutdown.clone()));
        let result = match self.listener {
            None => {
                let mut shutdown = shutdown;
                let _ = shutdown.wait_for(|stop| *stop).await;
                Ok(())
            }
            Some((listener, addr)) => {
                serve_listener(listener, addr, self.tls, self.pool, &self.config, shutdown).await
            }
        };
        let _ = writer.await;
        result
    }
}

async fn serve_listener(
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<ServerTlsConfig>,
    pool: AnyPool,
    config: &AuditConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), AuditServeError> {
    let api = AuditServiceServer::new(AuditApi::new(pool.clone(), config.limits))
        .max_decoding_message_size(REQUEST_BYTES_MAX);
    let grpc = Routes::new(api).prepare().into_axum_router();
    let router = http::router(http::TilesState { pool }).merge(grpc).layer(
        axum::middleware::from_fn_with_state(
            AuditorAuth::new(&config.auditors),
            auth::authenticate,
        ),
    );
    let mut builder = Server::builder()
        .accept_http1(true)
        .timeout(REQUEST_TIMEOUT)
        .concurrency_limit_per_connection(config.limits.requests_in_flight_max);
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| AuditServeError::Tls(e.to_string()))?;
    }
    tracing::info!(%addr, "Auditor listener serving");
    builder
        .add_routes(Routes::from(router))
        .serve_with_incoming_shutdown(crate::switch::incoming(listener), async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(|e| AuditServeError::Serve(e.to_string()))
}

fn tls_config(config: &AuditConfig) -> Result<Option<ServerTlsConfig>, AuditServeError> {
    let Some(tls) = &config.tls else {
        return Ok(None);
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| AuditServeError::Tls(format!("{}: {e}", path.display())))
    };
    let mut server = ServerTlsConfig::new().identity(Identity::from_pem(
        read(&tls.cert_path)?,
        read(&tls.key_path)?,
    ));
    if let Some(ca) = &tls.client_ca_path {
        server = server.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(server))
}

/// Binds and runs the audit side of a switch from its `[audit]` config until `shutdown`.
pub async fn serve_auditor(
    config: &AuditConfig,
    pool: AnyPool,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), AuditServeError> {
    AuditServer::bind(config, pool, clock)
        .await?
        .run(shutdown)
        .await
}
