//! The money a state change books, written in the same transaction as the change: a capture
//! (the network took the customer's money) posts network receivable / merchant payable and
//! records a settlement fact; undoing it (a reversal) posts the opposite; a refund likewise.
//! A network captures a payment id at most once, so each payment books at most one capture
//! and one reversal, whatever order late answers come in; which of them are booked already
//! follows from the payment's transitions.
use crate::domain::{Event, PaymentRecord, PaymentState, RefundRecord, Transition};
use crate::settlement::ledger::postings::{self, PaymentFacts, RefundFacts};
use crate::settlement::{BusinessDate, FactKind, SettledPaymentFact};
use crate::store::Effects;

use super::{PayError, Payments};

/// What a payment's history has booked so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Booked {
    captured: bool,
    reversed: bool,
}

impl Booked {
    fn from_history(history: &[Transition]) -> Self {
        let mut booked = Self {
            captured: false,
            reversed: false,
        };
        for t in history {
            if is_capture(t.from, t.to) {
                booked.captured = true;
            } else if booked.captured && t.to == PaymentState::Reversed {
                booked.reversed = true;
            }
        }
        booked
    }
}

/// A transition that says the network captured the money: a success, a refused reversal of
/// a captured payment (back to SUCCEEDED), or a late approval (REVERSING or REVERSED to
/// REVERSING).
fn is_capture(from: Option<PaymentState>, to: PaymentState) -> bool {
    to == PaymentState::Succeeded
        || (to == PaymentState::Reversing
            && matches!(from, Some(PaymentState::Reversing | PaymentState::Reversed)))
}

// === impl Payments ===

impl Payments {
    /// What `event` books for the payment going from `before` (with `history`) to `after`.
    pub(super) fn payment_effects(
        &self,
        history: &[Transition],
        event: Event,
        after: &PaymentRecord,
    ) -> Result<Effects, PayError> {
        let booked = Booked::from_history(history);
        let capture = matches!(
            event,
            Event::NetworkSucceeded | Event::LateApproval | Event::ReversalRefused
        );
        let kind = if capture && !booked.captured {
            FactKind::Payment
        } else if event == Event::NetworkReversed && booked.captured && !booked.reversed {
            FactKind::Reversal
        } else {
            return Ok(Effects::none());
        };
        let facts = PaymentFacts {
            payment_id: after.payment_id.clone(),
            merchant_id: after.merchant_id.clone(),
            network: after.network.clone(),
            amount: after.amount,
            wallet_amount: after.wallet_amount.as_ref().map(|w| w.amount),
            at_ms: after.updated_at_ms,
            business_date: self.business_date(&after.network, after.updated_at_ms)?,
        };
        let entry = match kind {
            FactKind::Payment => postings::for_payment_succeeded(&facts),
            _ => postings::for_reversal(&facts),
        }
        .map_err(|e| PayError::Internal(format!("ledger: {e}")))?;
        Ok(Effects {
            journal: vec![entry],
            facts: vec![SettledPaymentFact {
                kind,
                payment_id: after.payment_id.clone(),
                refund_id: None,
                merchant_id: after.merchant_id.clone(),
                network: after.network.clone(),
                amount: after.amount,
                wallet_amount: facts.wallet_amount,
                network_reference: after.network_txn_id.clone(),
                at_ms: after.updated_at_ms,
            }],
            quote_comparison: None,
        })
    }

    /// What a refund the network confirmed books.
    pub(super) fn refund_effects(
        &self,
        payment: &PaymentRecord,
        refund: &RefundRecord,
    ) -> Result<Effects, PayError> {
        let facts = RefundFacts {
            refund_id: refund.refund_id.clone(),
            payment_id: payment.payment_id.clone(),
            merchant_id: payment.merchant_id.clone(),
            network: payment.network.clone(),
            amount: refund.amount,
            at_ms: refund.updated_at_ms,
            business_date: self.business_date(&payment.network, refund.updated_at_ms)?,
        };
        let entry =
            postings::for_refund(&facts).map_err(|e| PayError::Internal(format!("ledger: {e}")))?;
        Ok(Effects {
            journal: vec![entry],
            facts: vec![SettledPaymentFact {
                kind: FactKind::Refund,
                payment_id: payment.payment_id.clone(),
                refund_id: Some(refund.refund_id.clone()),
                merchant_id: payment.merchant_id.clone(),
                network: payment.network.clone(),
                amount: refund.amount,
                wallet_amount: None,
                network_reference: refund.network_refund_id.clone(),
                at_ms: refund.updated_at_ms,
            }],
            quote_comparison: None,
        })
    }

    fn business_date(&self, network: &str, at_ms: i64) -> Result<BusinessDate, PayError> {
        self.inner
            .cutoffs
            .get(network)
            .copied()
            .unwrap_or_default()
            .business_date(at_ms)
            .map_err(|e| PayError::Internal(format!("business date: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentState as S;

    fn t(from: Option<S>, to: S) -> Transition {
        Transition {
            seq: 0,
            from,
            to,
            detail: String::new(),
            at_ms: 0,
        }
    }

    #[test]
    fn a_payment_books_one_capture_and_one_reversal_at_most() {
        let paid = [
            t(None, S::Received),
            t(Some(S::Received), S::Authorizing),
            t(Some(S::Authorizing), S::Succeeded),
        ];
        assert_eq!(
            Booked::from_history(&paid),
            Booked {
                captured: true,
                reversed: false
            }
        );
        // Reversed before anything was captured, then a late approval: the capture is the
        // late approval, and the reversal that follows undoes it.
        let late = [
            t(None, S::Received),
            t(Some(S::Received), S::Authorizing),
            t(Some(S::Authorizing), S::Reversing),
            t(Some(S::Reversing), S::Reversed),
            t(Some(S::Reversed), S::Reversing),
        ];
        let booked = Booked::from_history(&late);
        assert!(booked.captured && !booked.reversed);
        let mut done = late.to_vec();
        done.push(t(Some(S::Reversing), S::Reversed));
        assert!(Booked::from_history(&done).reversed);
        // A reversal of nothing captured books nothing.
        assert!(!Booked::from_history(&late[..4]).captured);
    }
}
