//! Driving a refund to its outcome under its lease: send it (counted durably first), ask
//! while it is open, send it again where the network holds no such refund, settle it
//! against the payment. A network keyed by our refund id may be sent it again as often as
//! needed (with doubling waits); one with no refund id (LINE Pay) at most once, because
//! every send there may refund again.
use std::time::Duration;

use kakehashi_adapter_core::{RefundOutcome, RefundRequest};
use tracing::Instrument;

use super::super::alarms::AlarmKind;
use super::super::{PayError, Payments};
use crate::domain::{Event, PaymentRecord, RefundRecord, RefundState, Transition};
use crate::networks::{CALL_GRACE, Network};

const FINISH_RETRIES_MAX: u32 = 8;
const REFUND_QUERY_INTERVAL: Duration = Duration::from_millis(500);
/// The wait between re-sends of a refund the network has not taken doubles up to
/// `refund_resend_interval_ms << RESEND_BACKOFF_DOUBLINGS_MAX`.
const RESEND_BACKOFF_DOUBLINGS_MAX: u32 = 6;
/// Refunds whose re-send waits are remembered at once.
const REFUND_SENDS_MAX: usize = 10_000;
/// Sends of one refund a network without refund ids may see: the first and one re-send.
const SENDS_MAX_WITHOUT_REFUND_ID: i64 = 2;

/// When a refund may be sent again to an idempotent network. In memory only: after a
/// restart the first re-send comes at once, which the network's idempotency on the refund
/// id makes safe.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefundSends {
    sent: u32,
    next_at_ms: i64,
}

// === impl Payments ===

impl Payments {
    /// The lease a new refund is born with: covers its first send.
    pub(in crate::payments) fn refund_lease_until(
        &self,
        payment: &PaymentRecord,
    ) -> Result<i64, PayError> {
        let network = self.network_of(payment)?;
        Ok(self.first_lease_until(self.now_ms(), refund_window(&network)))
    }

    /// Sends a refund this instance holds the lease of, then keeps asking while it is open
    /// (if the network can be asked), up to the caller's wait; recovery continues after
    /// that. The lease is released when this returns.
    pub(in crate::payments) async fn drive_refund(
        &self,
        refund: RefundRecord,
    ) -> Result<RefundRecord, PayError> {
        let refund_id = refund.refund_id.clone();
        let result = self.drive_refund_here(refund).await;
        self.release_refund(&refund_id).await;
        result
    }

    async fn drive_refund_here(&self, refund: RefundRecord) -> Result<RefundRecord, PayError> {
        let payment = self.reload(&refund.payment_id).await?;
        let network = self.network_of(&payment)?;
        let request = self.refund_request(&payment, &refund).await?;
        let Some(mut outcome) = self.send_refund(&network, &refund, &request).await else {
            return Ok(refund);
        };
        let wait_until = tokio::time::Instant::now() + self.pay_wait();
        while is_open(&outcome)
            && network.profile.capabilities.refund_query
            && tokio::time::Instant::now() < wait_until
        {
            if !self
                .hold_refund_lease(&refund.refund_id, REFUND_QUERY_INTERVAL)
                .await
            {
                return Ok(refund);
            }
            tokio::time::sleep(REFUND_QUERY_INTERVAL).await;
            let Some(next) = self.query_or_resend_refund(&network, &refund).await else {
                return Ok(refund);
            };
            outcome = next;
        }
        self.settle_refund(refund, &outcome).await
    }

