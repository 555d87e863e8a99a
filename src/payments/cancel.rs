//! The terminal voids a payment: an unresolved one is reversed now, a succeeded unrefunded
//! one is returned in full.
use tracing::Instrument;

use super::{PayError, Payments};
use crate::domain::{Event, PaymentState};

// === impl Payments ===

impl Payments {
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
                return Err(PayError::WrongState {
                    state: payment.state,
                    refusal: "it has refunds; refund the rest instead of cancelling",
                });
            }
            PaymentState::Succeeded if payment.refund_reserved_minor > 0 => {
                return Err(PayError::WrongState {
                    state: payment.state,
                    refusal: "a refund is in progress; wait for it before cancelling",
                });
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
        if payment.state == PaymentState::Reversing && !self.ring_or_none(&payment.payment_id) {
            let this = self.clone();
            let id = payment.payment_id.clone();
            tokio::spawn(
                async move { this.drive_existing(&id).await }.instrument(tracing::Span::current()),
            );
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
