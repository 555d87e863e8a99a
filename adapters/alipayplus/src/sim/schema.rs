//! The request shapes the simulated Alipay+ accepts, from the research file
//! (`alipayplus.md` §3.3, §4, §7): the keys each object may carry, spelt exactly (JSON keys
//! are case-sensitive: `merchantMCC`, never `merchantMcc`), no `""` value anywhere
//! ("optional fields are omitted or null, never empty"), and the store a user-presented
//! payment requires. Anything else is `PARAM_ILLEGAL` (F). Refusing an unknown key is the
//! simulator's reading of Alipay+'s parameter checks (an inference): a network that dropped
//! it silently would never see a misspelt merchant category, and neither would a test.
use super::Operation;

/// Nesting the empty-value check follows; a request deeper than this is refused.
const DEPTH_MAX: usize = 16;

/// The keys one object (at a dotted path from the body's root) may carry.
struct Shape {
    path: &'static str,
    keys: &'static [&'static str],
}

const AMOUNT: &[&str] = &["currency", "value"];

/// `pay` (§4): the SDK's `AlipayApsPayRequest` and its model classes.
const PAY: &[Shape] = &[
    Shape {
        path: "",
        keys: &[
            "paymentRequestId",
            "order",
            "paymentAmount",
            "paymentMethod",
            "paymentFactor",
            "paymentExpiryTime",
            "paymentNotifyUrl",
            "paymentRedirectUrl",
            "settlementStrategy",
            "allowedPspRegions",
            "userRegion",
        ],
    },
    Shape {
        path: "order",
        keys: &[
            "referenceOrderId",
            "orderDescription",
            "orderAmount",
            "merchant",
            "env",
            "goods",
            "buyer",
            "shipping",
        ],
    },
    Shape {
        path: "order.orderAmount",
        keys: AMOUNT,
    },
    Shape {
        path: "order.merchant",
        keys: &[
            "referenceMerchantId",
            "merchantMCC",
            "merchantName",
            "merchantDisplayName",
            "merchantAddress",
            "merchantRegisterDate",
            "store",
        ],
    },
    Shape {
        path: "order.merchant.store",
        keys: &[
            "referenceStoreId",
            "storeName",
            "storeMCC",
            "storeDisplayName",
            "storeTerminalId",
            "storeOperatorId",
            "storePhoneNo",
            "storeAddress",
        ],
    },
    Shape {
        path: "order.env",
        keys: &[
            "terminalType",
            "osType",
            "userAgent",
            "deviceTokenId",
            "clientIp",
            "storeTerminalId",
            "storeTerminalRequestTime",
            "cookieId",
        ],
    },
    Shape {
        path: "paymentAmount",
        keys: AMOUNT,
    },
    Shape {
        path: "paymentMethod",
        keys: &[
            "paymentMethodType",
            "paymentMethodId",
            "customerId",
            "paymentMethodMetaData",
        ],
    },
    Shape {
        path: "paymentFactor",
        keys: &[
            "isInStorePayment",
            "isCashierPayment",
            "presentmentMode",
            "inStorePaymentScenario",
        ],
    },
    Shape {
        path: "settlementStrategy",
        keys: &["settlementCurrency"],
    },
];

/// `inquiryPayment`, `cancelPayment` (§7).
const BY_ID: &[Shape] = &[Shape {
    path: "",
    keys: &["paymentRequestId", "paymentId"],
}];

/// `refund` (§7).
const REFUND: &[Shape] = &[
    Shape {
        path: "",
        keys: &[
            "refundRequestId",
            "paymentRequestId",
            "paymentId",
            "refundAmount",
            "refundReason",
        ],
    },
    Shape {
        path: "refundAmount",
        keys: AMOUNT,
    },
];

/// Why a body is `PARAM_ILLEGAL`, for the simulator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Illegal(pub String);

