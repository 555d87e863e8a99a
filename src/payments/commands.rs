//! Commands the API hands the orchestrator: already parsed, so every field is valid.
use kakehashi_adapter_core::{Money, PaymentCode};
use sha2::{Digest, Sha256};

use crate::domain::ClientKey;

/// Who is asking: an authenticated terminal and the merchant it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub merchant_id: String,
    pub terminal_id: String,
}

#[derive(Debug, Clone)]
pub struct PayCommand {
    pub merchant_order_id: ClientKey,
    pub amount: Money,
    pub code: PaymentCode,
    pub description: String,
    /// A quote from `Quote` the payment keeps (`q_` + 32 hex digits, checked).
    pub quote_id: Option<String>,
}

/// Ask for an indicative wallet-currency amount.
#[derive(Debug, Clone)]
pub struct QuoteCommand {
    /// The client's key: a replay answers the quote stored under it.
    pub idempotency_key: ClientKey,
    pub amount: Money,
    pub network: String,
    pub wallet_currency: iso_currency::Currency,
}

#[derive(Debug, Clone)]
pub struct MerchantQrCommand {
    pub merchant_order_id: ClientKey,
    pub amount: Money,
    pub network: String,
    pub description: String,
    /// The switch issues its own EMVCo dynamic code (see `partner.rs`).
    pub switch_code: bool,
    /// As [`PayCommand::quote_id`].
    pub quote_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CancelCommand {
    pub merchant_order_id: ClientKey,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct RefundCommand {
    pub merchant_order_id: ClientKey,
    pub refund_id: ClientKey,
    /// `None` refunds whatever remains.
    pub amount: Option<Money>,
    pub reason: String,
}

/// SHA-256 over the request's content, field by field with separators, so a replay can be
/// told from a different request under the same key.
pub fn content_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

// === impl PayCommand ===

impl PayCommand {
    /// The code enters only by its last 4 digits: a full code's hash is stored with the
    /// payment, and a one-time code has few enough values (about 10^9 for LINE Pay JP) to be
    /// brute-forced from it. A retry with another code that shares the last 4 is a replay:
    /// it gets the stored answer and charges nothing.
    /// A quote id enters only when present, so payments without one keep the fingerprint
    /// they always had.
    pub fn content_hash(&self) -> String {
        let amount = self.amount.value_string();
        let masked = self.code.masked();
        let mut parts = vec![
            "pay",
            amount.as_str(),
            self.amount.currency_code(),
            masked.as_str(),
            self.description.as_str(),
        ];
        if let Some(quote_id) = &self.quote_id {
            parts.extend(["quote", quote_id.as_str()]);
        }
        content_hash(&parts)
    }
}

impl MerchantQrCommand {
    pub fn content_hash(&self) -> String {
        let value = self.amount.value_string();
        let mut parts = vec![
            "mpm",
            value.as_str(),
            self.amount.currency_code(),
            self.network.as_str(),
            self.description.as_str(),
        ];
        // Only when set, so the hashes of requests stored before the fields existed hold.
        if self.switch_code {
            parts.push("switch-code");
        }
        if let Some(quote_id) = &self.quote_id {
            parts.extend(["quote", quote_id.as_str()]);
        }
        content_hash(&parts)
    }
}

impl QuoteCommand {
    /// Over everything that prices the quote; the key itself is what it is stored under.
    pub fn content_hash(&self) -> String {
        content_hash(&[
            "quote",
            &self.amount.value_string(),
            self.amount.currency_code(),
            &self.network,
            self.wallet_currency.code(),
        ])
    }
}

impl RefundCommand {
    /// Over what the terminal asked, not what it came to: "the rest" retried after it was
    /// refunded is the same request (and gets the stored answer), though nothing remains.
    pub fn content_hash(&self) -> String {
        match &self.amount {
            Some(amount) => content_hash(&[
                "refund",
                self.merchant_order_id.as_str(),
                &amount.value_string(),
                amount.currency_code(),
            ]),
            None => content_hash(&["refund", self.merchant_order_id.as_str(), "rest"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(code: &str) -> PayCommand {
        PayCommand {
            merchant_order_id: ClientKey::parse("o-1").unwrap(),
            amount: Money::parse("1200", "JPY").unwrap(),
            code: PaymentCode::parse(code).unwrap(),
            description: String::new(),
            quote_id: None,
        }
    }

    #[test]
    fn the_fingerprint_holds_only_the_codes_last_four_digits() {
        let a = pay("9000000000123451234").content_hash();
        assert_eq!(a, pay("9000000000987651234").content_hash());
        assert_ne!(a, pay("9000000000123455678").content_hash());
        let full = content_hash(&["pay", "1200", "JPY", "9000000000123451234", ""]);
        assert_ne!(a, full, "the full code is not what is hashed");
    }
}
