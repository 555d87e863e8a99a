//! A partner's profile, checked before the switch routes a single code by it: a profile
//! steers money (which codes go where, in which currencies, how long the switch waits before
//! it reverses), so one that is malformed or names another network stops the start.
use std::time::Duration;

use iso_currency::Currency;
use kakehashi_adapter_core::code::{CODE_LENGTH_MAX, CODE_LENGTH_MIN};
use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::{Capabilities, CodePattern, NetworkProfile, Timing};
use kakehashi_proto::v1 as pb;

use crate::limits::{
    CALL_TIMEOUT_MS_MAX, CODE_PATTERNS_MAX, CODE_PREFIX_DIGITS_MAX, CURRENCIES_MAX,
    NETWORK_ID_CHARS_MAX, TEXT_CHARS_MAX, TIMING_MS_MAX,
};

/// Why a profile was refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("profile.{0} is missing")]
    Missing(&'static str),
    #[error(
        "profile.network_id `{got}` is not this network's id `{expected}` (the \
         [networks.<id>] table): is the endpoint the right partner?"
    )]
    WrongNetwork { expected: String, got: String },
    #[error("profile.network_id must be 1..={NETWORK_ID_CHARS_MAX} of [a-z0-9_-]")]
    NetworkIdFormat,
    #[error("profile.display_name must be 1..={TEXT_CHARS_MAX} printable characters")]
    DisplayName,
    #[error("profile.code_patterns[{index}]: {detail}")]
    Pattern { index: usize, detail: String },
    #[error("profile.code_patterns must hold 1..={CODE_PATTERNS_MAX} rows")]
    PatternCount,
    #[error("profile.currencies: {0}")]
    Currencies(String),
    #[error("profile.capabilities: {0}")]
    Capabilities(&'static str),
    #[error("profile.timing.{field}: {detail}")]
    Timing { field: &'static str, detail: String },
}

/// Checks a profile from `GetProfile` or the config and turns it into the switch's own.
/// `expected_id` is the `[networks.<id>]` table's id.
pub fn validate(
    profile: &pb::NetworkProfile,
    expected_id: &str,
) -> Result<NetworkProfile, ProfileError> {
    check_network_id(&profile.network_id)?;
    if profile.network_id != expected_id {
        return Err(ProfileError::WrongNetwork {
            expected: expected_id.to_owned(),
            got: profile.network_id.clone(),
        });
    }
    if !is_text(&profile.display_name) {
        return Err(ProfileError::DisplayName);
    }
    let capabilities = profile
        .capabilities
        .as_ref()
        .ok_or(ProfileError::Missing("capabilities"))?;
    let timing = profile
        .timing
        .as_ref()
        .ok_or(ProfileError::Missing("timing"))?;
    Ok(NetworkProfile {
        id: profile.network_id.clone(),
        display_name: profile.display_name.clone(),
        code_patterns: patterns(&profile.code_patterns)?,
        currencies: currencies(&profile.currencies)?,
        capabilities: self::capabilities(capabilities)?,
        timing: self::timing(timing)?,
        merchant_id_required: Some(profile.merchant_id_required.clone())
            .filter(|key| !key.is_empty()),
    })
}

/// The switch's profile on the wire, for the reference partner's `GetProfile`.
pub fn to_pb(profile: &NetworkProfile) -> pb::NetworkProfile {
    let c = profile.capabilities;
    let t = profile.timing;
    let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
    pb::NetworkProfile {
        merchant_id_required: profile.merchant_id_required.clone().unwrap_or_default(),
        network_id: profile.id.clone(),
        display_name: profile.display_name.clone(),
        code_patterns: profile
            .code_patterns
            .iter()
            .map(|p| pb::CodePattern {
                prefix: p.prefix.clone(),
                length_min: u32::try_from(p.length_min).unwrap_or(u32::MAX),
                length_max: u32::try_from(p.length_max).unwrap_or(u32::MAX),
                brand: p.brand.clone().unwrap_or_default(),
            })
            .collect(),
        currencies: profile
            .currencies
            .iter()
            .map(|c| c.code().to_owned())
            .collect(),
        capabilities: Some(pb::Capabilities {
            customer_presented: c.customer_presented,
            merchant_presented: c.merchant_presented,
            partial_refund: c.partial_refund,
            multiple_refunds: c.multiple_refunds,
            refund_query: c.refund_query,
            refund_idempotent: c.refund_idempotent,
        }),
        timing: Some(pb::Timing {
            payment_deadline_ms: ms(t.payment_deadline),
            query_first_delay_ms: ms(t.query_first_delay),
            query_interval_ms: ms(t.query_interval),
            reverse_not_before_ms: ms(t.reverse_not_before),
            call_timeout_ms: ms(t.call_timeout),
        }),
    }
}

/// A network id as config tables, the store and replies use it.
pub fn check_network_id(id: &str) -> Result<(), ProfileError> {
    let ok = !id.is_empty()
        && id.len() <= NETWORK_ID_CHARS_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ProfileError::NetworkIdFormat)
    }
}

