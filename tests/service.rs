//! The server as infrastructure sees it: health, reflection, TLS, and the log line an
//! operator gets for each refused request.
use std::sync::{Arc, Mutex, OnceLock};

use kakehashi_proto::v1 as pb;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

mod support;
use support::linepay as lp;
use support::switch::{OTHER_TILL_KEY, Options, TILL_KEY, spawn_with};

fn no_networks() -> Options {
    Options {
        networks: vec![],
        ..Options::default()
    }
}

#[tokio::test]
async fn health_reports_the_acceptance_service_serving() {
    let switch = spawn_with(no_networks()).await;
    let channel = Channel::from_shared(switch.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "kakehashi.v1.AcceptanceService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn reflection_lists_the_acceptance_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let switch = spawn_with(no_networks()).await;
    let channel = Channel::from_shared(switch.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("unexpected reply")
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"kakehashi.v1.AcceptanceService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn the_switch_serves_tls_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_path = dir.path().join("server.crt");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, ca.cert.pem()).unwrap();
    std::fs::write(&key_path, ca.signing_key.serialize_pem()).unwrap();
    let extra = format!(
        "[tls]\ncert_path = {:?}\nkey_path = {:?}\n",
        cert_path.display().to_string(),
        key_path.display().to_string()
    );
    let switch = spawn_with(Options {
        extra,
        ..no_networks()
    })
    .await;

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.cert.pem()))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://{}", switch.addr))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = pb::acceptance_service_client::AcceptanceServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::GetPaymentRequest {
        merchant_order_id: "nothing".into(),
    });
    request
        .metadata_mut()
        .insert("x-api-key", TILL_KEY.parse().unwrap());
    let status = client.get_payment(request).await.unwrap_err();
    assert_eq!(
        status.code(),
        tonic::Code::NotFound,
        "a TLS round trip reached the handler"
    );

    // The terminal CLI's client, given the certificate to trust, does the same.
    let https = format!("https://localhost:{}", switch.addr.port());
    let mut till =
        kakehashi::terminal::Terminal::connect_with_ca(&https, TILL_KEY, Some(&ca.cert.pem()))
            .await
            .unwrap();
    assert_eq!(
        till.get("nothing").await.unwrap_err().code(),
        tonic::Code::NotFound
    );
    let refused = kakehashi::terminal::Terminal::connect_with_ca(&https, TILL_KEY, None).await;
    assert!(refused.unwrap_err().contains("--ca-cert"));

    // Plaintext to a TLS port fails.
    let plain = pb::acceptance_service_client::AcceptanceServiceClient::connect(switch.url()).await;
    if let Ok(mut plain) = plain {
        let mut request = tonic::Request::new(pb::GetPaymentRequest {
            merchant_order_id: "nothing".into(),
        });
        request
            .metadata_mut()
            .insert("x-api-key", TILL_KEY.parse().unwrap());
        assert!(plain.get_payment(request).await.is_err());
    }
}

/// Everything this test binary logs at info and above, as an operator's log file holds it.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .without_time()
            .with_writer(move || LogSink(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber (run this test without TEST_LOG)");
        log
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn refusal_lines(log: &Mutex<Vec<u8>>, terminal: &str) -> Vec<String> {
    let log = log.lock().expect("log lock");
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| {
            l.contains("Request refused") && l.contains(&format!("terminal=\"{terminal}\""))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn each_refused_request_is_logged_once_with_code_rpc_and_terminal() {
    let log = captured_log();
    let switch = spawn_with(Options {
        limits: "pay_wait_ms = 500\npayments_in_flight_max = 1\n".into(),
        ..Options::default()
    })
    .await;
    let wallet = lp::wallet(&switch, 10_000);
    let code = lp::code(&switch, &wallet);
    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;

    let refused = osaka
        .pay("log-1", "1200.0", "JPY", &code)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        osaka.get("log-unknown").await.unwrap_err().code(),
        tonic::Code::NotFound
    );
    // The network hangs: the one payment allowed in flight holds the switch, the next is
    // turned away UNAVAILABLE, the switch's trouble rather than the client's.
    lp::black_hole(&switch);
    let mut first = switch.terminal().await;
    let held = lp::code(&switch, &wallet);
    let _held = tokio::spawn(async move { first.pay("log-held", "100", "JPY", &held).await });
    lp::wait_until_authorizing(&switch.store().await, "log-held").await;
    let busy = osaka
        .pay("log-busy", "100", "JPY", &code)
        .await
        .unwrap_err();
    assert_eq!(busy.code(), tonic::Code::Unavailable, "{busy:?}");

    let lines = refusal_lines(&log, "osaka-till");
    let line = |reason: &str| {
        let found: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains(&format!("reason=\"{reason}\"")))
            .collect();
        assert_eq!(found.len(), 1, "{reason} logged once: {lines:#?}");
        found[0].clone()
    };
    let scale = line("AMOUNT_SCALE");
    assert!(scale.starts_with(" INFO"), "{scale}");
    assert!(scale.contains("code=\"INVALID_ARGUMENT\"") && scale.contains("rpc=\"Pay\""));
    assert!(scale.contains("fields=\"amount.value\""), "{scale}");
    let not_found = line("PAYMENT_NOT_FOUND");
    assert!(not_found.starts_with(" INFO") && not_found.contains("rpc=\"GetPayment\""));
    let busy = line("SWITCH_BUSY");
    assert!(busy.starts_with(" WARN"), "{busy}");
    assert!(busy.contains("code=\"UNAVAILABLE\""), "{busy}");
    assert_eq!(lines.len(), 3, "one line per refusal: {lines:#?}");
    let text = String::from_utf8_lossy(&log.lock().expect("log lock")).into_owned();
    assert!(
        !text.contains(&code[code.len() - 8..]),
        "a payment code reached the log"
    );
    assert!(!text.contains(OTHER_TILL_KEY), "an API key reached the log");
    assert!(!text.contains("1200.0"), "the request body reached the log");
}

#[tokio::test]
async fn a_refusal_before_any_handler_is_logged_too() {
    let log = captured_log();
    let switch = spawn_with(no_networks()).await;
    let channel = Channel::from_shared(switch.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = pb::acceptance_service_client::AcceptanceServiceClient::new(channel);
    let mut huge = tonic::Request::new(pb::GetPaymentRequest {
        merchant_order_id: "o".repeat(1024 * 1024),
    });
    huge.metadata_mut()
        .insert("x-api-key", TILL_KEY.parse().unwrap());
    let status = client.get_payment(huge).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    let nameless = tonic::Request::new(pb::GetPaymentRequest {
        merchant_order_id: "log-nameless".into(),
    });
    let status = client.get_payment(nameless).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let lines = refusal_lines(&log, "till-1");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("reason=\"MESSAGE_TOO_LARGE\"")
                && l.contains("code=\"RESOURCE_EXHAUSTED\"")
                && l.contains("rpc=\"GetPayment\"")),
        "{lines:#?}"
    );
    let unknown = refusal_lines(&log, "unknown");
    assert!(
        unknown
            .iter()
            .any(|l| l.contains("reason=\"API_KEY_MISSING\"")),
        "{unknown:#?}"
    );
}
