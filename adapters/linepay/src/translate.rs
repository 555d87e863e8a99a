//! Canonical <-> LINE Pay. The return-code table lives here, in one match, each row from the
//! research file's table (LINE Pay appendix "Table 24" and the per-API lists).
use std::str::FromStr;

use kakehashi_adapter_core::{
    DeclineReason, Money, PayOutcome, PayRequest, RefundOutcome, RefundRequest,
};
use rust_decimal::Decimal;

use crate::wire;

/// What a return code means for a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeClass {
    Success,
    /// The payment's fate is unknown: check by orderId, never re-pay with it.
    Unknown,
    Declined(DeclineReason),
}

/// Classifies a LINE Pay `returnCode`. Codes not in the table are unknown (check), never
/// success.
pub fn classify(code: &str) -> CodeClass {
    use CodeClass::{Declined, Success, Unknown};
    use DeclineReason as R;
    match code {
        "0000" => Success,
        // Payment in process / request info not found / duplicate orderId / duplicate call /
        // internal errors: the order may exist; check it.
        "1145" | "1159" | "1172" | "1198" | "1199" | "9000" => Unknown,
        // Temporary: retry later; the payment's state is not known to have changed.
        "1900" | "1902" | "1170" => Unknown,
        "1142" | "1288" => Declined(R::InsufficientFunds),
        // 1133 "User error": in practice (and in our simulator) a oneTimeKey that is invalid or
        // already used; the cashier's action is the same either way: a fresh code.
        "1133" => Declined(R::CodeInvalid),
        "1101" | "1102" | "1141" | "1169" | "1179" => Declined(R::AccountRestricted),
        "1110" | "1280" | "1281" | "1282" | "1284" | "1285" | "1286" | "1287" | "1292" | "1293"
        | "1295" | "1296" | "1298" => Declined(R::AccountRestricted),
        "1283" | "1291" | "1294" => Declined(R::RiskRejected),
        "1289" | "1290" => Declined(R::LimitExceeded),
        "1180" => Declined(R::CodeExpired),
        "1104" | "1105" | "1106" => Declined(R::MerchantNotEnabled),
        "1178" => Declined(R::CurrencyNotSupported),
        "1124" | "1153" | "1183" | "1184" | "1177" | "2101" | "2102" | "1999" => {
            Declined(R::InvalidRequest)
        }
        "1150" => Declined(R::InvalidRequest),
        "1152" => Declined(R::DuplicateOrder),
        "1155" | "1163" | "1164" | "1165" | "2042" | "1115" => Declined(R::RefundNotAllowed),
        "1154" | "1190" | "1193" | "1194" | "1197" => Declined(R::Other),
        "2020" | "2021" | "2022" | "2023" | "2024" => Declined(R::Other),
        _ => Unknown,
    }
}

/// The Pay body for a canonical request: one package, one product, captured at once.
pub fn pay_body(request: &PayRequest) -> wire::PayRequest {
    let amount = request.amount.amount();
    let name = if request.description.is_empty() {
        request.merchant.name.clone()
    } else {
        request.description.clone()
    };
    let name = if name.is_empty() {
        "Purchase".to_owned()
    } else {
        name
    };
    wire::PayRequest {
        amount: wire::number(&amount),
        currency: request.amount.currency_code().to_owned(),
        one_time_key: request.code.expose().to_owned(),
        order_id: request.payment_id.clone(),
        packages: vec![wire::Package {
            id: "1".into(),
            amount: wire::number(&amount),
            products: vec![wire::Product {
                name,
                quantity: 1,
                price: wire::number(&amount),
            }],
        }],
        options: wire::PayOptions {
            payment: wire::PaymentOptions { capture: true },
            extra: (!request.merchant.store_id.is_empty()).then(|| wire::PayExtra {
                branch_id: request.merchant.store_id.clone(),
            }),
        },
    }
}

/// Sum of `payInfo[].amount`, which LINE Pay says must equal the requested amount.
pub fn pay_info_total(methods: &[wire::PayMethod]) -> Option<Decimal> {
    methods.iter().try_fold(Decimal::ZERO, |sum, m| {
        Decimal::from_str(m.amount.get()).ok().map(|a| sum + a)
    })
}

