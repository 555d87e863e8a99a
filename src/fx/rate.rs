//! Exchange rates as facts: a pair, an exact decimal, where it came from, when it is valid and
//! when we learnt it; and the [`RateBook`] that picks, for an instant, the rate to use.
use std::fmt;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use rust_decimal::Decimal;

use super::FxError;
use super::convert::check_rate;

/// Most fractional digits a published rate may have: WeChat Pay's `rate` is the ratio × 10^8
/// (wechatpay.md §1.13); two more leave room for partners that quote finer. With
/// [`MARKUP_SCALE_MAX`] a marked-up rate stays within the conversion's exact range.
pub const SOURCE_RATE_SCALE_MAX: u32 = 10;
/// Most fractional digits of a markup ("0.025" is 2.5 %).
pub const MARKUP_SCALE_MAX: u32 = 4;
/// Most rates one book holds (a year of daily rates for every pair of 17 currencies from
/// three sources is about 300,000).
pub const RATES_MAX: usize = 500_000;

const _: () = assert!(SOURCE_RATE_SCALE_MAX + MARKUP_SCALE_MAX <= super::convert::RATE_SCALE_MAX);

/// `from/to`: the rate is how many units of `to` one unit of `from` buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    pub from: Currency,
    pub to: Currency,
}

/// Where a rate came from, in rising order of trust: a rate a network says it applied beats a
/// partner's feed, which beats the operator's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateSource {
    ConfigFile,
    PartnerFeed,
    NetworkApplied,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pair: Pair,
    value: Decimal,
    source: RateSource,
    /// The network the rate belongs to, for feeds and applied rates; `None` applies to all.
    network: Option<String>,
    /// Valid from this instant (inclusive) ...
    valid_from_ms: i64,
    /// ... to this one (exclusive).
    valid_to_ms: i64,
    /// When the switch learnt it; among equals the newer wins.
    observed_at_ms: i64,
}

/// Every rate the switch knows, and how each network's quotes are made from them.
#[derive(Debug, Clone, Default)]
pub struct RateBook {
    rates: Vec<Rate>,
    policy: super::FxPolicy,
}

// === impl Pair ===

impl Pair {
    pub fn new(from: Currency, to: Currency) -> Result<Self, FxError> {
        if from == to {
            return Err(FxError::SameCurrency(from.code()));
        }
        Ok(Self { from, to })
    }

    /// Parses `FROM/TO` (the form Alipay+ writes `quoteCurrencyPair` in, e.g. `"USD/JPY"`).
    pub fn parse(text: &str) -> Result<Self, FxError> {
        let bad = || FxError::BadPair(text.chars().take(16).collect());
        let (from, to) = text.split_once('/').ok_or_else(bad)?;
        let from = parse_currency(from).map_err(|_| bad())?;
        let to = parse_currency(to).map_err(|_| bad())?;
        Self::new(from, to)
    }
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.from.code(), self.to.code())
    }
}

// === impl RateSource ===

impl RateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigFile => "config_file",
            Self::PartnerFeed => "partner_feed",
            Self::NetworkApplied => "network_applied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::ConfigFile, Self::PartnerFeed, Self::NetworkApplied]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

// === impl Rate ===

impl Rate {
    /// Checks the value (positive, below the limit, at most [`SOURCE_RATE_SCALE_MAX`]
    /// fractional digits) and the window (non-empty).
    pub fn new(
        pair: Pair,
        value: Decimal,
        source: RateSource,
        network: Option<String>,
        valid_from_ms: i64,
        valid_to_ms: i64,
        observed_at_ms: i64,
    ) -> Result<Self, FxError> {
        let bad = |reason: String| FxError::BadRate {
            pair: pair.to_string(),
            reason,
        };
        check_rate(value).map_err(bad)?;
        if value.normalize().scale() > SOURCE_RATE_SCALE_MAX {
            return Err(bad(format!(
                "a published rate may have at most {SOURCE_RATE_SCALE_MAX} fractional digits"
            )));
        }
        if valid_from_ms >= valid_to_ms {
            return Err(bad("valid_from must be before valid_to".into()));
        }
        Ok(Self {
            pair,
            value: value.normalize(),
            source,
            network,
            valid_from_ms,
            valid_to_ms,
            observed_at_ms,
        })
    }

