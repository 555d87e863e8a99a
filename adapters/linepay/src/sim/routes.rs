//! The simulator's HTTP surface: LINE Pay's v4 offline paths, and the shared `/_sim/`
//! control API (not part of LINE Pay) with one extra: `POST /_sim/recon-file`, the day's
//! transaction list as Payment details answers.
// Early returns carry whole HTTP responses; boxing them buys nothing on a simulator.
#![allow(clippy::result_large_err)]

use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control;
use rust_decimal::Decimal;

use super::ledger::{Answer, Pay};
use super::{BODY_BYTES_MAX, Fault, Operation, SimControl};
use crate::{sign, wire};

type Sim = State<Arc<SimControl>>;

pub(super) fn router(control: Arc<SimControl>) -> Router {
    Router::new()
        .route(wire::PAY_PATH, post(pay))
        .route("/v4/payments/orders/{order_id}/check", get(check))
        .route("/v4/payments/orders/{order_id}/void", post(void))
        .route("/v4/payments/orders/{order_id}/refund", post(refund))
        .route(wire::DETAILS_PATH, get(details))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(Arc::clone(&control))
        .merge(sim_control::router(
            control,
            Router::new().route("/recon-file", post(recon_file)),
        ))
}

/// `POST /_sim/recon-file` `{"date": "2026-12-01", "seeds": ["status"]}`: the day's list,
/// a JSON array of Payment details answers (`crate::recon`).
async fn recon_file(
    State(sim): Sim,
    sim_control::ControlBody(body): sim_control::ControlBody<
        kakehashi_adapter_core::recon::ReconFileRequest,
    >,
) -> Result<Response, sim_control::SimError> {
    let bytes = sim.recon_file(&body)?;
    let name = crate::recon::file_name(super::SIM_CHANNEL_ID, &body.compact_date()?);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
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
    /// The day's list with `request.seeds` planted. The list has no fee or FX columns (a
    /// channel charges its own currency), so `fee` and `fx` seeds are refused. It lists
    /// every channel's transactions, each in its currency.
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
        crate::recon::write_file(&request.date, &lines)
            .map_err(|e| sim_control::SimError::Invalid(format!("the list: {e}")))
    }
}

