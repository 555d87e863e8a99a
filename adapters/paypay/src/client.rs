//! The PayPay adapter: OPA-signed requests with explicit timeouts, replies mapped to
//! canonical outcomes.
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use iso_currency::Currency;
use kakehashi_adapter_core::{
    AdapterError, Capabilities, Clock, CodePattern, DeclineReason, MerchantQr, MerchantQrRequest,
    MerchantRef, NetworkProfile, PayOutcome, PayRequest, QueryRequest, RefundOutcome,
    RefundRequest, ReverseOutcome, ReverseRequest, Timing, WalletNetwork, read_body_limited,
};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::sign::{self, Signed};
use crate::{NETWORK_ID, translate, wire};

#[derive(Debug)]
pub struct PayPay {
    config: Config,
    profile: NetworkProfile,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

/// One exchange's result before interpretation.
enum Reply<T> {
    Ok(T),
    /// A PayPay error envelope: HTTP status and `resultInfo.code`.
    Refused {
        status: u16,
        code: String,
    },
    /// HTTP 404 or 405 without a PayPay envelope: something in front of PayPay's API
    /// answered, no API took the request.
    Unrouted(u16),
    /// Timeout, transport error, 5xx, garbled body: nobody knows.
    Unknown(String),
}

// === impl PayPay ===

impl PayPay {
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AdapterError> {
        let http = config.http.build_client(NETWORK_ID)?;
        let profile = NetworkProfile {
            id: NETWORK_ID.into(),
            display_name: "PayPay".into(),
            // Observed PayPay customer code: 24 digits starting 9000818188 (2020, single
            // source). Customer-presented payment itself is a Kakehashi extension.
            code_patterns: vec![CodePattern::new("9000818188", 24, 24).with_brand("PayPay")],
            currencies: vec![Currency::JPY],
            capabilities: Capabilities {
                customer_presented: true,
                merchant_presented: true,
                partial_refund: true,
                multiple_refunds: true,
                refund_query: true,
                refund_idempotent: true,
            },
            timing: Timing {
                // A shown QR stays payable about 5 minutes; polling every 2-3 s per PayPay.
                payment_deadline: Duration::from_secs(300),
                query_first_delay: Duration::from_secs(1),
                query_interval: Duration::from_secs(2),
                reverse_not_before: Duration::ZERO,
                call_timeout: config.http.call_timeout(),
            },
            merchant_id_required: None,
        };
        Ok(Self {
            config,
            profile,
            http,
            clock,
        })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        merchant: &MerchantRef,
    ) -> Reply<T> {
        let body = match body.map(serde_json::to_vec).transpose() {
            Ok(b) => b,
            Err(e) => return Reply::Unknown(format!("encode: {e}")),
        };
        // A full UUID: the 8 characters one SDK sends collide (birthday bound) at volume.
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let epoch = self.clock.now_ms() / 1000;
        let signed = Signed {
            // PayPay signs the path without its query string.
            path: path.split('?').next().unwrap_or(path),
            method: method.as_str(),
            nonce: &nonce,
            epoch,
            body: body
                .as_deref()
                .map(|b| (self.config.content_type.as_str(), b)),
        };
        let auth = sign::authorization(
            &self.config.api_key,
            self.config.api_secret.expose_secret(),
            &signed,
        );
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.config.base_url))
            .header("Authorization", auth);
        if let Some(id) = &merchant.network_merchant_id {
            request = request.header("X-ASSUME-MERCHANT", id);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", &self.config.content_type)
                .body(body);
        }
        let started = Instant::now();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Reply::Unknown(if e.is_timeout() {
                    "timeout".into()
                } else {
                    "transport error".into()
                });
            }
        };
        let status = response.status().as_u16();
        let bytes = match read_body_limited(response).await {
            Ok(b) => b,
            Err(e) => return Reply::Unknown(e),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let envelope: wire::Envelope<T> = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(_) => {
                tracing::warn!(
                    network = NETWORK_ID,
                    path,
                    http_status = status,
                    latency_ms,
                    "PayPay reply garbled"
                );
                if matches!(status, 404 | 405) {
                    return Reply::Unrouted(status);
                }
                return Reply::Unknown(format!("HTTP {status}, unreadable body"));
            }
        };
        tracing::info!(network = NETWORK_ID, %method, path, http_status = status, code = %envelope.result_info.code, latency_ms, "PayPay replied");
        match (status, envelope.data) {
            (200..=202, Some(data)) if envelope.result_info.code == "SUCCESS" => Reply::Ok(data),
            (500..=599, _) => {
                Reply::Unknown(format!("HTTP {status} {}", envelope.result_info.code))
            }
            (200..=202, None) if envelope.result_info.code == "REQUEST_ACCEPTED" => {
                Reply::Refused {
                    status,
                    code: "REQUEST_ACCEPTED".into(),
                }
            }
            (_, _) => Reply::Refused {
                status,
                code: envelope.result_info.code,
            },
        }
    }

    fn pay_refused(status: u16, code: String) -> PayOutcome {
        match translate::refusal(status, &code) {
            Some((reason, network_code)) => PayOutcome::Declined {
                reason,
                network_code,
            },
            None => PayOutcome::Unknown {
                detail: format!("PayPay {code}"),
            },
        }
    }

    async fn details(&self, path: &str, merchant: &MerchantRef) -> Reply<wire::PaymentData> {
        self.call::<(), wire::PaymentData>(reqwest::Method::GET, path, None, merchant)
            .await
    }
}

