//! The contract between the switch and a wallet network.
//!
//! The switch knows networks only through these types: an adapter crate implements
//! [`WalletNetwork`] (speak the network's protocol) and [`NetworkFactory`] (build the adapter
//! from its config table, start its simulator). Nothing here knows the store, the gRPC API or
//! any particular network, so adding a network never edits this crate or the switch.
#![forbid(unsafe_code)]

pub mod clock;
pub mod code;
pub mod config_error;
pub mod factory;
pub mod http;
pub mod money;
pub mod network;
pub mod outcome;
pub mod recon;
pub mod request;
pub mod sim_control;
pub mod sim_server;
pub mod simkit;
pub mod wiretap;

pub use clock::{Clock, ManualClock, SystemClock};
pub use code::{CodePattern, PaymentCode, PaymentCodeError, mask};
pub use config_error::describe_toml_error;
pub use factory::{NetworkFactory, RunningSimulator, SimulatorOptions};
pub use http::{HttpSettings, HttpVersion, RESPONSE_BYTES_MAX, read_body_limited};
pub use money::{Money, MoneyError};
pub use network::{Capabilities, NetworkProfile, Timing, WalletNetwork};
pub use outcome::{
    DeclineReason, MerchantQr, Paid, PayOutcome, RefundOutcome, ReverseOutcome, SettlementQuote,
    WalletAmount,
};
pub use request::{
    MerchantQrRequest, MerchantRef, PayRequest, QueryRequest, RefundRequest, ReverseRequest,
};
pub use sim_server::serve_simulator;

/// Errors building an adapter or simulator from configuration. Runtime failures on the wire
/// are not errors: they are [`PayOutcome::Unknown`] and friends.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("invalid configuration for network `{network}`: {detail}")]
    Config { network: String, detail: String },
    #[error("operation `{operation}` is not supported by network `{network}`")]
    Unsupported {
        network: String,
        operation: &'static str,
    },
    #[error("simulator failed to start: {0}")]
    Simulator(String),
    /// The network refused the request.
    #[error("network `{network}`: {detail}")]
    Network { network: String, detail: String },
    /// The network gave no usable answer (timeout, 5xx, garbled): it may have acted.
    #[error("network `{network}` gave no answer: {detail}")]
    NoAnswer { network: String, detail: String },
}
