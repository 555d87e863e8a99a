//! Driving one payment to an outcome: the network call, queries while in doubt, and the
//! reversal at the deadline. One driver per payment per instance (the `active` map), and
//! across instances the store lease decides who drives.
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::{
    DeclineReason, PayOutcome, PayRequest, PaymentCode, QueryRequest, ReverseOutcome,
    ReverseRequest,
};
use tokio::sync::Notify;
use tracing::Instrument;

use super::{PayError, Payments};
use crate::domain::{Event, PaymentRecord, PaymentState};

/// Bounds on the driver's loops, beside the payment's own deadline.
const QUERY_ATTEMPTS_MAX: u32 = 1_000;
const REVERSE_BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Extra time an adapter call may take past the deadline before the driver stops waiting.
pub(super) const CALL_GRACE: Duration = Duration::from_secs(2);
/// Reloads after a concurrent change before the driver gives up to recovery.
const CONFLICT_RETRIES_MAX: u32 = 8;
/// Times a pay the network never received is sent again (same id, same code).
const PAY_RESENDS_MAX: u32 = 1;

/// Where a driver's step left the payment.
enum Step {
    Settled,
    InDoubt,
    Reverse,
}

// === impl Payments ===

impl Payments {
    pub(super) async fn drive_new_payment(&self, payment: PaymentRecord, code: PaymentCode) {
        let payment_id = payment.payment_id.clone();
        let Some(bell) = self.claim(&payment_id).await else {
            return;
        };
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            return;
        };
        let request = PayRequest {
            payment_id: payment.payment_id.clone(),
            merchant: self.merchant_ref(&payment),
            amount: payment.amount,
            code,
            description: payment.description.clone(),
            created_at_ms: payment.created_at_ms,
        };
        let budget = self.remaining(&payment) + CALL_GRACE;
        let started = std::time::Instant::now();
        let outcome = match tokio::time::timeout(budget, network.adapter.pay(&request).instrument(tracing::info_span!("network.pay", network = %network.profile.id, payment_id = %request.payment_id))).await {
            Ok(outcome) => outcome,
            Err(_) => PayOutcome::Unknown {
                detail: "no answer before the payment deadline".into(),
            },
        };
        tracing::info!(payment_id = %payment_id, network = %payment.network, latency_ms = started.elapsed().as_millis() as u64, outcome = outcome_name(&outcome), "Network pay answered");
        let result = self.apply_with_retry(&payment_id, &outcome).await;
        // The code stays in this driver's memory only, for a re-send if the network never
        // received the pay; it is never stored.
        self.finish_driving(&payment_id, &bell, result, Some(&request))
            .await;
    }

    pub(super) async fn drive_new_merchant_qr(
        &self,
        payment: PaymentRecord,
        shown: tokio::sync::oneshot::Sender<()>,
    ) {
        let payment_id = payment.payment_id.clone();
        let Some(bell) = self.claim(&payment_id).await else {
            return;
        };
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            return;
        };
        let request = kakehashi_adapter_core::MerchantQrRequest {
            payment_id: payment.payment_id.clone(),
            merchant: self.merchant_ref(&payment),
            amount: payment.amount,
            description: payment.description.clone(),
            created_at_ms: payment.created_at_ms,
            expires_at_ms: payment.deadline_at_ms,
        };
        let created = tokio::time::timeout(
            self.remaining(&payment) + CALL_GRACE,
            network.adapter.create_merchant_qr(&request).instrument(tracing::info_span!("network.create_merchant_qr", network = %network.profile.id, payment_id = %request.payment_id)),
        )
        .await;
        let mut current = payment;
        let result = match created {
            Ok(Ok(qr)) => {
                let payload = qr.qr_payload.clone();
                let code_id = qr.network_code_id.clone();
                self.transition(
                    &mut current,
                    Event::CustomerActionRequired,
                    "QR shown".into(),
                    |p| {
                        p.qr_payload = Some(payload);
                        // Until the customer pays, the network's reference is the QR's id.
                        p.network_txn_id = code_id;
                    },
                )
                .await
            }
            // No answer: the QR may exist at the network, though nobody can scan it (the
            // terminal never got it). Close whatever is there now rather than at the deadline.
            Ok(Err(kakehashi_adapter_core::AdapterError::NoAnswer { detail, .. })) => {
                let detail = format!("QR creation unanswered ({detail}); closing it");
                self.transition(&mut current, Event::ReversalStarted, detail, |_| {})
                    .await
            }
            Err(_) => {
                let detail = "QR creation unanswered before the deadline; closing it".into();
                self.transition(&mut current, Event::ReversalStarted, detail, |_| {})
                    .await
            }
            Ok(Err(e)) => {
                let detail = e.to_string();
                self.transition(&mut current, Event::NetworkDeclined, detail, |p| {
                    p.decline_reason = Some(DeclineReason::NetworkError);
                })
                .await
            }
        };
        let _ = shown.send(());
        self.finish_driving(&payment_id, &bell, result, None).await;
    }

    /// Picks up a payment found in doubt (recovery, a cancel with no driver here).
    pub(super) async fn drive_existing(&self, payment_id: &str) {
        let Some(bell) = self.claim(payment_id).await else {
            return;
        };
        if let Ok(payment) = self.reload(payment_id).await {
            self.open_channel(super::PaymentView {
                payment,
                refunds: Vec::new(),
            });
        }
        self.finish_driving(payment_id, &bell, Ok(()), None).await;
    }

    /// Takes this instance's lock and the store lease; `None` if someone else drives it.
    async fn claim(&self, payment_id: &str) -> Option<Arc<Notify>> {
        let bell = Arc::new(Notify::new());
        match self.inner.active.entry(payment_id.to_owned()) {
            dashmap::Entry::Occupied(_) => return None,
            dashmap::Entry::Vacant(v) => {
                v.insert(Arc::clone(&bell));
            }
        }
        if !self.renew_lease(payment_id).await {
            self.inner.active.remove(payment_id);
            return None;
        }
        Some(bell)
    }

    async fn renew_lease(&self, payment_id: &str) -> bool {
        let now = self.now_ms();
        let until =
            now.saturating_add(i64::try_from(self.inner.limits.lease_ms).unwrap_or(i64::MAX));
        match self
            .inner
            .store
            .take_lease(payment_id, &self.inner.instance_id, now, until)
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(payment_id, error = %e, "Lease renewal failed");
                false
            }
        }
    }

    /// Runs the query/reverse loop until the payment is settled, then releases it. `sent`:
    /// the pay request, when this driver sent it and may send it again.
    async fn finish_driving(
        &self,
        payment_id: &str,
        bell: &Notify,
        first: Result<(), PayError>,
        sent: Option<&PayRequest>,
    ) {
        if let Err(e) = first {
            tracing::warn!(payment_id, error = %e, "Driver step failed; recovery will resume");
        } else if let Err(e) = self.resolve(payment_id, bell, sent).await {
            tracing::warn!(payment_id, error = %e, "Driver stopped; recovery will resume");
        }
        self.inner.active.remove(payment_id);
        if let Ok(p) = self.reload(payment_id).await
            && !p.state.is_in_doubt()
        {
            self.close_channel(payment_id);
        }
        let _ = self.release_lease(payment_id).await;
    }

    async fn release_lease(&self, payment_id: &str) -> Result<(), PayError> {
        let now = self.now_ms();
        self.inner
            .store
            .take_lease(payment_id, &self.inner.instance_id, now, 0)
            .await?;
        Ok(())
    }

    /// Queries while in doubt until the deadline, then reverses. A pay the network never
    /// received is sent again (`sent`, at most `PAY_RESENDS_MAX` times).
    async fn resolve(
        &self,
        payment_id: &str,
        bell: &Notify,
        sent: Option<&PayRequest>,
    ) -> Result<(), PayError> {
        let mut resends = 0;
        let mut payment = self.reload(payment_id).await?;
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            return Err(PayError::Internal(format!(
                "network {} not configured",
                payment.network
            )));
        };
        let timing = network.profile.timing;
        let mut delay = timing.query_first_delay;
        for _ in 0..QUERY_ATTEMPTS_MAX {
            match self.step_of(&payment) {
                Step::Settled => return Ok(()),
                Step::Reverse => return self.reverse(payment_id, bell).await,
                Step::InDoubt => {}
            }
            let wait = delay.min(self.remaining(&payment));
            let _ = tokio::time::timeout(wait, bell.notified()).await;
            delay = timing.query_interval;
            payment = self.reload(payment_id).await?;
            if !matches!(self.step_of(&payment), Step::InDoubt) {
                continue;
            }
            self.renew_lease(payment_id).await;
            let request = QueryRequest {
                payment_id: payment.payment_id.clone(),
                merchant: self.merchant_ref(&payment),
                amount: payment.amount,
                network_txn_id: payment.network_txn_id.clone(),
                created_at_ms: payment.created_at_ms,
            };
            let budget = self.remaining(&payment) + CALL_GRACE;
            let mut outcome = tokio::time::timeout(budget, network.adapter.query(&request).instrument(tracing::info_span!("network.query", network = %network.profile.id, payment_id = %request.payment_id)))
                .await
                .unwrap_or(PayOutcome::Unknown {
                    detail: "query timed out".into(),
                });
            if let (PayOutcome::NotReceived { .. }, Some(pay)) = (&outcome, sent)
                && resends < PAY_RESENDS_MAX
                && matches!(self.step_of(&self.reload(payment_id).await?), Step::InDoubt)
            {
                resends += 1;
                tracing::warn!(
                    payment_id,
                    "Network has no record of the payment; sending it again under the same id"
                );
                let resent = tokio::time::timeout(budget, network.adapter.pay(pay).instrument(tracing::info_span!("network.pay", network = %network.profile.id, payment_id = %pay.payment_id, resend = true))).await;
                outcome = match resent {
                    // Only a success is believed: a refusal may just mean the first pay,
                    // still in flight, used the code. Keep querying; reverse at the deadline.
                    Ok(PayOutcome::Succeeded(paid)) => PayOutcome::Succeeded(paid),
                    Ok(other) => PayOutcome::Unknown {
                        detail: format!("re-sent pay answered {}", outcome_name(&other)),
                    },
                    Err(_) => PayOutcome::Unknown {
                        detail: "re-sent pay timed out".into(),
                    },
                };
            }
            tracing::debug!(
                payment_id,
                outcome = outcome_name(&outcome),
                "Network query answered"
            );
            self.apply_with_retry(payment_id, &outcome).await?;
            payment = self.reload(payment_id).await?;
        }
        self.reverse(payment_id, bell).await
    }

    fn step_of(&self, payment: &PaymentRecord) -> Step {
        match payment.state {
            PaymentState::Reversing => Step::Reverse,
            s if !s.is_in_doubt() => Step::Settled,
            _ if self.now_ms() >= payment.deadline_at_ms => Step::Reverse,
            _ => Step::InDoubt,
        }
    }

    fn remaining(&self, payment: &PaymentRecord) -> Duration {
        let left = payment.deadline_at_ms.saturating_sub(self.now_ms()).max(0);
        Duration::from_millis(u64::try_from(left).unwrap_or(0))
    }

    /// Applies a network outcome, reloading on a concurrent change.
    async fn apply_with_retry(
        &self,
        payment_id: &str,
        outcome: &PayOutcome,
    ) -> Result<(), PayError> {
        for _ in 0..CONFLICT_RETRIES_MAX {
            let mut payment = self.reload(payment_id).await?;
            match self.apply_outcome(&mut payment, outcome).await {
                Err(PayError::Conflict) => continue,
                other => return other,
            }
        }
        Err(PayError::Conflict)
    }

    async fn apply_outcome(
        &self,
        payment: &mut PaymentRecord,
        outcome: &PayOutcome,
    ) -> Result<(), PayError> {
        if !matches!(
            payment.state,
            PaymentState::Authorizing | PaymentState::AwaitingCustomer
        ) {
            return Ok(()); // reversing or settled: a late answer changes nothing
        }
        match outcome {
            PayOutcome::Succeeded(paid) => {
                let detail = format!("network txn {}", paid.network_txn_id);
                let paid = paid.clone();
                self.transition(payment, Event::NetworkSucceeded, detail, |p| {
                    p.record_paid(&paid)
                })
                .await
            }
            PayOutcome::Declined {
                reason,
                network_code,
            } => {
                let detail = format!("declined {} ({network_code})", reason.as_str());
                let (reason, code) = (*reason, network_code.clone());
                self.transition(payment, Event::NetworkDeclined, detail, |p| {
                    p.decline_reason = Some(reason);
                    p.network_code = Some(code);
                })
                .await
            }
            PayOutcome::AwaitingCustomer { network_txn_id } => {
                let txn = network_txn_id.clone();
                if payment.state == PaymentState::AwaitingCustomer {
                    if txn.is_some() && payment.network_txn_id.is_none() {
                        payment.network_txn_id = txn;
                        return self.save(payment).await;
                    }
                    return Ok(());
                }
                self.transition(
                    payment,
                    Event::CustomerActionRequired,
                    "customer must act".into(),
                    |p| {
                        if txn.is_some() {
                            p.network_txn_id = txn;
                        }
                    },
                )
                .await
            }
            PayOutcome::Unknown { detail } | PayOutcome::NotReceived { detail } => {
                tracing::info!(payment_id = %payment.payment_id, detail = %detail, "Outcome unknown; will query");
                Ok(())
            }
        }
    }

    /// Reverses until the network confirms, within the attempt limit.
    async fn reverse(&self, payment_id: &str, bell: &Notify) -> Result<(), PayError> {
        let mut payment = self.reload(payment_id).await?;
        if payment.state != PaymentState::Reversing {
            if !payment.state.is_in_doubt() {
                return Ok(());
            }
            self.transition(
                &mut payment,
                Event::ReversalStarted,
                "deadline passed unresolved".into(),
                |_| {},
            )
            .await?;
        }
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            return Err(PayError::Internal(format!(
                "network {} not configured",
                payment.network
            )));
        };
        // The network's earliest reversal (WeChat Pay: 15 s after the order).
        let not_before = payment.created_at_ms.saturating_add(
            i64::try_from(network.profile.timing.reverse_not_before.as_millis())
                .unwrap_or(i64::MAX),
        );
        let early_ms = not_before.saturating_sub(self.now_ms()).clamp(0, 60_000);
        if early_ms > 0 {
            tokio::time::sleep(Duration::from_millis(early_ms.unsigned_abs())).await;
        }
        let mut backoff = Duration::from_millis(500);
        while payment.reverse_attempts < i64::from(self.inner.limits.reverse_attempts_max) {
            self.renew_lease(payment_id).await;
            payment.reverse_attempts += 1;
            self.save(&mut payment).await?;
            let request = ReverseRequest {
                payment_id: payment.payment_id.clone(),
                merchant: self.merchant_ref(&payment),
                amount: payment.amount,
                network_txn_id: payment.network_txn_id.clone(),
                created_at_ms: payment.created_at_ms,
            };
            let outcome = network.adapter.reverse(&request).instrument(tracing::info_span!("network.reverse", network = %network.profile.id, payment_id = %request.payment_id)).await;
            tracing::info!(payment_id, attempt = payment.reverse_attempts, outcome = ?outcome, "Network reverse answered");
            match outcome {
                ReverseOutcome::Reversed => {
                    return self
                        .transition(
                            &mut payment,
                            Event::NetworkReversed,
                            "reversed by network".into(),
                            |_| {},
                        )
                        .await;
                }
                ReverseOutcome::TooEarly { not_before_ms } => {
                    let wait = not_before_ms.saturating_sub(self.now_ms()).clamp(0, 60_000);
                    let _ =
                        tokio::time::timeout(Duration::from_millis(wait as u64), bell.notified())
                            .await;
                    payment.reverse_attempts -= 1; // waiting for the window is not a failed attempt
                }
                ReverseOutcome::Retry { .. } => {
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
        tracing::error!(payment_id, "Reversal attempts exhausted; operator must act");
        Ok(())
    }

    /// Past the network's cancel window (PayPay `ORDER_NOT_REVERSIBLE`, Alipay+ after 00:15
    /// UTC+8 on T+1, WeChat Pay after the reverse window) a void is refused but a refund is
    /// not. If the network confirms the money was captured, the payment is succeeded again
    /// and refunded in full; otherwise nobody can tell where the money is, and an operator
    /// must look.
    async fn refund_instead_of_reversing(
        &self,
        mut payment: PaymentRecord,
        network: &crate::networks::Network,
        network_code: String,
        detail: String,
    ) -> Result<(), PayError> {
        let payment_id = payment.payment_id.clone();
        let request = QueryRequest {
            payment_id: payment_id.clone(),
            merchant: self.merchant_ref(&payment),
            amount: payment.amount,
            network_txn_id: payment.network_txn_id.clone(),
            created_at_ms: payment.created_at_ms,
        };
        let outcome = network
            .adapter
            .query(&request)
            .instrument(tracing::info_span!("network.query", network = %network.profile.id, payment_id = %payment_id))
            .await;
        match outcome {
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
                let note =
                    format!("reversal refused ({network_code}); the network holds it {state}");
                self.transition(&mut payment, Event::NetworkReversed, note, |_| {})
                    .await
            }
            other => {
                tracing::error!(payment_id, network_code = %network_code, detail = %detail, outcome = outcome_name(&other), "Network refused reversal and does not say where the money is; operator must act");
                payment.network_code = Some(network_code);
                self.save(&mut payment).await
            }
        }
    }

    /// The terminal voids a payment: an unresolved one is reversed now, a succeeded
    /// unrefunded one is returned in full.
    pub async fn cancel(
        &self,
        caller: &super::Caller,
        cmd: super::CancelCommand,
    ) -> Result<super::PaymentView, PayError> {
        let mut payment = self.find(caller, cmd.merchant_order_id.as_str()).await?;
        match payment.state {
            PaymentState::Declined => {
                return Err(PayError::WrongState {
                    state: payment.state,
                    refusal: "it moved no money, so there is nothing to cancel",
                });
            }
            PaymentState::Reversed | PaymentState::Reversing => {}
            PaymentState::PartiallyRefunded | PaymentState::Refunded => {
                return Err(PayError::NotAllowed(
                    "payment has refunds; refund the rest instead of cancelling".into(),
                ));
            }
            PaymentState::Succeeded if payment.refund_reserved_minor > 0 => {
                return Err(PayError::NotAllowed(
                    "a refund is in progress; wait for it before cancelling".into(),
                ));
            }
            _ => {
                let detail = format!(
                    "cancelled by terminal {}: {}",
                    caller.terminal_id, cmd.reason
                );
                self.transition(&mut payment, Event::ReversalStarted, detail, |_| {})
                    .await?;
            }
        }
        if payment.state == PaymentState::Reversing {
            let bell = self
                .inner
                .active
                .get(&payment.payment_id)
                .map(|b| Arc::clone(&b));
            match bell {
                Some(bell) => bell.notify_one(),
                None => {
                    let this = self.clone();
                    let id = payment.payment_id.clone();
                    tokio::spawn(
                        async move { this.drive_existing(&id).await }
                            .instrument(tracing::Span::current()),
                    );
                }
            }
        }
        let view = self
            .wait_settled(&payment.payment_id, self.pay_wait())
            .await?;
        if view.payment.state != PaymentState::Succeeded {
            return Ok(view);
        }
        // The network refused the void and the switch is refunding instead: answer with the
        // refund's outcome if it comes within the wait.
        self.wait_refunds_settled(&payment.payment_id, self.pay_wait())
            .await
    }
}

fn outcome_name(outcome: &PayOutcome) -> &'static str {
    match outcome {
        PayOutcome::Succeeded(_) => "succeeded",
        PayOutcome::AwaitingCustomer { .. } => "awaiting_customer",
        PayOutcome::Declined { .. } => "declined",
        PayOutcome::Unknown { .. } => "unknown",
        PayOutcome::NotReceived { .. } => "not_received",
    }
}
