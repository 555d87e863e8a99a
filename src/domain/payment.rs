//! The records the store keeps for a payment and its refunds. They hold parsed domain types
//! only; the store converts them to columns and back, checking them again on load.
use kakehashi_adapter_core::{DeclineReason, Money, Paid, SettlementQuote, WalletAmount};

use super::{ClientKey, PaymentState};

/// How the customer presented the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    /// The cashier scanned the customer's code.
    CustomerPresented,
    /// The customer scanned a QR the terminal showed.
    MerchantPresented,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerPresented => "CPM",
            Self::MerchantPresented => "MPM",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CPM" => Some(Self::CustomerPresented),
            "MPM" => Some(Self::MerchantPresented),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment_id: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub merchant_order_id: ClientKey,
    /// SHA-256 of the request's content, to tell a replay from a conflicting reuse of the key.
    pub request_hash: String,
    pub kind: PaymentKind,
    pub amount: Money,
    pub description: String,
    pub code_masked: String,
    pub network: String,
    pub state: PaymentState,
    pub wallet_brand: Option<String>,
    pub decline_reason: Option<DeclineReason>,
    pub network_code: Option<String>,
    pub network_txn_id: Option<String>,
    pub wallet_amount: Option<WalletAmount>,
    pub settlement_quote: Option<SettlementQuote>,
    pub qr_payload: Option<String>,
    /// The switch's FX quote `Pay` named (`fx_quotes`), fixed when the payment is stored.
    pub fx_quote_id: Option<String>,
    /// Sum of succeeded refunds, in minor units of `amount`.
    pub refunded_minor: i64,
    /// Sum of refunds sent but not yet answered: reserved so concurrent refunds can never
    /// exceed the captured amount.
    pub refund_reserved_minor: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// When an unresolved payment must be reversed.
    pub deadline_at_ms: i64,
    pub reverse_attempts: i64,
    /// Optimistic-concurrency version; every stored change increments it.
    pub version: i64,
}

// === impl PaymentRecord ===

impl PaymentRecord {
    /// Applies a network's success to the record (not the state: that goes through the
    /// state machine in the store's transition).
    pub fn record_paid(&mut self, paid: &Paid) {
        self.network_txn_id = Some(paid.network_txn_id.clone());
        if paid.wallet_brand.is_some() {
            self.wallet_brand.clone_from(&paid.wallet_brand);
        }
        self.wallet_amount.clone_from(&paid.wallet_amount);
        self.settlement_quote.clone_from(&paid.settlement_quote);
    }

    /// What may still be refunded, in minor units.
    pub fn refundable_minor(&self) -> i64 {
        self.amount.minor() - self.refunded_minor - self.refund_reserved_minor
    }
}

/// One state change, kept forever beside the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub seq: i64,
    pub from: Option<PaymentState>,
    pub to: PaymentState,
    /// Why: the network's code or the switch's reason, never a secret or a full code.
    pub detail: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Pending,
    Succeeded,
    Declined,
}

impl RefundState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Declined => "DECLINED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(Self::Pending),
            "SUCCEEDED" => Some(Self::Succeeded),
            "DECLINED" => Some(Self::Declined),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// The switch's id, sent to the network.
    pub refund_id: String,
    pub merchant_id: String,
    /// The terminal's idempotency key.
    pub merchant_refund_id: ClientKey,
    pub payment_id: String,
    pub request_hash: String,
    pub amount: Money,
    pub reason: String,
    pub state: RefundState,
    pub network_refund_id: Option<String>,
    pub decline_reason: Option<DeclineReason>,
    pub network_code: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// How often the refund was sent to the network, counted before each send: where the
    /// network has no refund id, this bounds the re-sends across restarts.
    pub send_count: i64,
}

// === impl RefundRecord ===

impl RefundRecord {
    /// A new refund, pending until the network answers; `refund_id` is the switch's own.
    pub fn pending(
        payment: &PaymentRecord,
        merchant_refund_id: ClientKey,
        request_hash: String,
        amount: Money,
        reason: String,
        now_ms: i64,
    ) -> Self {
        Self {
            refund_id: super::new_id("ref"),
            merchant_id: payment.merchant_id.clone(),
            merchant_refund_id,
            payment_id: payment.payment_id.clone(),
            request_hash,
            amount,
            reason,
            state: RefundState::Pending,
            network_refund_id: None,
            decline_reason: None,
            network_code: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            send_count: 0,
        }
    }
}
