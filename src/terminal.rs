//! `kakehashi terminal`: a small merchant-terminal client for a running switch, for
//! integrators trying the API by hand and for scripts. [`cli`] is the command line on top.
pub mod cli;

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

    /// Sends a whole `PayRequest` as built by the caller (e.g. with a `quote_id`).
    pub async fn pay_request(
        &mut self,
        message: pb::PayRequest,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(message);
        let reply = self.client.pay(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    /// Sends a whole `CreateMerchantQrRequest` (e.g. with a `quote_id`).
    pub async fn create_qr_request(
        &mut self,
        message: pb::CreateMerchantQrRequest,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(message);
        let reply = self.client.create_merchant_qr(request).await?.into_inner();
        reply
            .payment
            .ok_or_else(|| tonic::Status::internal("reply without payment"))
    }

    /// An indicative `wallet_currency` amount for `value currency` on `network`, issued
    /// under `key` (a retry with the same key gets the same quote).
    pub async fn quote(
        &mut self,
        key: &str,
        value: &str,
        currency: &str,
        network: &str,
        wallet_currency: &str,
    ) -> Result<pb::FxQuote, tonic::Status> {
        let request = self.request(pb::QuoteRequest {
            amount: Some(money(value, currency)),
            network: network.to_owned(),
            wallet_currency: wallet_currency.to_owned(),
            idempotency_key: key.to_owned(),
        });
        let reply = self.client.quote(request).await?.into_inner();
        reply
            .quote
            .ok_or_else(|| tonic::Status::internal("reply without quote"))
    }

    pub async fn pay(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        code: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        self.pay_with_description(order_id, value, currency, code, "")
            .await
    }

    /// [`Terminal::pay`] with the text the wallet shows the customer.
    pub async fn pay_with_description(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        code: &str,
        description: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::PayRequest {
            merchant_order_id: order_id.to_owned(),
            amount: Some(money(value, currency)),
            code: code.to_owned(),
            description: description.to_owned(),
            quote_id: String::new(),
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
        self.create_qr_with_description(order_id, value, currency, network, "")
            .await
    }

    /// [`Terminal::create_qr`] with the text the wallet shows the customer.
    pub async fn create_qr_with_description(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        network: &str,
        description: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        self.create_qr_request(pb::CreateMerchantQrRequest {
            merchant_order_id: order_id.to_owned(),
            amount: Some(money(value, currency)),
            network: network.to_owned(),
            description: description.to_owned(),
            quote_id: String::new(),
            switch_code: false,
        })
        .await
    }

    /// A dynamic EMVCo code the switch issues itself, for `network`'s partner to pay through
    /// the partner gateway (`switch_code`).
    pub async fn create_switch_code(
        &mut self,
        order_id: &str,
        value: &str,
        currency: &str,
        network: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        self.create_qr_request(pb::CreateMerchantQrRequest {
            merchant_order_id: order_id.to_owned(),
            amount: Some(money(value, currency)),
            network: network.to_owned(),
            description: String::new(),
            switch_code: true,
            quote_id: String::new(),
        })
        .await
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
        self.cancel_with_reason(order_id, "cancelled at the till")
            .await
    }

    pub async fn cancel_with_reason(
        &mut self,
        order_id: &str,
        reason: &str,
    ) -> Result<pb::Payment, tonic::Status> {
        let request = self.request(pb::CancelPaymentRequest {
            merchant_order_id: order_id.to_owned(),
            reason: reason.to_owned(),
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
        self.refund_with_reason(order_id, refund_id, amount, "")
            .await
    }

    /// [`Terminal::refund`] with the reason kept beside the refund.
    pub async fn refund_with_reason(
        &mut self,
        order_id: &str,
        refund_id: &str,
        amount: Option<(&str, &str)>,
        reason: &str,
    ) -> Result<pb::RefundPaymentResponse, tonic::Status> {
        let request = self.request(pb::RefundPaymentRequest {
            merchant_order_id: order_id.to_owned(),
            refund_id: refund_id.to_owned(),
            amount: amount.map(|(value, currency)| money(value, currency)),
            reason: reason.to_owned(),
        });
        Ok(self.client.refund_payment(request).await?.into_inner())
    }

    /// Streams the payment's states until it settles, calling `on_state` for each.
    pub async fn watch(
        &mut self,
        order_id: &str,
        mut on_state: impl FnMut(&pb::Payment),
    ) -> Result<Option<pb::Payment>, tonic::Status> {
        self.watch_request(
            pb::WatchPaymentRequest {
                merchant_order_id: order_id.to_owned(),
                next_on_static_code: false,
            },
            &mut on_state,
        )
        .await
    }

    /// Waits for the next partner payment on this till's static code and streams it until
    /// it settles, calling `on_state` for each state.
    pub async fn watch_static_code(
        &mut self,
        mut on_state: impl FnMut(&pb::Payment),
    ) -> Result<Option<pb::Payment>, tonic::Status> {
        self.watch_request(
            pb::WatchPaymentRequest {
                merchant_order_id: String::new(),
                next_on_static_code: true,
            },
            &mut on_state,
        )
        .await
    }

    async fn watch_request(
        &mut self,
        message: pb::WatchPaymentRequest,
        on_state: &mut impl FnMut(&pb::Payment),
    ) -> Result<Option<pb::Payment>, tonic::Status> {
        let request = self.request(message);
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

fn money(value: &str, currency: &str) -> pb::Money {
    pb::Money {
        value: value.to_owned(),
        currency: currency.to_owned(),
    }
}

/// A state's name without the enum prefix, e.g. "SUCCEEDED".
pub fn state_name(state: i32) -> String {
    pb::PaymentState::try_from(state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PAYMENT_STATE_")
                .to_owned()
        })
        .unwrap_or_else(|_| format!("?{state}"))
}

/// The network's reference for the payment, labelled: until a customer pays a merchant QR
/// the reference is the QR's own id ("QR …"), afterwards the transaction's ("txn …").
pub fn network_reference(p: &pb::Payment) -> Option<String> {
    use pb::PaymentState as S;
    if p.network_txn_id.is_empty() {
        return None;
    }
    let captured = matches!(
        S::try_from(p.state),
        Ok(S::Succeeded | S::PartiallyRefunded | S::Refunded)
    );
    let label = if p.qr_payload.is_empty() || captured {
        "txn"
    } else {
        "QR"
    };
    Some(format!("{label} {}", p.network_txn_id))
}

/// One line describing a payment, for people.
pub fn describe(p: &pb::Payment) -> String {
    use pb::PaymentState as S;
    let amount = p
        .amount
        .as_ref()
        .map(|m| format!("{} {}", m.currency, m.value))
        .unwrap_or_default();
    let mut line = format!(
        "{} {} {} via {}",
        p.merchant_order_id,
        amount,
        state_name(p.state),
        p.network
    );
    if !p.wallet_brand.is_empty() {
        line.push_str(&format!(" ({})", p.wallet_brand));
    }
    if let Some(reference) = network_reference(p) {
        line.push_str(&format!(", {reference}"));
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
    if let Some(r) = &p.refunded_amount
        && !r.value.is_empty()
        && r.value != "0"
    {
        line.push_str(&format!(", refunded {} {}", r.currency, r.value));
    }
    if matches!(S::try_from(p.state), Ok(S::Reversing | S::Reversed)) && !p.state_reason.is_empty()
    {
        line.push_str(&format!(", why: {}", p.state_reason));
    }
    if !p.qr_payload.is_empty() {
        line.push_str(&format!(", QR payload {}", p.qr_payload));
    }
    line
}

/// One line describing a refund, for people.
pub fn describe_refund(order_id: &str, r: &pb::Refund) -> String {
    let amount = r
        .amount
        .as_ref()
        .map(|m| format!("{} {}", m.currency, m.value))
        .unwrap_or_default();
    let state = pb::RefundState::try_from(r.state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("REFUND_STATE_")
                .to_owned()
        })
        .unwrap_or_else(|_| format!("?{}", r.state));
    let mut line = format!("refund {} of {order_id}: {amount} {state}", r.refund_id);
    if !r.network_refund_id.is_empty() {
        line.push_str(&format!(", network refund {}", r.network_refund_id));
    }
    let reason = pb::DeclineReason::try_from(r.decline_reason).unwrap_or_default();
    if reason != pb::DeclineReason::Unspecified {
        line.push_str(&format!(
            ", {} ({})",
            reason.as_str_name().trim_start_matches("DECLINE_REASON_"),
            r.network_code
        ));
    }
    line
}
