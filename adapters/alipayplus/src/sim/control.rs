//! Alipay+ in the shared control language. Wallet kinds are the member wallets' brands:
//! `AlipayCN` (CNY), `AlipayHK` (HKD), `KakaoPay` (KRW), `TrueMoney` (THB), each issuing
//! codes in its own format; `confirm_ms` is the customer confirming in the wallet app.
//! Extras: replies signed with the wrong key, to rehearse a forged or misconfigured network;
//! the day's Transaction Detail Report (`POST /_sim/recon-file`).
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    ControlBody, NewWallet, SimError, SimInfo, SimState, SimWallet, SimulatorControl,
    operation_names, supported_wallets,
};
use kakehashi_adapter_core::simkit::Faults;
use serde::Deserialize;

use super::books::{CODE_VALID_MS, Member};
use super::{Operation, SimControl};
use crate::NETWORK_ID;

/// Wrongly signed replies one control request may ask for.
const BAD_SIGNATURES_MAX: u32 = 1_000;

const OPERATIONS: [Operation; 4] = [
    Operation::Pay,
    Operation::Inquiry,
    Operation::Cancel,
    Operation::Refund,
];

fn kinds() -> Vec<(Option<&'static str>, Currency, Member)> {
    Member::ALL
        .iter()
        .map(|m| (Some(m.brand()), m.currency(), *m))
        .collect()
}

impl SimulatorControl for SimControl {
    type Operation = Operation;

    fn network(&self) -> &'static str {
        NETWORK_ID
    }

    fn info(&self) -> SimInfo {
        SimInfo {
            network: NETWORK_ID.into(),
            wallets: supported_wallets(&kinds()),
            customer_confirms: true,
            merchant_qr: false,
            code_valid_ms: CODE_VALID_MS,
            fault_operations: operation_names(&OPERATIONS),
            extras: vec![
                "POST /_sim/bad-reply-signatures".into(),
                "POST /_sim/recon-file".into(),
            ],
        }
    }

    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError> {
        let member = wallet.pick(NETWORK_ID, &kinds())?;
        let confirm_ms = wallet.confirm_ms_for(NETWORK_ID, true)?;
        self.books()
            .add_wallet(&wallet.id, member, wallet.balance.minor(), confirm_ms)?;
        Ok(SimWallet {
            id: wallet.id.clone(),
            kind: Some(member.brand().to_owned()),
            balance: wallet.balance,
        })
    }

    /// A fresh code in the member wallet's own format (legacy 18-digit `28…` for
    /// AlipayCN/AlipayHK, 24-digit CGCP codes with the routing number for the others).
    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        self.books().issue_code(wallet_id, now)
    }

    fn faults(&self) -> &Faults<Operation> {
        &self.faults
    }

    /// Clears the fault rules and any wrongly signed replies still to come.
    fn clear_faults(&self) {
        self.faults.clear();
        self.sign_replies_wrongly(0);
    }

    fn state(&self) -> SimState {
        let now = self.now_ms();
        self.books().state(NETWORK_ID, now)
    }
}

/// Alipay+'s extra controls, under `/_sim`.
pub(super) fn extras() -> Router<Arc<SimControl>> {
    Router::new()
        .route("/bad-reply-signatures", post(bad_reply_signatures))
        .route("/recon-file", post(super::recon::recon_file))
}

/// `{"count": 2}`: the next two replies carry a signature the acquirer cannot verify.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BadSignatures {
    count: u32,
}

async fn bad_reply_signatures(
    State(sim): State<Arc<SimControl>>,
    ControlBody(body): ControlBody<BadSignatures>,
) -> Result<StatusCode, SimError> {
    if body.count > BAD_SIGNATURES_MAX {
        return Err(SimError::Invalid(format!(
            "count must be at most {BAD_SIGNATURES_MAX}"
        )));
    }
    sim.sign_replies_wrongly(body.count);
    Ok(StatusCode::NO_CONTENT)
}
