//! Two switch instances on one store, and a network that answers after the other instance
//! could have taken the payment over: the customer who paid is never left charged for a
//! payment the switch calls REVERSED. Runs on SQLite and on PostgreSQL.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kakehashi::config::Limits;
use kakehashi::domain::{ClientKey, PaymentState};
use kakehashi::networks::Networks;
use kakehashi::payments::{Caller, CancelCommand, Merchant, PayCommand, Payments};
use kakehashi::store::{MerchantRow, SqlStore, Store, TerminalRow};
use kakehashi_adapter_core::{
    Capabilities, CodePattern, Money, NetworkProfile, Paid, PayOutcome, PayRequest, PaymentCode,
    QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, SystemClock,
    Timing, WalletNetwork,
};
use tokio::sync::Semaphore;

mod support;

/// The payment's deadline; the network's longest call; the idle lease.
const DEADLINE: Duration = Duration::from_millis(3_000);
const CALL_TIMEOUT: Duration = Duration::from_millis(1_000);
const LEASE_MS: u64 = 300;

/// What one network call does: answer at once, or wait for the test to open its gate.
#[derive(Debug)]
enum Answer<T> {
    Now(T),
    AfterGate(T),
}

#[derive(Debug, Default)]
struct Script {
    pay: VecDeque<Answer<PayOutcome>>,
    query: VecDeque<Answer<PayOutcome>>,
    reverse: VecDeque<ReverseOutcome>,
    calls: Vec<&'static str>,
}

/// A network whose answers the test scripts, including answers that wait for a gate: the
/// call stays open, as a slow network's would, until the test lets it answer.
#[derive(Debug)]
struct SlowNetwork {
    profile: NetworkProfile,
    script: Mutex<Script>,
    gate: Semaphore,
}

impl SlowNetwork {
    fn new(script: Script) -> Arc<Self> {
        Arc::new(Self {
            profile: NetworkProfile {
                id: "slow".into(),
                display_name: "Slow Pay".into(),
                code_patterns: vec![CodePattern::new("77", 18, 18)],
                currencies: vec![iso_currency::Currency::JPY],
                capabilities: Capabilities {
                    customer_presented: true,
                    merchant_presented: false,
                    partial_refund: true,
                    multiple_refunds: true,
                    refund_query: false,
                    refund_idempotent: true,
                },
                timing: Timing {
                    payment_deadline: DEADLINE,
                    query_first_delay: Duration::from_millis(100),
                    query_interval: Duration::from_millis(100),
                    reverse_not_before: Duration::ZERO,
                    call_timeout: CALL_TIMEOUT,
                },
                merchant_id_required: None,
            },
            script: Mutex::new(script),
            gate: Semaphore::new(0),
        })
    }

    fn open_gate(&self) {
        self.gate.add_permits(1);
    }

    fn calls(&self, name: &str) -> usize {
        let script = self.script.lock().expect("script");
        script.calls.iter().filter(|c| **c == name).count()
    }

    async fn answer<T>(&self, answer: Option<Answer<T>>, default: T) -> T {
        match answer {
            None => default,
            Some(Answer::Now(t)) => t,
            Some(Answer::AfterGate(t)) => {
                let _permit = self.gate.acquire().await;
                t
            }
        }
    }
}

#[async_trait]
impl WalletNetwork for SlowNetwork {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }
    async fn pay(&self, _: &PayRequest) -> PayOutcome {
        let next = {
            let mut s = self.script.lock().expect("script");
            s.calls.push("pay");
            s.pay.pop_front()
        };
        self.answer(next, not_found()).await
    }
    async fn query(&self, _: &QueryRequest) -> PayOutcome {
        let next = {
            let mut s = self.script.lock().expect("script");
            s.calls.push("query");
            s.query.pop_front()
        };
        self.answer(next, not_found()).await
    }
    async fn reverse(&self, _: &ReverseRequest) -> ReverseOutcome {
        let mut s = self.script.lock().expect("script");
        s.calls.push("reverse");
        // A void of a payment the network does not (yet) know counts as reversed, as LINE
        // Pay's 1150 does.
        s.reverse.pop_front().unwrap_or(ReverseOutcome::Reversed)
    }
    async fn refund(&self, _: &RefundRequest) -> RefundOutcome {
        self.script.lock().expect("script").calls.push("refund");
        RefundOutcome::Succeeded {
            network_refund_id: "R-1".into(),
        }
    }
}

fn not_found() -> PayOutcome {
    PayOutcome::Unknown {
        detail: "1150 transaction not found".into(),
    }
}

fn paid() -> PayOutcome {
    PayOutcome::Succeeded(Paid {
        network_txn_id: "2026120200000000001".into(),
        wallet_brand: None,
        wallet_amount: None,
        settlement_quote: None,
    })
}

