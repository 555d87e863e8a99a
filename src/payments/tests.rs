//! The orchestrator's control flow against a scripted network: each test queues the
//! network's answers and checks the payment's path through the state machine, on a real
//! SQLite store. The HTTP protocols are covered by the simulator tests; this covers the
//! switch's own rules (deadline, query, reverse, refund bookkeeping).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kakehashi_adapter_core::{
    Capabilities, CodePattern, DeclineReason, Money, NetworkProfile, Paid, PayOutcome, PayRequest,
    PaymentCode, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest,
    SystemClock, Timing, WalletNetwork,
};

use super::{Caller, Merchant, PayCommand, Payments, RefundCommand};
use crate::config::Limits;
use crate::domain::{ClientKey, PaymentState};
use crate::networks::Networks;
use crate::store::{MerchantRow, SqlStore, Store, TerminalRow};

#[derive(Debug, Default)]
struct Script {
    pay: VecDeque<PayOutcome>,
    query: VecDeque<PayOutcome>,
    reverse: VecDeque<ReverseOutcome>,
    refund: VecDeque<RefundOutcome>,
    calls: Vec<&'static str>,
}

#[derive(Debug)]
struct ScriptedNetwork {
    profile: NetworkProfile,
    script: Mutex<Script>,
}

impl ScriptedNetwork {
    fn new(script: Script) -> Arc<Self> {
        let profile = NetworkProfile {
            id: "scripted".into(),
            display_name: "Scripted".into(),
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
                payment_deadline: Duration::from_millis(400),
                query_first_delay: Duration::from_millis(20),
                query_interval: Duration::from_millis(20),
                reverse_not_before: Duration::ZERO,
                call_timeout: Duration::from_millis(100),
            },
            merchant_id_required: None,
        };
        Arc::new(Self {
            profile,
            script: Mutex::new(script),
        })
    }

    fn calls(&self) -> Vec<&'static str> {
        self.script.lock().expect("script lock").calls.clone()
    }

    fn next<T>(
        &self,
        name: &'static str,
        pick: impl FnOnce(&mut Script) -> Option<T>,
        default: T,
    ) -> T {
        let mut script = self.script.lock().expect("script lock");
        script.calls.push(name);
        pick(&mut script).unwrap_or(default)
    }
}

fn unknown() -> PayOutcome {
    PayOutcome::Unknown {
        detail: "scripted".into(),
    }
}

fn paid() -> PayOutcome {
    PayOutcome::Succeeded(Paid {
        network_txn_id: "T1".into(),
        wallet_brand: None,
        wallet_amount: None,
        settlement_quote: None,
    })
}

#[async_trait]
impl WalletNetwork for ScriptedNetwork {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }
    async fn pay(&self, _: &PayRequest) -> PayOutcome {
        self.next("pay", |s| s.pay.pop_front(), unknown())
    }
    async fn query(&self, _: &QueryRequest) -> PayOutcome {
        self.next("query", |s| s.query.pop_front(), unknown())
    }
    async fn reverse(&self, _: &ReverseRequest) -> ReverseOutcome {
        self.next(
            "reverse",
            |s| s.reverse.pop_front(),
            ReverseOutcome::Reversed,
        )
    }
    async fn refund(&self, _: &RefundRequest) -> RefundOutcome {
        self.next(
            "refund",
            |s| s.refund.pop_front(),
            RefundOutcome::Succeeded {
                network_refund_id: "R".into(),
            },
        )
    }
}

async fn payments(network: Arc<ScriptedNetwork>) -> (Payments, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = SqlStore::connect(&url).await.expect("store");
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
    let merchant = Merchant {
        id: "m".into(),
        name: "M".into(),
        category_code: "5812".into(),
        networks: vec!["scripted".into()],
        network_ids: Default::default(),
        stores: Default::default(),
    };
    let limits = Limits {
        pay_wait_ms: 3_000,
        lease_ms: 500,
        // Any refund still open is overdue at once: alarms are what these tests watch.
        refund_deadline_ms: 1,
        ..Limits::default()
    };
    let networks = Networks::from_adapters(vec![network]).unwrap();
    (
        Payments::new(super::Setup {
            store: Arc::new(store),
            networks,
            clock: Arc::new(SystemClock),
            merchants: vec![merchant],
            limits,
            compliance: compliance(),
            cutoffs: Default::default(),
            instance_name: "test".into(),
            fx: crate::fx::FxConfig::default().load_book().unwrap(),
        }),
        dir,
    )
}

