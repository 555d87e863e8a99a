//! Canonical <-> PayPay: result codes and statuses, each in one match.
use kakehashi_adapter_core::{DeclineReason, Money, Paid, PayOutcome, RefundOutcome};

use crate::wire;

/// PayPay amounts are JPY integers; anything else is refused before the wire.
pub fn amount(money: &Money) -> Option<wire::MoneyAmount> {
    (money.currency_code() == "JPY").then(|| wire::MoneyAmount {
        amount: money.minor(),
        currency: "JPY".into(),
    })
}

/// A failure code's meaning for a payment. `None`: unknown, query before doing anything.
pub fn decline_reason(code: &str) -> Option<DeclineReason> {
    use DeclineReason as R;
    let reason = match code {
        "NO_SUFFICIENT_FUND" => R::InsufficientFunds,
        "UNACCEPTABLE_OP" | "PAYMENT_AMOUNT_EXCEED_LIMIT" => R::LimitExceeded,
        "SUSPECTED_DUPLICATE_PAYMENT" => R::DuplicateOrder,
        "CANCELED_USER" | "USER_STATE_IS_NOT_ACTIVE" => R::AccountRestricted,
        "INVALID_PARAMS"
        | "INVALID_REQUEST_PARAMS"
        | "MISSING_REQUEST_PARAMS"
        | "DYNAMIC_QR_BAD_REQUEST" => R::InvalidRequest,
        "UNSUPPORTED_PAYMENT_METHOD" | "NO_VALID_PAYMENT_METHOD" | "PAYMENT_METHOD_NOT_FOUND" => {
            R::AccountRestricted
        }
        "UNAUTHORIZED" | "OP_OUT_OF_SCOPE" | "OPA_CLIENT_NOT_FOUND" => R::MerchantNotEnabled,
        "TRANSACTION_FAILED" => R::NetworkError,
        // 404 for a payment PayPay does not hold (a refund naming the wrong paymentId).
        "RESOURCE_NOT_FOUND" => R::InvalidRequest,
        "DUPLICATE_DYNAMIC_QR_REQUEST" => R::DuplicateOrder,
        "ORDER_NOT_REVERSIBLE"
        | "REFUND_WINDOW_EXCEED"
        | "REFUND_LIMIT_EXCEEDED"
        | "MERCHANT_MULTIPLE_REFUND_REJECTED" => R::RefundNotAllowed,
        // Kakehashi extension codes (customer-presented codes are not part of PayPay's API).
        "KAKEHASHI_EXT_CUSTOMER_CODE_INVALID" => R::CodeInvalid,
        "KAKEHASHI_EXT_CUSTOMER_CODE_EXPIRED" => R::CodeExpired,
        // INTERNAL_SERVER_ERROR, RATE_LIMIT, SERVICE_ERROR, MAINTENANCE_MODE and anything
        // unlisted: the outcome is unknown.
        _ => return None,
    };
    Some(reason)
}

/// A pay or refund PayPay refused. A known code declines with its reason; an HTTP 404 or
/// 405 with a code PayPay does not document for the operation ("no such API", or no
/// envelope at all) proves no API took the request: declined at once as unsupported, with
/// the status and code as the network code. Anything else is unknown (`None`).
pub fn refusal(status: u16, code: &str) -> Option<(DeclineReason, String)> {
    if let Some(reason) = decline_reason(code) {
        return Some((reason, code.to_owned()));
    }
    matches!(status, 404 | 405).then(|| {
        let network_code = format!("HTTP {status} {code}");
        (
            DeclineReason::NetworkUnsupported,
            network_code.trim_end().to_owned(),
        )
    })
}

