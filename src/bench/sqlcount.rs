//! Counts the SQL statements sqlx runs, from its own per-statement trace events (target
//! `sqlx::query`, one per statement executed, with the statement's summary). That sees
//! every statement on every code path without wrapping the store. Transaction control
//! (BEGIN, COMMIT, ROLLBACK, savepoints) is left out: sqlx logs it on PostgreSQL but not on
//! SQLite, and the store counts transactions itself (`store::stats`).
//!
//! Only in the process that installed the counter: `kakehashi bench` installs it as the
//! global subscriber when nothing else is; a switch in another process is not counted.
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

static STATEMENTS: AtomicU64 = AtomicU64::new(0);
static INSTALLED: OnceLock<bool> = OnceLock::new();
/// Statements by sqlx's summary ("INSERT INTO payments …"), so a report can say which
/// statements a payment spends, not only how many.
static BY_SUMMARY: OnceLock<dashmap::DashMap<String, u64>> = OnceLock::new();
/// Distinct summaries kept at most; later ones count under "other".
const SUMMARIES_MAX: usize = 256;

/// Installs the counter as the global subscriber, once. False when another subscriber was
/// already installed (then statements are not counted).
pub fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        let filter = tracing_subscriber::filter::filter_fn(|m| m.target() == "sqlx::query");
        let subscriber = tracing_subscriber::registry().with(Counter.with_filter(filter));
        tracing::subscriber::set_global_default(subscriber).is_ok()
    })
}

/// Statements counted so far by summary, or empty if the counter is not installed.
pub fn by_summary() -> std::collections::BTreeMap<String, u64> {
    BY_SUMMARY
        .get()
        .map(|m| m.iter().map(|e| (e.key().clone(), *e.value())).collect())
        .unwrap_or_default()
}

/// Statements counted so far, or `None` if the counter is not installed.
pub fn statements() -> Option<u64> {
    INSTALLED
        .get()
        .copied()
        .unwrap_or(false)
        .then(|| STATEMENTS.load(Ordering::Relaxed))
}

struct Counter;

impl<S: tracing::Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut summary = Summary::default();
        event.record(&mut summary);
        if !summary.control {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
            let map = BY_SUMMARY.get_or_init(dashmap::DashMap::new);
            let key = if map.len() < SUMMARIES_MAX || map.contains_key(&summary.text) {
                summary.text
            } else {
                "other".to_owned()
            };
            *map.entry(key).or_default() += 1;
        }
    }
}

/// The statement's summary and whether it is transaction control.
#[derive(Default)]
struct Summary {
    control: bool,
    text: String,
}

impl Visit for Summary {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.control = is_transaction_control(value);
            self.text = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.text = format!("{value:?}").replace('"', "");
            self.control = is_transaction_control(&self.text);
        }
    }
}

fn is_transaction_control(summary: &str) -> bool {
    let word = summary
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        word.as_str(),
        "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_told_from_statements() {
        assert!(is_transaction_control("BEGIN"));
        assert!(is_transaction_control("commit"));
        assert!(is_transaction_control("SAVEPOINT _sqlx_savepoint_1"));
        assert!(!is_transaction_control("INSERT INTO payments …"));
        assert!(!is_transaction_control("SELECT 1"));
    }
}
