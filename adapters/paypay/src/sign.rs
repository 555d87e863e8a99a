//! `Authorization: hmac OPA-Auth:{apiKey}:{mac}:{nonce}:{epoch}:{hash}`:
//! hash = Base64(MD5(contentType ‖ body)) or `empty`; mac = Base64(HMAC-SHA256(secret,
//! path ⏎ method ⏎ nonce ⏎ epoch ⏎ contentType ⏎ hash)). The content type is signed verbatim.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

pub const EMPTY: &str = "empty";

/// What one signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub path: &'a str,
    pub method: &'a str,
    pub nonce: &'a str,
    pub epoch: i64,
    /// `None` for a request without a body (GET, DELETE).
    pub body: Option<(&'a str, &'a [u8])>,
}

pub fn body_hash(content_type: &str, body: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update(content_type.as_bytes());
    md5.update(body);
    STANDARD.encode(md5.finalize())
}

fn mac(secret: &str, s: &Signed<'_>) -> (Hmac<Sha256>, String) {
    let (content_type, hash) = match s.body {
        Some((content_type, body)) => (content_type.to_owned(), body_hash(content_type, body)),
        None => (EMPTY.to_owned(), EMPTY.to_owned()),
    };
    let data = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        s.path, s.method, s.nonce, s.epoch, content_type, hash
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    (mac, hash)
}

/// The full `Authorization` header value.
pub fn authorization(api_key: &str, secret: &str, s: &Signed<'_>) -> String {
    let (mac, hash) = mac(secret, s);
    let mac = STANDARD.encode(mac.finalize().into_bytes());
    format!(
        "hmac OPA-Auth:{api_key}:{mac}:{}:{}:{hash}",
        s.nonce, s.epoch
    )
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub api_key: String,
    pub mac: String,
    pub nonce: String,
    pub epoch: i64,
    pub hash: String,
}

pub fn parse_header(value: &str) -> Option<Header> {
    let rest = value.strip_prefix("hmac OPA-Auth:")?;
    let mut parts = rest.split(':');
    let header = Header {
        api_key: parts.next()?.to_owned(),
        mac: parts.next()?.to_owned(),
        nonce: parts.next()?.to_owned(),
        epoch: parts.next()?.parse().ok()?,
        hash: parts.next()?.to_owned(),
    };
    parts.next().is_none().then_some(header)
}

