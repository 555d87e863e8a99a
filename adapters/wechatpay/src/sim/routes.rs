//! The simulator's HTTPS surface: WeChat Pay's v2 paths over TLS (client certificate
//! required on `/secapi/`), and the shared `/_sim/` control API with WeChat Pay's extras.
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use kakehashi_adapter_core::sim_control;
use kakehashi_adapter_core::simkit::Fault;
use tokio::net::TcpListener;

use super::{Operation, SIM_APPID, SIM_MCH_ID, SimControl};
use crate::sign::{self, SignType};
use crate::xml::{self, Fields};

/// Connections served at once.
const CONNECTIONS_MAX: usize = 256;

/// Whether this connection presented a client certificate the CA signed.
#[derive(Debug, Clone, Copy)]
struct ClientCert(bool);

type Sim = State<Arc<SimControl>>;

fn router(control: Arc<SimControl>) -> Router {
    Router::new()
        .route("/pay/micropay", post(api))
        .route("/pay/orderquery", post(api))
        .route("/pay/refundquery", post(api))
        .route("/secapi/pay/reverse", post(api))
        .route("/secapi/pay/refund", post(api))
        .layer(DefaultBodyLimit::max(xml::XML_BYTES_MAX))
        .with_state(Arc::clone(&control))
        .merge(sim_control::router(control, super::control::extras()))
}

/// Accepts TLS connections, noting per connection whether a client certificate came.
pub(super) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    control: Arc<SimControl>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_MAX));
    let app = router(control);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let has_cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| !c.is_empty());
            let service = app.layer(axum::Extension(ClientCert(has_cert)));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(service))
                .await;
        });
    }
}

fn xml_response(fields: &Fields) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml::write(fields),
    )
        .into_response()
}

fn comm_fail(message: &str) -> Response {
    let mut f = Fields::new();
    f.insert("return_code".into(), "FAIL".into());
    f.insert("return_msg".into(), message.into());
    xml_response(&f)
}

fn operation(path: &str) -> Operation {
    match path {
        "/pay/micropay" => Operation::Micropay,
        "/pay/orderquery" => Operation::OrderQuery,
        "/secapi/pay/reverse" => Operation::Reverse,
        "/secapi/pay/refund" => Operation::Refund,
        _ => Operation::RefundQuery,
    }
}

async fn api(
    State(c): Sim,
    axum::Extension(cert): axum::Extension<ClientCert>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let op = operation(path);
    let mut hang = false;
    let fault = c.take_fault(op);
    if fault != Some(Fault::Hang) {
        c.wiretap
            .record("POST", path, uri.query().unwrap_or(""), &body);
    }
    match fault {
        None => {}
        Some(Fault::Delay { ms }) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        Some(Fault::Hang) => futures::future::pending::<()>().await,
        Some(Fault::HangAfterProcessing) => hang = true,
        Some(Fault::HttpStatus { status }) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                "<html>error</html>",
            )
                .into_response();
        }
        Some(Fault::Garbled) => return (StatusCode::OK, "<xml><return_code>SUCC").into_response(),
        Some(Fault::Decline { code }) => return business_fail_unsigned(&c, &code),
    }
    if path.starts_with("/secapi/") && !cert.0 {
        return comm_fail(
            "证书错误: a client certificate (apiclient_cert) is required for /secapi/",
        );
    }
    let Ok(request) = xml::read(&body) else {
        return comm_fail("XML_FORMAT_ERROR: XML格式错误");
    };
    let Some(sign_type) = SignType::parse(
        request
            .get("sign_type")
            .map(String::as_str)
            .unwrap_or("MD5"),
    ) else {
        return comm_fail("sign_type 无效");
    };
    if !sign::verify(&request, &c.api_key, sign_type) {
        return comm_fail("签名错误");
    }
    if !request
        .get("nonce_str")
        .is_some_and(|n| !n.is_empty() && n.len() <= 32 && c.first_use_of_nonce(n))
    {
        return comm_fail("nonce_str 无效或重复 (replayed request)");
    }
    let answer = if request.get("appid").map(String::as_str) != Some(SIM_APPID)
        || request.get("mch_id").map(String::as_str) != Some(SIM_MCH_ID)
    {
        Err((
            "APPID_MCHID_NOT_MATCH",
            "appid和mch_id不匹配",
            Fields::new(),
        ))
    } else if !request
        .get("sub_mch_id")
        .is_some_and(|s| !s.is_empty() && s.chars().all(|ch| ch.is_ascii_digit()))
    {
        Err(("LACK_PARAMS", "缺少参数 sub_mch_id", Fields::new()))
    } else if !request
        .get("sub_mch_id")
        .is_some_and(|s| c.is_sub_merchant(s))
    {
        Err((
            "MCHID_NOT_EXIST",
            "子商户号不存在或未与服务商绑定",
            Fields::new(),
        ))
    } else {
        let now = c.now_ms();
        let mut books = c.books();
        match op {
            Operation::Micropay => books.micropay(&request, now),
            Operation::OrderQuery => books.order_query(&request, now),
            Operation::Reverse => books.reverse(&request, now),
            Operation::Refund => books.refund(&request, now),
            Operation::RefundQuery => books.refund_query(&request),
        }
    };
    let mut reply = match answer {
        Ok(fields) => {
            let mut f = fields;
            f.insert("result_code".into(), "SUCCESS".into());
            f
        }
        Err((code, des, extra)) => {
            let mut f = extra;
            f.insert("result_code".into(), "FAIL".into());
            f.insert("err_code".into(), code.into());
            f.insert("err_code_des".into(), des.into());
            f
        }
    };
    for key in ["appid", "mch_id", "sub_mch_id"] {
        if let Some(v) = request.get(key) {
            reply.insert(key.into(), v.clone());
        }
    }
    reply.insert("return_code".into(), "SUCCESS".into());
    reply.insert("return_msg".into(), "OK".into());
    reply.insert(
        "nonce_str".into(),
        uuid::Uuid::new_v4().simple().to_string(),
    );
    let signature = sign::sign(&reply, &c.api_key, sign_type);
    reply.insert("sign".into(), signature);
    if hang {
        futures::future::pending::<()>().await;
    }
    xml_response(&reply)
}

/// An injected business failure, signed so the adapter trusts it.
fn business_fail_unsigned(c: &SimControl, code: &str) -> Response {
    let mut f = Fields::new();
    f.insert("return_code".into(), "SUCCESS".into());
    f.insert("return_msg".into(), "OK".into());
    f.insert("result_code".into(), "FAIL".into());
    f.insert("err_code".into(), code.into());
    f.insert(
        "nonce_str".into(),
        uuid::Uuid::new_v4().simple().to_string(),
    );
    f.insert("sign_type".into(), "HMAC-SHA256".into());
    let signature = sign::sign(&f, &c.api_key, SignType::HmacSha256);
    f.insert("sign".into(), signature);
    xml_response(&f)
}
