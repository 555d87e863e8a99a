//! The rules' tests: each rule kind passing and refusing (`engine_rules`), the config checks
//! and the stability of the canonical form and version (`config_checks`).
use super::*;
use crate::config::Config;

mod canonical_form;
mod config_checks;
mod engine_rules;

pub(super) const BASE: &str = r#"
listen = "127.0.0.1:0"
store_url = "sqlite://x.db"

[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = ["linepay", "paypay", "wechatpay"]

[[merchants]]
id = "kabukicho-games"
name = "Kabukicho Games"
category_code = "7995"
networks = ["paypay", "alipayplus"]

[[terminals]]
id = "till-1"
merchant_id = "shinjuku-ramen"
api_key = "till-1-test-key-0001"

[[terminals]]
id = "till-2"
merchant_id = "kabukicho-games"
api_key = "till-2-test-key-0002"

[networks.linepay]
[networks.paypay]
[networks.wechatpay]
[networks.alipayplus]
"#;

pub(super) const KEY: &str = "velocity_key = \"unit-test-velocity-key-0123456789abcdef\"\n";

pub(super) fn config(compliance: &str) -> Result<Config, String> {
    Config::parse(&format!("{BASE}\n[compliance]\n{compliance}")).map_err(|e| e.to_string())
}

pub(super) fn rules(compliance: &str) -> RuleSet {
    RuleSet::from_config(&config(compliance).unwrap()).unwrap()
}

pub(super) fn refusal(compliance: &str) -> String {
    match config(compliance) {
        Err(e) => e,
        Ok(config) => RuleSet::from_config(&config).unwrap_err().to_string(),
    }
}
