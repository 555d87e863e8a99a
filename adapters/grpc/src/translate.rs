//! Canonical requests to `kakehashi.v1` messages and replies back to canonical outcomes.
//! Pure functions: no I/O, no clock. A reply that breaks the proto's rules is an `Err`
//! (garbled), which the client turns into "no answer", never into a success.
use std::str::FromStr;

use kakehashi_adapter_core::{
    DeclineReason, MerchantQr, MerchantQrRequest, MerchantRef, Money, Paid, PayOutcome, PayRequest,
    QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, SettlementQuote,
    WalletAmount,
};
use kakehashi_proto::v1 as pb;
use pb::pay_outcome::Outcome as PayCase;
use pb::refund_outcome::Outcome as RefundCase;
use pb::reverse_outcome::Outcome as ReverseCase;
use rust_decimal::Decimal;

use crate::limits::{QR_PAYLOAD_CHARS_MAX, TEXT_CHARS_MAX};
use crate::status::sanitize;

pub fn money(m: &Money) -> pb::Money {
    pb::Money {
        value: m.value_string(),
        currency: m.currency_code().to_owned(),
    }
}

pub fn merchant(m: &MerchantRef) -> pb::MerchantRef {
    pb::MerchantRef {
        merchant_id: m.merchant_id.clone(),
        network_merchant_id: m.network_merchant_id.clone().unwrap_or_default(),
        name: m.name.clone(),
        category_code: m.category_code.clone(),
        store_id: m.store_id.clone(),
        terminal_id: m.terminal_id.clone(),
    }
}

pub fn pay_request(r: &PayRequest) -> pb::WalletNetworkServicePayRequest {
    pb::WalletNetworkServicePayRequest {
        payment_id: r.payment_id.clone(),
        merchant: Some(merchant(&r.merchant)),
        amount: Some(money(&r.amount)),
        code: r.code.expose().to_owned(),
        description: r.description.clone(),
        created_at_ms: r.created_at_ms,
    }
}

pub fn query_request(r: &QueryRequest) -> pb::QueryRequest {
    pb::QueryRequest {
        payment_id: r.payment_id.clone(),
        merchant: Some(merchant(&r.merchant)),
        amount: Some(money(&r.amount)),
        network_txn_id: r.network_txn_id.clone().unwrap_or_default(),
        created_at_ms: r.created_at_ms,
    }
}

pub fn reverse_request(r: &ReverseRequest) -> pb::ReverseRequest {
    pb::ReverseRequest {
        payment_id: r.payment_id.clone(),
        merchant: Some(merchant(&r.merchant)),
        amount: Some(money(&r.amount)),
        network_txn_id: r.network_txn_id.clone().unwrap_or_default(),
        created_at_ms: r.created_at_ms,
    }
}

pub fn refund_request(r: &RefundRequest) -> pb::RefundRequest {
    pb::RefundRequest {
        payment_id: r.payment_id.clone(),
        refund_id: r.refund_id.clone(),
        merchant: Some(merchant(&r.merchant)),
        payment_amount: Some(money(&r.payment_amount)),
        amount: Some(money(&r.amount)),
        network_txn_id: r.network_txn_id.clone().unwrap_or_default(),
        reason: r.reason.clone(),
        known_network_refund_ids: r.known_network_refund_ids.clone(),
    }
}

pub fn query_refund_request(r: &RefundRequest) -> pb::QueryRefundRequest {
    let pb::RefundRequest {
        payment_id,
        refund_id,
        merchant,
        payment_amount,
        amount,
        network_txn_id,
        reason,
        known_network_refund_ids,
    } = refund_request(r);
    pb::QueryRefundRequest {
        payment_id,
        refund_id,
        merchant,
        payment_amount,
        amount,
        network_txn_id,
        reason,
        known_network_refund_ids,
    }
}

pub fn merchant_qr_request(
    r: &MerchantQrRequest,
) -> pb::WalletNetworkServiceCreateMerchantQrRequest {
    pb::WalletNetworkServiceCreateMerchantQrRequest {
        payment_id: r.payment_id.clone(),
        merchant: Some(merchant(&r.merchant)),
        amount: Some(money(&r.amount)),
        description: r.description.clone(),
        created_at_ms: r.created_at_ms,
        expires_at_ms: r.expires_at_ms,
    }
}

