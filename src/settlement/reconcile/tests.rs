use super::*;
use iso_currency::Currency;
use rust_decimal_macros::dec;

fn ours(id: &str, yen: i64, fen: i64) -> OurPayment {
    OurPayment {
        payment_id: id.into(),
        merchant_id: "m".into(),
        network_txn_id: Some(format!("n-{id}")),
        amount: Money::from_minor(yen, Currency::JPY).unwrap(),
        wallet_amount: Some(Money::from_minor(fen, Currency::CNY).unwrap()),
        reversed: false,
    }
}

fn theirs(p: &OurPayment) -> ReconLine {
    ReconLine {
        kind: ReconKind::Payment,
        payment_id: p.payment_id.clone(),
        refund_id: None,
        network_id: p.network_txn_id.clone().unwrap(),
        status: ReconStatus::Succeeded,
        amount: Amount::from_minor(p.amount.minor(), Currency::JPY).unwrap(),
        wallet_amount: p
            .wallet_amount
            .map(|w| Amount::from_minor(w.minor(), w.currency()).unwrap()),
        rate: None,
        // 2.45 % of the amount, down.
        fee: Some(
            Amount::from_minor(
                crate::settlement::batch::apply_rate(
                    p.amount.minor(),
                    dec!(0.0245),
                    RoundingMode::Down,
                ),
                Currency::JPY,
            )
            .unwrap(),
        ),
    }
}

fn tolerances() -> Tolerances {
    Tolerances {
        fx_minor: 1,
        fee_rates: BTreeMap::from([("m".to_owned(), dec!(0.0245))]),
        fee_rounding: RoundingMode::Down,
    }
}

#[test]
fn a_clean_file_matches_every_line_and_each_spoiled_line_is_named() {
    let payments: Vec<OurPayment> = (0..6)
        .map(|i| ours(&format!("p{i}"), 1000 + i, 4700 + i))
        .collect();
    let refund = OurRefund {
        refund_id: "r1".into(),
        payment_id: "p0".into(),
        network_refund_id: Some("nr1".into()),
        amount: Money::from_minor(100, Currency::JPY).unwrap(),
    };
    let refund_line = ReconLine {
        kind: ReconKind::Refund,
        refund_id: Some("r1".into()),
        network_id: "nr1".into(),
        amount: Amount::from_minor(100, Currency::JPY).unwrap(),
        fee: None,
        wallet_amount: None,
        ..theirs(&payments[0])
    };
    let mut file: Vec<ReconLine> = payments.iter().map(theirs).collect();
    file.push(refund_line);
    let clean = reconcile(
        "wechatpay",
        "2026-12-01",
        &payments,
        std::slice::from_ref(&refund),
        &file,
        &tolerances(),
    );
    assert!(clean.is_clean(), "{:?}", clean.findings);
    assert_eq!(clean.count(Class::Matched), 7);

    // Off by one fen is within tolerance; one yuan is not.
    file[0].wallet_amount = Some(Amount::from_minor(4_701, Currency::CNY).unwrap());
    file[1].wallet_amount = Some(Amount::from_minor(4_801, Currency::CNY).unwrap());
    file[2].amount = Amount::from_minor(1_003, Currency::JPY).unwrap();
    file[3].status = ReconStatus::Reversed;
    file[4].fee = file[4]
        .fee
        .map(|f| Amount::from_minor(f.minor() + 1, Currency::JPY).unwrap());
    file.remove(5);
    let mut stranger = theirs(&ours("p-stranger", 500, 2300));
    stranger.payment_id = "p-stranger".into();
    file.push(stranger);
    let report = reconcile(
        "wechatpay",
        "2026-12-01",
        &payments,
        &[refund],
        &file,
        &tolerances(),
    );
    let found: Vec<(Class, &str)> = report
        .findings
        .iter()
        .map(|f| (f.class, f.payment_id.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Class::FxDifference, "p1"),
            (Class::AmountMismatch, "p2"),
            (Class::StatusMismatch, "p3"),
            (Class::FeeMismatch, "p4"),
            (Class::MissingAtSwitch, "p-stranger"),
            (Class::MissingAtNetwork, "p5"),
        ]
    );
    let fx = &report.findings[0];
    assert_eq!(
        fx.ours.as_ref().unwrap().wallet_amount.as_deref(),
        Some("47.01 CNY")
    );
    assert_eq!(
        fx.theirs.as_ref().unwrap().wallet_amount.as_deref(),
        Some("48.01 CNY")
    );
    assert_eq!(report.count(Class::Matched), 2, "p0 and the refund");
}
