//! A simulator's record of the requests that reached it, byte for byte, so tests can pin the
//! exact wire a real network would see: field names (JSON keys are case-sensitive, and a
//! misspelt one is silently ignored by a lenient parser), the store sent, the query asked.
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Requests kept; the oldest is dropped first, so a long-running sandbox stays bounded.
pub const RECEIVED_MAX: usize = 256;
/// Nesting [`json_field_paths`] follows; anything deeper is not listed.
pub const JSON_DEPTH_MAX: usize = 16;

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`; empty when there is none.
    pub query: String,
    pub body: Vec<u8>,
}

/// The last [`RECEIVED_MAX`] requests a simulator's network routes took in.
#[derive(Debug, Default)]
pub struct Wiretap {
    received: Mutex<VecDeque<Received>>,
}

// === impl Wiretap ===

impl Wiretap {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Received>> {
        // A panic while holding the lock leaves the queue consistent: recover it.
        self.received.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(&self, method: &str, path: &str, query: &str, body: &[u8]) {
        let mut received = self.lock();
        if received.len() >= RECEIVED_MAX {
            received.pop_front();
        }
        received.push_back(Received {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            body: body.to_vec(),
        });
    }

    /// Every request kept, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.lock().iter().cloned().collect()
    }

    /// The latest request to exactly this path.
    pub fn last(&self, path: &str) -> Option<Received> {
        self.lock().iter().rev().find(|r| r.path == path).cloned()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// Every key path in a JSON document, objects included: `order`, `order.merchant`,
/// `order.merchant.merchantMCC`; array elements add `[]` (`packages[].products[].name`).
/// `None` when the bytes are not JSON.
pub fn json_field_paths(bytes: &[u8]) -> Option<BTreeSet<String>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut paths = BTreeSet::new();
    walk(&value, "", 0, &mut paths);
    Some(paths)
}

fn walk(value: &serde_json::Value, prefix: &str, depth: usize, paths: &mut BTreeSet<String>) {
    if depth >= JSON_DEPTH_MAX {
        return;
    }
    match value {
        serde_json::Value::Object(fields) => {
            for (key, child) in fields {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(child, &path, depth + 1, paths);
                paths.insert(path);
            }
        }
        serde_json::Value::Array(items) => {
            let path = format!("{prefix}[]");
            for item in items {
                walk(item, &path, depth + 1, paths);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_name_every_key_with_its_parents() {
        let body = br#"{"a":1,"o":{"b":"x","l":[{"c":true},{"d":null}]},"e":[]}"#;
        let paths: Vec<String> = json_field_paths(body).unwrap().into_iter().collect();
        assert_eq!(paths, ["a", "e", "o", "o.b", "o.l", "o.l[].c", "o.l[].d"]);
        assert_eq!(json_field_paths(b"{not json"), None);
    }

    #[test]
    fn the_tap_keeps_the_latest_requests_within_its_bound() {
        let tap = Wiretap::default();
        for n in 0..RECEIVED_MAX + 3 {
            tap.record(
                "POST",
                &format!("/p{}", n % 2),
                "",
                n.to_string().as_bytes(),
            );
        }
        assert_eq!(tap.received().len(), RECEIVED_MAX);
        assert_eq!(
            tap.last("/p0").map(|r| r.body),
            Some((RECEIVED_MAX + 2).to_string().into_bytes())
        );
        assert_eq!(tap.last("/nowhere"), None);
        tap.clear();
        assert!(tap.received().is_empty());
    }
}
