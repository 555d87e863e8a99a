//! Alipay+: a Korean wallet paying yen prices through the switch, settled to the acquirer in
//! US dollars at Alipay+'s quote; the day's Transaction Detail Report from the simulator
//! over HTTP, reconciled over gRPC and the command, every class the report can carry seeded.
use super::*;
use kakehashi_alipayplus::recon::FileName;

const FEE_RATE: &str = "0.0325";

fn ask(seeds: &[Discrepancy]) -> ReconFileRequest {
    ReconFileRequest {
        date: today(),
        seeds: seeds.to_vec(),
        fee_rate: Some(FEE_RATE.parse().unwrap()),
    }
}

/// Six payments, one cancelled after it was charged and one refunded in part.
async fn day(switch: &TestSwitch) {
    let sim: Arc<kakehashi_alipayplus::SimControl> = switch.sim("alipayplus").control().unwrap();
    sim.add_wallet(&NewWallet::new(
        "minji",
        Amount::from_minor(5_000_000, Currency::KRW).unwrap(),
    ))
    .unwrap();
    let mut till = switch.terminal().await;
    for i in 0..6 {
        let code = sim.issue_code("minji").unwrap();
        let amount = (1_200 + 100 * i).to_string();
        let paid = till
            .pay(&format!("ap-{i}"), &amount, "JPY", &code)
            .await
            .unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{paid:?}");
    }
    till.cancel("ap-5").await.unwrap();
    let reversed = till.watch("ap-5", |_| {}).await.unwrap().unwrap();
    assert_eq!(
        reversed.state,
        pb::PaymentState::Reversed as i32,
        "{reversed:?}"
    );
    let refund = till
        .refund("ap-0", "ap-0-r", Some(("500", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        refund.refund.unwrap().state,
        pb::RefundState::Succeeded as i32
    );
}

#[tokio::test]
async fn an_alipayplus_report_reconciles_and_every_seeded_class_is_found() {
    let switch = switch_with(vec!["alipayplus"]).await;
    day(&switch).await;

    // Over HTTP, named as Alipay+ names the report: the settlement currency in the name.
    let url = format!("{}/_sim/recon-file", switch.sim("alipayplus").base_url);
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&ask(&[]))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.status());
    let disposition = answer.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let name = disposition
        .strip_prefix("attachment; filename=\"")
        .and_then(|n| n.strip_suffix('"'))
        .unwrap();
    let name = FileName::parse(name).unwrap();
    assert_eq!(name.settlement_currency, Currency::USD);
    assert_eq!(name.clearing_batch_id, today().replace('-', ""));
    let clean = answer.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(clean.clone()).unwrap();
    assert!(
        text.starts_with("totalCount,netSettlementAmountValue,settlementCurrency\n8,"),
        "{text}"
    );
    assert!(text.contains(",CANCEL,") && text.contains(",REFUND,") && text.contains("JPY/USD"));

    let report = reconcile(&switch, "alipayplus", clean.clone())
        .await
        .unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        counts(&report),
        BTreeMap::from([(pb::ReconClass::Matched, 7)]),
        "six payments (one cancelled) and a refund"
    );

    let spoiled = fetch_file(&switch, "alipayplus", &ask(&EVERY_SEED)).await;
    let report = reconcile(&switch, "alipayplus", spoiled.clone())
        .await
        .unwrap();
    use pb::ReconClass as C;
    assert_eq!(
        counts(&report),
        BTreeMap::from([
            (C::Matched, 2),
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
    assert_both_sides(&report);
    // The FX finding is the settlement: Alipay+'s quote to us against its report.
    let fx = report
        .findings
        .iter()
        .find(|f| f.class == C::FxDifference as i32)
        .unwrap();
    let ours = &fx.ours.as_ref().unwrap().settlement_amount;
    let theirs = &fx.theirs.as_ref().unwrap().settlement_amount;
    assert!(
        ours.ends_with(" USD at 0.00658") && theirs.ends_with(" USD at 0.00658"),
        "{fx:?}"
    );

    let (ok, stdout, json) = reconcile_cli(&switch, "alipayplus", &spoiled);
    assert!(!ok, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("fx_difference") && l.contains("settlement")),
        "{stdout}"
    );
    assert_eq!(json["findings"].as_array().unwrap().len(), 6);
    let (ok, stdout, _) = reconcile_cli(&switch, "alipayplus", &clean);
    assert!(ok, "{stdout}");

    // A report whose summary disagrees with its lines is refused.
    let short = text.replacen("\n8,", "\n9,", 1);
    let status = reconcile(&switch, "alipayplus", short.into_bytes())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
}