/// Pay's reply (`query: false`) or Query's: only a query may answer `not_received`.
pub fn pay_outcome(outcome: Option<pb::PayOutcome>, query: bool) -> Result<PayOutcome, String> {
    let case = outcome
        .and_then(|o| o.outcome)
        .ok_or("the reply has no outcome")?;
    Ok(match case {
        PayCase::Succeeded(paid) => PayOutcome::Succeeded(self::paid(paid)?),
        PayCase::AwaitingCustomer(a) => PayOutcome::AwaitingCustomer {
            network_txn_id: optional_id("awaiting_customer.network_txn_id", a.network_txn_id)?,
        },
        PayCase::Declined(d) => {
            let (reason, network_code) = declined(&d);
            PayOutcome::Declined {
                reason,
                network_code,
            }
        }
        PayCase::Unknown(u) => PayOutcome::Unknown {
            detail: format!("the partner does not know yet: {}", sanitize(&u.detail)),
        },
        PayCase::NotReceived(n) if query => PayOutcome::NotReceived {
            detail: sanitize(&n.detail),
        },
        PayCase::NotReceived(_) => return Err("not_received answers only a Query".into()),
    })
}

fn paid(paid: pb::Paid) -> Result<Paid, String> {
    let network_txn_id = optional_id("succeeded.network_txn_id", paid.network_txn_id)?
        .ok_or("succeeded.network_txn_id is empty")?;
    let wallet_amount = paid
        .wallet_amount
        .map(|w| -> Result<WalletAmount, String> {
            let amount = parse_money("wallet_amount.amount", w.amount)?;
            let rate = match w.rate.as_str() {
                "" => None,
                rate => Some(positive_decimal("wallet_amount.rate", rate)?),
            };
            Ok(WalletAmount { amount, rate })
        })
        .transpose()?;
    let settlement_quote = paid
        .settlement_quote
        .map(|q| -> Result<SettlementQuote, String> {
            Ok(SettlementQuote {
                quote_id: text("settlement_quote.quote_id", q.quote_id)?,
                currency_pair: text("settlement_quote.currency_pair", q.currency_pair)?,
                price: positive_decimal("settlement_quote.price", &q.price)?,
                settlement_amount: q
                    .settlement_amount
                    .map(|m| parse_money("settlement_quote.settlement_amount", Some(m)))
                    .transpose()?,
                expires_at_ms: (paid.settlement_quote_expires_at_ms > 0)
                    .then_some(paid.settlement_quote_expires_at_ms),
            })
        })
        .transpose()?;
    let wallet_brand = match paid.wallet_brand.as_str() {
        "" => None,
        _ => Some(text("succeeded.wallet_brand", paid.wallet_brand)?),
    };
    Ok(Paid {
        network_txn_id,
        wallet_brand,
        wallet_amount,
        settlement_quote,
    })
}

/// A decline is final whatever its reason says: an unknown or unset reason is `Other`, and a
/// network code that is not a plain token is dropped rather than recorded.
fn declined(d: &pb::Declined) -> (DeclineReason, String) {
    let reason = pb::DeclineReason::try_from(d.reason)
        .map(decline_reason)
        .unwrap_or(DeclineReason::Other);
    let plain = d.network_code.len() <= TEXT_CHARS_MAX
        && d.network_code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    let code = if plain {
        d.network_code.clone()
    } else {
        String::new()
    };
    (reason, code)
}

pub fn reverse_outcome(outcome: Option<pb::ReverseOutcome>) -> Result<ReverseOutcome, String> {
    let case = outcome
        .and_then(|o| o.outcome)
        .ok_or("the reply has no outcome")?;
    Ok(match case {
        ReverseCase::Reversed(_) => ReverseOutcome::Reversed,
        ReverseCase::Retry(r) => ReverseOutcome::Retry {
            detail: sanitize(&r.detail),
        },
        ReverseCase::TooEarly(t) if t.not_before_ms > 0 => ReverseOutcome::TooEarly {
            not_before_ms: t.not_before_ms,
        },
        ReverseCase::TooEarly(_) => return Err("too_early.not_before_ms is not set".into()),
        ReverseCase::Refused(r) => ReverseOutcome::Refused {
            network_code: sanitize(&r.network_code)
                .chars()
                .take(TEXT_CHARS_MAX)
                .collect(),
            detail: sanitize(&r.detail),
        },
    })
}

