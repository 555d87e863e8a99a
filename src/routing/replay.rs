//! Replay: re-run the engine over logged decisions and report each one it does not
//! reproduce. A decision is reproduced when evaluating its logged input under the rule set
//! of its logged version gives the logged record, byte for byte in canonical form.
//!
//! [`replay`] takes decisions and a rule-set lookup; [`replay_entries`] reads audit-log
//! entries as an export holds them (canonical JSON `{"kind": .., "body": ..}`, where a
//! [`DECISION_ENTRY_KIND`] entry's body is a decision record) and the rule sets the export
//! wrote beside them as `rules/<version>.json`. [`replay_under`] asks "what if": which
//! decisions would come out differently under another rule set.
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::canonical;
use super::rules::evaluate;
use super::rules::{DECISION_BYTES_MAX, Decision, RULE_SET_BYTES_MAX, RuleSet, Verdict, Version};

/// The audit-log entry kind whose body is a [`Decision`].
pub const DECISION_ENTRY_KIND: &str = "routing_decision";
/// Decisions reported in full; beyond this they are only counted.
pub const NOT_REPRODUCED_MAX: usize = 1_000;
/// Differences listed per decision.
pub const DIFFERENCES_MAX: usize = 8;
/// Rule sets kept loaded at once during a replay.
const RULE_SETS_CACHED_MAX: usize = 64;
/// Largest audit entry read (its body is a decision).
const ENTRY_BYTES_MAX: usize = DECISION_BYTES_MAX + 1_024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Decisions replayed.
    pub decisions: u64,
    pub reproduced: u64,
    /// Entries of other kinds (payment transitions, ...), passed over.
    pub other_entries: u64,
    /// The first [`NOT_REPRODUCED_MAX`] decisions not reproduced, in log order.
    pub not_reproduced: Vec<NotReproduced>,
    /// Decisions not reproduced beyond those listed.
    pub not_reproduced_omitted: u64,
}

/// A logged decision the engine did not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReproduced {
    /// The entry's index in the log.
    pub index: u64,
    /// What differed, as `path: logged .., replayed ..`, or why it could not be replayed.
    pub differences: Vec<String>,
}

// === impl ReplayReport ===

impl ReplayReport {
    pub fn all_reproduced(&self) -> bool {
        self.decisions == self.reproduced
    }

    pub fn not_reproduced_count(&self) -> u64 {
        self.decisions - self.reproduced
    }

    fn add(&mut self, index: u64, differences: Vec<String>) {
        self.decisions += 1;
        if differences.is_empty() {
            self.reproduced += 1;
        } else if self.not_reproduced.len() < NOT_REPRODUCED_MAX {
            self.not_reproduced
                .push(NotReproduced { index, differences });
        } else {
            self.not_reproduced_omitted += 1;
        }
    }
}

impl std::fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} decisions replayed, {} reproduced, {} not reproduced ({} other entries)",
            self.decisions,
            self.reproduced,
            self.not_reproduced_count(),
            self.other_entries
        )?;
        for miss in &self.not_reproduced {
            writeln!(f, "entry {}: {}", miss.index, miss.differences.join("; "))?;
        }
        if self.not_reproduced_omitted > 0 {
            writeln!(f, "... and {} more", self.not_reproduced_omitted)?;
        }
        Ok(())
    }
}

/// Replays `(index, decision record)` pairs, each under the rule set of its logged version
/// as `rule_sets` returns it (`None`: not available, reported).
pub fn replay(
    decisions: impl Iterator<Item = (u64, Value)>,
    rule_sets: impl Fn(&str) -> Option<RuleSet>,
) -> ReplayReport {
    let mut lookup = |version: &str| {
        rule_sets(version).ok_or_else(|| format!("rule set {version:.64} is not available"))
    };
    let mut report = ReplayReport::default();
    let mut cache = BTreeMap::new();
    for (index, value) in decisions {
        let differences = replay_one(&value, None, &mut cache, &mut lookup);
        report.add(index, differences);
    }
    report
}

/// Evaluates every logged decision's input under `rules` instead of its own rule set and
/// reports those whose outcome (routed, or the rule that refused) or any check's verdict
/// would differ. Texts and values shown in checks (a limit's amount) are not compared: they
/// change with the rules even where the decision does not.
pub fn replay_under(
    decisions: impl Iterator<Item = (u64, Value)>,
    rules: &RuleSet,
) -> ReplayReport {
    let mut report = ReplayReport::default();
    let mut unused = |_: &str| Err(String::new());
    for (index, value) in decisions {
        let differences = replay_one(&value, Some(rules), &mut BTreeMap::new(), &mut unused);
        report.add(index, differences);
    }
    report
}

/// Replays the decisions among audit-log `entries` (`(index, canonical bytes)`), reading
/// each rule set from `rules_dir/<version>.json` and checking it hashes to its version.
pub fn replay_entries(
    entries: impl Iterator<Item = (u64, Vec<u8>)>,
    rules_dir: &Path,
) -> ReplayReport {
    let mut lookup = |version: &str| load_rule_set(rules_dir, version);
    let mut report = ReplayReport::default();
    let mut cache = BTreeMap::new();
    for (index, bytes) in entries {
        let body = match decision_body(&bytes) {
            Ok(Some(body)) => body,
            Ok(None) => {
                report.other_entries += 1;
                continue;
            }
            Err(why) => {
                report.add(index, vec![why]);
                continue;
            }
        };
        let differences = replay_one(&body, None, &mut cache, &mut lookup);
        report.add(index, differences);
    }
    report
}

