//! Why the orchestrator refused or could not finish a request. The API maps each variant to
//! one gRPC status and reason in one place (`api/status.rs`), so a variant carries what a
//! client needs to act on in fields, not only in its message. A decline is not an error:
//! it is a payment outcome.
use crate::domain::PaymentState;
use crate::routing::IdentifyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    #[error("no payment with merchant_order_id `{0}` for this merchant")]
    PaymentNotFound(String),
    #[error("merchant_order_id `{0}` was already used for a different request")]
    OrderIdReused(String),
    #[error("refund_id `{0}` was already used for a different refund")]
    RefundIdReused(String),
    #[error("idempotency_key `{0}` was already used for a different quote")]
    QuoteKeyReused(String),
    /// No network, or more than one, claims the code.
    #[error("code not accepted: {0}")]
    UnroutableCode(IdentifyError),
    #[error("merchant is not enabled for network `{0}`")]
    NetworkNotEnabled(String),
    #[error("unknown network `{0}`")]
    UnknownNetwork(String),
    #[error("{network} cannot take payments in {currency}")]
    CurrencyNotSupported { network: String, currency: String },
    /// The network does not offer the operation at all.
    #[error("{network} {operation}")]
    NotSupported {
        network: String,
        operation: Unsupported,
    },
    /// The payment's state does not allow the operation; `refusal` says what to do instead.
    #[error("payment is {state}: {refusal}")]
    WrongState {
        state: PaymentState,
        refusal: &'static str,
    },
    /// The payment's refunds (made, or in progress) do not allow the operation.
    #[error("{0}")]
    NotAllowed(String),
    /// The refund asks for more than remains refundable.
    #[error("{0}")]
    RefundExceeds(String),
    #[error("refund currency {refund} differs from the payment's {payment}")]
    RefundCurrency {
        refund: &'static str,
        payment: &'static str,
    },
    /// A compliance rule refused the payment; `detail` is the decision's reason, which
    /// never holds the code.
    #[error("refused by compliance rule {rule}: {detail} (logged as payment {payment_id})")]
    RuleRefused {
        rule: crate::routing::RuleId,
        detail: String,
        /// The id the refused decision is logged under in the audit log.
        payment_id: String,
    },
    /// The quote `Pay` named cannot price it.
    #[error("{0}")]
    Quote(super::quote::QuoteRefusal),
    /// `Quote` has no rate for the pair now (or the amount does not convert).
    #[error("{0}")]
    RateUnavailable(String),
    #[error("the switch is at capacity; retry shortly")]
    Busy,
    #[error("the record changed concurrently")]
    Conflict,
    #[error("storage failure: {0}")]
    Store(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// An operation a network may not offer; absent from its `NetworkProfile` capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    CustomerPresented,
    MerchantPresented,
    PartialRefund,
    MultipleRefunds,
}

// === impl Unsupported ===

impl Unsupported {
    /// Stable name, sent to clients as ErrorInfo metadata `operation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unsupported::CustomerPresented => "CUSTOMER_PRESENTED",
            Unsupported::MerchantPresented => "MERCHANT_PRESENTED",
            Unsupported::PartialRefund => "PARTIAL_REFUND",
            Unsupported::MultipleRefunds => "MULTIPLE_REFUNDS",
        }
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unsupported::CustomerPresented => "does not accept customer-presented codes",
            Unsupported::MerchantPresented => "does not offer merchant-presented QR codes",
            Unsupported::PartialRefund => "does not allow partial refunds",
            Unsupported::MultipleRefunds => "allows one refund per payment",
        })
    }
}
