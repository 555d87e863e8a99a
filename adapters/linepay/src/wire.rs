//! LINE Pay's JSON exactly as it travels (LINE Pay's spelling). Amounts are JSON numbers on
//! the wire; they are written and read as raw number text so no float ever touches them.
//! `transactionId` is a 19-digit number, beyond f64's exact range: read as u64.
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub const PAY_PATH: &str = "/v4/payments/oneTimeKeys/pay";
/// Payment details: `GET /v4/payments?orderId=…` (or `transactionId=…`), the payment with
/// its `refundList`.
pub const DETAILS_PATH: &str = "/v4/payments";
/// Refunds one Payment details answer may list before the adapter stops trusting it
/// (its body is capped at `RESPONSE_BYTES_MAX` anyway).
pub const REFUNDS_LISTED_MAX: usize = 1_000;

/// The Payment details query for an order, without `?` (as it is signed).
pub fn details_query(order_id: &str) -> String {
    format!("orderId={}", encode_path_segment(order_id))
}

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

/// Reverses [`encode_path_segment`] for one query component (`+` is a space, as in a form).
/// `None` for a malformed escape or bytes that are not UTF-8.
pub fn decode_component(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            other => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8(out).ok()
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
    /// The merchant's branch (store); sent only when the terminal's store is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<PayExtra>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayExtra {
    /// The store the paying terminal belongs to. `branchName` is not sent: the switch knows
    /// the store's id, not its name.
    pub branch_id: String,
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

/// One payment in a Payment details answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    pub transaction_id: TransactionId,
    pub order_id: String,
    /// `PAYMENT` for the payment itself.
    #[serde(default)]
    pub transaction_type: String,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub transaction_date: String,
    pub currency: String,
    #[serde(default)]
    pub pay_info: Vec<PayMethod>,
    /// Absent or empty when nothing was refunded.
    #[serde(default)]
    pub refund_list: Vec<ListedRefund>,
}

/// A refund as Payment details lists it. LINE Pay has no merchant refund id: a refund is
/// known by LINE Pay's `refundTransactionId` and its amount only.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedRefund {
    pub refund_transaction_id: TransactionId,
    /// `PAYMENT_REFUND` (full) or `PARTIAL_REFUND`.
    #[serde(default)]
    pub transaction_type: String,
    /// Recorded negative (`-200` for a refund of 200), as LINE Pay's examples show it.
    pub refund_amount: Box<RawValue>,
    /// ISO 8601 UTC, e.g. `2026-08-13T10:00:00Z`.
    pub refund_transaction_date: String,
}

/// LINE Pay's 19-digit ids (`transactionId`, `refundTransactionId`): beyond f64's exact
/// range, so read from a JSON number as u64 or from a string of digits (some answers quote
/// them), never through f64. Written as a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TransactionId(pub u64);

impl<'de> Deserialize<'de> for TransactionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Digits)
    }
}

/// Reads a [`TransactionId`]; a float or a negative number is refused.
struct Digits;

impl serde::de::Visitor<'_> for Digits {
    type Value = TransactionId;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a transaction id: an integer or a string of digits")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TransactionId, E> {
        Ok(TransactionId(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TransactionId, E> {
        u64::try_from(v)
            .map(TransactionId)
            .map_err(|_| E::custom("negative transaction id"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TransactionId, E> {
        if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom("transaction id is not digits"));
        }
        v.parse().map(TransactionId).map_err(E::custom)
    }
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
    fn query_components_round_trip() {
        for order in ["ORDER-0001", "a b/c&d=e", "注文1"] {
            let encoded = encode_path_segment(order);
            assert_eq!(decode_component(&encoded).as_deref(), Some(order));
        }
        assert_eq!(details_query("A B"), "orderId=A%20B");
        assert_eq!(decode_component("a+b").as_deref(), Some("a b"));
        assert_eq!(decode_component("%4"), None);
        assert_eq!(decode_component("%zz"), None);
        assert_eq!(decode_component("%FF"), None);
    }

    #[test]
    fn listed_refund_ids_are_read_as_numbers_or_digit_strings_never_floats() {
        let json = r#"[{"refundTransactionId":2026081402375151711,"refundAmount":-40,"refundTransactionDate":"2026-08-13T10:00:00Z"},
            {"refundTransactionId":"2021121600698710312","transactionType":"PARTIAL_REFUND","refundAmount":-20,"refundTransactionDate":"2021-12-16T00:50:15Z"}]"#;
        let listed: Vec<ListedRefund> = serde_json::from_str(json).unwrap();
        assert_eq!(
            listed[0].refund_transaction_id,
            TransactionId(2026081402375151711)
        );
        assert_eq!(
            listed[1].refund_transaction_id,
            TransactionId(2021121600698710312)
        );
        assert_eq!(listed[0].refund_amount.get(), "-40");
        for bad in ["2.026e18", r#""12a""#, "-5", r#""""#] {
            let json = format!(
                r#"{{"refundTransactionId":{bad},"refundAmount":-1,"refundTransactionDate":"x"}}"#
            );
            assert!(
                serde_json::from_str::<ListedRefund>(&json).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_19_digit_transaction_id_survives() {
        let json = r#"{"orderId":"o","transactionId":2019010112345678910,"transactionDate":"2019-01-01T01:01:00Z","payInfo":[{"method":"BALANCE","amount":100}]}"#;
        let info: PayInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.transaction_id, 2019010112345678910);
        assert_eq!(info.pay_info[0].amount.get(), "100");
    }
}
