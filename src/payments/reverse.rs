//! Reversing a payment: at its deadline unresolved, on the terminal's cancel, or again
//! after a late approval. Repeated until the network confirms, within the attempt limit;
//! a reversal the network refuses because its window has closed becomes a full refund.
use std::time::Duration;

use kakehashi_adapter_core::{PayOutcome, ReverseOutcome, ReverseRequest};
use tokio::sync::Notify;
use tracing::Instrument;

use super::alarms::AlarmKind;
use super::driver::{Doubt, outcome_name};
use super::lease::CallKind;
use super::{PayError, Payments};
use crate::domain::{Event, PaymentRecord, PaymentState};
use crate::networks::Network;

const REVERSE_BACKOFF_MAX: Duration = Duration::from_secs(10);
/// The longest the driver waits for a network's earliest-reversal time at once.
const EARLY_WAIT_MAX_MS: i64 = 60_000;

/// What the reversal loop does after a concurrent change to the payment.
enum AfterChange {
    /// Still reversing (a late approval came in): send the reversal again.
    Again(Box<PaymentRecord>),
    /// Someone else settled it.
    Done,
}

// === impl Payments ===

impl Payments {
    /// Reverses until the network confirms, within the attempt limit. Stops quietly if
    /// another instance holds the lease.
    pub(super) async fn reverse(
        &self,
        payment_id: &str,
        bell: &Notify,
        doubt: &Doubt,
    ) -> Result<(), PayError> {
        let mut payment = self.reload(payment_id).await?;
        if payment.state != PaymentState::Reversing {
            if !payment.state.is_in_doubt() {
                return Ok(());
            }
            let network = self.network_of(&payment)?;
            let detail = doubt.describe(&network.profile.display_name);
            self.transition(&mut payment, Event::ReversalStarted, detail, |_| {})
                .await?;
        }
        let network = self.network_of(&payment)?;
        self.wait_until_reversible(&payment, &network).await;
        let mut backoff = Duration::from_millis(500);
        while payment.reverse_attempts < i64::from(self.inner.limits.reverse_attempts_max) {
            let window = self.call_window(&payment, &network, CallKind::AfterDeadline);
            if !self.hold_lease(payment_id, window).await {
                return Ok(());
            }
            payment.reverse_attempts += 1;
            if let Err(e) = self.save(&mut payment).await {
                match self.after_change(payment_id, e).await? {
                    AfterChange::Again(p) => {
                        payment = *p;
                        continue;
                    }
                    AfterChange::Done => return Ok(()),
                }
            }
            let request = ReverseRequest {
                payment_id: payment.payment_id.clone(),
                merchant: self.merchant_ref(&payment),
                amount: payment.amount,
                network_txn_id: payment.network_txn_id.clone(),
                created_at_ms: payment.created_at_ms,
            };
            let call = network.adapter.reverse(&request).instrument(tracing::info_span!("network.reverse", network = %network.profile.id, payment_id = %request.payment_id));
            let outcome =
                tokio::time::timeout(window, call)
                    .await
                    .unwrap_or(ReverseOutcome::Retry {
                        detail: "no answer to the reversal".into(),
                    });
            tracing::info!(payment_id, attempt = payment.reverse_attempts, outcome = ?outcome, "Network reverse answered");
            match outcome {
                ReverseOutcome::Reversed => {
                    let detail = format!("{} confirmed the reversal", network.profile.display_name);
                    // A late approval recorded while the reversal was on the way changed the
                    // version: this confirmation may predate the capture, so reverse again.
                    match self
                        .transition(&mut payment, Event::NetworkReversed, detail, |_| {})
                        .await
                    {
                        Ok(()) => return Ok(()),
                        Err(e) => match self.after_change(payment_id, e).await? {
                            AfterChange::Again(p) => payment = *p,
                            AfterChange::Done => return Ok(()),
                        },
                    }
                }
                ReverseOutcome::TooEarly { not_before_ms } => {
                    let wait = not_before_ms
                        .saturating_sub(self.now_ms())
                        .clamp(0, EARLY_WAIT_MAX_MS);
                    let wait = Duration::from_millis(wait.unsigned_abs());
                    if !self.hold_lease(payment_id, wait).await {
                        return Ok(());
                    }
                    let _ = tokio::time::timeout(wait, bell.notified()).await;
                    payment.reverse_attempts -= 1; // waiting for the window is not a failed attempt
                }
                ReverseOutcome::Retry { .. } => {
                    if !self.hold_lease(payment_id, backoff).await {
                        return Ok(());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(REVERSE_BACKOFF_MAX);
                }
                ReverseOutcome::Refused {
                    network_code,
                    detail,
                } => {
                    return self
                        .refund_instead_of_reversing(payment, &network, network_code, detail)
                        .await;
                }
            }
        }
        self.inner.alarms.raise(
            AlarmKind::ReversalExhausted,
            payment_id,
            self.now_ms(),
            "Reversal attempts exhausted; the payment stays REVERSING",
        );
        Ok(())
    }

    /// The network's earliest reversal (WeChat Pay: 15 s after the order).
    async fn wait_until_reversible(&self, payment: &PaymentRecord, network: &Network) {
        let not_before = payment.created_at_ms.saturating_add(
            i64::try_from(network.profile.timing.reverse_not_before.as_millis())
                .unwrap_or(i64::MAX),
        );
        let early_ms = not_before
            .saturating_sub(self.now_ms())
            .clamp(0, EARLY_WAIT_MAX_MS);
        if early_ms > 0 {
            let wait = Duration::from_millis(early_ms.unsigned_abs());
            if self.hold_lease(&payment.payment_id, wait).await {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// After a write lost to a concurrent change: reload and decide.
    async fn after_change(&self, payment_id: &str, e: PayError) -> Result<AfterChange, PayError> {
        if e != PayError::Conflict {
            return Err(e);
        }
        let payment = self.reload(payment_id).await?;
        Ok(if payment.state == PaymentState::Reversing {
            AfterChange::Again(Box::new(payment))
        } else {
            AfterChange::Done
        })
    }

    /// Past the network's cancel window (PayPay `ORDER_NOT_REVERSIBLE`, Alipay+ after 00:15
    /// UTC+8 on T+1, WeChat Pay after the reverse window) a void is refused but a refund is
    /// not. If the network confirms the money was captured, the payment is succeeded again
    /// and refunded in full; otherwise nobody can tell where the money is, and an operator
    /// must look.
    async fn refund_instead_of_reversing(
        &self,
        mut payment: PaymentRecord,
        network: &Network,
        network_code: String,
        detail: String,
    ) -> Result<(), PayError> {
        let payment_id = payment.payment_id.clone();
        let window = self.call_window(&payment, network, CallKind::AfterDeadline);
        if !self.hold_lease(&payment_id, window).await {
            return Ok(());
        }
        match self.query_network(&payment, network, window).await {
            PayOutcome::Succeeded(paid) => {
                tracing::warn!(payment_id, network_code = %network_code, "Network refused reversal of a captured payment; refunding it in full");
                self.refund_instead_of_reversal(payment, &paid, &network_code)
                    .await
            }
            // Nothing was captured (an expired or failed order the network will not cancel):
            // nothing to return, and nobody will be charged.
            PayOutcome::Declined {
                network_code: state,
                ..
            } => {
                let note = format!(
                    "{} refused the reversal ({network_code}) and holds the payment {state}: \
                     nothing was captured",
                    network.profile.display_name
                );
                self.transition(&mut payment, Event::NetworkReversed, note, |_| {})
                    .await
            }
            other => {
                let message = format!(
                    "{} refused the reversal ({network_code}: {detail}) and its query answered {}, so nobody can tell where the money is",
                    network.profile.display_name,
                    outcome_name(&other)
                );
                self.inner.alarms.raise(
                    AlarmKind::ReversalRefusedUnknown,
                    &payment_id,
                    self.now_ms(),
                    &message,
                );
                payment.network_code = Some(network_code);
                self.save(&mut payment).await
            }
        }
    }
}
