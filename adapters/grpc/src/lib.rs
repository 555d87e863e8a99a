//! Any wallet network that speaks `kakehashi.v1.WalletNetworkService`
//! (proto/kakehashi/v1/wallet_network.proto), joined by configuration alone, and the
//! reference partner that speaks it (`kakehashi sim grpc-wallet`).
//!
//! Several `[networks.<id>]` tables may use this adapter (`adapter = "grpc"`), each with its
//! own endpoint: the table's id is the network's id. The partner's profile (code patterns,
//! currencies, capabilities, timing) is fetched with `GetProfile` when the switch starts,
//! or given in the table, and checked either way before the switch trusts it.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod limits;
pub mod profile;
pub mod sim;
pub mod status;
pub mod tls;
pub mod translate;

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use kakehashi_adapter_core::{
    AdapterError, Clock, NetworkFactory, RunningSimulator, SimulatorOptions, WalletNetwork,
};

pub use client::GrpcWallet;
pub use config::Config;
pub use sim::{Operation, Partner, SimSettings};

/// The adapter's kind: `adapter = "grpc"` in a network table, or `[networks.grpc]`.
pub const ADAPTER_KIND: &str = "grpc";
/// `kakehashi sim grpc-wallet`: the reference partner.
pub const SIMULATOR_NAME: &str = "grpc-wallet";

/// Registers the adapter with the switch (called by the switch's generated registry).
pub fn factory() -> Arc<dyn NetworkFactory> {
    Arc::new(Factory)
}

struct Factory;

impl NetworkFactory for Factory {
    fn kind(&self) -> &'static str {
        ADAPTER_KIND
    }

    /// Without a table id the network is `grpc` (a `[networks.grpc]` table).
    fn build(
        &self,
        config: &toml::Table,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn WalletNetwork>, AdapterError> {
        self.build_network(ADAPTER_KIND, config, clock)
    }

    fn build_network(
        &self,
        id: &str,
        config: &toml::Table,
        _clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn WalletNetwork>, AdapterError> {
        let settings = Config::from_table(id, config)?;
        Ok(Arc::new(GrpcWallet::connect(id, settings)?))
    }

    fn spawn_simulator(
        &self,
        options: SimulatorOptions,
    ) -> BoxFuture<'static, Result<RunningSimulator, AdapterError>> {
        sim::spawn(options, SimSettings::default()).boxed()
    }

    fn simulator_name(&self) -> &'static str {
        SIMULATOR_NAME
    }

    fn spawn_simulator_with(
        &self,
        options: SimulatorOptions,
        settings: &toml::Table,
    ) -> BoxFuture<'static, Result<RunningSimulator, AdapterError>> {
        match SimSettings::from_table(settings) {
            Ok(settings) => sim::spawn(options, settings).boxed(),
            Err(e) => futures::future::ready(Err(e)).boxed(),
        }
    }
}
