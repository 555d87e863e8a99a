//! The simulator's HTTP surface: PayPay OPA paths, the Kakehashi extension's scan path, and
//! the shared `/_sim/` control API with PayPay's one extra, `POST /_sim/recon-file`. A path PayPay has no API
//! for is answered `404 NOT_FOUND "no such API"`, as an independent implementation of
//! PayPay's published API answered it (PayPay documents no such reply).
// Early returns carry whole HTTP responses; boxing them buys nothing on a simulator.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use kakehashi_adapter_core::sim_control;
use kakehashi_adapter_core::simkit::Fault;

use super::books::Answer;
use super::{BODY_BYTES_MAX, EPOCH_SKEW_MAX_S, Operation, SimControl};
use crate::sign::{self, Signed};
use crate::wire;

type Sim = State<Arc<SimControl>>;

pub(super) fn router(control: Arc<SimControl>) -> Router {
    Router::new()
        .route(wire::CODES_PATH, post(create_qr))
        .route("/v2/codes/{code_id}", delete(delete_qr))
        .route("/v2/codes/payments/{id}", get(qr_details))
        .route(wire::EXT_SCAN_PATH, post(scan))
        .route("/v2/payments/{id}", get(details).delete(cancel))
        .route(wire::REFUNDS_PATH, post(refund))
        .route("/v2/refunds/{id}", get(refund_details))
        .fallback(no_such_api)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(Arc::clone(&control))
        .merge(sim_control::router(
            control,
            Router::new().route("/recon-file", post(recon_file)),
        ))
}

/// The merchant id the simulator writes in its reconciliation files.
pub const SIM_MERCHANT_ID: &str = "000000000000000001";

