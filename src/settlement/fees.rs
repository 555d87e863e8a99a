//! Merchant discount fees: a decimal rate per network and merchant with effective dates
//! (standards.md §5.4: rates are negotiated and change, so they live in config, not code).
use rust_decimal::Decimal;

use super::business_date::BusinessDate;

/// One configured rate: for one merchant or, with `merchant: None`, for every merchant that
/// has no rate of its own on that date; valid from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRate {
    pub merchant: Option<String>,
    pub rate: Decimal,
    pub from: BusinessDate,
    pub to: Option<BusinessDate>,
}

/// A network's rates; no two rows for the same merchant (or both default) overlap in time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeeSchedule {
    rates: Vec<FeeRate>,
}

// === impl FeeSchedule ===

impl FeeSchedule {
    pub fn new(rates: Vec<FeeRate>) -> Result<Self, String> {
        for (i, a) in rates.iter().enumerate() {
            for b in &rates[i + 1..] {
                if a.merchant == b.merchant && overlaps(a, b) {
                    return Err(format!(
                        "two rates for {} overlap from {}",
                        a.merchant.as_deref().unwrap_or("the default"),
                        a.from.max(b.from)
                    ));
                }
            }
        }
        Ok(Self { rates })
    }

    /// The merchant's own rate on `date`, else the default rate on `date`.
    pub fn rate_for(&self, merchant: &str, date: BusinessDate) -> Option<Decimal> {
        let on = |r: &&FeeRate| r.from <= date && r.to.is_none_or(|to| date < to);
        let own = self
            .rates
            .iter()
            .filter(on)
            .find(|r| r.merchant.as_deref() == Some(merchant));
        own.or_else(|| self.rates.iter().filter(on).find(|r| r.merchant.is_none()))
            .map(|r| r.rate)
    }
}

fn overlaps(a: &FeeRate, b: &FeeRate) -> bool {
    let a_before_b = a.to.is_some_and(|to| to <= b.from);
    let b_before_a = b.to.is_some_and(|to| to <= a.from);
    !(a_before_b || b_before_a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn date(text: &str) -> BusinessDate {
        text.parse().unwrap()
    }

    fn rate(merchant: Option<&str>, rate: Decimal, from: &str, to: Option<&str>) -> FeeRate {
        FeeRate {
            merchant: merchant.map(Into::into),
            rate,
            from: date(from),
            to: to.map(date),
        }
    }

    #[test]
    fn a_merchants_own_rate_beats_the_default_while_it_is_effective() {
        let schedule = FeeSchedule::new(vec![
            rate(None, dec!(0.0198), "2026-01-01", None),
            rate(Some("m1"), dec!(0.016), "2026-10-01", Some("2027-01-01")),
        ])
        .unwrap();
        assert_eq!(
            schedule.rate_for("m1", date("2026-09-30")),
            Some(dec!(0.0198))
        );
        assert_eq!(
            schedule.rate_for("m1", date("2026-10-01")),
            Some(dec!(0.016))
        );
        assert_eq!(
            schedule.rate_for("m1", date("2027-01-01")),
            Some(dec!(0.0198))
        );
        assert_eq!(
            schedule.rate_for("m2", date("2026-10-01")),
            Some(dec!(0.0198))
        );
        assert_eq!(schedule.rate_for("m2", date("2025-12-31")), None);
    }

    #[test]
    fn overlapping_rates_for_one_merchant_are_refused() {
        let error = FeeSchedule::new(vec![
            rate(Some("m1"), dec!(0.01), "2026-01-01", Some("2026-07-01")),
            rate(Some("m1"), dec!(0.02), "2026-06-01", None),
        ])
        .unwrap_err();
        assert!(error.contains("m1"), "{error}");
    }
}
