//! What a bench run measured, and how it is printed.
use std::fmt::Write as _;

use super::Options;
use super::client::Samples;
use super::procstat;
use super::target::Process;
use crate::store::stats::StoreStats;

/// CPU seconds and peak RSS of one process (or group of processes).
#[derive(Debug, Clone)]
pub struct ProcessUsage {
    pub label: String,
    pub cpu_seconds: f64,
    pub peak_rss_kib: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub processes: Vec<ProcessUsage>,
}

impl Usage {
    /// This process, `children`, and (when named) the PostgreSQL server's processes.
    pub fn sample(children: &[Process], postgres: Option<&str>) -> Usage {
        let own = if children.is_empty() {
            "bench (generator + switch + simulators)"
        } else {
            "bench (generator)"
        };
        let mut processes = vec![ProcessUsage {
            label: own.into(),
            cpu_seconds: procstat::cpu_seconds("self").unwrap_or(0.0),
            peak_rss_kib: procstat::peak_rss_kib("self"),
        }];
        for c in children {
            processes.push(ProcessUsage {
                label: c.label.clone(),
                cpu_seconds: procstat::cpu_seconds(&c.pid).unwrap_or(0.0),
                peak_rss_kib: procstat::peak_rss_kib(&c.pid),
            });
        }
        if postgres.is_some() {
            let (cpu, rss) = procstat::group("postgres");
            processes.push(ProcessUsage {
                label: "postgres (all server processes)".into(),
                cpu_seconds: cpu,
                peak_rss_kib: Some(rss),
            });
        }
        Usage { processes }
    }

    /// CPU between `earlier` and `self`; peaks as of `self`.
    pub fn since(&self, earlier: &Usage) -> Usage {
        let processes = self
            .processes
            .iter()
            .map(|p| {
                let before = earlier
                    .processes
                    .iter()
                    .find(|e| e.label == p.label)
                    .map_or(0.0, |e| e.cpu_seconds);
                ProcessUsage {
                    label: p.label.clone(),
                    cpu_seconds: (p.cpu_seconds - before).max(0.0),
                    peak_rss_kib: p.peak_rss_kib,
                }
            })
            .collect();
        Usage { processes }
    }

    pub fn cpu_seconds(&self) -> f64 {
        self.processes.iter().map(|p| p.cpu_seconds).sum()
    }
}

/// The store's work during a switch run.
#[derive(Debug, Clone, Default)]
pub struct StoreFigures {
    /// Counted by the store itself (`store::stats`); in-process runs only.
    pub stats: Option<StoreStats>,
    /// Counted from sqlx's statement events; in-process runs only.
    pub statements: Option<u64>,
    /// The same, by sqlx's statement summary, most frequent first.
    pub statement_kinds: Vec<(String, u64)>,
    /// PostgreSQL's own count (pg_stat_database.xact_commit): every committed transaction,
    /// read-only ones and single-statement ones included.
    pub postgres_commits: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub samples: Samples,
    pub usage: Usage,
    pub store: Option<StoreFigures>,
}

impl Run {
    /// What the run counts per second: payments for the switch, calls for a baseline.
    pub fn units(&self) -> u64 {
        if self.store.is_some() {
            self.samples.payments
        } else {
            self.samples.operations - self.samples.error_count().min(self.samples.operations)
        }
    }

    pub fn per_second(&self) -> f64 {
        self.samples.rate(self.units())
    }

    /// CPU of every process, per unit, in microseconds.
    pub fn cpu_us_per_unit(&self) -> f64 {
        self.usage.cpu_seconds() * 1e6 / (self.units().max(1) as f64)
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub options: Options,
    pub runs: Vec<Run>,
}

impl Report {
    pub fn run(&self, name: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.name == name)
    }