/// Two instances ("switch-a", "switch-b") on one store, sharing one network.
async fn two_instances(url: &str, network: Arc<SlowNetwork>) -> (Payments, Payments, SqlStore) {
    let store = SqlStore::connect(url).await.expect("store");
    store
        .sync_merchants(
            &[MerchantRow {
                merchant_id: "m".into(),
                name: "M".into(),
                category_code: "5812".into(),
            }],
            &[TerminalRow {
                terminal_id: "t".into(),
                merchant_id: "m".into(),
                store_id: String::new(),
            }],
        )
        .await
        .expect("merchants");
    let instance = |name: &str| {
        let networks = Networks::from_adapters(vec![network.clone() as Arc<dyn WalletNetwork>])
            .expect("networks");
        let merchant = Merchant {
            id: "m".into(),
            name: "M".into(),
            category_code: "5812".into(),
            networks: vec!["slow".into()],
            network_ids: Default::default(),
            stores: Default::default(),
        };
        let limits = Limits {
            pay_wait_ms: 200,
            lease_ms: LEASE_MS,
            ..Limits::default()
        };
        let store: Arc<dyn Store> = Arc::new(store.clone());
        Payments::new(kakehashi::payments::Setup {
            store,
            networks,
            clock: Arc::new(SystemClock),
            merchants: vec![merchant],
            limits,
            compliance: compliance(),
            cutoffs: Default::default(),
            instance_name: name.into(),
            fx: kakehashi::fx::FxConfig::default().load_book().unwrap(),
        })
    };
    (instance("switch-a"), instance("switch-b"), store)
}

fn pay_command(order: &str) -> PayCommand {
    PayCommand {
        merchant_order_id: ClientKey::parse(order).expect("key"),
        amount: Money::parse("2500", "JPY").expect("money"),
        code: PaymentCode::parse("771234567890123456").expect("code"),
        description: String::new(),
        quote_id: None,
    }
}

fn caller() -> Caller {
    Caller {
        merchant_id: "m".into(),
        terminal_id: "t".into(),
    }
}

