//! `POST /_sim/recon-file`: the day's Transaction Detail Report (`crate::recon`), as Alipay+
//! would put it on its SFTP server for the acquirer.
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use iso_currency::Currency;
use kakehashi_adapter_core::recon::{self, ReconFileRequest};
use kakehashi_adapter_core::sim_control::{ControlBody, SimError, SimulatorControl};

use super::SimControl;
use crate::recon::FileName;

/// The acquirer's participant id and settlement agreement in the simulator's file names
/// (Alipay+ assigns them at onboarding).
pub const SIM_PARTICIPANT_ID: &str = "1022180000000001";
pub const SIM_AGREEMENT_ID: &str = "PA0000000000000001";

/// `{"date": "2026-12-01", "seeds": ["fx"], "fee_rate": "0.0245"}`: the report, named as
/// Alipay+ names it.
pub(super) async fn recon_file(
    State(sim): State<Arc<SimControl>>,
    ControlBody(body): ControlBody<ReconFileRequest>,
) -> Result<Response, SimError> {
    let (name, bytes) = sim.recon_report(&body)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=UTF-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// === impl SimControl ===

impl SimControl {
    /// The day's report with `request.seeds` planted (see
    /// `kakehashi_adapter_core::recon::seed`; `fx` moves a settlement amount, the report
    /// having no wallet amounts).
    pub fn recon_file(&self, request: &ReconFileRequest) -> Result<Vec<u8>, SimError> {
        self.recon_report(request).map(|(_, bytes)| bytes)
    }

    /// The report and its file name. It is for one settlement currency, that of the day's
    /// quoted payments (yen when none was converted); lines settled in another currency
    /// belong to that currency's report and are left out.
    pub fn recon_report(
        &self,
        request: &ReconFileRequest,
    ) -> Result<(FileName, Vec<u8>), SimError> {
        let day = request.compact_date()?;
        let mut lines = recon::lines_from_state(&self.state(), request.fee_rate);
        for line in &mut lines {
            // The acquirer's report states what Alipay+ settles, not what the wallet charged.
            line.wallet_amount = None;
        }
        self.books().add_settlements(&mut lines);
        let currency = lines
            .iter()
            .find_map(|l| l.settlement.as_ref().map(|s| s.amount.currency()))
            .unwrap_or(Currency::JPY);
        lines.retain(|l| {
            let settles_in = l
                .settlement
                .as_ref()
                .map_or(l.amount.currency(), |s| s.amount.currency());
            settles_in == currency
        });
        recon::seed(&mut lines, &request.seeds)?;
        let name = FileName {
            participant_id: SIM_PARTICIPANT_ID.into(),
            settlement_currency: currency,
            clearing_batch_id: day,
            participant_agreement_id: SIM_AGREEMENT_ID.into(),
            seq: 0,
        };
        let bytes = crate::recon::write_file(&request.date, currency, &lines);
        Ok((name, bytes))
    }
}
