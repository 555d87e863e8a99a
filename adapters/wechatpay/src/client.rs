//! The WeChat Pay adapter: signed XML over HTTPS, the client certificate on `/secapi/`,
//! response signatures verified, replies mapped to canonical outcomes.
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use iso_currency::Currency;
use kakehashi_adapter_core::{
    AdapterError, Capabilities, Clock, CodePattern, DeclineReason, MerchantRef, NetworkProfile,
    PayOutcome, PayRequest, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome,
    ReverseRequest, Timing, WalletNetwork, read_body_limited,
};
use secrecy::ExposeSecret;

use crate::NETWORK_ID;
use crate::config::Config;
use crate::sign::{self, SignType};
use crate::translate;
use crate::xml::{self, Fields};

/// WeChat Pay: do not reverse an order less than 15 s old.
pub const REVERSE_NOT_BEFORE: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct WeChatPay {
    config: Config,
    sign_type: SignType,
    profile: NetworkProfile,
    /// Plain HTTPS: micropay, orderquery, refundquery.
    http: reqwest::Client,
    /// HTTPS with the merchant's client certificate: `/secapi/` (reverse, refund).
    secapi: reqwest::Client,
    clock: Arc<dyn Clock>,
}

/// A reply before interpretation.
enum Reply {
    /// return_code SUCCESS with a verified signature.
    Business(Fields),
    /// return_code FAIL: the request was refused before any business processing.
    Refused(String),
    /// HTTP 404 or 405: no WeChat Pay API took the request. WeChat Pay answers its APIs
    /// with HTTP 200 and an XML envelope (a refusal as `return_code` FAIL), so these come
    /// from the HTTP layer (an unknown path or method): the request was not processed.
    Unrouted(u16),
    Unknown(String),
}

// === impl WeChatPay ===

