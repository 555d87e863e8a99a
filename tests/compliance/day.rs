//! A day of mixed traffic is decided, logged and replayed; then the rules change, and the
//! old day still replays under the rules it was decided by.
use std::collections::{BTreeMap, BTreeSet};

use kakehashi::routing::replay::DECISION_ENTRY_KIND;
use kakehashi::routing::{
    Compliance, Decision, RuleId, RuleSet, activate, canonical, replay, replay_entries,
    replay_under,
};
use kakehashi::store::{SqlStore, rule_set, rule_set_versions};
use serde_json::{Value, json};

use super::fixture::{self, DAY_MS, DAY_START_MS};

const SEED: u64 = 20_250_302;
const DAY_PAYMENTS: usize = 600;

struct Log {
    /// `(index, decision record)` in log order.
    decisions: Vec<(u64, Value)>,
}

impl Log {
    fn append(&mut self, decision: &Decision) {
        let index = self.decisions.len() as u64;
        self.decisions.push((index, decision.to_canonical_json()));
    }

    fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = (u64, Value)> + '_ {
        self.decisions[range].iter().cloned()
    }
}

async fn stored_rule_sets(store: &SqlStore) -> BTreeMap<String, RuleSet> {
    let mut sets = BTreeMap::new();
    for (version, _) in rule_set_versions(store.pool()).await.unwrap() {
        let text = rule_set(store.pool(), &version).await.unwrap().unwrap();
        sets.insert(
            version.clone(),
            RuleSet::from_canonical_versioned(&version, &text).unwrap(),
        );
    }
    sets
}

fn refused_by(record: &Value) -> Option<RuleId> {
    Decision::from_canonical_json(record)
        .unwrap()
        .refusal()
        .map(|(rule, _)| rule)
}

