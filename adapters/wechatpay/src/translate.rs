//! Canonical <-> WeChat Pay: amounts in minor units of `fee_type`, the `rate` (×10^8),
//! `err_code` and `trade_state` tables, each one match.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::{DeclineReason, Money, Paid, PayOutcome, WalletAmount};
use rust_decimal::Decimal;

use crate::xml::Fields;

/// How a micropay `err_code` is classed: the official doc's U (unknown: query) and F
/// (failed) marks, with USERPAYING apart (the customer is entering the PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrClass {
    Unknown,
    Paying,
    Failed(DeclineReason),
}

pub fn micropay_err(code: &str) -> ErrClass {
    use DeclineReason as R;
    use ErrClass::{Failed, Paying, Unknown};
    match code {
        "SYSTEMERROR" | "BANKERROR" => Unknown,
        "USERPAYING" => Paying,
        // Already paid / number used: maybe by our own earlier attempt. Query, never decline blind.
        "ORDERPAID" | "OUT_TRADE_NO_USED" => Unknown,
        "NOTENOUGH" => Failed(R::InsufficientFunds),
        "AUTHCODEEXPIRE" => Failed(R::CodeExpired),
        "AUTH_CODE_ERROR" | "AUTH_CODE_INVALID" => Failed(R::CodeInvalid),
        "NOTSUPORTCARD" | "USER_ACCOUNT_ABNORMAL" => Failed(R::AccountRestricted),
        "ORDERCLOSED" | "ORDERREVERSED" => Failed(R::PaymentExpired),
        "NOAUTH" | "APPID_NOT_EXIST" | "MCHID_NOT_EXIST" | "APPID_MCHID_NOT_MATCH" => {
            Failed(R::MerchantNotEnabled)
        }
        "PARAM_ERROR"
        | "XML_FORMAT_ERROR"
        | "REQUIRE_POST_METHOD"
        | "SIGNERROR"
        | "LACK_PARAMS"
        | "NOT_UTF8"
        | "BUYER_MISMATCH" => Failed(R::InvalidRequest),
        _ => Unknown,
    }
}

/// `orderquery`'s `trade_state`.
pub fn trade_state(state: &str) -> Option<ErrClass> {
    use DeclineReason as R;
    match state {
        "SUCCESS" | "REFUND" => None,
        "NOTPAY" | "USERPAYING" => Some(ErrClass::Paying),
        "CLOSED" | "REVOKED" => Some(ErrClass::Failed(R::PaymentExpired)),
        "PAYERROR" => Some(ErrClass::Failed(R::Other)),
        _ => Some(ErrClass::Unknown),
    }
}

pub fn fee(money: &Money) -> String {
    money.minor().to_string()
}

/// The `rate` field (foreign currency → wallet currency × 10^8) as wallet units per one
/// merchant unit, exactly: `87520000` → `0.8752`.
pub fn rate(raw: &str) -> Option<Decimal> {
    let scaled = i64::from_str(raw).ok().filter(|r| *r > 0)?;
    Some(Decimal::new(scaled, 8).normalize())
}

/// A paid order's canonical form: the merchant amount in `fee_type`, the wallet's in
/// `cash_fee_type` with the network's rate.
pub fn paid(fields: &Fields, merchant_currency: Currency) -> PayOutcome {
    let Some(txn) = fields.get("transaction_id").filter(|t| !t.is_empty()) else {
        return PayOutcome::Unknown {
            detail: "SUCCESS without transaction_id".into(),
        };
    };
    let wallet_amount = match (
        fields.get("cash_fee").map(|c| i64::from_str(c)),
        fields.get("cash_fee_type"),
    ) {
        (Some(Ok(cash)), Some(cash_type)) if cash_type.as_str() != merchant_currency.code() => {
            Currency::from_code(cash_type)
                .and_then(|c| Money::from_minor(cash, c).ok())
                .map(|amount| WalletAmount {
                    amount,
                    rate: fields.get("rate").and_then(|r| rate(r)),
                })
        }
        _ => None,
    };
    let brand = match fields.get("cash_fee_type").map(String::as_str) {
        Some("HKD") => "WeChat Pay HK",
        _ => "WeChat Pay",
    };
    PayOutcome::Succeeded(Paid {
        network_txn_id: txn.clone(),
        wallet_brand: Some(brand.into()),
        wallet_amount,
        settlement_quote: None,
    })
}

pub fn class_outcome(class: ErrClass, code: &str, txn: Option<String>) -> PayOutcome {
    match class {
        ErrClass::Unknown => PayOutcome::Unknown {
            detail: format!("err_code {code}"),
        },
        ErrClass::Paying => PayOutcome::AwaitingCustomer {
            network_txn_id: txn,
        },
        ErrClass::Failed(reason) => PayOutcome::Declined {
            reason,
            network_code: code.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_codes_row_by_row() {
        use DeclineReason as R;
        let rows: &[(&str, ErrClass)] = &[
            ("SYSTEMERROR", ErrClass::Unknown),
            ("BANKERROR", ErrClass::Unknown),
            ("USERPAYING", ErrClass::Paying),
            ("ORDERPAID", ErrClass::Unknown),
            ("NOTENOUGH", ErrClass::Failed(R::InsufficientFunds)),
            ("AUTHCODEEXPIRE", ErrClass::Failed(R::CodeExpired)),
            ("AUTH_CODE_INVALID", ErrClass::Failed(R::CodeInvalid)),
            ("ORDERREVERSED", ErrClass::Failed(R::PaymentExpired)),
            ("NOAUTH", ErrClass::Failed(R::MerchantNotEnabled)),
            ("SIGNERROR", ErrClass::Failed(R::InvalidRequest)),
            ("SOMETHING_NEW", ErrClass::Unknown),
        ];
        for (code, class) in rows {
            assert_eq!(micropay_err(code), *class, "{code}");
        }
        assert_eq!(trade_state("SUCCESS"), None);
        assert_eq!(trade_state("USERPAYING"), Some(ErrClass::Paying));
        assert_eq!(
            trade_state("REVOKED"),
            Some(ErrClass::Failed(R::PaymentExpired))
        );
        assert_eq!(trade_state("??"), Some(ErrClass::Unknown));
    }

    #[test]
    fn fees_are_minor_units_and_rates_are_exact() {
        assert_eq!(fee(&Money::parse("1200", "JPY").unwrap()), "1200");
        assert_eq!(fee(&Money::parse("17.50", "USD").unwrap()), "1750");
        assert_eq!(rate("87520000"), Some(Decimal::from_str("0.8752").unwrap()));
        assert_eq!(
            rate("717420000"),
            Some(Decimal::from_str("7.1742").unwrap())
        );
        assert_eq!(rate("0"), None);
        assert_eq!(rate("x"), None);
    }

    #[test]
    fn a_cross_currency_success_keeps_both_amounts() {
        let mut f = Fields::new();
        f.insert(
            "transaction_id".into(),
            "4200000000000000000000000001".into(),
        );
        f.insert("cash_fee".into(), "5736".into());
        f.insert("cash_fee_type".into(), "CNY".into());
        f.insert("rate".into(), "4780000".into());
        let PayOutcome::Succeeded(paid) = paid(&f, Currency::JPY) else {
            panic!()
        };
        let wallet = paid.wallet_amount.unwrap();
        assert_eq!(wallet.amount, Money::parse("57.36", "CNY").unwrap());
        assert_eq!(wallet.rate, Some(Decimal::from_str("0.0478").unwrap()));
    }
}
