//! WeChat Pay in the shared control language. Wallet kinds: `mainland` (CNY, codes 13…)
//! and `hong_kong` (HKD, codes 15…); `confirm_ms` is the customer entering the PIN. Extras:
//! the day's CNY refund pool, the reverse window, and the institution's sub-merchants.
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, ControlBody, NewWallet, SimError, SimInfo, SimState, SimWallet, SimulatorControl,
    operation_names, supported_wallets,
};
use kakehashi_adapter_core::simkit::Faults;
use serde::Deserialize;

use super::books::{ReverseWindow, WalletKind};
use super::{AUTH_CODE_VALID_MS, Operation, SimControl};
use crate::NETWORK_ID;

const KINDS: [(Option<&str>, Currency, WalletKind); 2] = [
    (Some("mainland"), Currency::CNY, WalletKind::Mainland),
    (Some("hong_kong"), Currency::HKD, WalletKind::HongKong),
];

const OPERATIONS: [Operation; 5] = [
    Operation::Micropay,
    Operation::OrderQuery,
    Operation::Reverse,
    Operation::Refund,
    Operation::RefundQuery,
];

impl SimulatorControl for SimControl {
    type Operation = Operation;

    fn network(&self) -> &'static str {
        NETWORK_ID
    }

    fn info(&self) -> SimInfo {
        SimInfo {
            network: NETWORK_ID.into(),
            wallets: supported_wallets(&KINDS),
            customer_confirms: true,
            merchant_qr: false,
            code_valid_ms: AUTH_CODE_VALID_MS,
            fault_operations: operation_names(&OPERATIONS),
            extras: [
                "POST /_sim/refund-pool",
                "POST /_sim/reverse-window",
                "POST /_sim/sub-merchants",
                "POST /_sim/recon-file",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }

    fn add_wallet(&self, wallet: &NewWallet) -> Result<SimWallet, SimError> {
        let kind = wallet.pick(NETWORK_ID, &KINDS)?;
        let pin_entry_ms = wallet.confirm_ms_for(NETWORK_ID, true)?;
        self.books()
            .add_wallet(&wallet.id, kind, wallet.balance.minor(), pin_entry_ms)?;
        Ok(SimWallet {
            id: wallet.id.clone(),
            kind: Some(kind.as_str().to_owned()),
            balance: wallet.balance,
        })
    }

    /// A fresh 18-digit payment code (prefix 13 mainland, 15 Hong Kong), valid a minute.
    fn issue_code(&self, wallet_id: &str) -> Result<String, SimError> {
        let now = self.now_ms();
        self.books().issue_code(wallet_id, now)
    }

    fn faults(&self) -> &Faults<Operation> {
        &self.faults
    }

    fn state(&self) -> SimState {
        let now = self.now_ms();
        let mut state = self.books().state(NETWORK_ID, now);
        let sub_merchants: Vec<String> = self
            .sub_merchants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        state
            .extras
            .insert("sub_merchants".into(), sub_merchants.into());
        state
    }
}

/// WeChat Pay's extra controls, under `/_sim`.
pub(super) fn extras() -> Router<Arc<SimControl>> {
    Router::new()
        .route("/refund-pool", post(set_refund_pool))
        .route("/reverse-window", post(set_reverse_window))
        .route("/sub-merchants", post(add_sub_merchant))
        .route("/recon-file", post(recon_file))
}

/// `POST /_sim/recon-file` `{"date": "2026-12-01", "seeds": ["amount"], "fee_rate": "0.006"}`:
/// the day's `downloadbill` (bill_type ALL) as WeChat Pay serves it, plain text.
async fn recon_file(
    State(sim): State<Arc<SimControl>>,
    ControlBody(body): ControlBody<kakehashi_adapter_core::recon::ReconFileRequest>,
) -> Result<Vec<u8>, SimError> {
    sim.recon_file(&body)
}

impl SimControl {
    /// The day's bill: every charged payment and completed refund in the books, with
    /// `request.seeds` planted (see `kakehashi_adapter_core::recon::seed`).
    pub fn recon_file(
        &self,
        request: &kakehashi_adapter_core::recon::ReconFileRequest,
    ) -> Result<Vec<u8>, SimError> {
        use kakehashi_adapter_core::recon;
        request.compact_date()?;
        let mut lines = recon::lines_from_state(&self.state(), request.fee_rate);
        recon::seed(&mut lines, &request.seeds)?;
        let header = crate::recon::BillHeader {
            appid: super::SIM_APPID,
            mch_id: super::SIM_MCH_ID,
            sub_mch_id: super::SIM_SUB_MCH_ID,
        };
        Ok(crate::recon::write_bill(&header, &request.date, &lines))
    }
}

/// `{"pool": {"value": "50.00", "currency": "CNY"}}` limits today's CNY refund pool;
/// `{"pool": null}` lifts the limit. `pool` must be given either way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundPool {
    #[serde(deserialize_with = "Option::deserialize")]
    pool: Option<Amount>,
}

async fn set_refund_pool(
    State(sim): State<Arc<SimControl>>,
    ControlBody(body): ControlBody<RefundPool>,
) -> Result<StatusCode, SimError> {
    let fen = match body.pool {
        Some(pool) if pool.currency() != Currency::CNY => {
            return Err(SimError::Invalid(format!(
                "the refund pool holds CNY, not {}",
                pool.currency_code()
            )));
        }
        Some(pool) => Some(pool.minor()),
        None => None,
    };
    sim.set_refund_pool(fen);
    Ok(StatusCode::NO_CONTENT)
}

/// `{"window": "same_day"}` or `{"window": "seven_days"}` (the default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Window {
    window: ReverseWindow,
}

async fn set_reverse_window(
    State(sim): State<Arc<SimControl>>,
    ControlBody(body): ControlBody<Window>,
) -> StatusCode {
    sim.set_reverse_window(body.window);
    StatusCode::NO_CONTENT
}

/// `{"id": "1900000110"}` registers a merchant (`sub_mch_id`) under the institution.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubMerchant {
    id: String,
}

async fn add_sub_merchant(
    State(sim): State<Arc<SimControl>>,
    ControlBody(merchant): ControlBody<SubMerchant>,
) -> Result<StatusCode, SimError> {
    sim.add_sub_merchant(&merchant.id)?;
    Ok(StatusCode::CREATED)
}