/// A successful Pay or a COMPLETE check, verified against the amount asked for.
pub fn paid(transaction_id: u64, methods: &[wire::PayMethod], expected: &Money) -> PayOutcome {
    match pay_info_total(methods) {
        Some(total) if total == expected.amount() => {
            PayOutcome::Succeeded(kakehashi_adapter_core::Paid {
                network_txn_id: transaction_id.to_string(),
                wallet_brand: Some("LINE Pay".into()),
                wallet_amount: None,
                settlement_quote: None,
            })
        }
        other => PayOutcome::Unknown {
            detail: format!(
                "payInfo total {other:?} differs from the requested {expected}; reversing"
            ),
        },
    }
}

/// Which refund a Payment details answer shows for `request`. LINE Pay lists refunds by
/// its own `refundTransactionId` and amount only, so the refund asked about is the earliest
/// listed refund of exactly its amount that the switch has not already matched to another
/// refund (`known_network_refund_ids`). None such: the network holds no such refund. An
/// answer about another order or currency, or with a listed amount that does not parse,
/// proves nothing.
pub fn refund_in_details(
    details: &[wire::PaymentDetails],
    request: &RefundRequest,
) -> RefundOutcome {
    let unknown = |detail: &str| RefundOutcome::Unknown {
        detail: format!("payment details: {detail}"),
    };
    let Some(payment) = details.iter().find(|d| d.order_id == request.payment_id) else {
        return unknown("the order is not listed");
    };
    if payment.currency != request.amount.currency_code() {
        return unknown("the order is in another currency");
    }
    if payment.refund_list.len() > wire::REFUNDS_LISTED_MAX {
        return unknown("too many refunds listed");
    }
    let mut candidates = Vec::new();
    for (index, listed) in payment.refund_list.iter().enumerate() {
        // Refunds are listed negative; a positive figure is read as the same refund.
        let Ok(amount) = Decimal::from_str(listed.refund_amount.get()) else {
            return unknown("a listed refund amount is not a number");
        };
        let id = listed.refund_transaction_id.0.to_string();
        if amount.abs() == request.amount.amount()
            && !request.known_network_refund_ids.contains(&id)
        {
            // RFC 3339 UTC timestamps of one format sort as text; the list order breaks ties.
            candidates.push((listed.refund_transaction_date.as_str(), index, id));
        }
    }
    match candidates.into_iter().min() {
        Some((_, _, network_refund_id)) => RefundOutcome::Succeeded { network_refund_id },
        None => RefundOutcome::NotTaken {
            detail: format!(
                "no refund of {} listed beyond the {} known",
                request.amount,
                request.known_network_refund_ids.len()
            ),
        },
    }
}

pub fn pay_outcome_for_code(code: &str) -> PayOutcome {
    match classify(code) {
        CodeClass::Success => PayOutcome::Unknown {
            detail: "success without info".into(),
        },
        CodeClass::Unknown => PayOutcome::Unknown {
            detail: format!("returnCode {code}"),
        },
        CodeClass::Declined(reason) => PayOutcome::Declined {
            reason,
            network_code: code.to_owned(),
        },
    }
}

