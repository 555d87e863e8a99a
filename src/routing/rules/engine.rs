//! The evaluation: one payment's [`DecisionInput`] against a [`RuleSet`], giving a
//! [`Decision`]. Pure: no clock, store or network; the same input and rule set always give
//! the same record, byte for byte, which is what makes replay possible.
//!
//! Every rule is checked, even after one fails, so the record explains the whole picture;
//! the refusal names the first rule that failed in this fixed order: merchant blocked,
//! terminal blocked, merchant's networks, currency, single-payment limit, merchant category,
//! per-code velocity (one check per limit), per-terminal velocity (one per limit).
use std::collections::BTreeMap;

use super::decision::{
    DECISION_FORMAT, Decision, DecisionInput, Outcome, RuleCheck, Verdict, WindowCount,
};
use super::{MccRule, NetworkRules, RuleId, RuleSet, VelocityLimit};
use crate::routing::time::{business_date_jst, utc_text};

/// Evaluates `input` under `rules`.
pub fn evaluate(rules: &RuleSet, input: &DecisionInput) -> Decision {
    let no_rules = NetworkRules::default();
    let network = rules.networks.get(&input.network).unwrap_or(&no_rules);
    let mut checks = vec![
        merchant_blocked(rules, input),
        terminal_blocked(rules, input),
        merchant_network(rules, input),
        currency(network, input),
        network_limit(network, input),
        mcc(network, input),
    ];
    for limit in &rules.velocity_code {
        checks.push(velocity(RuleId::VelocityCode, limit, input));
    }
    for limit in &rules.velocity_terminal {
        checks.push(velocity(RuleId::VelocityTerminal, limit, input));
    }
    let outcome = match checks.iter().find(|c| c.result == Verdict::Fail) {
        Some(failed) => Outcome::Refused {
            rule: failed.rule,
            detail: failed.why.clone(),
        },
        None => Outcome::Routed {
            network: input.network.clone(),
        },
    };
    Decision {
        format: DECISION_FORMAT.to_owned(),
        rule_set: rules.version().clone(),
        utc: utc_text(input.at_ms),
        business_date_jst: business_date_jst(input.at_ms),
        input: input.clone(),
        checks,
        outcome,
    }
}

fn check(
    rule: RuleId,
    subject: &str,
    inputs: &[(&str, String)],
    pass: bool,
    why: String,
) -> RuleCheck {
    RuleCheck {
        rule,
        subject: subject.to_owned(),
        inputs: inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        result: if pass { Verdict::Pass } else { Verdict::Fail },
        why,
    }
}

fn merchant_blocked(rules: &RuleSet, input: &DecisionInput) -> RuleCheck {
    let id = &input.merchant_id;
    let blocked = rules.blocked_merchants.contains(id);
    let why = if blocked {
        format!("merchant {id} is blocked by the switch operator")
    } else {
        format!("merchant {id} is not blocked")
    };
    check(
        RuleId::MerchantBlocked,
        id,
        &[("merchant_id", id.clone())],
        !blocked,
        why,
    )
}

fn terminal_blocked(rules: &RuleSet, input: &DecisionInput) -> RuleCheck {
    let id = &input.terminal_id;
    let blocked = rules.blocked_terminals.contains(id);
    let why = if blocked {
        format!("terminal {id} is blocked by the switch operator")
    } else {
        format!("terminal {id} is not blocked")
    };
    check(
        RuleId::TerminalBlocked,
        id,
        &[("terminal_id", id.clone())],
        !blocked,
        why,
    )
}

