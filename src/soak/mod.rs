//! `kakehashi soak`: a seeded crash-and-fault soak. Payments, replays, refunds and cancels go
//! through the real gRPC API to every customer-presented network's simulator while faults
//! are injected into the networks (lost requests, lost replies, 5xx, garbled bodies, slow
//! answers) and switch replicas are killed and restarted. Then the faults stop, recovery
//! gets its time, and a checker compares the switch's books with every network's: no
//! double charge, no charge the switch does not know, nothing left in doubt, no refund
//! left PENDING while the network can answer. The same seed plays the same operations.
mod check;
mod traffic;
mod world;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::store::SqlStore;

/// Longest the soak waits for recovery to finish everything once the faults stop.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);
/// Operations one soak may play.
pub const OPERATIONS_MAX: usize = 100_000;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub seed: u64,
    pub operations: usize,
    /// Crash-and-restart events, spread evenly over the run.
    pub restarts: usize,
    /// A PostgreSQL database (empty, or used only by soaks); SQLite in a temporary
    /// directory when `None`.
    pub postgres: Option<String>,
    /// Switch replicas sharing the store (2 needs PostgreSQL to mean anything, but works on
    /// SQLite too).
    pub replicas: usize,
}

/// What the soak did and what the checker found.
#[derive(Debug, Default)]
pub struct SoakReport {
    pub payments: usize,
    pub replays: usize,
    pub refunds: usize,
    pub cancels: usize,
    pub restarts: usize,
    pub orders: usize,
    pub faults: BTreeMap<String, usize>,
    /// What the till heard for each Pay (state, or gRPC code).
    pub pay_answers: BTreeMap<String, usize>,
    /// Final states in the switch's books.
    pub final_states: BTreeMap<String, usize>,
    pub settle_time: Duration,
    /// Every disagreement found; empty means the books agree.
    pub violations: Vec<String>,
}

/// Plays the soak and checks the books. `Err` only when the soak itself could not run.
pub async fn run(options: SoakOptions) -> Result<SoakReport, String> {
    if options.operations == 0 || options.operations > OPERATIONS_MAX {
        return Err(format!("operations must be 1..={OPERATIONS_MAX}"));
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut world =
        world::World::start(options.seed, options.postgres.clone(), options.replicas).await?;
    let mut report = traffic::play(&mut world, &options).await?;
    for sim in world.sims.values() {
        sim.clear_faults().await?;
    }
    // A replica that was down at the end would leave its leases to expire: bring every one
    // up so recovery runs everywhere.
    for replica in &mut world.replicas {
        if replica.addr.is_none() {
            replica.start().await?;
        }
    }
    let store = SqlStore::connect(&world.store_url)
        .await
        .map_err(|e| e.to_string())?;
    report.settle_time = check::settle(&store, SETTLE_LIMIT).await?;
    let books = check::read_books(&store).await?;
    for (p, _) in &books.payments {
        *report.final_states.entry(p.state.to_string()).or_default() += 1;
    }
    let mut violations = check::check(&world, &store).await?;
    report.violations.append(&mut violations);
    world.stop();
    Ok(report)
}

impl SoakReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The report for people.
    pub fn render(&self) -> String {
        let line = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = format!(
            "operations: {} payments, {} replays, {} refunds, {} cancels; {} restarts\n\
             faults injected: {}\n\
             the till heard: {}\n\
             final states: {}\n\
             recovery settled everything in {:.1} s after the faults stopped\n",
            self.payments,
            self.replays,
            self.refunds,
            self.cancels,
            self.restarts,
            line(&self.faults),
            line(&self.pay_answers),
            line(&self.final_states),
            self.settle_time.as_secs_f64(),
        );
        if self.passed() {
            out.push_str("books: the switch and every network agree (no double charge, no unknown charge, nothing left in doubt or pending)\n");
        } else {
            out.push_str(&format!(
                "books DISAGREE in {} places:\n",
                self.violations.len()
            ));
            for v in &self.violations {
                out.push_str(&format!("  - {v}\n"));
            }
        }
        out
    }
}
