//! Reconciliation end to end: payments and refunds made through the switch on each network,
//! each simulator's file for the day fetched over its `/_sim/recon-file` control (WeChat
//! Pay's downloadbill, PayPay's Shift_JIS 突合ファイル, LINE Pay's Payment details list,
//! Alipay+'s Transaction Detail Report), reconciled over `SettlementService.Reconcile` and
//! with `kakehashi reconcile`: a clean file matches every line; a file with one seeded
//! discrepancy of every class its format can carry reports each, with both sides' values.
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi::settlement::BusinessDate;
use kakehashi_adapter_core::Clock;
use kakehashi_adapter_core::recon::{Discrepancy, ReconFileRequest};
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::settlement_service_client::SettlementServiceClient;
use rust_decimal_macros::dec;

mod support;
use support::switch::{Options, TestSwitch, spawn_with};

#[path = "reconcile/alipayplus.rs"]
mod alipayplus;
#[path = "reconcile/linepay.rs"]
mod linepay;

const OPERATOR_KEY: &str = "recon-operator-key-00001";

const SETTLEMENT: &str = r#"
[[operators]]
id = "finance"
api_key = "recon-operator-key-00001"

[settlement]
registration_number = "T1180301018771"
issuer_name = "カケハシペイメンツ株式会社"
tax_rate = "0.10"
tax_rounding = "down"

[settlement.networks.wechatpay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0245", from = "2020-01-01" }]

[settlement.networks.paypay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0198", from = "2020-01-01" }]

[settlement.networks.linepay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0245", from = "2020-01-01" }]

[settlement.networks.alipayplus]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = false
fee_rounding = "down"
fees = [{ rate = "0.0325", from = "2020-01-01" }]
"#;

/// Every class a seed plants, in the order the simulator plants them.
const EVERY_SEED: [Discrepancy; 6] = [
    Discrepancy::MissingAtNetwork,
    Discrepancy::MissingAtSwitch,
    Discrepancy::Amount,
    Discrepancy::Status,
    Discrepancy::Fx,
    Discrepancy::Fee,
];

async fn switch() -> TestSwitch {
    switch_with(vec!["wechatpay", "paypay"]).await
}

/// The switch with `networks`, their simulators and the settlement rules above.
async fn switch_with(networks: Vec<&'static str>) -> TestSwitch {
    let mut options = Options {
        networks,
        extra: SETTLEMENT.into(),
        ..Options::default()
    };
    options
        .network_extra
        .insert("paypay", "http = { request_timeout_ms = 1000 }".into());
    spawn_with(options).await
}

/// The simulator's file for the day, fetched over HTTP as an integrator would (plain HTTP:
/// only WeChat Pay's simulator speaks TLS).
async fn fetch_file(switch: &TestSwitch, network: &str, ask: &ReconFileRequest) -> Vec<u8> {
    let url = format!("{}/_sim/recon-file", switch.sim(network).base_url);
    let answer = reqwest::Client::new()
        .post(&url)
        .json(ask)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{network}: {:?}",
        answer.status()
    );
    answer.bytes().await.unwrap().to_vec()
}

/// Runs `kakehashi reconcile` on the switch's store and config for `file`, with a JSON
/// report beside it: (exit success, stdout, the JSON report).
fn reconcile_cli(
    switch: &TestSwitch,
    network: &str,
    file: &[u8],
) -> (bool, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kakehashi.toml");
    std::fs::write(&config, &switch.config_text).unwrap();
    let path = dir.path().join("file");
    std::fs::write(&path, file).unwrap();
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["reconcile", "--config"])
        .arg(&config)
        .args(["--network", network, "--date", &today(), "--file"])
        .arg(&path)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        report,
    )
}

/// Each finding carries both sides' values (one side for the missing), and the side that
/// differs for its class.
fn assert_both_sides(report: &pb::ReconcileResponse) {
    use pb::ReconClass as C;
    for finding in &report.findings {
        let class = C::try_from(finding.class).unwrap();
        let (ours, theirs) = (finding.ours.as_ref(), finding.theirs.as_ref());
        match class {
            C::MissingAtNetwork => assert!(ours.is_some() && theirs.is_none(), "{finding:?}"),
            C::MissingAtSwitch => assert!(ours.is_none() && theirs.is_some(), "{finding:?}"),
            _ => {
                let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
                let differs = match class {
                    C::AmountMismatch => ours.amount != theirs.amount,
                    C::StatusMismatch => ours.status != theirs.status,
                    C::FxDifference => {
                        ours.wallet_amount != theirs.wallet_amount
                            || ours.settlement_amount != theirs.settlement_amount
                    }
                    C::FeeMismatch => ours.fee != theirs.fee,
                    _ => false,
                };
                assert!(differs, "{finding:?}");
            }
        }
    }
}

