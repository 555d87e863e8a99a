//! The `[fx]` section of the switch's config and the rates file it names: markups and
//! rounding modes per network as exact decimal strings, checked before anything starts.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::convert::RoundingMode;
use super::rate::{MARKUP_SCALE_MAX, Pair, Rate, RateSource};
use super::{FxError, RateBook};

/// Largest markup: half the rate again would be a fee, not a markup.
const MARKUP_LIMIT: &str = "0.5";
/// A quote lives between 1 s and one day.
const QUOTE_TTL_MS_MAX: u64 = 86_400_000;
/// Largest rates file read.
const RATES_FILE_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// `[fx]`:
/// ```toml
/// [fx]
/// rates_file = "deploy/rates.toml"
/// quote_ttl_ms = 120000
/// [fx.markup]
/// wechatpay = "0.02"
/// [fx.rounding]
/// wechatpay = "half-up"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxConfig {
    /// A TOML file of `[[rates]]` (pair, rate, valid_from, valid_to): the operator's rates.
    #[serde(default)]
    pub rates_file: Option<PathBuf>,
    /// Markup per network on the market rate, a decimal string ("0.02" = 2 %); default 0.
    #[serde(default)]
    pub markup: BTreeMap<String, String>,
    /// Rounding mode per network for converted amounts; default `half-up`.
    #[serde(default)]
    pub rounding: BTreeMap<String, RoundingMode>,
    /// How long a quote holds, in ms (default 120,000).
    #[serde(default)]
    pub quote_ttl_ms: Option<u64>,
}

/// What quoting for one network uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkFx {
    pub markup: Decimal,
    pub rounding: RoundingMode,
    pub quote_ttl_ms: u64,
}