#[async_trait]
impl WalletNetwork for PayPay {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    /// Kakehashi extension: charges a scanned PayPay code (not part of PayPay's API).
    async fn pay(&self, request: &PayRequest) -> PayOutcome {
        let Some(amount) = translate::amount(&request.amount) else {
            return PayOutcome::Declined {
                reason: kakehashi_adapter_core::DeclineReason::CurrencyNotSupported,
                network_code: "JPY_ONLY".into(),
            };
        };
        let body = wire::ExtScanRequest {
            merchant_payment_id: request.payment_id.clone(),
            kakehashi_customer_code: request.code.expose().to_owned(),
            amount,
            requested_at: self.clock.now_ms() / 1000,
            order_description: request.description.clone(),
            store_id: Some(request.merchant.store_id.clone()).filter(|s| !s.is_empty()),
            terminal_id: Some(request.merchant.terminal_id.clone()).filter(|s| !s.is_empty()),
        };
        tracing::info!(network = NETWORK_ID, payment_id = %request.payment_id, code = %request.code, "PayPay scan (Kakehashi extension)");
        match self
            .call::<_, wire::PaymentData>(
                reqwest::Method::POST,
                wire::EXT_SCAN_PATH,
                Some(&body),
                &request.merchant,
            )
            .await
        {
            Reply::Ok(data) => translate::payment_status(&data),
            Reply::Refused { status, code } => Self::pay_refused(status, code),
            Reply::Unrouted(status) => Self::pay_refused(status, String::new()),
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
        }
    }

    /// Dynamic-QR payment details first (merchant-presented), then payment details
    /// (scanned codes); a QR nobody has paid yet is awaiting the customer.
    async fn query(&self, request: &QueryRequest) -> PayOutcome {
        match self
            .details(
                &wire::qr_payment_path(&request.payment_id),
                &request.merchant,
            )
            .await
        {
            Reply::Ok(data) => return translate::payment_status(&data),
            Reply::Unknown(detail) => return PayOutcome::Unknown { detail },
            // Not a QR payment (or that API not served): ask about a scanned payment.
            Reply::Refused { status: 404, .. } | Reply::Unrouted(_) => {}
            // A refused query says nothing about the payment (money may have moved).
            Reply::Refused { code, .. } => {
                return PayOutcome::Unknown {
                    detail: format!("query refused: {code}"),
                };
            }
        }
        match self
            .details(&wire::payment_path(&request.payment_id), &request.merchant)
            .await
        {
            Reply::Ok(data) => translate::payment_status(&data),
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
            Reply::Unrouted(status) => PayOutcome::Unknown {
                detail: format!("payment details not served: HTTP {status}"),
            },
            Reply::Refused { code, .. } => PayOutcome::Unknown {
                detail: format!("query refused: {code}"),
            },
        }
    }

