//! The one table from a failed call to what it tells the switch. A gRPC error is never a
//! success; it is a definite refusal only where wallet_network.proto says the partner
//! processed nothing (INVALID_ARGUMENT, ALREADY_EXISTS, UNIMPLEMENTED, UNAUTHENTICATED,
//! PERMISSION_DENIED). Everything else, and any reply that does not decode or comes too
//! late, is "no answer": the switch queries and, at the deadline, reverses.
use std::time::Duration;

use tonic::Code;

use crate::limits::DETAIL_CHARS_MAX;

/// A call that produced no usable reply.
#[derive(Debug)]
pub enum CallFailure {
    /// The call's deadline passed before a reply.
    Timeout(Duration),
    /// The partner, the transport or tonic answered with a status.
    Status(tonic::Status),
    /// A reply arrived and decoded, but breaks the proto's rules (no outcome, bad money).
    Garbled(String),
}

/// What a failure means for the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The partner may or may not have acted.
    NoAnswer,
    /// The partner does not offer the RPC or refused us before processing: configuration.
    Unsupported,
    /// The partner refused the request as malformed; nothing was processed.
    Invalid,
    /// The idempotency key was used with other content; nothing was processed.
    Duplicate,
}

/// Every gRPC code, no wildcard: a code added to tonic must be placed here on purpose.
pub fn verdict(code: Code) -> Verdict {
    match code {
        Code::InvalidArgument => Verdict::Invalid,
        Code::AlreadyExists => Verdict::Duplicate,
        Code::Unimplemented | Code::Unauthenticated | Code::PermissionDenied => {
            Verdict::Unsupported
        }
        // A partner that crashed mid-call, a proxy, a reset, a reply over our size limit
        // (OUT_OF_RANGE from the decoder), a reply that does not decode (INTERNAL): any of
        // them may follow money moving.
        Code::Ok
        | Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::NotFound
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::OutOfRange
        | Code::Internal
        | Code::Unavailable
        | Code::DataLoss => Verdict::NoAnswer,
    }
}

// === impl CallFailure ===

impl CallFailure {
    pub fn verdict(&self) -> Verdict {
        match self {
            Self::Timeout(_) | Self::Garbled(_) => Verdict::NoAnswer,
            Self::Status(status) => verdict(status.code()),
        }
    }

    /// The network code the switch records for a refusal, e.g. `GRPC_INVALID_ARGUMENT`.
    pub fn network_code(&self) -> String {
        match self {
            Self::Timeout(_) => "TIMEOUT".into(),
            Self::Garbled(_) => "GARBLED".into(),
            Self::Status(status) => format!("GRPC_{}", code_name(status.code())),
        }
    }

    /// For logs: what failed, never a full code or a secret.
    pub fn detail(&self, operation: &str) -> String {
        match self {
            Self::Timeout(after) => {
                format!("{operation}: no reply within {} ms", after.as_millis())
            }
            Self::Garbled(why) => format!("{operation}: garbled reply: {}", sanitize(why)),
            Self::Status(status) => format!(
                "{operation}: {} {}",
                code_name(status.code()),
                sanitize(status.message())
            ),
        }
    }
}

/// `INVALID_ARGUMENT` for `Code::InvalidArgument`, as gRPC names codes.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A partner's text made fit for our logs: control characters dropped, any run of 8 or more
/// digits (it could be a payment code echoed back) masked to its last 4, and bounded.
pub fn sanitize(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 8 {
            out.push_str(&kakehashi_adapter_core::mask(digits));
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars().take(DETAIL_CHARS_MAX * 2) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        if !c.is_control() {
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out.chars().take(DETAIL_CHARS_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_refusals_are_definite() {
        assert_eq!(verdict(Code::InvalidArgument), Verdict::Invalid);
        assert_eq!(verdict(Code::AlreadyExists), Verdict::Duplicate);
        for code in [
            Code::Unimplemented,
            Code::Unauthenticated,
            Code::PermissionDenied,
        ] {
            assert_eq!(verdict(code), Verdict::Unsupported, "{code:?}");
        }
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Internal,
            Code::Unknown,
            Code::NotFound,
            Code::OutOfRange,
            Code::FailedPrecondition,
        ] {
            assert_eq!(verdict(code), Verdict::NoAnswer, "{code:?}");
        }
    }

    #[test]
    fn an_echoed_code_is_masked_in_details() {
        let clean = sanitize("code 93123456789012345678 refused\n");
        assert_eq!(clean, "code ••••5678 refused");
        assert_eq!(sanitize("order 1234567 ok"), "order 1234567 ok");
        assert!(sanitize(&"x".repeat(1000)).chars().count() <= DETAIL_CHARS_MAX);
    }
}