fn envelope((code, message, info): Answer) -> Response {
    let body = match info {
        Some(info) => {
            format!(r#"{{"returnCode":"{code}","returnMessage":"{message}","info":{info}}}"#)
        }
        None => format!(r#"{{"returnCode":"{code}","returnMessage":"{message}"}}"#),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// What a fault does before the request is processed. `Err` is the response to send
/// instead of processing; `Ok(true)` means process, then never answer. A request that gets
/// this far (not lost on the way in by `Hang`) is recorded as received.
async fn before(
    control: &SimControl,
    operation: Operation,
    uri: &Uri,
    body: &[u8],
) -> Result<bool, Response> {
    let method = if operation == Operation::Check || operation == Operation::Details {
        "GET"
    } else {
        "POST"
    };
    let fault = control.take_fault(operation);
    if fault != Some(Fault::Hang) {
        let query = uri.query().unwrap_or("");
        control.wiretap.record(method, uri.path(), query, body);
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
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Err((
                status,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>Service Unavailable</body></html>",
            )
                .into_response())
        }
        Some(Fault::Garbled) => Err((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"returnCode\":\"00",
        )
            .into_response()),
        Some(Fault::Decline { code }) => {
            let body = format!(
                r#"{{"returnCode":"{code}","returnMessage":"Injected by the simulator."}}"#
            );
            Err((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response())
        }
    }
}

/// Checks the channel, nonce and HMAC over the exact bytes received.
/// Returns the channel's currency.
fn authenticate(
    control: &SimControl,
    headers: &HeaderMap,
    path: &str,
    payload: &[u8],
) -> Result<Currency, Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let refuse = |message: &'static str| Err(envelope(("1106", message, None)));
    let Some(channel) = header("X-LINE-ChannelId").and_then(|id| control.channel_by_id(id)) else {
        return refuse("Header information error (channel).");
    };
    let Some(nonce) =
        header("X-LINE-Authorization-Nonce").filter(|n| !n.is_empty() && n.len() <= 128)
    else {
        return refuse("Header information error (nonce).");
    };
    let Some(signature) = header("X-LINE-Authorization") else {
        return refuse("Header information error (authorization).");
    };
    if !sign::verify(&channel.secret, path, payload, nonce, signature) {
        return refuse("Header information error (signature).");
    }
    if !control.remember_nonce(nonce) {
        return refuse("Header information error (nonce already used).");
    }
    Ok(channel.currency)
}

/// Answers, or (after `HangAfterProcessing`) never answers.
async fn finish(answer: Answer, hang: bool) -> Response {
    if hang {
        futures::future::pending::<()>().await;
    }
    envelope(answer)
}

async fn pay(State(control): Sim, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let hang = match before(&control, Operation::Pay, &uri, &body).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    let currency = match authenticate(&control, &headers, wire::PAY_PATH, &body) {
        Ok(currency) => currency,
        Err(response) => return response,
    };
    control.note_request(Operation::Pay);
    let request: wire::PayRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return envelope(("2102", "JSON data format error.", None)),
    };
    let Ok(amount) = Decimal::from_str(request.amount.get()) else {
        return envelope(("2101", "Parameter error (amount).", None));
    };
    let key_ok = request.one_time_key.chars().all(|c| c.is_ascii_digit())
        && [19, 18, 12].contains(&request.one_time_key.len());
    if !key_ok {
        return envelope(("2101", "Parameter error (oneTimeKey).", None));
    }
    if request.order_id.is_empty() || request.order_id.len() > 100 {
        return envelope(("2101", "Parameter error (orderId).", None));
    }
    let package_total = request.packages.iter().try_fold(Decimal::ZERO, |sum, p| {
        Decimal::from_str(p.amount.get()).ok().map(|a| sum + a)
    });
    if package_total != Some(amount) {
        return envelope(("2101", "Parameter error (packages amount).", None));
    }
    let pay = Pay {
        order_id: &request.order_id,
        one_time_key: &request.one_time_key,
        amount,
        currency: &request.currency,
        now_ms: control.now_ms(),
    };
    let answer = control.ledger().pay(&pay, currency);
    finish(answer, hang).await
}

async fn check(
    State(control): Sim,
    uri: Uri,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    let hang = match before(&control, Operation::Check, &uri, &[]).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    let query = uri.query().unwrap_or("").as_bytes();
    let currency = match authenticate(&control, &headers, uri.path(), query) {
        Ok(currency) => currency,
        Err(response) => return response,
    };
    control.note_request(Operation::Check);
    let answer = control.ledger().check(&order_id, currency);
    finish(answer, hang).await
}

async fn void(
    State(control): Sim,
    uri: Uri,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    let hang = match before(&control, Operation::Void, &uri, &body).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    let currency = match authenticate(&control, &headers, uri.path(), &body) {
        Ok(currency) => currency,
        Err(response) => return response,
    };
    control.note_request(Operation::Void);
    let answer = control.ledger().void(&order_id, currency);
    finish(answer, hang).await
}

async fn refund(
    State(control): Sim,
    uri: Uri,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    let hang = match before(&control, Operation::Refund, &uri, &body).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    let currency = match authenticate(&control, &headers, uri.path(), &body) {
        Ok(currency) => currency,
        Err(response) => return response,
    };
    control.note_request(Operation::Refund);
    let request: wire::RefundRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return envelope(("2102", "JSON data format error.", None)),
    };
    let amount = match request.refund_amount.map(|a| Decimal::from_str(a.get())) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => return envelope(("2101", "Parameter error (refundAmount).", None)),
    };
    let now = control.now_ms();
    let answer = control.ledger().refund(&order_id, currency, amount, now);
    finish(answer, hang).await
}

/// Payment details: `orderId` and/or `transactionId`, nothing else, each once (LINE Pay's
/// parameter error 2101 otherwise; the strictness is the simulator's, LINE Pay documents
/// only the parameters).
async fn details(State(control): Sim, uri: Uri, headers: HeaderMap) -> Response {
    let hang = match before(&control, Operation::Details, &uri, &[]).await {
        Ok(hang) => hang,
        Err(response) => return response,
    };
    let query = uri.query().unwrap_or("");
    let currency = match authenticate(&control, &headers, uri.path(), query.as_bytes()) {
        Ok(currency) => currency,
        Err(response) => return response,
    };
    control.note_request(Operation::Details);
    let Some((order_id, transaction_id)) = details_params(query) else {
        return envelope(("2101", "Parameter error.", None));
    };
    let answer = control
        .ledger()
        .details(order_id.as_deref(), transaction_id, currency);
    finish(answer, hang).await
}

/// `orderId=…&transactionId=…` decoded; `None` for anything else or a repeat.
fn details_params(query: &str) -> Option<(Option<String>, Option<u64>)> {
    let (mut order_id, mut transaction_id) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=')?;
        let value = wire::decode_component(value)?;
        match name {
            "orderId" if order_id.is_none() && !value.is_empty() && value.len() <= 100 => {
                order_id = Some(value);
            }
            "transactionId" if transaction_id.is_none() => {
                if value.len() != 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                transaction_id = Some(value.parse().ok()?);
            }
            _ => return None,
        }
    }
    Some((order_id, transaction_id))
}