    /// One recovery step for a pending refund whose lease had expired: take the lease, ask
    /// (or re-send), settle, let go.
    pub(in crate::payments) async fn recover_refund(&self, refund: RefundRecord) {
        let Ok(payment) = self.reload(&refund.payment_id).await else {
            return;
        };
        let Ok(network) = self.network_of(&payment) else {
            return;
        };
        if !self
            .hold_refund_lease(&refund.refund_id, refund_window(&network))
            .await
        {
            return;
        }
        if network.profile.capabilities.refund_query {
            if let Some(outcome) = self.query_or_resend_refund(&network, &refund).await {
                self.report_if_overdue(&refund, &outcome);
                if let Err(e) = self.settle_refund(refund.clone(), &outcome).await {
                    tracing::warn!(refund_id = %refund.refund_id, error = %e, "Refund recovery step failed");
                }
            }
        } else if self.is_overdue(&refund) {
            let message = format!(
                "Refund outcome unknown and {} cannot be asked about it",
                network.profile.display_name
            );
            self.inner.alarms.raise(
                AlarmKind::RefundUnqueryable,
                &refund.refund_id,
                self.now_ms(),
                &message,
            );
        }
        self.release_refund(&refund.refund_id).await;
    }

    async fn refund_request(
        &self,
        payment: &PaymentRecord,
        refund: &RefundRecord,
    ) -> Result<RefundRequest, PayError> {
        // A network that lists refunds without our id (LINE Pay) tells this one from the
        // others by the ids the switch already holds.
        let known_network_refund_ids = self
            .inner
            .store
            .refunds_for_payment(&payment.payment_id)
            .await?
            .into_iter()
            .filter(|r| r.refund_id != refund.refund_id && r.state == RefundState::Succeeded)
            .filter_map(|r| r.network_refund_id)
            .collect();
        Ok(RefundRequest {
            payment_id: payment.payment_id.clone(),
            refund_id: refund.refund_id.clone(),
            merchant: self.merchant_ref(payment),
            payment_amount: payment.amount,
            amount: refund.amount,
            network_txn_id: payment.network_txn_id.clone(),
            reason: refund.reason.clone(),
            known_network_refund_ids,
        })
    }

