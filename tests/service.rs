//! The server as infrastructure sees it: health, reflection, TLS.
use kakehashi_proto::v1 as pb;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

mod support;
use support::switch::{Options, TILL_KEY, spawn_with};

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
