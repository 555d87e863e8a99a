//! Driving one payment to an outcome: the network call, queries while in doubt, then the
//! reversal at the deadline (`reverse.rs`). Every call is made under the lease
//! (`lease.rs`); every answer is recorded, including a success that arrives after the
//! reversal began (a late approval), which sends the payment back to be reversed again.
use std::time::Duration;

use kakehashi_adapter_core::{DeclineReason, PayOutcome, PayRequest, PaymentCode, QueryRequest};
use tokio::sync::Notify;
use tracing::Instrument;

use super::lease::{CallKind, rang_while_leaving};
use super::{PayError, Payments};
use crate::domain::{Event, PaymentRecord, PaymentState};
use crate::networks::Network;

/// Bounds on the driver's loops, beside the payment's own deadline.
const QUERY_ATTEMPTS_MAX: u32 = 1_000;
/// Reloads after a concurrent change before the driver gives up to recovery.
pub(super) const CONFLICT_RETRIES_MAX: u32 = 8;
/// Times a pay the network never received is sent again (same id, same code).
const PAY_RESENDS_MAX: u32 = 1;
/// How many times one task drives a payment that changed as its driver let go; beyond it,
/// recovery picks the payment up.
const REDRIVES_MAX: u32 = 4;

/// What the driver heard while the payment was in doubt, for the record of why it was
/// reversed ("no reply from LINE Pay; 9 queries, the last said ...").
#[derive(Debug, Default)]
pub(super) struct Doubt {
    pay: Option<String>,
    queries: u32,
    last_query: Option<String>,
}

/// Longest network detail quoted in a transition.
const DETAIL_QUOTE_MAX: usize = 80;

impl Doubt {
    fn after_pay(outcome: &PayOutcome) -> Self {
        Self {
            pay: Some(describe_outcome(outcome)),
            ..Self::default()
        }
    }

    fn note_query(&mut self, outcome: &PayOutcome) {
        self.queries = self.queries.saturating_add(1);
        self.last_query = Some(describe_outcome(outcome));
    }

    /// Why the deadline came with no outcome, in words.
    pub(super) fn describe(&self, network: &str) -> String {
        let mut parts = vec![format!(
            "no outcome from {network} by the payment's deadline"
        )];
        if let Some(pay) = &self.pay {
            parts.push(format!("pay: {pay}"));
        }
        match (self.queries, &self.last_query) {
            (0, _) | (_, None) => {}
            (1, Some(last)) => parts.push(format!("1 query: {last}")),
            (n, Some(last)) => parts.push(format!("{n} queries, the last: {last}")),
        }
        parts.push("reversing".into());
        parts.join("; ")
    }
}

fn describe_outcome(outcome: &PayOutcome) -> String {
    let text = match outcome {
        PayOutcome::Unknown { detail } | PayOutcome::NotReceived { detail } => detail.clone(),
        other => outcome_name(other).to_owned(),
    };
    text.chars().take(DETAIL_QUOTE_MAX).collect()
}

/// Where a driver's step left the payment.
pub(super) enum Step {
    Settled,
    InDoubt,
    Reverse,
}

// === impl Payments ===

