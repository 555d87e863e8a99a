//! PayPay Open Payment API (OPA): dynamic QR codes the customer scans (merchant-presented),
//! payment details, cancel and asynchronous refunds, with `hmac OPA-Auth` signing; and a
//! simulator that enforces the same protocol.
//!
//! **Kakehashi extension, not PayPay's API:** PayPay publishes no customer-presented-code
//! (merchant-scan) payment. So that a till can still scan a PayPay code against the
//! simulator, the adapter's `pay` calls `POST /kakehashi-extension/v2/payments/scan`, a
//! Kakehashi-only endpoint the simulator serves with OPA signing and envelopes. A real
//! integration needs PayPay's non-public merchant-scan specification before going live.
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

pub use client::PayPay;
pub use config::Config;
pub use sim::{Operation, SimControl};

pub const NETWORK_ID: &str = "paypay";

/// Registers PayPay with the switch (called by the switch's generated registry).
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
        Ok(Arc::new(PayPay::new(Config::from_table(config)?, clock)?))
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
