//! Mutual TLS on the auditor listener: with `[audit.tls] client_ca_path` and no tokens, a
//! client certificate from that CA is the auditor's credential, and a client without one
//! does not get through the handshake.
use kakehashi::audit::checkpoint::{keygen, write_key_file};
use kakehashi::{Config, Switch};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::audit_service_client::AuditServiceClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_types::StatusExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_from_the_auditors_ca_is_the_credential() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();

    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(path("server.crt"), server.cert.pem()).unwrap();
    std::fs::write(path("server.key"), server.signing_key.serialize_pem()).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(path("auditors-ca.pem"), ca.pem()).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["auditor.example".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();

    let origin = "kakehashi.example/audit/mtls-test";
    let (private, _) = keygen(origin).unwrap();
    write_key_file(dir.path().join("audit.key").as_path(), &private).unwrap();
    let text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "sqlite://{db}"
[audit]
origin = "{origin}"
key_path = "{key}"
listen = "127.0.0.1:0"
[audit.tls]
cert_path = "{cert}"
key_path = "{server_key}"
client_ca_path = "{ca}"
"#,
        db = path("switch.db"),
        key = path("audit.key"),
        cert = path("server.crt"),
        server_key = path("server.key"),
        ca = path("auditors-ca.pem"),
    );
    let switch = Switch::build(Config::parse(&text).unwrap()).await.unwrap();
    let addr = switch.auditor_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switch.serve(async move {
        let _ = stopped.await;
    }));

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server.cert.pem()))
        .domain_name("localhost");
    let url = format!("https://localhost:{}", addr.port());
    let with_cert = Channel::from_shared(url.clone())
        .unwrap()
        .tls_config(tls.clone().identity(Identity::from_pem(
            client_cert.pem(),
            client_key.serialize_pem(),
        )))
        .unwrap()
        .connect()
        .await
        .unwrap();
    // The empty log has no checkpoint: the handler answered, so the certificate let us in.
    let status = AuditServiceClient::new(with_cert)
        .get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        "AUDIT_CHECKPOINT_NOT_FOUND"
    );

    let without_cert = Channel::from_shared(url)
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await;
    let refused = match without_cert {
        Err(_) => true,
        Ok(channel) => AuditServiceClient::new(channel)
            .get_checkpoint(pb::GetCheckpointRequest { tree_size: 0 })
            .await
            // The handshake's refusal reaches the client as a transport failure, which
            // tonic reports as one of these depending on when the alert arrives; the
            // handler would have answered NOT_FOUND.
            .is_err_and(|s| {
                matches!(
                    s.code(),
                    tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
                )
            }),
    };
    assert!(refused, "a client without a certificate got through");
}
