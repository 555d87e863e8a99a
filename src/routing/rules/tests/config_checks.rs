//! The `[compliance]` checks, and the canonical form and version: stable under every
//! spelling of one meaning, changed by any change of meaning.
use proptest::prelude::*;

use super::super::*;
use super::{canonical_form, refusal, rules};
use crate::config::Config;

#[test]
fn per_code_limits_need_a_velocity_key_and_it_is_never_shown() {
    let no_key = refusal("[[compliance.velocity.code]]\nwindow_ms = 600_000\ncount_max = 3\n");
    assert!(no_key.contains("velocity_key"), "{no_key}");
    let short = refusal("velocity_key = \"s3cr3t-but-short\"\n");
    assert!(short.contains("at least 32 bytes"), "{short}");
    assert!(!short.contains("s3cr3t"), "{short}");
    // Terminal limits alone count no codes and need no key.
    rules("[[compliance.velocity.terminal]]\nwindow_ms = 60_000\ncount_max = 5\n");
}

#[test]
fn config_mistakes_are_refused_by_key_path() {
    let cases = [
        (
            "[compliance.networks.paypy]\ncurrencies = [\"JPY\"]\n",
            "compliance.networks.paypy",
        ),
        (
            "[compliance.networks.paypay]\ncurrencies = [\"YEN\"]\n",
            "compliance.networks.paypay.currencies",
        ),
        (
            "[compliance.networks.paypay]\nsingle_payment_max = { JPY = \"500000.5\" }\n",
            "single_payment_max.JPY",
        ),
        (
            "[compliance.networks.paypay]\nmcc_allow = [\"58\"]\n",
            "mcc_allow",
        ),
        (
            "[compliance.networks.paypay]\nmcc_allow = [\"5812\"]\nmcc_deny = [\"7995\"]\n",
            "not both",
        ),
        (
            "blocked_merchants = [\"shinjuku-ramne\"]\n",
            "blocked_merchants",
        ),
        ("blocked_terminals = [\"till-9\"]\n", "blocked_terminals"),
        (
            "[[compliance.velocity.terminal]]\nwindow_ms = 0\ncount_max = 5\n",
            "window_ms",
        ),
        (
            "[[compliance.velocity.terminal]]\nwindow_ms = 60000\n",
            "count_max, amount_max or both",
        ),
        (
            "[[compliance.velocity.terminal]]\nwindow_ms = 60000\ncount_max = 0\n",
            "count_max",
        ),
        (
            "[compliance.networks.paypay]\nsingle_payment_maximum = 5\n",
            "unknown field",
        ),
    ];
    for (text, expected) in cases {
        let error = refusal(text);
        assert!(error.contains(expected), "{text}: {error}");
    }
}

#[test]
fn the_example_config_carries_paypays_published_limit() {
    let config = Config::parse(include_str!("../../../../deploy/kakehashi.example.toml")).unwrap();
    let rules = RuleSet::from_config(&config).unwrap();
    let paypay = &rules.networks["paypay"];
    assert_eq!(
        paypay.single_payment_max["JPY"],
        kakehashi_adapter_core::Money::parse("500000", "JPY").unwrap()
    );
    assert!(paypay.currencies.as_ref().unwrap().contains("JPY"));
    assert!(rules.has_code_limits());
}

proptest! {
    #[test]
    fn canonical_text_reads_back_to_the_same_rule_set_and_version(spec in canonical_form::spec()) {
        let rules = rules(&spec.render(0));
        let text = rules.to_canonical_string();
        let back = RuleSet::from_canonical(&text).unwrap();
        prop_assert_eq!(back.version(), rules.version());
        prop_assert_eq!(&back, &rules);
        prop_assert_eq!(RuleSet::from_canonical_versioned(rules.version().as_str(), &text).unwrap(), rules);
    }

    #[test]
    fn key_order_list_order_and_spelling_do_not_change_the_version(
        spec in canonical_form::spec(),
        seed in 1u64..1_000,
    ) {
        let (plain, shuffled) = (rules(&spec.render(0)), rules(&spec.render(seed)));
        prop_assert_eq!(plain.version(), shuffled.version());
    }

    #[test]
    fn any_change_of_meaning_changes_the_version(
        spec in canonical_form::spec(),
        change in 0usize..canonical_form::CHANGES,
    ) {
        let changed = spec.changed(change);
        let (before, after) = (rules(&spec.render(0)), rules(&changed.render(0)));
        prop_assert_ne!(before.version(), after.version());
    }
}
