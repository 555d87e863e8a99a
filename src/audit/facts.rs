//! The entries the switch logs for its own changes: a routing decision, a payment's state
//! transition, a refund's. The store builds them from the very rows it writes, inside the
//! same transaction, so no write path can change a payment without its entry (ADR 0008).
//!
//! Bodies hold what an auditor needs to follow a payment without the switch's database:
//! the state moved from and to, the amount, the network and its references, and the
//! switch's or network's reason. Free text (`detail`) has any run of 8 or more digits
//! masked to its last four before it is logged, so a code that slipped into a network's
//! message can never reach the log (and never blocks the write it describes).
use kakehashi_adapter_core::Money;
use serde_json::{Map, Value, json};

use super::entry::{AuditEntry, EntryKind};
use crate::domain::{PaymentRecord, RefundRecord, RefundState, Transition};
use crate::routing::rules::Decision;

/// Longest free text kept in an entry; longer is cut (the store keeps the whole text).
const DETAIL_CHARS_MAX: usize = 512;
/// Digit runs this long or longer are masked in free text.
const DIGIT_RUN_MASKED: usize = 8;

/// The routing decision for a payment, refused or routed. The body is the decision record
/// itself, byte for byte what `audit replay` re-evaluates.
pub fn routing_decision(payment_id: &str, merchant_id: &str, decision: &Decision) -> AuditEntry {
    AuditEntry {
        kind: kind(EntryKind::ROUTING_DECISION),
        at_ms: decision.input.at_ms.max(0),
        payment_id: Some(payment_id.to_owned()),
        merchant_id: Some(merchant_id.to_owned()),
        body: decision.to_canonical_json(),
    }
}

/// One stored payment transition, with the payment's figures after it.
pub fn payment_transition(p: &PaymentRecord, t: &Transition) -> AuditEntry {
    let mut body = Map::new();
    body.insert("seq".into(), json!(t.seq));
    body.insert(
        "from".into(),
        t.from.map_or(Value::Null, |s| json!(s.as_str())),
    );
    body.insert("to".into(), json!(t.to.as_str()));
    body.insert("detail".into(), json!(masked_text(&t.detail)));
    body.insert(
        "merchant_order_id".into(),
        json!(p.merchant_order_id.as_str()),
    );
    body.insert("terminal_id".into(), json!(p.terminal_id));
    body.insert("network".into(), json!(p.network));
    body.insert("amount".into(), amount(&p.amount));
    body.insert("refunded_minor".into(), json!(p.refunded_minor));
    optional(&mut body, "network_txn_id", p.network_txn_id.as_deref());
    optional(&mut body, "network_code", p.network_code.as_deref());
    optional(
        &mut body,
        "decline_reason",
        p.decline_reason.map(|d| d.as_str()),
    );
    AuditEntry {
        kind: kind(EntryKind::PAYMENT_TRANSITION),
        at_ms: t.at_ms.max(0),
        payment_id: Some(p.payment_id.clone()),
        merchant_id: Some(p.merchant_id.clone()),
        body: Value::Object(body),
    }
}

/// A refund created (`from` = `None`, to PENDING) or settled by the network.
pub fn refund_transition(r: &RefundRecord, from: Option<RefundState>) -> AuditEntry {
    let mut body = Map::new();
    body.insert("refund_id".into(), json!(r.refund_id));
    body.insert(
        "merchant_refund_id".into(),
        json!(r.merchant_refund_id.as_str()),
    );
    body.insert(
        "from".into(),
        from.map_or(Value::Null, |s| json!(s.as_str())),
    );
    body.insert("to".into(), json!(r.state.as_str()));
    body.insert("amount".into(), amount(&r.amount));
    body.insert("reason".into(), json!(masked_text(&r.reason)));
    optional(
        &mut body,
        "network_refund_id",
        r.network_refund_id.as_deref(),
    );
    optional(&mut body, "network_code", r.network_code.as_deref());
    optional(
        &mut body,
        "decline_reason",
        r.decline_reason.map(|d| d.as_str()),
    );
    let at_ms = if from.is_none() {
        r.created_at_ms
    } else {
        r.updated_at_ms
    };
    AuditEntry {
        kind: kind(EntryKind::REFUND_TRANSITION),
        at_ms: at_ms.max(0),
        payment_id: Some(r.payment_id.clone()),
        merchant_id: Some(r.merchant_id.clone()),
        body: Value::Object(body),
    }
}

/// A rule set taking effect: replay of later decisions needs its version.
pub fn rule_set_activated(version: &str, at_ms: i64) -> AuditEntry {
    AuditEntry {
        kind: kind(EntryKind::RULE_SET_ACTIVATED),
        at_ms: at_ms.max(0),
        payment_id: None,
        merchant_id: None,
        body: json!({ "rule_set_version": version }),
    }
}

/// Every entry a stored change writes: one per transition, in order.
pub fn payment_transitions(p: &PaymentRecord, transitions: &[Transition]) -> Vec<AuditEntry> {
    transitions
        .iter()
        .map(|t| payment_transition(p, t))
        .collect()
}

/// Free text as logged: cut to [`DETAIL_CHARS_MAX`] characters, control characters
/// replaced, and every run of [`DIGIT_RUN_MASKED`] or more digits masked to its last four.
pub fn masked_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(DETAIL_CHARS_MAX));
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= DIGIT_RUN_MASKED {
            out.push_str("••••");
            out.push_str(&run[run.len() - 4..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars().take(DETAIL_CHARS_MAX) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut out);
        out.push(if c.is_control() { ' ' } else { c });
    }
    flush(&mut run, &mut out);
    out
}

fn amount(money: &Money) -> Value {
    json!({ "currency": money.currency_code(), "value": money.value_string() })
}

fn optional(body: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        body.insert(name.into(), json!(masked_text(value)));
    }
}

fn kind(name: &'static str) -> EntryKind {
    // The names are the module's constants, each `[a-z_]{1,64}`: parse cannot refuse them.
    EntryKind::parse(name).unwrap_or_else(|_| unreachable!("entry kind constant {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_masked_and_short_ones_kept() {
        assert_eq!(
            masked_text("code 2812345678901234 refused"),
            "code ••••1234 refused"
        );
        assert_eq!(masked_text("USERPAYING 1150"), "USERPAYING 1150");
        assert_eq!(masked_text("1234567"), "1234567");
        assert_eq!(masked_text("12345678"), "••••5678");
        assert_eq!(masked_text("a\nb"), "a b");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "x".repeat(DETAIL_CHARS_MAX * 2);
        assert_eq!(masked_text(&long).chars().count(), DETAIL_CHARS_MAX);
    }

    #[test]
    fn the_constants_are_valid_kinds() {
        for name in [
            EntryKind::ROUTING_DECISION,
            EntryKind::PAYMENT_TRANSITION,
            EntryKind::REFUND_TRANSITION,
            EntryKind::RULE_SET_ACTIVATED,
        ] {
            assert_eq!(kind(name).as_str(), name);
        }
    }
}