impl WeChatPay {
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: NETWORK_ID.into(),
            detail,
        };
        let sign_type =
            SignType::parse(&config.sign_type).ok_or_else(|| bad("sign_type".into()))?;
        let with_roots =
            |builder: reqwest::ClientBuilder| -> Result<reqwest::ClientBuilder, AdapterError> {
                Ok(match &config.ca_pem {
                    Some(ca) => {
                        let ca = reqwest::Certificate::from_pem(ca.as_bytes())
                            .map_err(|e| bad(format!("ca_pem: {e}")))?;
                        builder.tls_certs_only([ca])
                    }
                    None => builder,
                })
            };
        let http = with_roots(config.http.client_builder())?
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let identity_pem = format!(
            "{}\n{}",
            config.client_cert_pem,
            config.client_key_pem.expose_secret()
        );
        let identity = reqwest::Identity::from_pem(identity_pem.as_bytes())
            .map_err(|e| bad(format!("client certificate: {e}")))?;
        let secapi = with_roots(config.http.client_builder())?
            .identity(identity)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let profile = NetworkProfile {
            id: NETWORK_ID.into(),
            display_name: "WeChat Pay".into(),
            code_patterns: ["10", "11", "12", "13", "14"]
                .into_iter()
                .map(|p| CodePattern::new(p, 18, 18).with_brand("WeChat Pay"))
                // 15: Hong Kong wallet; 160: fusion wallets (length unverified; 18 assumed).
                .chain([
                    CodePattern::new("15", 18, 18).with_brand("WeChat Pay HK"),
                    CodePattern::new("160", 18, 18).with_brand("WeChat Pay"),
                ])
                .collect(),
            currencies: vec![Currency::JPY, Currency::USD, Currency::HKD],
            capabilities: Capabilities {
                customer_presented: true,
                merchant_presented: false,
                partial_refund: true,
                multiple_refunds: true,
                refund_query: true,
                refund_idempotent: true,
            },
            timing: Timing {
                // WeChat auto-revokes unpaid Quick Pay orders at 45 s.
                payment_deadline: Duration::from_secs(45),
                query_first_delay: Duration::from_secs(5),
                query_interval: Duration::from_secs(5),
                reverse_not_before: REVERSE_NOT_BEFORE,
                call_timeout: config.http.call_timeout(),
            },
            // Every WeChat Pay order names the merchant's sub_mch_id, unless the config
            // gives one for all.
            merchant_id_required: config
                .default_sub_mch_id
                .is_none()
                .then(|| "sub_mch_id".to_owned()),
        };
        Ok(Self {
            config,
            sign_type,
            profile,
            http,
            secapi,
            clock,
        })
    }

    fn base_fields(&self, merchant: &MerchantRef) -> Option<Fields> {
        let sub_mch_id = merchant
            .network_merchant_id
            .clone()
            .or_else(|| self.config.default_sub_mch_id.clone())?;
        let mut f = Fields::new();
        f.insert("appid".into(), self.config.appid.clone());
        f.insert("mch_id".into(), self.config.mch_id.clone());
        f.insert("sub_mch_id".into(), sub_mch_id);
        f.insert(
            "nonce_str".into(),
            uuid::Uuid::new_v4().simple().to_string(),
        );
        f.insert("sign_type".into(), self.config.sign_type.clone());
        Some(f)
    }

    async fn call(&self, path: &str, mut fields: Fields) -> Reply {
        let key = self.config.api_key.expose_secret();
        let signature = sign::sign(&fields, key, self.sign_type);
        fields.insert("sign".into(), signature);
        let client = if path.starts_with("/secapi/") {
            &self.secapi
        } else {
            &self.http
        };
        let started = Instant::now();
        let response = client
            .post(format!("{}{path}", self.config.base_url))
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(xml::write(&fields))
            .send()
            .await;
        let response = match response {
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
        let body = match read_body_limited(response).await {
            Ok(b) => b,
            Err(e) => return Reply::Unknown(e),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        if !(200..300).contains(&status) {
            tracing::warn!(
                network = NETWORK_ID,
                path,
                http_status = status,
                latency_ms,
                "WeChat Pay HTTP error"
            );
            return match status {
                404 | 405 => Reply::Unrouted(status),
                _ => Reply::Unknown(format!("HTTP {status}")),
            };
        }
        let Ok(reply) = xml::read(&body) else {
            return Reply::Unknown("garbled reply".into());
        };
        let return_code = reply.get("return_code").cloned().unwrap_or_default();
        tracing::info!(network = NETWORK_ID, path, return_code = %return_code, result_code = reply.get("result_code").map(String::as_str).unwrap_or(""), err_code = reply.get("err_code").map(String::as_str).unwrap_or(""), latency_ms, "WeChat Pay replied");
        match return_code.as_str() {
            "SUCCESS" if sign::verify(&reply, key, self.sign_type) => Reply::Business(reply),
            "SUCCESS" => Reply::Unknown("reply signature does not verify".into()),
            "FAIL" => Reply::Refused(reply.get("return_msg").cloned().unwrap_or_default()),
            _ => Reply::Unknown("reply without return_code".into()),
        }
    }

    fn no_sub_merchant() -> PayOutcome {
        PayOutcome::Declined {
            reason: DeclineReason::MerchantNotEnabled,
            network_code: "NO_SUB_MCH_ID".into(),
        }
    }

    async fn order_query(
        &self,
        payment_id: &str,
        merchant: &MerchantRef,
        currency: Currency,
    ) -> PayOutcome {
        let Some(mut f) = self.base_fields(merchant) else {
            return Self::no_sub_merchant();
        };
        f.insert("out_trade_no".into(), payment_id.to_owned());
        match self.call("/pay/orderquery", f).await {
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
            // A query that reached no API says nothing about the payment.
            Reply::Unrouted(status) => PayOutcome::Unknown {
                detail: format!("orderquery not served: HTTP {status}"),
            },
            Reply::Refused(msg) => PayOutcome::Unknown {
                detail: format!("orderquery refused: {msg}"),
            },
            Reply::Business(r) if r.get("result_code").map(String::as_str) == Some("SUCCESS") => {
                let state = r.get("trade_state").cloned().unwrap_or_default();
                match translate::trade_state(&state) {
                    None => translate::paid(&r, currency),
                    Some(class) => {
                        translate::class_outcome(class, &state, r.get("transaction_id").cloned())
                    }
                }
            }
            // "Query first: ORDERNOTEXIST → resend with the same out_trade_no."
            Reply::Business(r)
                if r.get("err_code").map(String::as_str) == Some("ORDERNOTEXIST") =>
            {
                PayOutcome::NotReceived {
                    detail: "orderquery ORDERNOTEXIST".into(),
                }
            }
            Reply::Business(r) => PayOutcome::Unknown {
                detail: format!(
                    "orderquery {}",
                    r.get("err_code").map(String::as_str).unwrap_or("?")
                ),
            },
        }
    }

    fn refund_fields(&self, request: &RefundRequest) -> Option<Fields> {
        let mut f = self.base_fields(&request.merchant)?;
        f.insert("out_trade_no".into(), request.payment_id.clone());
        f.insert("out_refund_no".into(), request.refund_id.clone());
        Some(f)
    }
}

#[async_trait]
impl WalletNetwork for WeChatPay {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    async fn pay(&self, request: &PayRequest) -> PayOutcome {
        let Some(mut f) = self.base_fields(&request.merchant) else {
            return Self::no_sub_merchant();
        };
        let body = if request.description.is_empty() {
            request.merchant.name.clone()
        } else {
            request.description.clone()
        };
        f.insert("body".into(), body.chars().take(127).collect());
        f.insert("out_trade_no".into(), request.payment_id.clone());
        f.insert("total_fee".into(), translate::fee(&request.amount));
        f.insert("fee_type".into(), request.amount.currency_code().to_owned());
        f.insert(
            "spbill_create_ip".into(),
            self.config.spbill_create_ip.clone(),
        );
        f.insert("auth_code".into(), request.code.expose().to_owned());
        // v2 Quick Pay has one field for where the sale happened, `device_info` ("merchant
        // terminal or store id", String(32)) and no store field of its own (v3's
        // `scene_info.store_info` is not in v2): it carries the terminal, the more precise of
        // the two, and the store is not sent.
        f.insert(
            "device_info".into(),
            request.merchant.terminal_id.chars().take(32).collect(),
        );
        f.insert("version".into(), "1.0".into());
        tracing::info!(network = NETWORK_ID, payment_id = %request.payment_id, code = %request.code, amount = %request.amount, "WeChat Pay micropay");
        match self.call("/pay/micropay", f).await {
            Reply::Unknown(detail) => PayOutcome::Unknown { detail },
            Reply::Unrouted(status) => PayOutcome::Declined {
                reason: DeclineReason::NetworkUnsupported,
                network_code: format!("HTTP {status}"),
            },
            // Refused before processing (signature, format): nothing was charged.
            Reply::Refused(msg) => PayOutcome::Declined {
                reason: DeclineReason::InvalidRequest,
                network_code: format!("FAIL:{}", msg.chars().take(40).collect::<String>()),
            },
            Reply::Business(r) if r.get("result_code").map(String::as_str) == Some("SUCCESS") => {
                // Micropay's reply may lack the FX rate; orderquery carries it.
                let with_rate = self
                    .order_query(
                        &request.payment_id,
                        &request.merchant,
                        request.amount.currency(),
                    )
                    .await;
                match with_rate {
                    PayOutcome::Succeeded(paid) => PayOutcome::Succeeded(paid),
                    _ => translate::paid(&r, request.amount.currency()),
                }
            }
            Reply::Business(r) => {
                let code = r.get("err_code").cloned().unwrap_or_default();
                translate::class_outcome(translate::micropay_err(&code), &code, None)
            }
        }
    }

    async fn query(&self, request: &QueryRequest) -> PayOutcome {
        self.order_query(
            &request.payment_id,
            &request.merchant,
            request.amount.currency(),
        )
        .await
    }

    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome {
        let not_before = request.created_at_ms + REVERSE_NOT_BEFORE.as_millis() as i64;
        if self.clock.now_ms() < not_before {
            return ReverseOutcome::TooEarly {
                not_before_ms: not_before,
            };
        }
        let Some(mut f) = self.base_fields(&request.merchant) else {
            return ReverseOutcome::Refused {
                network_code: "NO_SUB_MCH_ID".into(),
                detail: "merchant has no sub_mch_id".into(),
            };
        };
        f.insert("out_trade_no".into(), request.payment_id.clone());
        match self.call("/secapi/pay/reverse", f).await {
            Reply::Unknown(detail) => ReverseOutcome::Retry { detail },
            Reply::Unrouted(status) => ReverseOutcome::Retry {
                detail: format!("reverse not served: HTTP {status}"),
            },
            Reply::Refused(msg) => ReverseOutcome::Retry {
                detail: format!("reverse refused: {msg}"),
            },
            Reply::Business(r) => {
                let recall = r.get("recall").map(String::as_str) == Some("Y");
                let code = r.get("err_code").cloned().unwrap_or_default();
                match (
                    r.get("result_code").map(String::as_str),
                    recall,
                    code.as_str(),
                ) {
                    (Some("SUCCESS"), false, _) => ReverseOutcome::Reversed,
                    (_, true, _) | (_, _, "SYSTEMERROR") | (_, _, "USERPAYING") => {
                        ReverseOutcome::Retry {
                            detail: format!("recall ({code})"),
                        }
                    }
                    // The order never reached WeChat Pay: nothing to undo.
                    (_, _, "ORDERNOTEXIST") => ReverseOutcome::Reversed,
                    _ => ReverseOutcome::Refused {
                        network_code: code,
                        detail: r.get("err_code_des").cloned().unwrap_or_default(),
                    },
                }
            }
        }
    }

    async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let Some(mut f) = self.refund_fields(request) else {
            return RefundOutcome::Declined {
                reason: DeclineReason::MerchantNotEnabled,
                network_code: "NO_SUB_MCH_ID".into(),
            };
        };
        f.insert("total_fee".into(), translate::fee(&request.payment_amount));
        f.insert("refund_fee".into(), translate::fee(&request.amount));
        f.insert(
            "refund_fee_type".into(),
            request.amount.currency_code().to_owned(),
        );
        if !request.reason.is_empty() {
            f.insert(
                "refund_desc".into(),
                request.reason.chars().take(80).collect(),
            );
        }
        match self.call("/secapi/pay/refund", f).await {
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
            Reply::Unrouted(status) => RefundOutcome::Declined {
                reason: DeclineReason::NetworkUnsupported,
                network_code: format!("HTTP {status}"),
            },
            Reply::Refused(msg) => RefundOutcome::Declined {
                reason: DeclineReason::InvalidRequest,
                network_code: format!("FAIL:{}", msg.chars().take(40).collect::<String>()),
            },
            Reply::Business(r) if r.get("result_code").map(String::as_str) == Some("SUCCESS") => {
                RefundOutcome::Pending {
                    network_refund_id: r.get("refund_id").cloned(),
                }
            }
            Reply::Business(r) => {
                let code = r.get("err_code").cloned().unwrap_or_default();
                match code.as_str() {
                    "SYSTEMERROR" | "BIZERR_NEED_RETRY" | "FREQUENCY_LIMITED" => {
                        RefundOutcome::Unknown { detail: code }
                    }
                    // Cross-border NOTENOUGH is routine: the day's CNY pool is short. WeChat Pay
                    // says to send the same out_refund_no again later (12-48 h), so the refund
                    // stays pending and the switch re-sends it with back-off.
                    "NOTENOUGH" => RefundOutcome::NotTaken { detail: code },
                    "USER_ACCOUNT_ABNORMAL" => RefundOutcome::Declined {
                        reason: DeclineReason::AccountRestricted,
                        network_code: code,
                    },
                    _ => RefundOutcome::Declined {
                        reason: DeclineReason::RefundNotAllowed,
                        network_code: code,
                    },
                }
            }
        }
    }

    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        let Some(mut f) = self.base_fields(&request.merchant) else {
            return RefundOutcome::Unknown {
                detail: "merchant has no sub_mch_id".into(),
            };
        };
        f.insert("out_refund_no".into(), request.refund_id.clone());
        match self.call("/pay/refundquery", f).await {
            Reply::Unknown(detail) => RefundOutcome::Unknown { detail },
            Reply::Unrouted(status) => RefundOutcome::Unknown {
                detail: format!("refundquery not served: HTTP {status}"),
            },
            Reply::Refused(msg) => RefundOutcome::Unknown { detail: msg },
            Reply::Business(r) if r.get("result_code").map(String::as_str) == Some("SUCCESS") => {
                let id = r.get("refund_id_0").cloned();
                match r.get("refund_status_0").map(String::as_str) {
                    Some("SUCCESS") => RefundOutcome::Succeeded {
                        network_refund_id: id.unwrap_or_else(|| request.refund_id.clone()),
                    },
                    Some("PROCESSING") => RefundOutcome::Pending {
                        network_refund_id: id,
                    },
                    Some("REFUNDCLOSE") => RefundOutcome::Declined {
                        reason: DeclineReason::RefundNotAllowed,
                        network_code: "REFUNDCLOSE".into(),
                    },
                    // "Re-call refund with the same out_refund_no."
                    Some("NOTSURE") => RefundOutcome::NotTaken {
                        detail: "NOTSURE".into(),
                    },
                    other => RefundOutcome::Unknown {
                        detail: format!("refund_status {other:?}"),
                    },
                }
            }
            // The refund never reached WeChat Pay (or was turned away): out_refund_no is
            // idempotent, so it may be sent again.
            Reply::Business(r)
                if r.get("err_code").map(String::as_str) == Some("REFUNDNOTEXIST") =>
            {
                RefundOutcome::NotTaken {
                    detail: "REFUNDNOTEXIST".into(),
                }
            }
            Reply::Business(r) => RefundOutcome::Unknown {
                detail: r.get("err_code").cloned().unwrap_or_default(),
            },
        }
    }
}
