//! Alipay+ JSON as it travels: camelCase (but `merchantMCC`, `storeMCC`), every value a
//! string, amounts in minor units. Optional fields are omitted, never `""`, as Alipay+ asks.
use serde::{Deserialize, Serialize};

pub const PAY_PATH: &str = "/aps/api/v1/payments/pay";
pub const INQUIRY_PATH: &str = "/aps/api/v1/payments/inquiryPayment";
pub const CANCEL_PATH: &str = "/aps/api/v1/payments/cancelPayment";
pub const REFUND_PATH: &str = "/aps/api/v1/payments/refund";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub currency: String,
    /// Minor units as a string: `"1200"` is JPY 1,200, `"5736"` is CNY 57.36.
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultInfo {
    pub result_code: String,
    /// S, F or U.
    pub result_status: String,
    #[serde(default)]
    pub result_message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub quote_id: String,
    pub quote_currency_pair: String,
    pub quote_price: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_expiry_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_currency: Option<String>,
}

/// `order.merchant`. Alipay+ spells the category `merchantMCC`: JSON keys are
/// case-sensitive, and `rename_all = "camelCase"` alone would write `merchantMcc`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merchant {
    pub reference_merchant_id: String,
    #[serde(
        rename = "merchantMCC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub merchant_mcc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    /// Required for a user-presented (UPM) payment.
    pub store: Store,
}

/// `order.merchant.store`: the store the paying terminal belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_store_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
    #[serde(rename = "storeMCC", default, skip_serializing_if = "Option::is_none")]
    pub store_mcc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_terminal_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub reference_order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_description: Option<String>,
    pub order_amount: Amount,
    pub merchant: Merchant,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    pub payment_method_type: String,
    /// For user-presented mode: the scanned code.
    pub payment_method_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFactor {
    pub is_in_store_payment: String,
    pub in_store_payment_scenario: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementStrategy {
    pub settlement_currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest {
    pub payment_request_id: String,
    pub order: Order,
    pub payment_amount: Amount,
    pub payment_method: PaymentMethod,
    pub payment_factor: PaymentFactor,
    pub settlement_strategy: SettlementStrategy,
}

/// `pay`, `inquiryPayment`, `cancelPayment` and `refund` replies, as one type since they
/// share their fields. Settlement (`settlementAmount`, `settlementQuote`) comes in inquiry
/// and refund replies, not in `pay`'s.
///
/// `customerPayAmount` and `paymentQuote` are NOT in Alipay+'s published acquirer replies:
/// Alipay+ tells the wallet, not the acquirer, what the customer paid in the wallet's
/// currency. Our simulator sends them (a labelled assumption, like a partner that shares
/// them) so the demo can show wallet-side amounts; against the real network they are absent
/// and the payment simply carries no wallet-side amount.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReply {
    pub result: Option<ResultInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_result: Option<ResultInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_brand_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_pay_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_quote: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_quote: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Amount>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ByRequestId {
    pub payment_request_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    pub refund_request_id: String,
    pub payment_request_id: String,
    pub refund_amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
}
