//! The partner gateway over real mutual TLS on loopback, with certificates made here: a
//! partner is the network its client certificate is bound to, and nothing else. Two
//! reference partners (kpay, tpay) run as configured networks; the switch's partner
//! listener refuses clients without a certificate from the partners' CA and certificates
//! bound to no network, keeps each partner to its own network's payments, takes duplicate
//! notifications harmlessly and refuses contradicting ones, stores published rates and
//! settlement reports, and records a static-code payment that the till sees through
//! WatchPayment.
use std::time::Duration;

use kakehashi::terminal::Terminal;
use kakehashi::{Config, Switch};
use kakehashi_adapter_core::RunningSimulator;
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::partner_gateway_service_client::PartnerGatewayServiceClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::json;
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_types::StatusExt;

#[path = "support/postgres.rs"]
mod postgres;

#[path = "support/partner.rs"]
mod partner;

const TILL_KEY: &str = "gateway-till-test-key-01";

type Client = PartnerGatewayServiceClient<Channel>;

async fn partner_sim(network: &str, prefix: &str, currency: &str) -> RunningSimulator {
    partner::spawn(network, prefix, currency, 3000, 5).await
}

/// A client certificate and its key.
struct ClientCert {
    pem: String,
    key: String,
    sha256: String,
}

fn client_cert(name: &str, issuer: &CertifiedIssuer<'_, KeyPair>) -> ClientCert {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    ClientCert {
        pem: cert.pem(),
        key: key.serialize_pem(),
        sha256: hex::encode(Sha256::digest(cert.der().as_ref())),
    }
}

struct Fixture {
    kpay: Client,
    tpay: Client,
    till: Terminal,
    till_url: String,
    static_code: String,
    other_code: String,
    db_url: String,
    gateway_url: String,
    server_pem: String,
    unbound: ClientCert,
    stranger: ClientCert,
    kpay_sim: RunningSimulator,
    _tpay_sim: RunningSimulator,
    _dir: tempfile::TempDir,
}

async fn connect(url: &str, server_pem: &str, cert: Option<&ClientCert>) -> Result<Client, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server_pem))
        .domain_name("localhost");
    if let Some(cert) = cert {
        tls = tls.identity(Identity::from_pem(&cert.pem, &cert.key));
    }
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(PartnerGatewayServiceClient::new(channel))
}

async fn fixture() -> Fixture {
    fixture_on(None).await
}

