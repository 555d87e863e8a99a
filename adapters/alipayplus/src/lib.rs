//! Alipay+ as an acquirer (ACQP) sees it, for user-presented codes: `pay`,
//! `inquiryPayment`, `cancelPayment`, `refund`, with RSA256 request signatures and verified
//! response signatures; code identification by Alipay+'s code rules and CGCP routing
//! numbers; and a simulator with several member wallets in their own currencies.
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

pub use client::AlipayPlus;
pub use config::Config;
pub use sim::{Operation, SimControl};

pub const NETWORK_ID: &str = "alipayplus";

/// Registers Alipay+ with the switch (called by the switch's generated registry).
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
        Ok(Arc::new(AlipayPlus::new(
            Config::from_table(config)?,
            clock,
        )?))
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
