//! FX as a visiting customer meets it: a yen price quoted in each of the 17 currencies of the
//! seed's markets, stored and read back, compared with what the network applied; amounts
//! with more decimals than their currency has are refused before any of it.
use iso_currency::Currency;
use kakehashi::fx::{self, FxConfig, FxError, Pair, Rate, RateBook, RateSource, RoundingMode};
use kakehashi::store::SqlStore;
use kakehashi_adapter_core::{Money, MoneyError};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Each currency with its ISO 4217 exponent (standards.md §3.1) and an indicative
/// JPY/currency rate.
const MARKETS: [(&str, u32, Decimal); 16] = [
    ("CNY", 2, dec!(0.0465)),
    ("HKD", 2, dec!(0.0512)),
    ("KRW", 0, dec!(9.1234)),
    ("TWD", 2, dec!(0.2111)),
    ("THB", 2, dec!(0.2233)),
    ("SGD", 2, dec!(0.00871)),
    ("MYR", 2, dec!(0.0289)),
    ("USD", 2, dec!(0.00652)),
    ("EUR", 2, dec!(0.00601)),
    ("GBP", 2, dec!(0.00514)),
    ("AUD", 2, dec!(0.01011)),
    ("CAD", 2, dec!(0.00905)),
    ("NZD", 2, dec!(0.01107)),
    ("PHP", 2, dec!(0.3801)),
    ("IDR", 2, dec!(104.9871)),
    ("VND", 0, dec!(167.5512)),
];

fn book() -> RateBook {
    let config: FxConfig =
        toml::from_str("[markup]\nwechatpay = \"0.015\"\n[rounding]\nwechatpay = \"half-even\"\n")
            .unwrap();
    let mut book = RateBook::new(config.policy().unwrap());
    for (code, _, rate) in MARKETS {
        let pair = Pair::new(Currency::JPY, Currency::from_code(code).unwrap()).unwrap();
        book.add(Rate::new(pair, rate, RateSource::ConfigFile, None, 0, i64::MAX, 0).unwrap())
            .unwrap();
    }
    book
}

#[tokio::test]
async fn a_yen_price_is_quoted_in_every_market_currency_and_stored_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fx.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let book = book();
    let price = Money::parse("12345", "JPY").unwrap();
    for (code, exponent, rate) in MARKETS {
        let currency = Currency::from_code(code).unwrap();
        let quote = fx::quote(&book, "wechatpay", price, currency, 1_000).unwrap();
        assert_eq!(quote.rate_quoted, rate * dec!(1.015), "{code}");
        assert_eq!(
            quote.wallet_amount.amount().scale(),
            exponent,
            "{code} minor units"
        );
        let exact = dec!(12345) * quote.rate_quoted;
        let rounded = exact.round_dp_with_strategy(
            exponent,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        assert_eq!(
            quote.wallet_amount.amount(),
            rounded,
            "{code}: half-even to {exponent} places"
        );
        fx::sql::insert_quote(store.pool(), &quote).await.unwrap();
        let read = fx::sql::get_quote(store.pool(), &quote.quote_id)
            .await
            .unwrap();
        assert_eq!(read.as_ref(), Some(&quote), "{code}");
        // The network charged one minor unit more at a slightly different rate.
        let applied = Money::from_minor(quote.wallet_amount.minor() + 1, currency).unwrap();
        let comparison =
            fx::compare(&quote, applied, quote.rate_quoted + dec!(0.0001), 2_000).unwrap();
        assert_eq!(comparison.difference_minor, 1, "{code}");
        assert_eq!(comparison.rate_difference, dec!(0.0001), "{code}");
        assert!(!comparison.expired);
        // And back: the customer's amount in yen is whole yen, rounded as told.
        let back = fx::convert(
            quote.wallet_amount,
            dec!(0.5),
            Currency::JPY,
            RoundingMode::Down,
        )
        .unwrap();
        assert_eq!(
            back.to.amount(),
            (quote.wallet_amount.amount() * dec!(0.5)).floor(),
            "{code}"
        );
        assert_eq!(back.to.amount().scale(), 0, "{code} → JPY");
    }
}

#[test]
fn iso_4217_exponents_are_the_ones_the_research_pins() {
    for (code, exponent, _) in MARKETS {
        let currency = Currency::from_code(code).unwrap();
        assert_eq!(fx::convert::exponent(currency).unwrap(), exponent, "{code}");
    }
    assert_eq!(fx::convert::exponent(Currency::JPY).unwrap(), 0);
    assert!(
        fx::convert::exponent(Currency::XAU).is_err(),
        "no minor unit, no payments"
    );
}

#[test]
fn a_yen_amount_with_decimals_and_a_yuan_amount_with_three_are_refused() {
    assert_eq!(
        Money::parse("1200.5", "JPY"),
        Err(MoneyError::TooManyDecimals {
            currency: "JPY",
            allowed: 0
        })
    );
    assert_eq!(
        Money::parse("12.345", "CNY"),
        Err(MoneyError::TooManyDecimals {
            currency: "CNY",
            allowed: 2
        })
    );
    // Built from a Decimal, as a partner's feed or a network's reply would be: refused too.
    assert!(Money::new(dec!(1200.5), Currency::JPY).is_err());
    assert!(Money::new(dec!(12.345), Currency::CNY).is_err());
    // A conversion never produces them: the target's exponent decides the result's scale.
    let yuan = Money::parse("12.34", "CNY").unwrap();
    let yen = fx::convert(yuan, dec!(21.5055), Currency::JPY, RoundingMode::HalfUp).unwrap();
    assert_eq!(yen.to.value_string(), "265");
}

#[test]
fn a_quote_without_a_rate_for_the_pair_says_which() {
    let price = Money::parse("1200", "JPY").unwrap();
    let error = fx::quote(&book(), "wechatpay", price, Currency::CHF, 0).unwrap_err();
    assert_eq!(
        error,
        FxError::NoRate {
            pair: "JPY/CHF".into(),
            at_ms: 0
        }
    );
    assert!(error.to_string().contains("JPY/CHF"));
}
