//! The payment lifecycle as one table: `(state, event) -> state`. Everything that changes a
//! payment's state goes through [`PaymentState::apply`], so an illegal transition is refused
//! in one place and tested exhaustively.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    Received,
    Authorizing,
    AwaitingCustomer,
    Succeeded,
    Declined,
    Reversing,
    Reversed,
    PartiallyRefunded,
    Refunded,
}

/// What happened to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The switch is about to call the network.
    Submitted,
    /// The network says the customer must act (PIN entry, scanning a shown QR).
    CustomerActionRequired,
    NetworkSucceeded,
    NetworkDeclined,
    /// The deadline passed unresolved, or the terminal cancelled: reverse.
    ReversalStarted,
    NetworkReversed,
    /// The network refused the reversal (its cancel window has closed) and confirms the money
    /// was captured: the payment is succeeded again, and the switch refunds it in full.
    ReversalRefused,
    /// The network reports the payment succeeded after the switch began, or finished,
    /// reversing it (a late approval: the pay or a query answered after the reversal was
    /// decided). The capture is recorded and the payment is reversed again, so the customer
    /// gets the money back and the books say so.
    LateApproval,
    /// A refund succeeded and money remains captured.
    PartiallyRefunded,
    /// A refund succeeded and nothing remains captured.
    FullyRefunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("payment in state {from} cannot take event {event:?}")]
pub struct IllegalTransition {
    pub from: PaymentState,
    pub event: Event,
}

impl Event {
    pub const ALL: [Event; 10] = [
        Self::Submitted,
        Self::CustomerActionRequired,
        Self::NetworkSucceeded,
        Self::NetworkDeclined,
        Self::ReversalStarted,
        Self::NetworkReversed,
        Self::ReversalRefused,
        Self::LateApproval,
        Self::PartiallyRefunded,
        Self::FullyRefunded,
    ];
}

// === impl PaymentState ===

impl PaymentState {
    pub const ALL: [PaymentState; 9] = [
        Self::Received,
        Self::Authorizing,
        Self::AwaitingCustomer,
        Self::Succeeded,
        Self::Declined,
        Self::Reversing,
        Self::Reversed,
        Self::PartiallyRefunded,
        Self::Refunded,
    ];

    /// The lifecycle table. Not listed means illegal.
    pub fn apply(self, event: Event) -> Result<PaymentState, IllegalTransition> {
        use Event as E;
        use PaymentState as S;
        let next = match (self, event) {
            (S::Received, E::Submitted) => S::Authorizing,
            (S::Authorizing | S::AwaitingCustomer, E::CustomerActionRequired) => {
                S::AwaitingCustomer
            }
            (S::Authorizing | S::AwaitingCustomer, E::NetworkSucceeded) => S::Succeeded,
            (S::Authorizing | S::AwaitingCustomer, E::NetworkDeclined) => S::Declined,
            (
                S::Received | S::Authorizing | S::AwaitingCustomer | S::Succeeded,
                E::ReversalStarted,
            ) => S::Reversing,
            (S::Reversing, E::NetworkReversed) => S::Reversed,
            (S::Reversing, E::ReversalRefused) => S::Succeeded,
            (S::Reversing | S::Reversed, E::LateApproval) => S::Reversing,
            (S::Succeeded | S::PartiallyRefunded, E::PartiallyRefunded) => S::PartiallyRefunded,
            (S::Succeeded | S::PartiallyRefunded, E::FullyRefunded) => S::Refunded,
            (from, event) => return Err(IllegalTransition { from, event }),
        };
        Ok(next)
    }

