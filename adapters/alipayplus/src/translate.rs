//! Canonical <-> Alipay+: amounts as minor-unit strings, the S/F/U result model, quotes.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::{
    DeclineReason, Money, Paid, PayOutcome, SettlementQuote, WalletAmount,
};
use rust_decimal::Decimal;

use crate::wire;

pub fn amount(money: &Money) -> wire::Amount {
    wire::Amount {
        currency: money.currency_code().to_owned(),
        value: money.minor().to_string(),
    }
}

pub fn money(amount: &wire::Amount) -> Option<Money> {
    let currency = Currency::from_code(&amount.currency)?;
    Money::from_minor(i64::from_str(&amount.value).ok()?, currency).ok()
}

/// An F code's canonical reason (any F code not listed is `Other`).
pub fn failure_reason(code: &str) -> DeclineReason {
    use DeclineReason as R;
    match code {
        "USER_BALANCE_NOT_ENOUGH" => R::InsufficientFunds,
        "EXPIRED_CODE" => R::CodeExpired,
        "INVALID_CODE" | "INVALID_PAYMENT_CODE" => R::CodeInvalid,
        "RISK_REJECT" | "FRAUD_REJECT" => R::RiskRejected,
        "USER_AMOUNT_EXCEED_LIMIT"
        | "PAYMENT_AMOUNT_EXCEED_LIMIT"
        | "PAYMENT_COUNT_EXCEED_LIMIT" => R::LimitExceeded,
        "USER_KYC_NOT_QUALIFIED"
        | "USER_NOT_EXIST"
        | "USER_STATUS_ABNORMAL"
        | "USER_PAYMENT_VERIFICATION_FAILED" => R::AccountRestricted,
        "CURRENCY_NOT_SUPPORT" => R::CurrencyNotSupported,
        "INVALID_CONTRACT"
        | "INVALID_MERCHANT_STATUS"
        | "MERCHANT_NOT_REGISTERED"
        | "MERCHANT_KYB_NOT_QUALIFIED"
        | "SETTLE_CONTRACT_NOT_MATCH"
        | "ACCESS_DENIED"
        | "INVALID_CLIENT"
        | "KEY_NOT_FOUND"
        | "INVALID_SIGNATURE" => R::MerchantNotEnabled,
        "ORDER_IS_CLOSED" | "ORDER_IS_CANCELED" => R::PaymentExpired,
        "REPEAT_REQ_INCONSISTENT" => R::DuplicateOrder,
        // Alipay+'s own "no such API" and "method not allowed": the request was not
        // processed because Alipay+ does not offer what it asked.
        "INVALID_API" | "METHOD_NOT_SUPPORTED" => R::NetworkUnsupported,
        "PARAM_ILLEGAL"
        | "MEDIA_TYPE_NOT_ACCEPTABLE"
        | "ORDER_NOT_EXIST"
        | "ORDER_STATUS_INVALID" => R::InvalidRequest,
        "PAYMENT_NOT_QUALIFIED" | "NO_PAY_OPTIONS" | "PROCESS_FAIL" => R::Other,
        _ => R::Other,
    }
}

/// The stored pair always names the base currency first ("JPY/USD": `price` USD per JPY).
/// Alipay+ does not pin down which way `quotePrice` runs; `baseCurrency` says, so a pair
/// written the other way round is turned to put the base first. A quote whose base is not in
/// its pair cannot be read and is dropped.
fn quote(q: &wire::Quote, settlement: Option<&wire::Amount>) -> Option<SettlementQuote> {
    let (first, second) = q.quote_currency_pair.split_once('/')?;
    let currency_pair = match q.base_currency.as_deref() {
        None => q.quote_currency_pair.clone(),
        Some(base) if base == first => q.quote_currency_pair.clone(),
        Some(base) if base == second => format!("{second}/{first}"),
        Some(_) => return None,
    };
    Some(SettlementQuote {
        quote_id: q.quote_id.clone(),
        currency_pair,
        price: Decimal::from_str(&q.quote_price).ok()?,
        settlement_amount: settlement.and_then(money),
        expires_at_ms: q.quote_expiry_time.as_deref().and_then(parse_time_ms),
    })
}

pub fn parse_time_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The outcome a payment `Result` (pay's `result`, inquiry's `paymentResult`) describes.
pub fn outcome(result: &wire::ResultInfo, reply: &wire::PaymentReply) -> PayOutcome {
    match (result.result_status.as_str(), result.result_code.as_str()) {
        ("S", _) => paid(reply),
        // The user must confirm in the wallet (PIN, biometrics): awaiting the customer.
        ("U", "PAYMENT_IN_PROCESS") => PayOutcome::AwaitingCustomer {
            network_txn_id: reply.payment_id.clone(),
        },
        ("U", code) => PayOutcome::Unknown {
            detail: format!("U {code}"),
        },
        ("F", code) => PayOutcome::Declined {
            reason: failure_reason(code),
            network_code: code.to_owned(),
        },
        (status, code) => PayOutcome::Unknown {
            detail: format!("result {status} {code}"),
        },
    }
}

