//! The soak's traffic: a seeded sequence of payments, replays, refunds and cancels through
//! the real gRPC API, each network call at risk of an injected fault, with the switch
//! crashed and restarted along the way. What the till heard is kept only for picking the
//! next operation; the checker judges from the books alone.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::world::{NETWORKS, World};
use super::{SoakOptions, SoakReport};

/// Wallets per network; each starts with plenty.
const WALLETS_PER_NETWORK: usize = 4;
/// Share of network operations that meet a fault, in percent.
const FAULT_PERCENT: u32 = 35;

/// A payment the till made: which network and order, for later refunds and cancels.
#[derive(Debug, Clone)]
struct Order {
    id: String,
    /// The code the till scanned, so a replay carries the same content.
    code: String,
    network: &'static str,
    amount_yen: i64,
    refunded_yen: i64,
}

/// Each network's fault operations for a pay and a refund, and its wallets' currency.
fn network_facts(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "linepay" => ("pay", "refund", "JPY"),
        "paypay" => ("scan", "refund", "JPY"),
        "wechatpay" => ("micropay", "refund", "CNY"),
        _ => ("pay", "refund", "CNY"),
    }
}

fn fault(rng: &mut StdRng) -> serde_json::Value {
    match rng.random_range(0..6) {
        0 => serde_json::json!({"kind": "hang"}),
        1 => serde_json::json!({"kind": "hang_after_processing"}),
        2 => serde_json::json!({"kind": "http_status", "status": 503}),
        3 => serde_json::json!({"kind": "http_status", "status": 500}),
        4 => serde_json::json!({"kind": "garbled"}),
        _ => serde_json::json!({"kind": "delay", "ms": rng.random_range(100..1_500)}),
    }
}

fn fault_name(fault: &serde_json::Value) -> String {
    fault["kind"].as_str().unwrap_or("?").to_owned()
}

/// Plays `options.operations` operations; returns what was done.
pub async fn play(world: &mut World, options: &SoakOptions) -> Result<SoakReport, String> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut report = SoakReport::default();
    for kind in NETWORKS {
        let (_, _, currency) = network_facts(kind);
        for w in 0..WALLETS_PER_NETWORK {
            let value = if currency == "JPY" {
                "10000000"
            } else {
                "500000.00"
            };
            debug_assert_eq!(
                starting_balance_minor(currency),
                if currency == "JPY" {
                    10_000_000
                } else {
                    50_000_000
                }
            );
            world
                .sim(kind)?
                .add_wallet(&wallet_id(kind, w), value, currency)
                .await?;
        }
    }
    let mut orders: Vec<Order> = Vec::new();
    let restart_every = if options.restarts == 0 {
        usize::MAX
    } else {
        (options.operations / (options.restarts + 1)).max(1)
    };
    for n in 0..options.operations {
        if n > 0 && n % restart_every == 0 && report.restarts < options.restarts {
            let which = rng.random_range(0..world.replicas.len());
            world.replicas[which].restart().await?;
            report.restarts += 1;
        }
        let replica = rng.random_range(0..world.replicas.len());
        let roll = rng.random_range(0..100);
        if roll < 60 || orders.is_empty() {
            let order = pay(world, &mut rng, &mut report, n, replica).await?;
            orders.push(order);
        } else if roll < 70 {
            // A till retrying a Pay (the same key and content: the stored answer, nothing
            // charged again) or reusing a key for another amount (refused).
            let order = orders[rng.random_range(0..orders.len())].clone();
            let conflicting = rng.random_bool(0.3);
            let amount = order.amount_yen + if conflicting { 100 } else { 0 };
            report.replays += 1;
            if let Ok(mut till) = world.terminal(replica).await {
                let answer = till
                    .pay(&order.id, &amount.to_string(), "JPY", &order.code)
                    .await;
                let refused = matches!(&answer, Err(s) if s.code() == tonic::Code::AlreadyExists);
                if conflicting && !refused && answer.is_ok() {
                    report.violations.push(format!(
                        "order {}: a Pay reusing its key for another amount was not refused",
                        order.id
                    ));
                }
            }
        } else if roll < 88 {
            let i = rng.random_range(0..orders.len());
            refund(world, &mut rng, &mut report, &mut orders[i], replica).await?;
        } else {
            let order = orders[rng.random_range(0..orders.len())].clone();
            report.cancels += 1;
            if let Ok(mut till) = world.terminal(replica).await {
                let _ = till.cancel(&order.id).await;
            }
        }
    }
    report.orders = orders.len();
    Ok(report)
}