fn caller() -> Caller {
    Caller {
        merchant_id: "m".into(),
        terminal_id: "t".into(),
    }
}

fn pay_command(order: &str) -> PayCommand {
    PayCommand {
        merchant_order_id: ClientKey::parse(order).expect("key"),
        amount: Money::parse("1000", "JPY").expect("money"),
        code: PaymentCode::parse("771234567890123456").expect("code"),
        description: String::new(),
        quote_id: None,
    }
}

#[tokio::test]
async fn unknown_until_the_deadline_is_reversed() {
    let network = ScriptedNetwork::new(Script {
        reverse: VecDeque::from([
            ReverseOutcome::Retry {
                detail: "recall".into(),
            },
            ReverseOutcome::Reversed,
        ]),
        ..Script::default()
    });
    let (payments, _dir) = payments(Arc::clone(&network)).await;
    let view = payments
        .pay(&caller(), pay_command("o1"))
        .await
        .expect("pay");
    assert_eq!(view.payment.state, PaymentState::Reversed);
    let calls = network.calls();
    assert_eq!(calls.first(), Some(&"pay"));
    assert!(
        calls.iter().filter(|c| **c == "query").count() >= 2,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| **c == "reverse").count(),
        2,
        "retried once after recall"
    );
    let history: Vec<_> = payments
        .store()
        .transitions(&view.payment.payment_id)
        .await
        .expect("t")
        .into_iter()
        .map(|t| t.to)
        .collect();
    assert_eq!(
        history,
        vec![
            PaymentState::Received,
            PaymentState::Authorizing,
            PaymentState::Reversing,
            PaymentState::Reversed
        ]
    );
}

