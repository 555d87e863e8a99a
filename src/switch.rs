//! Start-up, shared by `kakehashi serve`, `kakehashi demo` and the tests:
//! [`Switch::build`] opens the store, builds the networks and binds the port;
//! [`Switch::serve`] runs until shutdown.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::{Clock, SystemClock};
use kakehashi_proto::v1::acceptance_service_server::AcceptanceServiceServer;
use tokio::net::TcpListener;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::api::{AcceptanceApi, AcceptanceEdge, Authenticator, TerminalIdentity};
use crate::config::Config;
use crate::networks::Networks;
use crate::payments::{Merchant, Payments, Setup};
use crate::store::{MerchantRow, SqlStore, Store, TerminalRow};

/// Longest a single RPC may run before the server answers DEADLINE_EXCEEDED.
const RPC_TIMEOUT: Duration = Duration::from_secs(60);
/// Concurrent requests per connection.
const CONCURRENCY_PER_CONNECTION: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("server: {0}")]
    Serve(String),
    #[error(transparent)]
    Audit(#[from] crate::audit::server::AuditServeError),
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayServeError),
}

pub struct Switch {
    listener: TcpListener,
    local_addr: SocketAddr,
    payments: Payments,
    auth: Authenticator,
    tls: Option<ServerTlsConfig>,
    request_bytes_max: usize,
    /// The checkpoint writer and auditor listener, when `[audit]` is configured.
    audit: Option<crate::audit::server::AuditServer>,
    /// `SettlementService`, for operator keys only.
    settlement: crate::api::settlement::SettlementServer,
    /// The partner gateway listener, when `[partner_gateway]` is configured.
    gateway: Option<crate::gateway::GatewayServer>,
    clock: Arc<dyn Clock>,
    /// Our merchants' codes, for switch-issued dynamic codes (CreateMerchantQr `switch_code`).
    codes: Arc<crate::gateway::codes::MerchantCodes>,
}

// === impl Switch ===

