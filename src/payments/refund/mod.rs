//! Refunds: validated against what remains refundable, reserved durably before the network
//! is asked (leased to the instance that sends it), settled against the payment in one
//! commit. Driving a refund to its outcome is `drive.rs`.
mod drive;

use kakehashi_adapter_core::Money;

use super::commands::{Caller, RefundCommand};
use super::{PayError, PaymentView, Payments, Unsupported};
use crate::domain::{Event, PaymentRecord, PaymentState, RefundRecord, RefundState};
use crate::store::InsertRefund;

/// Refund ids the switch makes for itself (a refused cancel refunded instead) start with
/// this; terminals may not use it.
pub const SWITCH_REFUND_PREFIX: &str = "void:";

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
        let lease_until = self.refund_lease_until(&payment)?;
        match self
            .inner
            .store
            .insert_refund(&refund, (&self.inner.owner, lease_until))
            .await?
        {
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
        let lease_until = self.refund_lease_until(&payment)?;
        self.transition_with_refund(
            &mut payment,
            Event::ReversalRefused,
            note,
            paid,
            (&refund, lease_until),
        )
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
}

pub(super) use drive::RefundSends;
