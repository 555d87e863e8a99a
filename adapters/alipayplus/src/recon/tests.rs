use super::*;

fn usd(cents: i64) -> Amount {
    Amount::from_minor(cents, Currency::USD).unwrap()
}

fn jpy(yen: i64) -> Amount {
    Amount::from_minor(yen, Currency::JPY).unwrap()
}

fn payment(id: &str, yen: i64, cents: i64) -> ReconLine {
    ReconLine {
        kind: ReconKind::Payment,
        payment_id: id.into(),
        refund_id: None,
        network_id: format!("PAY{id}"),
        status: ReconStatus::Succeeded,
        amount: jpy(yen),
        wallet_amount: None,
        rate: None,
        fee: Some(jpy(yen * 245 / 10_000)),
        settlement: Some(ReconSettlement {
            amount: usd(cents),
            quote_price: Decimal::new(658, 5),
        }),
    }
}

fn refund(of: &ReconLine, id: &str, yen: i64, cents: i64) -> ReconLine {
    ReconLine {
        kind: ReconKind::Refund,
        refund_id: Some(id.into()),
        network_id: format!("RF{id}"),
        amount: jpy(yen),
        fee: None,
        settlement: Some(ReconSettlement {
            amount: usd(cents),
            quote_price: Decimal::new(658, 5),
        }),
        ..of.clone()
    }
}

fn report(lines: &[ReconLine]) -> String {
    String::from_utf8(write_file("2026-12-01", Currency::USD, lines)).unwrap()
}

fn error(text: &str) -> ReconFileError {
    parse_file(text.as_bytes()).unwrap_err()
}

#[test]
fn a_report_parses_back_to_its_lines() {
    let paid = payment("p1", 1200, 790);
    let mut cancelled = payment("p2", 2000, 1316);
    cancelled.status = ReconStatus::Reversed;
    let back = refund(&paid, "r1", 500, 329);
    let lines = vec![paid, cancelled, back];
    let text = report(&lines);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], SUMMARY.join(","));
    // 790 + 1316 paid, 1316 cancelled, 329 refunded.
    assert_eq!(rows[1], "4,461,USD");
    assert_eq!(rows[2], COLUMNS.join(","));
    assert_eq!(
        rows[3],
        "PAYp1,,p1,,,PAYMENT,2026-12-01T09:00:00+08:00,1200,JPY,790,USD,JPY/USD,0.00658,29,JPY"
    );
    assert!(rows[5].contains(",CANCEL,"), "{}", rows[5]);
    assert!(
        rows[6].starts_with("RFr1,PAYp1,r1,p1,,REFUND,"),
        "{}",
        rows[6]
    );
    let mut parsed = parse_file(text.as_bytes()).unwrap();
    // The cancel carries no fee of its own; its payment's line keeps the payment's.
    parsed.sort_by(|a, b| a.network_id.cmp(&b.network_id));
    let mut expected = lines;
    expected.sort_by(|a, b| a.network_id.cmp(&b.network_id));
    assert_eq!(parsed, expected);
}

#[test]
fn a_line_settled_in_its_own_currency_has_no_quote() {
    let mut yen = payment("p1", 1200, 0);
    yen.settlement = None;
    let text = String::from_utf8(write_file("2026-12-01", Currency::JPY, &[yen.clone()])).unwrap();
    assert!(text.contains(",1200,JPY,1200,JPY,,,29,JPY"), "{text}");
    let parsed = parse_file(text.as_bytes()).unwrap();
    assert_eq!(
        parsed[0].settlement,
        Some(ReconSettlement {
            amount: jpy(1200),
            quote_price: Decimal::ONE
        })
    );
    // In a USD report, a yen-settled line is refused.
    let wrong = text.replacen("1,1200,JPY", "1,1200,USD", 1);
    let e = error(&wrong);
    assert!(
        e.to_string()
            .contains("settlementCurrency JPY in a USD report"),
        "{e}"
    );
}

#[test]
fn the_file_name_carries_the_settlement_currency_and_batch() {
    let name = FileName {
        participant_id: "1022180000000001".into(),
        settlement_currency: Currency::USD,
        clearing_batch_id: "20261201".into(),
        participant_agreement_id: "PA0000000000000001".into(),
        seq: 0,
    };
    let text = name.to_string();
    assert_eq!(
        text,
        "transactionItems_1022180000000001_USD_20261201_PA0000000000000001_000.csv"
    );
    assert_eq!(FileName::parse(&text), Ok(name));
    for bad in [
        "transactionItems_1_USD_2_3.csv",
        "transactionItems_1_USD_2_3_1000.csv",
        "transactionItems_1_XYZ_2_3_000.csv",
        "settlement_1_USD_2_3_000.csv",
        "transactionItems_1_USD_2_3_000.txt",
    ] {
        assert!(FileName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_malformed_report_is_refused_naming_the_line() {
    let good = report(&[payment("p1", 1200, 790)]);
    let line = |find: &str, replace: &str| good.replacen(find, replace, 1);
    let cases = [
        (
            line(",PAYMENT,", ",CHARGEBACK,"),
            "line 4: unknown transactionType `CHARGEBACK`",
        ),
        (
            line(",1200,JPY,", ",1200.0,JPY,"),
            "line 4: transactionAmountValue",
        ),
        (
            line("JPY,790,USD", "JPY,7.90,USD"),
            "line 4: settlementAmountValue",
        ),
        (
            line("JPY,790,USD", "JPY,-790,USD"),
            "line 4: settlementAmountValue",
        ),
        (line("JPY/USD", "USD/JPY"), "line 4: quoteCurrencyPair"),
        (line("0.00658", "-0.00658"), "line 4: quotePrice"),
        (line("0.00658", "1e-3"), "line 4: quotePrice"),
        (line(",29,JPY", ",29,"), "line 4: feeCurrency"),
        (line("+08:00", ""), "line 4: transactionTime"),
        (
            line(",1200,JPY,", ",1200,XYZ,"),
            "line 4: transactionCurrency",
        ),
        (line(",p1,,,", ",\"p1\",,,"), "line 4: a quoted field"),
        (line(",PAYMENT,", ",PAYMENT,extra,"), "line 4: 16 fields"),
        (line("1,790,USD", "2,790,USD"), "the summary says 2 lines"),
        (line("1,790,USD", "1,791,USD"), "netting 791 USD"),
        (line("totalCount", "count"), "summary header"),
        (line("feeCurrency", "fee"), "detail header"),
    ];
    for (text, expected) in cases {
        let e = error(&text).to_string();
        assert!(e.contains(expected), "{expected}: {e}");
    }
    assert!(matches!(
        parse_file(&[0xff, 0xfe]),
        Err(ReconFileError::NotText)
    ));
    assert!(matches!(error(""), ReconFileError::Header { .. }));
    let twice = report(&[payment("p1", 1200, 790), payment("p1", 1200, 790)]);
    assert!(error(&twice).to_string().contains("listed twice"));
}

#[test]
fn no_input_makes_the_parser_panic() {
    let lines = [
        payment("p1", 1200, 790),
        refund(&payment("p1", 1200, 790), "r1", 100, 66),
    ];
    let bytes = report(&lines).into_bytes();
    for end in 0..bytes.len() {
        let _ = parse_file(&bytes[..end]);
    }
    for i in 0..bytes.len() {
        for replacement in [b'0', b'-', b',', b'\n', b'"', 0xff] {
            let mut spoiled = bytes.clone();
            spoiled[i] = replacement;
            let _ = parse_file(&spoiled);
        }
    }
}
