//! The audit trail as a compliance auditor relies on it: every routing decision and every
//! payment and refund transition is in the log, written in the same transaction as its
//! change. A payment refused by each kind of rule is answered with a status naming the rule
//! and the payment id its refusal is logged under; a storm of faults and crashes leaves no
//! change without its entry and no entry without its change, on SQLite and PostgreSQL.
mod support;

use std::time::Duration;

use kakehashi::audit::AuditEntry;
use kakehashi::audit::crosscheck;
use kakehashi::routing::rules::{Decision, Outcome};
use kakehashi::store::audit_sql;
use kakehashi::store::{SqlStore, Store};
use kakehashi_adapter_core::sim_control::SimulatorControl;
use kakehashi_linepay::{Fault, Operation};
use tonic::Code;
use tonic_types::StatusExt;

use support::linepay::{code, control, wallet};
use support::switch::{MERCHANT, OTHER_TILL_KEY, Options, TILL_KEY, TestSwitch, spawn_with};

/// Three more shops and tills beside the test switch's two, and a rule set with every
/// kind of rule on LINE Pay.
const COMPLIANCE: &str = r#"
[[merchants]]
id = "kabukicho-games"
name = "Kabukicho Games"
category_code = "7995"
networks = ["linepay"]

[[merchants]]
id = "closed-shop"
name = "Closed Shop"
networks = ["linepay"]

[[merchants]]
id = "paypay-only"
name = "PayPay Only"
networks = ["paypay"]
[merchants.network_ids]
paypay = "paypay-only-pp"

[[terminals]]
id = "games-1"
merchant_id = "kabukicho-games"
api_key = "games-1-test-key-0005"

[[terminals]]
id = "closed-1"
merchant_id = "closed-shop"
api_key = "closed-1-test-key-006"

[[terminals]]
id = "till-old"
merchant_id = "shinjuku-ramen"
api_key = "till-old-test-key-007"

[[terminals]]
id = "pp-1"
merchant_id = "paypay-only"
api_key = "pp-1-test-key-000008"

[compliance]
velocity_key = "audit-trail-test-velocity-key-0123456789"
blocked_merchants = ["closed-shop"]
blocked_terminals = ["till-old"]

[compliance.networks.linepay]
currencies = ["JPY"]
single_payment_max = { JPY = "50000" }
mcc_deny = ["7995"]

[[compliance.velocity.code]]
window_ms = 600_000
count_max = 2

[[compliance.velocity.terminal]]
window_ms = 3_600_000
amount_max = { JPY = "60000" }
"#;

