//! HTTP client settings every adapter states explicitly instead of trusting defaults.
use std::time::Duration;

use serde::Deserialize;

use crate::AdapterError;

/// Connect and request timeouts, pool size and HTTP version for one network's HTTP client.
/// Networks publish minimum read timeouts (LINE Pay Pay: 40 s, PayPay create: 30 s); the
/// config may lower them for a simulator, and the switch's per-payment deadline still bounds
/// the whole exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    #[serde(default = "default_pool_idle_max")]
    pub pool_idle_max: usize,
    #[serde(default)]
    pub version: HttpVersion,
}

/// Which HTTP the client speaks to the network. Over HTTP/1.1 every call in flight holds a
/// connection of its own (a socket, buffers and a TLS session in both processes); over
/// HTTP/2 the calls share one connection as streams, up to the server's
/// `SETTINGS_MAX_CONCURRENT_STREAMS`, beyond which they wait their turn in the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpVersion {
    /// Over TLS, offer `h2` and `http/1.1` by ALPN and take what the server picks; in the
    /// clear, HTTP/1.1. Right for a production endpoint whose support is not known.
    #[default]
    Auto,
    /// HTTP/1.1 only, also over TLS.
    Http1,
    /// HTTP/2 from the first byte (prior knowledge; h2c in the clear). Only for an endpoint
    /// known to speak it, such as Kakehashi's own simulators.
    Http2,
}

/// How often an HTTP/2 connection with calls in flight pings the network, so a connection
/// that died silently fails its calls (and they are queried) instead of waiting out the
/// request timeout one by one.
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(10);

/// Upper bound on any reply body an adapter reads: partners' replies are a few KiB.
pub const RESPONSE_BYTES_MAX: usize = 256 * 1024;

fn default_connect_timeout_ms() -> u64 {
    3_000
}
fn default_request_timeout_ms() -> u64 {
    20_000
}
fn default_pool_idle_max() -> usize {
    16
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            pool_idle_max: default_pool_idle_max(),
            version: HttpVersion::Auto,
        }
    }
}

// === impl HttpSettings ===

impl HttpSettings {
    /// A reqwest client builder with these settings applied; adapters add TLS identities.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(self.connect_timeout_ms))
            .timeout(Duration::from_millis(self.request_timeout_ms))
            .pool_max_idle_per_host(self.pool_idle_max)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none());
        match self.version {
            HttpVersion::Auto => builder,
            HttpVersion::Http1 => builder.http1_only(),
            HttpVersion::Http2 => builder
                .http2_prior_knowledge()
                .http2_keep_alive_interval(Some(HTTP2_PING_INTERVAL))
                .http2_keep_alive_while_idle(false),
        }
    }

    /// The longest one request with these settings can take: reqwest's timeout covers the
    /// whole exchange, connect included.
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn build_client(&self, network: &str) -> Result<reqwest::Client, AdapterError> {
        self.client_builder()
            .build()
            .map_err(|e| AdapterError::Config {
                network: network.to_owned(),
                detail: format!("HTTP client: {e}"),
            })
    }
}

/// Reads a reply body, refusing one larger than [`RESPONSE_BYTES_MAX`].
pub async fn read_body_limited(response: reqwest::Response) -> Result<Vec<u8>, String> {
    if response
        .content_length()
        .is_some_and(|len| len > RESPONSE_BYTES_MAX as u64)
    {
        return Err("reply body too large".to_owned());
    }
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading reply: {e}"))?
    {
        if body.len() + chunk.len() > RESPONSE_BYTES_MAX {
            return Err("reply body too large".to_owned());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