    /// Deletes a shown QR first (so nobody can pay it afterwards), then cancels the payment
    /// (`DELETE /v2/payments/{id}`: accepted asynchronously, PayPay guarantees the money goes
    /// back). A payment PayPay never saw (404) has nothing to return.
    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome {
        // Until the customer pays, the network reference is the QR's code id (`04-...`).
        if let Some(code_id) = request
            .network_txn_id
            .as_deref()
            .filter(|id| id.starts_with("04-"))
        {
            let path = wire::code_path(code_id);
            match self
                .call::<(), serde_json::Value>(
                    reqwest::Method::DELETE,
                    &path,
                    None,
                    &request.merchant,
                )
                .await
            {
                Reply::Unknown(detail) => return ReverseOutcome::Retry { detail },
                // The QR may still be payable: it must be deleted before the cancel.
                Reply::Unrouted(status) => {
                    return ReverseOutcome::Retry {
                        detail: format!("QR delete not served: HTTP {status}"),
                    };
                }
                Reply::Ok(_) | Reply::Refused { .. } => {}
            }
        }
        let path = wire::payment_path(&request.payment_id);
        match self
            .call::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None, &request.merchant)
            .await
        {
            Reply::Refused { status: 202, .. } | Reply::Ok(_) => ReverseOutcome::Reversed,
            Reply::Refused { status: 404, .. } => ReverseOutcome::Reversed,
            Reply::Refused { status: 429, code } => ReverseOutcome::Retry { detail: code },
            Reply::Refused { code, .. } => ReverseOutcome::Refused {
                network_code: code,
                detail: "cancel refused".into(),
            },
            Reply::Unrouted(status) => ReverseOutcome::Retry {
                detail: format!("cancel not served: HTTP {status}"),
            },
            Reply::Unknown(detail) => ReverseOutcome::Retry { detail },
        }
    }

    async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let (Some(amount), Some(payment_id)) = (
            translate::amount(&request.amount),
            request.network_txn_id.clone(),
        ) else {
            return RefundOutcome::Declined {
                reason: kakehashi_adapter_core::DeclineReason::InvalidRequest,
                network_code: "NO_PAYMENT_ID".into(),
            };
        };
        let body = wire::RefundRequest {
            merchant_refund_id: request.refund_id.clone(),
            payment_id,
            amount,
            requested_at: self.clock.now_ms() / 1000,
            reason: request.reason.clone(),
        };
        match self
            .call::<_, wire::RefundData>(
                reqwest::Method::POST,
                wire::REFUNDS_PATH,
                Some(&body),
                &request.merchant,
            )
            .await
        {
            Reply::Ok(data) => translate::refund_status(&data),
            Reply::Refused { status, code } => match translate::refusal(status, &code) {
                Some((reason, network_code)) => RefundOutcome::Declined {
                    reason,
                    network_code,
                },
                None => RefundOutcome::Unknown { detail: code },
            },
            Reply::Unrouted(status) => RefundOutcome::Declined {
                reason: DeclineReason::NetworkUnsupported,
                network_code: format!("HTTP {status}"),
            },
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
        }
    }

    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        let Some(payment_id) = request.network_txn_id.as_deref() else {
            return RefundOutcome::Unknown {
                detail: "no PayPay paymentId to ask about".into(),
            };
        };
        let path = wire::refund_path(&request.refund_id, payment_id);
        match self
            .call::<(), wire::RefundData>(reqwest::Method::GET, &path, None, &request.merchant)
            .await
        {
            Reply::Ok(data) => translate::refund_status(&data),
            // PayPay holds no refund under this merchantRefundId: the request never arrived.
            // merchantRefundId is idempotent, so it may be sent again.
            Reply::Refused {
                status: 404, code, ..
            } => RefundOutcome::NotTaken { detail: code },
            Reply::Refused { code, .. } => RefundOutcome::Unknown { detail: code },
            Reply::Unrouted(status) => RefundOutcome::Unknown {
                detail: format!("refund details not served: HTTP {status}"),
            },
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
        }
    }

    async fn create_merchant_qr(
        &self,
        request: &MerchantQrRequest,
    ) -> Result<MerchantQr, AdapterError> {
        let unsupported = |detail: String| AdapterError::Network {
            network: NETWORK_ID.into(),
            detail,
        };
        let amount = translate::amount(&request.amount)
            .ok_or_else(|| unsupported("PayPay takes JPY only".into()))?;
        let body = wire::CreateQrRequest {
            merchant_payment_id: request.payment_id.clone(),
            amount,
            code_type: "ORDER_QR".into(),
            order_description: request.description.clone(),
            is_authorization: false,
            requested_at: self.clock.now_ms() / 1000,
            store_id: Some(request.merchant.store_id.clone()).filter(|s| !s.is_empty()),
            terminal_id: Some(request.merchant.terminal_id.clone()).filter(|s| !s.is_empty()),
        };
        match self
            .call::<_, wire::QrData>(
                reqwest::Method::POST,
                wire::CODES_PATH,
                Some(&body),
                &request.merchant,
            )
            .await
        {
            Reply::Ok(qr) => Ok(MerchantQr {
                qr_payload: qr.url,
                network_code_id: Some(qr.code_id),
                expires_at_ms: Some(qr.expiry_date.saturating_mul(1000)),
            }),
            Reply::Refused { code, .. } => {
                Err(unsupported(format!("PayPay refused the QR: {code}")))
            }
            // Not processed: nothing was created, so nothing needs closing.
            Reply::Unrouted(status) => Err(unsupported(format!(
                "PayPay did not serve the QR API: HTTP {status}"
            ))),
            Reply::Unknown(detail) => Err(AdapterError::NoAnswer {
                network: NETWORK_ID.into(),
                detail,
            }),
        }
    }
}