#[tokio::test]
async fn a_day_of_mixed_traffic_replays_and_the_old_day_keeps_its_old_rules() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("day.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let table = fixture::code_table();

    // The day, under the rules as first configured.
    let before = Compliance::from_config(&fixture::config(500_000)).unwrap();
    let v1 = activate(store.pool(), before.rules(), DAY_START_MS)
        .await
        .unwrap();
    let mut log = Log {
        decisions: Vec::new(),
    };
    for request in fixture::traffic(SEED, DAY_START_MS, DAY_PAYMENTS) {
        log.append(&fixture::decide(store.pool(), &table, &before, &request).await);
    }

    // It was a mixed day: every rule refused someone, and most payments went through.
    let refusals: BTreeMap<Option<RuleId>, usize> =
        log.decisions
            .iter()
            .fold(BTreeMap::new(), |mut counts, (_, record)| {
                *counts.entry(refused_by(record)).or_default() += 1;
                counts
            });
    for rule in RuleId::ALL {
        assert!(
            refusals.contains_key(&Some(rule)),
            "no {rule} refusal in the day: {refusals:?}"
        );
    }
    assert!(refusals[&None] > DAY_PAYMENTS / 2, "{refusals:?}");
    let last = Decision::from_canonical_json(&log.decisions[DAY_PAYMENTS - 1].1).unwrap();
    assert_eq!(last.business_date_jst, "2025-03-02");
    assert!(last.input.at_ms < DAY_START_MS + DAY_MS);

    // Replayed under the stored rule sets, every decision comes out the same.
    let sets = stored_rule_sets(&store).await;
    let report = replay(log.range(0..DAY_PAYMENTS), |v| sets.get(v).cloned());
    assert!(report.all_reproduced(), "{report}");
    assert_eq!(report.decisions, DAY_PAYMENTS as u64);

    // The operator lowers PayPay's limit to JPY 300,000 in the config; the switch restarts
    // and takes the next day's payments under the new version.
    let after = Compliance::from_config(&fixture::config(300_000)).unwrap();
    let v2 = activate(store.pool(), after.rules(), DAY_START_MS + DAY_MS)
        .await
        .unwrap();
    assert_ne!(v1, v2);
    for request in fixture::traffic(SEED + 1, DAY_START_MS + DAY_MS, 200) {
        log.append(&fixture::decide(store.pool(), &table, &after, &request).await);
    }

    // The whole log replays: the old day under the old version, the new one under the new.
    let sets = stored_rule_sets(&store).await;
    assert_eq!(
        sets.keys().cloned().collect::<BTreeSet<_>>(),
        [v1.to_string(), v2.to_string()].into()
    );
    let report = replay(log.range(0..log.decisions.len()), |v| sets.get(v).cloned());
    assert!(report.all_reproduced(), "{report}");
    let versions: Vec<String> = log
        .decisions
        .iter()
        .map(|(_, r)| r["rule_set"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        versions[..DAY_PAYMENTS]
            .iter()
            .all(|v| *v == v1.to_string())
    );
    assert!(
        versions[DAY_PAYMENTS..]
            .iter()
            .all(|v| *v == v2.to_string())
    );

    // Under the new rules the old day would differ exactly where a PayPay payment in yen lay
    // above the new limit and within the old one.
    let affected: BTreeSet<u64> = log.decisions[..DAY_PAYMENTS]
        .iter()
        .filter(|(_, record)| {
            let input = &record["input"];
            let yen = input["amount"]["currency"] == "JPY";
            let value: u64 = input["amount"]["value"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap_or(0);
            input["network"] == "paypay" && yen && value > 300_000 && value <= 500_000
        })
        .map(|(index, _)| *index)
        .collect();
    assert!(!affected.is_empty());
    let what_if = replay_under(log.range(0..DAY_PAYMENTS), after.rules());
    let reported: BTreeSet<u64> = what_if.not_reproduced.iter().map(|n| n.index).collect();
    assert_eq!(reported, affected, "{what_if}");
    let first = &what_if.not_reproduced[0].differences;
    assert!(
        first
            .iter()
            .any(|d| d.starts_with("check network_limit (paypay): logged pass, replayed fail")),
        "{first:?}"
    );
}

/// The day as an export holds it: canonical entries of every kind, and the rule sets
/// under `rules/<version>.json`.
struct Export {
    dir: tempfile::TempDir,
    entries: Vec<(u64, Vec<u8>)>,
}

impl Export {
    fn write(decisions: &[Decision], rules: &RuleSet) -> Export {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        let file = dir
            .path()
            .join("rules")
            .join(format!("{}.json", rules.version()));
        std::fs::write(file, rules.to_canonical_string()).unwrap();
        let mut entries = Vec::new();
        for decision in decisions {
            let index = entries.len() as u64;
            let entry = json!({"kind": DECISION_ENTRY_KIND, "body": decision.to_canonical_json()});
            entries.push((index, canonical::to_bytes(&entry).unwrap()));
            let transition = json!({"kind": "payment_transition", "body": {"to": "AUTHORIZING"}});
            entries.push((index + 1, canonical::to_bytes(&transition).unwrap()));
        }
        Export { dir, entries }
    }

    fn rules_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("rules")
    }

    fn body(&mut self, index: usize, change: impl FnOnce(&mut Value)) {
        let mut entry: Value = serde_json::from_slice(&self.entries[index].1).unwrap();
        change(&mut entry["body"]);
        self.entries[index].1 = canonical::to_bytes(&entry).unwrap();
    }
}

#[tokio::test]
async fn an_export_replays_from_its_files_and_names_each_decision_it_cannot_reproduce() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("export.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let (table, compliance) = (
        fixture::code_table(),
        Compliance::from_config(&fixture::config(500_000)).unwrap(),
    );
    let mut decisions = Vec::new();
    for request in fixture::traffic(SEED + 2, DAY_START_MS, 120) {
        decisions.push(fixture::decide(store.pool(), &table, &compliance, &request).await);
    }
    let mut export = Export::write(&decisions, compliance.rules());

    let report = replay_entries(export.entries.iter().cloned(), &export.rules_dir());
    assert!(report.all_reproduced(), "{report}");
    assert_eq!((report.decisions, report.other_entries), (120, 120));

    // Someone rewrites a routed decision as a refusal, and another record's rule-set version.
    let routed = (2..decisions.len())
        .find(|i| decisions[*i].refusal().is_none())
        .unwrap();
    export.body(2 * routed, |body| {
        body["outcome"] = json!({"refused": {"rule": "mcc", "detail": "changed afterwards"}});
    });
    export.body(2, |body| body["rule_set"] = json!("../../etc/passwd"));
    let report = replay_entries(export.entries.iter().cloned(), &export.rules_dir());
    let missed: Vec<u64> = report.not_reproduced.iter().map(|n| n.index).collect();
    let mut expected = vec![2, 2 * routed as u64];
    expected.sort();
    expected.dedup();
    assert_eq!(missed, expected, "{report}");
    let rewritten = report
        .not_reproduced
        .iter()
        .find(|n| n.index == 2 * routed as u64)
        .unwrap();
    assert!(
        rewritten
            .differences
            .iter()
            .any(|d| d.starts_with("outcome.")),
        "{rewritten:?}"
    );

    // A rule set altered on disk no longer hashes to its name: nothing replays under it.
    let file = export
        .rules_dir()
        .join(format!("{}.json", compliance.rules().version()));
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("500000", "500001");
    std::fs::write(&file, text).unwrap();
    let report = replay_entries(export.entries.iter().cloned(), &export.rules_dir());
    assert_eq!(report.reproduced, 0, "{report}");
    let why = &report.not_reproduced[0].differences[0];
    assert!(why.contains("does not match its content"), "{why}");
}
