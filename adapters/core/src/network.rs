//! The adapter contract: a network's profile and the operations the switch calls.
use std::time::Duration;

use async_trait::async_trait;
use iso_currency::Currency;

use crate::{
    AdapterError, CodePattern, MerchantQr, MerchantQrRequest, PayOutcome, PayRequest, QueryRequest,
    RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest,
};

/// What the switch must know about a network to route to it and drive its payments.
/// Capabilities live here, not in a central enum: routing refuses what a profile lacks.
#[derive(Debug, Clone)]
pub struct NetworkProfile {
    /// Stable id used in config, the store and replies, e.g. "linepay".
    pub id: String,
    pub display_name: String,
    /// Code-identification table rows; the switch's config may replace them.
    pub code_patterns: Vec<CodePattern>,
    /// Merchant-side currencies the network can price a payment in.
    pub currencies: Vec<Currency>,
    pub capabilities: Capabilities,
    pub timing: Timing,
    /// The network assigns each merchant its own id and cannot take a payment without it:
    /// the name of that id (WeChat Pay: `sub_mch_id`). The switch refuses to start while a
    /// merchant accepting this network has no `[merchants.network_ids] <network>` entry.
    pub merchant_id_required: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Charge a customer-presented code (`pay`).
    pub customer_presented: bool,
    /// Create a merchant-presented QR (`create_merchant_qr`).
    pub merchant_presented: bool,
    pub partial_refund: bool,
    /// More than one refund against one payment.
    pub multiple_refunds: bool,
    /// The network answers `query_refund` (refunds may come back `Pending`).
    pub refund_query: bool,
    /// Re-sending a refund under the same `refund_id` can never refund twice at this
    /// network: it keys refunds by our id (WeChat Pay `out_refund_no`, Alipay+
    /// `refundRequestId`, PayPay `merchantRefundId`). When false (LINE Pay, which has no
    /// refund id), every send may refund again, so the switch re-sends a refund at most
    /// once, and only after its own earlier send has returned and `query_refund` said
    /// `NotTaken`.
    pub refund_idempotent: bool,
}

/// The network's own timing rules, as its documentation states them. The switch derives
/// its polling and deadlines from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long after creation a payment may stay unresolved before the switch reverses
    /// it (WeChat Pay: 45 s, after which it auto-revokes anyway).
    pub payment_deadline: Duration,
    /// Wait before the first query after `AwaitingCustomer`/`Unknown` (WeChat Pay: 5 s).
    pub query_first_delay: Duration,
    /// Interval between later queries.
    pub query_interval: Duration,
    /// Earliest reversal after creation (WeChat Pay: 15 s).
    pub reverse_not_before: Duration,
    /// The longest one call to the network may take before the adapter gives up on it
    /// (connect plus read, the largest of its operations' timeouts). The switch keeps a
    /// payment's lease for at least this long while a call is open, and refuses a
    /// `payment_deadline` that could not wait for one whole call.
    pub call_timeout: Duration,
}

/// One wallet network, spoken to in its own protocol. Implementations must not panic on any
/// reply and must map every reply to a canonical outcome (see `outcome` for the rules).
/// Each call is bounded by the adapter's own request timeout.
#[async_trait]
pub trait WalletNetwork: Send + Sync + std::fmt::Debug {
    fn profile(&self) -> &NetworkProfile;

    /// Charge a customer-presented code. Safe to call again with the same `payment_id` only
    /// after a `query` said the network never saw it.
    async fn pay(&self, request: &PayRequest) -> PayOutcome;

    /// What became of the payment with this `payment_id`.
    async fn query(&self, request: &QueryRequest) -> PayOutcome;

    /// Close or return the payment in full. Idempotent: reversing a reversed payment is
    /// `Reversed`.
    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome;

    /// Refund an amount of a succeeded payment. Idempotent by `refund_id` where
    /// `capabilities.refund_idempotent` is set; otherwise every call may refund again.
    async fn refund(&self, request: &RefundRequest) -> RefundOutcome;

    /// What became of a refund. Only called when `capabilities.refund_query` is set.
    /// `NotTaken` means the network holds no such refund (see its doc for when the switch
    /// may send it again).
    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        let _ = request;
        RefundOutcome::Unknown {
            detail: format!("{} has no refund query", self.profile().id),
        }
    }

    /// Create a merchant-presented QR. Only called when `capabilities.merchant_presented`
    /// is set; its payment is then followed with `query`.
    async fn create_merchant_qr(
        &self,
        request: &MerchantQrRequest,
    ) -> Result<MerchantQr, AdapterError> {
        let _ = request;
        Err(AdapterError::Unsupported {
            network: self.profile().id.clone(),
            operation: "create_merchant_qr",
        })
    }
}