impl Switch {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let settings = config.network_settings()?;
        let networks = Networks::build(&settings, Arc::clone(&clock))?;
        networks.check_merchant_ids(&config.merchants)?;
        let compliance = crate::routing::Compliance::from_config(&config)
            .map_err(|e| StartError::Config(crate::config::ConfigError::Invalid(e.to_string())))?;
        let sql = SqlStore::connect(&config.store_url).await?;
        crate::routing::rules::activate(sql.pool(), compliance.rules(), clock.now_ms()).await?;
        let audit = match &config.audit {
            Some(audit) => Some(
                crate::audit::server::AuditServer::bind(audit, sql.pool().clone(), clock.clone())
                    .await?,
            ),
            None => None,
        };
        let settlement =
            crate::api::settlement::from_config(&config, sql.pool().clone(), clock.clone())
                .map_err(|e| StartError::Config(crate::config::ConfigError::Invalid(e)))?;
        let codes = Arc::new(crate::gateway::codes::MerchantCodes::from_config(&config));
        let gateway = match &config.partner_gateway {
            Some(gateway) => Some(
                crate::gateway::GatewayServer::bind(gateway, &config, Arc::clone(&codes)).await?,
            ),
            None => None,
        };
        let store: Arc<dyn Store> = Arc::new(sql);
        store
            .sync_merchants(&merchant_rows(&config), &terminal_rows(&config))
            .await?;
        let merchants = config
            .merchants
            .iter()
            .map(|m| Merchant {
                id: m.id.clone(),
                name: m.name.clone(),
                category_code: m.category_code.clone(),
                networks: m.networks.clone(),
                network_ids: m.network_ids.clone(),
                stores: config
                    .terminals
                    .iter()
                    .filter(|t| t.merchant_id == m.id && !t.store_id.is_empty())
                    .map(|t| (t.id.clone(), t.store_id.clone()))
                    .collect(),
            })
            .collect();
        let auth = Authenticator::new(config.terminals.iter().filter_map(|t| {
            let hash = t.api_key_hash().ok()?;
            Some((
                hash,
                TerminalIdentity {
                    terminal_id: t.id.clone(),
                    merchant_id: t.merchant_id.clone(),
                },
            ))
        }));
        let tls = match &config.tls {
            None => None,
            Some(tls) => {
                let cert = std::fs::read(&tls.cert_path)
                    .map_err(|e| StartError::Tls(format!("{}: {e}", tls.cert_path.display())))?;
                let key = std::fs::read(&tls.key_path)
                    .map_err(|e| StartError::Tls(format!("{}: {e}", tls.key_path.display())))?;
                Some(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
            }
        };
        let payments = Payments::new(Setup {
            store,
            networks,
            clock: Arc::clone(&clock),
            merchants,
            limits: config.limits,
            compliance,
            cutoffs: cutoffs(&config)?,
            instance_name: config.instance_name(),
            fx: config.fx.load_book().map_err(|e| {
                StartError::Config(crate::config::ConfigError::Invalid(format!("fx: {e}")))
            })?,
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        Ok(Self {
            listener,
            local_addr,
            payments,
            auth,
            tls,
            request_bytes_max: config.limits.request_bytes_max,
            audit,
            settlement,
            gateway,
            clock,
            codes,
        })
    }

    /// The auditor listener's address, when `[audit] listen` is set.
    pub fn auditor_addr(&self) -> Option<SocketAddr> {
        self.audit.as_ref().and_then(|a| a.local_addr())
    }

    /// The partner gateway's address, when `[partner_gateway]` is set.
    pub fn partner_gateway_addr(&self) -> Option<SocketAddr> {
        self.gateway.as_ref().map(|g| g.local_addr())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn payments(&self) -> &Payments {
        &self.payments
    }

    /// Serves gRPC (acceptance, health, reflection) and runs recovery until `shutdown`.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), StartError> {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<AcceptanceServiceServer<AcceptanceApi>>()
            .await;
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(kakehashi_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| StartError::Serve(e.to_string()))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(kakehashi_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| StartError::Serve(e.to_string()))?;
        let api = AcceptanceApi::new(self.payments.clone()).with_codes(Arc::clone(&self.codes));
        let acceptance =
            AcceptanceServiceServer::new(api).max_decoding_message_size(self.request_bytes_max);
        let acceptance = AcceptanceEdge::new(acceptance, self.auth.clone());

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let recovery = {
            let payments = self.payments.clone();
            let stop_rx = stop_rx.clone();
            tokio::spawn(async move { payments.run_recovery(stop_rx).await })
        };
        let gateway = self.gateway.map(|gateway| {
            tokio::spawn(gateway.run(
                self.payments.clone(),
                Arc::clone(&self.clock),
                stop_rx.clone(),
            ))
        });
        let audit = self.audit.map(|audit| tokio::spawn(audit.run(stop_rx)));
        let mut builder = Server::builder()
            .timeout(RPC_TIMEOUT)
            .concurrency_limit_per_connection(CONCURRENCY_PER_CONNECTION);
        if let Some(tls) = self.tls {
            builder = builder
                .tls_config(tls)
                .map_err(|e| StartError::Tls(e.to_string()))?;
        }
        tracing::info!(addr = %self.local_addr, "Kakehashi serving");
        let result = builder
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(acceptance)
            .add_service(self.settlement)
            .serve_with_incoming_shutdown(crate::switch::incoming(self.listener), shutdown)
            .await
            .map_err(|e| StartError::Serve(e.to_string()));
        let _ = stop_tx.send(true);
        let _ = recovery.await;
        if let Some(audit) = audit
            && let Ok(Err(e)) = audit.await
        {
            tracing::error!(error = %e, "Auditor listener failed");
        }
        if let Some(gateway) = gateway
            && let Ok(Err(e)) = gateway.await
        {
            tracing::error!(error = %e, "Partner gateway failed");
        }
        result
    }
}

fn merchant_rows(config: &Config) -> Vec<MerchantRow> {
    config
        .merchants
        .iter()
        .map(|m| MerchantRow {
            merchant_id: m.id.clone(),
            name: m.name.clone(),
            category_code: m.category_code.clone(),
        })
        .collect()
}

fn terminal_rows(config: &Config) -> Vec<TerminalRow> {
    config
        .terminals
        .iter()
        .map(|t| TerminalRow {
            terminal_id: t.id.clone(),
            merchant_id: t.merchant_id.clone(),
            store_id: t.store_id.clone(),
        })
        .collect()
}

/// Each settled network's business-day cut-off, from `[settlement]`.
fn cutoffs(
    config: &Config,
) -> Result<std::collections::BTreeMap<String, crate::settlement::Cutoff>, StartError> {
    let Some(settlement) = &config.settlement else {
        return Ok(Default::default());
    };
    let setup = settlement
        .build()
        .map_err(|e| StartError::Config(crate::config::ConfigError::Invalid(e.to_string())))?;
    Ok(setup
        .networks
        .into_iter()
        .map(|(id, rules)| (id, rules.cutoff))
        .collect())
}

/// The connections a tonic server accepts from `listener`, with TCP_NODELAY. tonic sets it
/// only on an address it binds itself; without it, a reply written in pieces (headers, then
/// the message and trailers) waits for the client's delayed ACK, about 40 ms on Linux.
pub(crate) fn incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}
