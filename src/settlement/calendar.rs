//! Japanese bank business days: Monday to Friday, except national holidays (substitute and
//! sandwiched days included) and 12/31–1/3 (Banking Act Art. 15, Enforcement Order Art. 5;
//! payouts-jp.md §3). The holidays are data, not a formula: equinox days are fixed each
//! February by the Cabinet Office and ad-hoc laws move days, so the table is refreshed yearly.
use time::Weekday;

use super::business_date::{BusinessDate, DateError};

/// National holidays (国民の祝日 and 休日) as `(year, month, day)`, 2025–2028, from the Cabinet
/// Office list as mirrored by holiday-jp `holidays.yml` (payouts-jp.md §3). 2027–2028 equinox
/// days are provisional until NAOJ's 暦要項 for those years is published.
#[rustfmt::skip]
pub const HOLIDAYS: &[(i32, u8, u8)] = &[
    // 2025
    (2025, 1, 1), (2025, 1, 13), (2025, 2, 11), (2025, 2, 23), (2025, 2, 24), (2025, 3, 20),
    (2025, 4, 29), (2025, 5, 3), (2025, 5, 4), (2025, 5, 5), (2025, 5, 6), (2025, 7, 21),
    (2025, 8, 11), (2025, 9, 15), (2025, 9, 23), (2025, 10, 13), (2025, 11, 3), (2025, 11, 23),
    (2025, 11, 24),
    // 2026
    (2026, 1, 1), (2026, 1, 12), (2026, 2, 11), (2026, 2, 23), (2026, 3, 20), (2026, 4, 29),
    (2026, 5, 3), (2026, 5, 4), (2026, 5, 5), (2026, 5, 6), (2026, 7, 20), (2026, 8, 11),
    (2026, 9, 21), (2026, 9, 22), (2026, 9, 23), (2026, 10, 12), (2026, 11, 3), (2026, 11, 23),
    // 2027
    (2027, 1, 1), (2027, 1, 11), (2027, 2, 11), (2027, 2, 23), (2027, 3, 21), (2027, 3, 22),
    (2027, 4, 29), (2027, 5, 3), (2027, 5, 4), (2027, 5, 5), (2027, 7, 19), (2027, 8, 11),
    (2027, 9, 20), (2027, 9, 23), (2027, 10, 11), (2027, 11, 3), (2027, 11, 23),
    // 2028
    (2028, 1, 1), (2028, 1, 10), (2028, 2, 11), (2028, 2, 23), (2028, 3, 20), (2028, 4, 29),
    (2028, 5, 3), (2028, 5, 4), (2028, 5, 5), (2028, 7, 17), (2028, 8, 11), (2028, 9, 18),
    (2028, 9, 22), (2028, 10, 9), (2028, 11, 3), (2028, 11, 23),
];

/// First and last year the table covers; outside them the calendar refuses to answer rather
/// than guess.
pub const YEAR_FIRST: i32 = 2025;
pub const YEAR_LAST: i32 = 2028;
/// Most days one roll looks ahead (the longest run of closed days is about 9, at New Year
/// or Golden Week).
const ROLL_DAYS_MAX: i64 = 31;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "the bank calendar covers {YEAR_FIRST}–{YEAR_LAST}; {0} is outside it (update HOLIDAYS)"
    )]
    OutsideTable(BusinessDate),
    #[error("{0}")]
    Date(#[from] DateError),
}

/// Which way a payout date that is not a business day moves (a contract term, payouts-jp.md
/// §3: PayPay's fixed online dates move back, its in-store cycles count forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Roll {
    Previous,
    Next,
}

pub fn is_national_holiday(date: BusinessDate) -> Result<bool, CalendarError> {
    let d = date.date();
    if !(YEAR_FIRST..=YEAR_LAST).contains(&d.year()) {
        return Err(CalendarError::OutsideTable(date));
    }
    let key = (d.year(), u8::from(d.month()), d.day());
    Ok(HOLIDAYS.binary_search(&key).is_ok())
}

/// Whether banks transfer money on `date`.
pub fn is_bank_business_day(date: BusinessDate) -> Result<bool, CalendarError> {
    let d = date.date();
    let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
    let month_day = (u8::from(d.month()), d.day());
    let year_end = matches!(month_day, (12, 31) | (1, 1) | (1, 2) | (1, 3));
    Ok(!weekend && !year_end && !is_national_holiday(date)?)
}

