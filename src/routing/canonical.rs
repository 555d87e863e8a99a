//! Canonical JSON: the one byte form of a rule set and of a decision, so that equal meaning
//! gives equal bytes and a hash of the bytes names the meaning.
//!
//! The form is RFC 8785 (JCS) restricted to what we emit: object keys sorted by their UTF-16
//! code units, no whitespace, strings escaped as JCS does (`\"`, `\\`, `\b \f \n \r \t`,
//! other control characters as `\u00xx`, everything else as UTF-8), integers in decimal and
//! no floats at all (amounts are decimal strings). `serde_json::Map`'s own order is never
//! relied on: it changes with the `preserve_order` feature anywhere in the build.
use serde_json::Value;

/// Deepest nesting written or accepted: our records are a few levels deep, so anything
/// deeper is not ours and must not cost a deep recursion.
pub const DEPTH_MAX: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("a float has no canonical form here; amounts are decimal strings")]
    Float,
    #[error("nested deeper than {DEPTH_MAX} levels")]
    TooDeep,
}

/// The canonical bytes of `value`.
pub fn to_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = String::new();
    write(value, 0, &mut out)?;
    Ok(out.into_bytes())
}

fn write(value: &Value, depth: usize, out: &mut String) -> Result<(), CanonicalError> {
    if depth > DEPTH_MAX {
        return Err(CanonicalError::TooDeep);
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                return Err(CanonicalError::Float);
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, depth + 1, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(item, depth + 1, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(value: &Value) -> String {
        String::from_utf8(to_bytes(value).unwrap()).unwrap()
    }

    #[test]
    fn keys_are_sorted_at_every_level_and_whitespace_is_gone() {
        let a: Value =
            serde_json::from_str(r#"{ "b": 1, "a": { "z": "x", "y": [2, 1] } }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"y":[2,1],"z":"x"},"b":1}"#).unwrap();
        assert_eq!(text(&a), r#"{"a":{"y":[2,1],"z":"x"},"b":1}"#);
        assert_eq!(text(&a), text(&b));
    }

    #[test]
    fn strings_are_escaped_as_jcs_does() {
        let value = json!({"s": "q\"b\\\n\u{1}é••••1234/"});
        assert_eq!(text(&value), "{\"s\":\"q\\\"b\\\\\\n\\u0001é••••1234/\"}");
    }

    #[test]
    fn keys_sort_by_utf16_code_units_as_jcs_requires() {
        // U+FF61 sorts after U+1F600 by code point but before it in UTF-16 (0xD83D).
        let value = json!({"\u{ff61}": 1, "\u{1f600}": 2});
        assert_eq!(text(&value), "{\"\u{1f600}\":2,\"\u{ff61}\":1}");
    }

    #[test]
    fn floats_and_deep_nesting_are_refused() {
        assert_eq!(to_bytes(&json!({"a": 1.5})), Err(CanonicalError::Float));
        let mut deep = json!(1);
        for _ in 0..=DEPTH_MAX + 1 {
            deep = json!([deep]);
        }
        assert_eq!(to_bytes(&deep), Err(CanonicalError::TooDeep));
    }
}
