//! The two times a decision carries: the instant in UTC, and the JST business date.
//!
//! Japan Standard Time is UTC+9 all year (Japan has no daylight saving time), so the JST
//! date is the UTC instant shifted by nine hours. The *business date* of a decision is the
//! JST calendar date on which it was made: a payment at 23:30 JST on 1 March belongs to
//! 1 March, one at 00:10 JST on 2 March (15:10 UTC on 1 March) to 2 March. It is not a
//! network's settlement cut-off: those differ per network and belong to settlement.

/// JST is UTC + 9 hours, all year.
pub const JST_OFFSET_MS: i64 = 9 * MS_PER_HOUR;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// RFC 3339 in UTC with milliseconds: `2025-03-01T15:10:00.000Z`.
pub fn utc_text(at_ms: i64) -> String {
    let days = at_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = at_ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / MS_PER_HOUR,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000
    )
}

/// The JST calendar date of the instant, `YYYY-MM-DD`.
pub fn business_date_jst(at_ms: i64) -> String {
    let days = at_ms.saturating_add(JST_OFFSET_MS).div_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`): exact for every `i64` day count an `i64` of milliseconds can give.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_the_next_business_day_in_tokyo() {
        // 2025-03-01T15:10:00Z is 2025-03-02 00:10 JST.
        let at_ms = 1_740_841_800_000;
        assert_eq!(utc_text(at_ms), "2025-03-01T15:10:00.000Z");
        assert_eq!(business_date_jst(at_ms), "2025-03-02");
        // One minute before JST midnight stays on 1 March.
        let before = 1_740_841_800_000 - 11 * 60_000;
        assert_eq!(business_date_jst(before), "2025-03-01");
    }

    #[test]
    fn leap_days_and_the_epoch_are_exact() {
        assert_eq!(utc_text(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(business_date_jst(0), "1970-01-01");
        // 2024-02-29T12:34:56.789Z
        assert_eq!(utc_text(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(utc_text(-1), "1969-12-31T23:59:59.999Z");
    }
}
