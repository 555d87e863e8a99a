//! Every rule the switch applies when money changes currency or is split, in one place:
//! the rounding mode (per network, from config), the target currency's ISO 4217 minor units
//! (from `iso_currency` through [`Money`]) and the allocation of remainders so that parts
//! always sum to their whole.
//!
//! The arithmetic is exact: amounts are integer minor units, a rate is a `Decimal` (an integer
//! mantissa over a power of ten), and the one division happens once, in [`round_quotient`],
//! with the rounding mode named. Nothing here uses floating point, and nothing rounds twice.
use iso_currency::Currency;
use kakehashi_adapter_core::money::AMOUNT_MINOR_MAX;
use kakehashi_adapter_core::{Money, MoneyError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::FxError;

/// Largest rate value accepted (exclusive): one unit buys fewer than a million of another.
/// USD/VND is about 26,000, USD/IDR about 16,500; this leaves two orders of magnitude.
pub const RATE_VALUE_MAX: i64 = 1_000_000;
/// Most fractional digits a rate may carry once a markup is applied to it. With
/// [`RATE_VALUE_MAX`] this bounds the rate's mantissa below 10^20, so amount × mantissa stays
/// inside `i128` for every amount up to [`AMOUNT_MINOR_MAX`].
pub const RATE_SCALE_MAX: u32 = 14;
/// Most parts one allocation splits into (a merchant's payments in one batch line).
pub const ALLOCATION_PARTS_MAX: usize = 4_000_000;
/// Largest ISO 4217 exponent in use (CLF, UYW: 4).
const EXPONENT_MAX: u32 = 4;

const _: () = assert!(
    // 10^15 (amount) × 10^20 (mantissa) × 10^4 (exponent gap at worst) < 1.7 × 10^38.
    (AMOUNT_MINOR_MAX as i128) < 10_i128.pow(16) && RATE_SCALE_MAX + 6 <= 20 && EXPONENT_MAX <= 4
);

/// How an exact quotient becomes whole minor units. The names are `java.math.RoundingMode`'s,
/// which the Alipay+ SDKs use for their `BigDecimal` amounts; WeChat Pay documents no mode
/// for `cash_fee` (wechatpay.md §1.13: half-up is the working assumption). All amounts here
/// are positive, so `DOWN` is also floor and `UP` is ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundingMode {
    /// Nearest; a tie goes away from zero (`HALF_UP`).
    #[serde(alias = "HALF_UP")]
    HalfUp,
    /// Nearest; a tie goes to the even neighbour (`HALF_EVEN`, banker's rounding).
    #[serde(alias = "HALF_EVEN")]
    HalfEven,
    /// Nearest; a tie goes towards zero (`HALF_DOWN`).
    #[serde(alias = "HALF_DOWN")]
    HalfDown,
    /// Towards zero: drop the fraction (`DOWN`, 切り捨て).
    #[serde(alias = "DOWN")]
    Down,
    /// Away from zero: any fraction adds a unit (`UP`, 切り上げ).
    #[serde(alias = "UP")]
    Up,
}

/// One conversion as it happened: what went in, what came out, the rate and the rounding,
/// so every converted figure can say how it was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    pub from: Money,
    pub to: Money,
    pub rate: Decimal,
    pub rounding: RoundingMode,
}

// === impl RoundingMode ===

impl RoundingMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::HalfUp => "half-up",
            Self::HalfEven => "half-even",
            Self::HalfDown => "half-down",
            Self::Down => "down",
            Self::Up => "up",
        }
    }
}

/// Converts `amount` at `rate` (units of `target` per unit of `amount`'s currency) into
/// `target`'s minor units, rounded once with `rounding`.
pub fn convert(
    amount: Money,
    rate: Decimal,
    target: Currency,
    rounding: RoundingMode,
) -> Result<Conversion, FxError> {
    let from_exponent = exponent(amount.currency())?;
    let to_exponent = exponent(target)?;
    let minor = convert_minor(amount.minor(), from_exponent, rate, to_exponent, rounding)?;
    let to = money_from_minor(minor, target)?;
    Ok(Conversion {
        from: amount,
        to,
        rate,
        rounding,
    })
}

