//! The acceptance edge: the tower service around the generated `AcceptanceService` server.
//! It authenticates the terminal, gives every refusal the API's shape (an `ErrorInfo`, and
//! RESOURCE_EXHAUSTED for a message over the size limit), and logs each refused request
//! once, with its code, RPC and terminal.
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
use tonic_types::StatusExt;
use tracing::Instrument;

use super::auth::Authenticator;
use super::reason::{Reason, code_name};
use super::status::Refusal;

#[derive(Debug, Clone)]
pub struct AcceptanceEdge<S> {
    inner: S,
    auth: Authenticator,
}

/// How loudly a refusal is logged: the client's mistakes at info, the switch's trouble at
/// warn; internal faults are logged at error where their detail is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loudness {
    Info,
    Warn,
    Error,
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
                Ok(shape_refusal(response, rpc, terminal.as_deref()))
            }
            .instrument(span),
        )
    }
}

/// The service's RPCs: the only names a log line carries, so a client cannot write text of
/// its choosing into the log through the path.
const RPCS: [&str; 7] = [
    "Pay",
    "CreateMerchantQr",
    "GetPayment",
    "WatchPayment",
    "CancelPayment",
    "RefundPayment",
    "Quote",
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
fn shape_refusal(
    response: http::Response<Body>,
    rpc: &str,
    terminal: Option<&str>,
) -> http::Response<Body> {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    if status.code() == Code::Ok {
        return response;
    }
    if status.details().is_empty() {
        let shaped = tonic_refusal(&status);
        log_refusal(&shaped, rpc, terminal);
        return shaped.into_http();
    }
    log_refusal(&status, rpc, terminal);
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

/// One line per refused request: code, RPC, terminal, reason and the invalid fields' names;
/// never the message (it may quote what the client sent), the code or the key.
fn log_refusal(status: &Status, rpc: &str, terminal: Option<&str>) {
    let reason = status.get_details_error_info().map(|info| info.reason);
    let reason = reason.as_deref().unwrap_or("none");
    if reason == Reason::InternalError.as_str() {
        return; // Logged at error, with its detail, where it happened.
    }
    let fields = status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let code = code_name(status.code());
    let terminal = terminal.unwrap_or("unknown");
    match loudness(status.code()) {
        Loudness::Info => {
            tracing::info!(code, rpc, terminal, reason, fields, "Request refused")
        }
        Loudness::Warn => {
            tracing::warn!(code, rpc, terminal, reason, fields, "Request refused")
        }
        Loudness::Error => {
            tracing::error!(code, rpc, terminal, reason, fields, "Request refused")
        }
    }
}

fn loudness(code: Code) -> Loudness {
    match code {
        Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::Unauthenticated
        | Code::OutOfRange
        | Code::ResourceExhausted
        | Code::Unimplemented
        | Code::Cancelled => Loudness::Info,
        Code::Unavailable | Code::Aborted | Code::DeadlineExceeded | Code::Unknown => {
            Loudness::Warn
        }
        Code::Ok | Code::Internal | Code::DataLoss => Loudness::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_clients_mistakes_are_info_the_switchs_trouble_warn() {
        assert_eq!(loudness(Code::InvalidArgument), Loudness::Info);
        assert_eq!(loudness(Code::ResourceExhausted), Loudness::Info);
        assert_eq!(loudness(Code::Unavailable), Loudness::Warn);
        assert_eq!(loudness(Code::Internal), Loudness::Error);
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
