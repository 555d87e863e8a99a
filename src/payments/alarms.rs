//! Operator alarms: things the switch cannot finish alone (a refund the network cannot be
//! asked about, reversal attempts exhausted). Each is logged at `error` once, then again at
//! most once per [`REPEAT_MS`] for the same subject, however often recovery passes over it,
//! and counted in the `kakehashi.operator_alarms` metric (by kind), so a dashboard shows how
//! many there are without anyone reading a flood of identical lines.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

/// How long before the same alarm is logged again.
pub(super) const REPEAT_MS: i64 = 15 * 60_000;
/// Subjects remembered at once; past this the oldest memory is dropped (its next alarm is
/// logged again sooner, nothing is lost).
const SUBJECTS_MAX: usize = 10_000;

/// What needs an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum AlarmKind {
    /// A refund still open past its deadline (the switch keeps trying).
    RefundOverdue,
    /// A refund whose outcome the network cannot be asked about.
    RefundUnqueryable,
    /// A refund the network does not hold after the one re-send a network without refund
    /// ids allows.
    RefundNotTaken,
    /// The reversal attempts ran out; the payment stays REVERSING.
    ReversalExhausted,
    /// The network refused a reversal and does not say where the money is.
    ReversalRefusedUnknown,
}

impl AlarmKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::RefundOverdue => "refund_overdue",
            Self::RefundUnqueryable => "refund_unqueryable",
            Self::RefundNotTaken => "refund_not_taken",
            Self::ReversalExhausted => "reversal_exhausted",
            Self::ReversalRefusedUnknown => "reversal_refused_unknown",
        }
    }
}

pub(super) struct Alarms {
    /// (kind, subject) -> when it was last logged.
    last: Mutex<HashMap<(AlarmKind, String), i64>>,
    raised: AtomicU64,
    counter: Counter<u64>,
}

// === impl Alarms ===

impl Alarms {
    pub(super) fn new() -> Self {
        let counter = opentelemetry::global::meter("kakehashi")
            .u64_counter("kakehashi.operator_alarms")
            .with_description("Alarms raised for an operator to act on, by kind")
            .build();
        Self {
            last: Mutex::new(HashMap::new()),
            raised: AtomicU64::new(0),
            counter,
        }
    }

    /// Logs `message` at error for `subject` unless the same alarm was logged within
    /// [`REPEAT_MS`]; returns whether it was logged.
    pub(super) fn raise(&self, kind: AlarmKind, subject: &str, now_ms: i64, message: &str) -> bool {
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let key = (kind, subject.to_owned());
            if let Some(at) = last.get(&key)
                && now_ms.saturating_sub(*at) < REPEAT_MS
            {
                return false;
            }
            if last.len() >= SUBJECTS_MAX
                && let Some(oldest) = last
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, _)| k.clone())
            {
                last.remove(&oldest);
            }
            last.insert(key, now_ms);
        }
        self.raised.fetch_add(1, Ordering::Relaxed);
        self.counter.add(1, &[KeyValue::new("kind", kind.as_str())]);
        tracing::error!(
            alarm = kind.as_str(),
            subject,
            "{message}; operator must act"
        );
        true
    }

    /// Alarms logged since start, every kind.
    pub(super) fn raised(&self) -> u64 {
        self.raised.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_is_logged_once_then_at_a_bounded_rate() {
        let alarms = Alarms::new();
        let kind = AlarmKind::RefundUnqueryable;
        assert!(alarms.raise(kind, "ref1", 0, "stuck"));
        for pass in 1..100 {
            assert!(!alarms.raise(kind, "ref1", pass * 2_000, "stuck"));
        }
        assert!(alarms.raise(kind, "ref2", 1_000, "another refund"));
        assert!(alarms.raise(kind, "ref1", REPEAT_MS, "still stuck"));
        assert_eq!(alarms.raised(), 3);
    }
}