/// `POST /_sim/recon-file` `{"date": "2026-12-01", "seeds": ["status"]}`: the day's
/// 突合ファイル, Shift_JIS, as PayPay's webhook points to it.
async fn recon_file(
    State(sim): Sim,
    sim_control::ControlBody(body): sim_control::ControlBody<
        kakehashi_adapter_core::recon::ReconFileRequest,
    >,
) -> Result<Response, sim_control::SimError> {
    let bytes = sim.recon_file(&body)?;
    let name = crate::recon::file_name(SIM_MERCHANT_ID, &body.compact_date()?);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=Shift_JIS".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

impl SimControl {
    /// The day's reconciliation file with `request.seeds` planted (PayPay has no fee or FX
    /// columns, so `fee` and `fx` seeds are refused).
    pub fn recon_file(
        &self,
        request: &kakehashi_adapter_core::recon::ReconFileRequest,
    ) -> Result<Vec<u8>, sim_control::SimError> {
        use kakehashi_adapter_core::recon;
        use kakehashi_adapter_core::sim_control::SimulatorControl;
        request.compact_date()?;
        let mut lines = recon::lines_from_state(&self.state(), None);
        for line in &mut lines {
            line.wallet_amount = None;
        }
        recon::seed(&mut lines, &request.seeds)?;
        Ok(crate::recon::write_file(
            SIM_MERCHANT_ID,
            &request.date,
            &lines,
        ))
    }
}

fn json(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn envelope(answer: Answer) -> Response {
    match answer {
        Answer::Ok { status, data } => json(status, format!(r#"{{"resultInfo":{{"code":"SUCCESS","message":"Success","codeId":"08100001"}},"data":{data}}}"#)),
        Answer::Accepted => json(202, r#"{"resultInfo":{"code":"REQUEST_ACCEPTED","message":"Request accepted","codeId":"08100001"},"data":null}"#.into()),
        Answer::Err { status, code, code_id } => json(status, format!(r#"{{"resultInfo":{{"code":"{code}","message":"{code}","codeId":"{code_id}"}},"data":null}}"#)),
    }
}

/// The answer to a path PayPay serves no API on.
async fn no_such_api() -> Response {
    json(
        404,
        r#"{"resultInfo":{"code":"NOT_FOUND","message":"no such API"},"data":null}"#.into(),
    )
}

/// Applies an injected fault. `Err`: the response to send instead; `Ok(true)`: process,
/// then never answer. A request not lost on the way in (`Hang`) is recorded as received.
async fn before(
    control: &SimControl,
    operation: Operation,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<bool, Response> {
    let fault = control.take_fault(operation);
    if fault != Some(Fault::Hang) {
        let query = uri.query().unwrap_or("");
        control
            .wiretap
            .record(method.as_str(), uri.path(), query, body);
    }
    match fault {
        None => Ok(false),
        Some(Fault::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(false)
        }
        Some(Fault::Hang) => futures::future::pending().await,
        Some(Fault::HangAfterProcessing) => Ok(true),
        Some(Fault::HttpStatus { status }) => {
            Err(json(status, "<html>upstream error</html>".into()))
        }
        Some(Fault::Garbled) => Err(json(200, "{\"resultInfo\":".into())),
        Some(Fault::Decline { code }) => Err(json(
            400,
            format!(
                r#"{{"resultInfo":{{"code":"{code}","message":"injected","codeId":""}},"data":null}}"#
            ),
        )),
    }
}

/// Verifies `hmac OPA-Auth` against the received Content-Type and body, the epoch window
/// and nonce reuse. Every refusal is PayPay's 401 UNAUTHORIZED.
fn authenticate(
    control: &SimControl,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Result<(), Response> {
    let refuse = || {
        Err(envelope(Answer::Err {
            status: 401,
            code: "UNAUTHORIZED",
            code_id: "08100016",
        }))
    };
    let Some(parsed) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(sign::parse_header)
    else {
        return refuse();
    };
    if parsed.api_key != control.api_key
        || (parsed.epoch - control.now_ms() / 1000).abs() > EPOCH_SKEW_MAX_S
    {
        return refuse();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed = Signed {
        path,
        method: method.as_str(),
        nonce: &parsed.nonce,
        epoch: parsed.epoch,
        body: (!body.is_empty()).then_some((content_type, body)),
    };
    if !sign::verify(&control.api_secret, &parsed, &signed)
        || !control.first_use_of_nonce(&parsed.nonce)
    {
        return refuse();
    }
    Ok(())
}

async fn finish(answer: Answer, hang: bool) -> Response {
    if hang {
        futures::future::pending::<()>().await;
    }
    envelope(answer)
}

/// The common shape of every OPA handler: fault, authenticate, run, answer.
async fn handle(
    control: &SimControl,
    operation: Operation,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    run: impl FnOnce(i64) -> Answer,
) -> Response {
    let hang = match before(control, operation, method, uri, body).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    if let Err(response) = authenticate(control, headers, method, uri.path(), body) {
        return response;
    }
    let answer = run(control.now_ms());
    finish(answer, hang).await
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    serde_json::from_slice(body).map_err(|_| Answer::Err {
        status: 400,
        code: "INVALID_REQUEST_PARAMS",
        code_id: "08100006",
    })
}

async fn create_qr(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        &c,
        Operation::CreateQr,
        &method,
        &uri,
        &headers,
        &body,
        |now| match parse::<wire::CreateQrRequest>(&body) {
            Ok(r) => c.books().create_qr(&r, now),
            Err(a) => a,
        },
    )
    .await
}

async fn delete_qr(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(code_id): Path<String>,
) -> Response {
    handle(&c, Operation::Cancel, &method, &uri, &headers, &[], |_| {
        c.books().delete_qr(&code_id)
    })
    .await
}

async fn qr_details(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    handle(
        &c,
        Operation::Details,
        &method,
        &uri,
        &headers,
        &[],
        |now| c.books().details(&id, true, now),
    )
    .await
}

async fn scan(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !c.scan_extension_served() {
        c.wiretap.record(
            method.as_str(),
            uri.path(),
            uri.query().unwrap_or(""),
            &body,
        );
        return no_such_api().await;
    }
    tracing::debug!(
        "Kakehashi extension: customer-presented PayPay code (not part of PayPay's API)"
    );
    handle(
        &c,
        Operation::Scan,
        &method,
        &uri,
        &headers,
        &body,
        |now| match parse::<wire::ExtScanRequest>(&body) {
            Ok(r) => c.books().scan(&r, now),
            Err(a) => a,
        },
    )
    .await
}

async fn details(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    handle(
        &c,
        Operation::Details,
        &method,
        &uri,
        &headers,
        &[],
        |now| c.books().details(&id, false, now),
    )
    .await
}

async fn cancel(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    handle(&c, Operation::Cancel, &method, &uri, &headers, &[], |now| {
        c.books().cancel(&id, now)
    })
    .await
}

async fn refund(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        &c,
        Operation::Refund,
        &method,
        &uri,
        &headers,
        &body,
        |_| match parse::<wire::RefundRequest>(&body) {
            Ok(r) => c.books().refund(&r),
            Err(a) => a,
        },
    )
    .await
}

async fn refund_details(
    State(c): Sim,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    handle(
        &c,
        Operation::RefundDetails,
        &method,
        &uri,
        &headers,
        &[],
        |_| {
            c.books()
                .refund_details(&id, query.get("paymentId").map(String::as_str))
        },
    )
    .await
}
