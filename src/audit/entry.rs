//! One audit entry and its canonical, versioned byte encoding: the bytes the Merkle leaf
//! hashes, so the same entry must give the same bytes on every machine, forever.
//!
//! Encoding version 1 is canonical JSON as RFC 8785 (JCS) defines it, restricted to what
//! JCS and every JSON parser agree on exactly: objects (members sorted by the UTF-16 code
//! units of their names), arrays, strings, `true`/`false`/`null` and integers of magnitude
//! at most 2^53 - 1. Floats are refused at encode time: money travels as decimal strings
//! or integer minor units (docs/audit-log.md). The top level is always
//! `{"at_ms":..,"body":{..},"kind":"..","merchant_id":..,"payment_id":..,"v":1}`.
//!
//! Entries never hold a full payment code, key or secret. Callers mask codes to their last
//! four; as a second line of defence the encoder refuses any string (or member name) with
//! a run of 8 or more ASCII digits, except under member names that are identifiers by
//! construction or figures (`*_id`, `*_hash`, `*_version`, `version`, `rule_set`, `prefix`,
//! `value`): a network's transaction id is long and numeric, an amount may be, and a
//! customer's code never sits under such a name.
use serde_json::{Map, Number, Value};
use tlog_tiles::Hash;

use super::limits::{BODY_DEPTH_MAX, ENTRY_BYTES_MAX};

/// The `v` member of every entry this code writes.
pub const ENCODING_VERSION: i64 = 1;
/// JCS numbers are IEEE doubles: integers beyond this lose precision in other parsers.
const INTEGER_MAGNITUDE_MAX: u64 = (1 << 53) - 1;
/// A run this long of digits in a free-text field may be a payment code.
const DIGIT_RUN_MAX: usize = 7;
const KIND_LENGTH_MAX: usize = 64;
const ID_LENGTH_MAX: usize = 128;

/// What an entry records, e.g. `routing_decision`. Open: a new kind needs no code change
/// here, only `[a-z_]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryKind(String);

/// A logged fact: what happened (`kind`, `body`), when, and to which payment and merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub kind: EntryKind,
    /// Unix milliseconds, UTC, of the change the entry describes.
    pub at_ms: i64,
    pub payment_id: Option<String>,
    pub merchant_id: Option<String>,
    /// A JSON object built by the caller, canonical-ready (see the module doc).
    pub body: Value,
}

/// An entry in its canonical bytes, with the columns it is found by in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEntry {
    pub kind: EntryKind,
    pub at_ms: i64,
    pub payment_id: Option<String>,
    pub merchant_id: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry kind `{0}` is not 1..=64 of [a-z_]")]
    Kind(String),
    #[error("entry field {0} is empty, too long or has control characters")]
    Id(&'static str),
    #[error("entry time at_ms is negative")]
    Time,
    #[error("entry body must be a JSON object")]
    BodyNotObject,
    #[error("entry {path} is a float or an integer beyond 2^53 - 1; use a decimal string")]
    Number { path: String },
    #[error("entry {path} holds 8 or more digits in a row: mask codes to their last 4")]
    LooksLikeSecret { path: String },
    #[error("entry body nests deeper than {BODY_DEPTH_MAX} levels")]
    TooDeep,
    #[error("entry encodes to {0} bytes, over the tlog-tiles limit of {ENTRY_BYTES_MAX}")]
    TooLarge(usize),
    #[error("entry bytes are not JSON: {0}")]
    NotJson(String),
    #[error("entry bytes are not encoding version {ENCODING_VERSION}")]
    Version,
    #[error("entry bytes are not in canonical form: {0}")]
    NotCanonical(&'static str),
}

// === impl EntryKind ===

impl EntryKind {
    pub const ROUTING_DECISION: &'static str = "routing_decision";
    pub const PAYMENT_TRANSITION: &'static str = "payment_transition";
    pub const REFUND_TRANSITION: &'static str = "refund_transition";
    pub const RULE_SET_ACTIVATED: &'static str = "rule_set_activated";

    pub fn parse(kind: &str) -> Result<Self, EntryError> {
        let valid = !kind.is_empty()
            && kind.len() <= KIND_LENGTH_MAX
            && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !valid {
            return Err(EntryError::Kind(
                kind.chars().take(KIND_LENGTH_MAX).collect(),
            ));
        }
        Ok(Self(kind.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// === impl AuditEntry ===

impl AuditEntry {
    /// The canonical bytes (encoding version 1), or why this entry may not be logged.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        if self.at_ms < 0 {
            return Err(EntryError::Time);
        }
        check_id("payment_id", self.payment_id.as_deref())?;
        check_id("merchant_id", self.merchant_id.as_deref())?;
        if !self.body.is_object() {
            return Err(EntryError::BodyNotObject);
        }
        check_value(&self.body, "body", "body", 0)?;
        let mut top = Map::new();
        top.insert("v".into(), Value::from(ENCODING_VERSION));
        top.insert("kind".into(), Value::from(self.kind.as_str()));
        top.insert("at_ms".into(), Value::from(self.at_ms));
        top.insert("payment_id".into(), opt(&self.payment_id));
        top.insert("merchant_id".into(), opt(&self.merchant_id));
        top.insert("body".into(), self.body.clone());
        let mut out = Vec::with_capacity(256);
        write_value(&mut out, &Value::Object(top));
        if out.len() > ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(out.len()));
        }
        Ok(out)
    }

    /// The canonical bytes with the entry's index columns, ready for the store.
    pub fn to_encoded(&self) -> Result<EncodedEntry, EntryError> {
        Ok(EncodedEntry {
            kind: self.kind.clone(),
            at_ms: self.at_ms,
            payment_id: self.payment_id.clone(),
            merchant_id: self.merchant_id.clone(),
            bytes: self.encode()?,
        })
    }

    /// Parses canonical bytes; refuses anything `encode` would not have written, so a log
    /// read back is the log that was hashed.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| EntryError::NotJson(e.to_string()))?;
        let Value::Object(mut top) = value else {
            return Err(EntryError::NotCanonical("top level is not an object"));
        };
        if top.remove("v").and_then(|v| v.as_i64()) != Some(ENCODING_VERSION) {
            return Err(EntryError::Version);
        }
        let kind = match top.remove("kind") {
            Some(Value::String(kind)) => EntryKind::parse(&kind)?,
            _ => return Err(EntryError::NotCanonical("kind is not a string")),
        };
        let at_ms = top
            .remove("at_ms")
            .and_then(|v| v.as_i64())
            .ok_or(EntryError::NotCanonical("at_ms is not an integer"))?;
        let payment_id = opt_string(top.remove("payment_id"), "payment_id is not a string")?;
        let merchant_id = opt_string(top.remove("merchant_id"), "merchant_id is not a string")?;
        let body = top
            .remove("body")
            .ok_or(EntryError::NotCanonical("body is missing"))?;
        if !top.is_empty() {
            return Err(EntryError::NotCanonical("unknown top-level member"));
        }
        let entry = Self {
            kind,
            at_ms,
            payment_id,
            merchant_id,
            body,
        };
        if entry.encode()? != bytes {
            return Err(EntryError::NotCanonical(
                "bytes differ from their canonical form",
            ));
        }
        Ok(entry)
    }
}