/// Runs `a`'s recovery every 50 ms for `duration`, as a replica's background task would.
async fn recover_for(a: &Payments, duration: Duration) {
    let until = tokio::time::Instant::now() + duration;
    while tokio::time::Instant::now() < until {
        a.recover_once().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_state(store: &SqlStore, order: &str, want: PaymentState) {
    for _ in 0..200 {
        let p = store.payment_by_order("m", order).await.expect("read");
        if p.is_some_and(|p| p.state == want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let p = store.payment_by_order("m", order).await.expect("read");
    panic!("{order} never reached {want}: {p:?}");
}

/// The other instance stalled (a paused VM, a clock jump): its lease ran out although its
/// call is still open. Only the late-approval rule can save the customer then.
async fn expire_leases(store: &SqlStore) {
    sqlx::query("UPDATE payments SET lease_until_ms = 0")
        .execute(store.pool())
        .await
        .expect("expire leases");
}

async fn history(store: &SqlStore, order: &str) -> Vec<(PaymentState, String)> {
    let p = store
        .payment_by_order("m", order)
        .await
        .expect("read")
        .expect("payment");
    store
        .transitions(&p.payment_id)
        .await
        .expect("transitions")
        .into_iter()
        .map(|t| (t.to, t.detail))
        .collect()
}

/// B sends the pay; the network answers two seconds later, long after an idle lease would
/// have run out. A's recovery runs all along, but B's lease covers its open call, so A
/// never takes over (no query, no void): the payment succeeds.
async fn no_takeover_while_the_call_is_open(url: &str) {
    let network = SlowNetwork::new(Script {
        pay: VecDeque::from([Answer::AfterGate(paid())]),
        ..Script::default()
    });
    let (a, b, store) = two_instances(url, Arc::clone(&network)).await;
    b.pay(&caller(), pay_command("o-1")).await.expect("pay");
    recover_for(&a, Duration::from_millis(2_000)).await;
    network.open_gate();
    wait_for_state(&store, "o-1", PaymentState::Succeeded).await;
    recover_for(&a, Duration::from_millis(300)).await;
    assert_eq!(network.calls("reverse"), 0, "nothing reversed");
    assert_eq!(network.calls("query"), 0, "A never took the payment over");
    let p = store.payment_by_order("m", "o-1").await.unwrap().unwrap();
    assert_eq!(p.state, PaymentState::Succeeded);
}

/// Cancels through instance `a`, which takes the payment over and reverses it at once.
async fn cancel(a: &Payments, order: &str) {
    let command = CancelCommand {
        merchant_order_id: ClientKey::parse(order).expect("key"),
        reason: "customer changed their mind".into(),
    };
    a.cancel(&caller(), command).await.expect("cancel");
}

/// B's lease ran out while its pay was open; the cashier cancelled through A, which took
/// over and voided (the network knew nothing yet: "reversed"). Then B's pay came back
/// approved: the late approval is recorded and the payment reversed again, so the
/// customer's money comes back.
async fn a_late_pay_approval_is_reversed_again(url: &str) {
    let network = SlowNetwork::new(Script {
        pay: VecDeque::from([Answer::AfterGate(paid())]),
        ..Script::default()
    });
    let (a, b, store) = two_instances(url, Arc::clone(&network)).await;
    b.pay(&caller(), pay_command("o-2")).await.expect("pay");
    expire_leases(&store).await;
    cancel(&a, "o-2").await;
    wait_for_state(&store, "o-2", PaymentState::Reversed).await;
    assert_eq!(network.calls("reverse"), 1);
    network.open_gate();
    for _ in 0..100 {
        if network.calls("reverse") == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_state(&store, "o-2", PaymentState::Reversed).await;
    assert_eq!(
        network.calls("reverse"),
        2,
        "reversed again after the late approval"
    );
    let states: Vec<_> = history(&store, "o-2").await;
    let late = states
        .iter()
        .find(|(_, d)| d.starts_with("late approval"))
        .expect("the late approval is recorded");
    assert!(late.1.contains("2026120200000000001"), "{late:?}");
    let p = store.payment_by_order("m", "o-2").await.unwrap().unwrap();
    assert_eq!(p.network_txn_id.as_deref(), Some("2026120200000000001"));
}

/// The same with a query: B's query, open when its lease ran out, answers "paid" after A
/// reversed; and this time the void window has closed, so the switch refunds in full.
async fn a_late_query_approval_past_the_void_window_is_refunded(url: &str) {
    let network = SlowNetwork::new(Script {
        pay: VecDeque::from([Answer::Now(not_found())]),
        query: VecDeque::from([Answer::AfterGate(paid())]),
        reverse: VecDeque::from([
            ReverseOutcome::Reversed,
            ReverseOutcome::Refused {
                network_code: "ORDER_NOT_REVERSIBLE".into(),
                detail: "cancel window closed".into(),
            },
        ]),
        ..Script::default()
    });
    let (a, b, store) = two_instances(url, Arc::clone(&network)).await;
    b.pay(&caller(), pay_command("o-3")).await.expect("pay");
    for _ in 0..100 {
        if network.calls("query") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    expire_leases(&store).await;
    cancel(&a, "o-3").await;
    wait_for_state(&store, "o-3", PaymentState::Reversed).await;
    // A confirming query after the refused void says "paid": refund it in full.
    network
        .script
        .lock()
        .unwrap()
        .query
        .push_back(Answer::Now(paid()));
    network.open_gate();
    wait_for_state(&store, "o-3", PaymentState::Refunded).await;
    assert_eq!(network.calls("refund"), 1, "refunded once, in full");
    let states: Vec<_> = history(&store, "o-3")
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        states,
        vec![
            PaymentState::Received,
            PaymentState::Authorizing,
            PaymentState::Reversing,
            PaymentState::Reversed,
            PaymentState::Reversing, // the late approval
            PaymentState::Succeeded, // void refused, capture confirmed
            PaymentState::Refunded,
        ]
    );
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("shared.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_no_takeover_while_the_call_is_open() {
    let dir = tempfile::tempdir().unwrap();
    no_takeover_while_the_call_is_open(&sqlite_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_late_pay_approval_is_reversed_again() {
    let dir = tempfile::tempdir().unwrap();
    a_late_pay_approval_is_reversed_again(&sqlite_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_late_query_approval_past_the_void_window_is_refunded() {
    let dir = tempfile::tempdir().unwrap();
    a_late_query_approval_past_the_void_window_is_refunded(&sqlite_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_no_takeover_while_the_call_is_open() {
    let Some(url) = support::postgres::fresh_database("late1").await else {
        return;
    };
    no_takeover_while_the_call_is_open(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_pay_approval_is_reversed_again() {
    let Some(url) = support::postgres::fresh_database("late2").await else {
        return;
    };
    a_late_pay_approval_is_reversed_again(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_query_approval_past_the_void_window_is_refunded() {
    let Some(url) = support::postgres::fresh_database("late3").await else {
        return;
    };
    a_late_query_approval_past_the_void_window_is_refunded(&url).await;
}

/// The rules a merchant "m" accepting only "slow" gets from a config with no
/// `[compliance]` section.
fn compliance() -> kakehashi::routing::Compliance {
    let text = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://unused.db\"\n\
        [[merchants]]\nid = \"m\"\nname = \"M\"\ncategory_code = \"5812\"\nnetworks = [\"slow\"]\n\
        [networks.slow]\n";
    let config = kakehashi::Config::parse(text).expect("config");
    kakehashi::routing::Compliance::from_config(&config).expect("rules")
}
