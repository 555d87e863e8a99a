//! Terminal authentication: the API key in `x-api-key` metadata becomes a
//! [`TerminalIdentity`], which the acceptance edge puts in the request's extensions.
//! Handlers never parse metadata.
use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::Status;
use tonic::codegen::http::HeaderMap;

use super::reason::Reason;
use super::status::Refusal;

pub const API_KEY_HEADER: &str = "x-api-key";
/// Longest API key read from metadata; anything longer is refused unread.
const API_KEY_LENGTH_MAX: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalIdentity {
    pub terminal_id: String,
    pub merchant_id: String,
}

/// Maps SHA-256(API key) to the terminal it belongs to. Only hashes are held in memory.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    by_key_hash: Arc<HashMap<String, TerminalIdentity>>,
}

// === impl Authenticator ===

impl Authenticator {
    pub fn new(entries: impl IntoIterator<Item = (String, TerminalIdentity)>) -> Self {
        Self {
            by_key_hash: Arc::new(entries.into_iter().collect()),
        }
    }

    /// Who is calling: refuses a missing, malformed or unknown key.
    #[allow(clippy::result_large_err)]
    pub fn identify(&self, headers: &HeaderMap) -> Result<TerminalIdentity, Status> {
        let key = headers.get(API_KEY_HEADER).ok_or_else(|| {
            Refusal::new(
                Reason::ApiKeyMissing,
                "missing x-api-key metadata: send the terminal's API key",
            )
            .into_status()
        })?;
        let key = key
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= API_KEY_LENGTH_MAX)
            .ok_or_else(|| {
                Refusal::new(Reason::ApiKeyInvalid, "x-api-key is malformed").into_status()
            })?;
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        self.by_key_hash
            .get(&hash)
            .cloned()
            .ok_or_else(|| Refusal::new(Reason::ApiKeyInvalid, "unknown API key").into_status())
    }
}
