//! The partner networks of the shift: KPay, a Korean wallet run by the reference partner
//! (`kakehashi sim grpc-wallet`) and joined to the switch by configuration alone. A visiting
//! customer pays the till's static EMVCo code in the KPay app, which reaches the switch
//! through the PartnerGatewayService over mutual TLS while the till watches its code; then a
//! customer shows a KPay code at the till, paid and partly refunded through `adapters/grpc`.
use std::sync::Arc;
use std::time::Duration;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_adapter_core::{Money, PayOutcome, RunningSimulator, SimulatorOptions, SystemClock};
use kakehashi_grpc::Partner;
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::PaymentState;
use kakehashi_proto::v1::partner_gateway_service_client::PartnerGatewayServiceClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use sha2::{Digest, Sha256};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use super::{DemoError, MERCHANT, Shift};

/// The network id, as in `[networks.kpay]` and `[partners.kpay-demo]`.
pub const NETWORK: &str = "kpay";
/// The till waits this long for the partner's payment on its static code.
const WATCH_MS_MAX: u64 = 10_000;
/// Time the till's watch is given to reach the switch before the customer pays.
const WATCH_SETTLE_MS: u64 = 300;

/// The partner's connection to the switch's PartnerGatewayService and the code it scans.
pub struct Gateway {
    client: PartnerGatewayServiceClient<Channel>,
    static_code: String,
}

/// The certificates the demo makes for the gateway's mutual TLS, written to the demo's
/// temporary directory: the switch's server certificate and the partners' CA as files (the
/// switch's config names paths), the partner's client identity in memory.
pub struct Certificates {
    server_pem: String,
    client_pem: String,
    client_key: String,
    /// The `[partner_gateway]` and `[partners.kpay-demo]` tables.
    pub config: String,
}

fn setup<E: std::fmt::Display>(e: E) -> DemoError {
    DemoError::Setup(format!("partner gateway: {e}"))
}

pub fn certificates(dir: &std::path::Path) -> Result<Certificates, DemoError> {
    let path = |name: &str| dir.join(name).display().to_string();
    let server = rcgen::generate_simple_self_signed(vec!["localhost".into()]).map_err(setup)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(setup)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(setup)?)
        .map_err(setup)?;
    let client_key = KeyPair::generate().map_err(setup)?;
    let client = CertificateParams::new(vec!["kpay.partner.example".to_owned()])
        .map_err(setup)?
        .signed_by(&client_key, &ca)
        .map_err(setup)?;
    for (name, text) in [
        ("gateway.crt", server.cert.pem()),
        ("gateway.key", server.signing_key.serialize_pem()),
        ("partners-ca.pem", ca.pem()),
    ] {
        std::fs::write(path(name), text).map_err(setup)?;
    }
    let config = format!(
        "[partner_gateway]\nlisten = \"127.0.0.1:0\"\ncert_path = {:?}\nkey_path = {:?}\n\
         client_ca_path = {:?}\n[partners.kpay-demo]\nnetwork = \"{NETWORK}\"\n\
         cert_sha256 = [\"{}\"]\n",
        path("gateway.crt"),
        path("gateway.key"),
        path("partners-ca.pem"),
        hex::encode(Sha256::digest(client.der().as_ref())),
    );
    Ok(Certificates {
        server_pem: server.cert.pem(),
        client_pem: client.pem(),
        client_key: client_key.serialize_pem(),
        config,
    })
}

/// Starts the reference partner as KPay: won wallets, codes starting 93, timings short
/// enough for the shift.
pub async fn spawn_kpay(seed: u64) -> Result<RunningSimulator, DemoError> {
    let settings: toml::Table = format!(
        "network = \"{NETWORK}\"\ndisplay_name = \"KPay\"\ncode_prefix = \"93\"\n\
         wallet_currency = \"KRW\"\ntiming = {{ payment_deadline_ms = 4000, \
         query_first_delay_ms = 200, query_interval_ms = 200, call_timeout_ms = 1000 }}\n"
    )
    .parse()
    .map_err(setup)?;
    let factory = crate::networks::simulator_factory(kakehashi_grpc::SIMULATOR_NAME)
        .ok_or_else(|| setup("the reference partner is not linked"))?;
    let options = SimulatorOptions {
        bind: ([127, 0, 0, 1], 0).into(),
        seed,
        clock: Arc::new(SystemClock),
    };
    factory
        .spawn_simulator_with(options, &settings)
        .await
        .map_err(setup)
}

/// The partner connects to the switch's gateway with its client certificate.
pub async fn connect(
    port: u16,
    certs: &Certificates,
    static_code: String,
) -> Result<Gateway, DemoError> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&certs.server_pem))
        .domain_name("localhost")
        .identity(Identity::from_pem(&certs.client_pem, &certs.client_key));
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .map_err(setup)?
        .tls_config(tls)
        .map_err(setup)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(setup)?;
    Ok(Gateway {
        client: PartnerGatewayServiceClient::new(channel),
        static_code,
    })
}

fn fund(sim: &Partner, id: &str, minor: i64) {
    if let Ok(balance) = Amount::from_minor(minor, Currency::KRW) {
        let _ = sim.add_wallet(&NewWallet::new(id, balance));
    }
}

