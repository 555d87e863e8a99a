//! The `/_sim/` routes, built once from any [`SimulatorControl`]. Every answer is JSON;
//! every refusal is `{"error": "..."}` with the status [`SimError`] names.
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, OriginalUri, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{NewWallet, SimError, SimulatorControl};
use crate::simkit::Fault;

/// Largest control request body read.
pub const CONTROL_BODY_BYTES_MAX: usize = 16 * 1024;
/// Longest injected delay: past this a request is better served by `hang`.
const FAULT_DELAY_MS_MAX: u64 = 10 * 60 * 1000;
const DECLINE_CODE_CHARS_MAX: usize = 64;

/// Serves `sim`'s control API under `/_sim/`, with `extras` (paths relative to `/_sim`,
/// e.g. `/refund-pool`) for the network's own controls. Merge the result into the
/// simulator's router.
pub fn router<S: SimulatorControl>(sim: Arc<S>, extras: Router<Arc<S>>) -> Router {
    let control = Router::new()
        .route("/", get(info::<S>))
        .route("/state", get(state::<S>))
        .route("/wallets", post(add_wallet::<S>))
        .route("/wallets/{id}", get(wallet::<S>))
        .route("/wallets/{id}/codes", post(issue_code::<S>))
        .route("/qr/pay", post(pay_qr::<S>))
        .route("/qr/abandon", post(abandon_qr::<S>))
        .route("/faults", post(inject::<S>).delete(clear_faults::<S>))
        .merge(extras)
        .fallback(unknown)
        .method_not_allowed_fallback(not_allowed);
    Router::new()
        .nest("/_sim", control)
        .route("/_sim/", get(info::<S>))
        .with_state(sim)
}

/// A JSON request body, read within [`CONTROL_BODY_BYTES_MAX`]; a bad one is a JSON 400.
pub struct ControlBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ControlBody<T> {
    type Rejection = SimError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), CONTROL_BODY_BYTES_MAX)
            .await
            .map_err(|_| SimError::BodyTooLarge(CONTROL_BODY_BYTES_MAX))?;
        serde_json::from_slice(&bytes)
            .map(ControlBody)
            .map_err(|e| SimError::Invalid(format!("request body: {e}")))
    }
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = match &self {
            SimError::Invalid(_) => StatusCode::BAD_REQUEST,
            SimError::NotFound(_) => StatusCode::NOT_FOUND,
            SimError::Refused(_) => StatusCode::CONFLICT,
            SimError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            SimError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
            SimError::Full(_) => StatusCode::INSUFFICIENT_STORAGE,
        };
        (
            status,
            axum::Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

async fn info<S: SimulatorControl>(State(sim): State<Arc<S>>) -> Response {
    axum::Json(sim.info()).into_response()
}

async fn state<S: SimulatorControl>(State(sim): State<Arc<S>>) -> Response {
    axum::Json(sim.state()).into_response()
}

async fn add_wallet<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    ControlBody(wallet): ControlBody<NewWallet>,
) -> Result<Response, SimError> {
    let created = sim.add_wallet(&wallet)?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

async fn wallet<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    Path(id): Path<String>,
) -> Result<Response, SimError> {
    let wallet = sim.wallet(&id).ok_or_else(|| no_wallet(&id))?;
    Ok(axum::Json(wallet).into_response())
}

async fn issue_code<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    Path(id): Path<String>,
) -> Result<Response, SimError> {
    let code = sim.issue_code(&id)?;
    let body = serde_json::json!({ "code": code, "valid_for_ms": sim.info().code_valid_ms });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `{"qr": "<the QR's payload or the network's id for it>", "wallet": "hanako"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QrPayer {
    qr: String,
    wallet: String,
}

async fn pay_qr<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    ControlBody(payer): ControlBody<QrPayer>,
) -> Result<StatusCode, SimError> {
    sim.pay_qr(&payer.qr, &payer.wallet)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QrLeaver {
    qr: String,
}

async fn abandon_qr<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    ControlBody(leaver): ControlBody<QrLeaver>,
) -> Result<StatusCode, SimError> {
    sim.abandon_qr(&leaver.qr)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"operation": "pay", "fault": {"kind": "hang"}, "times": 1}`; `operation` and `times`
/// may be omitted (every operation; until cleared).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "O: DeserializeOwned")]
struct FaultRule<O> {
    #[serde(default)]
    operation: Option<O>,
    fault: Fault,
    #[serde(default)]
    times: Option<u32>,
}

async fn inject<S: SimulatorControl>(
    State(sim): State<Arc<S>>,
    ControlBody(rule): ControlBody<FaultRule<S::Operation>>,
) -> Result<StatusCode, SimError> {
    check_fault(&rule.fault)?;
    if rule.times == Some(0) {
        return Err(SimError::Invalid(
            "`times` must be at least 1 (omit it for \"until cleared\")".into(),
        ));
    }
    sim.inject(rule.operation, rule.fault, rule.times);
    Ok(StatusCode::NO_CONTENT)
}

/// Faults a simulator can act out faithfully: a real error status, a bounded delay, and a
/// decline code that is a plain token (it is written into the network's reply verbatim).
fn check_fault(fault: &Fault) -> Result<(), SimError> {
    match fault {
        Fault::HttpStatus { status } if !(400..=599).contains(status) => Err(SimError::Invalid(
            format!("http_status {status}: give an error status, 400..=599"),
        )),
        Fault::Delay { ms } if *ms > FAULT_DELAY_MS_MAX => Err(SimError::Invalid(format!(
            "delay of {ms} ms: at most {FAULT_DELAY_MS_MAX} (use `hang` for never)"
        ))),
        Fault::Decline { code }
            if code.is_empty()
                || code.len() > DECLINE_CODE_CHARS_MAX
                || !code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Err(SimError::Invalid(format!(
                "decline code must be 1..={DECLINE_CODE_CHARS_MAX} of [A-Za-z0-9_-]"
            )))
        }
        _ => Ok(()),
    }
}

async fn clear_faults<S: SimulatorControl>(State(sim): State<Arc<S>>) -> StatusCode {
    sim.clear_faults();
    StatusCode::NO_CONTENT
}

async fn unknown(OriginalUri(uri): OriginalUri) -> SimError {
    SimError::NotFound(format!(
        "no control at {}; GET /_sim lists what this simulator offers",
        uri.path().chars().take(80).collect::<String>()
    ))
}

async fn not_allowed(OriginalUri(uri): OriginalUri) -> Response {
    let body = serde_json::json!({
        "error": format!("{} does not take this method", uri.path().chars().take(80).collect::<String>())
    });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

fn no_wallet(id: &str) -> SimError {
    SimError::NotFound(format!(
        "no wallet `{}`",
        id.chars().take(64).collect::<String>()
    ))
}
