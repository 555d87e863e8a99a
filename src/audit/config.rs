//! `[audit]` in the switch's config: the log's origin and signing key, when checkpoints are
//! written, and the auditor-only listener with its credentials and limits.
//!
//! ```toml
//! [audit]
//! origin = "kakehashi.example/audit/tokyo-1"
//! key_path = "/etc/kakehashi/audit.key"      # written by `kakehashi audit keygen`
//! listen = "0.0.0.0:7443"                    # auditors only; never the terminals' port
//! checkpoint_interval_ms = 60000
//! checkpoint_entries = 1000
//! [[audit.auditors]]
//! name = "external-auditor"
//! token_sha256 = "<64 hex digits>"           # `kakehashi hash-key <token>`
//! [audit.tls]                                # optional; client_ca_path makes it mutual TLS
//! cert_path = "auditor-listener.pem"
//! key_path = "auditor-listener.key"
//! client_ca_path = "auditors-ca.pem"
//! ```
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::limits::{ORIGIN_LENGTH_MAX, READ_PAGE_MAX};

/// Auditor credentials one config may list.
pub const AUDITORS_MAX: usize = 100;

/// `[audit]`, checked as it is parsed (`AuditSection::validate`), so a config with a bad
/// `[audit]` never loads.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "AuditSection")]
pub struct AuditConfig(AuditSection);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// The log's name in every checkpoint, e.g. `kakehashi.example/audit/<deployment>`;
    /// also the signing key's name. Unique per log: two deployments never share one.
    pub origin: String,
    /// The signed-note private key file (`kakehashi audit keygen --out`).
    pub key_path: PathBuf,
    /// The auditor listener (gRPC `AuditService` and the tlog-tiles HTTP paths on one port).
    /// Without it the log is still written and checkpointed, and `audit export` works.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// A checkpoint is signed at least this often while the log grows.
    #[serde(default = "defaults::checkpoint_interval_ms")]
    pub checkpoint_interval_ms: u64,
    /// ... and as soon as this many entries arrived since the last one.
    #[serde(default = "defaults::checkpoint_entries")]
    pub checkpoint_entries: u64,
    /// Bearer tokens auditors send as `authorization: Bearer <token>`, by SHA-256.
    #[serde(default)]
    pub auditors: Vec<AuditorConfig>,
    #[serde(default)]
    pub tls: Option<AuditTlsConfig>,
    #[serde(default)]
    pub limits: AuditLimits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditorConfig {
    /// Who this is, for the log lines of their requests.
    pub name: String,
    /// SHA-256 (hex) of the token; the token itself never sits in the config.
    pub token_sha256: String,
}

/// TLS of the auditor listener; with `client_ca_path`, a client certificate signed by that
/// CA is required (mutual TLS) and stands in for a bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditTlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    #[serde(default)]
    pub client_ca_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLimits {
    /// Entries one ListEntries/ListPaymentEntries/ListPeriodEntries answer holds.
    #[serde(default = "defaults::page_entries_max")]
    pub page_entries_max: usize,
    /// Entries one ExportPeriod stream may carry before it ends with RESOURCE_EXHAUSTED.
    #[serde(default = "defaults::export_entries_max")]
    pub export_entries_max: u64,
    /// Requests served at once on the auditor listener.
    #[serde(default = "defaults::requests_in_flight_max")]
    pub requests_in_flight_max: usize,
}

mod defaults {
    pub fn checkpoint_interval_ms() -> u64 {
        60_000
    }
    pub fn checkpoint_entries() -> u64 {
        1_000
    }
    pub fn page_entries_max() -> usize {
        500
    }
    pub fn export_entries_max() -> u64 {
        10_000_000
    }
    pub fn requests_in_flight_max() -> usize {
        64
    }
}

// === impl AuditConfig ===

impl TryFrom<AuditSection> for AuditConfig {
    type Error = String;

    fn try_from(section: AuditSection) -> Result<Self, String> {
        section.validate()?;
        Ok(Self(section))
    }
}

impl std::ops::Deref for AuditConfig {
    type Target = AuditSection;

    fn deref(&self) -> &AuditSection {
        &self.0
    }
}

// === impl AuditSection ===

impl AuditSection {
    /// Checks what can be checked without touching files.
    pub fn validate(&self) -> Result<(), String> {
        if self.origin.len() > ORIGIN_LENGTH_MAX || !signed_note::is_key_name_valid(&self.origin) {
            return Err("audit.origin must be 1..=255 characters without spaces or `+`".into());
        }
        const MS_CEILING: u64 = 7 * 24 * 3_600_000;
        if self.checkpoint_interval_ms == 0 || self.checkpoint_interval_ms > MS_CEILING {
            return Err(format!(
                "audit.checkpoint_interval_ms must be between 1 and {MS_CEILING}"
            ));
        }
        if self.checkpoint_entries == 0 || self.checkpoint_entries > 1_000_000_000 {
            return Err("audit.checkpoint_entries must be between 1 and 1000000000".into());
        }
        if self.auditors.len() > AUDITORS_MAX {
            return Err(format!("audit.auditors lists more than {AUDITORS_MAX}"));
        }
        for a in &self.auditors {
            let hex =
                a.token_sha256.len() == 64 && a.token_sha256.chars().all(|c| c.is_ascii_hexdigit());
            if a.name.is_empty() || !hex {
                return Err(format!(
                    "audit.auditors `{}` needs a name and token_sha256 (64 hex digits)",
                    a.name
                ));
            }
        }
        let mutual_tls = self
            .tls
            .as_ref()
            .is_some_and(|t| t.client_ca_path.is_some());
        if self.listen.is_some() && self.auditors.is_empty() && !mutual_tls {
            return Err(
                "audit.listen needs credentials: [[audit.auditors]] tokens or audit.tls.client_ca_path"
                    .into(),
            );
        }
        self.limits.validate()
    }
}

// === impl AuditLimits ===

impl AuditLimits {
    fn validate(&self) -> Result<(), String> {
        if self.page_entries_max == 0 || self.page_entries_max > READ_PAGE_MAX {
            return Err(format!(
                "audit.limits.page_entries_max must be between 1 and {READ_PAGE_MAX}"
            ));
        }
        if self.export_entries_max == 0 {
            return Err("audit.limits.export_entries_max must be positive".into());
        }
        if self.requests_in_flight_max == 0 || self.requests_in_flight_max > 10_000 {
            return Err("audit.limits.requests_in_flight_max must be between 1 and 10000".into());
        }
        Ok(())
    }
}

impl Default for AuditLimits {
    fn default() -> Self {
        Self {
            page_entries_max: defaults::page_entries_max(),
            export_entries_max: defaults::export_entries_max(),
            requests_in_flight_max: defaults::requests_in_flight_max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuditConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_listener_without_credentials_is_refused() {
        let err = parse(
            "origin = \"kakehashi.example/audit/t\"\nkey_path = \"k\"\nlisten = \"127.0.0.1:0\"\n",
        )
        .unwrap_err();
        assert!(err.contains("needs credentials"), "{err}");
    }

    #[test]
    fn the_documented_example_parses() {
        let config = parse(
            r#"
            origin = "kakehashi.example/audit/tokyo-1"
            key_path = "audit.key"
            listen = "127.0.0.1:0"
            checkpoint_interval_ms = 60000
            checkpoint_entries = 1000
            [[auditors]]
            name = "external-auditor"
            token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            "#,
        )
        .unwrap();
        assert_eq!(config.limits.page_entries_max, 500);
        assert!(parse("origin = \"has space\"\nkey_path = \"k\"\n").is_err());
    }
}
