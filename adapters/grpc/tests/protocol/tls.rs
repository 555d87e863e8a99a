//! TLS to a partner: with the CA the operator names for it, and with mutual TLS our client
//! certificate; a partner whose certificate our CA did not sign is never spoken to, and a
//! partner that asks for a client certificate refuses a switch without one.
use kakehashi_adapter_core::{AdapterError, PayOutcome, WalletNetwork};

use super::pki::{Ca, PARTNER_HOST};
use super::*;

fn tls_settings(partner_ca: &Ca, client_ca: Option<&Ca>) -> toml::Table {
    let server = partner_ca.leaf(&[PARTNER_HOST]);
    let mut tls = toml::Table::new();
    tls.insert("cert_pem".into(), server.cert_pem.into());
    tls.insert("key_pem".into(), server.key_pem.into());
    tls.insert("ca_pem".into(), partner_ca.pem().into());
    tls.insert("server_name".into(), PARTNER_HOST.into());
    if let Some(ca) = client_ca {
        tls.insert("client_ca_pem".into(), ca.pem().into());
    }
    let mut settings = kpay();
    settings.insert("tls".into(), tls.into());
    settings
}

/// Builds an adapter for `sim` from `table`, as the switch would.
fn build(table: &toml::Table) -> Result<Arc<dyn WalletNetwork>, AdapterError> {
    let clock = Arc::new(ManualClock::new(START_MS));
    kakehashi_grpc::factory().build_network("kpay", table, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_with_the_partners_ca_the_payment_goes_through() {
    let partner_ca = Ca::new("K-Pay partner CA");
    let w = world(tls_settings(&partner_ca, None)).await;
    assert!(w.sim.base_url.starts_with("https://"), "{}", w.sim.base_url);
    w.wallet("minji", "100000", "KRW");
    let paid = w.adapter.pay(&pay("Tls1", "1200", &w.code("minji"))).await;
    assert!(matches!(paid, PayOutcome::Succeeded(_)), "{paid:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_our_ca_did_not_sign_is_refused() {
    let partner_ca = Ca::new("K-Pay partner CA");
    let w = world(tls_settings(&partner_ca, None)).await;
    let impostor = Ca::new("Someone else's CA");
    let mut table = w.sim.adapter_config.clone();
    table.insert("ca_pem".into(), impostor.pem().into());
    let err = build(&table).unwrap_err().to_string();
    assert!(err.contains("cannot reach the partner"), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // Pinned profile, no fetch at start: the call itself is refused in the handshake and
    // nothing reaches the partner.
    let mut pinned = table.clone();
    pinned.insert("profile".into(), pinned_profile().into());
    let adapter = build(&pinned).expect("no call at build");
    w.wallet("minji", "100000", "KRW");
    let refused = adapter.pay(&pay("Mitm1", "1200", &w.code("minji"))).await;
    assert!(matches!(refused, PayOutcome::Unknown { .. }), "{refused:?}");
    assert!(w.partner.state().payments.is_empty());

    // A name the certificate does not carry is refused too.
    let mut renamed = w.sim.adapter_config.clone();
    renamed.insert("tls_server_name".into(), "other.kpay.test".into());
    assert!(build(&renamed).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_needs_a_client_certificate_the_partner_trusts() {
    let partner_ca = Ca::new("K-Pay partner CA");
    let our_ca = Ca::new("Kakehashi client CA");
    let ours = our_ca.leaf(&["switch.kakehashi.test"]);
    let with_ours = |table: &mut toml::Table| {
        table.insert("client_cert_pem".into(), ours.cert_pem.clone().into());
        table.insert("client_key_pem".into(), ours.key_pem.clone().into());
    };
    let w = world_with(tls_settings(&partner_ca, Some(&our_ca)), with_ours).await;
    w.wallet("minji", "100000", "KRW");
    let paid = w.adapter.pay(&pay("Mtls1", "1200", &w.code("minji"))).await;
    assert!(matches!(paid, PayOutcome::Succeeded(_)), "{paid:?}");

    // Without a client certificate, or with one K-Pay's CA never issued, the partner
    // refuses the connection and the switch does not start on it.
    let anonymous = build(&w.sim.adapter_config).unwrap_err();
    assert!(
        matches!(anonymous, AdapterError::NoAnswer { .. }),
        "{anonymous}"
    );
    let stranger = Ca::new("Not trusted by K-Pay").leaf(&["switch.kakehashi.test"]);
    let mut table = w.sim.adapter_config.clone();
    table.insert("client_cert_pem".into(), stranger.cert_pem.into());
    table.insert("client_key_pem".into(), stranger.key_pem.into());
    let stranger = build(&table).unwrap_err();
    assert!(
        matches!(stranger, AdapterError::NoAnswer { .. }),
        "{stranger}"
    );
    assert_eq!(
        w.partner.state().payments.len(),
        1,
        "only our payment reached K-Pay"
    );

    // Half an identity is a configuration error, before any connection.
    table.remove("client_key_pem");
    let half = build(&table).unwrap_err().to_string();
    assert!(
        half.contains("both a client certificate and its key"),
        "{half}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_is_checked_whether_fetched_or_given() {
    let w = world(kpay()).await;
    // The endpoint answers for kpay; a table for another network refuses to start on it.
    let clock = Arc::new(ManualClock::new(START_MS));
    let err = kakehashi_grpc::factory()
        .build_network("tpay", &w.sim.adapter_config, clock)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`kpay` is not this network's id `tpay`"),
        "{err}"
    );

    // A partner that cannot serve GetProfile stops the start, unless the profile is given.
    w.partner.inject(
        Some(Operation::GetProfile),
        kakehashi_adapter_core::simkit::Fault::HttpStatus { status: 503 },
        None,
    );
    let err = build(&w.sim.adapter_config).unwrap_err().to_string();
    assert!(err.contains("GetProfile: UNAVAILABLE"), "{err}");
    let mut pinned = w.sim.adapter_config.clone();
    pinned.insert("profile".into(), pinned_profile().into());
    let adapter = build(&pinned).expect("the given profile needs no fetch");
    assert_eq!(adapter.profile().display_name, "K-Pay (pinned)");
    let mut bad = pinned_profile();
    bad.insert("currencies".into(), toml::Value::Array(vec!["XAU".into()]));
    pinned.insert("profile".into(), bad.into());
    let err = build(&pinned).unwrap_err().to_string();
    assert!(err.contains("profile.currencies"), "{err}");

    for (key, value) in [
        ("message_bytes_max", toml::Value::Integer(10)),
        ("endpoint", "http://192.0.2.10:443".into()),
        ("connect_timeout_ms", toml::Value::Integer(0)),
    ] {
        let mut table = w.sim.adapter_config.clone();
        table.insert(key.into(), value);
        let err = build(&table).unwrap_err().to_string();
        assert!(
            err.contains(key) || err.contains("loopback"),
            "{key}: {err}"
        );
    }
}

fn pinned_profile() -> toml::Table {
    toml::toml! {
        display_name = "K-Pay (pinned)"
        currencies = ["JPY"]
        code_patterns = [{ prefix = "93", length_min = 20, length_max = 20 }]
        capabilities = { customer_presented = true, partial_refund = true, multiple_refunds = true, refund_query = true, refund_idempotent = true }
        timing = { payment_deadline_ms = 20000, query_first_delay_ms = 200, query_interval_ms = 200, call_timeout_ms = 1000 }
    }
}
