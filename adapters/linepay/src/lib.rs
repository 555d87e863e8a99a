//! LINE Pay Offline API v4 ("MyCode" / oneTimeKey payments): the adapter the switch uses and
//! a simulator that enforces the same protocol.
//!
//! LINE Pay Japan closed in April 2025; the API still serves Taiwan (TWD) and Thailand
//! (THB). JPY is accepted by the simulator as the Japanese service did, so a Japanese till
//! can rehearse against it; a JPY production channel no longer exists.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod recon;
pub mod sign;
pub mod sim;
pub mod translate;
pub mod wire;

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use kakehashi_adapter_core::recon::ReconFormat;
use kakehashi_adapter_core::{
    AdapterError, Clock, NetworkFactory, RunningSimulator, SimulatorOptions, WalletNetwork,
};

pub use client::LinePay;
pub use config::Config;
pub use sim::{Fault, Operation, SimControl};

pub const NETWORK_ID: &str = "linepay";

/// Registers LINE Pay with the switch (called by the switch's generated registry).
pub fn factory() -> Arc<dyn NetworkFactory> {
    Arc::new(Factory)
}

struct Factory;

impl NetworkFactory for Factory {
    fn kind(&self) -> &'static str {
        NETWORK_ID
    }

    fn build(
        &self,
        config: &toml::Table,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn WalletNetwork>, AdapterError> {
        let config = Config::from_table(config)?;
        Ok(Arc::new(LinePay::new(config, clock)?))
    }

    fn spawn_simulator(
        &self,
        options: SimulatorOptions,
    ) -> BoxFuture<'static, Result<RunningSimulator, AdapterError>> {
        sim::spawn(options).boxed()
    }

    fn recon_format(&self) -> Option<ReconFormat> {
        Some(recon::FORMAT)
    }
}
