//! The LINE Pay adapter: signs each request, sends it with explicit timeouts, and maps the
//! reply to a canonical outcome.
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kakehashi_adapter_core::{
    AdapterError, Capabilities, Clock, CodePattern, DeclineReason, NetworkProfile, PayOutcome,
    PayRequest, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest, Timing,
    WalletNetwork, read_body_limited,
};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::translate::{self, CodeClass};
use crate::{NETWORK_ID, sign, wire};

#[derive(Debug)]
pub struct LinePay {
    config: Config,
    profile: NetworkProfile,
    http: reqwest::Client,
}

/// What came back from one exchange, before interpretation.
enum Reply<T> {
    /// A well-formed envelope.
    Envelope(wire::Envelope<T>),
    /// HTTP 404 or 405: no LINE Pay API took the request. LINE Pay answers every API call,
    /// refusals included, with HTTP 200, so these come from the HTTP layer (an unknown path
    /// or method): the request was not processed.
    Unrouted(u16),
    /// No usable answer: timeout, transport error, other HTTP error, garbled body.
    Unknown(String),
}

// === impl LinePay ===

impl LinePay {
    /// The clock is not needed: LINE Pay's nonces are UUIDs and its timing rules are the
    /// switch's.
    pub fn new(config: Config, _clock: Arc<dyn Clock>) -> Result<Self, AdapterError> {
        let http = config.http.build_client(NETWORK_ID)?;
        let profile = NetworkProfile {
            id: NETWORK_ID.into(),
            display_name: "LINE Pay".into(),
            // JP MyCode: 19 digits starting 9000000000 (the only observed prefix). TW (18
            // digits) and TH (12 digits) codes have no documented prefix: an operator adds
            // their rows under `code_patterns` in the config.
            code_patterns: vec![CodePattern::new("9000000000", 19, 19).with_brand("LINE Pay")],
            currencies: config.currencies()?,
            capabilities: Capabilities {
                customer_presented: true,
                merchant_presented: false,
                partial_refund: true,
                multiple_refunds: true,
                // Payment details lists a payment's refunds, by LINE Pay's id only.
                refund_query: true,
                // No refund id: every refund request may refund again.
                refund_idempotent: false,
            },
            timing: Timing {
                payment_deadline: Duration::from_secs(60),
                query_first_delay: Duration::from_secs(1),
                query_interval: Duration::from_secs(2),
                reverse_not_before: Duration::ZERO,
                call_timeout: config
                    .http
                    .call_timeout()
                    .max(Duration::from_millis(config.pay_timeout_ms)),
            },
            merchant_id_required: None,
        };
        Ok(Self {
            config,
            profile,
            http,
        })
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Reply<T> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let secret = self.config.channel_secret.expose_secret();
        let signature = sign::signature(secret, path, &body, &nonce);
        let request = self
            .http
            .post(format!("{}{path}", self.config.base_url))
            .header("Content-Type", "application/json")
            .body(body);
        self.send(request, path, &nonce, &signature, timeout).await
    }

