//! Refunds: validated against what remains refundable, reserved durably before the network
//! is asked, settled against the payment in one commit.
use std::time::Duration;

use kakehashi_adapter_core::{Money, RefundOutcome, RefundRequest};
use tracing::Instrument;

use crate::networks::Network;

use super::commands::{Caller, RefundCommand};
use super::{PayError, PaymentView, Payments, Unsupported};
use crate::domain::{Event, PaymentRecord, PaymentState, RefundRecord, RefundState};
use crate::store::InsertRefund;

const FINISH_RETRIES_MAX: u32 = 8;
/// Refund ids the switch makes for itself (a refused cancel refunded instead) start with
/// this; terminals may not use it.
pub const SWITCH_REFUND_PREFIX: &str = "void:";
const REFUND_QUERY_INTERVAL: Duration = Duration::from_millis(500);
/// The wait between re-sends of a refund the network has not taken doubles up to
/// `refund_resend_interval_ms << RESEND_BACKOFF_DOUBLINGS_MAX`.
const RESEND_BACKOFF_DOUBLINGS_MAX: u32 = 6;
/// Refunds whose sends are remembered at once.
const REFUND_SENDS_MAX: usize = 10_000;

/// Marks a refund as driven by a request on this instance until dropped.
struct DrivingRefund<'a> {
    payments: &'a Payments,
    refund_id: String,
}

impl<'a> DrivingRefund<'a> {
    fn new(payments: &'a Payments, refund_id: &str) -> Self {
        payments
            .inner
            .active_refunds
            .insert(refund_id.to_owned(), ());
        Self {
            payments,
            refund_id: refund_id.to_owned(),
        }
    }
}

impl Drop for DrivingRefund<'_> {
    fn drop(&mut self) {
        self.payments.inner.active_refunds.remove(&self.refund_id);
    }
}

/// How often a refund has been sent and when it may be sent again. In memory only: after a
/// restart the first re-send comes at once, which the network's idempotency on the refund id
/// makes safe.
#[derive(Debug, Clone, Copy)]
pub(super) struct RefundSends {
    sent: u32,
    next_at_ms: i64,
    /// When an operator was last told this refund is overdue (0: never).
    warned_at_ms: i64,
}

impl RefundSends {
    fn new(now_ms: i64) -> Self {
        Self {
            sent: 0,
            next_at_ms: now_ms,
            warned_at_ms: 0,
        }
    }
}

/// How often an overdue refund is reported to operators again.
const OVERDUE_REPORT_INTERVAL_MS: i64 = 3_600_000;

// === impl Payments ===

impl Payments {
    pub async fn refund(
        &self,
        caller: &Caller,
        cmd: RefundCommand,
    ) -> Result<(PaymentView, RefundRecord), PayError> {
        let payment = self.find(caller, cmd.merchant_order_id.as_str()).await?;
        let request_hash = cmd.content_hash();
        if let Some(existing) = self
            .inner
            .store
            .refund_by_key(&caller.merchant_id, cmd.refund_id.as_str())
            .await?
        {
            return self.refund_replay(existing, &request_hash).await;
        }
        let amount = self.refund_amount(&payment, &cmd)?;
        self.check_refundable(&payment, &amount).await?;
        let now = self.now_ms();
        let refund = RefundRecord::pending(
            &payment,
            cmd.refund_id.clone(),
            request_hash.clone(),
            amount,
            cmd.reason.clone(),
            now,
        );
        match self.inner.store.insert_refund(&refund).await? {
            InsertRefund::Inserted => {}
            InsertRefund::Existing(existing) => {
                return self.refund_replay(*existing, &request_hash).await;
            }
            InsertRefund::NotRefundable => {
                return Err(PayError::RefundExceeds(format!(
                    "refund of {amount} exceeds what remains refundable on this payment"
                )));
            }
        }
        tracing::info!(payment_id = %payment.payment_id, refund_id = %refund.refund_id, amount = %amount, "Refund pending");
        let refund = self.drive_refund(refund).await?;
        let payment = self.reload(&payment.payment_id).await?;
        Ok((self.view(&payment).await?, refund))
    }

