//! FX conversion and allocation against an exact big-integer reference: no minor unit is
//! invented or lost, and every rounding mode rounds as its definition says.
//!
//! One million seeded cases by default (about 13 s in a debug build on a shared 2-core machine); set
//! `KAKEHASHI_FX_CASES` to run more or fewer, and `KAKEHASHI_SEED` to replay a failure (the
//! failing case prints its seed).
use iso_currency::Currency;
use kakehashi::fx::convert::{
    ALLOCATION_PARTS_MAX, RATE_SCALE_MAX, RATE_VALUE_MAX, RoundingMode, allocate, convert_minor,
    convert_parts,
};
use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::money::AMOUNT_MINOR_MAX;
use num_bigint::BigInt;
use rust_decimal::Decimal;

const CASES_DEFAULT: u64 = 1_000_000;
const SEED_DEFAULT: u64 = 0x6b61_6b65_6861_7368;

/// The 17 currencies of the seed's markets with their ISO 4217 exponents.
const CURRENCIES: [(&str, u32); 17] = [
    ("CNY", 2),
    ("HKD", 2),
    ("KRW", 0),
    ("TWD", 2),
    ("THB", 2),
    ("SGD", 2),
    ("MYR", 2),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("AUD", 2),
    ("CAD", 2),
    ("NZD", 2),
    ("PHP", 2),
    ("IDR", 2),
    ("VND", 0),
    ("JPY", 0),
];

const MODES: [RoundingMode; 5] = [
    RoundingMode::HalfUp,
    RoundingMode::HalfEven,
    RoundingMode::HalfDown,
    RoundingMode::Down,
    RoundingMode::Up,
];

/// SplitMix64: a tiny seeded generator, cheap enough for a million cases in a debug build.
struct StdRng(u64);

impl StdRng {
    fn seed_from_u64(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `range` for test inputs (modulo bias is irrelevant here).
    fn random_range<T: Sample>(&mut self, range: std::ops::RangeInclusive<T>) -> T {
        T::pick(self.next(), range)
    }
}

trait Sample: Copy {
    fn pick(bits: u64, range: std::ops::RangeInclusive<Self>) -> Self;
}

macro_rules! sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn pick(bits: u64, range: std::ops::RangeInclusive<Self>) -> Self {
                let (low, high) = (*range.start() as u128, *range.end() as u128);
                (low + u128::from(bits) % (high - low + 1)) as $t
            }
        }
    )*};
}
sample!(u32, i64, usize);

fn big(value: i128) -> BigInt {
    BigInt::from(value)
}

/// `n / d` rounded by the mode's definition, written independently of the implementation:
/// closed forms over floor division for four modes, the tie test only for half-even.
fn reference_round(n: &BigInt, d: &BigInt, mode: RoundingMode) -> BigInt {
    let one = big(1);
    let two = big(2);
    match mode {
        RoundingMode::Down => n / d,
        RoundingMode::Up => (n + d - &one) / d,
        RoundingMode::HalfUp => (&two * n + d) / (&two * d),
        RoundingMode::HalfDown => (&two * n - d + &two * d - &one) / (&two * d),
        RoundingMode::HalfEven => {
            let floor = n / d;
            let twice_rest = &two * (n - &floor * d);
            if &twice_rest < d {
                floor
            } else if &twice_rest > d {
                floor + one
            } else if &floor % &two == big(0) {
                floor
            } else {
                floor + one
            }
        }
    }
}

/// The exact value of the conversion as a fraction of target minor units.
fn reference_fraction(amount: i64, from_exp: u32, rate: Decimal, to_exp: u32) -> (BigInt, BigInt) {
    let ten = big(10);
    let n = big(i128::from(amount)) * big(rate.mantissa()) * ten.pow(to_exp);
    let d = ten.pow(from_exp + rate.scale());
    (n, d)
}

/// Largest remainder over exact fractions, ties to the earliest part.
fn reference_allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: BigInt = weights.iter().map(|w| big(i128::from(*w))).sum();
    let mut parts: Vec<(BigInt, BigInt, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let share = big(i128::from(total)) * big(i128::from(*w));
            (&share / &sum, &share % &sum, i)
        })
        .collect();
    let given: BigInt = parts.iter().map(|p| p.0.clone()).sum();
    let left: usize = (big(i128::from(total)) - given)
        .try_into()
        .expect("fewer than parts");
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].1.cmp(&parts[*a].1).then(a.cmp(b)));
    for index in order.into_iter().take(left) {
        parts[index].0 += 1;
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p.0).expect("fits"))
        .collect()
}

/// Amounts spread over every order of magnitude up to the maximum.
fn amount(rng: &mut StdRng) -> i64 {
    let digits = rng.random_range(1..=16_u32);
    let bound = 10_i64.pow(digits).min(AMOUNT_MINOR_MAX);
    rng.random_range(1..=bound)
}