    pub fn pair(&self) -> Pair {
        self.pair
    }
    pub fn value(&self) -> Decimal {
        self.value
    }
    pub fn source(&self) -> RateSource {
        self.source
    }
    pub fn network(&self) -> Option<&str> {
        self.network.as_deref()
    }
    pub fn valid_from_ms(&self) -> i64 {
        self.valid_from_ms
    }
    pub fn valid_to_ms(&self) -> i64 {
        self.valid_to_ms
    }
    pub fn observed_at_ms(&self) -> i64 {
        self.observed_at_ms
    }

    fn valid_at(&self, at_ms: i64) -> bool {
        self.valid_from_ms <= at_ms && at_ms < self.valid_to_ms
    }
}

// === impl RateBook ===

impl RateBook {
    pub fn new(policy: super::FxPolicy) -> Self {
        Self {
            rates: Vec::new(),
            policy,
        }
    }

    pub fn policy(&self) -> &super::FxPolicy {
        &self.policy
    }

    pub fn add(&mut self, rate: Rate) -> Result<(), FxError> {
        if self.rates.len() >= RATES_MAX {
            return Err(FxError::BadRate {
                pair: rate.pair.to_string(),
                reason: format!("the book already holds {RATES_MAX} rates"),
            });
        }
        self.rates.push(rate);
        Ok(())
    }

    /// The rate for `pair` valid at `at_ms` for `network`: among the rates whose window holds
    /// the instant and that belong to that network or to all, the most trusted source wins,
    /// then the latest observed, then the latest start. A network's applied rate never
    /// serves another network.
    pub fn rate_at(&self, pair: Pair, network: &str, at_ms: i64) -> Result<&Rate, FxError> {
        self.rates
            .iter()
            .filter(|r| r.pair == pair && r.valid_at(at_ms))
            .filter(|r| r.network.as_deref().is_none_or(|n| n == network))
            .max_by_key(|r| (r.source, r.observed_at_ms, r.valid_from_ms))
            .ok_or_else(|| FxError::NoRate {
                pair: pair.to_string(),
                at_ms,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn pair() -> Pair {
        Pair::parse("JPY/CNY").unwrap()
    }

    fn rate(value: Decimal, source: RateSource, network: Option<&str>, from: i64, to: i64) -> Rate {
        Rate::new(
            pair(),
            value,
            source,
            network.map(Into::into),
            from,
            to,
            from,
        )
        .unwrap()
    }

    #[test]
    fn the_most_trusted_source_valid_at_the_instant_wins() {
        let mut book = RateBook::default();
        book.add(rate(dec!(0.0460), RateSource::ConfigFile, None, 0, 1_000))
            .unwrap();
        book.add(rate(
            dec!(0.0462),
            RateSource::PartnerFeed,
            Some("alipayplus"),
            100,
            200,
        ))
        .unwrap();
        book.add(rate(
            dec!(0.0463),
            RateSource::NetworkApplied,
            Some("wechatpay"),
            150,
            300,
        ))
        .unwrap();
        let at = |network, ms| book.rate_at(pair(), network, ms).unwrap().value();
        assert_eq!(at("alipayplus", 50), dec!(0.0460), "before the feed starts");
        assert_eq!(
            at("alipayplus", 150),
            dec!(0.0462),
            "the feed beats the file"
        );
        assert_eq!(at("alipayplus", 200), dec!(0.0460), "valid_to is exclusive");
        assert_eq!(at("wechatpay", 160), dec!(0.0463), "applied beats the file");
        assert_eq!(at("paypay", 160), dec!(0.0460), "others' rates never apply");
        assert!(matches!(
            book.rate_at(pair(), "paypay", 1_000),
            Err(FxError::NoRate { .. })
        ));
    }

    #[test]
    fn bad_pairs_and_rates_are_refused() {
        assert!(matches!(Pair::parse("JPYCNY"), Err(FxError::BadPair(_))));
        assert!(matches!(Pair::parse("JPY/XAU"), Err(FxError::BadPair(_))));
        assert_eq!(Pair::parse("JPY/JPY"), Err(FxError::SameCurrency("JPY")));
        let make = |v, from, to| Rate::new(pair(), v, RateSource::ConfigFile, None, from, to, 0);
        assert!(make(dec!(0.12345678901), 0, 1).is_err(), "11 decimals");
        assert!(make(dec!(0.1), 5, 5).is_err(), "empty window");
        assert!(make(dec!(0), 0, 1).is_err());
        assert_eq!(
            make(dec!(0.04650), 0, 1).unwrap().value().to_string(),
            "0.0465"
        );
    }
}
