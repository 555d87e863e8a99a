//! PayPay's JSON as it travels (PayPay's spelling). Amounts are JPY integers.
use serde::{Deserialize, Serialize};

pub const CODES_PATH: &str = "/v2/codes";
pub const REFUNDS_PATH: &str = "/v2/refunds";
/// **Kakehashi extension, not part of PayPay's API**: charge a customer-presented code.
pub const EXT_SCAN_PATH: &str = "/kakehashi-extension/v2/payments/scan";

pub fn qr_payment_path(merchant_payment_id: &str) -> String {
    format!("/v2/codes/payments/{merchant_payment_id}")
}

pub fn payment_path(merchant_payment_id: &str) -> String {
    format!("/v2/payments/{merchant_payment_id}")
}

pub fn code_path(code_id: &str) -> String {
    format!("/v2/codes/{code_id}")
}

/// Get refund details. The newer documentation requires PayPay's `paymentId` as a query
/// parameter; the signature covers the path only.
pub fn refund_path(merchant_refund_id: &str, payment_id: &str) -> String {
    format!("/v2/refunds/{merchant_refund_id}?paymentId={payment_id}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyAmount {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultInfo {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub code_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub result_info: ResultInfo,
    #[serde(default = "none")]
    pub data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQrRequest {
    pub merchant_payment_id: String,
    pub amount: MoneyAmount,
    pub code_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub order_description: String,
    #[serde(default)]
    pub is_authorization: bool,
    pub requested_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrData {
    pub code_id: String,
    pub url: String,
    pub deeplink: String,
    /// Epoch seconds.
    pub expiry_date: i64,
    pub merchant_payment_id: String,
    pub amount: MoneyAmount,
}

/// **Kakehashi extension**: the `/v2/payments` shape with the scanned customer code where
/// PayPay's Native Payment has `userAuthorizationId`; its optional `storeId` and
/// `terminalId` as `/v2/payments` has them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtScanRequest {
    pub merchant_payment_id: String,
    pub kakehashi_customer_code: String,
    pub amount: MoneyAmount,
    pub requested_at: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub order_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentData {
    #[serde(default)]
    pub payment_id: Option<String>,
    /// CREATED, AUTHORIZED, COMPLETED, REFUNDED, FAILED, CANCELED, EXPIRED.
    pub status: String,
    pub merchant_payment_id: String,
    pub amount: MoneyAmount,
    #[serde(default)]
    pub accepted_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    pub merchant_refund_id: String,
    pub payment_id: String,
    pub amount: MoneyAmount,
    pub requested_at: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundData {
    /// CREATED, REFUNDED, FAILED.
    pub status: String,
    pub merchant_refund_id: String,
    pub payment_id: String,
    pub amount: MoneyAmount,
    #[serde(default)]
    pub refund_id: Option<String>,
}
