//! Process-wide store counters, read by `kakehashi bench` to print transactions, durable
//! commits and pool acquisitions per payment. They are plain relaxed atomics: one
//! uncontended `fetch_add` per event, cheap enough to stay on in production, and a
//! [`snapshot`] before and after a run gives the difference.
//!
//! What is counted, and where:
//! - `transactions`: every transaction begun on the pool (counted where the code calls
//!   `begin`);
//! - `commits`: every explicit `COMMIT` that succeeded;
//! - `autocommit_writes`: writes run outside a transaction, each its own durable commit;
//! - `acquisitions`: connections handed out by the pool and given back (sqlx's
//!   `after_release` hook, so a connection used by a transaction counts once).
//!
//! Statements are not counted here: the bench counts sqlx's own per-statement trace
//! events instead (see `bench::sqlcount`), which sees every statement without a wrapper.
use std::sync::atomic::{AtomicU64, Ordering};

static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);
static COMMITS: AtomicU64 = AtomicU64::new(0);
static AUTOCOMMIT_WRITES: AtomicU64 = AtomicU64::new(0);
static ACQUISITIONS: AtomicU64 = AtomicU64::new(0);

/// The counters at one instant; subtract two with [`StoreStats::since`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub transactions: u64,
    pub commits: u64,
    pub autocommit_writes: u64,
    pub acquisitions: u64,
}

impl StoreStats {
    /// Durable commits: explicit commits plus writes that committed on their own.
    pub fn durable_commits(&self) -> u64 {
        self.commits + self.autocommit_writes
    }

    /// The events between `earlier` and `self`.
    pub fn since(&self, earlier: &StoreStats) -> StoreStats {
        StoreStats {
            transactions: self.transactions.saturating_sub(earlier.transactions),
            commits: self.commits.saturating_sub(earlier.commits),
            autocommit_writes: self
                .autocommit_writes
                .saturating_sub(earlier.autocommit_writes),
            acquisitions: self.acquisitions.saturating_sub(earlier.acquisitions),
        }
    }
}

pub fn snapshot() -> StoreStats {
    StoreStats {
        transactions: TRANSACTIONS.load(Ordering::Relaxed),
        commits: COMMITS.load(Ordering::Relaxed),
        autocommit_writes: AUTOCOMMIT_WRITES.load(Ordering::Relaxed),
        acquisitions: ACQUISITIONS.load(Ordering::Relaxed),
    }
}

/// Call where a transaction is begun.
pub fn transaction_begun() {
    TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
}

/// Call after a `COMMIT` succeeded.
pub fn committed() {
    COMMITS.fetch_add(1, Ordering::Relaxed);
}

/// Call after a write that ran outside a transaction (its own implicit commit).
pub fn autocommit_write() {
    AUTOCOMMIT_WRITES.fetch_add(1, Ordering::Relaxed);
}

/// Called by the pool's `after_release` hook.
pub fn connection_released() {
    ACQUISITIONS.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_counts_only_the_events_between() {
        let before = snapshot();
        transaction_begun();
        committed();
        autocommit_write();
        connection_released();
        let delta = snapshot().since(&before);
        // Other tests may count concurrently: at least ours, and durable = commits + writes.
        assert!(delta.transactions >= 1 && delta.commits >= 1);
        assert!(delta.autocommit_writes >= 1 && delta.acquisitions >= 1);
        assert_eq!(
            delta.durable_commits(),
            delta.commits + delta.autocommit_writes
        );
    }
}