    /// A GET; `query` (without `?`, already encoded) is signed as sent.
    async fn get<T: DeserializeOwned>(&self, path: &str, query: &str) -> Reply<T> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let signature = sign::signature(
            self.config.channel_secret.expose_secret(),
            path,
            query.as_bytes(),
            &nonce,
        );
        let url = if query.is_empty() {
            format!("{}{path}", self.config.base_url)
        } else {
            format!("{}{path}?{query}", self.config.base_url)
        };
        let request = self.http.get(url);
        let timeout = Duration::from_millis(self.config.http.request_timeout_ms);
        self.send(request, path, &nonce, &signature, timeout).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
        nonce: &str,
        signature: &str,
        timeout: Duration,
    ) -> Reply<T> {
        let mut request = request
            .timeout(timeout)
            .header("X-LINE-ChannelId", &self.config.channel_id)
            .header("X-LINE-Authorization-Nonce", nonce)
            .header("X-LINE-Authorization", signature);
        if let Some(device) = &self.config.device_profile_id {
            request = request
                .header("X-LINE-MerchantDeviceProfileId", device)
                .header("X-LINE-MerchantDeviceType", "POS");
        }
        let started = Instant::now();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else {
                    "transport error"
                };
                tracing::warn!(
                    network = NETWORK_ID,
                    path,
                    latency_ms = started.elapsed().as_millis() as u64,
                    "LINE Pay {kind}"
                );
                return Reply::Unknown(kind.into());
            }
        };
        let status = response.status();
        let body = match read_body_limited(response).await {
            Ok(b) => b,
            Err(e) => return Reply::Unknown(e),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        if !status.is_success() {
            tracing::warn!(
                network = NETWORK_ID,
                path,
                http_status = status.as_u16(),
                latency_ms,
                "LINE Pay HTTP error"
            );
            return match status.as_u16() {
                code @ (404 | 405) => Reply::Unrouted(code),
                code => Reply::Unknown(format!("HTTP {code}")),
            };
        }
        match serde_json::from_slice::<wire::Envelope<T>>(&body) {
            Ok(envelope) if envelope.return_code.len() == 4 => {
                tracing::info!(network = NETWORK_ID, path, return_code = %envelope.return_code, latency_ms, "LINE Pay replied");
                Reply::Envelope(envelope)
            }
            _ => {
                tracing::warn!(
                    network = NETWORK_ID,
                    path,
                    latency_ms,
                    "LINE Pay reply garbled"
                );
                Reply::Unknown("garbled reply".into())
            }
        }
    }

    async fn check(&self, order_id: &str, amount: &kakehashi_adapter_core::Money) -> PayOutcome {
        match self
            .get::<wire::CheckInfo>(&wire::check_path(order_id), "")
            .await
        {
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
            // A check that reached no API says nothing about the payment.
            Reply::Unrouted(status) => PayOutcome::Unknown {
                detail: format!("check not served: HTTP {status}"),
            },
            Reply::Envelope(e) if e.return_code == "0000" => match e.info {
                Some(info) => check_outcome(&info, amount),
                None => PayOutcome::Unknown {
                    detail: "check without info".into(),
                },
            },
            // Not found: the order may still be in flight, or never arrived. Only the
            // deadline's void decides.
            Reply::Envelope(e) if e.return_code == "1150" => PayOutcome::Unknown {
                detail: "order not found (1150)".into(),
            },
            // Any other refusal of the check (header error, internal error) says nothing
            // about the payment itself: money may have moved.
            Reply::Envelope(e) => PayOutcome::Unknown {
                detail: format!("check refused: returnCode {}", e.return_code),
            },
        }
    }

    async fn refund_order(
        &self,
        order_id: &str,
        amount: Option<&kakehashi_adapter_core::Money>,
    ) -> RefundOutcome {
        let body = wire::RefundRequest {
            refund_amount: amount.map(|a| wire::number(&a.amount())),
        };
        let Ok(body) = serde_json::to_vec(&body) else {
            return RefundOutcome::Unknown {
                detail: "cannot encode refund".into(),
            };
        };
        let timeout = Duration::from_millis(self.config.http.request_timeout_ms);
        match self
            .post::<wire::RefundInfo>(&wire::refund_path(order_id), body, timeout)
            .await
        {
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
            Reply::Unrouted(status) => RefundOutcome::Declined {
                reason: DeclineReason::NetworkUnsupported,
                network_code: format!("HTTP {status}"),
            },
            Reply::Envelope(e) if e.return_code == "0000" => match e.info {
                Some(info) => RefundOutcome::Succeeded {
                    network_refund_id: info.refund_transaction_id.to_string(),
                },
                None => RefundOutcome::Unknown {
                    detail: "refund without info".into(),
                },
            },
            Reply::Envelope(e) => translate::refund_outcome_for_code(&e.return_code),
        }
    }
}

fn check_outcome(info: &wire::CheckInfo, amount: &kakehashi_adapter_core::Money) -> PayOutcome {
    match info.status.as_str() {
        // REFUND: it was paid (and refunded since); the payment itself succeeded.
        "COMPLETE" | "REFUND" => match info.transaction_id {
            Some(id) => translate::paid(id, &info.pay_info, amount),
            None => PayOutcome::Unknown {
                detail: "COMPLETE without transactionId".into(),
            },
        },
        "FAIL" => PayOutcome::Declined {
            reason: DeclineReason::Other,
            network_code: "FAIL".into(),
        },
        other => PayOutcome::Unknown {
            detail: format!("check status {other}"),
        },
    }
}

