//! A small Tokyo deployment for the compliance tests: four merchants, their tills, the four
//! networks' real code prefixes, a rule set with every kind of rule, and a seeded day of
//! mixed traffic decided the way the switch decides (identify, count under a lock, evaluate,
//! record the routed ones in the same transaction).
use iso_currency::Currency;
use kakehashi::Config;
use kakehashi::routing::rules::{DecisionInput, Outcome};
use kakehashi::routing::velocity::{observe_locked, record};
use kakehashi::routing::{CodeTable, Compliance, Decision, evaluate};
use kakehashi_adapter_core::{CodePattern, Money, PaymentCode};
use sqlx::AnyPool;

/// 2025-03-02 00:00 JST (2025-03-01T15:00:00Z): the business day the traffic fills.
pub const DAY_START_MS: i64 = 1_740_841_200_000;
pub const DAY_MS: i64 = 24 * 3_600_000;

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

/// SplitMix64: the day is the same for a seed on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, prefix: &str, len: usize) -> String {
        let mut code = prefix.to_owned();
        while code.len() < len {
            code.push(char::from(b'0' + self.below(10) as u8));
        }
        code
    }
}

/// One payment as a terminal asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub at_ms: i64,
    pub merchant_id: &'static str,
    pub category_code: &'static str,
    pub terminal_id: &'static str,
    pub amount: Money,
    /// A scanned customer code, or `None` with the network named (merchant-presented QR).
    pub code: Option<String>,
    pub network: &'static str,
}

/// Merchant, category, tills (the last of the ramen shop's is blocked), networks accepted,
/// and how often (in percent) a payment is at this shop.
type Shop = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    u64,
);
const SHOPS: [Shop; 4] = [
    (
        "shinjuku-ramen",
        "5812",
        &["ramen-1", "ramen-2", "ramen-1", "ramen-2", "ramen-old"],
        &["linepay", "paypay", "wechatpay"],
        55,
    ),
    (
        "ginza-jewels",
        "5944",
        &["jewels-1"],
        &["paypay", "alipayplus", "wechatpay"],
        20,
    ),
    (
        "kabukicho-games",
        "7995",
        &["games-1"],
        &["paypay", "linepay"],
        20,
    ),
    ("closed-shop", "5999", &["closed-1"], &["paypay"], 5),
];
const NETWORKS: [&str; 4] = ["paypay", "linepay", "wechatpay", "alipayplus"];

fn shop(rng: &mut Rng) -> usize {
    let mut roll = rng.below(100);
    for (i, (.., percent)) in SHOPS.iter().enumerate() {
        if roll < *percent {
            return i;
        }
        roll -= percent;
    }
    0
}

/// `count` requests over the day from `start_ms`: mostly small JPY payments at networks
/// the shop accepts, some large ones, some in USD or CNY, some codes the shop does not
/// take, busy tills, and now and then a till retrying one code over and over.
pub fn traffic(seed: u64, start_ms: i64, count: usize) -> Vec<Request> {
    let mut rng = Rng(seed);
    let mut at_ms = start_ms;
    let mut requests: Vec<Request> = Vec::with_capacity(count);
    let step_ms = (DAY_MS / count as i64).max(1) as u64;
    while requests.len() < count {
        let busy = rng.chance(30) && !requests.is_empty();
        at_ms += if busy {
            1_000 + rng.below(9_000)
        } else {
            rng.below(2 * step_ms)
        } as i64;
        if rng.chance(3) && !requests.is_empty() {
            // A till retrying the same scanned code in a loop.
            let mut retry = requests[requests.len() - 1].clone();
            for _ in 0..5 {
                if requests.len() == count || retry.code.is_none() {
                    break;
                }
                at_ms += 2_000 + rng.below(8_000) as i64;
                retry.at_ms = at_ms;
                requests.push(retry.clone());
            }
            continue;
        }
        let shop = if busy {
            let last = requests[requests.len() - 1].merchant_id;
            SHOPS.iter().position(|s| s.0 == last).unwrap_or(0)
        } else {
            self::shop(&mut rng)
        };
        let (merchant_id, category_code, terminals, accepted, _) = SHOPS[shop];
        let terminal_id = *rng.pick(terminals);
        let network = if rng.chance(85) {
            *rng.pick(accepted)
        } else {
            *rng.pick(&NETWORKS)
        };
        let code = if rng.chance(8) && network != "linepay" && network != "wechatpay" {
            None
        } else {
            Some(new_code(&mut rng, network))
        };
        requests.push(Request {
            at_ms,
            merchant_id,
            category_code,
            terminal_id,
            amount: amount(&mut rng, shop),
            code,
            network,
        });
    }
    requests
}

fn new_code(rng: &mut Rng, network: &str) -> String {
    match network {
        "paypay" => rng.digits("9000818188", 24),
        "linepay" => rng.digits("9000000000", 19),
        "wechatpay" => {
            let prefix = format!("1{}", rng.below(6));
            rng.digits(&prefix, 18)
        }
        _ if rng.chance(40) => rng.digits("281010", 20),
        _ => {
            let prefix = format!("{}", 25 + rng.below(6));
            let len = 16 + rng.below(9) as usize;
            rng.digits(&prefix, len)
        }
    }
}

fn amount(rng: &mut Rng, shop: usize) -> Money {
    let roll = rng.below(100);
    if roll < 5 {
        return Money::parse(
            &format!("{}.{:02}", 1 + rng.below(300), rng.below(100)),
            "USD",
        )
        .expect("USD amount");
    }
    if roll < 7 {
        return Money::parse(&format!("{}", 1 + rng.below(2_000)), "CNY").expect("CNY amount");
    }
    let yen = if shop == 1 || roll > 93 {
        // Jewellery, and the odd large order elsewhere: around PayPay's limit.
        200_000 + rng.below(1_000_000)
    } else {
        100 + rng.below(20_000)
    };
    Money::parse(&yen.to_string(), "JPY").expect("JPY amount")
}

/// Decides one request as the switch does: identify the code, lock and count under the
/// terminal and the code key, evaluate, and count the payment if it was routed, all in one
/// transaction.
pub async fn decide(
    pool: &AnyPool,
    table: &CodeTable,
    compliance: &Compliance,
    request: &Request,
) -> Decision {
    let code = request
        .code
        .as_deref()
        .map(|c| PaymentCode::parse(c).expect("generated codes are digits"));
    let route = code
        .as_ref()
        .map(|c| table.route(c).expect("generated codes route"));
    let network = route
        .as_ref()
        .map_or_else(|| request.network.to_owned(), |r| r.network.clone());
    let code_key = code.as_ref().and_then(|c| compliance.code_key(c));
    let currency: Currency = request.amount.currency();
    let mut tx = pool.begin().await.expect("begin");
    let velocity = observe_locked(
        &mut tx,
        compliance.rules(),
        code_key.as_ref(),
        request.terminal_id,
        request.at_ms,
        currency,
    )
    .await
    .expect("velocity counts");
    let input = DecisionInput {
        at_ms: request.at_ms,
        merchant_id: request.merchant_id.into(),
        merchant_category_code: request.category_code.into(),
        terminal_id: request.terminal_id.into(),
        amount: request.amount,
        network,
        code: route,
        velocity,
    };
    let decision = evaluate(compliance.rules(), &input);
    if let Outcome::Routed { .. } = decision.outcome {
        record(
            &mut tx,
            code_key.as_ref(),
            request.terminal_id,
            request.at_ms,
            &request.amount,
        )
        .await
        .expect("velocity recorded");
    }
    tx.commit().await.expect("commit");
    decision
}