    /// No action of the switch or the terminal moves the payment's money again. A REVERSED
    /// payment still hears a late approval from its network (then it is reversed again);
    /// DECLINED and REFUNDED hear nothing.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Declined | Self::Reversed | Self::Refunded)
    }

    /// The network's outcome is not yet known: a driver must keep working on it.
    pub fn is_in_doubt(self) -> bool {
        matches!(
            self,
            Self::Received | Self::Authorizing | Self::AwaitingCustomer | Self::Reversing
        )
    }

    /// The terminal's wait is over: the payment has an outcome a cashier can act on.
    pub fn is_settled_for_terminal(self) -> bool {
        !self.is_in_doubt()
    }

    /// `Pay` answers now: the payment is settled, or the customer must confirm in the
    /// wallet (PIN entry), so the till shows "waiting for the customer" and follows the
    /// payment with WatchPayment while the switch keeps driving it.
    pub fn ends_pay_wait(self) -> bool {
        self == Self::AwaitingCustomer || self.is_settled_for_terminal()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::Authorizing => "AUTHORIZING",
            Self::AwaitingCustomer => "AWAITING_CUSTOMER",
            Self::Succeeded => "SUCCEEDED",
            Self::Declined => "DECLINED",
            Self::Reversing => "REVERSING",
            Self::Reversed => "REVERSED",
            Self::PartiallyRefunded => "PARTIALLY_REFUNDED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

impl fmt::Display for PaymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event as E;
    use PaymentState as S;

    const EVENTS: [Event; 10] = Event::ALL;

    /// The whole legal table, written out independently of `apply`.
    const LEGAL: [(PaymentState, Event, PaymentState); 19] = [
        (S::Received, E::Submitted, S::Authorizing),
        (S::Received, E::ReversalStarted, S::Reversing),
        (
            S::Authorizing,
            E::CustomerActionRequired,
            S::AwaitingCustomer,
        ),
        (S::Authorizing, E::NetworkSucceeded, S::Succeeded),
        (S::Authorizing, E::NetworkDeclined, S::Declined),
        (S::Authorizing, E::ReversalStarted, S::Reversing),
        (
            S::AwaitingCustomer,
            E::CustomerActionRequired,
            S::AwaitingCustomer,
        ),
        (S::AwaitingCustomer, E::NetworkSucceeded, S::Succeeded),
        (S::AwaitingCustomer, E::NetworkDeclined, S::Declined),
        (S::AwaitingCustomer, E::ReversalStarted, S::Reversing),
        (S::Succeeded, E::ReversalStarted, S::Reversing),
        (S::Succeeded, E::PartiallyRefunded, S::PartiallyRefunded),
        (S::Succeeded, E::FullyRefunded, S::Refunded),
        (S::Reversing, E::NetworkReversed, S::Reversed),
        (S::Reversing, E::ReversalRefused, S::Succeeded),
        (S::Reversing, E::LateApproval, S::Reversing),
        (S::Reversed, E::LateApproval, S::Reversing),
        (
            S::PartiallyRefunded,
            E::PartiallyRefunded,
            S::PartiallyRefunded,
        ),
        (S::PartiallyRefunded, E::FullyRefunded, S::Refunded),
    ];

    fn expected(from: PaymentState, event: Event) -> Option<PaymentState> {
        LEGAL
            .iter()
            .find(|(f, e, _)| *f == from && *e == event)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn every_state_event_pair_follows_the_table() {
        let mut legal = 0;
        for from in PaymentState::ALL {
            for event in EVENTS {
                match (from.apply(event), expected(from, event)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} + {event:?}");
                        legal += 1;
                    }
                    (Err(err), None) => assert_eq!(err, IllegalTransition { from, event }),
                    (got, want) => panic!("{from} + {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(legal, 19);
        assert_eq!(PaymentState::ALL.len() * EVENTS.len(), 90);
    }

    #[test]
    fn a_duplicate_success_is_not_a_transition() {
        // A late "succeeded" for a payment already succeeded is not applied twice.
        assert!(S::Succeeded.apply(E::NetworkSucceeded).is_err());
    }

    #[test]
    fn final_states_accept_only_a_late_approval() {
        for from in PaymentState::ALL.into_iter().filter(|s| s.is_final()) {
            for event in EVENTS {
                let late = from == S::Reversed && event == E::LateApproval;
                assert_eq!(from.apply(event).is_ok(), late, "{from} + {event:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in PaymentState::ALL {
            assert_eq!(PaymentState::parse(s.as_str()), Some(s));
        }
    }
}
