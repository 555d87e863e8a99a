use super::*;

fn payment(order: &str, txn: u64, value: &str, currency: &str) -> ReconLine {
    ReconLine {
        kind: ReconKind::Payment,
        payment_id: order.into(),
        refund_id: None,
        network_id: txn.to_string(),
        status: ReconStatus::Succeeded,
        amount: Amount::parse(value, currency).unwrap(),
        wallet_amount: None,
        rate: None,
        fee: None,
        settlement: None,
    }
}

fn refund(of: &ReconLine, txn: u64, value: &str) -> ReconLine {
    ReconLine {
        kind: ReconKind::Refund,
        network_id: txn.to_string(),
        amount: Amount::parse(value, of.amount.currency_code()).unwrap(),
        ..of.clone()
    }
}

fn sorted(mut lines: Vec<ReconLine>) -> Vec<ReconLine> {
    lines.sort_by(|a, b| (a.kind, &a.network_id).cmp(&(b.kind, &b.network_id)));
    lines
}

/// One page with one PAYMENT entry whose fields are given as JSON text.
fn one_entry(currency: &str, amount: &str, more: &str) -> String {
    format!(
        r#"[{{"returnCode":"0000","returnMessage":"Success.","info":[{{"transactionId":2026000000000000001,
        "orderId":"o-1","transactionDate":"2026-12-01T01:00:00Z","transactionType":"PAYMENT",
        "payStatus":"CAPTURE","currency":"{currency}","payInfo":[{{"method":"BALANCE","amount":{amount}}}]{more}}}]}}]"#
    )
}

fn error(text: &str) -> ReconFileError {
    parse_file(text.as_bytes()).unwrap_err()
}

