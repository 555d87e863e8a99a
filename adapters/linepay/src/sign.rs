//! `X-LINE-Authorization`: Base64(HMAC-SHA256(secret, secret + apiPath + payload + nonce)),
//! where payload is the exact body bytes (POST) or the query string without `?` (GET).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, api_path: &str, payload: &[u8], nonce: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(secret.as_bytes());
    mac.update(api_path.as_bytes());
    mac.update(payload);
    mac.update(nonce.as_bytes());
    mac
}

pub fn signature(secret: &str, api_path: &str, payload: &[u8], nonce: &str) -> String {
    STANDARD.encode(
        mac(secret, api_path, payload, nonce)
            .finalize()
            .into_bytes(),
    )
}

/// Constant-time check of a received signature over the raw received bytes.
pub fn verify(secret: &str, api_path: &str, payload: &[u8], nonce: &str, received: &str) -> bool {
    let Ok(received) = STANDARD.decode(received) else {
        return false;
    };
    mac(secret, api_path, payload, nonce)
        .verify_slice(&received)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "channelSecretKey";
    const NONCE: &str = "00000000-0000-0000-0000-000000000000";

    /// Vectors from the research file (ENYLIN's published tests and path-only computed checks).
    #[test]
    fn signatures_match_the_published_vectors() {
        let cases: [(&str, &str, &str); 7] = [
            (
                "https://sandbox-api-pay.line.me/v3/payments",
                "transactionId=2021113000697317600",
                "CcToW3HaslH44yvJNliuomtkwufd8aC048p3QXZPlj8=",
            ),
            (
                "https://sandbox-api-pay.line.me/v3/payments",
                r#"{"transactionId":"2021113000697317600"}"#,
                "En0nRkzzQpXrXo6OHNV+827g+rWIwUq5VTk/n9Jm5Ek=",
            ),
            (
                "/v3/payments",
                "transactionId=2021113000697317600",
                "AKeJOML++U7ibctuAHwQScBZs/TpHScKCwRBivdWE3A=",
            ),
            (
                "/v3/payments",
                r#"{"transactionId":"2021113000697317600"}"#,
                "wrviKghOOBW2VxmROuoS/jzfudKrp5g565DP8XgBNN0=",
            ),
            (
                "/v4/payments/oneTimeKeys/pay",
                r#"{"amount":100,"currency":"JPY","oneTimeKey":"9000000000123456789","orderId":"ORDER-0001"}"#,
                "TD9Ap04vybd014knlUVWCUm7jync5uYYV5uJGdGXLFg=",
            ),
            (
                "/v4/payments/orders/ORDER-0001/check",
                "",
                "c1VKzpSHgWkF4ABtzxK8PeQpkQKOc3fpLV/pOmm93bI=",
            ),
            (
                "/v3/payments",
                "orderId=ORDER-0001",
                "43ScE59+CvDoVJuSLayCwbRXLSAf+pEcWYumYnbhM1E=",
            ),
        ];
        for (path, payload, expected) in cases {
            assert_eq!(
                signature(SECRET, path, payload.as_bytes(), NONCE),
                expected,
                "{path} {payload}"
            );
            assert!(verify(SECRET, path, payload.as_bytes(), NONCE, expected));
        }
    }

    #[test]
    fn a_query_signed_with_its_question_mark_does_not_verify() {
        let wrong = "gGba0d91rcpvJpr1Az8ncCyEQScrcqFhgudfqD/1ZYg=";
        assert_eq!(
            signature(SECRET, "/v3/payments", b"?orderId=ORDER-0001", NONCE),
            wrong
        );
        assert!(!verify(
            SECRET,
            "/v3/payments",
            b"orderId=ORDER-0001",
            NONCE,
            wrong
        ));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let good = signature(SECRET, "/v4/x", b"{}", NONCE);
        assert!(!verify(SECRET, "/v4/x", b"{ }", NONCE, &good));
        assert!(!verify(SECRET, "/v4/y", b"{}", NONCE, &good));
        assert!(!verify(SECRET, "/v4/x", b"{}", "other-nonce", &good));
        assert!(!verify("otherSecret", "/v4/x", b"{}", NONCE, &good));
        assert!(!verify(SECRET, "/v4/x", b"{}", NONCE, "not base64!"));
    }
}
