//! Canonical outcomes: what an adapter tells the switch after speaking to its network.
//!
//! The rule every adapter follows: only a definite answer from the network becomes
//! `Succeeded` or `Declined`. A timeout, a 5xx, a garbled or unsigned reply, or a code the
//! adapter does not know becomes `Unknown`, and the switch will query and, at the deadline,
//! reverse. An unknown code never maps to success.
use rust_decimal::Decimal;

use crate::Money;

/// Why a payment or refund was refused, normalised across networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineReason {
    InsufficientFunds,
    CodeExpired,
    /// Not a code this network accepts, or already used.
    CodeInvalid,
    LimitExceeded,
    AccountRestricted,
    RiskRejected,
    CurrencyNotSupported,
    /// The merchant is not set up (or not allowed) at the network: an operator must act.
    MerchantNotEnabled,
    CustomerCancelled,
    PaymentExpired,
    DuplicateOrder,
    /// The network rejected the request as malformed: a bug or misconfiguration.
    InvalidRequest,
    /// Refund or reversal refused (window closed, amount exceeded, not refundable).
    RefundNotAllowed,
    /// The network failed in a way that is definitely final but not the customer's doing.
    NetworkError,
    /// The network proved it did not process the request because it does not offer the
    /// operation (unknown path, method not allowed, authentication refused before
    /// processing): a configuration or integration problem, final at once.
    NetworkUnsupported,
    Other,
}

// === impl DeclineReason ===

impl DeclineReason {
    pub const ALL: [DeclineReason; 16] = [
        Self::InsufficientFunds,
        Self::CodeExpired,
        Self::CodeInvalid,
        Self::LimitExceeded,
        Self::AccountRestricted,
        Self::RiskRejected,
        Self::CurrencyNotSupported,
        Self::MerchantNotEnabled,
        Self::CustomerCancelled,
        Self::PaymentExpired,
        Self::DuplicateOrder,
        Self::InvalidRequest,
        Self::RefundNotAllowed,
        Self::NetworkError,
        Self::NetworkUnsupported,
        Self::Other,
    ];

    /// Stable name stored in the database and shown in the demo.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Self::CodeExpired => "CODE_EXPIRED",
            Self::CodeInvalid => "CODE_INVALID",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::AccountRestricted => "ACCOUNT_RESTRICTED",
            Self::RiskRejected => "RISK_REJECTED",
            Self::CurrencyNotSupported => "CURRENCY_NOT_SUPPORTED",
            Self::MerchantNotEnabled => "MERCHANT_NOT_ENABLED",
            Self::CustomerCancelled => "CUSTOMER_CANCELLED",
            Self::PaymentExpired => "PAYMENT_EXPIRED",
            Self::DuplicateOrder => "DUPLICATE_ORDER",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::RefundNotAllowed => "REFUND_NOT_ALLOWED",
            Self::NetworkError => "NETWORK_ERROR",
            Self::NetworkUnsupported => "NETWORK_UNSUPPORTED",
            Self::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The amount the customer's wallet was charged in its own currency, when it differs from
/// the merchant's, and the rate the network applied, exactly as the network reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletAmount {
    pub amount: Money,
    /// Wallet-currency units per one merchant-currency unit (e.g. CNY per JPY).
    pub rate: Option<Decimal>,
}

/// A settlement quote a network attached to a payment (Alipay+ `settlementQuote`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementQuote {
    pub quote_id: String,
    /// e.g. "JPY/KRW", as the network wrote it.
    pub currency_pair: String,
    pub price: Decimal,
    pub settlement_amount: Option<Money>,
    pub expires_at_ms: Option<i64>,
}

/// What a successful payment carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    pub network_txn_id: String,
    /// Wallet brand that paid, where the network says (e.g. "KakaoPay").
    pub wallet_brand: Option<String>,
    pub wallet_amount: Option<WalletAmount>,
    pub settlement_quote: Option<SettlementQuote>,
}

/// Outcome of `pay` and `query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayOutcome {
    /// The network took the money. Final (until refunded).
    Succeeded(Paid),
    /// The customer must act in the wallet (PIN entry, scan the merchant QR); query again.
    AwaitingCustomer { network_txn_id: Option<String> },
    /// The network definitely refused; no money moved. Final.
    Declined {
        reason: DeclineReason,
        network_code: String,
    },
    /// Nobody knows yet: timeout, 5xx, garbled or unverifiable reply, unrecognised code,
    /// or "not found" from a query that may have raced the payment. Query again, reverse at
    /// the deadline. `detail` is for logs and must not contain secrets or full codes.
    Unknown { detail: String },
    /// A query found no record of the payment: the pay request never arrived (WeChat Pay
    /// `ORDERNOTEXIST`). Only adapters whose network is idempotent on the payment id answer
    /// this, so the switch may send the same pay again while it still holds the code.
    /// Otherwise it is handled as `Unknown`.
    NotReceived { detail: String },
}

/// Outcome of `reverse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReverseOutcome {
    /// Closed or returned in full; no money remains with the merchant. Final.
    Reversed,
    /// The network asks to reverse again (WeChat `recall=Y`, "order in payment") or did
    /// not answer clearly. The switch retries within its limits.
    Retry { detail: String },
    /// Too early to reverse (WeChat: not before 15 s after creation); retry at `not_before_ms`.
    TooEarly { not_before_ms: i64 },
    /// The network refuses to reverse (window closed, already refunded). Final for this
    /// attempt: an operator must look.
    Refused {
        network_code: String,
        detail: String,
    },
}

/// Outcome of `refund` and `query_refund`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Succeeded {
        network_refund_id: String,
    },
    /// Accepted, not yet done (PayPay, WeChat Pay refunds are asynchronous); query again.
    Pending {
        network_refund_id: Option<String>,
    },
    Declined {
        reason: DeclineReason,
        network_code: String,
    },
    Unknown {
        detail: String,
    },
    /// The network holds no such refund: the request never arrived, or the network turned it
    /// away for now with a rule that says "send it again under the same id later" (WeChat Pay
    /// cross-border `NOTENOUGH`). Where `Capabilities::refund_idempotent` is set the network
    /// keys refunds by our id, so the switch may re-send without refunding twice. Where it is
    /// not (LINE Pay: the adapter found no listed refund that can be this one), a re-send may
    /// refund again if an earlier send is still on its way, so the switch re-sends at most
    /// once, and only after its own earlier send has returned.
    NotTaken {
        detail: String,
    },
}

/// A merchant-presented QR the terminal shows to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantQr {
    /// What the terminal renders as a QR code (a URL or EMVCo payload).
    pub qr_payload: String,
    /// The network's id for the code, e.g. PayPay `codeId`.
    pub network_code_id: Option<String>,
    pub expires_at_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_reason_names_round_trip() {
        for reason in DeclineReason::ALL {
            assert_eq!(DeclineReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(DeclineReason::parse("nope"), None);
    }
}
