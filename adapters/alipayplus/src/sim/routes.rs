//! The simulator's HTTP surface: Alipay+'s `/aps/api/v1/payments/*` (RSA256 both ways) and
//! the shared `/_sim/` control API with Alipay+'s extra. An API Alipay+ does not offer is answered
//! as Alipay+ names it: `INVALID_API` for an unknown path under `/aps/api/`,
//! `METHOD_NOT_SUPPORTED` for a method other than POST (both F, signed).
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kakehashi_adapter_core::sim_control;
use kakehashi_adapter_core::simkit::Fault;

use super::{BODY_BYTES_MAX, Operation, REQUEST_TIME_SKEW_MAX_MS, SIM_CLIENT_ID, SimControl};
use crate::sign::{self, Signer};
use crate::translate::parse_time_ms;
use crate::wire::{self, PaymentReply};

type Sim = State<Arc<SimControl>>;

pub(super) fn router(control: Arc<SimControl>) -> Router {
    Router::new()
        .route(wire::PAY_PATH, post(api))
        .route(wire::INQUIRY_PATH, post(api))
        .route(wire::CANCEL_PATH, post(api))
        .route(wire::REFUND_PATH, post(api))
        .fallback(unknown_api)
        .method_not_allowed_fallback(method_not_supported)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(Arc::clone(&control))
        .merge(sim_control::router(control, super::control::extras()))
}

/// A signed JSON reply: `signature`, `response-time` and `client-id` headers over
/// `POST <path>\n<client-id>.<response-time>.<body>`.
fn signed(control: &SimControl, path: &str, reply: &PaymentReply) -> Response {
    let body = serde_json::to_vec(reply).unwrap_or_default();
    let time = kakehashi_adapter_core::simkit::iso8601_utc(control.now_ms());
    let content = sign::content("POST", path, SIM_CLIENT_ID, &time, &body);
    let signer: &Signer = &control.signer;
    let signature = if control.take_bad_signature() {
        // A valid signature over different content: verification must fail.
        signer.header(b"not what was sent")
    } else {
        signer.header(&content)
    };
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("signature", signature.unwrap_or_default()),
        ("response-time", time),
        ("client-id", SIM_CLIENT_ID.to_owned()),
    ] {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    response
}

fn refused(control: &SimControl, path: &str, code: &str) -> Response {
    let reply = PaymentReply {
        result: Some(wire::ResultInfo {
            result_code: code.into(),
            result_status: "F".into(),
            result_message: code.into(),
        }),
        ..PaymentReply::default()
    };
    signed(control, path, &reply)
}

fn operation(path: &str) -> Operation {
    match path {
        wire::PAY_PATH => Operation::Pay,
        wire::INQUIRY_PATH => Operation::Inquiry,
        wire::CANCEL_PATH => Operation::Cancel,
        _ => Operation::Refund,
    }
}

/// Checks Client-Id, Request-Time (ISO 8601 or epoch ms, within 5 minutes), the RSA256
/// signature over the exact bytes, and that this exact signed request was not seen before.
fn authenticate(
    c: &SimControl,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("client-id") != Some(SIM_CLIENT_ID) {
        return Err("INVALID_CLIENT");
    }
    let time = header("request-time").ok_or("INVALID_SIGNATURE")?;
    let time_ms = parse_time_ms(time)
        .or_else(|| time.parse::<i64>().ok())
        .ok_or("INVALID_SIGNATURE")?;
    if (time_ms - c.now_ms()).abs() > REQUEST_TIME_SKEW_MAX_MS {
        return Err("INVALID_SIGNATURE");
    }
    let signature = header("signature").ok_or("INVALID_SIGNATURE")?;
    let content = sign::content("POST", path, SIM_CLIENT_ID, time, body);
    if !c.acquirer_key.verify_header(signature, &content) {
        return Err("INVALID_SIGNATURE");
    }
    // Retries are welcome (idempotent by request id) but each is signed afresh; the same
    // signed bytes twice are a replay.
    if !c.first_use_of_signature(signature) {
        return Err("ACCESS_DENIED");
    }
    Ok(())
}

/// Where Alipay+'s API lives; other paths are not Alipay+'s to answer.
const API_PREFIX: &str = "/aps/api/";

async fn unknown_api(State(c): Sim, uri: Uri) -> Response {
    if uri.path().starts_with(API_PREFIX) {
        refused(&c, uri.path(), "INVALID_API")
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn method_not_supported(State(c): Sim, uri: Uri) -> Response {
    if uri.path().starts_with(API_PREFIX) {
        refused(&c, uri.path(), "METHOD_NOT_SUPPORTED")
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

async fn api(State(c): Sim, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let op = operation(&path);
    let mut hang = false;
    let fault = c.take_fault(op);
    if fault != Some(Fault::Hang) {
        c.wiretap
            .record("POST", &path, uri.query().unwrap_or(""), &body);
    }
    match fault {
        None => {}
        Some(Fault::Delay { ms }) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        Some(Fault::Hang) => futures::future::pending::<()>().await,
        Some(Fault::HangAfterProcessing) => hang = true,
        Some(Fault::HttpStatus { status }) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                "upstream error",
            )
                .into_response();
        }
        Some(Fault::Garbled) => return (StatusCode::OK, "{\"result\":").into_response(),
        Some(Fault::Decline { code }) => {
            let status = if matches!(
                code.as_str(),
                "PAYMENT_IN_PROCESS" | "UNKNOWN_EXCEPTION" | "REQUEST_TRAFFIC_EXCEED_LIMIT"
            ) {
                "U"
            } else {
                "F"
            };
            let reply = PaymentReply {
                result: Some(wire::ResultInfo {
                    result_code: code.clone(),
                    result_status: status.into(),
                    result_message: "injected".into(),
                }),
                ..PaymentReply::default()
            };
            return signed(&c, &path, &reply);
        }
    }
    if let Err(code) = authenticate(&c, &headers, &path, &body) {
        return refused(&c, &path, code);
    }
    if let Err(illegal) = super::schema::check(op, &body) {
        tracing::info!(path, why = %illegal.0, "Alipay+ simulator: PARAM_ILLEGAL");
        return refused(&c, &path, "PARAM_ILLEGAL");
    }
    let now = c.now_ms();
    let reply = match op {
        Operation::Pay => {
            serde_json::from_slice::<wire::PayRequest>(&body).map(|r| c.books().pay(&r, now))
        }
        Operation::Inquiry => serde_json::from_slice::<wire::ByRequestId>(&body)
            .map(|r| c.books().inquiry(&r.payment_request_id, now)),
        Operation::Cancel => serde_json::from_slice::<wire::ByRequestId>(&body)
            .map(|r| c.books().cancel(&r.payment_request_id, now)),
        Operation::Refund => {
            serde_json::from_slice::<wire::RefundRequest>(&body).map(|r| c.books().refund(&r, now))
        }
    };
    let Ok(reply) = reply else {
        return refused(&c, &path, "PARAM_ILLEGAL");
    };
    if hang {
        futures::future::pending::<()>().await;
    }
    signed(&c, &path, &reply)
}
