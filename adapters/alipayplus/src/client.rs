//! The Alipay+ adapter: RSA256-signed JSON requests, verified replies, the S/F/U model.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use iso_currency::Currency;
use kakehashi_adapter_core::{
    AdapterError, Capabilities, Clock, CodePattern, DeclineReason, MerchantRef, NetworkProfile,
    Paid, PayOutcome, PayRequest, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome,
    ReverseRequest, Timing, WalletNetwork, read_body_limited,
};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Config;
use crate::sign::{self, Signer, Verifier};
use crate::{NETWORK_ID, translate, wire};

/// Alipay+ code prefixes: 25-30.
const PREFIXES: [&str; 6] = ["25", "26", "27", "28", "29", "30"];

#[derive(Debug)]
pub struct AlipayPlus {
    config: Config,
    profile: NetworkProfile,
    signer: Signer,
    verifier: Verifier,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    /// Last Request-Time sent (ms): each request gets a later one, so no two signed
    /// requests are byte-identical and a network's replay guard never mistakes a retry.
    last_request_ms: AtomicI64,
}

/// Why an exchange left no reply to interpret.
#[derive(Debug)]
enum CallError {
    /// HTTP 404 or 405: no Alipay+ API took the request. Alipay+ answers its APIs with a
    /// signed result (an unknown one with `INVALID_API`), so this comes from the HTTP layer in
    /// front (an unknown path or method): the request was not processed.
    Unrouted(u16),
    /// No usable answer: timeout, transport, another HTTP status, a garbled or unverifiable
    /// reply. The network may have acted.
    NoAnswer(String),
}

impl From<String> for CallError {
    fn from(detail: String) -> Self {
        Self::NoAnswer(detail)
    }
}

impl From<&str> for CallError {
    fn from(detail: &str) -> Self {
        Self::NoAnswer(detail.to_owned())
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unrouted(status) => write!(f, "not served: HTTP {status}"),
            Self::NoAnswer(detail) => f.write_str(detail),
        }
    }
}

/// A pay or refund that reached no API was not processed: declined at once.
fn unrouted_code(status: u16) -> (DeclineReason, String) {
    (DeclineReason::NetworkUnsupported, format!("HTTP {status}"))
}

// === impl AlipayPlus ===

