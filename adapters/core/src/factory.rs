//! How the switch discovers networks: each adapter crate exports one [`NetworkFactory`].
//! The switch's build script collects them from its dependency list, so there is no central
//! match to edit when a network is added.
use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::recon::{ReconFormat, ReconLine};
use crate::{AdapterError, Clock, WalletNetwork};

pub trait NetworkFactory: Send + Sync {
    /// The network id used as the config key, e.g. "linepay".
    fn kind(&self) -> &'static str;

    /// Builds the adapter from its config table (endpoint, credentials, timeouts). Fails on
    /// anything missing or malformed, naming the field.
    fn build(
        &self,
        config: &toml::Table,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn WalletNetwork>, AdapterError>;

    /// Builds the adapter for the network configured as `[networks.<id>]`. An adapter that
    /// several tables may use (`adapter = "grpc"` with different endpoints) needs the id: it
    /// is the network's id in the profile. Adapters for one network ignore it.
    fn build_network(
        &self,
        id: &str,
        config: &toml::Table,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn WalletNetwork>, AdapterError> {
        let _ = id;
        self.build(config, clock)
    }

    /// Starts this network's simulator (an HTTP server speaking the real protocol) and
    /// returns the config that points an adapter at it.
    fn spawn_simulator(
        &self,
        options: SimulatorOptions,
    ) -> BoxFuture<'static, Result<RunningSimulator, AdapterError>>;

    /// The name `kakehashi sim <name>` knows the simulator by; the kind unless the
    /// simulator is more than one network (the reference gRPC partner is `grpc-wallet`).
    fn simulator_name(&self) -> &'static str {
        self.kind()
    }

    /// Starts the simulator with its own settings (`kakehashi sim grpc-wallet --network
    /// kpay`): a simulator that takes none refuses any.
    fn spawn_simulator_with(
        &self,
        options: SimulatorOptions,
        settings: &toml::Table,
    ) -> BoxFuture<'static, Result<RunningSimulator, AdapterError>> {
        if let Some(key) = settings.keys().next() {
            let refusal = AdapterError::Simulator(format!(
                "the {} simulator takes no settings (got `{key}`)",
                self.simulator_name()
            ));
            return Box::pin(async move { Err(refusal) });
        }
        self.spawn_simulator(options)
    }

    /// The network's daily reconciliation file format (its settlement or transaction file),
    /// where it has one. `None` by default: a network whose file format is not written (or
    /// that has none, like a partner speaking `WalletNetworkService`) is refused by
    /// `kakehashi reconcile`, which lists the formats the build knows.
    fn recon_format(&self) -> Option<ReconFormat> {
        None
    }

    /// Parses `bytes` as this network's reconciliation file; `None` when it has no format.
    fn parse_recon_file(&self, bytes: &[u8]) -> Option<Result<Vec<ReconLine>, String>> {
        self.recon_format().map(|format| (format.parse)(bytes))
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    pub bind: SocketAddr,
    /// Decides every random choice the simulator makes, so a failing run replays.
    pub seed: u64,
    pub clock: Arc<dyn Clock>,
}

/// A simulator serving in the background; dropping it stops the server.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    /// Base URL the adapter should use, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// The adapter config table (endpoint and credentials) that talks to this simulator.
    pub adapter_config: toml::Table,
    /// A merchant id the simulator knows, for the switch's `network_ids.<network>` (WeChat
    /// Pay's `sub_mch_id`); `None` where the network needs none or takes any.
    pub merchant_network_id: Option<String>,
    /// The simulator's typed control handle; downcast it to the adapter crate's own type,
    /// which implements [`SimulatorControl`](crate::sim_control::SimulatorControl).
    pub control: Arc<dyn Any + Send + Sync>,
    pub task: tokio::task::JoinHandle<()>,
}

// === impl RunningSimulator ===

impl RunningSimulator {
    pub fn control<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.control).downcast::<T>().ok()
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("base_url", &self.base_url)
            .finish()
    }
}