impl Payments {
    /// Drives a payment this instance has just stored, leased until `born_lease_until_ms`.
    pub(super) async fn drive_new_payment(
        &self,
        payment: PaymentRecord,
        code: PaymentCode,
        born_lease_until_ms: i64,
    ) {
        let payment_id = payment.payment_id.clone();
        let Some(bell) = self.claim_born(&payment_id) else {
            return;
        };
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            self.release(&payment_id).await;
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
        let window = self.call_window(&payment, &network, CallKind::BeforeDeadline);
        // What comes after the network call (applying the outcome, queries, reversal) is
        // boxed, so a payment waiting on the network holds only what the call needs: with
        // thousands in flight, the driver's inline state machine (≈ 14.7 KB) was a third of
        // the switch's memory per payment.
        let covered = Box::pin(self.cover_call(&payment_id, window, born_lease_until_ms)).await;
        let result = if let Some(window) = covered {
            let started = std::time::Instant::now();
            let call = network.adapter.pay(&request).instrument(tracing::info_span!("network.pay", network = %network.profile.id, payment_id = %request.payment_id));
            let outcome = tokio::time::timeout(window, call)
                .await
                .unwrap_or(PayOutcome::Unknown {
                    detail: format!(
                        "no answer from {} within the call window",
                        network.profile.display_name
                    ),
                });
            tracing::info!(payment_id = %payment_id, network = %payment.network, latency_ms = started.elapsed().as_millis() as u64, outcome = outcome_name(&outcome), "Network pay answered");
            let result =
                Box::pin(self.apply_with_retry(&payment_id, &network, &outcome, Some(payment)))
                    .await;
            (result, Doubt::after_pay(&outcome))
        } else {
            (Ok(()), Doubt::default())
        };
        // The code stays in this driver's memory only, for a re-send if the network never
        // received the pay; it is never stored.
        Box::pin(self.finish_driving(&payment_id, &bell, result.0, Some(&request), result.1)).await;
    }