async fn spawn_with_rules() -> TestSwitch {
    let mut options = Options {
        networks: vec!["linepay", "paypay"],
        extra: COMPLIANCE.into(),
        ..Options::default()
    };
    // The channel could take TWD; the compliance rules allow LINE Pay only JPY here.
    options
        .network_extra
        .insert("linepay", r#"currencies = ["JPY", "TWD"]"#.into());
    spawn_with(options).await
}

/// The decoded entries the log holds for `payment_id`, in log order.
async fn logged(store: &SqlStore, payment_id: &str) -> Vec<AuditEntry> {
    audit_sql::entries_for_payment(store.pool(), payment_id, 0, 100)
        .await
        .expect("entries")
        .iter()
        .map(|e| AuditEntry::decode(&e.bytes).expect("entry decodes"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_refused_by_each_rule_kind_names_the_rule_and_its_refusal_is_logged() {
    let switch = spawn_with_rules().await;
    let store = switch.store().await;
    let rich = wallet(&switch, 1_000_000);
    let mut till = switch.terminal().await;
    // Two LINE Pay payments under one code fill its window of two.
    let reused = code(&switch, &rich);
    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;
    for order in ["reuse-1", "reuse-2"] {
        let _ = osaka.pay(order, "100", "JPY", &reused).await;
    }
    // ¥40,000 at till-1 leaves ¥20,000 of its hour's ¥60,000.
    let first = till
        .pay("big-1", "40000", "JPY", &code(&switch, &rich))
        .await
        .expect("the first big payment is routed");
    assert_eq!(first.network, "linepay");

    let cases: [(&str, &str, &str, &str, Code, &str); 8] = [
        (
            "closed-1-test-key-006",
            "100",
            "JPY",
            "fresh",
            Code::PermissionDenied,
            "RULE_MERCHANT_BLOCKED",
        ),
        (
            "till-old-test-key-007",
            "100",
            "JPY",
            "fresh",
            Code::PermissionDenied,
            "RULE_TERMINAL_BLOCKED",
        ),
        (
            "pp-1-test-key-000008",
            "100",
            "JPY",
            "fresh",
            Code::PermissionDenied,
            "RULE_MERCHANT_NETWORK",
        ),
        (
            TILL_KEY,
            "100",
            "TWD",
            "fresh",
            Code::FailedPrecondition,
            "RULE_CURRENCY",
        ),
        (
            TILL_KEY,
            "50001",
            "JPY",
            "fresh",
            Code::FailedPrecondition,
            "RULE_NETWORK_LIMIT",
        ),
        (
            "games-1-test-key-0005",
            "100",
            "JPY",
            "fresh",
            Code::PermissionDenied,
            "RULE_MCC",
        ),
        (
            OTHER_TILL_KEY,
            "100",
            "JPY",
            "reused",
            Code::FailedPrecondition,
            "RULE_VELOCITY_CODE",
        ),
        (
            TILL_KEY,
            "20001",
            "JPY",
            "fresh",
            Code::FailedPrecondition,
            "RULE_VELOCITY_TERMINAL",
        ),
    ];
    for (n, (key, value, currency, which, want_code, reason)) in cases.into_iter().enumerate() {
        let scanned = if which == "reused" {
            reused.clone()
        } else {
            code(&switch, &rich)
        };
        let mut terminal = switch.terminal_with_key(key).await;
        let order = format!("refused-{n}");
        let status = terminal
            .pay(&order, value, currency, &scanned)
            .await
            .expect_err(reason);
        assert_eq!(status.code(), want_code, "{reason}: {status:?}");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, reason, "{status:?}");
        let rule = info
            .metadata
            .get("rule")
            .expect("the rule is named")
            .clone();
        assert!(status.message().contains(&rule), "{}", status.message());
        assert!(
            !status.message().contains(&scanned[..12]),
            "no code in {status:?}"
        );

        // The log holds the refusal under the payment id the error names, and nothing else
        // was stored for it.
        let payment_id = info.metadata.get("payment_id").expect("payment id named");
        assert!(status.message().contains(payment_id.as_str()));
        let entries = logged(&store, payment_id).await;
        assert_eq!(entries.len(), 1, "{reason}: one decision, no transitions");
        assert_eq!(entries[0].kind.as_str(), "routing_decision");
        let decision = Decision::from_canonical_json(&entries[0].body).expect("a decision");
        match &decision.outcome {
            Outcome::Refused { rule: by, .. } => assert_eq!(by.as_str(), rule),
            routed => panic!("{reason}: logged as {routed:?}"),
        }
        assert_eq!(
            decision.input.amount,
            kakehashi_adapter_core::Money::parse(value, currency).unwrap()
        );
        let bytes = String::from_utf8(
            audit_sql::entries_for_payment(store.pool(), payment_id, 0, 1)
                .await
                .unwrap()[0]
                .bytes
                .clone(),
        )
        .unwrap();
        assert!(
            !bytes.contains(&scanned[..12]),
            "the log holds no full code: {bytes}"
        );
        assert!(store.payment(payment_id).await.unwrap().is_none());
    }

    // The routed payment is logged too: its decision first, then each transition.
    let entries = logged(&store, &first.payment_id).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds[0], "routing_decision");
    assert!(
        kinds[1..].iter().all(|k| *k == "payment_transition"),
        "{kinds:?}"
    );
    let last = entries.last().unwrap();
    assert_eq!(last.body["to"], "SUCCEEDED");
    assert!(crosscheck::check(&store).await.unwrap().is_empty());

    // The operator lowers LINE Pay's limit to ¥30,000 and restarts. The next ¥40,000 is
    // refused under the new version, while the old day replays under the old one.
    let mut switch = switch;
    switch.config_text = switch
        .config_text
        .replace(r#"JPY = "50000""#, r#"JPY = "30000""#);
    switch.restart().await;
    let mut till = switch.terminal().await;
    let status = till
        .pay("big-2", "40000", "JPY", &code(&switch, &rich))
        .await
        .expect_err("over the new limit");
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        "RULE_NETWORK_LIMIT"
    );

    let export = export_log(&store).await;
    let report = kakehashi::audit::cli::replay(export.path()).expect("every decision replays");
    assert!(
        report.starts_with("12 decisions replayed, 12 reproduced, 0 not reproduced"),
        "{report}"
    );
    let versions: std::collections::BTreeSet<String> =
        audit_sql::entries_range(store.pool(), 0, 1_000)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == "routing_decision")
            .map(|e| {
                let entry = AuditEntry::decode(&e.bytes).unwrap();
                entry.body["rule_set"].as_str().unwrap().to_owned()
            })
            .collect();
    assert_eq!(
        versions.len(),
        2,
        "decisions name the version they were made under"
    );

    // An altered decision is named: the export's replay is a real check.
    let tampered = tempfile::tempdir().unwrap();
    copy_dir(export.path(), tampered.path());
    let bundle = tampered
        .path()
        .join("tile/entries/000.p/")
        .read_dir()
        .map_or_else(
            |_| tampered.path().join("tile/entries/000"),
            |mut dir| dir.next().unwrap().unwrap().path(),
        );
    let text = std::fs::read(&bundle).unwrap();
    let needle = br#""value":"40000""#;
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the first big payment's decision is in the bundle");
    let mut altered = text.clone();
    altered[at + 9] = b'1'; // "40000" -> "10000": under every limit, yet logged as routed.
    std::fs::write(&bundle, altered).unwrap();
    let failed = kakehashi::audit::cli::replay(tampered.path()).unwrap_err();
    assert!(failed.contains("1 not reproduced"), "{failed}");
}

/// Signs a checkpoint of the whole log and exports it, as `kakehashi audit export` does.
async fn export_log(store: &SqlStore) -> tempfile::TempDir {
    let (private, _verifier) =
        kakehashi::audit::checkpoint::keygen("kakehashi.example/audit/test").unwrap();
    let signer =
        kakehashi::audit::checkpoint::LogSigner::from_key(&private, "kakehashi.example/audit/test")
            .unwrap();
    kakehashi::audit::writer::checkpoint_now(store.pool(), &signer, 1_767_225_600_000)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    kakehashi::audit::export::export(store.pool(), dir.path())
        .await
        .unwrap();
    dir
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Payments, refunds and cancels under lost replies, hangs and garbled answers, with the
/// switch crashed at random points; then every change must have its entry and vice versa.
async fn storm_then_crosscheck(store_url: Option<String>) {
    let mut options = Options {
        store_url,
        ..Options::default()
    };
    options.network_extra.insert(
        "linepay",
        "pay_timeout_ms = 300\nhttp = { request_timeout_ms = 300 }\ntiming = { payment_deadline_ms = 2500, query_first_delay_ms = 100, query_interval_ms = 100 }".into(),
    );
    let mut switch = spawn_with(options).await;
    let rich = wallet(&switch, 10_000_000);
    let faults = [
        Fault::HangAfterProcessing,
        Fault::Hang,
        Fault::Garbled,
        Fault::Delay { ms: 200 },
        Fault::HttpStatus { status: 503 },
    ];
    let mut seed: u64 = 0x5eed_a0d1;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut order = 0;
    for round in 0..6 {
        let fault = faults[next(faults.len() as u64) as usize].clone();
        let operation = [
            Operation::Pay,
            Operation::Check,
            Operation::Void,
            Operation::Refund,
        ][next(4) as usize];
        control(&switch).inject(Some(operation), fault, Some(2));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            order += 1;
            let mut till = switch.terminal().await;
            let scanned = code(&switch, &rich);
            let order_id = format!("storm-{order}");
            let refund = next(3) == 0;
            let cancel = next(5) == 0;
            tasks.push(tokio::spawn(async move {
                let paid = till.pay(&order_id, "1200", "JPY", &scanned).await;
                if paid.is_ok() && refund {
                    let refund_id = format!("{order_id}-r");
                    let _ = till
                        .refund(&order_id, &refund_id, Some(("500", "JPY")))
                        .await;
                }
                if cancel {
                    let _ = till.cancel(&order_id).await;
                }
            }));
        }
        // Crash while those are in the middle of their calls and writes: once half of the
        // round is admitted (however slow the machine), at a random moment after.
        let store = switch.store().await;
        let round_orders: Vec<String> = (order - 7..=order).map(|n| format!("storm-{n}")).collect();
        for _ in 0..200 {
            let mut admitted = 0;
            for o in &round_orders {
                if store.payment_by_order(MERCHANT, o).await.unwrap().is_some() {
                    admitted += 1;
                }
            }
            if admitted >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(next(400))).await;
        switch.crash().await;
        for task in tasks {
            let _ = task.await;
        }
        control(&switch).clear_faults();
        switch.restart().await;
        let _ = round;
    }
    // Let recovery finish what the crashes left open.
    let store = switch.store().await;
    for _ in 0..120 {
        let open = store
            .payments_page("", 1_000)
            .await
            .unwrap()
            .iter()
            .any(|p| p.state.is_in_doubt());
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let stored = store.payments_page("", 1_000).await.unwrap();
    assert!(
        stored.len() >= 24,
        "the storm stored {} payments",
        stored.len()
    );
    let problems = crosscheck::check(&store).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");

    // The check itself can fail: drop one transition's entry, then store a transition the
    // log never heard of; each is named.
    let (dropped, added) = (&stored[0].payment_id, &stored[1].payment_id);
    let last_entry: i64 = sqlx::query_scalar(
        "SELECT MAX(entry_index) FROM audit_entries WHERE payment_id = $1 \
         AND kind = 'payment_transition'",
    )
    .bind(dropped)
    .fetch_one(store.pool())
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit_entries WHERE entry_index = $1")
        .bind(last_entry)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO payment_transitions (payment_id, seq, from_state, to_state, detail, at_ms) \
         VALUES ($1, 99, 'SUCCEEDED', 'REFUNDED', 'written behind the log', 0)",
    )
    .bind(added)
    .execute(store.pool())
    .await
    .unwrap();
    let problems = crosscheck::check(&store).await.unwrap();
    let named = |id: &str| {
        problems
            .iter()
            .any(|p| p.starts_with(id) && p.contains("stored but not logged"))
    };
    assert!(named(dropped) && named(added), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_crashes_no_change_lacks_its_entry_on_sqlite() {
    storm_then_crosscheck(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_crashes_no_change_lacks_its_entry_on_postgres() {
    let Some(url) = support::postgres::fresh_database("audit_trail").await else {
        return;
    };
    storm_then_crosscheck(Some(url)).await;
}
