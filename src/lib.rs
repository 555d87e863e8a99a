//! Kakehashi (架け橋, "bridge"): a payment interoperability switch. A merchant terminal
//! integrates once with the gRPC acceptance API; the switch identifies the wallet network
//! from the scanned code, speaks that network's protocol through its adapter, and keeps a
//! durable, idempotent record of every payment.
//!
//! Dependencies point one way: `api -> payments -> (routing, store, networks)`, and the
//! switch knows wallet networks only through `kakehashi_adapter_core`.
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod config;
pub mod demo;

pub mod bench;
pub mod domain;
pub mod fx;
pub mod gateway;
pub mod networks;
pub mod payments;
pub mod qr;
pub mod routing;
pub mod settlement;
pub mod soak;
pub mod store;
pub mod switch;
pub mod telemetry;
pub mod terminal;

pub use config::Config;
pub use switch::Switch;
