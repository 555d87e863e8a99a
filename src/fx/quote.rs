//! Quotes: an indicative wallet-currency amount for a merchant amount, at our rate (the
//! market rate plus the network's markup), with an id and an expiry; and the comparison of
//! a quote with the rate the network says it applied.
use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use rust_decimal::Decimal;

use super::convert::{RoundingMode, convert, exponent};
use super::rate::{Pair, RateSource};
use super::{FxError, RateBook};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// `q_` + 32 hex digits, unguessable.
    pub quote_id: String,
    pub network: String,
    /// Merchant currency / wallet currency.
    pub pair: Pair,
    /// The rate the book held (before markup) and where it came from.
    pub rate_market: Decimal,
    pub rate_source: RateSource,
    pub markup: Decimal,
    /// Our rate: `rate_market × (1 + markup)`, exact.
    pub rate_quoted: Decimal,
    pub merchant_amount: Money,
    /// What the customer is told to expect; the network's own conversion decides.
    pub wallet_amount: Money,
    pub rounding: RoundingMode,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// How far the network's applied conversion is from our quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteComparison {
    pub quote_id: String,
    pub wallet_currency: Currency,
    pub wallet_minor_quoted: i64,
    pub wallet_minor_applied: i64,
    /// `applied − quoted`, in wallet minor units: positive when the customer paid more.
    pub difference_minor: i64,
    pub rate_quoted: Decimal,
    pub rate_applied: Decimal,
    /// `applied − quoted`.
    pub rate_difference: Decimal,
    /// The payment used the quote after it expired.
    pub expired: bool,
}

// === impl Quote ===

impl Quote {
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at_ms
    }
}

/// Quotes `merchant_amount` in `wallet_currency` for `network` at `now_ms`, using the book's
/// rate for the pair at that instant and the network's markup, rounding and lifetime.
pub fn quote(
    book: &RateBook,
    network: &str,
    merchant_amount: Money,
    wallet_currency: Currency,
    now_ms: i64,
) -> Result<Quote, FxError> {
    let pair = Pair::new(merchant_amount.currency(), wallet_currency)?;
    exponent(wallet_currency)?;
    let rate = book.rate_at(pair, network, now_ms)?;
    let policy = book.policy().for_network(network);
    // Both factors are bounded in scale (10 + 4 digits) and size, so the product is exact.
    let rate_quoted = rate
        .value()
        .checked_mul(Decimal::ONE + policy.markup)
        .ok_or(FxError::Overflow)?
        .normalize();
    let conversion = convert(
        merchant_amount,
        rate_quoted,
        wallet_currency,
        policy.rounding,
    )?;
    let ttl = i64::try_from(policy.quote_ttl_ms).map_err(|_| FxError::Overflow)?;
    Ok(Quote {
        quote_id: format!("q_{}", uuid::Uuid::new_v4().simple()),
        network: network.to_owned(),
        pair,
        rate_market: rate.value(),
        rate_source: rate.source(),
        markup: policy.markup,
        rate_quoted,
        merchant_amount,
        wallet_amount: conversion.to,
        rounding: policy.rounding,
        created_at_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(ttl),
    })
}

/// Compares a quote with what the network reported: the wallet amount it charged and the
/// rate it says it applied (WeChat Pay `rate`/`cash_fee`, Alipay+ `settlementQuote`).
pub fn compare(
    quote: &Quote,
    wallet_applied: Money,
    rate_applied: Decimal,
    applied_at_ms: i64,
) -> Result<QuoteComparison, FxError> {
    if wallet_applied.currency() != quote.wallet_amount.currency() {
        return Err(FxError::QuoteMismatch {
            quote_id: quote.quote_id.clone(),
            quoted: quote.wallet_amount.currency_code().into(),
            applied: wallet_applied.currency_code().into(),
        });
    }
    let quoted = quote.wallet_amount.minor();
    let applied = wallet_applied.minor();
    Ok(QuoteComparison {
        quote_id: quote.quote_id.clone(),
        wallet_currency: wallet_applied.currency(),
        wallet_minor_quoted: quoted,
        wallet_minor_applied: applied,
        difference_minor: applied - quoted,
        rate_quoted: quote.rate_quoted,
        rate_applied,
        rate_difference: rate_applied - quote.rate_quoted,
        expired: quote.is_expired(applied_at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fx::{FxConfig, Rate};
    use rust_decimal_macros::dec;

    fn book() -> RateBook {
        let config: FxConfig =
            toml::from_str("quote_ttl_ms = 60000\n[markup]\nwechatpay = \"0.02\"\n").unwrap();
        let mut book = RateBook::new(config.policy().unwrap());
        let pair = Pair::parse("JPY/CNY").unwrap();
        book.add(
            Rate::new(
                pair,
                dec!(0.0465),
                RateSource::ConfigFile,
                None,
                0,
                1_000_000,
                0,
            )
            .unwrap(),
        )
        .unwrap();
        book
    }

    #[test]
    fn a_quote_marks_up_the_market_rate_and_expires() {
        let cny = Currency::from_code("CNY").unwrap();
        let jpy = Money::parse("1200", "JPY").unwrap();
        let q = quote(&book(), "wechatpay", jpy, cny, 1_000).unwrap();
        assert_eq!(q.rate_quoted, dec!(0.04743));
        // 1200 × 0.04743 = 56.916 → half-up → 56.92.
        assert_eq!(q.wallet_amount.value_string(), "56.92");
        assert_eq!(q.expires_at_ms, 61_000);
        assert!(q.quote_id.starts_with("q_") && q.quote_id.len() == 34);
        let plain = quote(&book(), "paypay", jpy, cny, 1_000).unwrap();
        assert_eq!(
            plain.wallet_amount.value_string(),
            "55.80",
            "no markup configured"
        );
    }

    #[test]
    fn the_comparison_gives_the_difference_in_minor_units_and_as_a_rate() {
        let cny = Currency::from_code("CNY").unwrap();
        let q = quote(
            &book(),
            "wechatpay",
            Money::parse("1200", "JPY").unwrap(),
            cny,
            0,
        )
        .unwrap();
        let applied = Money::parse("56.40", "CNY").unwrap();
        let c = compare(&q, applied, dec!(0.047), 70_000).unwrap();
        assert_eq!(c.difference_minor, -52);
        assert_eq!(c.rate_difference, dec!(-0.00043));
        assert!(c.expired);
        let usd = Money::parse("1", "USD").unwrap();
        assert!(matches!(
            compare(&q, usd, dec!(1), 0),
            Err(FxError::QuoteMismatch { .. })
        ));
    }

    #[test]
    fn a_pair_without_a_rate_is_refused() {
        let krw = Currency::from_code("KRW").unwrap();
        let jpy = Money::parse("1200", "JPY").unwrap();
        assert!(matches!(
            quote(&book(), "wechatpay", jpy, krw, 0),
            Err(FxError::NoRate { .. })
        ));
    }
}