/// Recomputes the MAC over what was received (the received Content-Type, byte for byte)
/// and compares in constant time.
pub fn verify(secret: &str, header: &Header, s: &Signed<'_>) -> bool {
    let Ok(received) = STANDARD.decode(&header.mac) else {
        return false;
    };
    let (mac, hash) = mac(secret, s);
    hash == header.hash && mac.verify_slice(&received).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_vector_v1_content_type_is_signed_verbatim() {
        let body = br#"{"sampleRequestBodyKey1":"sampleRequestBodyValue1","sampleRequestBodyKey2":"sampleRequestBodyValue2"}"#;
        let s = Signed {
            path: "/v2/codes",
            method: "POST",
            nonce: "acd028",
            epoch: 1579843452,
            body: Some(("application/json;charset=UTF-8;", body)),
        };
        assert_eq!(
            authorization("APIKeyGenerated", "APIKeySecretGenerated", &s),
            "hmac OPA-Auth:APIKeyGenerated:NW1jKIMnzR7tEhMWtcJcaef+nFVBt7jjAGcVuxHhchc=:acd028:1579843452:1j0FnY4flNp5CtIKa7x9MQ=="
        );
        assert_eq!(
            body_hash("application/json;charset=UTF-8", body),
            "RqWweDuO1iMlji2w1tz2Iw=="
        );
        assert_eq!(
            body_hash("application/json", body),
            "i3GU5qrLqFGYbYymM6gKHQ=="
        );
    }

    #[test]
    fn official_vector_v2_hashes_the_raw_pretty_printed_body() {
        let body = "{\n    \"merchantPaymentId\": \"TEST_QR_Payment\",\n    \"amount\": {\n        \"amount\":10,\n        \"currency\": \"JPY\"\n    },\n    \"codeType\": \"ORDER_QR\",\n    \"isAuthorization\":false,\n    \"redirectUrl\":\"https://about.paypay.ne.jp/\",\n    \"redirectType\":\"WEB_LINK\"\n}";
        assert_eq!(body.len(), 253);
        let s = Signed {
            path: "/v2/codes",
            method: "POST",
            nonce: "fedaa4",
            epoch: 1743138611,
            body: Some(("application/json", body.as_bytes())),
        };
        assert_eq!(
            authorization("sample_key", "sample_secret", &s),
            "hmac OPA-Auth:sample_key:C2a7jD7OjL1DXnZhSYQfRI2Oxfdh43htV7pG8cwgCy4=:fedaa4:1743138611:T9wzkv1tUWIxzIHQUT7iDQ=="
        );
    }

    #[test]
    fn official_vector_v3_get_without_body() {
        let s = Signed {
            path: "/v2/payments/TEST_merchantPaymentID",
            method: "GET",
            nonce: "a360e2",
            epoch: 1743139337,
            body: None,
        };
        assert_eq!(
            authorization("sample_key", "sample_secret", &s),
            "hmac OPA-Auth:sample_key:JbUZwAUKeQ+WDClEjkCGwYG/juFR+Dd5RK5AfL0gK9w=:a360e2:1743139337:empty"
        );
    }

    #[test]
    fn extra_vectors() {
        let body = br#"{"merchantPaymentId":"ORDER-0001","amount":{"amount":100,"currency":"JPY"},"requestedAt":1700000000}"#;
        let post = |ct| Signed {
            path: "/v2/payments",
            method: "POST",
            nonce: "abcd1234",
            epoch: 1700000000,
            body: Some((ct, &body[..])),
        };
        assert_eq!(
            authorization("sample_key", "sample_secret", &post("application/json")),
            "hmac OPA-Auth:sample_key:BSODXYYYxgr2nzzpWeaAHq8qRKj+h7axtLUNRnHFVZg=:abcd1234:1700000000:MZtB+Bh7Rg6a8mby0Jz3Bg=="
        );
        assert_eq!(
            authorization(
                "sample_key",
                "sample_secret",
                &post("application/json;charset=UTF-8;")
            ),
            "hmac OPA-Auth:sample_key:mZ6cL1N0P2Nn9rA1X0rL5gyeW8GgWPcV4M1vsLCVChM=:abcd1234:1700000000:4WLAcntaY/wlzlfa7H8eEQ=="
        );
        let delete = Signed {
            path: "/v2/payments/ORDER-0001",
            method: "DELETE",
            nonce: "abcd1234",
            epoch: 1700000000,
            body: None,
        };
        assert_eq!(
            authorization("sample_key", "sample_secret", &delete),
            "hmac OPA-Auth:sample_key:3cBdbbVV6oFmYc8E8XWybRCoFNHUwEbLuCZXmgNlWR0=:abcd1234:1700000000:empty"
        );
    }

    #[test]
    fn headers_parse_and_verify_only_untouched_requests() {
        let body = br#"{"a":1}"#;
        let s = Signed {
            path: "/v2/codes",
            method: "POST",
            nonce: "n1",
            epoch: 5,
            body: Some(("application/json", body)),
        };
        let header = parse_header(&authorization("k", "secret", &s)).unwrap();
        assert!(verify("secret", &header, &s));
        assert!(!verify("other", &header, &s));
        let tampered = Signed {
            body: Some(("application/json", br#"{"a":2}"#)),
            ..s
        };
        assert!(!verify("secret", &header, &tampered));
        let other_type = Signed {
            body: Some(("application/json;charset=UTF-8", body)),
            ..s
        };
        assert!(!verify("secret", &header, &other_type));
        assert_eq!(parse_header("hmac OPA:k:m:n:1:h"), None);
    }
}
