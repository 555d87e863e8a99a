//! `kakehashi bench --hold N`: the switch's memory per in-flight payment. The switch and the
//! LINE Pay simulator run as separate processes; the simulator is told to hold every Pay
//! (the `hang` fault: it never answers until the switch's own call window ends), and the
//! tills pay N times with a short Pay wait, so each Pay returns AUTHORIZING while its
//! payment stays in flight at the network. The switch's resident set is read before (after
//! a warm-up of ordinary payments) and once all N are held; the difference over N is the
//! memory one in-flight payment costs, network connection included.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kakehashi_proto::v1::PaymentState;

use super::{ops, procstat, target};

/// Most payments one hold run keeps in flight: each holds a socket in both processes.
pub const HOLD_MAX: usize = 15_000;
/// Ordinary payments before the idle reading, so pools and caches are warm.
const WARM_UP: usize = 64;
/// How long a warm-up payment may take to succeed.
const WARM_UP_SETTLE: Duration = Duration::from_secs(10);
/// The Pay wait the switch is given: a till hears AUTHORIZING after this long.
const PAY_WAIT_MS: u64 = 50;
/// How long the holding may take: LINE Pay's Pay call window is 40 s, after which the
/// first held payments stop being in flight at the network.
const HOLD_WITHIN: Duration = Duration::from_secs(35);

#[derive(Debug, Clone)]
pub struct HoldReport {
    pub held: usize,
    pub errors: usize,
    pub took: Duration,
    pub idle_rss_kib: u64,
    pub held_rss_kib: u64,
    pub idle_fds: usize,
    pub held_fds: usize,
}

impl HoldReport {
    /// Switch memory per held payment, in bytes.
    pub fn bytes_per_payment(&self) -> f64 {
        let grown = self.held_rss_kib.saturating_sub(self.idle_rss_kib) as f64 * 1024.0;
        grown / self.held.max(1) as f64
    }
}

impl std::fmt::Display for HoldReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "held {} payments in flight at the network in {:.1} s ({} errors)",
            self.held,
            self.took.as_secs_f64(),
            self.errors
        )?;
        writeln!(
            f,
            "switch RSS: idle {:.1} MiB, holding {:.1} MiB; open files {} -> {}",
            self.idle_rss_kib as f64 / 1024.0,
            self.held_rss_kib as f64 / 1024.0,
            self.idle_fds,
            self.held_fds
        )?;
        write!(
            f,
            "switch memory per in-flight payment: {:.0} bytes ({:.1} KiB)",
            self.bytes_per_payment(),
            self.bytes_per_payment() / 1024.0
        )
    }
}

/// Runs the hold measurement with `payments` held by `tills` tills.
pub async fn run(
    payments: usize,
    tills: usize,
    executable: Option<&std::path::Path>,
) -> Result<HoldReport, String> {
    if payments == 0 || payments > HOLD_MAX {
        return Err(format!("--hold must be between 1 and {HOLD_MAX}"));
    }
    if tills == 0 || tills > super::CONCURRENCY_MAX {
        return Err(format!(
            "--concurrency must be between 1 and {}",
            super::CONCURRENCY_MAX
        ));
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}", dir.path().join("hold.db").display());
    let networks = [ops::CODE_NETWORK.to_owned()];
    let tuning = target::Tuning {
        pay_wait_ms: PAY_WAIT_MS,
        payments_in_flight_max: Some(payments + WARM_UP),
    };
    let target = target::processes(executable, &url, tills, &networks, tuning).await?;
    let result = hold(&target, payments, tills).await;
    target.stop().await;
    result
}

async fn hold(
    target: &target::Target,
    payments: usize,
    tills: usize,
) -> Result<HoldReport, String> {
    let sim = target
        .sims
        .get(ops::CODE_NETWORK)
        .ok_or("no code simulator")?;
    let switch_pid = target
        .processes
        .iter()
        .find(|p| p.label == "switch")
        .map(|p| p.pid.clone())
        .ok_or("no switch process")?;
    let codes = target::issue_codes(sim, payments + WARM_UP).await?;
    let terminals = super::connect_tills(&target.switch_url, tills, target::till_key).await?;
    let run = format!("hold-{:016x}", rand::random::<u64>());
    for (i, code) in codes.iter().take(WARM_UP).enumerate() {
        let mut till = terminals[i % terminals.len()].clone();
        let order = format!("{run}-warm-{i}");
        till.pay(&order, "100", "JPY", code)
            .await
            .map_err(|s| format!("warm-up Pay: {:?} {}", s.code(), s.message()))?;
        // The Pay wait is short: on a busy machine the answer may still be on its way.
        let settled_by = Instant::now() + WARM_UP_SETTLE;
        loop {
            let state = till
                .get(&order)
                .await
                .map_err(|s| format!("warm-up GetPayment: {:?}", s.code()))?
                .state;
            if state == PaymentState::Succeeded as i32 {
                break;
            }
            if Instant::now() > settled_by {
                return Err(format!("warm-up payment still in state {state}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Let the allocator settle before the idle reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss_kib = procstat::rss_kib(&switch_pid).ok_or("switch RSS unreadable")?;
    let idle_fds = open_files(&switch_pid);
    fault(sim, "hang").await?;
    let codes = Arc::new(codes.into_iter().skip(WARM_UP).collect::<Vec<_>>());
    let next = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(terminals.len());
    for till in terminals {
        let (codes, next, held, errors) =
            (codes.clone(), next.clone(), held.clone(), errors.clone());
        let run = run.clone();
        workers.push(tokio::spawn(async move {
            let mut till = till;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                if started.elapsed() > HOLD_WITHIN {
                    break;
                }
                match till.pay(&format!("{run}-{i}"), "100", "JPY", code).await {
                    Ok(p) if p.state == PaymentState::Authorizing as i32 => {
                        held.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let took = started.elapsed();
    let held_rss_kib = procstat::rss_kib(&switch_pid).ok_or("switch RSS unreadable")?;
    let held_fds = open_files(&switch_pid);
    Ok(HoldReport {
        held: held.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        took,
        idle_rss_kib,
        held_rss_kib,
        idle_fds,
        held_fds,
    })
}

/// Tells the simulator to hold every Pay (`POST /_sim/faults`).
async fn fault(sim: &str, kind: &str) -> Result<(), String> {
    let rule = serde_json::json!({ "operation": "pay", "fault": { "kind": kind } });
    let reply = reqwest::Client::new()
        .post(format!("{sim}/_sim/faults"))
        .json(&rule)
        .send()
        .await
        .map_err(|e| format!("simulator fault: {e}"))?;
    if !reply.status().is_success() {
        return Err(format!("simulator fault: HTTP {}", reply.status()));
    }
    Ok(())
}

fn open_files(pid: &str) -> usize {
    std::fs::read_dir(std::path::Path::new("/proc").join(pid).join("fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}