/// Refund's reply (`query: false`) or QueryRefund's: only a query may answer `not_taken`.
pub fn refund_outcome(
    outcome: Option<pb::RefundOutcome>,
    query: bool,
) -> Result<RefundOutcome, String> {
    let case = outcome
        .and_then(|o| o.outcome)
        .ok_or("the reply has no outcome")?;
    Ok(match case {
        RefundCase::Succeeded(s) => RefundOutcome::Succeeded {
            network_refund_id: optional_id("succeeded.network_refund_id", s.network_refund_id)?
                .ok_or("succeeded.network_refund_id is empty")?,
        },
        RefundCase::Pending(p) => RefundOutcome::Pending {
            network_refund_id: optional_id("pending.network_refund_id", p.network_refund_id)?,
        },
        RefundCase::Declined(d) => {
            let (reason, network_code) = declined(&d);
            RefundOutcome::Declined {
                reason,
                network_code,
            }
        }
        RefundCase::Unknown(u) => RefundOutcome::Unknown {
            detail: format!("the partner does not know yet: {}", sanitize(&u.detail)),
        },
        RefundCase::NotTaken(n) if query => RefundOutcome::NotTaken {
            detail: sanitize(&n.detail),
        },
        RefundCase::NotTaken(_) => return Err("not_taken answers only a QueryRefund".into()),
    })
}

pub fn merchant_qr(
    reply: pb::WalletNetworkServiceCreateMerchantQrResponse,
) -> Result<MerchantQr, String> {
    let payload = reply.qr_payload;
    if payload.is_empty()
        || payload.chars().count() > QR_PAYLOAD_CHARS_MAX
        || payload.chars().any(char::is_control)
    {
        return Err(format!(
            "qr_payload must be 1..={QR_PAYLOAD_CHARS_MAX} printable characters"
        ));
    }
    Ok(MerchantQr {
        qr_payload: payload,
        network_code_id: optional_id("network_code_id", reply.network_code_id)?,
        expires_at_ms: (reply.expires_at_ms > 0).then_some(reply.expires_at_ms),
    })
}

/// A partner's id: empty is `None`, otherwise 1..=64 visible ASCII characters.
fn optional_id(field: &str, id: String) -> Result<Option<String>, String> {
    if id.is_empty() {
        return Ok(None);
    }
    if id.len() > TEXT_CHARS_MAX || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{field} must be at most {TEXT_CHARS_MAX} visible ASCII characters"
        ));
    }
    Ok(Some(id))
}

fn text(field: &str, s: String) -> Result<String, String> {
    if s.is_empty() || s.chars().count() > TEXT_CHARS_MAX || s.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be 1..={TEXT_CHARS_MAX} printable characters"
        ));
    }
    Ok(s)
}

fn parse_money(field: &str, m: Option<pb::Money>) -> Result<Money, String> {
    let m = m.ok_or_else(|| format!("{field} is missing"))?;
    Money::parse(&m.value, &m.currency).map_err(|e| format!("{field}: {e}"))
}

fn positive_decimal(field: &str, value: &str) -> Result<Decimal, String> {
    kakehashi_adapter_core::money::check_exact_decimal(value)
        .map_err(|e| format!("{field}: {e}"))?;
    let decimal = Decimal::from_str(value).map_err(|_| format!("{field} is not a decimal"))?;
    if decimal <= Decimal::ZERO {
        return Err(format!("{field} must be positive"));
    }
    Ok(decimal)
}

