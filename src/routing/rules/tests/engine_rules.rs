//! Each rule kind passing and refusing, with the refusing rule named, and the record reading
//! back to the same bytes.
use kakehashi_adapter_core::Money;

use super::super::*;
use super::{KEY, rules};

fn jpy(value: &str) -> Money {
    Money::parse(value, "JPY").unwrap()
}

/// A PayPay payment of `amount` at till-1 of the ramen shop, with nothing counted yet in
/// any window `rules` names.
fn payment(rules: &RuleSet, amount: Money) -> DecisionInput {
    let zero = |window_ms| WindowCount {
        window_ms,
        count: 0,
        sum: (amount.currency(), 0),
    };
    DecisionInput {
        at_ms: 1_740_841_800_000,
        merchant_id: "shinjuku-ramen".into(),
        merchant_category_code: "5812".into(),
        terminal_id: "till-1".into(),
        amount,
        network: "paypay".into(),
        code: Some(CodeRoute {
            masked: "••••4821".into(),
            length: 24,
            network: "paypay".into(),
            prefix: "9000818188".into(),
            brand: None,
            candidates: vec![Candidate {
                network: "paypay".into(),
                prefix: "9000818188".into(),
                brand: None,
                result: CandidateResult::Chosen,
                why: "longest matching prefix (10 digits)".into(),
            }],
            candidates_omitted: 0,
        }),
        velocity: VelocityObserved {
            code: rules.code_windows_ms().into_iter().map(zero).collect(),
            terminal: rules.terminal_windows_ms().into_iter().map(zero).collect(),
        },
    }
}

fn refused_by(decision: &Decision) -> Option<RuleId> {
    decision.refusal().map(|(rule, _)| rule)
}

fn verdict(decision: &Decision, rule: RuleId) -> Verdict {
    decision
        .checks
        .iter()
        .find(|c| c.rule == rule)
        .map(|c| c.result)
        .unwrap()
}

#[test]
fn paypay_takes_up_to_its_published_500000_yen_and_refuses_one_yen_more() {
    let rules = rules("[compliance.networks.paypay]\nsingle_payment_max = { JPY = \"500000\" }\n");
    let at_limit = evaluate(&rules, &payment(&rules, jpy("500000")));
    assert_eq!(
        at_limit.outcome,
        Outcome::Routed {
            network: "paypay".into()
        }
    );
    let over = evaluate(&rules, &payment(&rules, jpy("500001")));
    assert_eq!(refused_by(&over), Some(RuleId::NetworkLimit));
    let (_, detail) = over.refusal().unwrap();
    assert_eq!(
        detail,
        "paypay takes at most JPY 500000 in one payment; this one is JPY 500001"
    );
    let check = over
        .checks
        .iter()
        .find(|c| c.rule == RuleId::NetworkLimit)
        .unwrap();
    assert_eq!(check.inputs["limit"], "JPY 500000");
    assert_eq!(check.inputs["amount"], "JPY 500001");
    // LINE Pay has no limit in these rules.
    let mut linepay = payment(&rules, jpy("900000"));
    linepay.network = "linepay".into();
    assert_eq!(refused_by(&evaluate(&rules, &linepay)), None);
}

#[test]
fn a_currency_the_network_may_not_take_is_refused() {
    let rules = rules("[compliance.networks.paypay]\ncurrencies = [\"JPY\"]\n");
    assert_eq!(
        refused_by(&evaluate(&rules, &payment(&rules, jpy("1200")))),
        None
    );
    let usd = Money::parse("12.50", "USD").unwrap();
    let decision = evaluate(&rules, &payment(&rules, usd));
    assert_eq!(refused_by(&decision), Some(RuleId::Currency));
    assert_eq!(
        decision.refusal().unwrap().1,
        "paypay takes only JPY, not USD"
    );
}

#[test]
fn a_network_the_merchant_does_not_accept_is_refused_from_the_merchants_own_list() {
    let rules = rules("");
    let mut input = payment(&rules, jpy("1200"));
    input.network = "alipayplus".into();
    let decision = evaluate(&rules, &input);
    assert_eq!(refused_by(&decision), Some(RuleId::MerchantNetwork));
    assert_eq!(
        decision.refusal().unwrap().1,
        "merchant shinjuku-ramen does not accept alipayplus (it accepts: linepay, paypay, wechatpay)"
    );
    input.merchant_id = "nobody".into();
    assert_eq!(
        refused_by(&evaluate(&rules, &input)),
        Some(RuleId::MerchantNetwork)
    );
}

#[test]
fn merchant_categories_are_refused_by_deny_and_by_allow_lists() {
    let deny = rules("[compliance.networks.paypay]\nmcc_deny = [\"7995\"]\n");
    let mut games = payment(&deny, jpy("1200"));
    games.merchant_id = "kabukicho-games".into();
    games.merchant_category_code = "7995".into();
    games.terminal_id = "till-2".into();
    let decision = evaluate(&deny, &games);
    assert_eq!(refused_by(&decision), Some(RuleId::Mcc));
    assert_eq!(
        decision.refusal().unwrap().1,
        "paypay does not take merchant category 7995"
    );
    assert_eq!(
        refused_by(&evaluate(&deny, &payment(&deny, jpy("1200")))),
        None
    );

    let allow = rules("[compliance.networks.paypay]\nmcc_allow = [\"5812\", \"5814\"]\n");
    assert_eq!(
        refused_by(&evaluate(&allow, &payment(&allow, jpy("1200")))),
        None
    );
    let decision = evaluate(&allow, &games);
    assert_eq!(
        decision.refusal().unwrap().1,
        "paypay takes only merchant categories 5812, 5814, not 7995"
    );
}

