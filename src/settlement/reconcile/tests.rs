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
        settlement: None,
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
        settlement: None,
    }
}

fn tolerances() -> Tolerances {
    Tolerances {
        fx_minor: 1,
        fx_rounding: RoundingMode::HalfUp,
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

fn settled(cents: i64, price: Decimal) -> kakehashi_adapter_core::recon::ReconSettlement {
    kakehashi_adapter_core::recon::ReconSettlement {
        amount: Amount::from_minor(cents, Currency::USD).unwrap(),
        quote_price: price,
    }
}

#[test]
fn a_settlement_is_checked_against_our_quote_or_else_the_files_price() {
    let mut quoted = ours("p0", 1200, 5736);
    quoted.wallet_amount = None;
    quoted.settlement = Some(OurSettlement {
        amount: Money::from_minor(790, Currency::USD).unwrap(),
        quote_price: dec!(0.00658),
    });
    let mut unquoted = quoted.clone();
    unquoted.payment_id = "p1".into();
    unquoted.settlement = None;
    let payments = [quoted, unquoted];
    let line = |p: &OurPayment, cents: i64, price: Decimal| ReconLine {
        wallet_amount: None,
        settlement: Some(settled(cents, price)),
        ..theirs(p)
    };
    let classes = |file: &[ReconLine]| -> Vec<(Class, String)> {
        let t = Tolerances {
            fee_rates: BTreeMap::new(),
            ..tolerances()
        };
        reconcile("alipayplus", "2026-12-01", &payments, &[], file, &t)
            .findings
            .into_iter()
            .map(|f| (f.class, f.payment_id))
            .collect()
    };
    // 1200 × 0.00658 = 7.896: 790 cents half-up, and one cent either way is tolerated.
    let clean = [
        line(&payments[0], 791, dec!(0.00658)),
        line(&payments[1], 789, dec!(0.006580)),
    ];
    assert_eq!(classes(&clean), []);
    let off = [
        line(&payments[0], 792, dec!(0.00658)),
        line(&payments[1], 792, dec!(0.00658)),
    ];
    assert_eq!(
        classes(&off),
        [
            (Class::FxDifference, "p0".to_owned()),
            (Class::FxDifference, "p1".to_owned())
        ]
    );
    // Another price than the network quoted us is a difference even where the amount agrees.
    let repriced = [
        line(&payments[0], 790, dec!(0.0066)),
        line(&payments[1], 790, dec!(0.00658)),
    ];
    let report = reconcile(
        "alipayplus",
        "2026-12-01",
        &payments,
        &[],
        &repriced,
        &tolerances(),
    );
    assert_eq!(report.count(Class::FxDifference), 1);
    let finding = &report.findings[0];
    assert_eq!(
        finding.ours.as_ref().unwrap().settlement_amount.as_deref(),
        Some("7.90 USD at 0.00658")
    );
    assert_eq!(
        finding
            .theirs
            .as_ref()
            .unwrap()
            .settlement_amount
            .as_deref(),
        Some("7.90 USD at 0.0066")
    );
    // Settled in another currency than our quote.
    let mut yen = line(&payments[0], 790, dec!(0.00658));
    yen.settlement = Some(kakehashi_adapter_core::recon::ReconSettlement {
        amount: Amount::from_minor(790, Currency::EUR).unwrap(),
        quote_price: dec!(0.00658),
    });
    assert_eq!(
        classes(&[yen, clean[1].clone()]),
        [(Class::FxDifference, "p0".to_owned())]
    );
}

#[test]
fn a_file_is_read_by_its_adapters_format_and_an_adapter_without_one_is_named() {
    let e = parse_file("grpc", b"anything").unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ReconcileError::Config(_)), "{text}");
    assert!(
        text.contains("`grpc` (known: alipayplus, linepay, paypay, wechatpay)"),
        "{text}"
    );
    assert!(matches!(
        parse_file("linepay", b"[]"),
        Ok(lines) if lines.is_empty()
    ));
    let e = parse_file("alipayplus", b"not a report").unwrap_err();
    assert!(matches!(e, ReconcileError::File(_)), "{e}");
}
