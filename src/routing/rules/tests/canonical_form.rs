//! Random `[compliance]` sections for the version properties: a [`Spec`] is a meaning;
//! [`Spec::render`] writes it as TOML in an order and spelling chosen by a seed (seed 0:
//! the plain one), and [`Spec::changed`] changes exactly one thing it means.
use proptest::prelude::*;

const NETWORKS: [&str; 4] = ["linepay", "paypay", "wechatpay", "alipayplus"];
const CURRENCIES: [&str; 3] = ["JPY", "USD", "CNY"];
const MERCHANTS: [&str; 2] = ["shinjuku-ramen", "kabukicho-games"];
const TERMINALS: [&str; 2] = ["till-1", "till-2"];
/// How many different single changes [`Spec::changed`] knows.
pub const CHANGES: usize = 8;

#[derive(Debug, Clone)]
pub struct Spec {
    networks: Vec<Network>,
    blocked_merchants: [bool; 2],
    blocked_terminals: [bool; 2],
    code: Vec<Limit>,
    terminal: Vec<Limit>,
}

#[derive(Debug, Clone)]
struct Network {
    name: &'static str,
    /// Indexes into CURRENCIES.
    currencies: Option<Vec<usize>>,
    jpy_max: Option<u64>,
    usd_max_dollars: Option<u64>,
    /// `(allow?, codes)`, codes non-empty.
    mcc: Option<(bool, Vec<u16>)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Limit {
    window_ms: u64,
    count_max: Option<u64>,
    jpy_max: Option<u64>,
}

pub fn spec() -> impl Strategy<Value = Spec> {
    let network = (
        proptest::option::of(proptest::collection::vec(0..CURRENCIES.len(), 0..4)),
        proptest::option::of(1u64..2_000_000),
        proptest::option::of(1u64..20_000),
        proptest::option::of((
            any::<bool>(),
            proptest::collection::vec(5800u16..5806, 1..4),
        )),
    );
    let networks = proptest::collection::vec(network, 4).prop_flat_map(|all| {
        proptest::sample::subsequence(
            all.into_iter()
                .zip(NETWORKS)
                .map(
                    |((currencies, jpy_max, usd_max_dollars, mcc), name)| Network {
                        name,
                        currencies,
                        jpy_max,
                        usd_max_dollars,
                        mcc,
                    },
                )
                .collect::<Vec<_>>(),
            0..=4,
        )
    });
    let limit = (
        1u64..100,
        proptest::option::of(1u64..10),
        proptest::option::of(1u64..3_000_000),
    )
        .prop_filter("a limit counts something", |(_, c, a)| {
            c.is_some() || a.is_some()
        })
        .prop_map(|(minutes, count_max, jpy_max)| Limit {
            window_ms: minutes * 60_000,
            count_max,
            jpy_max,
        });
    (
        networks,
        any::<[bool; 2]>(),
        any::<[bool; 2]>(),
        proptest::collection::vec(limit.clone(), 0..3),
        proptest::collection::vec(limit, 0..3),
    )
        .prop_map(
            |(networks, blocked_merchants, blocked_terminals, code, terminal)| Spec {
                networks,
                blocked_merchants,
                blocked_terminals,
                code,
                terminal,
            },
        )
}

/// A small deterministic generator: the seed picks orders and spellings.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn order<T>(&mut self, items: &mut [T]) {
        if self.0 == 0 {
            return;
        }
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    fn flip(&mut self) -> bool {
        self.0 != 0 && self.next().is_multiple_of(2)
    }
}

impl Spec {
    /// The section as TOML (to follow a `[compliance]` header).
    pub fn render(&self, seed: u64) -> String {
        let mut s = Shuffle(seed);
        let mut top = vec![
            "velocity_key = \"unit-test-velocity-key-0123456789abcdef\"".to_owned(),
            format!(
                "blocked_merchants = {}",
                list(&mut s, pick(&MERCHANTS, self.blocked_merchants))
            ),
            format!(
                "blocked_terminals = {}",
                list(&mut s, pick(&TERMINALS, self.blocked_terminals))
            ),
        ];
        s.order(&mut top);
        let mut tables: Vec<String> = self.networks.iter().map(|n| n.render(&mut s)).collect();
        for (kind, limits) in [("code", &self.code), ("terminal", &self.terminal)] {
            let mut limits: Vec<&Limit> = limits.iter().collect();
            if s.flip() && !limits.is_empty() {
                limits.push(limits[0]); // a repeated limit means nothing more
            }
            s.order(&mut limits);
            for limit in limits {
                tables.push(limit.render(kind, &mut s));
            }
        }
        s.order(&mut tables);
        let gap = if s.flip() {
            "\n\n  # a comment\n"
        } else {
            "\n"
        };
        format!("{}\n{}", top.join(gap), tables.join(gap))
    }