/// The wire enum to the canonical one; UNSPECIFIED is `Other`.
pub fn decline_reason(reason: pb::DeclineReason) -> DeclineReason {
    use pb::DeclineReason as W;
    match reason {
        W::Unspecified | W::Other => DeclineReason::Other,
        W::InsufficientFunds => DeclineReason::InsufficientFunds,
        W::CodeExpired => DeclineReason::CodeExpired,
        W::CodeInvalid => DeclineReason::CodeInvalid,
        W::LimitExceeded => DeclineReason::LimitExceeded,
        W::AccountRestricted => DeclineReason::AccountRestricted,
        W::RiskRejected => DeclineReason::RiskRejected,
        W::CurrencyNotSupported => DeclineReason::CurrencyNotSupported,
        W::MerchantNotEnabled => DeclineReason::MerchantNotEnabled,
        W::CustomerCancelled => DeclineReason::CustomerCancelled,
        W::PaymentExpired => DeclineReason::PaymentExpired,
        W::DuplicateOrder => DeclineReason::DuplicateOrder,
        W::InvalidRequest => DeclineReason::InvalidRequest,
        W::RefundNotAllowed => DeclineReason::RefundNotAllowed,
        W::NetworkError => DeclineReason::NetworkError,
        W::NetworkUnsupported => DeclineReason::NetworkUnsupported,
    }
}

/// The canonical reason on the wire (the reference partner answers with it).
pub fn wire_decline_reason(reason: DeclineReason) -> pb::DeclineReason {
    use pb::DeclineReason as W;
    match reason {
        DeclineReason::InsufficientFunds => W::InsufficientFunds,
        DeclineReason::CodeExpired => W::CodeExpired,
        DeclineReason::CodeInvalid => W::CodeInvalid,
        DeclineReason::LimitExceeded => W::LimitExceeded,
        DeclineReason::AccountRestricted => W::AccountRestricted,
        DeclineReason::RiskRejected => W::RiskRejected,
        DeclineReason::CurrencyNotSupported => W::CurrencyNotSupported,
        DeclineReason::MerchantNotEnabled => W::MerchantNotEnabled,
        DeclineReason::CustomerCancelled => W::CustomerCancelled,
        DeclineReason::PaymentExpired => W::PaymentExpired,
        DeclineReason::DuplicateOrder => W::DuplicateOrder,
        DeclineReason::InvalidRequest => W::InvalidRequest,
        DeclineReason::RefundNotAllowed => W::RefundNotAllowed,
        DeclineReason::NetworkError => W::NetworkError,
        DeclineReason::NetworkUnsupported => W::NetworkUnsupported,
        DeclineReason::Other => W::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(case: PayCase) -> Option<pb::PayOutcome> {
        Some(pb::PayOutcome {
            outcome: Some(case),
        })
    }

    #[test]
    fn every_decline_reason_survives_the_wire() {
        for reason in DeclineReason::ALL {
            assert_eq!(decline_reason(wire_decline_reason(reason)), reason);
        }
    }

    #[test]
    fn a_reply_that_breaks_the_rules_is_garbled_never_a_success() {
        assert!(pay_outcome(None, false).is_err());
        assert!(pay_outcome(Some(pb::PayOutcome { outcome: None }), false).is_err());
        let no_txn = pay(PayCase::Succeeded(pb::Paid::default()));
        assert!(pay_outcome(no_txn, false).is_err());
        let float_money = pay(PayCase::Succeeded(pb::Paid {
            network_txn_id: "T1".into(),
            wallet_amount: Some(pb::WalletAmount {
                amount: Some(pb::Money {
                    value: "11040.0".into(),
                    currency: "KRW".into(),
                }),
                rate: "9.2".into(),
            }),
            ..Default::default()
        }));
        assert!(pay_outcome(float_money, false).is_err());
        let not_received = pay(PayCase::NotReceived(pb::NotReceived::default()));
        assert!(pay_outcome(not_received.clone(), false).is_err());
        assert!(matches!(
            pay_outcome(not_received, true),
            Ok(PayOutcome::NotReceived { .. })
        ));
    }

    #[test]
    fn a_decline_with_an_unknown_reason_is_still_final() {
        let outcome = pay(PayCase::Declined(pb::Declined {
            reason: 999,
            network_code: "WEIRD \"code\"".into(),
        }));
        assert_eq!(
            pay_outcome(outcome, false),
            Ok(PayOutcome::Declined {
                reason: DeclineReason::Other,
                network_code: String::new()
            })
        );
    }
}
