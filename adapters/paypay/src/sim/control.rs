//! PayPay in the shared control language. Wallets hold yen and have no kinds; codes are
//! the Kakehashi extension's 24-digit customer codes; the customer at a shown dynamic QR
//! finds it by its payload (`https://qr.paypay.ne.jp/<codeId>` or the deep link) or by its
//! `codeId`, as a phone would, never by the merchant's payment id. One extra control: the
//! day's 突合ファイル (`POST /_sim/recon-file`).
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    NewWallet, SimError, SimInfo, SimState, SimWallet, SimulatorControl, operation_names,
    supported_wallets,
};
use kakehashi_adapter_core::simkit::Faults;

use super::{CUSTOMER_CODE_VALID_MS, Operation, SimControl};
use crate::NETWORK_ID;

const KINDS: [(Option<&str>, Currency, ()); 1] = [(None, Currency::JPY, ())];

const OPERATIONS: [Operation; 6] = [
    Operation::CreateQr,
    Operation::Scan,
    Operation::Details,
    Operation::Cancel,
    Operation::Refund,
    Operation::RefundDetails,
];

// === impl SimControl ===

impl SimControl {
    fn qr_payment(&self, qr: &str) -> Result<String, SimError> {
        self.books().payment_for_qr(qr).ok_or_else(|| {
            SimError::NotFound(format!(
                "no PayPay QR with payload or codeId `{}`",
                qr.chars().take(80).collect::<String>()
            ))
        })
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
            wallets: supported_wallets(&KINDS),
            customer_confirms: false,
            merchant_qr: true,
            code_valid_ms: CUSTOMER_CODE_VALID_MS,
            fault_operations: operation_names(&OPERATIONS),
            extras: vec!["POST /_sim/recon-file".into()],
        }
    }

    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError> {
        wallet.pick(NETWORK_ID, &KINDS)?;
        wallet.confirm_ms_for(NETWORK_ID, false)?;
        self.books()
            .add_wallet(&wallet.id, wallet.balance.minor())?;
        Ok(SimWallet {
            id: wallet.id.clone(),
            kind: None,
            balance: wallet.balance,
        })
    }

    /// Kakehashi extension: a 24-digit customer code (prefix 9000818188), single use, valid
    /// 5 minutes. PayPay publishes no customer-presented-code API.
    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        self.books().issue_code(wallet_id, now)
    }

    fn pay_qr(&self, qr: &str, wallet_id: &str) -> Result<(), SimError> {
        let id = self.qr_payment(qr)?;
        let now = self.now_ms();
        self.books().customer_pays(&id, wallet_id, now)
    }

    /// The QR stays CREATED (PayPay is not told) until it expires or the merchant deletes
    /// it; this customer will not pay it.
    fn abandon_qr(&self, qr: &str) -> Result<(), SimError> {
        let id = self.qr_payment(qr)?;
        let now = self.now_ms();
        self.books().customer_abandons(&id, now)
    }

    fn faults(&self) -> &Faults<Operation> {
        &self.faults
    }

    fn state(&self) -> SimState {
        let now = self.now_ms();
        self.books().state(NETWORK_ID, now)
    }
}