/// `date` if it is a business day, else the nearest one in the direction of `roll`.
pub fn roll(date: BusinessDate, roll: Roll) -> Result<BusinessDate, CalendarError> {
    let step = match roll {
        Roll::Previous => -1,
        Roll::Next => 1,
    };
    let mut day = date;
    for _ in 0..ROLL_DAYS_MAX {
        if is_bank_business_day(day)? {
            return Ok(day);
        }
        day = day.plus_days(step)?;
    }
    Err(CalendarError::OutsideTable(date))
}

/// The `n`-th business day after `date` (翌営業日 is n = 1, 翌々営業日 n = 2), counting forward
/// whatever `date` itself is.
pub fn add_business_days(date: BusinessDate, n: u32) -> Result<BusinessDate, CalendarError> {
    let mut day = date;
    let mut left = n;
    let limit = i64::from(n) * 2 + ROLL_DAYS_MAX;
    for _ in 0..limit {
        if left == 0 {
            return Ok(day);
        }
        day = day.next()?;
        if is_bank_business_day(day)? {
            left -= 1;
        }
    }
    if left == 0 {
        Ok(day)
    } else {
        Err(CalendarError::OutsideTable(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> BusinessDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_table_is_sorted_and_its_substitute_days_follow_the_law() {
        assert!(
            HOLIDAYS.windows(2).all(|w| w[0] < w[1]),
            "binary search needs order"
        );
        for &(y, m, d) in HOLIDAYS {
            let day = BusinessDate::from_ymd(y, m, d).unwrap();
            // A holiday on a Sunday is followed by a day off (振替休日, Holidays Act Art. 3).
            if day.date().weekday() == Weekday::Sunday {
                let mut next = day.next().unwrap();
                while is_national_holiday(next).unwrap() && next.date().weekday() != Weekday::Monday
                {
                    next = next.next().unwrap();
                }
                assert!(
                    is_national_holiday(next).unwrap(),
                    "no substitute after {day}"
                );
            }
        }
        assert_eq!(
            HOLIDAYS.iter().filter(|h| h.0 == 2026).count(),
            18,
            "payouts-jp.md §3"
        );
    }

    #[test]
    fn weekends_holidays_and_new_year_are_closed() {
        assert!(
            is_bank_business_day(date("2026-12-25")).unwrap(),
            "the §1.9 transfer day"
        );
        assert!(
            !is_bank_business_day(date("2026-12-26")).unwrap(),
            "Saturday"
        );
        assert!(!is_bank_business_day(date("2026-12-31")).unwrap(), "12/31");
        assert!(!is_bank_business_day(date("2027-01-01")).unwrap());
        assert!(!is_bank_business_day(date("2027-01-03")).unwrap());
        assert!(
            !is_bank_business_day(date("2026-09-22")).unwrap(),
            "sandwiched 休日"
        );
        assert!(
            !is_bank_business_day(date("2027-03-22")).unwrap(),
            "振替休日"
        );
        assert!(is_bank_business_day(date("2027-01-04")).unwrap());
        assert!(is_bank_business_day(date("2026-12-30")).unwrap());
        assert_eq!(
            is_bank_business_day(date("2029-01-04")),
            Err(CalendarError::OutsideTable(date("2029-01-04")))
        );
    }

    #[test]
    fn payout_dates_count_and_roll_over_closed_days() {
        // Month-end close 2026-12-31, paid 2 business days later: 1/4 and 1/5.
        assert_eq!(
            add_business_days(date("2026-12-31"), 2).unwrap(),
            date("2027-01-05")
        );
        // Golden Week 2026: Thu 4/30 + 2 → Fri 5/1, then 5/7.
        assert_eq!(
            add_business_days(date("2026-04-30"), 2).unwrap(),
            date("2026-05-07")
        );
        assert_eq!(
            add_business_days(date("2026-12-25"), 0).unwrap(),
            date("2026-12-25")
        );
        assert_eq!(
            roll(date("2026-05-03"), Roll::Previous).unwrap(),
            date("2026-05-01")
        );
        assert_eq!(
            roll(date("2026-05-03"), Roll::Next).unwrap(),
            date("2026-05-07")
        );
    }
}