/// The fixture on `store_url` (a fresh PostgreSQL database), or on a SQLite file.
async fn fixture_on(store_url: Option<String>) -> Fixture {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(path("server.crt"), server.cert.pem()).unwrap();
    std::fs::write(path("server.key"), server.signing_key.serialize_pem()).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(path("partners-ca.pem"), ca.pem()).unwrap();
    let kpay_cert = client_cert("kpay.partner.example", &ca);
    let tpay_cert = client_cert("tpay.partner.example", &ca);
    let unbound = client_cert("kpay.partner.example", &ca);
    let mut other_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other_ca =
        CertifiedIssuer::self_signed(other_params, KeyPair::generate().unwrap()).unwrap();
    let stranger = client_cert("kpay.partner.example", &other_ca);

    let kpay_sim = partner_sim("kpay", "93", "KRW").await;
    let tpay_sim = partner_sim("tpay", "94", "THB").await;
    let db_url = store_url.unwrap_or_else(|| format!("sqlite://{}", path("kakehashi.db")));
    let text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "{db_url}"
[limits]
pay_wait_ms = 8000
lease_ms = 1000
recovery_interval_ms = 200
[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = ["kpay", "tpay"]
qr = {{ name = "SHINJUKU RAMEN", city = "TOKYO" }}
[[merchants]]
id = "kyoto-tea"
name = "Kyoto Tea"
networks = ["kpay"]
qr = {{ name = "KYOTO TEA", city = "KYOTO" }}
[[terminals]]
id = "till-1"
merchant_id = "shinjuku-ramen"
api_key = "{TILL_KEY}"
[networks.kpay]
adapter = "grpc"
endpoint = "{kpay_url}"
[networks.tpay]
adapter = "grpc"
endpoint = "{tpay_url}"
[compliance.networks.kpay]
single_payment_max = {{ JPY = "100000" }}
[partner_gateway]
listen = "127.0.0.1:0"
cert_path = "{cert}"
key_path = "{key}"
client_ca_path = "{ca}"
[partners.kpay-test]
network = "kpay"
cert_sha256 = ["{kpay_fp}"]
[partners.tpay-test]
network = "tpay"
cert_sha256 = ["{tpay_fp}"]
"#,
        kpay_url = kpay_sim.base_url,
        tpay_url = tpay_sim.base_url,
        cert = path("server.crt"),
        key = path("server.key"),
        ca = path("partners-ca.pem"),
        kpay_fp = kpay_cert.sha256,
        tpay_fp = tpay_cert.sha256.to_ascii_uppercase(),
    );
    let config = Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let static_code = {
        let ramen = config.merchants.iter().find(|m| m.id == "shinjuku-ramen");
        let place = kakehashi::qr::merchant::Place {
            store_id: None,
            terminal_id: Some("till-1"),
        };
        kakehashi::qr::merchant::static_code(&config.qr, ramen.unwrap(), place)
            .unwrap()
            .encode()
    };
    let other_code = {
        let tea = config.merchants.iter().find(|m| m.id == "kyoto-tea");
        kakehashi::qr::merchant::static_code(&config.qr, tea.unwrap(), Default::default())
            .unwrap()
            .encode()
    };
    let switch = Switch::build(config).await.expect("the switch starts");
    let gateway_url = format!(
        "https://localhost:{}",
        switch.partner_gateway_addr().unwrap().port()
    );
    let till_url = format!("http://{}", switch.local_addr());
    tokio::spawn(switch.serve(std::future::pending()));
    let server_pem = server.cert.pem();
    Fixture {
        kpay: connect(&gateway_url, &server_pem, Some(&kpay_cert))
            .await
            .unwrap(),
        tpay: connect(&gateway_url, &server_pem, Some(&tpay_cert))
            .await
            .unwrap(),
        till: Terminal::connect(&till_url, TILL_KEY).await.unwrap(),
        till_url,
        static_code,
        other_code,
        db_url,
        gateway_url,
        server_pem,
        unbound,
        stranger,
        kpay_sim,
        _tpay_sim: tpay_sim,
        _dir: dir,
    }
}

fn yen(value: &str) -> Option<pb::Money> {
    Some(pb::Money {
        value: value.into(),
        currency: "JPY".into(),
    })
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

fn bad_fields(status: &tonic::Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (v.field, v.reason))
                .collect()
        })
        .unwrap_or_default()
}

fn pay_request(id: &str, code: &str, value: &str, txn: &str) -> pb::PayMerchantCodeRequest {
    pb::PayMerchantCodeRequest {
        request_id: id.into(),
        merchant_code: code.into(),
        amount: yen(value),
        network_txn_id: txn.into(),
        wallet_brand: "KPay".into(),
        wallet_amount: None,
    }
}

fn notify(
    id: &str,
    payment_id: &str,
    outcome: pb::NotifiedOutcome,
    value: &str,
    txn: &str,
) -> pb::NotifyPaymentRequest {
    pb::NotifyPaymentRequest {
        notification_id: id.into(),
        payment_id: payment_id.into(),
        outcome: outcome as i32,
        network_txn_id: txn.into(),
        amount: yen(value),
        ..Default::default()
    }
}