    /// The spec with exactly one change of meaning, `which` choosing the kind.
    pub fn changed(&self, which: usize) -> Spec {
        let mut spec = self.clone();
        match which {
            0 => spec.blocked_merchants[0] = !spec.blocked_merchants[0],
            1 => spec.blocked_terminals[1] = !spec.blocked_terminals[1],
            2 => {
                let n = spec.network("paypay");
                n.jpy_max = Some(n.jpy_max.map_or(500_000, |v| v + 1));
            }
            3 => {
                let n = spec.network("linepay");
                n.usd_max_dollars = match n.usd_max_dollars {
                    Some(_) => None,
                    None => Some(100),
                };
            }
            4 => {
                let n = spec.network("wechatpay");
                n.currencies = match n.currencies.take() {
                    None => Some(vec![0]),
                    Some(mut list) if list.contains(&1) => {
                        list.retain(|c| *c != 1);
                        Some(list)
                    }
                    Some(mut list) => {
                        list.push(1);
                        Some(list)
                    }
                };
            }
            5 => {
                let n = spec.network("alipayplus");
                n.mcc = match n.mcc.take() {
                    None => Some((false, vec![7995])),
                    Some((allow, codes)) => Some((!allow, codes)),
                };
            }
            6 => match spec.code.first_mut() {
                Some(limit) => limit.window_ms += 60_000,
                None => spec.code.push(Limit {
                    window_ms: 600_000,
                    count_max: Some(3),
                    jpy_max: None,
                }),
            },
            _ => match spec.terminal.last_mut() {
                Some(limit) => limit.count_max = Some(limit.count_max.map_or(7, |c| c + 1)),
                None => spec.terminal.push(Limit {
                    window_ms: 60_000,
                    count_max: None,
                    jpy_max: Some(9),
                }),
            },
        }
        spec
    }

    fn network(&mut self, name: &'static str) -> &mut Network {
        if let Some(i) = self.networks.iter().position(|n| n.name == name) {
            return &mut self.networks[i];
        }
        self.networks.push(Network {
            name,
            currencies: None,
            jpy_max: None,
            usd_max_dollars: None,
            mcc: None,
        });
        self.networks.last_mut().expect("just pushed")
    }
}

impl Network {
    fn render(&self, s: &mut Shuffle) -> String {
        let mut keys = Vec::new();
        if let Some(currencies) = &self.currencies {
            let mut codes: Vec<&str> = currencies.iter().map(|i| CURRENCIES[*i]).collect();
            if s.flip() && !codes.is_empty() {
                codes.push(codes[0]); // a repeated currency means nothing more
            }
            keys.push(format!("currencies = {}", list(s, codes)));
        }
        let mut amounts = Vec::new();
        if let Some(jpy) = self.jpy_max {
            amounts.push(format!("JPY = \"{jpy}\""));
        }
        if let Some(usd) = self.usd_max_dollars {
            // USD 100 and USD 100.00 are one amount.
            amounts.push(if s.flip() {
                format!("USD = \"{usd}.00\"")
            } else {
                format!("USD = \"{usd}\"")
            });
        }
        if !amounts.is_empty() || s.flip() {
            s.order(&mut amounts);
            keys.push(format!("single_payment_max = {{ {} }}", amounts.join(", ")));
        }
        if let Some((allow, codes)) = &self.mcc {
            let key = if *allow { "mcc_allow" } else { "mcc_deny" };
            keys.push(format!(
                "{key} = {}",
                list(s, codes.iter().map(u16::to_string).collect())
            ));
        }
        s.order(&mut keys);
        format!("[compliance.networks.{}]\n{}\n", self.name, keys.join("\n"))
    }
}

impl Limit {
    fn render(&self, kind: &str, s: &mut Shuffle) -> String {
        let mut keys = vec![format!("window_ms = {}", self.window_ms)];
        if let Some(count) = self.count_max {
            keys.push(format!("count_max = {count}"));
        }
        if let Some(jpy) = self.jpy_max {
            keys.push(format!("amount_max = {{ JPY = \"{jpy}\" }}"));
        }
        s.order(&mut keys);
        format!("[[compliance.velocity.{kind}]]\n{}\n", keys.join("\n"))
    }
}

fn pick(names: &[&'static str; 2], chosen: [bool; 2]) -> Vec<&'static str> {
    names
        .iter()
        .zip(chosen)
        .filter(|(_, c)| *c)
        .map(|(n, _)| *n)
        .collect()
}

fn list<T: AsRef<str>>(s: &mut Shuffle, mut items: Vec<T>) -> String {
    s.order(&mut items);
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.as_ref()))
        .collect();
    format!("[{}]", quoted.join(", "))
}
