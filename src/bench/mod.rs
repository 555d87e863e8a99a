//! `kakehashi bench`: N tills driving the switch over loopback gRPC with a mix of payments,
//! refunds, cancels, dynamic QRs and replays, and in the same run, with the same client and
//! concurrency, two baselines (an echo and a one-HTTP-call relay, see [`baseline`]). It
//! prints payments/s as a ratio of each baseline, the CPU spent per payment by every
//! process involved, and the store's work per payment, so changes are judged as ratios on
//! a shared machine rather than as absolute numbers.
//!
//! Every run uses a fresh database (a temporary SQLite file; on PostgreSQL a database with
//! a random name, dropped after) and order ids unique to the run, so a replay is measured
//! only when the mix asks for one.
pub mod baseline;
pub mod client;
pub mod hold;
pub mod ops;
pub mod procstat;
mod report;
pub mod sqlcount;
pub mod target;

use std::sync::Arc;
use std::time::Duration;

pub use report::{Report, Run, StoreFigures, Usage};

use crate::store::stats;
use crate::terminal::Terminal;

pub const PAYMENTS_MAX: usize = 100_000;
pub const CONCURRENCY_MAX: usize = 256;
/// Customer codes are valid for five minutes and are issued before the run starts.
pub const DURATION_MAX: Duration = Duration::from_secs(240);

/// Shares of the operations, in percent; the rest are plain payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub refund_pct: u8,
    pub cancel_pct: u8,
    pub replay_pct: u8,
    pub qr_pct: u8,
}

