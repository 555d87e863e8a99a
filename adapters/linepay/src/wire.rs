//! LINE Pay's JSON exactly as it travels (LINE Pay's spelling). Amounts are JSON numbers on
//! the wire; they are written and read as raw number text so no float ever touches them.
//! `transactionId` is a 19-digit number, beyond f64's exact range: read as u64.
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub const PAY_PATH: &str = "/v4/payments/oneTimeKeys/pay";

pub fn check_path(order_id: &str) -> String {
    format!(
        "/v4/payments/orders/{}/check",
        encode_path_segment(order_id)
    )
}

pub fn void_path(order_id: &str) -> String {
    format!("/v4/payments/orders/{}/void", encode_path_segment(order_id))
}

pub fn refund_path(order_id: &str) -> String {
    format!(
        "/v4/payments/orders/{}/refund",
        encode_path_segment(order_id)
    )
}

/// Percent-encodes an orderId for the path ("Apply URL encoding"): unreserved characters
/// pass, everything else is `%XX`.
pub fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest {
    pub amount: Box<RawValue>,
    pub currency: String,
    pub one_time_key: String,
    pub order_id: String,
    pub packages: Vec<Package>,
    pub options: PayOptions,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub id: String,
    pub amount: Box<RawValue>,
    pub products: Vec<Product>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub name: String,
    pub quantity: u32,
    pub price: Box<RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PayOptions {
    pub payment: PaymentOptions,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOptions {
    pub capture: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refund_amount: Option<Box<RawValue>>,
}

/// The envelope of every reply. Business errors arrive as HTTP 200 with a non-"0000" code
/// and no `info`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub return_code: String,
    pub return_message: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub info: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayInfo {
    pub order_id: String,
    pub transaction_id: u64,
    pub transaction_date: String,
    pub pay_info: Vec<PayMethod>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PayMethod {
    pub method: String,
    pub amount: Box<RawValue>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInfo {
    /// `COMPLETE`, `FAIL` or `REFUND`.
    pub status: String,
    #[serde(default)]
    pub transaction_id: Option<u64>,
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub pay_info: Vec<PayMethod>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundInfo {
    pub refund_transaction_id: u64,
    pub refund_transaction_date: String,
}

/// Raw JSON number text for a decimal, e.g. `1200` or `12.50`.
pub fn number(value: &rust_decimal::Decimal) -> Box<RawValue> {
    // A Decimal's Display is always a valid JSON number.
    RawValue::from_string(value.normalize().to_string()).expect("a decimal is a JSON number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_are_encoded_in_paths() {
        assert_eq!(
            check_path("ORDER-0001"),
            "/v4/payments/orders/ORDER-0001/check"
        );
        assert_eq!(encode_path_segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn a_19_digit_transaction_id_survives() {
        let json = r#"{"orderId":"o","transactionId":2019010112345678910,"transactionDate":"2019-01-01T01:01:00Z","payInfo":[{"method":"BALANCE","amount":100}]}"#;
        let info: PayInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.transaction_id, 2019010112345678910);
        assert_eq!(info.pay_info[0].amount.get(), "100");
    }
}