/// A call the TLS layer refused: it failed, and no handler answered it (a handler's
/// refusal always carries an ErrorInfo).
fn refused_by_transport(status: tonic::Status) -> bool {
    let refused = status.get_details_error_info().is_none()
        && matches!(
            status.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
        );
    if !refused {
        eprintln!("not refused by the transport: {status:?}");
    }
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_bound_client_certificate_gets_in() {
    let f = fixture().await;
    // No certificate: the handshake (or the first call on the connection) fails.
    let refused = match connect(&f.gateway_url, &f.server_pem, None).await {
        Err(_) => true,
        Ok(mut client) => client
            .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
                merchant_code: f.static_code.clone(),
            })
            .await
            .is_err_and(refused_by_transport),
    };
    assert!(refused, "a client without a certificate got through");
    // A certificate from another CA: refused in the handshake too.
    let refused = match connect(&f.gateway_url, &f.server_pem, Some(&f.stranger)).await {
        Err(_) => true,
        Ok(mut client) => client
            .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
                merchant_code: f.static_code.clone(),
            })
            .await
            .is_err_and(refused_by_transport),
    };
    assert!(refused, "a certificate from another CA got through");
    // The partners' CA signed it, with a partner's name, but config binds it to nothing.
    let mut unbound = connect(&f.gateway_url, &f.server_pem, Some(&f.unbound))
        .await
        .unwrap();
    let status = unbound
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: f.static_code.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(reason(&status), "CLIENT_CERT_UNKNOWN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_code_payment_is_seen_by_the_till_and_stays_the_partners_own() {
    static_code_payment(fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_code_payment_on_postgres() {
    let Some(url) = postgres::fresh_database("partner_gateway").await else {
        return;
    };
    static_code_payment(fixture_on(Some(url)).await).await;
}

async fn static_code_payment(mut f: Fixture) {
    let resolved = f
        .kpay
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: f.static_code.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.merchant_id, "shinjuku-ramen");
    assert_eq!(resolved.merchant_name, "SHINJUKU RAMEN");
    assert_eq!(resolved.currency, "JPY");
    assert!(!resolved.dynamic);
    assert_eq!(resolved.amount_min, yen("1"));
    assert_eq!(resolved.amount_max, yen("100000"));

    // A code changed by one character fails its CRC; a forged one naming our merchant with
    // another name is not a code the switch issued.
    let broken = f.static_code.replace("TOKYO", "TOKY0");
    let status = f
        .kpay
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: broken,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason(&status), "MERCHANT_CODE_FORMAT");
    // tpay is not among kyoto-tea's networks.
    let status = f
        .tpay
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: f.other_code.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "NETWORK_NOT_ENABLED");

    // The till watches its static code; the partner pays it.
    let mut watcher = Terminal::connect(&f.till_url, TILL_KEY).await.unwrap();
    let seen = tokio::spawn(async move {
        let mut states = Vec::new();
        let last = watcher
            .watch_static_code(|p| states.push(p.state))
            .await
            .unwrap();
        (last, states)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paid = f
        .kpay
        .pay_merchant_code(pay_request("kp-1", &f.static_code, "1500", "KP-TXN-0001"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.state, pb::PaymentState::Succeeded as i32);
    let (last, states) = tokio::time::timeout(Duration::from_secs(10), seen)
        .await
        .unwrap()
        .unwrap();
    let last = last.expect("the till saw the payment");
    assert_eq!(last.payment_id, paid.payment_id);
    assert_eq!(last.state, pb::PaymentState::Succeeded as i32);
    assert_eq!(last.network, "kpay");
    assert_eq!(last.amount, yen("1500"));
    assert_eq!(last.network_txn_id, "KP-TXN-0001");
    assert!(last.merchant_order_id.starts_with("partner-"), "{last:?}");
    assert_eq!(states.last(), Some(&(pb::PaymentState::Succeeded as i32)));
    // The till reads it by its order id like any other payment.
    let read = f.till.get(&last.merchant_order_id).await.unwrap();
    assert_eq!(read.payment_id, paid.payment_id);

    // The same request again is the same payment; the same key for another amount is not.
    let again = f
        .kpay
        .pay_merchant_code(pay_request("kp-1", &f.static_code, "1500", "KP-TXN-0001"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, paid);
    let status = f
        .kpay
        .pay_merchant_code(pay_request("kp-1", &f.static_code, "1600", "KP-TXN-0001"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason(&status), "IDEMPOTENCY_CONFLICT");
    // Over the network's single-payment limit.
    let status = f
        .kpay
        .pay_merchant_code(pay_request("kp-2", &f.static_code, "100001", "KP-TXN-0002"))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "AMOUNT_OUTSIDE_LIMITS");
    // Every bad field at once.
    let status = f
        .kpay
        .pay_merchant_code(pb::PayMerchantCodeRequest {
            request_id: "no spaces!".into(),
            merchant_code: String::new(),
            amount: yen("1.5"),
            network_txn_id: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = bad_fields(&status).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "request_id",
            "merchant_code",
            "amount.value",
            "network_txn_id"
        ]
    );

    // tpay can neither notify nor see kpay's payment: it is simply not there for tpay.
    let status = f
        .tpay
        .notify_payment(notify(
            "tp-n1",
            &paid.payment_id,
            pb::NotifiedOutcome::Declined,
            "1500",
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "PAYMENT_NOT_FOUND");
    let unknown = f
        .tpay
        .notify_payment(notify(
            "tp-n2",
            "pay_doesnotexist000000000000",
            pb::NotifiedOutcome::Declined,
            "1500",
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), status.code());
    assert_eq!(unknown.message(), status.message());

    // kpay confirms what the switch holds: harmless, and the same answer every time.
    let agree = notify(
        "kp-n1",
        &paid.payment_id,
        pb::NotifiedOutcome::Succeeded,
        "1500",
        "KP-TXN-0001",
    );
    let first = f
        .kpay
        .notify_payment(agree.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.state, pb::PaymentState::Succeeded as i32);
    assert!(first.already_final);
    let replay = f
        .kpay
        .notify_payment(agree.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay, first);
    let mut reused = agree.clone();
    reused.network_code = "other".into();
    let status = f.kpay.notify_payment(reused).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    // Contradictions are refused and change nothing.
    for (id, outcome, value, txn, want) in [
        (
            "kp-n2",
            pb::NotifiedOutcome::Declined,
            "1500",
            "",
            "STATE_CONTRADICTION",
        ),
        (
            "kp-n3",
            pb::NotifiedOutcome::Succeeded,
            "1500",
            "KP-TXN-9999",
            "STATE_CONTRADICTION",
        ),
        (
            "kp-n4",
            pb::NotifiedOutcome::Succeeded,
            "1400",
            "KP-TXN-0001",
            "AMOUNT_MISMATCH",
        ),
    ] {
        let status = f
            .kpay
            .notify_payment(notify(id, &paid.payment_id, outcome, value, txn))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{id}");
        assert_eq!(reason(&status), want, "{id}");
    }
    let read = f.till.get(&last.merchant_order_id).await.unwrap();
    assert_eq!(read.state, pb::PaymentState::Succeeded as i32);
    assert_eq!(read.network_txn_id, "KP-TXN-0001");

    // A settlement report naming this payment and one the switch never saw.
    let line = |payment_id: &str| pb::SettlementLine {
        payment_id: payment_id.into(),
        network_txn_id: "KP-TXN-0001".into(),
        amount: yen("1500"),
        kind: pb::SettlementLineKind::Payment as i32,
        fee: yen("30"),
        settled_amount: yen("1470"),
        ..Default::default()
    };
    let report = pb::SubmitSettlementReportRequest {
        report_id: "kpay-2026-12-01-r1".into(),
        business_date: "2026-12-01".into(),
        settlement_currency: "JPY".into(),
        lines: vec![line(&paid.payment_id), line("pay_unknown")],
    };
    let stored = f
        .kpay
        .submit_settlement_report(report.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stored.stored_lines, stored.unmatched_lines), (2, 1));
    let replay = f
        .kpay
        .submit_settlement_report(report.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay, stored);
    // tpay's view of kpay's payment: unmatched (it is not tpay's).
    let mut theirs = report.clone();
    theirs.lines.truncate(1);
    let tpay_stored = f
        .tpay
        .submit_settlement_report(theirs)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tpay_stored.unmatched_lines, 1);
    let store = kakehashi::store::SqlStore::connect(&f.db_url)
        .await
        .unwrap();
    let lines: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM partner_settlement_lines WHERE network = 'kpay'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(lines, 2);
    // Every partner payment and transition is in the audit log, as the till's are.
    let problems = kakehashi::audit::crosscheck::check(&store).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut bad = report;
    bad.report_id = "kpay-r2".into();
    bad.business_date = "2026-13-01".into();
    bad.lines[1].kind = 0;
    bad.lines[1].settled_amount = Some(pb::Money {
        value: "10".into(),
        currency: "USD".into(),
    });
    let status = f.kpay.submit_settlement_report(bad).await.unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [
            ("business_date".to_owned(), "REPORT_DATE_FORMAT".to_owned()),
            (
                "lines[1].kind".to_owned(),
                "SETTLEMENT_LINE_FORMAT".to_owned()
            ),
            (
                "lines[1].settled_amount".to_owned(),
                "SETTLEMENT_LINE_FORMAT".to_owned()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rates_are_stored_with_their_source_and_bad_ones_named() {
    let mut f = fixture().await;
    let now = 1_800_000_000_000_i64;
    let rate = |base: &str, quote: &str, value: &str, from: i64, to: i64| pb::FxRate {
        base_currency: base.into(),
        quote_currency: quote.into(),
        rate: value.into(),
        valid_from_ms: from,
        valid_to_ms: to,
    };
    let publication = pb::PublishRatesRequest {
        publication_id: "rates-0001".into(),
        rates: vec![
            rate("JPY", "KRW", "9.2071", now, now + 3_600_000),
            rate("USD", "KRW", "1380.5", now, now + 3_600_000),
        ],
    };
    let stored = f
        .kpay
        .publish_rates(publication.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.stored, 2);
    let replay = f
        .kpay
        .publish_rates(publication)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay.stored, 0);
    let store = kakehashi::store::SqlStore::connect(&f.db_url)
        .await
        .unwrap();
    let rates = kakehashi::fx::sql::rates_valid_at(store.pool(), now + 1)
        .await
        .unwrap();
    assert_eq!(rates.len(), 2, "{rates:?}");
    let jpy = rates
        .iter()
        .find(|r| r.pair().to_string() == "JPY/KRW")
        .unwrap();
    assert_eq!(jpy.value().to_string(), "9.2071");
    assert_eq!(jpy.network(), Some("kpay"));
    assert_eq!(jpy.source(), kakehashi::fx::RateSource::PartnerFeed);

    let status = f
        .kpay
        .publish_rates(pb::PublishRatesRequest {
            publication_id: "bad key!".into(),
            rates: vec![
                rate("ZZZ", "KRW", "-1", now, now + 1),
                rate("JPY", "JPY", "1e5", now, now - 1),
                rate("JPY", "KRW", "1.12345678901", 0, now),
            ],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&status),
        [
            ("publication_id", "KEY_FORMAT"),
            ("rates[0].base_currency", "RATE_FORMAT"),
            ("rates[0].rate", "RATE_FORMAT"),
            ("rates[1].quote_currency", "RATE_FORMAT"),
            ("rates[1].rate", "RATE_FORMAT"),
            ("rates[1].valid_to_ms", "VALIDITY_FORMAT"),
            ("rates[2].rate", "RATE_FORMAT"),
            ("rates[2].valid_from_ms", "VALIDITY_FORMAT"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let too_many = pb::PublishRatesRequest {
        publication_id: "rates-0002".into(),
        rates: vec![rate("JPY", "KRW", "9", now, now + 1); 257],
    };
    let status = f.kpay.publish_rates(too_many).await.unwrap_err();
    assert_eq!(reason(&status), "TOO_MANY_ITEMS");
    let _ = &f.kpay_sim;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_completes_a_payment_in_doubt_and_a_late_one_is_reversed_again() {
    let mut f = fixture().await;
    let control = format!("{}/_sim", f.kpay_sim.base_url);
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        let http = http.clone();
        async move {
            let reply = http.post(path).json(&body).send().await.unwrap();
            assert!(reply.status().is_success());
            reply.json::<serde_json::Value>().await.unwrap_or_default()
        }
    };
    // The customer must confirm in the wallet, and takes a minute.
    post(
        format!("{control}/wallets"),
        json!({"id": "minji", "balance": {"value": "500000", "currency": "KRW"}, "confirm_ms": 60000}),
    )
    .await;
    let code = |control: String| async move {
        post(format!("{control}/wallets/minji/codes"), json!({})).await["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let waiting = f
        .till
        .pay("ramen-9", "2000", "JPY", &code(control.clone()).await)
        .await
        .unwrap();
    assert_eq!(waiting.state, pb::PaymentState::AwaitingCustomer as i32);
    // The partner's asynchronous result completes it at once.
    let done = f
        .kpay
        .notify_payment(notify(
            "kp-a1",
            &waiting.payment_id,
            pb::NotifiedOutcome::Succeeded,
            "2000",
            "KP-ASYNC-1",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, pb::PaymentState::Succeeded as i32);
    assert!(!done.already_final);
    let read = f.till.get("ramen-9").await.unwrap();
    assert_eq!(read.state, pb::PaymentState::Succeeded as i32);
    assert_eq!(read.network_txn_id, "KP-ASYNC-1");

    // Another waits past its deadline and is reversed; then the partner says it succeeded.
    let late = f
        .till
        .pay("ramen-10", "2500", "JPY", &code(control.clone()).await)
        .await
        .unwrap();
    assert_eq!(late.state, pb::PaymentState::AwaitingCustomer as i32);
    let reversed = f.till.watch("ramen-10", |_| {}).await.unwrap().unwrap();
    assert_eq!(reversed.state, pb::PaymentState::Reversed as i32);
    let answer = f
        .kpay
        .notify_payment(notify(
            "kp-a2",
            &late.payment_id,
            pb::NotifiedOutcome::Succeeded,
            "2500",
            "KP-ASYNC-2",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.state, pb::PaymentState::Reversing as i32);
    // Told again under another id: already known, nothing reversed twice.
    let again = f
        .kpay
        .notify_payment(notify(
            "kp-a3",
            &late.payment_id,
            pb::NotifiedOutcome::Succeeded,
            "2500",
            "KP-ASYNC-2",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(again.already_final, "{again:?}");
    let settled = f.till.watch("ramen-10", |_| {}).await.unwrap().unwrap();
    assert_eq!(settled.state, pb::PaymentState::Reversed as i32);
    // The capture the partner reported is on the record of the reversed payment.
    assert_eq!(settled.network_txn_id, "KP-ASYNC-2");
    let store = kakehashi::store::SqlStore::connect(&f.db_url)
        .await
        .unwrap();
    let problems = kakehashi::audit::crosscheck::check(&store).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_issued_dynamic_code_is_paid_once_by_its_own_network() {
    let mut f = fixture().await;
    let shown = f
        .till
        .create_switch_code("ramen-qr-1", "3000", "JPY", "kpay")
        .await
        .unwrap();
    assert_eq!(shown.state, pb::PaymentState::AwaitingCustomer as i32);
    let code = shown.qr_payload.clone();
    assert!(code.starts_with("000201010212"), "{code}");
    let resolved = f
        .kpay
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: code.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resolved.dynamic);
    assert_eq!(resolved.amount, yen("3000"));
    assert_eq!(resolved.merchant_id, "shinjuku-ramen");
    assert!(resolved.expires_at_ms > shown.created_at_ms);

    // The code is kpay's payment: for tpay it does not exist, to read or to pay.
    let status = f
        .tpay
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: code.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "MERCHANT_CODE_UNKNOWN");
    let status = f
        .tpay
        .pay_merchant_code(pay_request("tp-d1", &code, "3000", "TP-DYN-1"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "MERCHANT_CODE_UNKNOWN");
    let status = f
        .kpay
        .pay_merchant_code(pay_request("kp-d0", &code, "2999", "KP-DYN-0"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "AMOUNT_MISMATCH");

    let mut watcher = Terminal::connect(&f.till_url, TILL_KEY).await.unwrap();
    let seen = tokio::spawn(async move { watcher.watch("ramen-qr-1", |_| {}).await });
    let paid = f
        .kpay
        .pay_merchant_code(pay_request("kp-d1", &code, "3000", "KP-DYN-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.payment_id, shown.payment_id);
    assert_eq!(paid.state, pb::PaymentState::Succeeded as i32);
    let last = tokio::time::timeout(Duration::from_secs(10), seen)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(last.state, pb::PaymentState::Succeeded as i32);
    assert_eq!(last.network_txn_id, "KP-DYN-1");
    // The same request again answers the same; a second payment of the code is refused.
    let again = f
        .kpay
        .pay_merchant_code(pay_request("kp-d1", &code, "3000", "KP-DYN-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, paid);
    let status = f
        .kpay
        .pay_merchant_code(pay_request("kp-d2", &code, "3000", "KP-DYN-2"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "CODE_EXPIRED");
    let read = f.till.get("ramen-qr-1").await.unwrap();
    assert_eq!(read.network_txn_id, "KP-DYN-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_command_follows_the_next_payment_on_its_static_code() {
    let mut f = fixture().await;
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args([
            "terminal",
            "--server",
            &f.till_url,
            "--api-key",
            TILL_KEY,
            "watch",
            "--static-code",
            "--timeout",
            "30",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output());
    // Let the command connect and start waiting before the partner pays.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let paid = f
        .kpay
        .pay_merchant_code(pay_request("kp-cli-1", &f.static_code, "880", "KP-CLI-1"))
        .await
        .unwrap()
        .into_inner();
    // The command gives up by itself after its --timeout.
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let order_id = f
        .till
        .get(
            &kakehashi::payments::partner_order_id("kpay", "kp-cli-1")
                .unwrap()
                .to_string(),
        )
        .await
        .unwrap()
        .merchant_order_id;
    assert_eq!(paid.state, pb::PaymentState::Succeeded as i32);
    assert!(
        stdout.contains(&format!("{order_id} JPY 880 SUCCEEDED via kpay")),
        "{stdout}"
    );
}
