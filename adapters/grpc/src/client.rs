//! The adapter: `WalletNetwork` spoken as `WalletNetworkService` calls. Each call carries
//! the profile's `call_timeout` as its gRPC deadline and is abandoned when it passes; every
//! failure goes through the one table in [`crate::status`].
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use kakehashi_adapter_core::{
    AdapterError, DeclineReason, MerchantQr, MerchantQrRequest, NetworkProfile, PayOutcome,
    PayRequest, QueryRequest, RefundOutcome, RefundRequest, ReverseOutcome, ReverseRequest,
    WalletNetwork,
};
use kakehashi_proto::v1 as pb;
use pb::wallet_network_service_client::WalletNetworkServiceClient;
use tonic::transport::{Channel, Endpoint};

use crate::config::Settings;
use crate::limits::PROFILE_FETCH_TIMEOUT_MS;
use crate::profile;
use crate::status::{CallFailure, Verdict};
use crate::translate;

type Client = WalletNetworkServiceClient<Channel>;

/// One partner network behind one endpoint.
#[derive(Debug, Clone)]
pub struct GrpcWallet {
    profile: NetworkProfile,
    client: Client,
    call_timeout: Duration,
}

// === impl GrpcWallet ===

impl GrpcWallet {
    /// Checks the profile (fetching it first when the config gives none) and prepares a
    /// channel that connects on first use. Fetching blocks this thread for at most
    /// `PROFILE_FETCH_TIMEOUT_MS` on a thread of its own; call it where the partner is served
    /// by another thread (another process, or a multi-threaded runtime).
    pub fn connect(id: &str, settings: Settings) -> Result<Self, AdapterError> {
        let bad = |detail: String| AdapterError::Config {
            network: id.to_owned(),
            detail,
        };
        let endpoint = settings
            .target
            .endpoint(Duration::from_millis(settings.connect_timeout_ms))
            .map_err(bad)?;
        let wire = match settings.profile {
            Some(profile) => profile,
            None => fetch_profile(id, &endpoint, settings.message_bytes_max)?,
        };
        let profile = profile::validate(&wire, id).map_err(|e| bad(e.to_string()))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(bad(
                "the grpc adapter must be built inside a Tokio runtime".into()
            ));
        }
        let client = WalletNetworkServiceClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(settings.message_bytes_max)
            .max_encoding_message_size(settings.message_bytes_max);
        tracing::info!(
            network = %profile.id,
            endpoint = settings.target.url(),
            mutual_tls = settings.target.tls().is_some_and(|t| t.is_mutual()),
            "Partner network ready"
        );
        Ok(Self {
            call_timeout: profile.timing.call_timeout,
            profile,
            client,
        })
    }

    /// One unary call within the deadline: sent as `grpc-timeout` so the partner knows it,
    /// and enforced here so a partner that ignores it cannot hold the switch.
    async fn call<Req, Resp, Fut>(
        &self,
        message: Req,
        send: impl FnOnce(Client, tonic::Request<Req>) -> Fut,
    ) -> Result<Resp, CallFailure>
    where
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.call_timeout);
        match tokio::time::timeout(self.call_timeout, send(self.client.clone(), request)).await {
            Err(_) => Err(CallFailure::Timeout(self.call_timeout)),
            Ok(Err(status)) => Err(CallFailure::Status(status)),
            Ok(Ok(reply)) => Ok(reply.into_inner()),
        }
    }

    fn log(&self, operation: &str, failure: &CallFailure) {
        tracing::warn!(
            network = %self.profile.id,
            operation,
            detail = %failure.detail(operation),
            "Partner call failed"
        );
    }
}

/// A definite refusal of Pay or Refund, or doubt.
fn refusal(failure: &CallFailure) -> Result<DeclineReason, ()> {
    match failure.verdict() {
        Verdict::NoAnswer => Err(()),
        Verdict::Unsupported => Ok(DeclineReason::NetworkUnsupported),
        Verdict::Invalid => Ok(DeclineReason::InvalidRequest),
        Verdict::Duplicate => Ok(DeclineReason::DuplicateOrder),
    }
}

#[async_trait]
impl WalletNetwork for GrpcWallet {
    fn profile(&self) -> &NetworkProfile {
        &self.profile
    }

    async fn pay(&self, request: &PayRequest) -> PayOutcome {
        let reply = self
            .call(translate::pay_request(request), |mut c, r| async move {
                c.pay(r).await
            })
            .await;
        let outcome = reply
            .and_then(|r| translate::pay_outcome(r.outcome, false).map_err(CallFailure::Garbled));
        outcome.unwrap_or_else(|failure| {
            self.log("Pay", &failure);
            match refusal(&failure) {
                Ok(reason) => PayOutcome::Declined {
                    reason,
                    network_code: failure.network_code(),
                },
                Err(()) => PayOutcome::Unknown {
                    detail: failure.detail("Pay"),
                },
            }
        })
    }

    /// A failed query never declines: the payment may have succeeded whatever the query's
    /// own trouble.
    async fn query(&self, request: &QueryRequest) -> PayOutcome {
        let reply = self
            .call(translate::query_request(request), |mut c, r| async move {
                c.query(r).await
            })
            .await;
        let outcome = reply
            .and_then(|r| translate::pay_outcome(r.outcome, true).map_err(CallFailure::Garbled));
        outcome.unwrap_or_else(|failure| {
            self.log("Query", &failure);
            PayOutcome::Unknown {
                detail: failure.detail("Query"),
            }
        })
    }

