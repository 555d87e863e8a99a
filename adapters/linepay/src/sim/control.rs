//! LINE Pay in the shared control language. Wallets have no kinds: the balance's currency
//! picks the region (JPY, TWD or THB channel) and with it the MyCode format. Customers never
//! confirm in the app, and there are no merchant QRs. The one extra control is
//! `POST /_sim/recon-file` (the day's transaction list).
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    NewWallet, SimError, SimInfo, SimState, SimWallet, SimulatorControl, operation_names,
    supported_wallets,
};
use kakehashi_adapter_core::simkit::Faults;

use super::{ONE_TIME_KEY_TTL_MS, Operation, SimControl};
use crate::NETWORK_ID;

const OPERATIONS: [Operation; 4] = [
    Operation::Pay,
    Operation::Check,
    Operation::Void,
    Operation::Refund,
];

// === impl SimControl ===

impl SimControl {
    fn kinds(&self) -> Vec<(Option<&'static str>, Currency, Currency)> {
        self.channels
            .iter()
            .map(|c| (None, c.currency, c.currency))
            .collect()
    }
}

impl SimulatorControl for SimControl {
    type Operation = Operation;

    fn network(&self) -> &'static str {
        NETWORK_ID
    }

    fn info(&self) -> SimInfo {
        SimInfo {
            network: NETWORK_ID.into(),
            wallets: supported_wallets(&self.kinds()),
            customer_confirms: false,
            merchant_qr: false,
            code_valid_ms: ONE_TIME_KEY_TTL_MS,
            fault_operations: operation_names(&OPERATIONS),
            extras: vec!["POST /_sim/recon-file".into()],
        }
    }

    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError> {
        let currency = wallet.pick(NETWORK_ID, &self.kinds())?;
        wallet.confirm_ms_for(NETWORK_ID, false)?;
        self.ledger()
            .add_wallet(&wallet.id, currency, wallet.balance.decimal())?;
        Ok(SimWallet {
            id: wallet.id.clone(),
            kind: None,
            balance: wallet.balance,
        })
    }

    /// A one-time key in the wallet's region's MyCode format, valid 5 minutes.
    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        self.ledger().issue_code(wallet_id, now)
    }

    fn faults(&self) -> &Faults<Operation> {
        &self.faults
    }

    fn state(&self) -> SimState {
        self.ledger().state(NETWORK_ID)
    }
}