/// The checked form of [`FxConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxPolicy {
    networks: BTreeMap<String, NetworkFx>,
    default: NetworkFx,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatesFile {
    #[serde(default)]
    rates: Vec<RateRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateRow {
    pair: String,
    rate: String,
    valid_from: String,
    valid_to: String,
}

// === impl FxConfig ===

impl FxConfig {
    pub fn policy(&self) -> Result<FxPolicy, FxError> {
        let quote_ttl_ms = self.quote_ttl_ms.unwrap_or(120_000);
        if !(1_000..=QUOTE_TTL_MS_MAX).contains(&quote_ttl_ms) {
            return Err(FxError::BadMarkup {
                network: "fx.quote_ttl_ms".into(),
                reason: format!("must be between 1000 and {QUOTE_TTL_MS_MAX}"),
            });
        }
        let default = NetworkFx {
            markup: Decimal::ZERO,
            rounding: RoundingMode::HalfUp,
            quote_ttl_ms,
        };
        let mut networks = BTreeMap::new();
        for network in self.markup.keys().chain(self.rounding.keys()) {
            let markup = match self.markup.get(network) {
                Some(text) => parse_markup(network, text)?,
                None => Decimal::ZERO,
            };
            let rounding = self
                .rounding
                .get(network)
                .copied()
                .unwrap_or(default.rounding);
            networks.insert(
                network.clone(),
                NetworkFx {
                    markup,
                    rounding,
                    quote_ttl_ms,
                },
            );
        }
        Ok(FxPolicy { networks, default })
    }

    /// The book: the policy plus the rates file's rates (source `config_file`), if any.
    pub fn load_book(&self) -> Result<RateBook, FxError> {
        let mut book = RateBook::new(self.policy()?);
        if let Some(path) = &self.rates_file {
            for rate in load_rates_file(path)? {
                book.add(rate)?;
            }
        }
        Ok(book)
    }
}

// === impl FxPolicy ===

impl FxPolicy {
    pub fn for_network(&self, network: &str) -> NetworkFx {
        self.networks.get(network).copied().unwrap_or(self.default)
    }
}

impl Default for FxPolicy {
    fn default() -> Self {
        FxConfig::default()
            .policy()
            .expect("the default fx policy is valid")
    }
}

fn parse_markup(network: &str, text: &str) -> Result<Decimal, FxError> {
    let bad = |reason: &str| FxError::BadMarkup {
        network: network.into(),
        reason: reason.into(),
    };
    let value = Decimal::from_str_exact(text).map_err(|_| bad("not an exact decimal string"))?;
    let limit = Decimal::from_str_exact(MARKUP_LIMIT).map_err(|_| bad("limit"))?;
    if value < Decimal::ZERO || value >= limit {
        return Err(bad("must be at least 0 and below 0.5"));
    }
    if value.normalize().scale() > MARKUP_SCALE_MAX {
        return Err(bad("at most 4 fractional digits"));
    }
    Ok(value.normalize())
}

/// Reads a rates file: `[[rates]]` with `pair = "JPY/CNY"`, `rate = "0.0465"` (a string,
/// so no float ever touches it) and RFC 3339 `valid_from`/`valid_to`.
pub fn load_rates_file(path: &Path) -> Result<Vec<Rate>, FxError> {
    let fail = |detail: String| FxError::RatesFile {
        path: path.display().to_string(),
        detail,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > RATES_FILE_BYTES_MAX {
        return Err(fail(format!("larger than {RATES_FILE_BYTES_MAX} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    parse_rates(&text).map_err(|e| fail(e.to_string()))
}

/// Parses a rates file's text; see [`load_rates_file`].
pub fn parse_rates(text: &str) -> Result<Vec<Rate>, FxError> {
    let file: RatesFile = toml::from_str(text).map_err(|e| FxError::RatesFile {
        path: "(text)".into(),
        detail: e.message().to_owned(),
    })?;
    let mut rates = Vec::with_capacity(file.rates.len());
    for (index, row) in file.rates.iter().enumerate() {
        let at = |e: FxError| FxError::RatesFile {
            path: format!("rates[{index}]"),
            detail: e.to_string(),
        };
        let pair = Pair::parse(&row.pair).map_err(at)?;
        let bad = |field: &str| FxError::BadRate {
            pair: row.pair.clone(),
            reason: format!("{field} is not valid"),
        };
        let value = Decimal::from_str_exact(&row.rate).map_err(|_| at(bad("rate")))?;
        let from = instant_ms(&row.valid_from).ok_or_else(|| at(bad("valid_from (RFC 3339)")))?;
        let to = instant_ms(&row.valid_to).ok_or_else(|| at(bad("valid_to (RFC 3339)")))?;
        rates.push(
            Rate::new(pair, value, RateSource::ConfigFile, None, from, to, from).map_err(at)?,
        );
    }
    Ok(rates)
}

/// An RFC 3339 instant as Unix milliseconds.
pub fn instant_ms(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn markups_and_rounding_come_per_network() {
        let config: FxConfig = toml::from_str(
            r#"
            quote_ttl_ms = 60000
            [markup]
            wechatpay = "0.02"
            [rounding]
            wechatpay = "half-up"
            alipayplus = "HALF_EVEN"
            "#,
        )
        .unwrap();
        let policy = config.policy().unwrap();
        let wechat = policy.for_network("wechatpay");
        assert_eq!(wechat.markup, dec!(0.02));
        assert_eq!(wechat.quote_ttl_ms, 60_000);
        assert_eq!(
            policy.for_network("alipayplus").rounding,
            RoundingMode::HalfEven
        );
        assert_eq!(policy.for_network("paypay").markup, Decimal::ZERO);
    }

    #[test]
    fn a_markup_that_is_not_an_exact_small_decimal_is_refused() {
        for bad in ["2%", "0.5", "-0.01", "0.00001", "1e-2"] {
            let config = FxConfig {
                markup: [("wechatpay".to_owned(), bad.to_owned())].into(),
                ..FxConfig::default()
            };
            assert!(
                matches!(config.policy(), Err(FxError::BadMarkup { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_rates_file_reads_exact_rates_with_their_window() {
        let rates = parse_rates(
            r#"
            [[rates]]
            pair = "JPY/CNY"
            rate = "0.0465"
            valid_from = "2026-12-01T00:00:00+09:00"
            valid_to = "2027-01-01T00:00:00+09:00"
            "#,
        )
        .unwrap();
        assert_eq!(rates.len(), 1);
        assert_eq!(rates[0].value(), dec!(0.0465));
        assert_eq!(rates[0].source(), RateSource::ConfigFile);
        assert_eq!(rates[0].valid_from_ms(), 1_796_050_800_000);
        let error = parse_rates(
            "[[rates]]\npair = \"JPY/CNY\"\nrate = \"abc\"\nvalid_from = \"x\"\nvalid_to = \"y\"\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("rates[0]"), "{error}");
    }
}