    /// Counts the send durably, then sends under the lease. `None`: the refund is no longer
    /// this instance's to send (lease lost, or settled meanwhile).
    async fn send_refund(
        &self,
        network: &Network,
        refund: &RefundRecord,
        request: &RefundRequest,
    ) -> Option<RefundOutcome> {
        let window = refund_window(network);
        if !self.hold_refund_lease(&refund.refund_id, window).await {
            return None;
        }
        match self
            .inner
            .store
            .count_refund_send(&refund.refund_id, &self.inner.owner)
            .await
        {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(refund_id = %refund.refund_id, error = %e, "Refund send not counted; not sending");
                return None;
            }
        }
        self.note_resend_wait(&refund.refund_id);
        let call = network.adapter.refund(request).instrument(tracing::info_span!("network.refund", network = %network.profile.id, payment_id = %request.payment_id));
        Some(
            tokio::time::timeout(window, call)
                .await
                .unwrap_or(RefundOutcome::Unknown {
                    detail: format!("{} did not answer the refund", network.profile.display_name),
                }),
        )
    }

    /// Asks the network about a pending refund; if it holds no such refund (lost on the way,
    /// or WeChat Pay's CNY pool was short), sends it again under the same id: as often as
    /// the back-off allows where the network keys refunds by our id, at most once where it
    /// has no refund id. `None`: the refund is no longer this instance's.
    async fn query_or_resend_refund(
        &self,
        network: &Network,
        refund: &RefundRecord,
    ) -> Option<RefundOutcome> {
        let window = refund_window(network);
        if !self.hold_refund_lease(&refund.refund_id, window).await {
            return None;
        }
        let payment = self.reload(&refund.payment_id).await.ok()?;
        let request = self.refund_request(&payment, refund).await.ok()?;
        let call = network.adapter.query_refund(&request).instrument(tracing::info_span!("network.query_refund", network = %network.profile.id, payment_id = %request.payment_id));
        let outcome = tokio::time::timeout(window, call)
            .await
            .unwrap_or(RefundOutcome::Unknown {
                detail: "no answer to the refund query".into(),
            });
        let RefundOutcome::NotTaken { detail } = &outcome else {
            return Some(outcome);
        };
        if network.profile.capabilities.refund_idempotent {
            let due = self
                .inner
                .refund_sends
                .get(&refund.refund_id)
                .is_none_or(|s| s.next_at_ms <= self.now_ms());
            if !due {
                return Some(outcome);
            }
        } else {
            // Every send may refund again here: only the one re-send, and only after the
            // earlier send is over (it was made under this lease, or under an expired one
            // whose call window has passed).
            let stored = self
                .inner
                .store
                .refund_by_key(&refund.merchant_id, refund.merchant_refund_id.as_str())
                .await
                .ok()??;
            if stored.send_count >= SENDS_MAX_WITHOUT_REFUND_ID {
                let message = format!(
                    "{} holds no such refund after it was sent again",
                    network.profile.display_name
                );
                self.inner.alarms.raise(
                    AlarmKind::RefundNotTaken,
                    &refund.refund_id,
                    self.now_ms(),
                    &message,
                );
                return Some(outcome);
            }
        }
        tracing::warn!(refund_id = %refund.refund_id, detail = %detail, "Network has not taken the refund; sending it again");
        self.send_refund(network, refund, &request).await
    }

    async fn hold_refund_lease(&self, refund_id: &str, window: Duration) -> bool {
        let now = self.now_ms();
        let until = self.first_lease_until(now, window);
        match self
            .inner
            .store
            .take_refund_lease(refund_id, &self.inner.owner, now, until)
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(refund_id, error = %e, "Refund lease renewal failed");
                false
            }
        }
    }

    async fn release_refund(&self, refund_id: &str) {
        if let Err(e) = self
            .inner
            .store
            .release_refund_lease(refund_id, &self.inner.owner)
            .await
        {
            tracing::warn!(refund_id, error = %e, "Refund lease release failed; it will expire");
        }
    }

    fn is_overdue(&self, refund: &RefundRecord) -> bool {
        let deadline = i64::try_from(self.inner.limits.refund_deadline_ms).unwrap_or(i64::MAX);
        self.now_ms() - refund.created_at_ms > deadline
    }

    /// A refund still open past `refund_deadline_ms` is an operator alarm (rate-limited):
    /// the switch keeps re-sending or asking, but someone should look (WeChat Pay's CNY pool
    /// short for days, a network that lost it for good).
    fn report_if_overdue(&self, refund: &RefundRecord, outcome: &RefundOutcome) {
        if is_open(outcome) && self.is_overdue(refund) {
            let message = format!(
                "Refund still not final {} ms after it was made ({outcome:?}); the switch keeps trying",
                self.now_ms() - refund.created_at_ms
            );
            self.inner.alarms.raise(
                AlarmKind::RefundOverdue,
                &refund.refund_id,
                self.now_ms(),
                &message,
            );
        }
    }

    fn note_resend_wait(&self, refund_id: &str) {
        if self.inner.refund_sends.len() >= REFUND_SENDS_MAX {
            // Forgetting only makes the next re-sends come sooner, which idempotency on the
            // refund id makes safe (and the durable send count bounds the others).
            self.inner.refund_sends.clear();
        }
        let now = self.now_ms();
        let base = self.inner.limits.refund_resend_interval_ms;
        let mut sends = self
            .inner
            .refund_sends
            .entry(refund_id.to_owned())
            .or_insert(RefundSends {
                sent: 0,
                next_at_ms: now,
            });
        let wait = base.saturating_mul(1 << sends.sent.min(RESEND_BACKOFF_DOUBLINGS_MAX));
        sends.sent = sends.sent.saturating_add(1);
        sends.next_at_ms = now.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
    }

    /// Records a refund's outcome; pending and unknown leave it pending.
    async fn settle_refund(
        &self,
        mut refund: RefundRecord,
        outcome: &RefundOutcome,
    ) -> Result<RefundRecord, PayError> {
        match outcome {
            RefundOutcome::Succeeded { network_refund_id } => {
                refund.state = RefundState::Succeeded;
                refund.network_refund_id = Some(network_refund_id.clone());
            }
            RefundOutcome::Declined {
                reason,
                network_code,
            } => {
                refund.state = RefundState::Declined;
                refund.decline_reason = Some(*reason);
                refund.network_code = Some(network_code.clone());
            }
            RefundOutcome::Pending { .. }
            | RefundOutcome::Unknown { .. }
            | RefundOutcome::NotTaken { .. } => {
                tracing::info!(refund_id = %refund.refund_id, outcome = ?outcome, "Refund not yet final");
                return Ok(refund);
            }
        }
        self.inner.refund_sends.remove(&refund.refund_id);
        refund.updated_at_ms = self.now_ms();
        for _ in 0..FINISH_RETRIES_MAX {
            // Settled meanwhile (another instance's recovery): the stored answer stands.
            let stored = self
                .inner
                .store
                .refund_by_key(&refund.merchant_id, refund.merchant_refund_id.as_str())
                .await?;
            if let Some(stored) = stored.filter(|r| r.state != RefundState::Pending) {
                return Ok(stored);
            }
            let payment = self.reload(&refund.payment_id).await?;
            if self.network_refund_taken(&payment, &refund).await? {
                tracing::warn!(refund_id = %refund.refund_id, "The network's refund is already another refund's; asking again later");
                return Ok(RefundRecord {
                    state: RefundState::Pending,
                    network_refund_id: None,
                    ..refund
                });
            }
            let (next, transition) = self.settled_payment(&payment, &refund).await?;
            let effects = if refund.state == RefundState::Succeeded {
                self.refund_effects(&payment, &refund)?
            } else {
                crate::store::Effects::none()
            };
            match self
                .inner
                .store
                .finish_refund(&refund, &next, transition.as_ref(), &effects)
                .await
            {
                Ok(()) => {
                    self.publish(&next).await;
                    tracing::info!(refund_id = %refund.refund_id, state = refund.state.as_str(), "Refund settled");
                    return Ok(refund);
                }
                Err(crate::store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PayError::Conflict)
    }

    /// Another refund of this payment already holds the network refund id this outcome
    /// names (two equal refunds in doubt matched one listed refund).
    async fn network_refund_taken(
        &self,
        payment: &PaymentRecord,
        refund: &RefundRecord,
    ) -> Result<bool, PayError> {
        let Some(id) = &refund.network_refund_id else {
            return Ok(false);
        };
        Ok(self
            .inner
            .store
            .refunds_for_payment(&payment.payment_id)
            .await?
            .iter()
            .any(|r| r.refund_id != refund.refund_id && r.network_refund_id.as_ref() == Some(id)))
    }

    /// The payment after `refund` settles: its reservation released and, for a success,
    /// the refunded total and state moved on.
    async fn settled_payment(
        &self,
        payment: &PaymentRecord,
        refund: &RefundRecord,
    ) -> Result<(PaymentRecord, Option<Transition>), PayError> {
        let amount = refund.amount.minor();
        let mut next = payment.clone();
        next.refund_reserved_minor -= amount;
        let mut transition = None;
        if refund.state == RefundState::Succeeded {
            next.refunded_minor += amount;
            let event = if next.refunded_minor == next.amount.minor() {
                Event::FullyRefunded
            } else {
                Event::PartiallyRefunded
            };
            let to = payment
                .state
                .apply(event)
                .map_err(|e| PayError::Internal(e.to_string()))?;
            let seq = self
                .inner
                .store
                .transitions(&payment.payment_id)
                .await?
                .len() as i64
                + 1;
            transition = Some(Transition {
                seq,
                from: Some(payment.state),
                to,
                detail: format!("refund {} of {}", refund.refund_id, refund.amount),
                at_ms: refund.updated_at_ms,
            });
            next.state = to;
        }
        next.version += 1;
        next.updated_at_ms = refund.updated_at_ms;
        Ok((next, transition))
    }
}

/// The longest one refund call is waited for.
fn refund_window(network: &Network) -> Duration {
    network.profile.timing.call_timeout + CALL_GRACE
}

/// The refund may still complete: keep asking (or re-sending).
fn is_open(outcome: &RefundOutcome) -> bool {
    matches!(
        outcome,
        RefundOutcome::Pending { .. }
            | RefundOutcome::Unknown { .. }
            | RefundOutcome::NotTaken { .. }
    )
}