/// What a payment's `status` means.
pub fn payment_status(data: &wire::PaymentData) -> PayOutcome {
    match data.status.as_str() {
        // REFUNDED: it was paid, and refunded since.
        "COMPLETED" | "REFUNDED" => match &data.payment_id {
            Some(id) => PayOutcome::Succeeded(Paid {
                network_txn_id: id.clone(),
                wallet_brand: Some("PayPay".into()),
                wallet_amount: None,
                settlement_quote: None,
            }),
            None => PayOutcome::Unknown {
                detail: "COMPLETED without paymentId".into(),
            },
        },
        "CREATED" | "AUTHORIZED" | "REAUTHORIZING" => PayOutcome::AwaitingCustomer {
            network_txn_id: data.payment_id.clone(),
        },
        "EXPIRED" => PayOutcome::Declined {
            reason: DeclineReason::PaymentExpired,
            network_code: "EXPIRED".into(),
        },
        "CANCELED" => PayOutcome::Declined {
            reason: DeclineReason::CustomerCancelled,
            network_code: "CANCELED".into(),
        },
        "FAILED" => PayOutcome::Declined {
            reason: DeclineReason::Other,
            network_code: "FAILED".into(),
        },
        other => PayOutcome::Unknown {
            detail: format!("status {other}"),
        },
    }
}

pub fn refund_status(data: &wire::RefundData) -> RefundOutcome {
    match data.status.as_str() {
        "REFUNDED" => RefundOutcome::Succeeded {
            network_refund_id: data
                .refund_id
                .clone()
                .unwrap_or_else(|| data.merchant_refund_id.clone()),
        },
        "CREATED" => RefundOutcome::Pending {
            network_refund_id: data.refund_id.clone(),
        },
        "FAILED" => RefundOutcome::Declined {
            reason: DeclineReason::RefundNotAllowed,
            network_code: "FAILED".into(),
        },
        other => RefundOutcome::Unknown {
            detail: format!("refund status {other}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_row_by_row() {
        use DeclineReason as R;
        let rows: &[(&str, Option<DeclineReason>)] = &[
            ("NO_SUFFICIENT_FUND", Some(R::InsufficientFunds)),
            ("UNACCEPTABLE_OP", Some(R::LimitExceeded)),
            ("SUSPECTED_DUPLICATE_PAYMENT", Some(R::DuplicateOrder)),
            ("INVALID_PARAMS", Some(R::InvalidRequest)),
            ("UNAUTHORIZED", Some(R::MerchantNotEnabled)),
            ("TRANSACTION_FAILED", Some(R::NetworkError)),
            ("ORDER_NOT_REVERSIBLE", Some(R::RefundNotAllowed)),
            ("KAKEHASHI_EXT_CUSTOMER_CODE_EXPIRED", Some(R::CodeExpired)),
            ("RESOURCE_NOT_FOUND", Some(R::InvalidRequest)),
            ("INTERNAL_SERVER_ERROR", None),
            ("RATE_LIMIT", None),
            ("SOMETHING_NEW", None),
        ];
        for (code, reason) in rows {
            assert_eq!(decline_reason(code), *reason, "{code}");
        }
    }

    #[test]
    fn a_404_or_405_without_a_documented_code_is_unsupported_and_a_5xx_unknown() {
        use DeclineReason as R;
        let unsupported = |code: &str| Some((R::NetworkUnsupported, code.to_owned()));
        assert_eq!(refusal(404, "NOT_FOUND"), unsupported("HTTP 404 NOT_FOUND"));
        assert_eq!(refusal(405, ""), unsupported("HTTP 405"));
        assert_eq!(
            refusal(404, "NO_VALID_PAYMENT_METHOD"),
            Some((R::AccountRestricted, "NO_VALID_PAYMENT_METHOD".into()))
        );
        assert_eq!(
            refusal(401, "UNAUTHORIZED"),
            Some((R::MerchantNotEnabled, "UNAUTHORIZED".into()))
        );
        assert_eq!(refusal(500, "INTERNAL_SERVER_ERROR"), None);
        assert_eq!(refusal(503, ""), None);
        assert_eq!(refusal(400, "SOMETHING_NEW"), None);
    }

    #[test]
    fn amounts_are_yen_integers_only() {
        assert_eq!(
            amount(&Money::parse("1200", "JPY").unwrap())
                .unwrap()
                .amount,
            1200
        );
        assert!(amount(&Money::parse("12.00", "USD").unwrap()).is_none());
    }
}
