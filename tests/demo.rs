//! The README's first command: `kakehashi demo` plays the whole shift against the in-process
//! simulators and fails if any scenario ends in a state it did not intend, or if a
//! simulator's balances disagree with the switch's books.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shift_ends_as_intended_and_the_books_agree() {
    let report = kakehashi::demo::run(kakehashi::demo::Layout::Narrow)
        .await
        .expect("every scenario as intended, every balance reconciled");
    let scenarios = report.scenarios();
    // The partner networks' scenarios are there and ended as meant: a visiting KPay wallet
    // paying the till's static code through the partner gateway, watched by the till, and
    // KPay as a network joined by config alone, paying and refunding through adapters/grpc.
    for wanted in [
        "KPay via gateway (mTLS): static QR, till watches",
        "KPay, a network by config only: paid in KRW",
        "KPay, by config only: partial refund of ¥500",
    ] {
        let found = scenarios.iter().find(|(name, _)| name == wanted);
        assert_eq!(
            found.map(|(_, ok)| *ok),
            Some(true),
            "{wanted} in {scenarios:?}"
        );
    }
    let balances = report.balances();
    for wallet in ["kpay/kp-jiwoo", "kpay/kp-minji"] {
        let found = balances.iter().find(|(name, _)| name == wallet);
        assert_eq!(
            found.map(|(_, ok)| *ok),
            Some(true),
            "{wallet} in {balances:?}"
        );
    }
    assert!(
        scenarios.len() >= 17 && balances.len() >= 12,
        "{scenarios:?}"
    );
}
