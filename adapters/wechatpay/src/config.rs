//! The institution's credentials and where WeChat Pay is.
use kakehashi_adapter_core::{AdapterError, HttpSettings};
use secrecy::SecretString;
use serde::Deserialize;

use crate::NETWORK_ID;

/// `[networks.wechatpay]` in the switch config. Each merchant's `sub_mch_id` comes from
/// `merchants.network_ids.wechatpay`.
///
/// ```toml
/// base_url = "https://apihk.mch.weixin.qq.com"
/// appid = "wx..."
/// mch_id = "..."
/// api_key = "..."                     # the v2 API key (32 characters)
/// sign_type = "HMAC-SHA256"           # or "MD5"
/// client_cert_pem = "-----BEGIN CERTIFICATE-----..."   # apiclient_cert, for /secapi/
/// client_key_pem = "-----BEGIN PRIVATE KEY-----..."
/// # ca_pem = "..."                    # trust only this CA (our simulator); default: system roots
/// spbill_create_ip = "203.0.113.10"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub base_url: String,
    pub appid: String,
    pub mch_id: String,
    pub api_key: SecretString,
    #[serde(default = "default_sign_type")]
    pub sign_type: String,
    pub client_cert_pem: String,
    pub client_key_pem: SecretString,
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// `spbill_create_ip`: the calling machine's public IP, as WeChat Pay requires.
    #[serde(default = "default_ip")]
    pub spbill_create_ip: String,
    /// Used when a merchant has no `sub_mch_id` configured.
    #[serde(default)]
    pub default_sub_mch_id: Option<String>,
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_sign_type() -> String {
    "HMAC-SHA256".into()
}

fn default_ip() -> String {
    "127.0.0.1".into()
}

impl Config {
    pub fn from_table(table: &toml::Table) -> Result<Self, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: NETWORK_ID.into(),
            detail,
        };
        let config: Config = table.clone().try_into().map_err(|e: toml::de::Error| {
            bad(kakehashi_adapter_core::describe_toml_error(&e, None))
        })?;
        if !config.base_url.starts_with("https://") {
            return Err(bad(
                "base_url must be https:// (WeChat Pay is HTTPS only)".into()
            ));
        }
        if !matches!(config.sign_type.as_str(), "MD5" | "HMAC-SHA256") {
            return Err(bad("sign_type must be MD5 or HMAC-SHA256".into()));
        }
        if config.appid.is_empty() || config.mch_id.is_empty() {
            return Err(bad("appid and mch_id are required".into()));
        }
        Ok(config)
    }
}
