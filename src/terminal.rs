//! `kakehashi terminal`: a small merchant-terminal client for a running switch, for
//! integrators trying the API by hand and for scripts.
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::acceptance_service_client::AcceptanceServiceClient;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::api::auth::API_KEY_HEADER;

/// A connected terminal: every call carries its API key.
#[derive(Debug, Clone)]
pub struct Terminal {
    client: AcceptanceServiceClient<Channel>,
    api_key: MetadataValue<tonic::metadata::Ascii>,
}

// === impl Terminal ===

impl Terminal {
    pub async fn connect(server: &str, api_key: &str) -> Result<Self, String> {
        Self::connect_with_ca(server, api_key, None).await
    }

    /// Connects over TLS when `server` is `https://`, trusting `ca_pem` (the switch's CA or
    /// self-signed certificate) and checking the certificate against the URL's host.
    pub async fn connect_with_ca(
        server: &str,
        api_key: &str,
        ca_pem: Option<&str>,
    ) -> Result<Self, String> {
        let unreachable =
            |e: tonic::transport::Error| format!("cannot reach the switch at {server}: {e}");
        let mut endpoint = Channel::from_shared(server.to_owned())
            .map_err(|e| format!("server must be a URL such as http://127.0.0.1:50051: {e}"))?;
        if server.starts_with("https://") {
            let Some(ca_pem) = ca_pem else {
                return Err("an https:// switch needs --ca-cert (its CA certificate, PEM)".into());
            };
            let host = endpoint.uri().host().unwrap_or_default().to_owned();
            let tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca_pem))
                .domain_name(host);
            endpoint = endpoint.tls_config(tls).map_err(unreachable)?;
        }
        let channel = endpoint.connect().await.map_err(unreachable)?;
        let api_key = api_key
            .parse()
            .map_err(|_| "the API key must be printable ASCII".to_owned())?;
        Ok(Self {
            client: AcceptanceServiceClient::new(channel),
            api_key,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert(API_KEY_HEADER, self.api_key.clone());
        request
    }

    pub async fn pay(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        code: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::PayRequest {
            merchant_order_id: order_id.to_owned(),
            amount: Some(pb::Money {
                value: value.to_owned(),
                currency: currency.to_owned(),
            }),
            code: code.to_owned(),
            description: String::new(),
        });
        let reply = self.client.pay(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    pub async fn create_qr(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        network: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::CreateMerchantQrRequest {
            merchant_order_id: order_id.to_owned(),
            amount: Some(pb::Money {
                value: value.to_owned(),
                currency: currency.to_owned(),
            }),
            network: network.to_owned(),
            description: String::new(),
        });
        let reply = self.client.create_merchant_qr(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    pub async fn get(&mut self, order_id: &str) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::GetPaymentRequest {
            merchant_order_id: order_id.to_owned(),
        });
        let reply = self.client.get_payment(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    pub async fn cancel(&mut self, order_id: &str) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::CancelPaymentRequest {
            merchant_order_id: order_id.to_owned(),
            reason: "cancelled at the till".into(),
        });
        let reply = self.client.cancel_payment(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    pub async fn refund(
        &mut self,
        order_id: &str,
        refund_id: &str,
        amount: Option<(&str, &str)>,
    ) -> Result<pb::RefundPaymentResponse, tonic::Status> {
        let request = self.request(pb::RefundPaymentRequest {
            merchant_order_id: order_id.to_owned(),
            refund_id: refund_id.to_owned(),
            amount: amount.map(|(value, currency)| pb::Money {
                value: value.to_owned(),
                currency: currency.to_owned(),
            }),
            reason: String::new(),
        });
        Ok(self.client.refund_payment(request).await?.into_inner())
    }

    /// Streams the payment's states until it settles, calling `on_state` for each.
    pub async fn watch(
        &mut self,
        order_id: &str,
        mut on_state: impl FnMut(&pb::Payment),
    ) -> Result<Option<pb::Payment>, tonic::Status> {
        let request = self.request(pb::WatchPaymentRequest {
            merchant_order_id: order_id.to_owned(),
        });
        let mut stream = self.client.watch_payment(request).await?.into_inner();
        let mut last = None;
        while let Some(message) = stream.message().await? {
            if let Some(payment) = message.payment {
                on_state(&payment);
                last = Some(payment);
            }
        }
        Ok(last)
    }
}

/// One line describing a payment, for people.
pub fn describe(p: &pb::Payment) -> String {
    let amount = p
        .amount
        .as_ref()
        .map(|m| format!("{} {}", m.currency, m.value))
        .unwrap_or_default();
    let state = pb::PaymentState::try_from(p.state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PAYMENT_STATE_")
                .to_owned()
        })
        .unwrap_or_default();
    let mut line = format!(
        "{} {} {} via {}",
        p.merchant_order_id, amount, state, p.network
    );
    if !p.wallet_brand.is_empty() {
        line.push_str(&format!(" ({})", p.wallet_brand));
    }
    if let Some(w) = &p.wallet_amount
        && let Some(m) = &w.amount
    {
        line.push_str(&format!(
            ", wallet paid {} {} at {}",
            m.currency, m.value, w.rate
        ));
    }
    let reason = pb::DeclineReason::try_from(p.decline_reason).unwrap_or_default();
    if reason != pb::DeclineReason::Unspecified {
        line.push_str(&format!(
            ", {} ({})",
            reason.as_str_name().trim_start_matches("DECLINE_REASON_"),
            p.network_code
        ));
    }
    if !p.qr_payload.is_empty() {
        line.push_str(&format!(", QR {}", p.qr_payload));
    }
    line
}
