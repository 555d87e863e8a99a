//! The stable reasons the partner gateway puts in `google.rpc.ErrorInfo`, each with its one
//! gRPC code, and the builders of its statuses. The strings are part of the API: the header
//! of partner.proto lists them (a test keeps the two equal); never renamed, only added to.
//! The acceptance API's AMOUNT_* and CURRENCY_UNKNOWN reasons apply to money fields here
//! unchanged, and its compliance reasons (RULE_*) to PayMerchantCode.
use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

pub use crate::api::reason::DOMAIN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayReason {
    KeyFormat,
    OutcomeRequired,
    RateFormat,
    ValidityFormat,
    ReportDateFormat,
    TooManyItems,
    MerchantCodeFormat,
    NetworkTxnIdRequired,
    SettlementLineFormat,
    ClientCertUnknown,
    PaymentNotFound,
    MerchantCodeUnknown,
    IdempotencyConflict,
    StateContradiction,
    NetworkNotEnabled,
    AmountOutsideLimits,
    AmountMismatch,
    CurrencyNotSupported,
    CodeExpired,
    SwitchBusy,
    InternalError,
}

/// What the partner hears of a fault inside the switch; the detail goes to the log.
pub const INTERNAL_MESSAGE: &str =
    "the switch failed to process the request; it is safe to retry with the same key";

/// One invalid field: its path, the reason (this API's or the acceptance API's), and why.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub reason: &'static str,
    pub description: String,
}

/// Every invalid field of one request, so a partner learns of all of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

// === impl GatewayReason ===

impl GatewayReason {
    pub const ALL: [GatewayReason; 21] = [
        Self::KeyFormat,
        Self::OutcomeRequired,
        Self::RateFormat,
        Self::ValidityFormat,
        Self::ReportDateFormat,
        Self::TooManyItems,
        Self::MerchantCodeFormat,
        Self::NetworkTxnIdRequired,
        Self::SettlementLineFormat,
        Self::ClientCertUnknown,
        Self::PaymentNotFound,
        Self::MerchantCodeUnknown,
        Self::IdempotencyConflict,
        Self::StateContradiction,
        Self::NetworkNotEnabled,
        Self::AmountOutsideLimits,
        Self::AmountMismatch,
        Self::CurrencyNotSupported,
        Self::CodeExpired,
        Self::SwitchBusy,
        Self::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyFormat => "KEY_FORMAT",
            Self::OutcomeRequired => "OUTCOME_REQUIRED",
            Self::RateFormat => "RATE_FORMAT",
            Self::ValidityFormat => "VALIDITY_FORMAT",
            Self::ReportDateFormat => "REPORT_DATE_FORMAT",
            Self::TooManyItems => "TOO_MANY_ITEMS",
            Self::MerchantCodeFormat => "MERCHANT_CODE_FORMAT",
            Self::NetworkTxnIdRequired => "NETWORK_TXN_ID_REQUIRED",
            Self::SettlementLineFormat => "SETTLEMENT_LINE_FORMAT",
            Self::ClientCertUnknown => "CLIENT_CERT_UNKNOWN",
            Self::PaymentNotFound => "PAYMENT_NOT_FOUND",
            Self::MerchantCodeUnknown => "MERCHANT_CODE_UNKNOWN",
            Self::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            Self::StateContradiction => "STATE_CONTRADICTION",
            Self::NetworkNotEnabled => "NETWORK_NOT_ENABLED",
            Self::AmountOutsideLimits => "AMOUNT_OUTSIDE_LIMITS",
            Self::AmountMismatch => "AMOUNT_MISMATCH",
            Self::CurrencyNotSupported => "CURRENCY_NOT_SUPPORTED",
            Self::CodeExpired => "CODE_EXPIRED",
            Self::SwitchBusy => "SWITCH_BUSY",
            Self::InternalError => "INTERNAL_ERROR",
        }
    }

    pub fn code(self) -> Code {
        match self {
            Self::KeyFormat
            | Self::OutcomeRequired
            | Self::RateFormat
            | Self::ValidityFormat
            | Self::ReportDateFormat
            | Self::TooManyItems
            | Self::MerchantCodeFormat
            | Self::NetworkTxnIdRequired
            | Self::SettlementLineFormat => Code::InvalidArgument,
            Self::ClientCertUnknown => Code::Unauthenticated,
            Self::PaymentNotFound | Self::MerchantCodeUnknown => Code::NotFound,
            Self::IdempotencyConflict => Code::AlreadyExists,
            Self::StateContradiction
            | Self::NetworkNotEnabled
            | Self::AmountOutsideLimits
            | Self::AmountMismatch
            | Self::CurrencyNotSupported
            | Self::CodeExpired => Code::FailedPrecondition,
            Self::SwitchBusy => Code::Unavailable,
            Self::InternalError => Code::Internal,
        }
    }

    /// A status with an `ErrorInfo` (`meta` as its metadata) and, for FAILED_PRECONDITION,
    /// a `PreconditionFailure` about `subject`.
    pub fn status(self, message: impl Into<String>, meta: &[(&str, &str)]) -> Status {
        let message = message.into();
        let mut details = ErrorDetails::new();
        let metadata: HashMap<String, String> = meta
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        details.set_error_info(self.as_str(), DOMAIN, metadata);
        if self.code() == Code::FailedPrecondition {
            details.add_precondition_failure_violation(self.as_str(), "payment", &message);
        }
        Status::with_error_details(self.code(), message, details)
    }
}