#[async_trait]
impl WalletNetwork for LinePay {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    async fn pay(&self, request: &PayRequest) -> PayOutcome {
        let body = translate::pay_body(request);
        let Ok(body) = serde_json::to_vec(&body) else {
            return PayOutcome::Unknown {
                detail: "cannot encode pay".into(),
            };
        };
        tracing::info!(network = NETWORK_ID, payment_id = %request.payment_id, code = %request.code, amount = %request.amount, "LINE Pay pay");
        let timeout = Duration::from_millis(self.config.pay_timeout_ms);
        match self
            .post::<wire::PayInfo>(wire::PAY_PATH, body, timeout)
            .await
        {
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
            Reply::Unrouted(status) => PayOutcome::Declined {
                reason: DeclineReason::NetworkUnsupported,
                network_code: format!("HTTP {status}"),
            },
            Reply::Envelope(e) if e.return_code == "0000" => match e.info {
                Some(info) if info.order_id == request.payment_id => {
                    translate::paid(info.transaction_id, &info.pay_info, &request.amount)
                }
                _ => PayOutcome::Unknown {
                    detail: "success reply for another order or without info".into(),
                },
            },
            Reply::Envelope(e) => translate::pay_outcome_for_code(&e.return_code),
        }
    }

    async fn query(&self, request: &QueryRequest) -> PayOutcome {
        self.check(&request.payment_id, &request.amount).await
    }

    /// Void, and for a captured payment (void answers 1155) a full refund, so no money
    /// remains with the merchant either way. An order LINE Pay never saw (1150) is reversed
    /// by definition: nothing moved.
    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome {
        let timeout = Duration::from_millis(self.config.http.request_timeout_ms);
        let void = self
            .post::<serde_json::Value>(
                &wire::void_path(&request.payment_id),
                b"{}".to_vec(),
                timeout,
            )
            .await;
        let code = match void {
            Reply::Unknown(detail) => return ReverseOutcome::Retry { detail },
            Reply::Unrouted(status) => {
                return ReverseOutcome::Retry {
                    detail: format!("void not served: HTTP {status}"),
                };
            }
            Reply::Envelope(e) => e.return_code,
        };
        match code.as_str() {
            "0000" | "1150" | "1165" => ReverseOutcome::Reversed,
            "1155" => match self.refund_order(&request.payment_id, None).await {
                RefundOutcome::Succeeded { .. } => ReverseOutcome::Reversed,
                RefundOutcome::Declined { network_code, .. } if network_code == "1165" => {
                    ReverseOutcome::Reversed
                }
                RefundOutcome::Declined {
                    network_code,
                    reason,
                } => ReverseOutcome::Refused {
                    network_code,
                    detail: format!("full refund refused: {}", reason.as_str()),
                },
                other => ReverseOutcome::Retry {
                    detail: format!("{other:?}"),
                },
            },
            other => match translate::classify(other) {
                CodeClass::Declined(reason) => ReverseOutcome::Refused {
                    network_code: other.to_owned(),
                    detail: reason.as_str().to_owned(),
                },
                _ => ReverseOutcome::Retry {
                    detail: format!("void returnCode {other}"),
                },
            },
        }
    }

    async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let partial = request.amount != request.payment_amount;
        // LINE Pay has no refund idempotency key: the switch sends a refund once and only
        // re-sends after it knows the first failed.
        self.refund_order(&request.payment_id, partial.then_some(&request.amount))
            .await
    }

    /// Reads Payment details for the order and looks for this refund in its `refundList`
    /// (see `translate::refund_in_details`). Anything short of a clear answer is `Unknown`.
    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        let query = wire::details_query(&request.payment_id);
        match self
            .get::<Vec<wire::PaymentDetails>>(wire::DETAILS_PATH, &query)
            .await
        {
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
            Reply::Unrouted(status) => RefundOutcome::Unknown {
                detail: format!("payment details not served: HTTP {status}"),
            },
            Reply::Envelope(e) if e.return_code == "0000" => match e.info {
                Some(details) => translate::refund_in_details(&details, request),
                None => RefundOutcome::Unknown {
                    detail: "payment details without info".into(),
                },
            },
            Reply::Envelope(e) => RefundOutcome::Unknown {
                detail: format!("payment details refused: returnCode {}", e.return_code),
            },
        }
    }
}
