//! The stable, machine-readable reasons the acceptance API puts in `google.rpc.ErrorInfo`.
//!
//! Each reason belongs to one gRPC code, so a client may switch on the reason alone. The
//! strings are part of the API: documented in the header of acceptance.proto (a test keeps
//! the two lists equal), never renamed, only added to.
use tonic::Code;

use crate::routing::RuleId;

/// `ErrorInfo.domain` of every error the acceptance API returns.
pub const DOMAIN: &str = "kakehashi.v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    // INVALID_ARGUMENT: a field is wrong; BadRequest names each one.
    OrderIdFormat,
    RefundIdFormat,
    RefundIdReserved,
    AmountRequired,
    AmountFormat,
    AmountScale,
    AmountNotPositive,
    AmountTooLarge,
    CurrencyUnknown,
    CodeFormat,
    CodeUnroutable,
    CodeAmbiguous,
    TextFormat,
    NetworkUnknown,
    /// The request bytes are not a protobuf message of the RPC's request type.
    MessageMalformed,
    // RESOURCE_EXHAUSTED
    MessageTooLarge,
    // UNAUTHENTICATED
    ApiKeyMissing,
    ApiKeyInvalid,
    // PERMISSION_DENIED
    NetworkNotEnabled,
    /// Compliance rules (`routing::rules`), one reason per rule kind.
    RuleMerchantBlocked,
    RuleTerminalBlocked,
    RuleMerchantNetwork,
    RuleMcc,
    // NOT_FOUND
    PaymentNotFound,
    // ALREADY_EXISTS
    IdempotencyConflict,
    // FAILED_PRECONDITION: PreconditionFailure says what does not hold.
    CurrencyNotSupported,
    OperationNotSupported,
    PaymentState,
    RefundExceeds,
    RefundCurrencyMismatch,
    RuleCurrency,
    RuleNetworkLimit,
    RuleVelocityCode,
    RuleVelocityTerminal,
    // ABORTED
    ConcurrentUpdate,
    // UNAVAILABLE
    SwitchBusy,
    // UNIMPLEMENTED
    RpcUnimplemented,
    // INTERNAL
    ProtocolError,
    InternalError,
    // FX quotes (added later; listed last to keep the table's order).
    QuoteUnknown,
    QuoteExpired,
    QuoteMismatch,
    RateUnavailable,
    /// INVALID_ARGUMENT: Quote's key (added later; listed last).
    IdempotencyKeyFormat,
}

// === impl Reason ===