/// An internal fault: logged with its detail, reported without it.
pub fn internal(detail: impl std::fmt::Display) -> Status {
    tracing::error!(error = %detail, "Partner request failed inside the switch");
    GatewayReason::InternalError.status(INTERNAL_MESSAGE, &[])
}

// === impl FieldErrors ===

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, reason: GatewayReason, why: impl ToString) {
        debug_assert_eq!(reason.code(), Code::InvalidArgument);
        self.0.push(FieldError {
            field: field.into(),
            reason: reason.as_str(),
            description: why.to_string(),
        });
    }

    /// Takes the acceptance API's money violations (AMOUNT_*, CURRENCY_UNKNOWN) as they are.
    pub fn extend_acceptance(&mut self, violations: crate::api::status::Violations) {
        self.0
            .extend(violations.into_vec().into_iter().map(|v| FieldError {
                field: v.field,
                reason: v.reason.as_str(),
                description: v.description,
            }));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else INVALID_ARGUMENT with a `BadRequest` naming every
    /// field; ErrorInfo carries the first field's reason.
    #[allow(clippy::result_large_err)]
    pub fn finish(self) -> Result<(), Status> {
        let Some(first) = self.0.first() else {
            return Ok(());
        };
        let message = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        let mut details = ErrorDetails::new();
        details.set_error_info(
            first.reason,
            DOMAIN,
            HashMap::from([("field".to_owned(), first.field.clone())]),
        );
        details.set_bad_request(
            self.0
                .iter()
                .map(|v| FieldViolation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                    reason: v.reason.to_owned(),
                    localized_message: None,
                })
                .collect::<Vec<_>>(),
        );
        Err(Status::with_error_details(
            Code::InvalidArgument,
            message,
            details,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = include_str!("../../proto/kakehashi/v1/partner.proto");

    #[test]
    fn partner_proto_documents_every_reason_with_its_code_and_no_other() {
        let ours: Vec<(String, String)> = GatewayReason::ALL
            .iter()
            .map(|r| {
                let code = crate::api::reason::code_name(r.code());
                (r.as_str().to_owned(), code.to_owned())
            })
            .collect();
        let names: Vec<&str> = GatewayReason::ALL.iter().map(|r| r.as_str()).collect();
        let documented: Vec<(String, String)> = PROTO
            .lines()
            .take_while(|l| l.starts_with("//"))
            .filter_map(|l| {
                let mut words = l.trim_start_matches("//").split_whitespace();
                let reason = words.next()?;
                let code = words.next()?;
                let looks_like_reason = reason.len() > 3
                    && reason.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && code.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                looks_like_reason.then(|| (reason.to_owned(), code.to_owned()))
            })
            .collect();
        assert_eq!(documented, ours, "{names:?}");
    }
}
