//! Business dates in Japan Standard Time and the cut-off that decides which day's batch a
//! transaction falls into. JST is UTC+09:00 with no daylight-saving time (standards.md §5.1),
//! so a fixed offset is exact.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Duration, Month};

/// JST's offset from UTC.
pub const JST_OFFSET_MS: i64 = 9 * 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A calendar date in JST, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusinessDate(Date);

/// The time of day (JST) at which a network's business day closes: a transaction at or after
/// it belongs to the next day's batch. `24:00` (the default) closes at midnight, so business
/// days are calendar days; `00:00` is refused because it would leave no day at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    ms_of_day: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("`{0}` is not a date: write YYYY-MM-DD")]
    BadDate(String),
    #[error("`{0}` is not a cut-off: write HH:MM or HH:MM:SS (JST), after 00:00 and at most 24:00")]
    BadCutoff(String),
    #[error("the date is outside the range the switch handles")]
    OutOfRange,
}

// === impl BusinessDate ===

impl BusinessDate {
    pub fn new(date: Date) -> Self {
        Self(date)
    }

    pub fn from_ymd(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        let month = Month::try_from(month).map_err(|_| DateError::OutOfRange)?;
        Date::from_calendar_date(year, month, day)
            .map(Self)
            .map_err(|_| DateError::OutOfRange)
    }

    pub fn date(self) -> Date {
        self.0
    }

    /// The JST calendar date of an instant.
    pub fn of_instant(at_ms: i64) -> Result<Self, DateError> {
        let local = at_ms
            .checked_add(JST_OFFSET_MS)
            .ok_or(DateError::OutOfRange)?;
        let julian = local.div_euclid(DAY_MS) + UNIX_EPOCH_JULIAN_DAY;
        let julian = i32::try_from(julian).map_err(|_| DateError::OutOfRange)?;
        Date::from_julian_day(julian)
            .map(Self)
            .map_err(|_| DateError::OutOfRange)
    }

    /// The instant this date begins in JST (00:00:00.000 +09:00).
    pub fn start_ms(self) -> i64 {
        (i64::from(self.0.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * DAY_MS - JST_OFFSET_MS
    }

    pub fn next(self) -> Result<Self, DateError> {
        self.0.next_day().map(Self).ok_or(DateError::OutOfRange)
    }

    pub fn previous(self) -> Result<Self, DateError> {
        self.0.previous_day().map(Self).ok_or(DateError::OutOfRange)
    }

    pub fn plus_days(self, days: i64) -> Result<Self, DateError> {
        self.0
            .checked_add(Duration::days(days))
            .map(Self)
            .ok_or(DateError::OutOfRange)
    }

    /// `YYYYMMDD`, as file names and bank references write it.
    pub fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// The last day of this date's month.
    pub fn month_end(self) -> Self {
        let days = self.0.month().length(self.0.year());
        Self(self.0.replace_day(days).unwrap_or(self.0))
    }
}

impl fmt::Display for BusinessDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl FromStr for BusinessDate {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || DateError::BadDate(text.chars().take(16).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let year = i32::try_from(number(0..4)?).map_err(|_| bad())?;
        let month = u8::try_from(number(5..7)?).map_err(|_| bad())?;
        let day = u8::try_from(number(8..10)?).map_err(|_| bad())?;
        Self::from_ymd(year, month, day).map_err(|_| bad())
    }
}

impl Serialize for BusinessDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for BusinessDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// === impl Cutoff ===

impl Cutoff {
    pub const MIDNIGHT: Cutoff = Cutoff { ms_of_day: DAY_MS };

    /// Parses `HH:MM` or `HH:MM:SS`, JST.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let bad = || DateError::BadCutoff(text.chars().take(16).collect());
        let parts: Vec<&str> = text.split(':').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
            return Err(bad());
        }
        let mut values = [0_i64; 3];
        for (value, part) in values.iter_mut().zip(&parts) {
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *value = part.parse().map_err(|_| bad())?;
        }
        let [hours, minutes, seconds] = values;
        if minutes > 59 || seconds > 59 {
            return Err(bad());
        }
        let ms_of_day = ((hours * 60 + minutes) * 60 + seconds) * 1_000;
        if ms_of_day == 0 || ms_of_day > DAY_MS {
            return Err(bad());
        }
        Ok(Self { ms_of_day })
    }

    /// The business date a transaction at `at_ms` belongs to: its JST date, or the next one
    /// when it happened at or after the cut-off.
    pub fn business_date(self, at_ms: i64) -> Result<BusinessDate, DateError> {
        let date = BusinessDate::of_instant(at_ms)?;
        let ms_of_day = (at_ms + JST_OFFSET_MS).rem_euclid(DAY_MS);
        if ms_of_day >= self.ms_of_day {
            date.next()
        } else {
            Ok(date)
        }
    }

    /// The instant `date`'s business day closes: transactions before it (not yet in a batch)
    /// belong to that day's batch or, if they arrived late, to this one.
    pub fn closes_at_ms(self, date: BusinessDate) -> i64 {
        date.start_ms() + self.ms_of_day
    }
}

impl Default for Cutoff {
    fn default() -> Self {
        Self::MIDNIGHT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> BusinessDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_transaction_at_the_cut_off_belongs_to_the_next_day() {
        let cutoff = Cutoff::parse("23:00").unwrap();
        let closes = cutoff.closes_at_ms(date("2026-12-24"));
        // 2026-12-24 23:00 JST = 14:00 UTC.
        assert_eq!(closes, 1_798_120_800_000);
        assert_eq!(
            cutoff.business_date(closes - 1).unwrap(),
            date("2026-12-24")
        );
        assert_eq!(cutoff.business_date(closes).unwrap(), date("2026-12-25"));
        let midnight = Cutoff::MIDNIGHT;
        assert_eq!(midnight.business_date(closes).unwrap(), date("2026-12-24"));
        let start = date("2026-12-25").start_ms();
        assert_eq!(
            midnight.business_date(start - 1).unwrap(),
            date("2026-12-24")
        );
        assert_eq!(midnight.business_date(start).unwrap(), date("2026-12-25"));
    }

    #[test]
    fn cut_offs_and_dates_are_parsed_strictly() {
        for bad in [
            "00:00", "24:01", "7:00", "23:60", "23:00:5", "ab:cd", "", "25:00",
        ] {
            assert!(Cutoff::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Cutoff::parse("24:00").unwrap(), Cutoff::MIDNIGHT);
        for bad in [
            "2026-2-01",
            "2026-02-30",
            "20260201",
            "2026-02-01 ",
            "+026-02-01",
        ] {
            assert!(bad.parse::<BusinessDate>().is_err(), "{bad}");
        }
        assert_eq!(date("2028-02-29").to_string(), "2028-02-29");
        assert_eq!(date("2026-02-10").month_end(), date("2026-02-28"));
        assert_eq!(date("2026-12-25").compact(), "20261225");
    }
}