/// Converts a set of amounts of one currency so that the converted parts sum exactly to the
/// converted whole: the whole is converted once (one rounding), then shared out in proportion
/// to the parts with [`allocate`]. Returns the converted whole and one minor-unit figure per
/// part (a part may come out as zero when it is tiny beside the rate).
pub fn convert_parts(
    parts: &[Money],
    rate: Decimal,
    target: Currency,
    rounding: RoundingMode,
) -> Result<(Conversion, Vec<i64>), FxError> {
    let Some(first) = parts.first() else {
        return Err(FxError::Allocation("there are no parts"));
    };
    let mut total = *first;
    for part in &parts[1..] {
        total = total.checked_add(part)?;
    }
    let whole = convert(total, rate, target, rounding)?;
    let weights: Vec<i64> = parts.iter().map(Money::minor).collect();
    let shares = allocate(whole.to.minor(), &weights)?;
    Ok((whole, shares))
}

/// The exact core of [`convert`]: `amount_minor / 10^from_exponent × rate`, expressed in
/// `10^-to_exponent` units and rounded once.
pub fn convert_minor(
    amount_minor: i64,
    from_exponent: u32,
    rate: Decimal,
    to_exponent: u32,
    rounding: RoundingMode,
) -> Result<i64, FxError> {
    check_rate(rate).map_err(|reason| FxError::BadRate {
        pair: "conversion".into(),
        reason,
    })?;
    if amount_minor < 0 || from_exponent > EXPONENT_MAX || to_exponent > EXPONENT_MAX {
        return Err(FxError::Allocation("amounts are positive minor units"));
    }
    // Trailing zeros would only inflate the mantissa.
    let rate = rate.normalize();
    let mantissa = rate.mantissa();
    // value = amount × mantissa × 10^to / 10^(from + scale): move the powers of ten to
    // whichever side keeps them non-negative.
    let down = i64::from(from_exponent) + i64::from(rate.scale()) - i64::from(to_exponent);
    let numerator = i128::from(amount_minor)
        .checked_mul(mantissa)
        .ok_or(FxError::Overflow)?;
    let (numerator, denominator) = if down >= 0 {
        (numerator, pow10(down as u32)?)
    } else {
        let up = pow10((-down) as u32)?;
        (numerator.checked_mul(up).ok_or(FxError::Overflow)?, 1)
    };
    let minor = round_quotient(numerator, denominator, rounding);
    i64::try_from(minor).map_err(|_| FxError::TooLarge)
}

/// `numerator / denominator` rounded to an integer with `rounding`; both are non-negative
/// and the denominator positive (callers build them so).
pub fn round_quotient(numerator: i128, denominator: i128, rounding: RoundingMode) -> i128 {
    debug_assert!(numerator >= 0, "conversions take positive amounts");
    debug_assert!(denominator > 0, "a power of ten or a positive weight sum");
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder == 0 {
        return quotient;
    }
    // Compare the remainder with half the denominator without halving (no rounding there).
    let twice = remainder * 2;
    let up = match rounding {
        RoundingMode::Down => false,
        RoundingMode::Up => true,
        RoundingMode::HalfUp => twice >= denominator,
        RoundingMode::HalfDown => twice > denominator,
        RoundingMode::HalfEven => {
            twice > denominator || (twice == denominator && quotient % 2 == 1)
        }
    };
    quotient + i128::from(up)
}

