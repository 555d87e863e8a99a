//! The acceptance edge: the tower service around the generated `AcceptanceService` server.
//! It authenticates the terminal, gives every refusal the API's shape (an `ErrorInfo`, and
//! RESOURCE_EXHAUSTED for a message over the size limit).
//!
//! tonic answers some requests before a handler runs, and those statuses carry no details:
//! a message over `max_decoding_message_size` (OUT_OF_RANGE; gRPC's convention is
//! RESOURCE_EXHAUSTED), bytes that do not decode (INVALID_ARGUMENT, from the proto crate's
//! `RequestCodec`), an unknown method (UNIMPLEMENTED), a broken frame (INTERNAL). Every
//! status the API itself builds carries an `ErrorInfo` (`api/status.rs`), so a status
//! without details here is tonic's, and is recognised by its code alone, never by its
//! message text.
use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;
use tonic::{Code, Status};
use tracing::Instrument;

use super::auth::Authenticator;
use super::reason::Reason;
use super::status::Refusal;

#[derive(Debug, Clone)]
pub struct AcceptanceEdge<S> {
    inner: S,
    auth: Authenticator,
}

// === impl AcceptanceEdge ===

impl<S> AcceptanceEdge<S> {
    pub fn new(inner: S, auth: Authenticator) -> Self {
        Self { inner, auth }
    }
}

impl<S: NamedService> NamedService for AcceptanceEdge<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for AcceptanceEdge<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let rpc = rpc_name(request.uri().path());
        let identity = self.auth.identify(request.headers());
        let terminal = identity.as_ref().ok().map(|i| i.terminal_id.clone());
        let span = tracing::info_span!(
            "acceptance",
            rpc,
            terminal = terminal.as_deref().unwrap_or("unknown")
        );
        // The service that was polled ready serves this call; a clone takes its place.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let answer = identity.map(|identity| {
            request.extensions_mut().insert(identity);
            inner.call(request)
        });
        Box::pin(
            async move {
                let response = match answer {
                    Ok(future) => future.await?,
                    Err(refused) => refused.into_http(),
                };
                Ok(shape_refusal(response))
            }
            .instrument(span),
        )
    }
}

/// The service's RPCs: the only names a log line carries, so a client cannot write text of
/// its choosing into the log through the path.
const RPCS: [&str; 6] = [
    "Pay",
    "CreateMerchantQr",
    "GetPayment",
    "WatchPayment",
    "CancelPayment",
    "RefundPayment",
];

/// The method part of `/kakehashi.v1.AcceptanceService/Pay`, or `unknown`.
fn rpc_name(path: &str) -> &'static str {
    let method = path.rsplit('/').next().unwrap_or_default();
    RPCS.iter()
        .find(|rpc| **rpc == method)
        .copied()
        .unwrap_or("unknown")
}

/// A refusal is answered headers-only (gRPC's "trailers-only" response), so its status is
/// in the headers; a reply or a stream has none there and passes untouched.
fn shape_refusal(response: http::Response<Body>) -> http::Response<Body> {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    if status.code() == Code::Ok {
        return response;
    }
    if status.details().is_empty() {
        return tonic_refusal(&status).into_http();
    }
    response
}

/// The API's shape for a status tonic produced before any handler ran.
fn tonic_refusal(status: &Status) -> Status {
    let refusal = match status.code() {
        Code::OutOfRange | Code::ResourceExhausted => Refusal::new(
            Reason::MessageTooLarge,
            format!(
                "the request is larger than this switch accepts: {}",
                status.message()
            ),
        ),
        Code::InvalidArgument => Refusal::new(Reason::MessageMalformed, status.message()),
        Code::Unimplemented => Refusal::new(Reason::RpcUnimplemented, status.message()),
        Code::Internal => Refusal::new(Reason::ProtocolError, status.message()),
        other => Refusal::new(Reason::ProtocolError, status.message()).with_code(other),
    };
    refusal.into_status()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn only_the_services_rpcs_are_named_in_logs() {
        assert_eq!(rpc_name("/kakehashi.v1.AcceptanceService/Pay"), "Pay");
        assert_eq!(
            rpc_name("/kakehashi.v1.AcceptanceService/CancelPayment"),
            "CancelPayment"
        );
        assert_eq!(
            rpc_name("/kakehashi.v1.AcceptanceService/DropTables"),
            "unknown"
        );
        assert_eq!(rpc_name(&format!("/x/{}", "P".repeat(4096))), "unknown");
    }

    #[test]
    fn every_rpc_of_the_service_has_its_name() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(kakehashi_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let methods: Vec<String> = set
            .file
            .iter()
            .flat_map(|f| &f.service)
            .filter(|s| s.name() == "AcceptanceService")
            .flat_map(|s| &s.method)
            .map(|m| m.name().to_owned())
            .collect();
        assert_eq!(methods, RPCS);
    }

    #[test]
    fn tonics_own_statuses_get_the_apis_shape() {
        let too_large = tonic_refusal(&Status::out_of_range("decoded message length too large"));
        assert_eq!(too_large.code(), Code::ResourceExhausted);
        let info = too_large.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("MESSAGE_TOO_LARGE", "kakehashi.v1")
        );
        let malformed = tonic_refusal(&Status::invalid_argument("not protobuf"));
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert_eq!(
            malformed
                .get_details_error_info()
                .expect("ErrorInfo")
                .reason,
            "MESSAGE_MALFORMED"
        );
    }
}