#[test]
fn blocked_merchants_and_terminals_are_refused() {
    let till = rules("blocked_terminals = [\"till-1\"]\n");
    let decision = evaluate(&till, &payment(&till, jpy("1200")));
    assert_eq!(refused_by(&decision), Some(RuleId::TerminalBlocked));
    assert_eq!(verdict(&decision, RuleId::MerchantBlocked), Verdict::Pass);

    let shop = rules("blocked_merchants = [\"shinjuku-ramen\"]\n");
    let decision = evaluate(&shop, &payment(&shop, jpy("1200")));
    assert_eq!(refused_by(&decision), Some(RuleId::MerchantBlocked));
    assert_eq!(
        decision.refusal().unwrap().1,
        "merchant shinjuku-ramen is blocked by the switch operator"
    );
}

#[test]
fn a_fourth_payment_with_one_code_in_ten_minutes_is_refused() {
    let rules = rules(&format!(
        "{KEY}[[compliance.velocity.code]]\nwindow_ms = 600_000\ncount_max = 3\n"
    ));
    let mut input = payment(&rules, jpy("1200"));
    input.velocity.code[0].count = 2;
    assert_eq!(refused_by(&evaluate(&rules, &input)), None);
    input.velocity.code[0].count = 3;
    let decision = evaluate(&rules, &input);
    assert_eq!(refused_by(&decision), Some(RuleId::VelocityCode));
    assert_eq!(
        decision.refusal().unwrap().1,
        "this would be payment 4 with this code within 10 min; at most 3 are allowed"
    );
    // A merchant-presented QR has no code to count.
    input.code = None;
    input.velocity.code.clear();
    assert_eq!(refused_by(&evaluate(&rules, &input)), None);
}

#[test]
fn a_terminal_over_a_million_yen_in_an_hour_is_refused() {
    let rules = rules(
        "[[compliance.velocity.terminal]]\nwindow_ms = 3_600_000\namount_max = { JPY = \"1000000\" }\n",
    );
    let mut input = payment(&rules, jpy("100000"));
    input.velocity.terminal[0].sum.1 = 900_000;
    assert_eq!(refused_by(&evaluate(&rules, &input)), None);
    input.amount = jpy("100001");
    let decision = evaluate(&rules, &input);
    assert_eq!(refused_by(&decision), Some(RuleId::VelocityTerminal));
    assert_eq!(
        decision.refusal().unwrap().1,
        "payments at this terminal within 1 h would total JPY 1000001, over JPY 1000000"
    );
}

#[test]
fn a_window_nobody_counted_is_refused_not_waved_through() {
    let rules = rules("[[compliance.velocity.terminal]]\nwindow_ms = 60_000\ncount_max = 5\n");
    let mut input = payment(&rules, jpy("1200"));
    input.velocity.terminal.clear();
    let decision = evaluate(&rules, &input);
    assert_eq!(refused_by(&decision), Some(RuleId::VelocityTerminal));
}

#[test]
fn every_rule_is_checked_and_the_first_failure_in_order_refuses() {
    let rules = rules(
        "blocked_terminals = [\"till-1\"]\n[compliance.networks.paypay]\ncurrencies = [\"JPY\"]\n\
         single_payment_max = { JPY = \"500000\" }\n",
    );
    let decision = evaluate(&rules, &payment(&rules, jpy("600000")));
    let checked: Vec<RuleId> = decision.checks.iter().map(|c| c.rule).collect();
    assert_eq!(checked, RuleId::ALL[..6]);
    assert_eq!(verdict(&decision, RuleId::NetworkLimit), Verdict::Fail);
    assert_eq!(refused_by(&decision), Some(RuleId::TerminalBlocked));
    assert_eq!(decision.business_date_jst, "2025-03-02");
    assert_eq!(decision.utc, "2025-03-01T15:10:00.000Z");
    assert_eq!(&decision.rule_set, rules.version());
}

#[test]
fn a_decision_reads_back_to_the_same_canonical_bytes() {
    let rules = rules(&format!(
        "{KEY}[[compliance.velocity.code]]\nwindow_ms = 600_000\ncount_max = 3\n\
         [[compliance.velocity.terminal]]\nwindow_ms = 3_600_000\namount_max = {{ USD = \"5000\" }}\n"
    ));
    let usd = Money::parse("12.5", "USD").unwrap();
    let decision = evaluate(&rules, &payment(&rules, usd));
    let bytes = decision.to_canonical_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains(r#""amount":{"currency":"USD","value":"12.50"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""sum":{"currency":"USD","value":"0.00"}"#),
        "{text}"
    );
    let back = Decision::from_canonical_bytes(&bytes).unwrap();
    assert_eq!(back, decision);
    assert_eq!(back.to_canonical_bytes(), bytes);
    assert_eq!(evaluate(&rules, &back.input).to_canonical_bytes(), bytes);
}

#[test]
fn records_that_are_not_ours_are_refused_on_read() {
    let rules = rules("");
    let mut value = evaluate(&rules, &payment(&rules, jpy("1200"))).to_canonical_json();
    value["extra"] = serde_json::json!(1);
    assert!(Decision::from_canonical_json(&value).is_err());
    let mut value = evaluate(&rules, &payment(&rules, jpy("1200"))).to_canonical_json();
    value["input"]["amount"]["value"] = serde_json::json!(1200.5);
    assert!(Decision::from_canonical_json(&value).is_err());
    let mut value = evaluate(&rules, &payment(&rules, jpy("1200"))).to_canonical_json();
    value["format"] = serde_json::json!("kakehashi.decision.v0");
    assert!(Decision::from_canonical_json(&value).is_err());
}