/// Splits `total` minor units into parts proportional to `weights` by the largest-remainder
/// method, so the parts always sum to `total`: each part first gets the floor of its exact
/// quota; the units left over go, one each, to the parts with the largest remainders, and
/// among equal remainders to the earliest part (a deterministic tie-break that does not
/// depend on sorting stability or on the order of equal weights elsewhere).
pub fn allocate(total: i64, weights: &[i64]) -> Result<Vec<i64>, FxError> {
    if total < 0 {
        return Err(FxError::Allocation("the total is negative"));
    }
    if weights.is_empty() || weights.len() > ALLOCATION_PARTS_MAX {
        return Err(FxError::Allocation(
            "the number of parts is 0 or over the limit",
        ));
    }
    if weights.iter().any(|w| *w < 0 || *w > AMOUNT_MINOR_MAX) {
        return Err(FxError::Allocation("a weight is negative or too large"));
    }
    let weight_sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if weight_sum == 0 {
        return Err(FxError::Allocation("the weights sum to zero"));
    }
    let total = i128::from(total);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given: i128 = 0;
    for (index, weight) in weights.iter().enumerate() {
        // total ≤ 10^15 and weight ≤ 10^15: the product fits i128 easily.
        let share = total * i128::from(*weight);
        let floor = share / weight_sum;
        given += floor;
        parts.push(floor);
        remainders.push((share % weight_sum, index));
    }
    let left = usize::try_from(total - given).map_err(|_| FxError::Overflow)?;
    debug_assert!(left < weights.len(), "each floor loses less than one unit");
    // Largest remainder first; equal remainders by position.
    remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders.iter().take(left) {
        parts[*index] += 1;
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p).map_err(|_| FxError::Overflow))
        .collect()
}

/// A rate the arithmetic above can take exactly: positive, below [`RATE_VALUE_MAX`], at most
/// [`RATE_SCALE_MAX`] fractional digits.
pub fn check_rate(rate: Decimal) -> Result<(), String> {
    if rate <= Decimal::ZERO {
        return Err("a rate must be positive".into());
    }
    if rate >= Decimal::from(RATE_VALUE_MAX) {
        return Err(format!("a rate must be below {RATE_VALUE_MAX}"));
    }
    if rate.normalize().scale() > RATE_SCALE_MAX {
        return Err(format!(
            "a rate may have at most {RATE_SCALE_MAX} fractional digits"
        ));
    }
    Ok(())
}

/// The currency's ISO 4217 exponent; a currency without one (gold, SDR, XXX) is refused.
pub fn exponent(currency: Currency) -> Result<u32, FxError> {
    currency
        .exponent()
        .map(u32::from)
        .filter(|e| *e <= EXPONENT_MAX)
        .ok_or(FxError::Money(MoneyError::NoMinorUnit(currency.code())))
}

/// A positive converted amount as `Money`, with the two ways it can fail named for FX.
pub fn money_from_minor(minor: i64, currency: Currency) -> Result<Money, FxError> {
    if minor <= 0 {
        return Err(FxError::RoundsToZero(currency.code()));
    }
    Money::from_minor(minor, currency).map_err(|e| match e {
        MoneyError::TooLarge => FxError::TooLarge,
        other => FxError::Money(other),
    })
}

/// Formats signed minor units as the exact decimal string of `currency` ("-12.30", "1200").
pub fn minor_to_string(minor: i64, currency: Currency) -> String {
    let exponent = currency.exponent().map(u32::from).unwrap_or(0);
    Decimal::new(minor, exponent).to_string()
}