    async fn reverse(&self, request: &ReverseRequest) -> ReverseOutcome {
        let reply = self
            .call(translate::reverse_request(request), |mut c, r| async move {
                c.reverse(r).await
            })
            .await;
        let outcome =
            reply.and_then(|r| translate::reverse_outcome(r.outcome).map_err(CallFailure::Garbled));
        outcome.unwrap_or_else(|failure| {
            self.log("Reverse", &failure);
            match failure.verdict() {
                Verdict::NoAnswer => ReverseOutcome::Retry {
                    detail: failure.detail("Reverse"),
                },
                Verdict::Unsupported | Verdict::Invalid | Verdict::Duplicate => {
                    ReverseOutcome::Refused {
                        network_code: failure.network_code(),
                        detail: failure.detail("Reverse"),
                    }
                }
            }
        })
    }

    async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let reply = self
            .call(translate::refund_request(request), |mut c, r| async move {
                c.refund(r).await
            })
            .await;
        let outcome = reply.and_then(|r| {
            translate::refund_outcome(r.outcome, false).map_err(CallFailure::Garbled)
        });
        outcome.unwrap_or_else(|failure| {
            self.log("Refund", &failure);
            match refusal(&failure) {
                Ok(reason) => RefundOutcome::Declined {
                    reason,
                    network_code: failure.network_code(),
                },
                Err(()) => RefundOutcome::Unknown {
                    detail: failure.detail("Refund"),
                },
            }
        })
    }

    async fn query_refund(&self, request: &RefundRequest) -> RefundOutcome {
        let reply = self
            .call(
                translate::query_refund_request(request),
                |mut c, r| async move { c.query_refund(r).await },
            )
            .await;
        let outcome = reply
            .and_then(|r| translate::refund_outcome(r.outcome, true).map_err(CallFailure::Garbled));
        outcome.unwrap_or_else(|failure| {
            self.log("QueryRefund", &failure);
            RefundOutcome::Unknown {
                detail: failure.detail("QueryRefund"),
            }
        })
    }

    async fn create_merchant_qr(
        &self,
        request: &MerchantQrRequest,
    ) -> Result<MerchantQr, AdapterError> {
        let network = self.profile.id.clone();
        if !self.profile.capabilities.merchant_presented {
            return Err(AdapterError::Unsupported {
                network,
                operation: "create_merchant_qr",
            });
        }
        let reply = self
            .call(
                translate::merchant_qr_request(request),
                |mut c, r| async move { c.create_merchant_qr(r).await },
            )
            .await;
        let qr = reply.and_then(|r| translate::merchant_qr(r).map_err(CallFailure::Garbled));
        qr.map_err(|failure| {
            self.log("CreateMerchantQr", &failure);
            let detail = failure.detail("CreateMerchantQr");
            match failure.verdict() {
                Verdict::NoAnswer => AdapterError::NoAnswer { network, detail },
                Verdict::Unsupported | Verdict::Invalid | Verdict::Duplicate => {
                    AdapterError::Network { network, detail }
                }
            }
        })
    }
}

/// `GetProfile` on a thread and runtime of its own, so a synchronous `build` can wait for
/// it whichever runtime (if any) the caller runs on.
fn fetch_profile(
    id: &str,
    endpoint: &Endpoint,
    message_bytes_max: usize,
) -> Result<pb::NetworkProfile, AdapterError> {
    let fetch = || -> Result<pb::NetworkProfile, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime to fetch the profile: {e}"))?;
        runtime.block_on(async {
            let deadline = Duration::from_millis(PROFILE_FETCH_TIMEOUT_MS);
            let call = async {
                let channel = endpoint
                    .connect()
                    .await
                    .map_err(|e| format!("cannot reach the partner: {}", error_chain(&e)))?;
                let mut client = Client::new(channel).max_decoding_message_size(message_bytes_max);
                let mut request = tonic::Request::new(pb::GetProfileRequest {});
                request.set_timeout(deadline);
                client
                    .get_profile(request)
                    .await
                    .map_err(|s| CallFailure::Status(s).detail("GetProfile"))
            };
            let reply = tokio::time::timeout(deadline, call)
                .await
                .map_err(|_| CallFailure::Timeout(deadline).detail("GetProfile"))??;
            reply
                .into_inner()
                .profile
                .ok_or_else(|| "GetProfile answered no profile".to_owned())
        })
    };
    let no_answer = |detail: String| AdapterError::NoAnswer {
        network: id.to_owned(),
        detail: format!(
            "{detail} (the profile is fetched at start; or give [networks.{id}.profile])"
        ),
    };
    std::thread::scope(|scope| scope.spawn(fetch).join())
        .map_err(|_| no_answer("the profile fetch failed".into()))?
        .map_err(no_answer)
}

/// A transport error with its causes: tonic's own text is only "transport error".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source
        && depth < 8
    {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
        depth += 1;
    }
    crate::status::sanitize(&text)
}
