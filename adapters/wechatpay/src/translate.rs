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

/// Whether `rate` turns the merchant amount into the wallet amount (to within one minor
/// unit: WeChat Pay does not document its rounding). WeChat documents `rate` as foreign
/// currency → RMB; for a wallet charged in another currency (HKD) that would not be the rate
/// applied, and a rate that does not reproduce the wallet amount is not stored as if it were.
fn reproduces(rate: Decimal, merchant: &Money, wallet: &Money) -> bool {
    let exponent = wallet.currency().exponent().map_or(0, u32::from);
    let expected = (merchant.amount() * rate).round_dp_with_strategy(
        exponent,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    let unit = Decimal::new(1, exponent);
    (expected - wallet.amount()).abs() <= unit
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
            let total = fields
                .get("total_fee")
                .and_then(|t| i64::from_str(t).ok())
                .and_then(|t| Money::from_minor(t, merchant_currency).ok());
            Currency::from_code(cash_type)
                .and_then(|c| Money::from_minor(cash, c).ok())
                .map(|amount| WalletAmount {
                    rate: fields
                        .get("rate")
                        .and_then(|r| rate(r))
                        .filter(|r| total.is_some_and(|t| reproduces(*r, &t, &amount))),
                    amount,
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

    fn paid_fields(cash_fee: &str, cash_type: &str, rate: &str) -> Fields {
        [
            ("transaction_id", "4200000000000000000000000001"),
            ("total_fee", "1000"),
            ("fee_type", "JPY"),
            ("cash_fee", cash_fee),
            ("cash_fee_type", cash_type),
            ("rate", rate),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn wallet(fields: &Fields) -> WalletAmount {
        match paid(fields, Currency::JPY) {
            PayOutcome::Succeeded(p) => p.wallet_amount.unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rate_is_kept_only_when_it_reproduces_the_wallet_amount() {
        // ¥1000 at 0.0478 is CNY 47.80: the rate is the one applied.
        let cny = wallet(&paid_fields("4780", "CNY", "4780000"));
        assert_eq!(cny.amount, Money::parse("47.80", "CNY").unwrap());
        assert_eq!(cny.rate, Some(Decimal::new(478, 4)));
        // An HKD wallet charged HKD 52.10 with a JPY→CNY rate: the amount is exact, the rate
        // is not the one applied, so none is stored.
        let hkd = wallet(&paid_fields("5210", "HKD", "4780000"));
        assert_eq!(hkd.amount, Money::parse("52.10", "HKD").unwrap());
        assert_eq!(hkd.rate, None);
    }

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
        f.insert("total_fee".into(), "1200".into());
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