fn paid(reply: &wire::PaymentReply) -> PayOutcome {
    let Some(payment_id) = reply.payment_id.clone() else {
        return PayOutcome::Unknown {
            detail: "success without paymentId".into(),
        };
    };
    let wallet_amount = reply
        .customer_pay_amount
        .as_ref()
        .and_then(money)
        .map(|amount| WalletAmount {
            amount,
            rate: reply
                .payment_quote
                .as_ref()
                .and_then(|q| Decimal::from_str(&q.quote_price).ok()),
        });
    let settlement_quote = reply
        .settlement_quote
        .as_ref()
        .and_then(|q| quote(q, reply.settlement_amount.as_ref()));
    PayOutcome::Succeeded(Paid {
        network_txn_id: payment_id,
        wallet_brand: reply
            .wallet_brand_name
            .clone()
            .or_else(|| reply.psp_id.clone()),
        wallet_amount,
        settlement_quote,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_quote(pair: &str, base: Option<&str>) -> wire::Quote {
        wire::Quote {
            quote_id: "SQ1".into(),
            quote_currency_pair: pair.into(),
            quote_price: "0.00658".into(),
            quote_start_time: None,
            quote_expiry_time: None,
            base_currency: base.map(str::to_owned),
        }
    }

    #[test]
    fn a_quote_names_its_base_currency_first() {
        let pair = |q: &wire::Quote| quote(q, None).map(|q| q.currency_pair);
        assert_eq!(
            pair(&wire_quote("JPY/USD", Some("JPY"))).as_deref(),
            Some("JPY/USD")
        );
        assert_eq!(
            pair(&wire_quote("USD/JPY", Some("JPY"))).as_deref(),
            Some("JPY/USD")
        );
        assert_eq!(
            pair(&wire_quote("USD/JPY", None)).as_deref(),
            Some("USD/JPY")
        );
        assert_eq!(pair(&wire_quote("USD/JPY", Some("KRW"))), None);
        assert_eq!(pair(&wire_quote("USDJPY", Some("JPY"))), None);
    }

    #[test]
    fn amounts_are_minor_unit_strings() {
        assert_eq!(
            amount(&Money::parse("1200", "JPY").unwrap()),
            wire::Amount {
                currency: "JPY".into(),
                value: "1200".into()
            }
        );
        assert_eq!(amount(&Money::parse("57.36", "CNY").unwrap()).value, "5736");
        assert_eq!(
            amount(&Money::parse("10944", "KRW").unwrap()).value,
            "10944"
        );
        assert_eq!(
            money(&wire::Amount {
                currency: "CNY".into(),
                value: "5736".into()
            }),
            Some(Money::parse("57.36", "CNY").unwrap())
        );
        assert_eq!(
            money(&wire::Amount {
                currency: "CNY".into(),
                value: "57.36".into()
            }),
            None
        );
    }

    #[test]
    fn result_model_row_by_row() {
        let r = |status: &str, code: &str| wire::ResultInfo {
            result_code: code.into(),
            result_status: status.into(),
            result_message: String::new(),
        };
        let reply = wire::PaymentReply {
            payment_id: Some("P1".into()),
            ..Default::default()
        };
        assert!(matches!(
            outcome(&r("S", "SUCCESS"), &reply),
            PayOutcome::Succeeded(_)
        ));
        assert!(matches!(
            outcome(&r("U", "PAYMENT_IN_PROCESS"), &reply),
            PayOutcome::AwaitingCustomer { .. }
        ));
        assert!(matches!(
            outcome(&r("U", "UNKNOWN_EXCEPTION"), &reply),
            PayOutcome::Unknown { .. }
        ));
        assert!(matches!(
            outcome(&r("U", "REQUEST_TRAFFIC_EXCEED_LIMIT"), &reply),
            PayOutcome::Unknown { .. }
        ));
        assert!(matches!(
            outcome(&r("?", "X"), &reply),
            PayOutcome::Unknown { .. }
        ));
        let rows = [
            ("USER_BALANCE_NOT_ENOUGH", DeclineReason::InsufficientFunds),
            ("EXPIRED_CODE", DeclineReason::CodeExpired),
            ("INVALID_PAYMENT_CODE", DeclineReason::CodeInvalid),
            ("RISK_REJECT", DeclineReason::RiskRejected),
            ("PAYMENT_COUNT_EXCEED_LIMIT", DeclineReason::LimitExceeded),
            ("MERCHANT_NOT_REGISTERED", DeclineReason::MerchantNotEnabled),
            ("REPEAT_REQ_INCONSISTENT", DeclineReason::DuplicateOrder),
            ("INVALID_API", DeclineReason::NetworkUnsupported),
            ("METHOD_NOT_SUPPORTED", DeclineReason::NetworkUnsupported),
            ("PARAM_ILLEGAL", DeclineReason::InvalidRequest),
            ("SOMETHING_ELSE", DeclineReason::Other),
        ];
        for (code, reason) in rows {
            assert_eq!(
                outcome(&r("F", code), &reply),
                PayOutcome::Declined {
                    reason,
                    network_code: code.into()
                },
                "{code}"
            );
        }
    }
}