fn merchant_network(rules: &RuleSet, input: &DecisionInput) -> RuleCheck {
    let (merchant, network) = (&input.merchant_id, &input.network);
    let accepted = rules.merchants.get(merchant);
    let list = accepted
        .map(|set| set.iter().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let (pass, why) = match accepted {
        None => (
            false,
            format!("merchant {merchant} has no networks in this rule set"),
        ),
        Some(set) if set.contains(network) => {
            (true, format!("merchant {merchant} accepts {network}"))
        }
        Some(_) => (
            false,
            format!("merchant {merchant} does not accept {network} (it accepts: {list})"),
        ),
    };
    let inputs = [
        ("merchant_id", merchant.clone()),
        ("network", network.clone()),
        ("accepted", list),
    ];
    check(RuleId::MerchantNetwork, merchant, &inputs, pass, why)
}

fn currency(rules: &NetworkRules, input: &DecisionInput) -> RuleCheck {
    let (network, currency) = (&input.network, input.amount.currency_code());
    let mut inputs = vec![
        ("network", network.clone()),
        ("currency", currency.to_owned()),
    ];
    let (pass, why) = match &rules.currencies {
        None => (true, format!("{network} has no currency rule")),
        Some(allowed) => {
            let list = allowed.iter().copied().collect::<Vec<_>>().join(", ");
            inputs.push(("allowed", list.clone()));
            if allowed.contains(currency) {
                (true, format!("{network} takes {currency}"))
            } else {
                (
                    false,
                    format!("{network} takes only {list}, not {currency}"),
                )
            }
        }
    };
    check(RuleId::Currency, network, &inputs, pass, why)
}

fn network_limit(rules: &NetworkRules, input: &DecisionInput) -> RuleCheck {
    let (network, amount) = (&input.network, &input.amount);
    let mut inputs = vec![("network", network.clone()), ("amount", amount.to_string())];
    let (pass, why) = match rules.single_payment_max.get(amount.currency_code()) {
        None => (
            true,
            format!(
                "{network} has no single-payment limit in {}",
                amount.currency_code()
            ),
        ),
        Some(limit) => {
            inputs.push(("limit", limit.to_string()));
            if amount.minor() <= limit.minor() {
                (
                    true,
                    format!("{amount} is within {network}'s single-payment limit of {limit}"),
                )
            } else {
                (
                    false,
                    format!("{network} takes at most {limit} in one payment; this one is {amount}"),
                )
            }
        }
    };
    check(RuleId::NetworkLimit, network, &inputs, pass, why)
}

fn mcc(rules: &NetworkRules, input: &DecisionInput) -> RuleCheck {
    let (network, category) = (&input.network, &input.merchant_category_code);
    let mut inputs = vec![
        ("network", network.clone()),
        ("category_code", category.clone()),
    ];
    let (pass, why) = match &rules.mcc {
        MccRule::Any => (true, format!("{network} has no merchant-category rule")),
        MccRule::Allow(allowed) => {
            let list = allowed.iter().cloned().collect::<Vec<_>>().join(", ");
            inputs.push(("allow", list.clone()));
            if allowed.contains(category) {
                (
                    true,
                    format!("{network} takes merchant category {category}"),
                )
            } else {
                (
                    false,
                    format!("{network} takes only merchant categories {list}, not {category}"),
                )
            }
        }
        MccRule::Deny(denied) => {
            inputs.push((
                "deny",
                denied.iter().cloned().collect::<Vec<_>>().join(", "),
            ));
            if denied.contains(category) {
                (
                    false,
                    format!("{network} does not take merchant category {category}"),
                )
            } else {
                (
                    true,
                    format!("{network} takes merchant category {category}"),
                )
            }
        }
    };
    check(RuleId::Mcc, network, &inputs, pass, why)
}

fn velocity(rule: RuleId, limit: &VelocityLimit, input: &DecisionInput) -> RuleCheck {
    let window = window_text(limit.window_ms);
    let subject = window.clone();
    let mut inputs = vec![("window_ms", limit.window_ms.to_string())];
    if rule == RuleId::VelocityCode && input.code.is_none() {
        let why = "a merchant-presented QR has no customer code to count".to_owned();
        return check(rule, &subject, &inputs, true, why);
    }
    let observed = match rule {
        RuleId::VelocityCode => &input.velocity.code,
        _ => &input.velocity.terminal,
    };
    let Some(seen) = observed.iter().find(|w| w.window_ms == limit.window_ms) else {
        let why = format!("no count was observed for the {window} window; refusing unchecked");
        return check(rule, &subject, &inputs, false, why);
    };
    velocity_against(rule, limit, seen, input, &subject, &window, &mut inputs)
}

fn velocity_against(
    rule: RuleId,
    limit: &VelocityLimit,
    seen: &WindowCount,
    input: &DecisionInput,
    subject: &str,
    window: &str,
    inputs: &mut Vec<(&'static str, String)>,
) -> RuleCheck {
    let amount = &input.amount;
    let (sum_currency, sum_minor) = seen.sum;
    inputs.push(("count_before", seen.count.to_string()));
    let mut failures = Vec::new();
    if let Some(count_max) = limit.count_max {
        inputs.push(("count_max", count_max.to_string()));
        let this = seen.count.saturating_add(1);
        if this > count_max {
            failures.push(format!(
                "this would be payment {this} {} within {window}; at most {count_max} are allowed",
                counted_with(rule)
            ));
        }
    }
    if let Some(amount_max) = limit.amount_max.get(amount.currency_code()) {
        let amount_max = amount_max.0;
        inputs.push(("amount", amount.to_string()));
        inputs.push(("amount_max", amount_max.to_string()));
        if sum_currency != amount.currency() {
            failures.push(format!(
                "the observed sum is in {}, not in the payment's {}",
                sum_currency.code(),
                amount.currency_code()
            ));
        } else {
            let total = sum_minor.saturating_add(amount.minor());
            inputs.push(("sum_before_minor", sum_minor.to_string()));
            if total > amount_max.minor() {
                let exponent = amount.currency().exponent().map(u32::from).unwrap_or(0);
                failures.push(format!(
                    "payments {} within {window} would total {} {}, over {amount_max}",
                    counted_with(rule),
                    amount.currency_code(),
                    rust_decimal::Decimal::new(total, exponent)
                ));
            }
        }
    }
    let pass = failures.is_empty();
    let why = if pass {
        format!("within the {} limit per {window}", counted(rule))
    } else {
        failures.join("; ")
    };
    check(rule, subject, inputs, pass, why)
}

fn counted(rule: RuleId) -> &'static str {
    if rule == RuleId::VelocityCode {
        "payments per code"
    } else {
        "payments per terminal"
    }
}

fn counted_with(rule: RuleId) -> &'static str {
    if rule == RuleId::VelocityCode {
        "with this code"
    } else {
        "at this terminal"
    }
}

/// `600000` → "10 min", `3600000` → "1 h": windows as people state them.
fn window_text(window_ms: u64) -> String {
    match window_ms {
        ms if ms % 3_600_000 == 0 => format!("{} h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{} min", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{} s", ms / 1_000),
        ms => format!("{ms} ms"),
    }
}
