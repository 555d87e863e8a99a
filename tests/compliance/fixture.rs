//! A small Tokyo deployment for the compliance tests: four merchants, their tills and a
//! rule set with every kind of rule.
use kakehashi::Config;

pub const MERCHANTS: &str = r#"
listen = "127.0.0.1:0"
store_url = "sqlite://unused.db"

[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = ["linepay", "paypay", "wechatpay"]

[[merchants]]
id = "ginza-jewels"
name = "Ginza Jewels"
category_code = "5944"
networks = ["paypay", "alipayplus", "wechatpay"]

[[merchants]]
id = "kabukicho-games"
name = "Kabukicho Games"
category_code = "7995"
networks = ["paypay", "linepay"]

[[merchants]]
id = "closed-shop"
name = "Closed Shop"
networks = ["paypay"]

[[terminals]]
id = "ramen-1"
merchant_id = "shinjuku-ramen"
api_key = "ramen-1-test-key-0001"

[[terminals]]
id = "ramen-2"
merchant_id = "shinjuku-ramen"
api_key = "ramen-2-test-key-0002"

[[terminals]]
id = "ramen-old"
merchant_id = "shinjuku-ramen"
api_key = "ramen-old-test-key-03"

[[terminals]]
id = "jewels-1"
merchant_id = "ginza-jewels"
api_key = "jewels-1-test-key-004"

[[terminals]]
id = "games-1"
merchant_id = "kabukicho-games"
api_key = "games-1-test-key-0005"

[[terminals]]
id = "closed-1"
merchant_id = "closed-shop"
api_key = "closed-1-test-key-006"

[networks.linepay]
[networks.paypay]
[networks.wechatpay]
[networks.alipayplus]
"#;

/// Every kind of rule; `paypay_max` is PayPay's single-payment limit in yen.
pub fn compliance(paypay_max: u64) -> String {
    format!(
        r#"
[compliance]
velocity_key = "compliance-test-velocity-key-0123456789"
blocked_merchants = ["closed-shop"]
blocked_terminals = ["ramen-old"]

[compliance.networks.paypay]
currencies = ["JPY"]
single_payment_max = {{ JPY = "{paypay_max}" }}
mcc_deny = ["7995"]

[compliance.networks.linepay]
currencies = ["JPY", "USD"]

[compliance.networks.alipayplus]
single_payment_max = {{ JPY = "1000000" }}

[[compliance.velocity.code]]
window_ms = 600_000
count_max = 3

[[compliance.velocity.terminal]]
window_ms = 3_600_000
amount_max = {{ JPY = "3000000" }}

[[compliance.velocity.terminal]]
window_ms = 60_000
count_max = 5
"#
    )
}

pub fn config(paypay_max: u64) -> Config {
    Config::parse(&format!("{MERCHANTS}{}", compliance(paypay_max))).expect("test config")
}