fn today() -> String {
    BusinessDate::of_instant(kakehashi_adapter_core::SystemClock.now_ms())
        .unwrap()
        .to_string()
}

async fn reconcile(
    switch: &TestSwitch,
    network: &str,
    file: Vec<u8>,
) -> Result<pb::ReconcileResponse, tonic::Status> {
    let mut client = SettlementServiceClient::connect(switch.url())
        .await
        .unwrap();
    let mut request = tonic::Request::new(pb::ReconcileRequest {
        network: network.into(),
        business_date: today(),
        file,
        fx_tolerance_minor: 0,
    });
    request
        .metadata_mut()
        .insert("x-api-key", OPERATOR_KEY.parse().unwrap());
    Ok(client.reconcile(request).await?.into_inner())
}

fn counts(report: &pb::ReconcileResponse) -> BTreeMap<pb::ReconClass, u64> {
    report
        .counts
        .iter()
        .map(|c| (pb::ReconClass::try_from(c.class).unwrap(), c.count))
        .collect()
}

fn wechat(switch: &TestSwitch) -> Arc<kakehashi_wechatpay::SimControl> {
    switch.sim("wechatpay").control().unwrap()
}

fn paypay(switch: &TestSwitch) -> Arc<kakehashi_paypay::SimControl> {
    switch.sim("paypay").control().unwrap()
}

