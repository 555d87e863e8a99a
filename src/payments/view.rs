//! What callers see of a payment: the record, its refunds, and why it is where it is.
use crate::domain::{PaymentRecord, PaymentState, RefundRecord, Transition};

/// Transitions a state reason is made of, at most: a payment's history after it left the
/// in-doubt states is short (reversal started, reversed; or succeeded and a few refunds), so
/// the newest few say why it is where it is.
const REASON_TRANSITIONS_MAX: usize = 6;
/// Longest state reason, in characters; longer ones are cut with an ellipsis.
const REASON_CHARS_MAX: usize = 400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub payment: PaymentRecord,
    pub refunds: Vec<RefundRecord>,
    /// Why the payment is in its current state, for people: see [`state_reason`].
    pub state_reason: String,
    /// The quote `Pay` named and, once captured, the network's difference from it.
    pub fx: Option<super::FxView>,
    /// The stored transitions this view was built from, oldest first, when it was built
    /// from what this instance committed; `None` for a placeholder (a driver that picked the
    /// payment up opens its channel before it knows them). A complete view answers the
    /// driver's and the waiting Pay's re-reads from memory.
    pub history: Option<std::sync::Arc<[Transition]>>,
}

/// Why a payment is where it is, in words for people, from its stored transitions (oldest
/// first). Once the payment has left AUTHORIZING/AWAITING_CUSTOMER, the details of that
/// transition and of every later one, joined: "<why it started reversing>; <how it ended>".
/// While it is still there (or never got there), the newest transition's detail. Empty when
/// there is no history. Built only from the transitions' details, which never hold a secret
/// or a full payment code.
pub fn state_reason(transitions: &[Transition]) -> String {
    let awaiting = |s: Option<PaymentState>| {
        matches!(
            s,
            Some(PaymentState::Authorizing | PaymentState::AwaitingCustomer)
        )
    };
    let left = transitions
        .iter()
        .rposition(|t| awaiting(t.from) && !awaiting(Some(t.to)));
    let since = match left {
        Some(index) => &transitions[index..],
        None => &transitions[transitions.len().saturating_sub(1)..],
    };
    let newest = &since[since.len().saturating_sub(REASON_TRANSITIONS_MAX)..];
    let mut details: Vec<&str> = Vec::with_capacity(newest.len());
    for t in newest {
        let detail = t.detail.trim();
        if !detail.is_empty() && details.last() != Some(&detail) {
            details.push(detail);
        }
    }
    let reason = details.join("; ");
    if reason.chars().count() <= REASON_CHARS_MAX {
        return reason;
    }
    let mut cut: String = reason.chars().take(REASON_CHARS_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentState as S;

    fn history(steps: &[(Option<PaymentState>, PaymentState, &str)]) -> Vec<Transition> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (from, to, detail))| Transition {
                seq: i as i64 + 1,
                from: *from,
                to: *to,
                detail: (*detail).to_owned(),
                at_ms: 1_000 + i as i64,
            })
            .collect()
    }

    #[test]
    fn a_reversed_payment_says_why_it_started_reversing_and_how_it_ended() {
        let transitions = history(&[
            (None, S::Received, "accepted"),
            (Some(S::Received), S::Authorizing, "routed to linepay"),
            (
                Some(S::Authorizing),
                S::Reversing,
                "deadline passed unresolved",
            ),
            (Some(S::Reversing), S::Reversed, "reversed by network"),
        ]);
        assert_eq!(
            state_reason(&transitions),
            "deadline passed unresolved; reversed by network"
        );
    }

    #[test]
    fn a_payment_still_in_doubt_gives_its_newest_detail() {
        let transitions = history(&[
            (None, S::Received, "accepted"),
            (Some(S::Received), S::Authorizing, "routed to wechatpay"),
            (
                Some(S::Authorizing),
                S::AwaitingCustomer,
                "customer must act",
            ),
        ]);
        assert_eq!(state_reason(&transitions), "customer must act");
        assert_eq!(state_reason(&[]), "");
    }

    #[test]
    fn refunds_after_success_are_part_of_the_reason() {
        let transitions = history(&[
            (None, S::Received, "accepted"),
            (Some(S::Received), S::Authorizing, "routed"),
            (Some(S::Authorizing), S::Succeeded, "network txn 42"),
            (
                Some(S::Succeeded),
                S::PartiallyRefunded,
                "refund r1 of JPY 500",
            ),
        ]);
        assert_eq!(
            state_reason(&transitions),
            "network txn 42; refund r1 of JPY 500"
        );
    }

    #[test]
    fn a_long_history_is_bounded() {
        let details: Vec<String> = (0..50)
            .map(|i| format!("refund r{i} {}", "x".repeat(90)))
            .collect();
        let mut steps = vec![(Some(S::Authorizing), S::Succeeded, "network txn 1")];
        for detail in &details {
            steps.push((
                Some(S::PartiallyRefunded),
                S::PartiallyRefunded,
                detail.as_str(),
            ));
        }
        let reason = state_reason(&history(&steps));
        assert!(
            reason.starts_with("refund r44 "),
            "the newest transitions: {reason}"
        );
        assert_eq!(reason.chars().count(), REASON_CHARS_MAX);
        assert!(reason.ends_with('…'));
    }
}
