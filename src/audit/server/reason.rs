//! The stable reasons the audit API puts in `google.rpc.ErrorInfo`, each with its one gRPC
//! code, and the builders of its statuses. The strings are part of the API: audit.proto's
//! header lists them (a test keeps the two equal); never renamed, only added to.
use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// `ErrorInfo.domain`, shared with the acceptance API.
pub const DOMAIN: &str = "kakehashi.v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditReason {
    CredentialsMissing,
    CredentialsInvalid,
    RangeInvalid,
    PaymentIdFormat,
    CheckpointNotFound,
    NotInTree,
    ExportTooLarge,
    RpcUnimplemented,
    InternalError,
}

/// What the client hears of a fault inside the switch; the detail goes to the log.
pub const INTERNAL_MESSAGE: &str = "the switch failed to read its audit log; retry";

// === impl AuditReason ===

impl AuditReason {
    pub const ALL: [AuditReason; 9] = [
        AuditReason::CredentialsMissing,
        AuditReason::CredentialsInvalid,
        AuditReason::RangeInvalid,
        AuditReason::PaymentIdFormat,
        AuditReason::CheckpointNotFound,
        AuditReason::NotInTree,
        AuditReason::ExportTooLarge,
        AuditReason::RpcUnimplemented,
        AuditReason::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditReason::CredentialsMissing => "AUDIT_CREDENTIALS_MISSING",
            AuditReason::CredentialsInvalid => "AUDIT_CREDENTIALS_INVALID",
            AuditReason::RangeInvalid => "AUDIT_RANGE_INVALID",
            AuditReason::PaymentIdFormat => "AUDIT_PAYMENT_ID_FORMAT",
            AuditReason::CheckpointNotFound => "AUDIT_CHECKPOINT_NOT_FOUND",
            AuditReason::NotInTree => "AUDIT_NOT_IN_TREE",
            AuditReason::ExportTooLarge => "AUDIT_EXPORT_TOO_LARGE",
            AuditReason::RpcUnimplemented => "AUDIT_RPC_UNIMPLEMENTED",
            AuditReason::InternalError => "AUDIT_INTERNAL_ERROR",
        }
    }

    pub fn code(self) -> Code {
        match self {
            AuditReason::CredentialsMissing | AuditReason::CredentialsInvalid => {
                Code::Unauthenticated
            }
            AuditReason::RangeInvalid | AuditReason::PaymentIdFormat => Code::InvalidArgument,
            AuditReason::CheckpointNotFound => Code::NotFound,
            AuditReason::NotInTree => Code::OutOfRange,
            AuditReason::ExportTooLarge => Code::ResourceExhausted,
            AuditReason::RpcUnimplemented => Code::Unimplemented,
            AuditReason::InternalError => Code::Internal,
        }
    }

    /// A status with an `ErrorInfo` (and `meta` as its metadata).
    pub fn status(self, message: impl Into<String>, meta: &[(&str, String)]) -> Status {
        let mut details = ErrorDetails::new();
        let metadata: HashMap<String, String> = meta
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        details.set_error_info(self.as_str(), DOMAIN, metadata);
        Status::with_error_details(self.code(), message, details)
    }

    /// INVALID_ARGUMENT naming `field`, with a `BadRequest` violation for it.
    pub fn invalid(self, field: &str, message: impl Into<String>) -> Status {
        let message = message.into();
        let mut details = ErrorDetails::new();
        details.set_error_info(
            self.as_str(),
            DOMAIN,
            HashMap::from([("field".to_owned(), field.to_owned())]),
        );
        details.set_bad_request(vec![FieldViolation {
            field: field.to_owned(),
            description: message.clone(),
            reason: self.as_str().to_owned(),
            localized_message: None,
        }]);
        Status::with_error_details(
            Code::InvalidArgument,
            format!("{field}: {message}"),
            details,
        )
    }
}

/// An internal fault: logged with its detail, reported without it.
pub fn internal(detail: impl std::fmt::Display) -> Status {
    tracing::error!(error = %detail, "Audit request failed inside the switch");
    AuditReason::InternalError.status(INTERNAL_MESSAGE, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = include_str!("../../../proto/kakehashi/v1/audit.proto");

    #[test]
    fn audit_proto_documents_every_reason_with_its_code_and_no_other() {
        let documented: Vec<(String, String)> = PROTO
            .lines()
            .take_while(|l| l.starts_with("//"))
            .filter_map(|l| {
                let mut words = l.trim_start_matches("//").split_whitespace();
                let reason = words.next()?;
                let code = words.next()?;
                reason
                    .starts_with("AUDIT_")
                    .then(|| (reason.to_owned(), code.to_owned()))
            })
            .collect();
        let ours: Vec<(String, String)> = AuditReason::ALL
            .iter()
            .map(|r| {
                let code = crate::api::reason::code_name(r.code());
                (r.as_str().to_owned(), code.to_owned())
            })
            .collect();
        assert_eq!(documented, ours);
    }
}