fn is_text(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= TEXT_CHARS_MAX && !s.chars().any(char::is_control)
}

fn patterns(rows: &[pb::CodePattern]) -> Result<Vec<CodePattern>, ProfileError> {
    if rows.is_empty() || rows.len() > CODE_PATTERNS_MAX {
        return Err(ProfileError::PatternCount);
    }
    let lengths = u32::try_from(CODE_LENGTH_MIN).unwrap_or(0)
        ..=u32::try_from(CODE_LENGTH_MAX).unwrap_or(u32::MAX);
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let bad = |detail: String| ProfileError::Pattern { index, detail };
            let digits = row.prefix.bytes().all(|b| b.is_ascii_digit());
            if row.prefix.is_empty() || row.prefix.len() > CODE_PREFIX_DIGITS_MAX || !digits {
                return Err(bad(format!(
                    "prefix must be 1..={CODE_PREFIX_DIGITS_MAX} digits"
                )));
            }
            if !lengths.contains(&row.length_min) || !lengths.contains(&row.length_max) {
                return Err(bad(format!(
                    "lengths must be within {CODE_LENGTH_MIN}..={CODE_LENGTH_MAX}"
                )));
            }
            if row.length_min > row.length_max {
                return Err(bad("length_min is above length_max".into()));
            }
            let (min, max) = (row.length_min as usize, row.length_max as usize);
            if row.prefix.len() > max {
                return Err(bad("prefix is longer than length_max".into()));
            }
            let mut pattern = CodePattern::new(&row.prefix, min, max);
            if !row.brand.is_empty() {
                if !is_text(&row.brand) {
                    return Err(bad(format!(
                        "brand must be 1..={TEXT_CHARS_MAX} printable characters"
                    )));
                }
                pattern = pattern.with_brand(&row.brand);
            }
            Ok(pattern)
        })
        .collect()
}

fn currencies(codes: &[String]) -> Result<Vec<Currency>, ProfileError> {
    if codes.is_empty() || codes.len() > CURRENCIES_MAX {
        return Err(ProfileError::Currencies(format!(
            "give 1..={CURRENCIES_MAX} ISO 4217 codes"
        )));
    }
    let mut out: Vec<Currency> = Vec::with_capacity(codes.len());
    for code in codes {
        let currency = parse_currency(code).map_err(|e| ProfileError::Currencies(e.to_string()))?;
        if currency.exponent().is_none() {
            return Err(ProfileError::Currencies(format!(
                "{} has no minor unit",
                currency.code()
            )));
        }
        if out.contains(&currency) {
            return Err(ProfileError::Currencies(format!(
                "{} is listed twice",
                currency.code()
            )));
        }
        out.push(currency);
    }
    Ok(out)
}

fn capabilities(c: &pb::Capabilities) -> Result<Capabilities, ProfileError> {
    if !c.customer_presented && !c.merchant_presented {
        return Err(ProfileError::Capabilities(
            "the network takes neither customer-presented codes nor merchant QRs",
        ));
    }
    if c.multiple_refunds && !c.partial_refund {
        return Err(ProfileError::Capabilities(
            "multiple_refunds without partial_refund cannot happen",
        ));
    }
    Ok(Capabilities {
        customer_presented: c.customer_presented,
        merchant_presented: c.merchant_presented,
        partial_refund: c.partial_refund,
        multiple_refunds: c.multiple_refunds,
        refund_query: c.refund_query,
        refund_idempotent: c.refund_idempotent,
    })
}

