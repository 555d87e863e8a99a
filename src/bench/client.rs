//! The load client: `concurrency` workers (the tills), each running one operation at a
//! time in a closed loop until the count or the time bound is reached. The same client
//! drives the switch and both baselines, so their figures are comparable.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

/// What one operation did: the latency of its primary call (Pay, CreateMerchantQr or the
/// baseline's Check) and any call that failed or answered something unexpected.
#[derive(Debug, Default)]
pub struct Outcome {
    pub latency: Duration,
    /// Payments created by the operation (0 for a baseline call or a failed one).
    pub payments: u64,
    /// Calls made, the primary included.
    pub calls: u64,
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn ok(latency: Duration) -> Self {
        Self {
            latency,
            payments: 0,
            calls: 1,
            errors: Vec::new(),
        }
    }

    pub fn failed(latency: Duration, error: String) -> Self {
        Self {
            latency,
            payments: 0,
            calls: 1,
            errors: vec![error],
        }
    }
}

/// One operation: given its index (unique in the run) and its worker, run it.
pub type Op = Arc<dyn Fn(usize, usize) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// Everything one target's run measured.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub operations: u64,
    pub payments: u64,
    pub calls: u64,
    pub elapsed: Duration,
    /// Latencies of the primary calls, sorted, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Failed or unexpected calls by "Rpc: code".
    pub errors: BTreeMap<String, u64>,
}

impl Samples {
    /// The q-quantile latency in milliseconds (nearest rank).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((self.latencies_us.len() as f64) * q).ceil() as usize;
        let i = rank.clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Operations per second over the measured window.
    pub fn rate(&self, count: u64) -> f64 {
        count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `op` up to `total` times with `concurrency` workers, stopping early at `duration`.
pub async fn drive(op: Op, concurrency: usize, total: usize, duration: Duration) -> Samples {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let op = Arc::clone(&op);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut done = Vec::new();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    done.push(op(i, worker).await);
                }
                done
            })
        })
        .collect();
    let mut samples = Samples::default();
    for worker in workers {
        let outcomes = match worker.await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                *samples
                    .errors
                    .entry(format!("worker failed: {e}"))
                    .or_default() += 1;
                continue;
            }
        };
        for o in outcomes {
            samples.operations += 1;
            samples.payments += o.payments;
            samples.calls += o.calls;
            samples
                .latencies_us
                .push(u64::try_from(o.latency.as_micros()).unwrap_or(u64::MAX));
            for e in o.errors {
                *samples.errors.entry(e).or_default() += 1;
            }
        }
    }
    samples.elapsed = started.elapsed();
    samples.latencies_us.sort_unstable();
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_operation_runs_once_and_quantiles_are_ranks() {
        let op: Op = Arc::new(|i, _| {
            Box::pin(async move {
                let mut o = Outcome::ok(Duration::from_micros(i as u64 + 1));
                o.payments = 1;
                if i == 3 {
                    o.errors.push("Pay: Internal".into());
                }
                o
            })
        });
        let s = drive(op, 4, 100, Duration::from_secs(30)).await;
        assert_eq!((s.operations, s.payments, s.calls), (100, 100, 100));
        assert_eq!(s.errors.get("Pay: Internal"), Some(&1));
        assert_eq!(s.quantile_ms(0.5), 0.05);
        assert_eq!(s.quantile_ms(0.99), 0.099);
        assert_eq!(s.quantile_ms(1.0), 0.1);
    }
}
