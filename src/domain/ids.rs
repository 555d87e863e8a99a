//! Identifiers. Client keys (`merchant_order_id`, `refund_id`) are the idempotency keys a
//! terminal chooses; the switch's own ids are what it sends to networks.
use std::fmt;

use rand::Rng;

/// Longest client key: long enough for any POS order number, short enough to index.
pub const CLIENT_KEY_LENGTH_MAX: usize = 64;

/// A terminal-chosen idempotency key: 1..=64 characters of `[A-Za-z0-9._:-]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientKeyError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {CLIENT_KEY_LENGTH_MAX} characters")]
    TooLong,
    #[error("may contain only letters, digits and . _ : -")]
    BadCharacter,
}

// === impl ClientKey ===

impl ClientKey {
    pub fn parse(raw: &str) -> Result<Self, ClientKeyError> {
        if raw.is_empty() {
            return Err(ClientKeyError::Empty);
        }
        if raw.len() > CLIENT_KEY_LENGTH_MAX {
            return Err(ClientKeyError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if !raw.chars().all(allowed) {
            return Err(ClientKeyError::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new switch id: a letter prefix and 24 random alphanumerics, at most 32 characters of
/// `[A-Za-z0-9]`, which every network accepts as a merchant order number (WeChat Pay
/// `out_trade_no` is String(32)).
pub fn new_id(prefix: &str) -> String {
    assert!(prefix.len() <= 4 && prefix.chars().all(|c| c.is_ascii_alphabetic()));
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let tail: String = (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys_are_validated() {
        assert!(ClientKey::parse("ORDER-2026-11-25:0001_a.b").is_ok());
        assert_eq!(ClientKey::parse(""), Err(ClientKeyError::Empty));
        assert_eq!(
            ClientKey::parse(&"a".repeat(65)),
            Err(ClientKeyError::TooLong)
        );
        assert_eq!(
            ClientKey::parse("order 1"),
            Err(ClientKeyError::BadCharacter)
        );
        assert_eq!(ClientKey::parse("注文1"), Err(ClientKeyError::BadCharacter));
    }

    #[test]
    fn new_ids_fit_every_network() {
        let id = new_id("pay");
        assert!(id.len() <= 32);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(new_id("pay"), new_id("pay"));
    }
}