    pub fn render(&self) -> String {
        let o = &self.options;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "kakehashi bench: up to {} operations or {} s, concurrency {}, {}; mix: refunds {}%, \
             cancels {}%, replays {}%, dynamic QR {}%",
            o.payments,
            o.duration.as_secs(),
            o.concurrency,
            if o.processes {
                "separate processes"
            } else {
                "in-process"
            },
            o.mix.refund_pct,
            o.mix.cancel_pct,
            o.mix.replay_pct,
            o.mix.qr_pct
        );
        let _ = writeln!(
            s,
            "{:<16} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9}",
            "target",
            "ops",
            "payments",
            "per s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "errors",
            "CPU µs"
        );
        for r in &self.runs {
            let m = &r.samples;
            let _ = writeln!(
                s,
                "{:<16} {:>7} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>9.0}",
                r.name,
                m.operations,
                if r.store.is_some() {
                    m.payments.to_string()
                } else {
                    "-".into()
                },
                r.per_second(),
                m.quantile_ms(0.5),
                m.quantile_ms(0.9),
                m.quantile_ms(0.99),
                m.quantile_ms(0.999),
                m.error_count(),
                r.cpu_us_per_unit()
            );
        }
        let echo = self.run("echo").map(Run::per_second);
        let relay = self.run("relay").map(Run::per_second);
        for r in &self.runs {
            s.push('\n');
            let _ = writeln!(s, "{}:", r.name);
            if let Some(store) = &r.store {
                let ratio = |b: Option<f64>| match b {
                    Some(b) if b > 0.0 => format!("{:.3}", r.per_second() / b),
                    _ => "n/a".into(),
                };
                let _ = writeln!(
                    s,
                    "  payments/s ÷ echo {}, ÷ relay {}; CPU {:.0} µs per payment (all processes)",
                    ratio(echo),
                    ratio(relay),
                    r.cpu_us_per_unit()
                );
                let _ = writeln!(s, "  per payment: {}", store_line(store, m_payments(r)));
                for (summary, n) in store.statement_kinds.iter().take(STATEMENT_KINDS_SHOWN) {
                    let _ = writeln!(s, "    {:>6.2}  {summary}", *n as f64 / m_payments(r));
                }
            } else {
                let _ = writeln!(
                    s,
                    "  CPU {:.0} µs per call (all processes)",
                    r.cpu_us_per_unit()
                );
            }
            for p in &r.usage.processes {
                let _ = writeln!(
                    s,
                    "  {:<40} CPU {:>7.2} s   peak RSS {}",
                    p.label,
                    p.cpu_seconds,
                    p.peak_rss_kib.map_or("unknown".into(), |k| format!(
                        "{:.1} MiB",
                        k as f64 / 1024.0
                    ))
                );
            }
            for (e, n) in &r.samples.errors {
                let _ = writeln!(s, "  error: {e} × {n}");
            }
        }
        s
    }
}

fn m_payments(r: &Run) -> f64 {
    r.samples.payments.max(1) as f64
}

/// Statement kinds listed under a switch run, most frequent first.
const STATEMENT_KINDS_SHOWN: usize = 32;

fn store_line(store: &StoreFigures, payments: f64) -> String {
    let per = |n: u64| format!("{:.2}", n as f64 / payments);
    let mut parts = Vec::new();
    parts.push(match store.statements {
        Some(n) => format!("{} statements", per(n)),
        None => "statements n/a".into(),
    });
    match &store.stats {
        Some(st) => {
            parts.push(format!("{} transactions", per(st.transactions)));
            parts.push(format!(
                "{} durable commits ({} commits + {} autocommit writes)",
                per(st.durable_commits()),
                per(st.commits),
                per(st.autocommit_writes)
            ));
            parts.push(format!("{} pool acquisitions", per(st.acquisitions)));
        }
        None => {
            parts.push("transactions, commits, acquisitions n/a (switch in another process)".into())
        }
    }
    if let Some(n) = store.postgres_commits {
        parts.push(format!("{} PostgreSQL xact_commit", per(n)));
    }
    parts.join(", ")
}
