//! Auditor authentication on the auditor listener, for gRPC and tile requests alike: a
//! bearer token whose SHA-256 is listed in `[[audit.auditors]]`. With mutual TLS only (no
//! tokens listed), the TLS handshake has already required a certificate from the CA.
//! Terminal API keys mean nothing here.
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::reason::AuditReason;
use crate::audit::config::AuditorConfig;

/// Longest bearer token read; anything longer is refused unread.
const TOKEN_LENGTH_MAX: usize = 512;

/// SHA-256(token) to auditor name; only hashes are held.
#[derive(Debug, Clone, Default)]
pub struct AuditorAuth {
    by_token_hash: Arc<HashMap<String, String>>,
}

/// Who an authenticated request comes from, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auditor(pub String);

// === impl AuditorAuth ===

impl AuditorAuth {
    pub fn new(auditors: &[AuditorConfig]) -> Self {
        Self {
            by_token_hash: Arc::new(
                auditors
                    .iter()
                    .map(|a| (a.token_sha256.to_ascii_lowercase(), a.name.clone()))
                    .collect(),
            ),
        }
    }

    /// Tokens are required whenever any are configured.
    pub fn tokens_required(&self) -> bool {
        !self.by_token_hash.is_empty()
    }

    pub fn identify(&self, headers: &HeaderMap) -> Result<Auditor, AuditReason> {
        if !self.tokens_required() {
            return Ok(Auditor("mutual-tls".into()));
        }
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(AuditReason::CredentialsMissing)?;
        let token = value
            .to_str()
            .ok()
            .filter(|v| v.len() <= TOKEN_LENGTH_MAX)
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| !t.is_empty())
            .ok_or(AuditReason::CredentialsInvalid)?;
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        self.by_token_hash
            .get(&hash)
            .map(|name| Auditor(name.clone()))
            .ok_or(AuditReason::CredentialsInvalid)
    }
}

/// The middleware: refuses unauthenticated requests in their protocol's own way (a gRPC
/// status with an `ErrorInfo`, or HTTP 401 with `WWW-Authenticate: Bearer`).
pub async fn authenticate(
    State(auth): State<AuditorAuth>,
    mut request: Request,
    next: Next,
) -> Response {
    match auth.identify(request.headers()) {
        Ok(auditor) => {
            let span =
                tracing::info_span!("audit", auditor = %auditor.0, path = %request.uri().path());
            request.extensions_mut().insert(auditor);
            next.run(request).instrument(span).await
        }
        Err(reason) => {
            tracing::info!(reason = reason.as_str(), path = %request.uri().path(), "Auditor refused");
            if is_grpc(request.headers()) {
                let message = match reason {
                    AuditReason::CredentialsMissing => {
                        "missing authorization metadata: send `Bearer <auditor token>`"
                    }
                    _ => "unknown auditor token",
                };
                reason.status(message, &[]).into_http::<Body>()
            } else {
                let mut response =
                    (StatusCode::UNAUTHORIZED, "auditor credentials required\n").into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"kakehashi-audit\""),
                );
                response
            }
        }
    }
}

pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}