/// The RFC 6962 leaf hash of an entry's bytes: SHA-256(0x00 || bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    tlog_tiles::record_hash(bytes)
}

fn opt(value: &Option<String>) -> Value {
    value.as_deref().map_or(Value::Null, Value::from)
}

fn opt_string(value: Option<Value>, why: &'static str) -> Result<Option<String>, EntryError> {
    match value {
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        _ => Err(EntryError::NotCanonical(why)),
    }
}

fn check_id(field: &'static str, id: Option<&str>) -> Result<(), EntryError> {
    match id {
        Some(id)
            if id.is_empty() || id.len() > ID_LENGTH_MAX || id.chars().any(char::is_control) =>
        {
            Err(EntryError::Id(field))
        }
        _ => Ok(()),
    }
}

/// Member names whose string values are identifiers or figures, never a customer's code:
/// ids and hashes, a rule-set version (64 hex digits), a code-table prefix (the public
/// issuer digits that route a code, at most 10), an amount's decimal `value`.
fn is_identifier_name(name: &str) -> bool {
    matches!(name, "version" | "rule_set" | "prefix" | "value")
        || ["_id", "_hash", "_version"]
            .iter()
            .any(|s| name.ends_with(s))
}

fn has_digit_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run > DIGIT_RUN_MAX {
            return true;
        }
    }
    false
}

/// Checks numbers and digit runs; `name` is the member name the value sits under (an array
/// element inherits its array's), `path` where it is, for the error.
fn check_value(value: &Value, name: &str, path: &str, depth: usize) -> Result<(), EntryError> {
    if depth > BODY_DEPTH_MAX {
        return Err(EntryError::TooDeep);
    }
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::Number(n) => check_number(n, path),
        Value::String(s) => {
            if !is_identifier_name(name) && has_digit_run(s) {
                return Err(EntryError::LooksLikeSecret { path: path.into() });
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(item, name, &format!("{path}[{i}]"), depth + 1)?;
            }
            Ok(())
        }
        Value::Object(members) => {
            for (key, item) in members {
                let child = format!("{path}.{}", key.chars().take(64).collect::<String>());
                if has_digit_run(key) {
                    return Err(EntryError::LooksLikeSecret { path: child });
                }
                check_value(item, key, &child, depth + 1)?;
            }
            Ok(())
        }
    }
}

fn check_number(n: &Number, path: &str) -> Result<(), EntryError> {
    let fits = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u <= INTEGER_MAGNITUDE_MAX,
        (None, Some(i)) => i.unsigned_abs() <= INTEGER_MAGNITUDE_MAX,
        (None, None) => false,
    };
    if fits {
        Ok(())
    } else {
        Err(EntryError::Number { path: path.into() })
    }
}