#[tokio::test]
async fn awaiting_customer_then_success_on_query() {
    let network = ScriptedNetwork::new(Script {
        pay: VecDeque::from([PayOutcome::AwaitingCustomer {
            network_txn_id: None,
        }]),
        query: VecDeque::from([
            PayOutcome::AwaitingCustomer {
                network_txn_id: None,
            },
            paid(),
        ]),
        ..Script::default()
    });
    let (payments, _dir) = payments(Arc::clone(&network)).await;
    let started = std::time::Instant::now();
    let view = payments
        .pay(&caller(), pay_command("o2"))
        .await
        .expect("pay");
    // The till hears at once that the customer must confirm, not after the whole wait.
    assert_eq!(view.payment.state, PaymentState::AwaitingCustomer);
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    let mut settled = view.payment;
    for _ in 0..100 {
        settled = payments
            .store()
            .payment(&settled.payment_id)
            .await
            .expect("read")
            .expect("payment");
        if settled.state == PaymentState::Succeeded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(settled.state, PaymentState::Succeeded);
    assert_eq!(settled.network_txn_id.as_deref(), Some("T1"));
    assert!(!network.calls().contains(&"reverse"));
}

#[tokio::test]
async fn a_decline_is_final_and_never_queried() {
    let network = ScriptedNetwork::new(Script {
        pay: VecDeque::from([PayOutcome::Declined {
            reason: DeclineReason::CodeExpired,
            network_code: "X".into(),
        }]),
        ..Script::default()
    });
    let (payments, _dir) = payments(Arc::clone(&network)).await;
    let view = payments
        .pay(&caller(), pay_command("o3"))
        .await
        .expect("pay");
    assert_eq!(view.payment.state, PaymentState::Declined);
    assert_eq!(
        view.payment.decline_reason,
        Some(DeclineReason::CodeExpired)
    );
    assert_eq!(network.calls(), vec!["pay"]);
}

#[tokio::test]
async fn a_declined_refund_releases_its_reservation() {
    let network = ScriptedNetwork::new(Script {
        pay: VecDeque::from([paid()]),
        refund: VecDeque::from([RefundOutcome::Declined {
            reason: DeclineReason::RefundNotAllowed,
            network_code: "1163".into(),
        }]),
        ..Script::default()
    });
    let (payments, _dir) = payments(Arc::clone(&network)).await;
    payments
        .pay(&caller(), pay_command("o4"))
        .await
        .expect("pay");
    let command = |id: &str| RefundCommand {
        merchant_order_id: ClientKey::parse("o4").expect("key"),
        refund_id: ClientKey::parse(id).expect("key"),
        amount: None,
        reason: String::new(),
    };
    let (view, refund) = payments
        .refund(&caller(), command("r1"))
        .await
        .expect("refund");
    assert_eq!(refund.state, crate::domain::RefundState::Declined);
    assert_eq!(view.payment.refund_reserved_minor, 0);
    assert_eq!(view.payment.state, PaymentState::Succeeded);
    let (view, refund) = payments
        .refund(&caller(), command("r2"))
        .await
        .expect("refund");
    assert_eq!(refund.state, crate::domain::RefundState::Succeeded);
    assert_eq!(view.payment.state, PaymentState::Refunded);
}

#[tokio::test]
async fn a_refund_nobody_can_ask_about_alarms_once_not_on_every_pass() {
    let network = ScriptedNetwork::new(Script {
        pay: VecDeque::from([paid()]),
        refund: VecDeque::from([RefundOutcome::Unknown {
            detail: "timeout".into(),
        }]),
        ..Script::default()
    });
    let (payments, _dir) = payments(Arc::clone(&network)).await;
    payments
        .pay(&caller(), pay_command("o5"))
        .await
        .expect("pay");
    let (_, refund) = payments
        .refund(
            &caller(),
            RefundCommand {
                merchant_order_id: ClientKey::parse("o5").expect("key"),
                refund_id: ClientKey::parse("r1").expect("key"),
                amount: None,
                reason: String::new(),
            },
        )
        .await
        .expect("refund");
    assert_eq!(refund.state, crate::domain::RefundState::Pending);
    for _ in 0..20 {
        payments.recover_once().await;
    }
    assert_eq!(payments.operator_alarms(), 1, "one alarm, not one per pass");
    assert_eq!(
        network.calls().iter().filter(|c| **c == "refund").count(),
        1,
        "a network that cannot be asked is never sent the refund again"
    );
}

/// The rules a merchant "m" accepting only "scripted" gets from a config with no
/// `[compliance]` section.
fn compliance() -> crate::routing::Compliance {
    let text = "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://unused.db\"\n\
        [[merchants]]\nid = \"m\"\nname = \"M\"\ncategory_code = \"5812\"\nnetworks = [\"scripted\"]\n\
        [networks.scripted]\n";
    let config = crate::Config::parse(text).expect("config");
    crate::routing::Compliance::from_config(&config).expect("rules")
}

#[tokio::test]
async fn a_ring_just_before_the_driver_lets_go_is_heard_after() {
    use super::lease::rang_while_leaving;
    let (p, _dir) = payments(ScriptedNetwork::new(Script::default())).await;
    // A cancel finds the driver still registered and rings, just before it lets go.
    let bell = p.claim_born("pay_leaving").expect("claimed");
    assert!(p.ring_or_none("pay_leaving"));
    p.let_go_settled("pay_leaving");
    assert!(rang_while_leaving(&bell), "the driver must drive again");
    // Once it is gone, a ring finds nobody and the waker must start a driver itself.
    assert!(!p.ring_or_none("pay_leaving"));
    // A bell nobody rang stays quiet: no spurious second drive.
    let quiet = p.claim_born("pay_quiet").expect("claimed");
    p.let_go_settled("pay_quiet");
    assert!(!rang_while_leaving(&quiet));
}