    pub(super) async fn drive_new_merchant_qr(
        &self,
        payment: PaymentRecord,
        shown: tokio::sync::oneshot::Sender<()>,
        born_lease_until_ms: i64,
    ) {
        let payment_id = payment.payment_id.clone();
        let Some(bell) = self.claim_born(&payment_id) else {
            return;
        };
        let Some(network) = self.inner.networks.get(&payment.network).cloned() else {
            self.release(&payment_id).await;
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
        let window = self.call_window(&payment, &network, CallKind::BeforeDeadline);
        let Some(window) = self
            .cover_call(&payment_id, window, born_lease_until_ms)
            .await
        else {
            let _ = shown.send(());
            if self
                .finish_driving(&payment_id, &bell, Ok(()), None, Doubt::default())
                .await
            {
                self.drive_existing(&payment_id).await;
            }
            return;
        };
        let created = tokio::time::timeout(
            window,
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
        if self
            .finish_driving(&payment_id, &bell, result, None, Doubt::default())
            .await
        {
            self.drive_existing(&payment_id).await;
        }
    }

    /// Picks up a payment found in doubt (recovery, a cancel with no driver here), again
    /// while it keeps changing as its driver lets go, at most `REDRIVES_MAX` times.
    pub(super) async fn drive_existing(&self, payment_id: &str) {
        for _ in 0..REDRIVES_MAX {
            let Some(bell) = self.claim(payment_id).await else {
                return;
            };
            if let Ok(payment) = self.reload(payment_id).await {
                self.open_channel(super::PaymentView {
                    payment,
                    refunds: Vec::new(),
                    state_reason: String::new(),
                    fx: None,
                    history: None,
                });
            }
            let rang = self
                .finish_driving(payment_id, &bell, Ok(()), None, Doubt::default())
                .await;
            if !rang {
                return;
            }
        }
    }

    /// Runs the query/reverse loop until the payment is settled, then releases it. `sent`:
    /// the pay request, when this driver sent it and may send it again. True when the bell
    /// rang after the driver's last look: the payment changed and needs driving again.
    #[must_use]
    async fn finish_driving(
        &self,
        payment_id: &str,
        bell: &Notify,
        first: Result<(), PayError>,
        sent: Option<&PayRequest>,
        doubt: Doubt,
    ) -> bool {
        if let Err(e) = first {
            tracing::warn!(payment_id, error = %e, "Driver step failed; recovery will resume");
        } else if let Err(e) = self.resolve(payment_id, bell, sent, doubt).await {
            tracing::warn!(payment_id, error = %e, "Driver stopped; recovery will resume");
        }
        let current = match self.known(payment_id) {
            Some(view) => Ok(view.payment),
            None => self.reload(payment_id).await,
        };
        if let Ok(p) = current
            && !p.state.is_in_doubt()
        {
            self.close_channel(payment_id);
            self.let_go_settled(payment_id);
        } else {
            self.release(payment_id).await;
        }
        // A change made here while this driver was on its way out (a cancel sent the moment
        // the Pay answered) rang the bell with nobody listening: the caller drives again
        // instead of leaving it to the next recovery pass.
        rang_while_leaving(bell)
    }

    /// Queries while in doubt until the deadline, then reverses. A pay the network never
    /// received is sent again (`sent`, at most `PAY_RESENDS_MAX` times). Stops quietly if
    /// another instance holds the lease: that instance drives the payment now.
    async fn resolve(
        &self,
        payment_id: &str,
        bell: &Notify,
        sent: Option<&PayRequest>,
        mut doubt: Doubt,
    ) -> Result<(), PayError> {
        let mut resends = 0;
        let mut payment = match self.known(payment_id) {
            Some(view) => view.payment,
            None => self.reload(payment_id).await?,
        };
        let network = self.network_of(&payment)?;
        let timing = network.profile.timing;
        let mut delay = timing.query_first_delay;
        for _ in 0..QUERY_ATTEMPTS_MAX {
            match self.step_of(&payment) {
                Step::Settled => return Ok(()),
                Step::Reverse => return self.reverse(payment_id, bell, &doubt).await,
                Step::InDoubt => {}
            }
            let wait = delay.min(self.remaining(&payment));
            if !self.hold_lease(payment_id, wait).await {
                return Ok(());
            }
            let _ = tokio::time::timeout(wait, bell.notified()).await;
            delay = timing.query_interval;
            payment = self.reload(payment_id).await?;
            if !matches!(self.step_of(&payment), Step::InDoubt) {
                continue;
            }
            let window = self.call_window(&payment, &network, CallKind::BeforeDeadline);
            if !self.hold_lease(payment_id, window).await {
                return Ok(());
            }
            let mut outcome = self.query_network(&payment, &network, window).await;
            if let (PayOutcome::NotReceived { .. }, Some(pay)) = (&outcome, sent)
                && resends < PAY_RESENDS_MAX
                && matches!(self.step_of(&self.reload(payment_id).await?), Step::InDoubt)
            {
                resends += 1;
                tracing::warn!(
                    payment_id,
                    "Network has no record of the payment; sending it again under the same id"
                );
                let resent = tokio::time::timeout(window, network.adapter.pay(pay).instrument(tracing::info_span!("network.pay", network = %network.profile.id, payment_id = %pay.payment_id, resend = true))).await;
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
            doubt.note_query(&outcome);
            self.apply_with_retry(payment_id, &network, &outcome, None)
                .await?;
            payment = self.reload(payment_id).await?;
        }
        self.reverse(payment_id, bell, &doubt).await
    }

    /// Asks the network what became of the payment, waiting at most `window`.
    pub(super) async fn query_network(
        &self,
        payment: &PaymentRecord,
        network: &Network,
        window: Duration,
    ) -> PayOutcome {
        let request = QueryRequest {
            payment_id: payment.payment_id.clone(),
            merchant: self.merchant_ref(payment),
            amount: payment.amount,
            network_txn_id: payment.network_txn_id.clone(),
            created_at_ms: payment.created_at_ms,
        };
        let call = network.adapter.query(&request).instrument(tracing::info_span!("network.query", network = %network.profile.id, payment_id = %request.payment_id));
        tokio::time::timeout(window, call)
            .await
            .unwrap_or(PayOutcome::Unknown {
                detail: format!("{} did not answer the query", network.profile.display_name),
            })
    }

    pub(super) fn network_of(&self, payment: &PaymentRecord) -> Result<Network, PayError> {
        self.inner
            .networks
            .get(&payment.network)
            .cloned()
            .ok_or_else(|| {
                PayError::Internal(format!("network {} not configured", payment.network))
            })
    }

    pub(super) fn step_of(&self, payment: &PaymentRecord) -> Step {
        match payment.state {
            PaymentState::Reversing => Step::Reverse,
            s if !s.is_in_doubt() => Step::Settled,
            _ if self.now_ms() >= payment.deadline_at_ms => Step::Reverse,
            _ => Step::InDoubt,
        }
    }

    pub(super) fn remaining(&self, payment: &PaymentRecord) -> Duration {
        let left = payment.deadline_at_ms.saturating_sub(self.now_ms()).max(0);
        Duration::from_millis(u64::try_from(left).unwrap_or(0))
    }

    /// Applies a network outcome, reloading on a concurrent change. `known`: the record as
    /// this driver last stored it, tried first (its version guards the write), so the
    /// common case reads nothing.
    pub(super) async fn apply_with_retry(
        &self,
        payment_id: &str,
        network: &Network,
        outcome: &PayOutcome,
        mut known: Option<PaymentRecord>,
    ) -> Result<(), PayError> {
        for _ in 0..CONFLICT_RETRIES_MAX {
            let mut payment = match known.take() {
                Some(payment) => payment,
                None => self.reload(payment_id).await?,
            };
            match self.apply_outcome(&mut payment, network, outcome).await {
                Err(PayError::Conflict) => continue,
                other => return other,
            }
        }
        Err(PayError::Conflict)
    }

    async fn apply_outcome(
        &self,
        payment: &mut PaymentRecord,
        network: &Network,
        outcome: &PayOutcome,
    ) -> Result<(), PayError> {
        if matches!(
            payment.state,
            PaymentState::Reversing | PaymentState::Reversed
        ) {
            return self.apply_late_outcome(payment, network, outcome).await;
        }
        if !matches!(
            payment.state,
            PaymentState::Authorizing | PaymentState::AwaitingCustomer
        ) {
            return Ok(()); // settled: a repeated answer changes nothing
        }
        match outcome {
            PayOutcome::Succeeded(paid) => {
                let detail = format!(
                    "{} approved (txn {})",
                    network.profile.display_name, paid.network_txn_id
                );
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
                let detail = format!(
                    "{} declined: {} ({network_code})",
                    network.profile.display_name,
                    reason.as_str()
                );
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
                    "customer must confirm in the wallet".into(),
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

    /// An answer for a payment the switch is reversing or has reversed. Only a success
    /// matters: the network captured money the switch thought it had returned (the answer
    /// raced the reversal). It is recorded, and the payment goes back to be reversed again
    /// (void, or a refund where the void window has closed), so the customer is never left
    /// charged for a payment the switch reports as reversed. Anything else changes nothing:
    /// the reversal stands.
    async fn apply_late_outcome(
        &self,
        payment: &mut PaymentRecord,
        network: &Network,
        outcome: &PayOutcome,
    ) -> Result<(), PayError> {
        let PayOutcome::Succeeded(paid) = outcome else {
            return Ok(());
        };
        let detail = format!(
            "late approval: {} captured the payment (txn {}) after the switch began reversing \
             it; reversing it again",
            network.profile.display_name, paid.network_txn_id
        );
        tracing::warn!(payment_id = %payment.payment_id, network = %payment.network, state = %payment.state, "Late approval for a payment being reversed; reversing it again");
        let paid = paid.clone();
        self.transition(payment, Event::LateApproval, detail, |p| {
            p.record_paid(&paid);
            p.reverse_attempts = 0;
        })
        .await
    }
}

pub(super) fn outcome_name(outcome: &PayOutcome) -> &'static str {
    match outcome {
        PayOutcome::Succeeded(_) => "succeeded",
        PayOutcome::AwaitingCustomer { .. } => "awaiting_customer",
        PayOutcome::Declined { .. } => "declined",
        PayOutcome::Unknown { .. } => "unknown",
        PayOutcome::NotReceived { .. } => "not_received",
    }
}