pub fn refund_outcome_for_code(code: &str) -> RefundOutcome {
    match classify(code) {
        CodeClass::Success => RefundOutcome::Unknown {
            detail: "success without info".into(),
        },
        CodeClass::Unknown => RefundOutcome::Unknown {
            detail: format!("returnCode {code}"),
        },
        CodeClass::Declined(DeclineReason::InvalidRequest) if code == "1150" => {
            RefundOutcome::Declined {
                reason: DeclineReason::InvalidRequest,
                network_code: code.to_owned(),
            }
        }
        CodeClass::Declined(reason) => RefundOutcome::Declined {
            reason,
            network_code: code.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_code_table_row_by_row() {
        use CodeClass::*;
        use DeclineReason as R;
        let rows: &[(&str, CodeClass)] = &[
            ("0000", Success),
            ("1142", Declined(R::InsufficientFunds)),
            ("1145", Unknown),
            ("1159", Unknown),
            ("1172", Unknown),
            ("1198", Unknown),
            ("1199", Unknown),
            ("9000", Unknown),
            ("1101", Declined(R::AccountRestricted)),
            ("1180", Declined(R::CodeExpired)),
            ("1178", Declined(R::CurrencyNotSupported)),
            ("1124", Declined(R::InvalidRequest)),
            ("1183", Declined(R::InvalidRequest)),
            ("1106", Declined(R::MerchantNotEnabled)),
            ("1164", Declined(R::RefundNotAllowed)),
            ("1283", Declined(R::RiskRejected)),
            ("1290", Declined(R::LimitExceeded)),
            ("1900", Unknown),
            ("4242", Unknown),
            ("", Unknown),
        ];
        for (code, class) in rows {
            assert_eq!(classify(code), *class, "returnCode {code}");
        }
    }

    #[test]
    fn amounts_are_written_as_exact_json_numbers() {
        let jpy = Money::parse("1200", "JPY").unwrap();
        assert_eq!(wire::number(&jpy.amount()).get(), "1200");
        let twd = Money::parse("12.50", "USD").unwrap();
        assert_eq!(wire::number(&twd.amount()).get(), "12.5");
    }

    fn details(refunds: &str) -> Vec<wire::PaymentDetails> {
        serde_json::from_str(&format!(
            r#"[{{"transactionId":2026000000000000001,"orderId":"O1","transactionType":"PAYMENT","currency":"JPY","refundList":[{refunds}]}}]"#
        ))
        .unwrap()
    }

    fn asked(amount: &str, known: &[&str]) -> RefundRequest {
        RefundRequest {
            payment_id: "O1".into(),
            refund_id: "R1".into(),
            merchant: kakehashi_adapter_core::MerchantRef {
                merchant_id: "m".into(),
                network_merchant_id: None,
                name: String::new(),
                category_code: String::new(),
                store_id: String::new(),
                terminal_id: String::new(),
            },
            payment_amount: Money::parse("1000", "JPY").unwrap(),
            amount: Money::parse(amount, "JPY").unwrap(),
            network_txn_id: None,
            reason: String::new(),
            known_network_refund_ids: known.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn a_listed_refund_is_matched_by_amount_earliest_first_and_never_twice() {
        let two = details(
            r#"{"refundTransactionId":2026000000000000003,"refundAmount":-200,"refundTransactionDate":"2026-11-18T11:07:00Z"},
               {"refundTransactionId":2026000000000000002,"refundAmount":-200,"refundTransactionDate":"2026-11-18T11:06:00Z"},
               {"refundTransactionId":2026000000000000004,"refundAmount":-300,"refundTransactionDate":"2026-11-18T11:05:00Z"}"#,
        );
        let found = |amount: &str, known: &[&str]| refund_in_details(&two, &asked(amount, known));
        let succeeded = |id: &str| RefundOutcome::Succeeded {
            network_refund_id: id.into(),
        };
        assert_eq!(found("200", &[]), succeeded("2026000000000000002"));
        assert_eq!(
            found("200", &["2026000000000000002"]),
            succeeded("2026000000000000003")
        );
        assert!(matches!(
            found("200", &["2026000000000000002", "2026000000000000003"]),
            RefundOutcome::NotTaken { .. }
        ));
        assert_eq!(found("300", &[]), succeeded("2026000000000000004"));
        assert!(matches!(found("100", &[]), RefundOutcome::NotTaken { .. }));
        assert!(matches!(
            refund_in_details(&details(""), &asked("200", &[])),
            RefundOutcome::NotTaken { .. }
        ));
    }

    #[test]
    fn details_that_prove_nothing_are_unknown() {
        let other_order: Vec<wire::PaymentDetails> = serde_json::from_str(
            r#"[{"transactionId":1,"orderId":"O2","currency":"JPY","refundList":[]}]"#,
        )
        .unwrap();
        assert!(matches!(
            refund_in_details(&other_order, &asked("200", &[])),
            RefundOutcome::Unknown { .. }
        ));
        let other_currency: Vec<wire::PaymentDetails> =
            serde_json::from_str(r#"[{"transactionId":1,"orderId":"O1","currency":"TWD"}]"#)
                .unwrap();
        assert!(matches!(
            refund_in_details(&other_currency, &asked("200", &[])),
            RefundOutcome::Unknown { .. }
        ));
        let garbled = details(
            r#"{"refundTransactionId":2,"refundAmount":"-200","refundTransactionDate":"x"}"#,
        );
        assert!(matches!(
            refund_in_details(&garbled, &asked("200", &[])),
            RefundOutcome::Unknown { .. }
        ));
    }

    #[test]
    fn a_pay_info_mismatch_is_never_success() {
        let methods: Vec<wire::PayMethod> = serde_json::from_str(
            r#"[{"method":"BALANCE","amount":1000},{"method":"POINT","amount":100}]"#,
        )
        .unwrap();
        let asked = Money::parse("1200", "JPY").unwrap();
        assert!(matches!(
            paid(1, &methods, &asked),
            PayOutcome::Unknown { .. }
        ));
        let asked = Money::parse("1100", "JPY").unwrap();
        assert!(matches!(
            paid(1, &methods, &asked),
            PayOutcome::Succeeded(_)
        ));
    }
}