/// A rate below the maximum with up to the maximum number of fractional digits.
fn rate(rng: &mut StdRng) -> Decimal {
    let scale = rng.random_range(0..=RATE_SCALE_MAX);
    let integer_digits = rng.random_range(0..=5_u32);
    let bound = 10_i64.pow(integer_digits).min(RATE_VALUE_MAX - 1);
    let whole = rng.random_range(0..=bound - 1);
    let fraction = rng.random_range(0..=10_i64.pow(scale) - 1);
    let value = Decimal::new(whole, 0) + Decimal::new(fraction, scale);
    if value.is_zero() {
        Decimal::new(1, scale)
    } else {
        value
    }
}

fn cases() -> u64 {
    std::env::var("KAKEHASHI_FX_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES_DEFAULT)
}

fn seed() -> u64 {
    std::env::var("KAKEHASHI_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEED_DEFAULT)
}

#[test]
fn conversion_and_allocation_match_the_exact_reference() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut converted = 0_u64;
    for case in 0..cases() {
        let (from_code, from_exp) = CURRENCIES[rng.random_range(0..=CURRENCIES.len() - 1)];
        let (to_code, to_exp) = CURRENCIES[rng.random_range(0..=CURRENCIES.len() - 1)];
        let mode = MODES[rng.random_range(0..=MODES.len() - 1)];
        let amount = amount(&mut rng);
        let rate = rate(&mut rng);
        let context = || {
            format!(
                "case {case} (KAKEHASHI_SEED={seed}): {amount} {from_code} × {rate} → {to_code} {mode:?}"
            )
        };
        let (n, d) = reference_fraction(amount, from_exp, rate, to_exp);
        let expected = reference_round(&n, &d, mode);
        match convert_minor(amount, from_exp, rate, to_exp, mode) {
            Ok(minor) => {
                assert_eq!(big(i128::from(minor)), expected, "{}", context());
                converted += 1;
            }
            // Only a result beyond i64 may be refused; anything smaller must convert.
            Err(_) => assert!(expected > big(i128::from(i64::MAX)), "{}", context()),
        }
        // Split a random total over random weights: the parts sum to the whole, exactly as
        // the reference shares it.
        let parts = rng.random_range(1..=8_usize);
        let weights: Vec<i64> = (0..parts).map(|_| rng.random_range(0..=amount)).collect();
        let total = rng.random_range(0..=amount);
        if weights.iter().all(|w| *w == 0) {
            assert!(allocate(total, &weights).is_err(), "{}", context());
            continue;
        }
        let shares = allocate(total, &weights).unwrap_or_else(|e| panic!("{}: {e}", context()));
        assert_eq!(shares.iter().sum::<i64>(), total, "{}", context());
        assert_eq!(shares, reference_allocate(total, &weights), "{}", context());
    }
    assert!(
        converted > cases() * 9 / 10,
        "most cases must convert, not overflow"
    );
}

#[test]
fn converted_parts_always_sum_to_the_converted_whole() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed ^ 1);
    for case in 0..(cases() / 20).max(1_000) {
        let (from_code, _) = CURRENCIES[rng.random_range(0..=CURRENCIES.len() - 1)];
        let (to_code, _) = CURRENCIES[rng.random_range(0..=CURRENCIES.len() - 1)];
        let from = Currency::from_code(from_code).unwrap();
        let to = Currency::from_code(to_code).unwrap();
        let mode = MODES[rng.random_range(0..=MODES.len() - 1)];
        let parts: Vec<Money> = (0..rng.random_range(1..=20_usize))
            .map(|_| Money::from_minor(rng.random_range(1..=10_000_000), from).unwrap())
            .collect();
        let rate = Decimal::new(rng.random_range(1..=99_999_999), rng.random_range(0..=8));
        let Ok((whole, shares)) = convert_parts(&parts, rate, to, mode) else {
            continue; // rounds to zero or too large: refused as a whole, nothing to split
        };
        assert_eq!(
            shares.iter().sum::<i64>(),
            whole.to.minor(),
            "case {case} (KAKEHASHI_SEED={seed}): {parts:?} at {rate} to {to_code}"
        );
        assert_eq!(shares.len(), parts.len());
    }
}

#[test]
fn the_limits_hold_together() {
    // The largest amount at the largest rate with the widest exponent gap stays exact.
    let rate =
        Decimal::new(RATE_VALUE_MAX - 1, 0) + Decimal::new(99_999_999_999_999, RATE_SCALE_MAX);
    assert!(
        convert_minor(AMOUNT_MINOR_MAX, 0, rate, 4, RoundingMode::Down).is_err(),
        "beyond i64"
    );
    assert!(convert_minor(AMOUNT_MINOR_MAX / 1_000_000, 0, rate, 2, RoundingMode::Up).is_ok());
    const {
        assert!(
            ALLOCATION_PARTS_MAX >= 1_000_000,
            "a million payments split in one go"
        )
    };
}