async fn pay(
    world: &World,
    rng: &mut StdRng,
    report: &mut SoakReport,
    n: usize,
    replica: usize,
) -> Result<Order, String> {
    let network = NETWORKS[rng.random_range(0..NETWORKS.len())];
    let (pay_op, _, _) = network_facts(network);
    let sim = world.sim(network)?;
    let wallet = wallet_id(network, rng.random_range(0..WALLETS_PER_NETWORK));
    let code = sim.issue_code(&wallet).await?;
    if rng.random_range(0..100) < FAULT_PERCENT {
        let f = fault(rng);
        *report.faults.entry(fault_name(&f)).or_default() += 1;
        sim.inject(pay_op, f).await?;
    }
    let order = Order {
        id: format!("soak-{}-{n}", world_seed_tag(rng)),
        code: code.clone(),
        network,
        amount_yen: rng.random_range(1..50) * 100,
        refunded_yen: 0,
    };
    report.payments += 1;
    match world.terminal(replica).await {
        Ok(mut till) => {
            let answer = till
                .pay(&order.id, &order.amount_yen.to_string(), "JPY", &code)
                .await;
            let outcome = match answer {
                Ok(p) => crate::terminal::state_name(p.state),
                Err(status) => format!("{:?}", status.code()),
            };
            *report.pay_answers.entry(outcome).or_default() += 1;
        }
        Err(_) => *report.pay_answers.entry("no switch".into()).or_default() += 1,
    }
    // Whatever the till heard, any later fault rule for this network applies afresh.
    sim.clear_faults().await?;
    Ok(order)
}

async fn refund(
    world: &World,
    rng: &mut StdRng,
    report: &mut SoakReport,
    order: &mut Order,
    replica: usize,
) -> Result<(), String> {
    let left = order.amount_yen - order.refunded_yen;
    if left <= 0 {
        return Ok(());
    }
    let (_, refund_op, _) = network_facts(order.network);
    let sim = world.sim(order.network)?;
    if rng.random_range(0..100) < FAULT_PERCENT {
        let f = fault(rng);
        *report.faults.entry(fault_name(&f)).or_default() += 1;
        sim.inject(refund_op, f).await?;
    }
    let amount = if rng.random_bool(0.5) {
        left
    } else {
        (left / 200).max(1) * 100
    };
    report.refunds += 1;
    let refund_id = format!("{}-r{}", order.id, order.refunded_yen);
    if let Ok(mut till) = world.terminal(replica).await {
        let answer = till
            .refund(&order.id, &refund_id, Some((&amount.to_string(), "JPY")))
            .await;
        if answer.is_ok() {
            order.refunded_yen += amount;
        }
    }
    sim.clear_faults().await?;
    Ok(())
}

/// Every soak wallet's starting balance, in minor units of its currency.
pub fn starting_balance_minor(currency: &str) -> i64 {
    if currency == "JPY" {
        10_000_000
    } else {
        50_000_000
    }
}

fn wallet_id(network: &str, n: usize) -> String {
    format!("{network}-w{n}")
}

/// A short random tag so two soaks on one database never share order ids.
fn world_seed_tag(rng: &mut StdRng) -> String {
    format!("{:06x}", rng.random_range(0..0xff_ffff))
}