impl AlipayPlus {
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: NETWORK_ID.into(),
            detail,
        };
        let signer = Signer::from_pkcs8_pem(config.private_key_pem.expose_secret())
            .map_err(|e| bad(format!("private_key_pem: {e}")))?;
        let verifier = Verifier::from_pem(&config.alipay_public_key_pem)
            .map_err(|e| bad(format!("alipay_public_key_pem: {e}")))?;
        let http = config.http.build_client(NETWORK_ID)?;
        // General rule: digits, prefix 25-30, 16-24 long, up to 32 accepted. CGCP codes
        // carry a 3-digit routing number after the prefix and a 1-digit agreement id
        // (`^(2[5-9]|30)\d<routing>\d*$`): those rows name the wallet before the payment, one
        // per prefix and agreement digit, since the code table matches plain prefixes.
        let mut code_patterns: Vec<CodePattern> = PREFIXES
            .iter()
            .map(|p| CodePattern::new(p, 16, 32))
            .collect();
        for wallet in &config.wallets {
            for p in PREFIXES {
                for agreement in 0..=9 {
                    code_patterns.push(
                        CodePattern::new(
                            &format!("{p}{agreement}{}", wallet.routing_number),
                            16,
                            32,
                        )
                        .with_brand(&wallet.brand),
                    );
                }
            }
        }
        let profile = NetworkProfile {
            id: NETWORK_ID.into(),
            display_name: "Alipay+".into(),
            code_patterns,
            currencies: vec![Currency::JPY, Currency::USD],
            capabilities: Capabilities {
                customer_presented: true,
                merchant_presented: false,
                partial_refund: true,
                multiple_refunds: true,
                refund_query: true,
                refund_idempotent: true,
            },
            timing: Timing {
                payment_deadline: Duration::from_secs(60),
                query_first_delay: Duration::from_secs(2),
                query_interval: Duration::from_secs(3),
                reverse_not_before: Duration::ZERO,
                // A successful pay is followed by one inquiryPayment for its settlement
                // quote, within the same operation: two requests at most.
                call_timeout: config.http.call_timeout() * 2,
            },
            merchant_id_required: None,
        };
        Ok(Self {
            config,
            profile,
            signer,
            verifier,
            http,
            clock,
            last_request_ms: AtomicI64::new(0),
        })
    }

    /// One signed exchange. `Err` is an unknown outcome (transport, HTTP, garbled, or a reply
    /// whose signature does not verify).
    async fn call<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<wire::PaymentReply, CallError> {
        let body = serde_json::to_vec(body).map_err(|e| format!("encode: {e}"))?;
        let now = self.clock.now_ms();
        let previous = self.last_request_ms.fetch_max(now, Ordering::SeqCst);
        let ms = if previous >= now {
            self.last_request_ms.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            now
        };
        let request_time = iso8601_millis(ms);
        let content = sign::content("POST", path, &self.config.client_id, &request_time, &body);
        let signature = self.signer.header(&content).ok_or("signing failed")?;
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}{path}", self.config.base_url))
            .header("Content-Type", "application/json; charset=UTF-8")
            .header("Client-Id", &self.config.client_id)
            .header("Request-Time", &request_time)
            .header("Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                CallError::from(if e.is_timeout() {
                    "timeout"
                } else {
                    "transport error"
                })
            })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (signature, response_time) = (header("signature"), header("response-time"));
        let bytes = read_body_limited(response).await?;
        let latency_ms = started.elapsed().as_millis() as u64;
        if !(200..300).contains(&status) {
            tracing::warn!(
                network = NETWORK_ID,
                path,
                http_status = status,
                latency_ms,
                "Alipay+ HTTP error"
            );
            return Err(match status {
                404 | 405 => CallError::Unrouted(status),
                _ => CallError::NoAnswer(format!("HTTP {status}")),
            });
        }
        let (Some(signature), Some(response_time)) = (signature, response_time) else {
            return Err(CallError::from("unsigned reply"));
        };
        let content = sign::content("POST", path, &self.config.client_id, &response_time, &bytes);
        if !self.verifier.verify_header(&signature, &content) {
            tracing::warn!(
                network = NETWORK_ID,
                path,
                "Alipay+ reply signature does not verify"
            );
            return Err(CallError::from("reply signature does not verify"));
        }
        let reply: wire::PaymentReply =
            serde_json::from_slice(&bytes).map_err(|_| "garbled reply".to_owned())?;
        let result = reply
            .result
            .as_ref()
            .map(|r| format!("{} {}", r.result_status, r.result_code))
            .unwrap_or_default();
        tracing::info!(network = NETWORK_ID, path, result = %result, latency_ms, "Alipay+ replied");
        Ok(reply)
    }

    /// The merchant and its store as Alipay+ knows them. The store is the paying terminal's
    /// (`referenceStoreId`), omitted when the switch knows none rather than replaced by the
    /// merchant's id; the store takes the merchant's name and category, having none of its own.
    fn merchant(&self, m: &MerchantRef) -> wire::Merchant {
        let id = m
            .network_merchant_id
            .clone()
            .unwrap_or_else(|| m.merchant_id.clone());
        let present = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        wire::Merchant {
            reference_merchant_id: id,
            merchant_mcc: present(&m.category_code),
            merchant_name: present(&m.name),
            store: wire::Store {
                reference_store_id: present(&m.store_id),
                store_name: present(&m.name),
                store_mcc: present(&m.category_code),
                store_terminal_id: present(&m.terminal_id),
            },
        }
    }
}

impl AlipayPlus {
    /// `pay` answers without settlement: Alipay+ gives `settlementAmount`/`settlementQuote`
    /// in inquiryPayment (and notifyPayment), so a paid payment is inquired once for them.
    /// If that inquiry fails the payment is still paid; it just carries no quote yet.
    async fn with_settlement(&self, mut paid: Paid, payment_request_id: &str) -> Paid {
        let body = wire::ByRequestId {
            payment_request_id: payment_request_id.to_owned(),
        };
        match self.call(wire::INQUIRY_PATH, &body).await {
            Ok(reply) => match reply
                .payment_result
                .as_ref()
                .map(|r| translate::outcome(r, &reply))
            {
                Some(PayOutcome::Succeeded(inquired)) => {
                    paid.settlement_quote = inquired.settlement_quote;
                    if paid.wallet_amount.is_none() {
                        paid.wallet_amount = inquired.wallet_amount;
                    }
                }
                other => {
                    tracing::warn!(network = NETWORK_ID, payment_request_id, outcome = ?other, "Inquiry after success carried no settlement");
                }
            },
            Err(error) => {
                tracing::warn!(network = NETWORK_ID, payment_request_id, detail = %error, "Inquiry for settlement failed");
            }
        }
        paid
    }
}