pub async fn kpay(shift: &mut Shift) {
    let Some(sim) = shift.sims.get(NETWORK).and_then(|s| s.control::<Partner>()) else {
        shift.report.payment(
            "KPay reference partner",
            &Err("not running".into()),
            PaymentState::Succeeded,
        );
        return;
    };
    fund(&sim, "kp-jiwoo", 100_000);
    fund(&sim, "kp-minji", 200_000);

    let watched = static_code(shift, &sim).await;
    shift.report.payment(
        "KPay via gateway (mTLS): static QR, till watches",
        &watched,
        PaymentState::Succeeded,
    );
    let order = watched
        .as_ref()
        .map(|p| p.merchant_order_id.clone())
        .unwrap_or_default();

    let code = sim.issue_code("kp-minji").unwrap_or_default();
    let paid = shift
        .till
        .pay("shift-401", "1200", "JPY", &code)
        .await
        .map_err(|s| s.message().to_owned());
    shift.report.payment(
        "KPay, a network by config only: paid in KRW",
        &paid,
        PaymentState::Succeeded,
    );
    let refund = shift
        .till
        .refund("shift-401", "shift-401-r1", Some(("500", "JPY")))
        .await
        .map_err(|s| s.message().to_owned())
        .and_then(|r| r.payment.ok_or_else(|| "no payment in reply".to_owned()));
    shift.report.payment(
        "KPay, by config only: partial refund of ¥500",
        &refund,
        PaymentState::PartiallyRefunded,
    );

    // ¥1,500 at 9.2 won a yen; ¥1,200 less ¥500 back is ₩11,040 less ₩4,600.
    let books = sim.state();
    for (wallet, start, spent, order) in [
        ("kp-jiwoo", 100_000, 13_800, order.as_str()),
        ("kp-minji", 200_000, 11_040 - 4_600, "shift-401"),
    ] {
        let end = books
            .wallets
            .iter()
            .find(|w| w.id == wallet)
            .map(|w| w.balance.value_string())
            .unwrap_or_else(|| "missing".into());
        shift.report.balance(
            &format!("{NETWORK}/{wallet}"),
            "KRW",
            (start.to_string(), end, (start - spent).to_string()),
            &[order],
        );
    }
}

/// The visitor scans the till's static code in the KPay app: the partner asks the switch
/// which merchant it is, charges the wallet, and tells the switch with `PayMerchantCode`
/// (giving the money back if the switch refuses); the till, watching its code, sees it.
async fn static_code(shift: &mut Shift, sim: &Partner) -> Result<pb::Payment, String> {
    let Some(gateway) = shift.gateway.as_mut() else {
        return Err("the partner gateway is not running".into());
    };
    let mut watcher = shift.till.clone();
    let seen = tokio::spawn(async move { watcher.watch_static_code(|_| {}).await });
    // The till is watching before the customer scans (the watch follows the *next*
    // payment on the code, so it must be registered first).
    tokio::time::sleep(Duration::from_millis(WATCH_SETTLE_MS)).await;
    let paid = partner_pays(gateway, sim, "kp-jiwoo", "1500").await;
    let watched = tokio::time::timeout(Duration::from_millis(WATCH_MS_MAX), seen).await;
    let payment = match watched {
        Ok(Ok(Ok(Some(payment)))) => payment,
        Ok(Ok(Ok(None))) => return Err("the till's watch ended without a payment".into()),
        Ok(Ok(Err(status))) => return Err(status.message().to_owned()),
        Ok(Err(e)) => return Err(format!("the till's watch stopped: {e}")),
        Err(_) => return Err(format!("the till saw nothing in {WATCH_MS_MAX} ms")),
    };
    let answered = paid?;
    if answered.payment_id != payment.payment_id {
        return Err("the till saw another payment than the partner made".into());
    }
    Ok(payment)
}

async fn partner_pays(
    gateway: &mut Gateway,
    sim: &Partner,
    wallet: &str,
    yen: &str,
) -> Result<pb::PayMerchantCodeResponse, String> {
    let status = |s: tonic::Status| s.message().to_owned();
    let resolved = gateway
        .client
        .resolve_merchant_code(pb::ResolveMerchantCodeRequest {
            merchant_code: gateway.static_code.clone(),
        })
        .await
        .map_err(status)?
        .into_inner();
    if resolved.merchant_id != MERCHANT {
        return Err(format!("the code resolved to {}", resolved.merchant_id));
    }
    let amount = Money::parse(yen, &resolved.currency).map_err(|e| e.to_string())?;
    let (partner_id, outcome) = sim.charge_presented(wallet, &resolved.merchant_id, amount)?;
    let PayOutcome::Succeeded(charged) = outcome else {
        return Err(format!("KPay did not charge the wallet: {outcome:?}"));
    };
    let wallet_amount = charged.wallet_amount.map(|w| pb::WalletAmount {
        amount: Some(pb::Money {
            value: w.amount.value_string(),
            currency: w.amount.currency_code().to_owned(),
        }),
        rate: w.rate.map(|r| r.to_string()).unwrap_or_default(),
    });
    let request = pb::PayMerchantCodeRequest {
        request_id: partner_id.clone(),
        merchant_code: gateway.static_code.clone(),
        amount: Some(pb::Money {
            value: yen.to_owned(),
            currency: resolved.currency,
        }),
        network_txn_id: charged.network_txn_id,
        wallet_brand: charged.wallet_brand.unwrap_or_default(),
        wallet_amount,
    };
    let answered = gateway.client.pay_merchant_code(request).await;
    let refused =
        !matches!(&answered, Ok(r) if r.get_ref().state == PaymentState::Succeeded as i32);
    if refused {
        let _ = sim.give_back(&partner_id, &amount);
    }
    answered.map(|r| r.into_inner()).map_err(status)
}