impl Mix {
    fn check(&self) -> Result<(), String> {
        let total = u32::from(self.refund_pct)
            + u32::from(self.cancel_pct)
            + u32::from(self.replay_pct)
            + u32::from(self.qr_pct);
        if total > 100 {
            return Err(format!("the mix adds up to {total}%, more than 100%"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub payments: usize,
    pub duration: Duration,
    pub concurrency: usize,
    pub mix: Mix,
    /// Run the switch and simulators as child processes.
    pub processes: bool,
    /// A PostgreSQL server URL (any database on it, e.g. `.../postgres`): the switch also
    /// runs on a fresh database created there and dropped after.
    pub postgres: Option<String>,
    /// Skip SQLite (with `postgres`).
    pub skip_sqlite: bool,
    /// The `kakehashi` executable for `processes` (default: this one; tests name theirs).
    pub executable: Option<std::path::PathBuf>,
}

impl Options {
    fn check(&self) -> Result<(), String> {
        self.mix.check()?;
        if self.payments == 0 || self.payments > PAYMENTS_MAX {
            return Err(format!("--payments must be between 1 and {PAYMENTS_MAX}"));
        }
        if self.concurrency == 0 || self.concurrency > CONCURRENCY_MAX {
            return Err(format!(
                "--concurrency must be between 1 and {CONCURRENCY_MAX}"
            ));
        }
        if self.duration.is_zero() || self.duration > DURATION_MAX {
            return Err(format!(
                "--duration must be between 1 and {} seconds",
                DURATION_MAX.as_secs()
            ));
        }
        if self.skip_sqlite && self.postgres.is_none() {
            return Err("--skip-sqlite needs --postgres".into());
        }
        Ok(())
    }
}

/// Runs both baselines, then the switch on each store.
pub async fn run(options: &Options) -> Result<Report, String> {
    options.check()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let counting = sqlcount::install();
    let mut runs = vec![
        run_baseline("echo", baseline::echo().await?, options).await?,
        run_baseline("relay", baseline::relay().await?, options).await?,
    ];
    if !options.skip_sqlite {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        runs.push(run_switch("switch/sqlite", &url, None, options, counting).await?);
    }
    if let Some(server) = &options.postgres {
        let db = FreshPostgres::create(server).await?;
        let result = run_switch("switch/postgres", &db.url, Some(&db), options, counting).await;
        db.drop_database().await;
        runs.push(result?);
    }
    Ok(Report {
        options: options.clone(),
        runs,
    })
}

pub(crate) async fn connect_tills(
    url: &str,
    count: usize,
    key: impl Fn(usize) -> String,
) -> Result<Vec<Terminal>, String> {
    let mut tills = Vec::with_capacity(count);
    for i in 0..count {
        tills.push(Terminal::connect(url, &key(i)).await?);
    }
    Ok(tills)
}

async fn run_baseline(
    name: &str,
    server: baseline::Baseline,
    options: &Options,
) -> Result<Run, String> {
    let url = format!("http://{}", server.addr);
    let mut channels = Vec::with_capacity(options.concurrency);
    for _ in 0..options.concurrency {
        channels.push(
            tonic::transport::Channel::from_shared(url.clone())
                .map_err(|e| e.to_string())?
                .connect()
                .await
                .map_err(|e| format!("{name}: {e}"))?,
        );
    }
    let channels = Arc::new(channels);
    let op: client::Op = Arc::new(move |_, worker| {
        let channel = channels.get(worker % channels.len().max(1)).cloned();
        Box::pin(async move {
            match channel {
                Some(c) => baseline::check(c).await,
                None => client::Outcome::failed(Duration::ZERO, "no channel".into()),
            }
        })
    });
    let before = Usage::sample(&[], None);
    let samples = client::drive(op, options.concurrency, options.payments, options.duration).await;
    let usage = Usage::sample(&[], None).since(&before);
    drop(server);
    Ok(Run {
        name: name.to_owned(),
        samples,
        usage,
        store: None,
    })
}

async fn run_switch(
    name: &str,
    store_url: &str,
    postgres: Option<&FreshPostgres>,
    options: &Options,
    counting: bool,
) -> Result<Run, String> {
    let mut networks = vec![ops::CODE_NETWORK.to_owned()];
    if options.mix.qr_pct > 0 {
        networks.push(ops::QR_NETWORK.to_owned());
    }
    let target = if options.processes {
        target::processes(
            options.executable.as_deref(),
            store_url,
            options.concurrency,
            &networks,
            target::Tuning::default(),
        )
        .await?
    } else {
        target::in_process(store_url, options.concurrency, &networks).await?
    };
    let code_sim = target
        .sims
        .get(ops::CODE_NETWORK)
        .ok_or("no code simulator")?;
    let codes = target::issue_codes(code_sim, options.payments).await?;
    let tills = connect_tills(&target.switch_url, options.concurrency, target::till_key).await?;
    let seed = rand::random::<u64>();
    let run_id: Arc<str> = format!("bench-{seed:016x}").into();
    let op = ops::switch_op(Arc::new(tills), Arc::new(codes), run_id, options.mix, seed);
    let pg_name = postgres.map(|p| p.name.as_str());
    if !options.processes {
        procstat::reset_own_peak();
    }
    let pg_before = match postgres {
        Some(p) => p.commits().await,
        None => None,
    };
    let store_before = stats::snapshot();
    let statements_before = sqlcount::statements();
    let kinds_before = sqlcount::by_summary();
    let before = Usage::sample(&target.processes, pg_name);
    let samples = client::drive(op, options.concurrency, options.payments, options.duration).await;
    let usage = Usage::sample(&target.processes, pg_name).since(&before);
    let store_delta = stats::snapshot().since(&store_before);
    let statements = match (statements_before, sqlcount::statements()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let mut statement_kinds: Vec<(String, u64)> = sqlcount::by_summary()
        .into_iter()
        .map(|(k, n)| {
            let before = kinds_before.get(&k).copied().unwrap_or(0);
            (k, n.saturating_sub(before))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    statement_kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    target.stop().await;
    let pg_commits = match (postgres, pg_before) {
        (Some(p), Some(before)) => p.commits_settled(before).await,
        _ => None,
    };
    let in_process = !options.processes;
    Ok(Run {
        name: name.to_owned(),
        samples,
        usage,
        store: Some(StoreFigures {
            stats: in_process.then_some(store_delta),
            statements: if in_process && counting {
                statements
            } else {
                None
            },
            statement_kinds: if in_process && counting {
                statement_kinds
            } else {
                Vec::new()
            },
            postgres_commits: pg_commits,
        }),
    })
}

/// A database with a random name on a PostgreSQL server, for one run.
pub struct FreshPostgres {
    admin: sqlx::AnyPool,
    pub name: String,
    pub url: String,
}

impl FreshPostgres {
    async fn create(server: &str) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let admin = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(server)
            .await
            .map_err(|e| format!("PostgreSQL {}: {e}", mask_url(server)))?;
        let name = format!("kakehashi_bench_{:016x}", rand::random::<u64>());
        // The name is ours: a fixed prefix and 16 hex digits.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        let url = replace_database(server, &name)?;
        Ok(Self { admin, name, url })
    }

    /// Commits PostgreSQL has counted in the database (pg_stat_database.xact_commit).
    async fn commits(&self) -> Option<i64> {
        let _ = sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&self.admin)
            .await;
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(xact_commit AS BIGINT) FROM pg_stat_database WHERE datname = $1",
        )
        .bind(&self.name)
        .fetch_optional(&self.admin)
        .await
        .ok()
        .flatten()
    }

    /// Commits since `before`, once the switch's backends have gone and flushed their
    /// statistics (they flush at exit, or within a second).
    async fn commits_settled(&self, before: i64) -> Option<u64> {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = self.commits().await?;
        u64::try_from(after - before).ok()
    }

    async fn drop_database(self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await;
        self.admin.close().await;
    }
}

/// `server` with its database path replaced by `name`.
fn replace_database(server: &str, name: &str) -> Result<String, String> {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let rest = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
        .ok_or("--postgres must be a postgres:// URL")?;
    let host = rest.split_once('/').map_or(rest, |(h, _)| h);
    Ok(match query {
        Some(q) => format!("postgres://{host}/{name}?{q}"),
        None => format!("postgres://{host}/{name}"),
    })
}

/// The URL without its password, for errors.
fn mask_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_passwords_masked() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "b1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/x?sslmode=disable", "b1").unwrap(),
            "postgres://u:p@h/b1?sslmode=disable"
        );
        assert!(replace_database("sqlite://x", "b").is_err());
        assert_eq!(mask_url("postgres://u:secret@h/x"), "postgres://***@h/x");
    }

    #[test]
    fn options_out_of_bounds_are_refused() {
        let ok = Options {
            payments: 10,
            duration: Duration::from_secs(5),
            concurrency: 2,
            mix: Mix {
                refund_pct: 5,
                cancel_pct: 5,
                replay_pct: 5,
                qr_pct: 5,
            },
            processes: false,
            postgres: None,
            skip_sqlite: false,
            executable: None,
        };
        assert!(ok.check().is_ok());
        for bad in [
            Options {
                payments: 0,
                ..ok.clone()
            },
            Options {
                payments: PAYMENTS_MAX + 1,
                ..ok.clone()
            },
            Options {
                concurrency: CONCURRENCY_MAX + 1,
                ..ok.clone()
            },
            Options {
                duration: DURATION_MAX * 2,
                ..ok.clone()
            },
            Options {
                skip_sqlite: true,
                ..ok.clone()
            },
            Options {
                mix: Mix {
                    refund_pct: 60,
                    cancel_pct: 50,
                    ..ok.mix
                },
                ..ok.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
