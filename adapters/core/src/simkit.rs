//! Building blocks every network simulator shares: fault injection, a bounded replay
//! guard for nonces, and ISO 8601 timestamps from the injected clock.
use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

use serde::Deserialize;

/// Upper bound on queued fault rules; the oldest is dropped first.
pub const FAULTS_MAX: usize = 64;

/// Misbehaviour a test or integrator asks a simulator for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally, `ms` late.
    Delay { ms: u64 },
    /// Never answer and never process: the request is lost on the way in.
    Hang,
    /// Process the request (money moves), then never answer: the reply is lost.
    HangAfterProcessing,
    /// Answer with this HTTP status and an HTML error page.
    HttpStatus { status: u16 },
    /// Answer with a body that does not parse.
    Garbled,
    /// Refuse with this network result code, moving nothing.
    Decline { code: String },
}

#[derive(Debug)]
struct Rule<O> {
    operation: Option<O>,
    fault: Fault,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

/// Fault rules, matched in order against each request's operation.
#[derive(Debug)]
pub struct FaultQueue<O> {
    rules: VecDeque<Rule<O>>,
}

impl<O> Default for FaultQueue<O> {
    fn default() -> Self {
        Self {
            rules: VecDeque::new(),
        }
    }
}

// === impl FaultQueue ===

impl<O: Copy + PartialEq> FaultQueue<O> {
    /// Adds a rule for one operation (`None`: every operation), for `remaining` requests
    /// (`None`: until cleared).
    pub fn push(&mut self, operation: Option<O>, fault: Fault, remaining: Option<u32>) {
        if self.rules.len() >= FAULTS_MAX {
            self.rules.pop_front();
        }
        self.rules.push_back(Rule {
            operation,
            fault,
            remaining,
        });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The first rule that applies to `operation`, counting one use of it.
    pub fn take(&mut self, operation: O) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|r| r.operation.is_none_or(|o| o == operation))?;
        let rule = self.rules.get_mut(index)?;
        let fault = rule.fault.clone();
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.rules.remove(index);
            }
        }
        Some(fault)
    }
}

/// A simulator's fault rules behind a lock, shared by its routes and its control handle.
#[derive(Debug)]
pub struct Faults<O> {
    queue: std::sync::Mutex<FaultQueue<O>>,
}

impl<O> Default for Faults<O> {
    fn default() -> Self {
        Self {
            queue: std::sync::Mutex::new(FaultQueue::default()),
        }
    }
}

impl<O: Copy + PartialEq> Faults<O> {
    fn queue(&self) -> std::sync::MutexGuard<'_, FaultQueue<O>> {
        // A panic while holding the lock leaves the queue consistent: recover it.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Injects `fault` for one operation (`None`: all) for `times` requests (`None`: until
    /// cleared).
    pub fn inject(&self, operation: Option<O>, fault: Fault, times: Option<u32>) {
        self.queue().push(operation, fault, times);
    }

    pub fn clear(&self) {
        self.queue().clear();
    }

    pub fn take(&self, operation: O) -> Option<Fault> {
        self.queue().take(operation)
    }
}

/// Remembers the last `capacity` values and refuses repeats: nonce replay detection with
/// bounded memory.
#[derive(Debug)]
pub struct ReplayGuard<T> {
    seen: HashSet<T>,
    order: VecDeque<T>,
    capacity: usize,
}

impl<T: Eq + Hash + Clone> ReplayGuard<T> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0);
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// `true` the first time a value is seen, `false` on a replay.
    pub fn first_use(&mut self, value: &T) -> bool {
        if self.seen.contains(value) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(value.clone());
        self.order.push_back(value.clone());
        true
    }
}

/// `2026-11-25T04:53:00Z` for a Unix-millisecond instant.
pub fn iso8601_utc(ms: i64) -> String {
    iso8601_with_offset(ms, 0)
}

/// ISO 8601 at a fixed offset, e.g. JST = `+09:00` with `offset_minutes = 540`.
pub fn iso8601_with_offset(ms: i64, offset_minutes: i64) -> String {
    let secs = ms.div_euclid(1000) + offset_minutes * 60;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        format!(
            "{sign}{:02}:{:02}",
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        )
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(1_795_000_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(
            iso8601_with_offset(1_795_000_000_000, 540),
            "2026-11-18T20:06:40+09:00"
        );
    }

    #[test]
    fn faults_apply_in_order_and_run_out() {
        let mut q: FaultQueue<u8> = FaultQueue::default();
        q.push(Some(1), Fault::Hang, Some(1));
        q.push(None, Fault::Garbled, None);
        assert_eq!(q.take(1), Some(Fault::Hang));
        assert_eq!(q.take(1), Some(Fault::Garbled));
        assert_eq!(q.take(2), Some(Fault::Garbled));
        q.clear();
        assert_eq!(q.take(1), None);
    }

    #[test]
    fn replays_are_refused_within_capacity() {
        let mut guard = ReplayGuard::new(2);
        assert!(guard.first_use(&"a"));
        assert!(!guard.first_use(&"a"));
        assert!(guard.first_use(&"b"));
        assert!(guard.first_use(&"c")); // evicts "a"
        assert!(guard.first_use(&"a"));
    }
}
