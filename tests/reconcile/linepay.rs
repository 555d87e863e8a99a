//! LINE Pay: payments and refunds through the switch, the day's Payment details list as a
//! JSON array of pages from the simulator over HTTP, reconciled over gRPC and the command.
use super::*;

const CLASSES: [&str; 4] = [
    "missing_at_network",
    "missing_at_switch",
    "amount_mismatch",
    "status_mismatch",
];

fn ask(seeds: &[Discrepancy]) -> ReconFileRequest {
    ReconFileRequest {
        date: today(),
        seeds: seeds.to_vec(),
        fee_rate: None,
    }
}

/// Five yen payments, one refunded in part and one in full.
async fn day(switch: &TestSwitch) {
    let sim: Arc<kakehashi_linepay::SimControl> = switch.sim("linepay").control().unwrap();
    sim.add_wallet(&NewWallet::new(
        "sakura",
        Amount::from_minor(100_000, Currency::JPY).unwrap(),
    ))
    .unwrap();
    let mut till = switch.terminal().await;
    for i in 0..5 {
        let code = sim.issue_code("sakura").unwrap();
        let amount = (1_000 + 110 * i).to_string();
        let paid = till
            .pay(&format!("lp-{i}"), &amount, "JPY", &code)
            .await
            .unwrap();
        assert_eq!(paid.state, pb::PaymentState::Succeeded as i32, "{paid:?}");
    }
    for (order, amount) in [("lp-4", Some(("300", "JPY"))), ("lp-3", None)] {
        let refund = till
            .refund(order, &format!("{order}-r"), amount)
            .await
            .unwrap();
        assert_eq!(
            refund.refund.unwrap().state,
            pb::RefundState::Succeeded as i32
        );
    }
}

#[tokio::test]
async fn a_linepay_payment_list_reconciles_and_every_seed_it_can_carry_is_found() {
    let switch = switch_with(vec!["linepay"]).await;
    day(&switch).await;

    let clean = fetch_file(&switch, "linepay", &ask(&[])).await;
    let pages: Vec<serde_json::Value> = serde_json::from_slice(&clean).unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["returnCode"], "0000");
    assert_eq!(pages[0]["info"].as_array().unwrap().len(), 5);
    let report = reconcile(&switch, "linepay", clean.clone()).await.unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        counts(&report),
        BTreeMap::from([(pb::ReconClass::Matched, 7)]),
        "five payments and two refunds, matched by refundTransactionId"
    );

    // The list has no fee or FX: the simulator refuses to plant those.
    for seed in [Discrepancy::Fee, Discrepancy::Fx] {
        let url = format!("{}/_sim/recon-file", switch.sim("linepay").base_url);
        let refused = reqwest::Client::new()
            .post(&url)
            .json(&ask(&[seed]))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{seed:?}");
    }

    let seeds = [
        Discrepancy::MissingAtNetwork,
        Discrepancy::MissingAtSwitch,
        Discrepancy::Amount,
        Discrepancy::Status,
    ];
    let spoiled = fetch_file(&switch, "linepay", &ask(&seeds)).await;
    let report = reconcile(&switch, "linepay", spoiled.clone())
        .await
        .unwrap();
    use pb::ReconClass as C;
    assert_eq!(
        counts(&report),
        BTreeMap::from([
            (C::Matched, 4),
            (C::MissingAtNetwork, 1),
            (C::MissingAtSwitch, 1),
            (C::AmountMismatch, 1),
            (C::StatusMismatch, 1),
        ]),
        "{:#?}",
        report.findings
    );
    assert_both_sides(&report);
    let status = report
        .findings
        .iter()
        .find(|f| f.class == C::StatusMismatch as i32)
        .unwrap();
    assert_eq!(
        status.theirs.as_ref().unwrap().status,
        "reversed",
        "VOIDED_AUTHORIZATION"
    );

    // The command line reads the same list: one line per discrepancy, exit 1; clean, exit 0.
    let (ok, stdout, json) = reconcile_cli(&switch, "linepay", &spoiled);
    assert!(!ok, "{stdout}");
    for class in CLASSES {
        let lines = stdout.lines().filter(|l| l.starts_with(class)).count();
        assert_eq!(lines, 1, "{class}: {stdout}");
    }
    assert_eq!(json["findings"].as_array().unwrap().len(), 4);
    let (ok, stdout, _) = reconcile_cli(&switch, "linepay", &clean);
    assert!(ok, "{stdout}");

    // A page whose call failed is no list: refused, naming the page.
    let failed = br#"[{"returnCode":"1177","returnMessage":"Over 100 transactions."}]"#.to_vec();
    let status = reconcile(&switch, "linepay", failed).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("page 1"), "{}", status.message());
}
