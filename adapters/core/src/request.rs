//! Canonical requests the switch sends to an adapter. The adapter turns them into its
//! network's wire format; they carry everything a network needs and nothing about the store.
use crate::{Money, PaymentCode};

/// The merchant as a network knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRef {
    /// The switch's merchant id.
    pub merchant_id: String,
    /// The merchant's id at this network, where the network assigns one per merchant
    /// (WeChat Pay `sub_mch_id`, Alipay+ `referenceMerchantId`); from the switch config.
    pub network_merchant_id: Option<String>,
    pub name: String,
    /// ISO 18245 merchant category code, e.g. "5812".
    pub category_code: String,
    pub store_id: String,
    pub terminal_id: String,
}

/// Charge a customer-presented code.
#[derive(Debug, Clone)]
pub struct PayRequest {
    /// The switch's payment id: unique, at most 32 characters of `[A-Za-z0-9]`, so every
    /// network accepts it as its merchant order number. Retrying with the same id is safe.
    pub payment_id: String,
    pub merchant: MerchantRef,
    pub amount: Money,
    pub code: PaymentCode,
    pub description: String,
    /// When the switch accepted the payment (Unix ms).
    pub created_at_ms: i64,
}

/// Ask the network what became of a payment.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub payment_id: String,
    pub merchant: MerchantRef,
    pub amount: Money,
    /// The network's transaction id where one is known.
    pub network_txn_id: Option<String>,
    pub created_at_ms: i64,
}

/// Undo a payment whose outcome is unknown or that must be voided: an unpaid order is
/// closed, a paid one is returned in full.
#[derive(Debug, Clone)]
pub struct ReverseRequest {
    pub payment_id: String,
    pub merchant: MerchantRef,
    pub amount: Money,
    pub network_txn_id: Option<String>,
    pub created_at_ms: i64,
}

/// Return part or all of a succeeded payment.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub payment_id: String,
    /// The switch's refund id: unique, at most 32 characters of `[A-Za-z0-9]`; the
    /// network's idempotency key for the refund where it has one.
    pub refund_id: String,
    pub merchant: MerchantRef,
    /// The payment's full amount.
    pub payment_amount: Money,
    /// This refund's amount; `<= payment_amount` minus earlier refunds (the switch checks).
    pub amount: Money,
    pub network_txn_id: Option<String>,
    pub reason: String,
    /// The network refund ids of this payment's other refunds that the switch has already
    /// recorded as succeeded. A network that lists a payment's refunds without our
    /// `refund_id` (LINE Pay Payment details) needs them to tell which listed refund is
    /// this one; adapters whose network keys refunds by `refund_id` ignore them.
    pub known_network_refund_ids: Vec<String>,
}

/// Create a merchant-presented QR for an amount (MPM).
#[derive(Debug, Clone)]
pub struct MerchantQrRequest {
    pub payment_id: String,
    pub merchant: MerchantRef,
    pub amount: Money,
    pub description: String,
    pub created_at_ms: i64,
    /// When the QR must stop being payable (Unix ms).
    pub expires_at_ms: i64,
}
