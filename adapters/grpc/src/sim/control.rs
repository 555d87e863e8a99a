//! The reference partner in the shared control language: wallets in the partner's own
//! currency (or a merchant's), codes with its prefix, the customer at a merchant QR, faults
//! on its gRPC operations (`get_profile` only when named), its books. No extra controls.
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    NewWallet, SimError, SimInfo, SimState, SimWallet, SimulatorControl, operation_names,
    supported_wallets,
};
use kakehashi_adapter_core::simkit::{Fault, Faults};
use kakehashi_adapter_core::{Money, PayOutcome, ReverseOutcome};

use super::{CODE_VALID_MS, OPERATIONS, Operation, Partner};

// === impl Partner ===

impl Partner {
    fn kinds(&self) -> Vec<(Option<&'static str>, Currency, ())> {
        self.books()
            .wallet_currencies()
            .into_iter()
            .map(|c| (None, c, ()))
            .collect()
    }
}

impl SimulatorControl for Partner {
    type Operation = Operation;

    fn network(&self) -> &'static str {
        self.network
    }

    fn info(&self) -> SimInfo {
        SimInfo {
            network: self.network.into(),
            wallets: supported_wallets(&self.kinds()),
            customer_confirms: true,
            merchant_qr: true,
            code_valid_ms: CODE_VALID_MS,
            fault_operations: operation_names(&OPERATIONS),
            extras: Vec::new(),
        }
    }

    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError> {
        wallet.pick(self.network, &self.kinds())?;
        let confirm_ms = wallet.confirm_ms_for(self.network, true)?;
        self.books()
            .add_wallet(&wallet.id, wallet.balance, confirm_ms)
    }

    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        self.books().issue_code(wallet_id, now)
    }

    fn pay_qr(&self, qr: &str, wallet_id: &str) -> Result<(), SimError> {
        let now = self.now_ms();
        self.books().pay_qr(qr, wallet_id, now)
    }

    fn abandon_qr(&self, qr: &str) -> Result<(), SimError> {
        self.books().abandon_qr(qr)
    }

    fn faults(&self) -> &Faults<Operation> {
        &self.faults
    }

    fn inject(&self, operation: Option<Operation>, fault: Fault, times: Option<u32>) {
        match operation {
            Some(Operation::GetProfile) => self.profile_faults.inject(operation, fault, times),
            _ => self.faults.inject(operation, fault, times),
        }
    }

    fn clear_faults(&self) {
        self.faults.clear();
        self.profile_faults.clear();
    }

    fn state(&self) -> SimState {
        let now = self.now_ms();
        self.books().state(self.network, now)
    }
}

/// The partner's side of a static merchant code: its app charges the customer, then the
/// partner tells the switch with `PayMerchantCode` (the demo and tests play that call).
impl Partner {
    /// Charges wallet `wallet_id` for `amount` at `merchant_id` (as the switch resolved the
    /// code): the partner's payment id and what became of the charge.
    pub fn charge_presented(
        &self,
        wallet_id: &str,
        merchant_id: &str,
        amount: Money,
    ) -> Result<(String, PayOutcome), String> {
        let now = self.now_ms();
        self.books()
            .charge_presented(wallet_id, merchant_id, amount, now)
            .map_err(|e| e.to_string())
    }

    /// Gives a presented-code charge back in full: the switch refused the payment.
    pub fn give_back(&self, payment_id: &str, amount: &Money) -> Result<ReverseOutcome, String> {
        let now = self.now_ms();
        self.books()
            .reverse(payment_id, amount, now)
            .map_err(|e| e.to_string())
    }
}