/// RFC 8785 serialisation of a value already checked by `check_value` (integers only).
fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            // JCS orders member names by their UTF-16 code units, not by UTF-8 bytes.
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// JCS string form (ECMAScript JSON.stringify): only `"`, `\` and controls are escaped.
fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(body: Value) -> AuditEntry {
        AuditEntry {
            kind: EntryKind::parse(EntryKind::ROUTING_DECISION).unwrap(),
            at_ms: 1_767_225_600_000,
            payment_id: Some("pay-1".into()),
            merchant_id: Some("shinjuku-ramen".into()),
            body,
        }
    }

    #[test]
    fn the_encoding_is_sorted_compact_and_versioned() {
        let bytes = entry(json!({"z": 1, "a": {"y": true, "b": null}, "code": "****1234"}))
            .encode()
            .unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"at_ms":1767225600000,"body":{"a":{"b":null,"y":true},"code":"****1234","z":1},"kind":"routing_decision","merchant_id":"shinjuku-ramen","payment_id":"pay-1","v":1}"#
        );
    }

    #[test]
    fn rfc8785_orders_names_by_utf16_and_escapes_only_controls() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16 code units, after it
        // in UTF-8 bytes (F0.. against EF..): JCS follows UTF-16.
        let bytes = entry(json!({"\u{1F600}": "a", "\u{FB33}": "b", "q": "\"\\\u{1}\n\u{2028}é"}))
            .encode()
            .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let body = &text[text.find("\"body\":").unwrap()..text.find(",\"kind\"").unwrap()];
        assert_eq!(
            body,
            "\"body\":{\"q\":\"\\\"\\\\\\u0001\\n\u{2028}é\",\"\u{1F600}\":\"a\",\"\u{FB33}\":\"b\"}"
        );
    }

    #[test]
    fn floats_and_huge_integers_are_refused_at_encode_time() {
        for body in [
            json!({"rate": 0.5}),
            json!({"n": 9_007_199_254_740_992_u64}),
        ] {
            assert!(matches!(
                entry(body).encode(),
                Err(EntryError::Number { .. })
            ));
        }
        assert!(
            entry(json!({"n": -9_007_199_254_740_991_i64}))
                .encode()
                .is_ok()
        );
    }

    #[test]
    fn a_full_payment_code_is_refused_and_a_masked_one_passes() {
        let err = entry(json!({"decision": {"code": "281234567890123456"}}))
            .encode()
            .unwrap_err();
        assert_eq!(
            err,
            EntryError::LooksLikeSecret {
                path: "body.decision.code".into()
            }
        );
        assert!(!err.to_string().contains("2812345"), "{err}");
        assert!(
            entry(json!({"code": "**************3456"}))
                .encode()
                .is_ok()
        );
        assert!(entry(json!({"notes": ["1234567", "x"]})).encode().is_ok());
        assert!(entry(json!({"notes": ["12345678"]})).encode().is_err());
        // Identifiers may be long numbers: a WeChat Pay transaction id is 28 digits.
        assert!(
            entry(json!({"network_txn_id": "4200000012202601011234567890"}))
                .encode()
                .is_ok()
        );
        assert!(
            entry(json!({"rule_set_version": "12345678abcdef"}))
                .encode()
                .is_ok()
        );
    }

    #[test]
    fn decode_gives_back_the_entry_and_refuses_non_canonical_bytes() {
        let original = entry(json!({"amount": {"currency": "JPY", "value": "1200"}}));
        let bytes = original.encode().unwrap();
        assert_eq!(AuditEntry::decode(&bytes).unwrap(), original);
        let spaced = String::from_utf8(bytes.clone())
            .unwrap()
            .replace(",\"kind\"", ", \"kind\"");
        assert!(matches!(
            AuditEntry::decode(spaced.as_bytes()),
            Err(EntryError::NotCanonical(_))
        ));
        let v2 = String::from_utf8(bytes)
            .unwrap()
            .replace("\"v\":1", "\"v\":2");
        assert_eq!(AuditEntry::decode(v2.as_bytes()), Err(EntryError::Version));
    }

    #[test]
    fn kinds_are_lowercase_words() {
        assert!(EntryKind::parse("payment_transition").is_ok());
        for bad in ["", "Payment", "pay-ment", "a1", &"a".repeat(65)] {
            assert!(EntryKind::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oversized_entries_are_refused() {
        let err = entry(json!({"note": "x".repeat(70_000)}))
            .encode()
            .unwrap_err();
        assert!(matches!(err, EntryError::TooLarge(_)));
    }

    #[test]
    fn deep_bodies_are_refused_without_recursing_forever() {
        let mut body = json!({});
        for _ in 0..40 {
            body = json!({ "a": body });
        }
        assert_eq!(entry(body).encode(), Err(EntryError::TooDeep));
    }
}