#[test]
fn a_list_parses_back_to_its_lines_in_every_currency() {
    let yen = payment("p-1", 2026000000000000001, "1200", "JPY");
    let baht = payment("p-2", 2026000000000000002, "350.5", "THB");
    let dollars = payment("p-3", 2026000000000000003, "120.25", "TWD");
    let mut voided = payment("p-4", 2026000000000000004, "800", "JPY");
    voided.status = ReconStatus::Reversed;
    let partial = refund(&yen, 2026000000000000011, "200");
    let full = refund(&baht, 2026000000000000012, "350.50");
    // A refund whose payment the list does not hold: a transaction of its own.
    let orphan = refund(
        &payment("p-old", 2026000000000000099, "500", "JPY"),
        2026000000000000013,
        "100",
    );
    let lines = vec![yen, baht, dollars, voided, partial, full, orphan.clone()];
    let bytes = write_file("2026-12-01", &lines).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with(r#"[{"returnCode":"0000","returnMessage":"Success.","info":[{"transactionId":2026000000000000001,"#), "{text}");
    assert!(text.contains(r#""amount":350.5"#) && text.contains(r#""refundAmount":-200"#));
    assert!(
        text.contains(r#""transactionType":"PAYMENT_REFUND""#),
        "a full refund"
    );
    assert!(text.contains(r#""payStatus":"VOIDED_AUTHORIZATION""#));
    assert_eq!(sorted(parse_file(&bytes).unwrap()), sorted(lines));
    // The orphan alone, as one envelope rather than an array of one.
    let lone = write_file("2026-12-01", std::slice::from_ref(&orphan)).unwrap();
    let envelope = &lone[1..lone.len() - 2];
    assert_eq!(parse_file(envelope).unwrap(), vec![orphan]);
}

#[test]
fn a_long_day_is_paged_at_one_hundred_and_read_whole() {
    let lines: Vec<ReconLine> = (0..250)
        .map(|i| payment(&format!("p-{i}"), 2026000000000000000 + i, "100", "JPY"))
        .collect();
    let bytes = write_file("2026-12-01", &lines).unwrap();
    let pages: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["info"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(parse_file(&bytes).unwrap(), lines);
    // The same transaction on two pages is a paging mistake, not two payments.
    let mut twice = lines.clone();
    twice.push(lines[0].clone());
    let bytes = write_file("2026-12-01", &twice).unwrap();
    let e = parse_file(&bytes).unwrap_err();
    assert!(e.to_string().starts_with("page 3, entry 51:"), "{e}");
}

#[test]
fn amounts_with_more_decimals_than_the_currency_are_refused_naming_the_line() {
    for (currency, amount) in [("JPY", "1200.0"), ("THB", "12.345"), ("TWD", "1.001")] {
        let e = error(&one_entry(currency, amount, ""));
        let text = e.to_string();
        assert!(text.starts_with("page 1, entry 1:"), "{text}");
        assert!(text.contains("decimal places"), "{text}");
    }
    for amount in ["1.2e3", "-5", "0"] {
        let e = error(&one_entry("JPY", amount, ""));
        assert!(
            matches!(
                e,
                ReconFileError::Line {
                    page: 1,
                    entry: 1,
                    ..
                }
            ),
            "{amount}: {e}"
        );
    }
    // A leading zero is not JSON at all.
    let e = error(&one_entry("JPY", "01200", ""));
    assert!(matches!(e, ReconFileError::NotJson(_)), "{e}");
    let refund = r#","refundList":[{"refundTransactionId":2026000000000000002,"transactionType":"PARTIAL_REFUND","refundAmount":-0.5,"refundTransactionDate":"2026-12-01T02:00:00Z"}]"#;
    let e = error(&one_entry("JPY", "1200", refund));
    assert!(
        e.to_string()
            .starts_with("page 1, entry 1, refund 1: refundAmount"),
        "{e}"
    );
    let positive = refund.replace("-0.5", "300");
    let e = error(&one_entry("JPY", "1200", &positive));
    assert!(e.to_string().contains("must be negative"), "{e}");
}

#[test]
fn what_is_not_a_good_answer_is_refused_with_its_reason() {
    let failed = r#"[{"returnCode":"1177","returnMessage":"Over 100."}]"#;
    assert!(matches!(
        error(failed),
        ReconFileError::Page { page: 1, .. }
    ));
    let unknown = one_entry("JPY", "100", "").replace(r#""PAYMENT""#, r#""CHARGEBACK""#);
    let e = error(&unknown);
    assert!(
        e.to_string()
            .contains("unknown transactionType `CHARGEBACK`"),
        "{e}"
    );
    let status = one_entry("JPY", "100", "").replace("CAPTURE", "SETTLED");
    assert!(error(&status).to_string().contains("unknown payStatus"));
    let refund_type = r#","refundList":[{"refundTransactionId":1,"transactionType":"REFUND","refundAmount":-1,"refundTransactionDate":"2026-12-01T02:00:00Z"}]"#;
    assert!(
        error(&one_entry("JPY", "100", refund_type))
            .to_string()
            .contains("refund 1")
    );
    let float_id = one_entry("JPY", "100", "").replace("2026000000000000001", "2.026e18");
    assert!(matches!(error(&float_id), ReconFileError::NotJson(_)));
    let currency = one_entry("XYZ", "100", "");
    assert!(error(&currency).to_string().contains("currency"));
    let date = one_entry("JPY", "100", "").replace("2026-12-01T01:00:00Z", "yesterday");
    assert!(error(&date).to_string().contains("transactionDate"));
    let many: Vec<ReconLine> = (0..101)
        .map(|i| payment(&format!("p-{i}"), 1 + i, "1", "JPY"))
        .collect();
    let page: serde_json::Value =
        serde_json::from_slice(&write_file("2026-12-01", &many).unwrap()).unwrap();
    let mut merged = page[0].clone();
    merged["info"]
        .as_array_mut()
        .unwrap()
        .push(page[1]["info"][0].clone());
    let e = error(&serde_json::to_string(&vec![merged]).unwrap());
    assert!(e.to_string().contains("at most 100"), "{e}");
    assert!(matches!(error("not json"), ReconFileError::NotJson(_)));
    assert!(matches!(error(""), ReconFileError::NotJson(_)));
}

#[test]
fn no_input_makes_the_parser_panic() {
    let lines: Vec<ReconLine> = (0..5)
        .map(|i| payment(&format!("p-{i}"), 2026000000000000000 + i, "12.5", "THB"))
        .collect();
    let bytes = write_file("2026-12-01", &lines).unwrap();
    // Every prefix (a download cut short) fails cleanly; every one-byte change either parses
    // or fails, never panics.
    for end in 0..bytes.len() - 1 {
        assert!(
            parse_file(&bytes[..end]).is_err(),
            "a list cut at {end} parsed"
        );
    }
    for i in 0..bytes.len() {
        for replacement in [b'0', b'-', b'"', b'.', b'}', 0xff] {
            let mut spoiled = bytes.clone();
            spoiled[i] = replacement;
            let _ = parse_file(&spoiled);
        }
    }
}