impl Reason {
    pub const ALL: [Reason; 44] = [
        Reason::OrderIdFormat,
        Reason::RefundIdFormat,
        Reason::RefundIdReserved,
        Reason::AmountRequired,
        Reason::AmountFormat,
        Reason::AmountScale,
        Reason::AmountNotPositive,
        Reason::AmountTooLarge,
        Reason::CurrencyUnknown,
        Reason::CodeFormat,
        Reason::CodeUnroutable,
        Reason::CodeAmbiguous,
        Reason::TextFormat,
        Reason::NetworkUnknown,
        Reason::MessageMalformed,
        Reason::MessageTooLarge,
        Reason::ApiKeyMissing,
        Reason::ApiKeyInvalid,
        Reason::NetworkNotEnabled,
        Reason::RuleMerchantBlocked,
        Reason::RuleTerminalBlocked,
        Reason::RuleMerchantNetwork,
        Reason::RuleMcc,
        Reason::PaymentNotFound,
        Reason::IdempotencyConflict,
        Reason::CurrencyNotSupported,
        Reason::OperationNotSupported,
        Reason::PaymentState,
        Reason::RefundExceeds,
        Reason::RefundCurrencyMismatch,
        Reason::RuleCurrency,
        Reason::RuleNetworkLimit,
        Reason::RuleVelocityCode,
        Reason::RuleVelocityTerminal,
        Reason::ConcurrentUpdate,
        Reason::SwitchBusy,
        Reason::RpcUnimplemented,
        Reason::ProtocolError,
        Reason::InternalError,
        Reason::QuoteUnknown,
        Reason::QuoteExpired,
        Reason::QuoteMismatch,
        Reason::RateUnavailable,
        Reason::IdempotencyKeyFormat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OrderIdFormat => "ORDER_ID_FORMAT",
            Reason::RefundIdFormat => "REFUND_ID_FORMAT",
            Reason::RefundIdReserved => "REFUND_ID_RESERVED",
            Reason::AmountRequired => "AMOUNT_REQUIRED",
            Reason::AmountFormat => "AMOUNT_FORMAT",
            Reason::AmountScale => "AMOUNT_SCALE",
            Reason::AmountNotPositive => "AMOUNT_NOT_POSITIVE",
            Reason::AmountTooLarge => "AMOUNT_TOO_LARGE",
            Reason::CurrencyUnknown => "CURRENCY_UNKNOWN",
            Reason::CodeFormat => "CODE_FORMAT",
            Reason::CodeUnroutable => "CODE_UNROUTABLE",
            Reason::CodeAmbiguous => "CODE_AMBIGUOUS",
            Reason::TextFormat => "TEXT_FORMAT",
            Reason::NetworkUnknown => "NETWORK_UNKNOWN",
            Reason::MessageMalformed => "MESSAGE_MALFORMED",
            Reason::MessageTooLarge => "MESSAGE_TOO_LARGE",
            Reason::ApiKeyMissing => "API_KEY_MISSING",
            Reason::ApiKeyInvalid => "API_KEY_INVALID",
            Reason::NetworkNotEnabled => "NETWORK_NOT_ENABLED",
            Reason::RuleMerchantBlocked => "RULE_MERCHANT_BLOCKED",
            Reason::RuleTerminalBlocked => "RULE_TERMINAL_BLOCKED",
            Reason::RuleMerchantNetwork => "RULE_MERCHANT_NETWORK",
            Reason::RuleMcc => "RULE_MCC",
            Reason::PaymentNotFound => "PAYMENT_NOT_FOUND",
            Reason::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            Reason::CurrencyNotSupported => "CURRENCY_NOT_SUPPORTED",
            Reason::OperationNotSupported => "OPERATION_NOT_SUPPORTED",
            Reason::PaymentState => "PAYMENT_STATE",
            Reason::RefundExceeds => "REFUND_EXCEEDS",
            Reason::RefundCurrencyMismatch => "REFUND_CURRENCY_MISMATCH",
            Reason::RuleCurrency => "RULE_CURRENCY",
            Reason::RuleNetworkLimit => "RULE_NETWORK_LIMIT",
            Reason::RuleVelocityCode => "RULE_VELOCITY_CODE",
            Reason::RuleVelocityTerminal => "RULE_VELOCITY_TERMINAL",
            Reason::ConcurrentUpdate => "CONCURRENT_UPDATE",
            Reason::SwitchBusy => "SWITCH_BUSY",
            Reason::RpcUnimplemented => "RPC_UNIMPLEMENTED",
            Reason::ProtocolError => "PROTOCOL_ERROR",
            Reason::InternalError => "INTERNAL_ERROR",
            Reason::QuoteUnknown => "QUOTE_UNKNOWN",
            Reason::QuoteExpired => "QUOTE_EXPIRED",
            Reason::QuoteMismatch => "QUOTE_MISMATCH",
            Reason::RateUnavailable => "RATE_UNAVAILABLE",
            Reason::IdempotencyKeyFormat => "IDEMPOTENCY_KEY_FORMAT",
        }
    }

    /// The one gRPC code this reason is sent with.
    pub fn code(self) -> Code {
        use Reason as R;
        match self {
            R::OrderIdFormat
            | R::RefundIdFormat
            | R::RefundIdReserved
            | R::AmountRequired
            | R::AmountFormat
            | R::AmountScale
            | R::AmountNotPositive
            | R::AmountTooLarge
            | R::CurrencyUnknown
            | R::CodeFormat
            | R::CodeUnroutable
            | R::CodeAmbiguous
            | R::TextFormat
            | R::NetworkUnknown
            | R::MessageMalformed
            | R::QuoteUnknown
            | R::IdempotencyKeyFormat => Code::InvalidArgument,
            R::MessageTooLarge => Code::ResourceExhausted,
            R::ApiKeyMissing | R::ApiKeyInvalid => Code::Unauthenticated,
            R::NetworkNotEnabled
            | R::RuleMerchantBlocked
            | R::RuleTerminalBlocked
            | R::RuleMerchantNetwork
            | R::RuleMcc => Code::PermissionDenied,
            R::PaymentNotFound => Code::NotFound,
            R::IdempotencyConflict => Code::AlreadyExists,
            R::CurrencyNotSupported
            | R::OperationNotSupported
            | R::PaymentState
            | R::RefundExceeds
            | R::RefundCurrencyMismatch
            | R::RuleCurrency
            | R::RuleNetworkLimit
            | R::RuleVelocityCode
            | R::RuleVelocityTerminal
            | R::QuoteExpired
            | R::QuoteMismatch
            | R::RateUnavailable => Code::FailedPrecondition,
            R::ConcurrentUpdate => Code::Aborted,
            R::SwitchBusy => Code::Unavailable,
            R::RpcUnimplemented => Code::Unimplemented,
            R::ProtocolError | R::InternalError => Code::Internal,
        }
    }
}

/// The reason a refusal by `rule` is sent with.
pub fn rule_reason(rule: RuleId) -> Reason {
    match rule {
        RuleId::MerchantBlocked => Reason::RuleMerchantBlocked,
        RuleId::TerminalBlocked => Reason::RuleTerminalBlocked,
        RuleId::MerchantNetwork => Reason::RuleMerchantNetwork,
        RuleId::Currency => Reason::RuleCurrency,
        RuleId::NetworkLimit => Reason::RuleNetworkLimit,
        RuleId::Mcc => Reason::RuleMcc,
        RuleId::VelocityCode => Reason::RuleVelocityCode,
        RuleId::VelocityTerminal => Reason::RuleVelocityTerminal,
    }
}

/// gRPC's canonical name of a code, as clients print it ("NOT_FOUND").
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

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = include_str!("../../proto/kakehashi/v1/acceptance.proto");

    /// The reason rows of the proto's error table: `//   REASON   CODE   meaning`.
    fn documented() -> Vec<(String, String)> {
        PROTO
            .lines()
            .take_while(|line| line.starts_with("//"))
            .filter_map(|line| {
                let mut words = line.trim_start_matches("//").split_whitespace();
                let reason = words.next()?;
                let code = words.next()?;
                let is_reason = reason.len() > 3
                    && reason.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                    && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
                is_reason.then(|| (reason.to_owned(), code.to_owned()))
            })
            .collect()
    }

    #[test]
    fn the_proto_documents_every_reason_with_its_code_and_no_other() {
        let documented = documented();
        let ours: Vec<(String, String)> = Reason::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), code_name(r.code()).to_owned()))
            .collect();
        assert_eq!(documented, ours, "acceptance.proto's reason table differs");
    }
}