    /// A reversal the network refused for a captured payment becomes a full refund: the
    /// payment returns to SUCCEEDED with the refund reserved and pending, in one commit, so
    /// a crash cannot leave it charged with nothing to return it. Each attempt has its own
    /// key (`void:<payment_id>-<n>`): a declined one does not block a later cancel.
    pub(super) async fn refund_instead_of_reversal(
        &self,
        mut payment: PaymentRecord,
        paid: &kakehashi_adapter_core::Paid,
        network_code: &str,
    ) -> Result<(), PayError> {
        let earlier = self
            .inner
            .store
            .refunds_for_payment(&payment.payment_id)
            .await?
            .iter()
            .filter(|r| {
                r.merchant_refund_id
                    .as_str()
                    .starts_with(SWITCH_REFUND_PREFIX)
            })
            .count();
        let key = crate::domain::ClientKey::parse(&format!(
            "{SWITCH_REFUND_PREFIX}{}-{}",
            payment.payment_id,
            earlier + 1
        ))
        .map_err(|e| PayError::Internal(format!("void refund key: {e}")))?;
        let amount = Money::from_minor(payment.refundable_minor(), payment.amount.currency())
            .map_err(|_| PayError::Internal("nothing captured remains to refund".into()))?;
        let now = self.now_ms();
        let refund = RefundRecord::pending(
            &payment,
            key,
            super::commands::content_hash(&["void", &payment.payment_id]),
            amount,
            "cancelled after the network's cancel window".into(),
            now,
        );
        let note = format!("reversal refused ({network_code}); captured, so refunded in full");
        self.transition_with_refund(&mut payment, Event::ReversalRefused, note, paid, &refund)
            .await?;
        self.drive_refund(refund).await?;
        Ok(())
    }

    async fn refund_replay(
        &self,
        existing: RefundRecord,
        request_hash: &str,
    ) -> Result<(PaymentView, RefundRecord), PayError> {
        if existing.request_hash != request_hash {
            return Err(PayError::RefundIdReused(
                existing.merchant_refund_id.to_string(),
            ));
        }
        let payment = self.reload(&existing.payment_id).await?;
        Ok((self.view(&payment).await?, existing))
    }

    fn refund_amount(
        &self,
        payment: &PaymentRecord,
        cmd: &RefundCommand,
    ) -> Result<Money, PayError> {
        match &cmd.amount {
            Some(amount) if amount.currency() != payment.amount.currency() => {
                Err(PayError::RefundCurrency {
                    refund: amount.currency_code(),
                    payment: payment.amount.currency_code(),
                })
            }
            Some(amount) => Ok(*amount),
            None => {
                let rest = payment.refundable_minor();
                Money::from_minor(rest, payment.amount.currency())
                    .map_err(|_| PayError::RefundExceeds("nothing remains to refund".into()))
            }
        }
    }

    async fn check_refundable(
        &self,
        payment: &PaymentRecord,
        amount: &Money,
    ) -> Result<(), PayError> {
        if !matches!(
            payment.state,
            PaymentState::Succeeded | PaymentState::PartiallyRefunded
        ) {
            return Err(PayError::WrongState {
                state: payment.state,
                refusal: "only a succeeded payment can be refunded",
            });
        }
        if amount.minor() > payment.refundable_minor() {
            return Err(PayError::RefundExceeds(format!(
                "refund of {amount} exceeds the {} still refundable",
                Money::from_minor(payment.refundable_minor(), payment.amount.currency())
                    .map(|m| m.to_string())
                    .unwrap_or_else(|_| "nothing".into())
            )));
        }
        let network = self.inner.networks.get(&payment.network).ok_or_else(|| {
            PayError::Internal(format!("network {} not configured", payment.network))
        })?;
        let caps = network.profile.capabilities;
        if amount.minor() < payment.amount.minor() && !caps.partial_refund {
            return Err(PayError::NotSupported {
                network: payment.network.clone(),
                operation: Unsupported::PartialRefund,
            });
        }
        let earlier = self
            .inner
            .store
            .refunds_for_payment(&payment.payment_id)
            .await?;
        if earlier.iter().any(|r| r.state != RefundState::Declined) && !caps.multiple_refunds {
            return Err(PayError::NotSupported {
                network: payment.network.clone(),
                operation: Unsupported::MultipleRefunds,
            });
        }
        Ok(())
    }

    /// Asks the network, then keeps asking while the refund is pending (if the network
    /// can be asked), up to the caller's wait. Recovery continues after that.
    pub(super) async fn drive_refund(
        &self,
        refund: RefundRecord,
    ) -> Result<RefundRecord, PayError> {
        // Recovery leaves a refund alone while a request here drives it; the guard lets go
        // even if the request is dropped mid-way (client gone, deadline).
        let _driving = DrivingRefund::new(self, &refund.refund_id);
        self.drive_refund_here(refund).await
    }

