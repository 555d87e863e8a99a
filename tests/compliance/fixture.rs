//! A small Tokyo deployment for the compliance tests: four merchants, their tills, the four
//! networks' real code prefixes and a rule set with every kind of rule.
use kakehashi::Config;
use kakehashi::routing::CodeTable;
use kakehashi_adapter_core::CodePattern;

/// 2025-03-02 00:00 JST (2025-03-01T15:00:00Z): the business day the tests play in.
pub const DAY_START_MS: i64 = 1_740_841_200_000;

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

/// The networks' own code tables, as their adapters declare them.
pub fn code_table() -> CodeTable {
    let mut table = CodeTable::new();
    let rows = [
        (
            "paypay",
            vec![CodePattern::new("9000818188", 24, 24).with_brand("PayPay")],
        ),
        (
            "linepay",
            vec![CodePattern::new("9000000000", 19, 19).with_brand("LINE Pay")],
        ),
        (
            "wechatpay",
            ["10", "11", "12", "13", "14"]
                .into_iter()
                .map(|p| CodePattern::new(p, 18, 18).with_brand("WeChat Pay"))
                .chain([CodePattern::new("15", 18, 18).with_brand("WeChat Pay HK")])
                .collect(),
        ),
        (
            "alipayplus",
            ["25", "26", "27", "28", "29", "30"]
                .into_iter()
                .map(|p| CodePattern::new(p, 16, 32))
                .chain([CodePattern::new("281010", 16, 32).with_brand("KakaoPay")])
                .collect(),
        ),
    ];
    for (network, patterns) in rows {
        table.add(network, &patterns).expect("small table");
    }
    table
}