fn timing(t: &pb::Timing) -> Result<Timing, ProfileError> {
    let within = |field: &'static str, ms: u32, zero_ok: bool, max: u32| {
        if (ms == 0 && !zero_ok) || ms > max {
            let low = if zero_ok { 0 } else { 1 };
            return Err(ProfileError::Timing {
                field,
                detail: format!("{ms} ms is outside {low}..={max}"),
            });
        }
        Ok(Duration::from_millis(u64::from(ms)))
    };
    let timing = Timing {
        payment_deadline: within(
            "payment_deadline_ms",
            t.payment_deadline_ms,
            false,
            TIMING_MS_MAX,
        )?,
        query_first_delay: within(
            "query_first_delay_ms",
            t.query_first_delay_ms,
            false,
            TIMING_MS_MAX,
        )?,
        query_interval: within(
            "query_interval_ms",
            t.query_interval_ms,
            false,
            TIMING_MS_MAX,
        )?,
        reverse_not_before: within(
            "reverse_not_before_ms",
            t.reverse_not_before_ms,
            true,
            TIMING_MS_MAX,
        )?,
        call_timeout: within(
            "call_timeout_ms",
            t.call_timeout_ms,
            false,
            CALL_TIMEOUT_MS_MAX,
        )?,
    };
    if timing.payment_deadline <= timing.call_timeout {
        return Err(ProfileError::Timing {
            field: "payment_deadline_ms",
            detail: "must be longer than call_timeout_ms: the switch must be able to wait for \
                     one whole call before it reverses"
                .into(),
        });
    }
    Ok(timing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> pb::NetworkProfile {
        pb::NetworkProfile {
            merchant_id_required: String::new(),
            network_id: "kpay".into(),
            display_name: "K-Pay".into(),
            code_patterns: vec![pb::CodePattern {
                prefix: "93".into(),
                length_min: 20,
                length_max: 20,
                brand: "K-Pay".into(),
            }],
            currencies: vec!["JPY".into()],
            capabilities: Some(pb::Capabilities {
                customer_presented: true,
                partial_refund: true,
                multiple_refunds: true,
                refund_query: true,
                refund_idempotent: true,
                ..Default::default()
            }),
            timing: Some(pb::Timing {
                payment_deadline_ms: 30_000,
                query_first_delay_ms: 500,
                query_interval_ms: 500,
                reverse_not_before_ms: 0,
                call_timeout_ms: 5_000,
            }),
        }
    }

    #[test]
    fn a_good_profile_round_trips() {
        let profile = validate(&good(), "kpay").unwrap();
        assert_eq!(profile.code_patterns[0].brand.as_deref(), Some("K-Pay"));
        assert_eq!(profile.timing.call_timeout, Duration::from_secs(5));
        assert_eq!(to_pb(&profile), good());
    }

    #[test]
    fn every_bad_field_is_refused_by_name() {
        type Spoil = fn(&mut pb::NetworkProfile);
        let cases: Vec<(Spoil, &str)> = vec![
            (|p| p.network_id = "tpay".into(), "not this network's id"),
            (|p| p.network_id = "K Pay".into(), "network_id"),
            (|p| p.display_name.clear(), "display_name"),
            (|p| p.code_patterns.clear(), "code_patterns"),
            (|p| p.code_patterns[0].prefix = "9a".into(), "prefix"),
            (|p| p.code_patterns[0].length_max = 65, "lengths"),
            (|p| p.code_patterns[0].length_min = 21, "length_min"),
            (
                |p| {
                    p.code_patterns[0].prefix = "9".repeat(12);
                    p.code_patterns[0].length_min = 8;
                    p.code_patterns[0].length_max = 10;
                },
                "longer",
            ),
            (|p| p.currencies = vec!["XAU".into()], "minor unit"),
            (|p| p.currencies = vec!["JPY".into(), "JPY".into()], "twice"),
            (|p| p.currencies = vec!["YEN".into()], "currencies"),
            (|p| p.capabilities = None, "capabilities is missing"),
            (
                |p| p.capabilities = Some(pb::Capabilities::default()),
                "neither",
            ),
            (|p| p.timing = None, "timing is missing"),
            (
                |p| p.timing.as_mut().unwrap().call_timeout_ms = 0,
                "call_timeout_ms",
            ),
            (
                |p| p.timing.as_mut().unwrap().call_timeout_ms = 60_001,
                "call_timeout_ms",
            ),
            (
                |p| p.timing.as_mut().unwrap().payment_deadline_ms = 5_000,
                "one whole call",
            ),
        ];
        for (spoil, expected) in cases {
            let mut profile = good();
            spoil(&mut profile);
            let err = validate(&profile, "kpay").unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }
}