    async fn drive_refund_here(&self, refund: RefundRecord) -> Result<RefundRecord, PayError> {
        let payment = self.reload(&refund.payment_id).await?;
        let network = self
            .inner
            .networks
            .get(&payment.network)
            .cloned()
            .ok_or_else(|| {
                PayError::Internal(format!("network {} not configured", payment.network))
            })?;
        let request = RefundRequest {
            payment_id: payment.payment_id.clone(),
            refund_id: refund.refund_id.clone(),
            merchant: self.merchant_ref(&payment),
            payment_amount: payment.amount,
            amount: refund.amount,
            network_txn_id: payment.network_txn_id.clone(),
            reason: refund.reason.clone(),
            known_network_refund_ids: Vec::new(),
        };
        let mut outcome = self.send_refund(&network, &request).await;
        let wait_until = tokio::time::Instant::now() + self.pay_wait();
        while is_open(&outcome)
            && network.profile.capabilities.refund_query
            && tokio::time::Instant::now() < wait_until
        {
            tokio::time::sleep(REFUND_QUERY_INTERVAL).await;
            outcome = self.query_or_resend_refund(&network, &request).await;
        }
        self.settle_refund(refund, &outcome).await
    }

    async fn send_refund(&self, network: &Network, request: &RefundRequest) -> RefundOutcome {
        self.note_refund_sent(&request.refund_id);
        network
            .adapter
            .refund(request)
            .instrument(tracing::info_span!("network.refund", network = %network.profile.id, payment_id = %request.payment_id))
            .await
    }

    /// Asks the network about a pending refund; if it has not taken the refund (lost on the
    /// way, or WeChat Pay's CNY pool was short) and the back-off allows, sends it again under
    /// the same id. Never a second refund: only idempotent networks answer `NotTaken`.
    pub(super) async fn query_or_resend_refund(
        &self,
        network: &Network,
        request: &RefundRequest,
    ) -> RefundOutcome {
        let outcome = network
            .adapter
            .query_refund(request)
            .instrument(tracing::info_span!("network.query_refund", network = %network.profile.id, payment_id = %request.payment_id))
            .await;
        let RefundOutcome::NotTaken { detail } = &outcome else {
            return outcome;
        };
        let due = self
            .inner
            .refund_sends
            .get(&request.refund_id)
            .is_none_or(|s| s.next_at_ms <= self.now_ms());
        if !due {
            return outcome;
        }
        tracing::warn!(refund_id = %request.refund_id, detail = %detail, "Network has not taken the refund; sending it again under the same id");
        self.send_refund(network, request).await
    }

    /// A refund still open past `refund_deadline_ms` is reported to operators (hourly): the
    /// switch keeps re-sending or asking, but someone should look (WeChat Pay's CNY pool
    /// short for days, a network that lost it for good).
    pub(super) fn report_if_overdue(&self, refund: &RefundRecord, outcome: &RefundOutcome) {
        let deadline = i64::try_from(self.inner.limits.refund_deadline_ms).unwrap_or(i64::MAX);
        let now = self.now_ms();
        if !is_open(outcome) || now - refund.created_at_ms <= deadline {
            return;
        }
        let mut sends = self
            .inner
            .refund_sends
            .entry(refund.refund_id.clone())
            .or_insert_with(|| RefundSends::new(now));
        if now - sends.warned_at_ms >= OVERDUE_REPORT_INTERVAL_MS {
            sends.warned_at_ms = now;
            tracing::error!(refund_id = %refund.refund_id, payment_id = %refund.payment_id, age_ms = now - refund.created_at_ms, outcome = ?outcome, "Refund still not final past its deadline; the switch keeps trying; operator should look");
        }
    }

    fn note_refund_sent(&self, refund_id: &str) {
        if self.inner.refund_sends.len() >= REFUND_SENDS_MAX {
            // Forgetting only makes the next re-sends come sooner, which idempotency on the
            // refund id makes safe.
            self.inner.refund_sends.clear();
        }
        let now = self.now_ms();
        let base = self.inner.limits.refund_resend_interval_ms;
        let mut sends = self
            .inner
            .refund_sends
            .entry(refund_id.to_owned())
            .or_insert_with(|| RefundSends::new(now));
        let wait = base.saturating_mul(1 << sends.sent.min(RESEND_BACKOFF_DOUBLINGS_MAX));
        sends.sent = sends.sent.saturating_add(1);
        sends.next_at_ms = now.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
    }

    /// Records a refund's outcome; pending and unknown leave it pending.
    pub(super) async fn settle_refund(
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
            let mut payment = self.reload(&refund.payment_id).await?;
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
                transition = Some(crate::domain::Transition {
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
            match self
                .inner
                .store
                .finish_refund(&refund, &next, transition.as_ref())
                .await
            {
                Ok(()) => {
                    payment = next;
                    self.publish(&payment).await;
                    tracing::info!(refund_id = %refund.refund_id, state = refund.state.as_str(), "Refund settled");
                    return Ok(refund);
                }
                Err(crate::store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PayError::Conflict)
    }
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
