//! Money on the wire: the currency (53, ISO 4217 numeric) and the decimal strings of the
//! amount (54), the fixed fee (56) and the fee percentage (57).
//!
//! EMVCo writes amounts as digits with `.` as the decimal mark, at most 13 characters. We are
//! conservative where the research found the rules unconfirmed (`standards.md` §6): no sign,
//! no leading or trailing `.`, and never more decimals than the currency's ISO 4217 minor unit
//! (so a JPY amount has no `.` at all). Amounts become [`Money`] exactly, without floats or
//! rounding; a parsed amount keeps its own text, so `10` and `10.00` dollars both round-trip.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::{Money, MoneyError};
use rust_decimal::Decimal;

use super::error::{AmountProblem, QrError, TagPath};
use super::tlv::Format;
use super::{AMOUNT_CHARS_MAX, PERCENTAGE_CHARS_MAX};

/// The transaction currency from its three-digit ISO 4217 numeric code (`392` is JPY, `036`
/// AUD). Codes without a minor unit (gold, XXX "no currency") are refused: nothing can be
/// paid in them.
pub fn parse_currency(value: &str, tag: TagPath) -> Result<Currency, QrError> {
    Format::Numeric.check(value, 3, 3, tag)?;
    let numeric = value.parse::<u16>().map_err(|_| QrError::BadCharacter {
        tag,
        format: Format::Numeric,
    })?;
    Currency::from_numeric(numeric)
        .filter(|c| c.exponent().is_some())
        .ok_or(QrError::UnknownCurrency { numeric })
}

/// The value of ID 53 for a currency: three digits, zero-padded.
pub fn currency_field(currency: Currency) -> String {
    format!("{:03}", currency.numeric())
}

/// An amount (54) or fixed fee (56) in `currency`.
pub fn parse_amount(value: &str, currency: Currency, tag: TagPath) -> Result<Money, QrError> {
    Format::AlphanumericSpecial.check(value, 1, AMOUNT_CHARS_MAX, tag)?;
    let bad = |problem| QrError::BadAmount { tag, problem };
    let decimals = decimal_digits(value).ok_or(bad(AmountProblem::Syntax))?;
    let allowed = currency.exponent().map(u32::from).unwrap_or(0);
    if decimals > allowed {
        return Err(bad(AmountProblem::TooManyDecimals { allowed }));
    }
    Money::parse(value, currency.code()).map_err(|e| bad(money_problem(e, allowed)))
}

/// The text EMVCo carries for `money`: exactly the currency's minor digits (`1200` yen,
/// `12.50` dollars).
pub fn amount_field(money: &Money, tag: TagPath) -> Result<String, QrError> {
    let text = money.value_string();
    Format::AlphanumericSpecial.check(&text, 1, AMOUNT_CHARS_MAX, tag)?;
    Ok(text)
}

/// A fee percentage (57): a decimal above 0 and below 100 in at most five characters (`3`,
/// `2.5`, `99.99`).
pub fn parse_percentage(value: &str, tag: TagPath) -> Result<Decimal, QrError> {
    Format::AlphanumericSpecial.check(value, 1, PERCENTAGE_CHARS_MAX, tag)?;
    let bad = |problem| QrError::BadAmount { tag, problem };
    decimal_digits(value).ok_or(bad(AmountProblem::Syntax))?;
    let percentage = Decimal::from_str(value).map_err(|_| bad(AmountProblem::Syntax))?;
    if percentage <= Decimal::ZERO || percentage >= Decimal::ONE_HUNDRED {
        return Err(bad(AmountProblem::PercentageOutOfRange));
    }
    Ok(percentage)
}

/// The number of digits after the `.`, or `None` unless `value` is digits with at most one
/// `.` that has digits on both sides.
fn decimal_digits(value: &str) -> Option<u32> {
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) {
        return None;
    }
    match fraction {
        None => Some(0),
        Some(f) if digits(f) => u32::try_from(f.len()).ok(),
        Some(_) => None,
    }
}

