//! WeChat Pay overseas v2 (XML) in institutional mode: Quick Pay (`micropay` with the
//! customer's `auth_code`), `orderquery`, `reverse` (with `recall`), `refund` and
//! `refundquery`, MD5 / HMAC-SHA256 signing, client-certificate TLS on `/secapi/`; and a
//! simulator that enforces the same, including a customer slow to enter the PIN.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod recon;
pub mod sign;
pub mod sim;
pub mod translate;
pub mod xml;

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use kakehashi_adapter_core::recon::ReconFormat;
use kakehashi_adapter_core::{
    AdapterError, Clock, NetworkFactory, RunningSimulator, SimulatorOptions, WalletNetwork,
};

pub use client::WeChatPay;
pub use config::Config;
pub use sim::{Operation, SimControl};

pub const NETWORK_ID: &str = "wechatpay";

/// Registers WeChat Pay with the switch (called by the switch's generated registry).
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
        Ok(Arc::new(WeChatPay::new(
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
