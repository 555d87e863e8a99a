//! One control language for every network simulator: the `/_sim/` HTTP API (wallets,
//! codes, the customer at a merchant QR, faults, the books) and the typed trait behind it.
//!
//! A simulator implements [`SimulatorControl`]; [`router`] serves it under `/_sim/`, beside
//! the simulator's own network paths, with any network-specific extras the simulator adds.
//! The API is documented once, in `docs/simulators.md`.
mod amount;
mod routes;
mod types;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::simkit::{Fault, Faults};

pub use amount::{Amount, AmountError};
pub use routes::{CONTROL_BODY_BYTES_MAX, ControlBody, router};
pub use types::{
    Extras, NewWallet, PaymentStatus, RefundStatus, SimError, SimInfo, SimPayment, SimRefund,
    SimState, SimWallet, SupportedWallet, extras, supported_wallets,
};

/// What every simulator lets a test or an integrator do to it. Methods take `&self`: the
/// simulator's books sit behind its own locks, shared with its network routes.
pub trait SimulatorControl: Send + Sync + 'static {
    /// The network operations a fault can target, named as `POST /_sim/faults` takes them.
    type Operation: Copy + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The network id, as in `[networks.<id>]`.
    fn network(&self) -> &'static str;

    /// What this simulator offers (`GET /_sim`).
    fn info(&self) -> SimInfo;

    /// Adds a wallet, or resets the one with this id.
    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError>;

    /// A fresh payment code for the wallet, as the customer's phone would show it.
    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError>;

    /// The customer scans the merchant-presented QR (by its payload, or the network's id
    /// for it) and pays from the wallet.
    fn pay_qr(&self, qr: &str, wallet_id: &str) -> Result<(), SimError> {
        let _ = (qr, wallet_id);
        Err(no_merchant_qr(self.network()))
    }

    /// The customer walks away from the QR: it stays unpaid until it expires or the
    /// merchant closes it.
    fn abandon_qr(&self, qr: &str) -> Result<(), SimError> {
        let _ = qr;
        Err(no_merchant_qr(self.network()))
    }

    /// The simulator's fault rules, matched against each network request.
    fn faults(&self) -> &Faults<Self::Operation>;

    /// Injects `fault` for one operation (`None`: all) for `times` requests (`None`: until
    /// cleared).
    fn inject(&self, operation: Option<Self::Operation>, fault: Fault, times: Option<u32>) {
        self.faults().inject(operation, fault, times);
    }

    fn clear_faults(&self) {
        self.faults().clear();
    }

    /// The books: wallets, payments, refunds.
    fn state(&self) -> SimState;

    /// One wallet as the books hold it.
    fn wallet(&self, id: &str) -> Option<SimWallet> {
        self.state().wallets.into_iter().find(|w| w.id == id)
    }
}

fn no_merchant_qr(network: &str) -> SimError {
    SimError::Unsupported(format!(
        "{network} has no merchant-presented QR; its customers present codes"
    ))
}

/// The names of `operations` as `POST /_sim/faults` takes them, for [`SimInfo`].
pub fn operation_names<O: Serialize>(operations: &[O]) -> Vec<String> {
    operations
        .iter()
        .filter_map(|o| match serde_json::to_value(o) {
            Ok(serde_json::Value::String(name)) => Some(name),
            _ => None,
        })
        .collect()
}