fn money_problem(error: MoneyError, allowed: u32) -> AmountProblem {
    match error {
        MoneyError::NotPositive => AmountProblem::NotPositive,
        MoneyError::TooLarge => AmountProblem::TooLarge,
        MoneyError::TooManyDecimals { .. } => AmountProblem::TooManyDecimals { allowed },
        MoneyError::NotANumber(_)
        | MoneyError::UnknownCurrency(_)
        | MoneyError::NoMinorUnit(_)
        | MoneyError::CurrencyMismatch(..) => AmountProblem::Syntax,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::tlv::Tag;

    const AMOUNT: TagPath = TagPath::root(Tag::of(54));

    fn currency(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn currencies_are_iso_4217_numeric_codes() {
        let tag = TagPath::root(Tag::of(53));
        assert_eq!(parse_currency("392", tag), Ok(currency("JPY")));
        assert_eq!(parse_currency("036", tag), Ok(currency("AUD")));
        assert_eq!(currency_field(currency("AUD")), "036");
        assert_eq!(
            parse_currency("959", tag),
            Err(QrError::UnknownCurrency { numeric: 959 })
        );
        assert_eq!(
            parse_currency("000", tag),
            Err(QrError::UnknownCurrency { numeric: 0 })
        );
        assert!(matches!(
            parse_currency("36", tag),
            Err(QrError::BadValueLength { .. })
        ));
    }

    #[test]
    fn amounts_follow_the_currency_minor_unit_exactly() {
        let jpy = parse_amount("1200", currency("JPY"), AMOUNT).unwrap();
        assert_eq!((jpy.minor(), jpy.currency_code()), (1200, "JPY"));
        let usd = parse_amount("12.5", currency("USD"), AMOUNT).unwrap();
        assert_eq!(usd.minor(), 1250);
        let bhd = parse_amount("1.234", currency("BHD"), AMOUNT).unwrap();
        assert_eq!(bhd.minor(), 1234);
        assert_eq!(amount_field(&usd, AMOUNT).unwrap(), "12.50");
        assert_eq!(amount_field(&jpy, AMOUNT).unwrap(), "1200");
    }

    #[test]
    fn no_amount_carries_more_decimals_than_its_currency() {
        let too_many = |allowed| QrError::BadAmount {
            tag: AMOUNT,
            problem: AmountProblem::TooManyDecimals { allowed },
        };
        // dongri/emv-qrcode's main.go builds a JPY payload with 999.123: refused.
        assert_eq!(
            parse_amount("999.123", currency("JPY"), AMOUNT),
            Err(too_many(0))
        );
        assert_eq!(
            parse_amount("999.0", currency("JPY"), AMOUNT),
            Err(too_many(0))
        );
        assert_eq!(
            parse_amount("12.500", currency("USD"), AMOUNT),
            Err(too_many(2))
        );
    }

    #[test]
    fn malformed_zero_and_oversized_amounts_are_refused() {
        let problem = |value: &str, code| match parse_amount(value, currency(code), AMOUNT) {
            Err(QrError::BadAmount { problem, .. }) => Some(problem),
            _ => None,
        };
        for syntax in ["12.", ".5", "1.2.3", "-5", "+5", "1 0", "1e3", "１２"] {
            assert!(
                matches!(
                    parse_amount(syntax, currency("USD"), AMOUNT),
                    Err(QrError::BadAmount {
                        problem: AmountProblem::Syntax,
                        ..
                    } | QrError::BadCharacter { .. })
                ),
                "{syntax}"
            );
        }
        assert_eq!(problem("0", "JPY"), Some(AmountProblem::NotPositive));
        assert_eq!(problem("0.00", "USD"), Some(AmountProblem::NotPositive));
        // 13 digits of a four-decimal fund unit exceed the switch's ceiling in minor units.
        assert_eq!(
            problem("9999999999999", "CLF"),
            Some(AmountProblem::TooLarge)
        );
        assert!(matches!(
            parse_amount("12345678901234", currency("JPY"), AMOUNT),
            Err(QrError::BadValueLength { max: 13, .. })
        ));
    }

    #[test]
    fn percentages_lie_strictly_between_0_and_100() {
        let tag = TagPath::root(Tag::of(57));
        assert_eq!(parse_percentage("3", tag).unwrap().to_string(), "3");
        assert!(parse_percentage("99.99", tag).is_ok());
        for bad in ["0", "100", "0.00"] {
            assert_eq!(
                parse_percentage(bad, tag),
                Err(QrError::BadAmount {
                    tag,
                    problem: AmountProblem::PercentageOutOfRange
                }),
                "{bad}"
            );
        }
        assert!(parse_percentage("100.00", tag).is_err());
    }
}