fn pow10(exponent: u32) -> Result<i128, FxError> {
    10_i128.checked_pow(exponent).ok_or(FxError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn currency(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn a_wechat_notification_reproduces_its_cash_fee() {
        // wechatpay.md §1.13: USD 0.42 at 7.1742 is CNY fen 301.3164 → 301.
        let usd = Money::parse("0.42", "USD").unwrap();
        let c = convert(usd, dec!(7.1742), currency("CNY"), RoundingMode::HalfUp).unwrap();
        assert_eq!(c.to.value_string(), "3.01");
        assert_eq!(c.rate, dec!(7.1742));
    }

    #[test]
    fn each_mode_rounds_a_tie_its_own_way() {
        // JPY 25 at 0.1 → KRW 2.5 exactly: a tie between 2 and 3.
        let cases = [
            (RoundingMode::HalfUp, 3),
            (RoundingMode::HalfEven, 2),
            (RoundingMode::HalfDown, 2),
            (RoundingMode::Down, 2),
            (RoundingMode::Up, 3),
        ];
        for (mode, want) in cases {
            assert_eq!(
                convert_minor(25, 0, dec!(0.1), 0, mode).unwrap(),
                want,
                "{mode:?}"
            );
        }
        assert_eq!(
            convert_minor(35, 0, dec!(0.1), 0, RoundingMode::HalfEven).unwrap(),
            4
        );
    }

    #[test]
    fn the_target_currency_decides_the_minor_units() {
        let jpy = Money::parse("1000", "JPY").unwrap();
        let to = |code, rate| {
            convert(jpy, rate, currency(code), RoundingMode::HalfUp)
                .unwrap()
                .to
                .value_string()
        };
        assert_eq!(to("CNY", dec!(0.0465)), "46.50");
        assert_eq!(to("KRW", dec!(9.1234)), "9123");
        assert_eq!(to("VND", dec!(167.55)), "167550");
        assert_eq!(to("IDR", dec!(104.123)), "104123.00");
        assert_eq!(to("TWD", dec!(0.2111)), "211.10");
    }

    #[test]
    fn a_conversion_that_rounds_to_nothing_is_refused() {
        let jpy = Money::parse("1", "JPY").unwrap();
        assert_eq!(
            convert(jpy, dec!(0.004), currency("USD"), RoundingMode::Down),
            Err(FxError::RoundsToZero("USD"))
        );
    }

    #[test]
    fn rates_outside_the_exact_range_are_refused() {
        let jpy = Money::parse("1", "JPY").unwrap();
        for rate in [dec!(0), dec!(-1), dec!(1000000), dec!(0.000000000000001)] {
            assert!(
                matches!(
                    convert(jpy, rate, currency("USD"), RoundingMode::Up),
                    Err(FxError::BadRate { .. })
                ),
                "{rate}"
            );
        }
    }

    #[test]
    fn allocation_sums_to_the_whole_and_breaks_ties_by_position() {
        assert_eq!(allocate(100, &[1, 1, 1]).unwrap(), vec![34, 33, 33]);
        assert_eq!(allocate(2, &[1, 1, 1]).unwrap(), vec![1, 1, 0]);
        assert_eq!(allocate(10, &[0, 5, 5]).unwrap(), vec![0, 5, 5]);
        assert_eq!(allocate(7, &[3, 1]).unwrap(), vec![5, 2]);
        assert_eq!(allocate(0, &[3, 1]).unwrap(), vec![0, 0]);
        assert!(allocate(5, &[0, 0]).is_err());
        assert!(allocate(5, &[]).is_err());
        assert!(allocate(-1, &[1]).is_err());
    }

    #[test]
    fn converted_parts_sum_to_the_converted_whole() {
        let parts: Vec<Money> = ["1001", "333", "1"]
            .iter()
            .map(|v| Money::parse(v, "JPY").unwrap())
            .collect();
        let (whole, shares) = convert_parts(
            &parts,
            dec!(0.0467),
            currency("CNY"),
            RoundingMode::HalfEven,
        )
        .unwrap();
        assert_eq!(whole.to.value_string(), "62.34");
        assert_eq!(shares.iter().sum::<i64>(), whole.to.minor());
        // Quotas 4674.33, 1554.998, 4.67: the two units left go to the two largest remainders.
        assert_eq!(shares, vec![4674, 1555, 5]);
    }

    #[test]
    fn signed_minor_units_print_exactly() {
        assert_eq!(minor_to_string(-1230, currency("USD")), "-12.30");
        assert_eq!(minor_to_string(1200, currency("JPY")), "1200");
        assert_eq!(minor_to_string(5, currency("BHD")), "0.005");
    }
}