#[async_trait]
impl WalletNetwork for AlipayPlus {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    async fn pay(&self, request: &PayRequest) -> PayOutcome {
        let body = wire::PayRequest {
            payment_request_id: request.payment_id.clone(),
            order: wire::Order {
                reference_order_id: request.payment_id.clone(),
                order_description: Some(request.description.clone())
                    .filter(|d| !d.is_empty())
                    .or_else(|| Some(request.merchant.name.clone()).filter(|n| !n.is_empty())),
                order_amount: translate::amount(&request.amount),
                merchant: self.merchant(&request.merchant),
            },
            payment_amount: translate::amount(&request.amount),
            payment_method: wire::PaymentMethod {
                payment_method_type: "CONNECT_WALLET".into(),
                payment_method_id: request.code.expose().to_owned(),
            },
            payment_factor: wire::PaymentFactor {
                is_in_store_payment: "true".into(),
                in_store_payment_scenario: "PaymentCode".into(),
            },
            settlement_strategy: wire::SettlementStrategy {
                settlement_currency: self.config.settlement_currency.clone(),
            },
        };
        tracing::info!(network = NETWORK_ID, payment_id = %request.payment_id, code = %request.code, amount = %request.amount, "Alipay+ pay");
        let outcome = match self.call(wire::PAY_PATH, &body).await {
            Err(CallError::Unrouted(status)) => {
                let (reason, network_code) = unrouted_code(status);
                PayOutcome::Declined {
                    reason,
                    network_code,
                }
            }
            Err(CallError::NoAnswer(detail)) => PayOutcome::Unknown { detail },
            Ok(reply) => match &reply.result {
                Some(result) => translate::outcome(result, &reply),
                None => PayOutcome::Unknown {
                    detail: "reply without result".into(),
                },
            },
        };
        match outcome {
            PayOutcome::Succeeded(paid) if paid.settlement_quote.is_none() => {
                PayOutcome::Succeeded(self.with_settlement(paid, &request.payment_id).await)
            }
            other => other,
        }
    }

    async fn query(&self, request: &QueryRequest) -> PayOutcome {
        let body = wire::ByRequestId {
            payment_request_id: request.payment_id.clone(),
        };
        match self.call(wire::INQUIRY_PATH, &body).await {
            // An inquiry that reached no API says nothing about the payment.
            Err(error) => PayOutcome::Unknown {
                detail: error.to_string(),
            },
            Ok(reply) => match (&reply.result, &reply.payment_result) {
                (Some(r), Some(payment)) if r.result_status == "S" => {
                    translate::outcome(payment, &reply)
                }
                (Some(r), _) => PayOutcome::Unknown {
                    detail: format!("inquiry {} {}", r.result_status, r.result_code),
                },
                (None, _) => PayOutcome::Unknown {
                    detail: "inquiry without result".into(),
                },
            },
        }
    }

    /// `cancelPayment`: idempotent; returns the money for a paid payment; Alipay+ lets
    /// cancel win over any later success. Allowed until 00:15 (UTC+8) the next day.
    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome {
        let body = wire::ByRequestId {
            payment_request_id: request.payment_id.clone(),
        };
        match self.call(wire::CANCEL_PATH, &body).await {
            Err(error) => ReverseOutcome::Retry {
                detail: error.to_string(),
            },
            Ok(reply) => match reply.result {
                Some(r) if r.result_status == "S" => ReverseOutcome::Reversed,
                // Alipay+ never saw the payment: nothing moved.
                Some(r) if r.result_code == "ORDER_NOT_EXIST" => ReverseOutcome::Reversed,
                Some(r) if r.result_status == "F" => ReverseOutcome::Refused {
                    network_code: r.result_code,
                    detail: r.result_message,
                },
                Some(r) => ReverseOutcome::Retry {
                    detail: format!("{} {}", r.result_status, r.result_code),
                },
                None => ReverseOutcome::Retry {
                    detail: "reply without result".into(),
                },
            },
        }
    }

    async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let body = wire::RefundRequest {
            refund_request_id: request.refund_id.clone(),
            payment_request_id: request.payment_id.clone(),
            refund_amount: translate::amount(&request.amount),
            refund_reason: Some(request.reason.clone()).filter(|r| !r.is_empty()),
        };
        match self.call(wire::REFUND_PATH, &body).await {
            Err(CallError::Unrouted(status)) => {
                let (reason, network_code) = unrouted_code(status);
                RefundOutcome::Declined {
                    reason,
                    network_code,
                }
            }
            Err(CallError::NoAnswer(detail)) => RefundOutcome::Unknown { detail },
            Ok(reply) => match reply.result {
                Some(r) if r.result_status == "S" => RefundOutcome::Succeeded {
                    network_refund_id: reply.refund_id.unwrap_or(request.refund_id.clone()),
                },
                Some(r) if r.result_status == "F" => {
                    let reason = match r.result_code.as_str() {
                        "REFUND_AMOUNT_EXCEED"
                        | "REFUND_WINDOW_EXCEED"
                        | "ORDER_STATUS_INVALID" => DeclineReason::RefundNotAllowed,
                        code => translate::failure_reason(code),
                    };
                    RefundOutcome::Declined {
                        reason,
                        network_code: r.result_code,
                    }
                }
                Some(r) => RefundOutcome::Unknown {
                    detail: format!("{} {}", r.result_status, r.result_code),
                },
                None => RefundOutcome::Unknown {
                    detail: "reply without result".into(),
                },
            },
        }
    }

    /// Alipay+ refunds are idempotent on `refundRequestId`: asking again with the same id
    /// returns the refund's result without refunding twice.
    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        self.refund(request).await
    }
}

/// ISO 8601 UTC with milliseconds, e.g. `2026-11-25T01:00:00.001Z`.
fn iso8601_millis(ms: i64) -> String {
    let seconds = kakehashi_adapter_core::simkit::iso8601_utc(ms);
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}