/// The body of a decision entry; `None` for an entry of another kind.
fn decision_body(bytes: &[u8]) -> Result<Option<Value>, String> {
    if bytes.len() > ENTRY_BYTES_MAX {
        return Err(format!("entry is over {ENTRY_BYTES_MAX} bytes"));
    }
    let mut entry: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("entry is not JSON: {e}"))?;
    match entry.get("kind").and_then(Value::as_str) {
        Some(DECISION_ENTRY_KIND) => {}
        Some(_) => return Ok(None),
        None => return Err("entry has no kind".into()),
    }
    match entry.get_mut("body").map(Value::take) {
        Some(body) => Ok(Some(body)),
        None => Err("decision entry has no body".into()),
    }
}

fn load_rule_set(rules_dir: &Path, version: &str) -> Result<RuleSet, String> {
    // The version comes from the log: only 64 hex digits may become a file name.
    let Some(version) = Version::parse(version) else {
        return Err("the logged rule-set version is not 64 lowercase hex digits".into());
    };
    let path = rules_dir.join(format!("{version}.json"));
    let shown = path.display();
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{shown}: {e}"))?
        .len();
    if size > RULE_SET_BYTES_MAX as u64 {
        return Err(format!("{shown}: over {RULE_SET_BYTES_MAX} bytes"));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
    RuleSet::from_canonical_versioned(version.as_str(), &text).map_err(|e| format!("{shown}: {e}"))
}

type Lookup<'a> = dyn FnMut(&str) -> Result<RuleSet, String> + 'a;

/// What differs between the logged record and its replay; empty when reproduced.
fn replay_one(
    logged: &Value,
    under: Option<&RuleSet>,
    cache: &mut BTreeMap<String, Result<RuleSet, String>>,
    lookup: &mut Lookup<'_>,
) -> Vec<String> {
    let decision = match Decision::from_canonical_json(logged) {
        Ok(decision) => decision,
        Err(e) => return vec![e.to_string()],
    };
    if let Some(rules) = under {
        return verdict_differences(&decision, &evaluate(rules, &decision.input));
    }
    let version = decision.rule_set.as_str();
    if !cache.contains_key(version) {
        if cache.len() >= RULE_SETS_CACHED_MAX {
            cache.clear();
        }
        cache.insert(version.to_owned(), lookup(version));
    }
    let rules = match cache.get(version) {
        Some(Ok(rules)) => rules,
        Some(Err(why)) => return vec![why.clone()],
        None => return vec!["rule set cache lost the version just loaded".into()],
    };
    let replayed = evaluate(rules, &decision.input);
    exact_differences(logged, &replayed)
}

fn exact_differences(logged: &Value, replayed: &Decision) -> Vec<String> {
    let replayed = replayed.to_canonical_json();
    let same = matches!(
        (canonical::to_bytes(logged), canonical::to_bytes(&replayed)),
        (Ok(a), Ok(b)) if a == b
    );
    if same {
        return Vec::new();
    }
    let mut differences = Vec::new();
    diff(logged, &replayed, &mut String::new(), 0, &mut differences);
    if differences.is_empty() {
        differences.push("the canonical bytes differ".into());
    }
    differences
}

fn verdict_differences(logged: &Decision, replayed: &Decision) -> Vec<String> {
    let mut differences = Vec::new();
    let (before, after) = (outcome_text(logged), outcome_text(replayed));
    if before != after {
        differences.push(format!("outcome: logged {before}, replayed {after}"));
    }
    let verdicts = |d: &Decision| -> BTreeMap<(String, String), Verdict> {
        d.checks
            .iter()
            .map(|c| ((c.rule.to_string(), c.subject.clone()), c.result))
            .collect()
    };
    let (before, after) = (verdicts(logged), verdicts(replayed));
    for key in before
        .keys()
        .chain(after.keys().filter(|k| !before.contains_key(*k)))
    {
        let (a, b) = (before.get(key), after.get(key));
        if a != b && differences.len() < DIFFERENCES_MAX {
            differences.push(format!(
                "check {} ({}): logged {}, replayed {}",
                key.0,
                key.1,
                verdict_text(a),
                verdict_text(b)
            ));
        }
    }
    differences
}

fn outcome_text(decision: &Decision) -> String {
    match decision.refusal() {
        Some((rule, _)) => format!("refused by {rule}"),
        None => "routed".into(),
    }
}

fn verdict_text(verdict: Option<&Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Fail) => "fail",
        None => "absent",
    }
}

/// Collects up to [`DIFFERENCES_MAX`] differing paths, depth-bounded.
fn diff(a: &Value, b: &Value, path: &mut String, depth: usize, out: &mut Vec<String>) {
    if out.len() >= DIFFERENCES_MAX || a == b {
        return;
    }
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if depth < canonical::DEPTH_MAX => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.push_str(if len == 0 { "" } else { "." });
                path.push_str(key);
                match (x.get(key), y.get(key)) {
                    (Some(v), Some(w)) => diff(v, w, path, depth + 1, out),
                    (v, w) => push(out, path, v, w),
                }
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y))
            if depth < canonical::DEPTH_MAX && x.len() == y.len() =>
        {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                path.push_str(&format!("[{i}]"));
                diff(v, w, path, depth + 1, out);
                path.truncate(len);
            }
        }
        _ => push(out, path, Some(a), Some(b)),
    }
}

fn push(out: &mut Vec<String>, path: &str, logged: Option<&Value>, replayed: Option<&Value>) {
    if out.len() >= DIFFERENCES_MAX {
        return;
    }
    let show = |v: Option<&Value>| match v {
        None => "absent".to_owned(),
        Some(v) => v.to_string().chars().take(120).collect(),
    };
    let path = if path.is_empty() { "record" } else { path };
    out.push(format!(
        "{path}: logged {}, replayed {}",
        show(logged),
        show(replayed)
    ));
}
