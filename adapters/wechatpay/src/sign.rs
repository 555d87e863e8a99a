//! WeChat Pay v2 signatures: every non-empty field but `sign`, sorted by name, joined as
//! `k=v&...`, then `&key=API_KEY`; MD5 or HMAC-SHA256 (keyed with the API key, the `&key=`
//! suffix still in the message), uppercase hex.
use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignType {
    Md5,
    HmacSha256,
}

impl SignType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MD5" => Some(Self::Md5),
            "HMAC-SHA256" => Some(Self::HmacSha256),
            _ => None,
        }
    }
}

/// `stringSignTemp`: what is hashed.
pub fn string_to_sign(fields: &BTreeMap<String, String>, api_key: &str) -> String {
    let mut out = String::new();
    for (k, v) in fields
        .iter()
        .filter(|(k, v)| k.as_str() != "sign" && !v.trim().is_empty())
    {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v.trim());
    }
    out.push_str("&key=");
    out.push_str(api_key);
    out
}

pub fn sign(fields: &BTreeMap<String, String>, api_key: &str, sign_type: SignType) -> String {
    let message = string_to_sign(fields, api_key);
    let digest = match sign_type {
        SignType::Md5 => Md5::digest(message.as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(api_key.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(message.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    hex::encode_upper(digest)
}

/// Checks `sign` over every received field (unknown ones included, as WeChat Pay requires).
pub fn verify(fields: &BTreeMap<String, String>, api_key: &str, sign_type: SignType) -> bool {
    let Some(received) = fields.get("sign") else {
        return false;
    };
    let expected = sign(fields, api_key, sign_type);
    // Equal length hex strings; compare without early exit.
    received.len() == expected.len()
        && received
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_official_example() {
        let f = fields(&[
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ]);
        assert_eq!(
            string_to_sign(&f, KEY),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
        );
        assert_eq!(
            sign(&f, KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(&f, KEY, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
        // Plain SHA-256 of the string is the known pitfall and must not be what we produce.
        assert_ne!(
            sign(&f, KEY, SignType::HmacSha256),
            "7413C0B16EB07CCD8F78044956E41815A52E6E94BC037A17534EA867F813C5E2"
        );
    }

    #[test]
    fn derived_micropay_vectors_skip_empty_fields() {
        let mut f = fields(&[
            ("appid", "wxd930ea5d5a258f4f"),
            ("auth_code", "120061098828009406"),
            ("body", "test"),
            ("fee_type", "JPY"),
            ("mch_id", "10000100"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
            ("out_trade_no", "1415757673"),
            ("spbill_create_ip", "8.8.8.8"),
            ("sub_mch_id", "1900000109"),
            ("total_fee", "888"),
            ("attach", ""),
        ]);
        assert_eq!(
            sign(&f, KEY, SignType::Md5),
            "D996EF7484775B3DB7BA01D30FA4AF42"
        );
        f.insert("sign_type".into(), "HMAC-SHA256".into());
        assert_eq!(
            sign(&f, KEY, SignType::HmacSha256),
            "ED19FA95F03A2B27F712FD5B5BD72ED9B0775E271FCFAE54F820D543C109D38D"
        );
    }

    #[test]
    fn verification_covers_every_field() {
        let mut f = fields(&[("a", "1"), ("b", "2")]);
        let s = sign(&f, KEY, SignType::HmacSha256);
        f.insert("sign".into(), s);
        assert!(verify(&f, KEY, SignType::HmacSha256));
        assert!(!verify(&f, "other", SignType::HmacSha256));
        assert!(!verify(&f, KEY, SignType::Md5));
        f.insert("c".into(), "new".into());
        assert!(!verify(&f, KEY, SignType::HmacSha256));
    }
}