/// Checks a request body against its operation's shape.
pub fn check(operation: Operation, body: &[u8]) -> Result<(), Illegal> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Illegal("not JSON".into()))?;
    let shapes = match operation {
        Operation::Pay => PAY,
        Operation::Inquiry | Operation::Cancel => BY_ID,
        Operation::Refund => REFUND,
    };
    for shape in shapes {
        let Some(object) = at(&value, shape.path) else {
            continue;
        };
        let object = object
            .as_object()
            .ok_or_else(|| Illegal(format!("`{}` is not an object", shape.path)))?;
        if let Some(key) = object.keys().find(|k| !shape.keys.contains(&k.as_str())) {
            return Err(Illegal(format!(
                "unknown field `{key}` in `{}`",
                shape.path
            )));
        }
    }
    if operation == Operation::Pay && at(&value, "order.merchant.store").is_none() {
        return Err(Illegal(
            "a user-presented payment needs order.merchant.store".into(),
        ));
    }
    no_empty_strings(&value, 0)
}

/// The value at a dotted path (`""` is the root).
fn at<'v>(value: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn no_empty_strings(value: &serde_json::Value, depth: usize) -> Result<(), Illegal> {
    if depth > DEPTH_MAX {
        return Err(Illegal("nested too deeply".into()));
    }
    match value {
        serde_json::Value::String(s) if s.is_empty() => {
            Err(Illegal("an empty string: omit the field instead".into()))
        }
        serde_json::Value::Object(fields) => fields
            .values()
            .try_for_each(|v| no_empty_strings(v, depth + 1)),
        serde_json::Value::Array(items) => items
            .iter()
            .try_for_each(|v| no_empty_strings(v, depth + 1)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"paymentRequestId":"P1","order":{"referenceOrderId":"P1","orderAmount":{"currency":"JPY","value":"100"},"merchant":{"referenceMerchantId":"M","merchantMCC":"5812","store":{"referenceStoreId":"S","storeMCC":"5812"}}},"paymentAmount":{"currency":"JPY","value":"100"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"2810"},"paymentFactor":{"isInStorePayment":"true"},"settlementStrategy":{"settlementCurrency":"JPY"}}"#;

    #[test]
    fn the_documented_shape_passes_and_every_misspelling_is_refused() {
        assert_eq!(check(Operation::Pay, GOOD.as_bytes()), Ok(()));
        for (wrong, why) in [
            (
                GOOD.replace("merchantMCC", "merchantMcc"),
                "merchant category",
            ),
            (GOOD.replace("storeMCC", "storeMcc"), "store category"),
            (
                GOOD.replace("\"value\":\"100\"}", "\"value\":\"100\",\"x\":\"1\"}"),
                "amount",
            ),
            (
                GOOD.replace("\"referenceStoreId\":\"S\"", "\"referenceStoreId\":\"\""),
                "empty",
            ),
            (
                GOOD.replace(
                    ",\"store\":{\"referenceStoreId\":\"S\",\"storeMCC\":\"5812\"}",
                    "",
                ),
                "no store",
            ),
            (
                GOOD.replace("\"paymentFactor\":{", "\"paymentFactor\":{\"bogus\":\"1\","),
                "factor",
            ),
            ("[]".to_owned(), "not an object"),
        ] {
            assert!(check(Operation::Pay, wrong.as_bytes()).is_err(), "{why}");
        }
    }

    #[test]
    fn inquiry_cancel_and_refund_have_their_own_shapes() {
        assert_eq!(
            check(Operation::Inquiry, br#"{"paymentRequestId":"P1"}"#),
            Ok(())
        );
        assert!(check(Operation::Cancel, br#"{"paymentRequestID":"P1"}"#).is_err());
        let refund = r#"{"refundRequestId":"R1","paymentRequestId":"P1","refundAmount":{"currency":"JPY","value":"1"}}"#;
        assert_eq!(check(Operation::Refund, refund.as_bytes()), Ok(()));
        let reason = refund.replace("}}", "},\"refundReason\":\"\"}");
        assert!(check(Operation::Refund, reason.as_bytes()).is_err());
    }
}
