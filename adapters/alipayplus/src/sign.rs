//! Alipay+ RSA256: SHA256withRSA (PKCS#1 v1.5) over `<METHOD> <URI>\n<Client-Id>.<time>.<body>`,
//! Base64, then URL-encoded, in `Signature: algorithm=RSA256,keyVersion=1,signature=...`.
//! Signing uses aws-lc-rs (constant time); keys travel as PEM.
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM block of the expected kind")]
    BadPem,
    #[error("not an RSA key of an accepted size")]
    BadKey,
}

/// The exact content signed.
pub fn content(method: &str, uri: &str, client_id: &str, time: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {uri}\n{client_id}.{time}.").into_bytes();
    out.extend_from_slice(body);
    out
}

pub struct Signer {
    key: KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(RSA private key)")
    }
}

impl Signer {
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = pem_decode(pem, "PRIVATE KEY").ok_or(KeyError::BadPem)?;
        Ok(Self {
            key: KeyPair::from_pkcs8(&der).map_err(|_| KeyError::BadKey)?,
        })
    }

    /// Base64 signature, not yet URL-encoded.
    pub fn sign(&self, content: &[u8]) -> Option<String> {
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                content,
                &mut sig,
            )
            .ok()?;
        Some(STANDARD.encode(sig))
    }

    /// The `Signature` header value.
    pub fn header(&self, content: &[u8]) -> Option<String> {
        Some(format!(
            "algorithm=RSA256,keyVersion=1,signature={}",
            url_encode(&self.sign(content)?)
        ))
    }
}

#[derive(Debug, Clone)]
pub struct Verifier {
    spki_der: Vec<u8>,
}

impl Verifier {
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(Self {
            spki_der: pem_decode(pem, "PUBLIC KEY").ok_or(KeyError::BadPem)?,
        })
    }

    /// Checks a `Signature` header value (URL-encoded Base64 in the `signature=` item).
    pub fn verify_header(&self, header: &str, content: &[u8]) -> bool {
        let Some(value) = header
            .split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix("signature="))
        else {
            return false;
        };
        let Some(decoded) = url_decode(value) else {
            return false;
        };
        let Ok(raw) = STANDARD.decode(decoded) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.spki_der)
            .verify(content, &raw)
            .is_ok()
    }
}

/// A new RSA-2048 key pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM).
pub fn generate_pem_pair() -> Result<(String, String), KeyError> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::BadKey)?;
    let private = key.as_der().map_err(|_| KeyError::BadKey)?;
    let public = aws_lc_rs::signature::KeyPair::public_key(&key)
        .as_der()
        .map_err(|_| KeyError::BadKey)?;
    Ok((
        pem_encode("PRIVATE KEY", private.as_ref()),
        pem_encode("PUBLIC KEY", public.as_ref()),
    ))
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

/// `URLEncoder.encode(.., "UTF-8")` for Base64 text: `+ / =` and anything else unsafe.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_content_is_exactly_the_documented_string() {
        let body = br#"{"paymentRequestId":"pay_1"}"#;
        let c = content(
            "POST",
            "/aps/api/v1/payments/pay",
            "SANDBOX_5YC47N2ZQHJ004124",
            "2025-02-20T08:51:49.09Z",
            body,
        );
        assert_eq!(
            String::from_utf8(c).unwrap(),
            "POST /aps/api/v1/payments/pay\nSANDBOX_5YC47N2ZQHJ004124.2025-02-20T08:51:49.09Z.{\"paymentRequestId\":\"pay_1\"}"
        );
    }

    #[test]
    fn sign_verify_round_trip_and_every_byte_counts() {
        let (private, public) = generate_pem_pair().unwrap();
        let signer = Signer::from_pkcs8_pem(&private).unwrap();
        let verifier = Verifier::from_pem(&public).unwrap();
        let good = content(
            "POST",
            "/aps/api/v1/payments/pay",
            "CID",
            "2026-11-25T00:00:00Z",
            b"{\"a\":\"1\"}",
        );
        let header = signer.header(&good).unwrap();
        assert!(header.starts_with("algorithm=RSA256,keyVersion=1,signature="));
        assert!(
            !header["algorithm=RSA256,keyVersion=1,signature=".len()..].contains(['+', '/', '=']),
            "URL-encoded"
        );
        assert!(verifier.verify_header(&header, &good));
        for bad in [
            content(
                "POST",
                "/aps/api/v1/payments/pay",
                "CID",
                "2026-11-25T00:00:00Z",
                b"{\"a\":\"2\"}",
            ),
            content(
                "POST",
                "/aps/api/v1/payments/refund",
                "CID",
                "2026-11-25T00:00:00Z",
                b"{\"a\":\"1\"}",
            ),
            content(
                "POST",
                "/aps/api/v1/payments/pay",
                "CIE",
                "2026-11-25T00:00:00Z",
                b"{\"a\":\"1\"}",
            ),
            content(
                "POST",
                "/aps/api/v1/payments/pay",
                "CID",
                "2026-11-25T00:00:01Z",
                b"{\"a\":\"1\"}",
            ),
        ] {
            assert!(!verifier.verify_header(&header, &bad));
        }
        let (_, other_public) = generate_pem_pair().unwrap();
        assert!(
            !Verifier::from_pem(&other_public)
                .unwrap()
                .verify_header(&header, &good)
        );
    }

    /// Pinned to an independent implementation (Python `cryptography`; see
    /// `tests/vectors/README.md`): PKCS#1 v1.5 signatures are deterministic, so the same key
    /// and content must give the same bytes.
    #[test]
    fn the_signature_matches_an_independent_rsa256_implementation() {
        let private = include_str!("../tests/vectors/test-only-private-key.pem");
        let public = include_str!("../tests/vectors/test-only-public-key.pem");
        let expected = include_str!("../tests/vectors/signature.txt").trim();
        let documented = content(
            "POST",
            "/aps/api/v1/payments/pay",
            "SANDBOX_5YC47N2ZQHJ004124",
            "2025-02-20T08:51:49.09Z",
            br#"{"paymentRequestId":"pay_1"}"#,
        );
        let header = Signer::from_pkcs8_pem(private)
            .unwrap()
            .header(&documented)
            .unwrap();
        assert_eq!(
            header,
            format!("algorithm=RSA256,keyVersion=1,signature={expected}")
        );
        assert!(
            Verifier::from_pem(public)
                .unwrap()
                .verify_header(&header, &documented)
        );
    }

    #[test]
    fn url_encoding_round_trips_base64() {
        let b64 = "ab+/cd==";
        assert_eq!(url_encode(b64), "ab%2B%2Fcd%3D%3D");
        assert_eq!(url_decode(&url_encode(b64)).unwrap(), b64);
        assert_eq!(url_decode("%zz"), None);
    }
}