/// Seven WeChat Pay payments (a yuan wallet paying yen prices) and a refund of one.
async fn wechat_day(switch: &TestSwitch) {
    let sim = wechat(switch);
    sim.add_wallet(&NewWallet::new(
        "li",
        Amount::from_minor(1_000_000, Currency::CNY).unwrap(),
    ))
    .unwrap();
    let mut till = switch.terminal().await;
    for i in 0..7 {
        let code = sim.issue_code("li").unwrap();
        let amount = (1_200 + 130 * i).to_string();
        let paid = till
            .pay(&format!("wx-{i}"), &amount, "JPY", &code)
            .await
            .unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{paid:?}");
    }
    let refund = till
        .refund("wx-6", "wx-6-r", Some(("500", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        refund.refund.unwrap().state,
        pb::RefundState::Succeeded as i32
    );
}

#[tokio::test]
async fn every_seeded_discrepancy_in_a_wechat_bill_is_found_and_a_clean_bill_matches() {
    let switch = switch().await;
    wechat_day(&switch).await;
    let sim = wechat(&switch);
    let ask = |seeds: &[Discrepancy]| ReconFileRequest {
        date: today(),
        seeds: seeds.to_vec(),
        fee_rate: Some(dec!(0.0245)),
    };

    // The file as an HTTP client of the simulator's control API gets it.
    let running = switch.sim("wechatpay");
    let url = format!("{}/_sim/recon-file", running.base_url);
    let ca = running.adapter_config["ca_pem"].as_str().unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let clean = http.post(&url).json(&ask(&[])).send().await.unwrap();
    assert!(clean.status().is_success(), "{:?}", clean.status());
    let clean = clean.bytes().await.unwrap().to_vec();
    assert_eq!(clean, sim.recon_file(&ask(&[])).unwrap());
    assert!(String::from_utf8_lossy(&clean).starts_with("交易时间,"));
    let report = reconcile(&switch, "wechatpay", clean.clone())
        .await
        .unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        counts(&report),
        BTreeMap::from([(pb::ReconClass::Matched, 8)]),
        "seven payments and a refund"
    );

    let spoiled = sim.recon_file(&ask(&EVERY_SEED)).unwrap();
    let report = reconcile(&switch, "wechatpay", spoiled.clone())
        .await
        .unwrap();
    use pb::ReconClass as C;
    assert_eq!(
        counts(&report),
        BTreeMap::from([
            (C::Matched, 3),
            (C::MissingAtNetwork, 1),
            (C::MissingAtSwitch, 1),
            (C::AmountMismatch, 1),
            (C::StatusMismatch, 1),
            (C::FxDifference, 1),
            (C::FeeMismatch, 1),
        ]),
        "{:#?}",
        report.findings
    );
    // Each finding carries both sides' values (only one side for the missing).
    for finding in &report.findings {
        let class = C::try_from(finding.class).unwrap();
        let (ours, theirs) = (finding.ours.as_ref(), finding.theirs.as_ref());
        match class {
            C::MissingAtNetwork => assert!(ours.is_some() && theirs.is_none()),
            C::MissingAtSwitch => assert!(ours.is_none() && theirs.is_some()),
            _ => {
                let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
                let differs = match class {
                    C::AmountMismatch => ours.amount != theirs.amount,
                    C::StatusMismatch => ours.status != theirs.status,
                    C::FxDifference => ours.wallet_amount != theirs.wallet_amount,
                    C::FeeMismatch => ours.fee != theirs.fee,
                    _ => false,
                };
                assert!(differs, "{finding:?}");
            }
        }
    }

    // The command line, on the same store and file: a report for people, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kakehashi.toml");
    std::fs::write(&config, &switch.config_text).unwrap();
    let file = dir.path().join("bill.csv");
    std::fs::write(&file, &spoiled).unwrap();
    let json = dir.path().join("report.json");
    let run = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args(["reconcile", "--config"])
            .arg(&config)
            .args(["--network", "wechatpay", "--date", &today(), "--file"])
            .arg(file)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap()
    };
    let out = run(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    for class in [
        "missing_at_network",
        "missing_at_switch",
        "amount_mismatch",
        "status_mismatch",
        "fx_difference",
        "fee_mismatch",
    ] {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(class)).count(),
            1,
            "{class}: {stdout}"
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), 6);
    std::fs::write(&file, &clean).unwrap();
    let out = run(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_paypay_recon_file_in_shift_jis_reconciles_and_its_seeds_are_found() {
    let switch = switch().await;
    let sim = paypay(&switch);
    sim.add_wallet(&NewWallet::new(
        "hanako",
        Amount::from_minor(100_000, Currency::JPY).unwrap(),
    ))
    .unwrap();
    let mut till = switch.terminal().await;
    for i in 0..4 {
        let shown = till
            .create_qr(
                &format!("pp-{i}"),
                &(1_000 + 100 * i).to_string(),
                "JPY",
                "paypay",
            )
            .await
            .unwrap();
        sim.pay_qr(&shown.qr_payload, "hanako").unwrap();
        let paid = till
            .watch(&format!("pp-{i}"), |_| {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{paid:?}");
    }
    let ask = |seeds: &[Discrepancy]| ReconFileRequest {
        date: today(),
        seeds: seeds.to_vec(),
        fee_rate: None,
    };
    let clean = sim.recon_file(&ask(&[])).unwrap();
    assert!(std::str::from_utf8(&clean).is_err(), "Shift_JIS bytes");
    let report = reconcile(&switch, "paypay", clean).await.unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(counts(&report).get(&pb::ReconClass::Matched), Some(&4));

    // PayPay's file has no fee or wallet columns: those seeds are refused by the simulator.
    assert!(sim.recon_file(&ask(&[Discrepancy::Fee])).is_err());
    let seeds = [
        Discrepancy::MissingAtNetwork,
        Discrepancy::MissingAtSwitch,
        Discrepancy::Amount,
        Discrepancy::Status,
    ];
    let report = reconcile(&switch, "paypay", sim.recon_file(&ask(&seeds)).unwrap())
        .await
        .unwrap();
    use pb::ReconClass as C;
    assert_eq!(
        counts(&report),
        BTreeMap::from([
            (C::Matched, 1),
            (C::MissingAtNetwork, 1),
            (C::MissingAtSwitch, 1),
            (C::AmountMismatch, 1),
            (C::StatusMismatch, 1),
        ]),
        "{:#?}",
        report.findings
    );

    // A file that is not PayPay's is refused, naming the file.
    let status = reconcile(&switch, "paypay", b"not,a,recon,file\r\n".to_vec())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
}
