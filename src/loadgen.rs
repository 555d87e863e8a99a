//! `kakehashi load`: a bounded load generator. It runs the real switch and the LINE Pay
//! simulator in-process, drives N payments at a fixed concurrency through the gRPC API, and
//! reports throughput and latency per store, so stores and changes are compared as ratios on
//! the same machine rather than as absolute numbers.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_adapter_core::{SimulatorOptions, SystemClock};

use crate::terminal::Terminal;
use crate::{Config, Switch};

pub const PAYMENTS_MAX: usize = 50_000;
pub const CONCURRENCY_MAX: usize = 256;

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub store: String,
    pub payments: usize,
    pub failures: usize,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.payments as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `payments` LINE Pay payments at `concurrency` against a switch on `store_url`.
pub async fn run(
    store_label: &str,
    store_url: &str,
    payments: usize,
    concurrency: usize,
) -> Result<LoadReport, String> {
    let payments = payments.clamp(1, PAYMENTS_MAX);
    let concurrency = concurrency.clamp(1, CONCURRENCY_MAX);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let factory = crate::networks::factory("linepay").ok_or("LINE Pay adapter not linked")?;
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: ([127, 0, 0, 1], 0).into(),
            seed: 1,
            clock: Arc::new(SystemClock),
        })
        .await
        .map_err(|e| e.to_string())?;
    let control = sim
        .control::<kakehashi_linepay::SimControl>()
        .ok_or("no LINE Pay control")?;
    let balance = Amount::parse("1000000000000", "JPY").map_err(|e| e.to_string())?;
    control
        .add_wallet(&NewWallet::new("load", balance))
        .map_err(|e| e.to_string())?;
    let codes: Vec<String> = (0..payments)
        .map(|_| control.issue_code("load"))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut sims = BTreeMap::new();
    sims.insert("linepay".to_owned(), sim);
    let config =
        Config::parse(&crate::demo::config_text(store_url, &sims)).map_err(|e| e.to_string())?;
    let switch = Switch::build(config).await.map_err(|e| e.to_string())?;
    let url = format!("http://{}", switch.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switch.serve(async {
        let _ = stopped.await;
    }));
    let till = Terminal::connect(&url, crate::demo::TILL_KEY).await?;
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(payments);
    for (i, code) in codes.into_iter().enumerate() {
        let permit = Arc::clone(&gate)
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let mut till = till.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let t = Instant::now();
            let ok = till
                .pay(&format!("load-{i}"), "100", "JPY", &code)
                .await
                .is_ok_and(|p| p.state == kakehashi_proto::v1::PaymentState::Succeeded as i32);
            (ok, t.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(payments);
    let mut failures = 0;
    for task in tasks {
        let (ok, latency) = task.await.map_err(|e| e.to_string())?;
        failures += usize::from(!ok);
        latencies.push(latency.as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(LoadReport {
        store: store_label.to_owned(),
        payments,
        failures,
        elapsed,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
    })
}
