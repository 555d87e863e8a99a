//! `kakehashi settle` as an operator runs it, with the example config pointed at a fresh
//! store that holds a month-end's facts: it prints the batch, writes the reports, the fee
//! invoice and a Zengin file that parses back; run again, it changes nothing.
use std::process::Command;

use iso_currency::Currency;
use kakehashi::config::Config;
use kakehashi::fx::{FxConfig, Pair, RateSource};
use kakehashi::settlement::batch::{FactKind, SettledPaymentFact};
use kakehashi::settlement::sql;
use kakehashi::settlement::zengin::ZenginFile;
use kakehashi::store::SqlStore;
use kakehashi_adapter_core::Money;

const EXAMPLE: &str = include_str!("../deploy/kakehashi.example.toml");

fn settle(config: &std::path::Path, out: &std::path::Path, date: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["settle", "--config"])
        .arg(config)
        .args(["--date", date, "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[tokio::test]
async fn settle_closes_the_month_and_writes_the_files_once() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}", dir.path().join("k.db").display());
    let rates = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/rates.example.toml");
    let text = EXAMPLE
        .replace(
            "store_url = \"sqlite://kakehashi.db\"",
            &format!("store_url = \"{store_url}\""),
        )
        .replace(
            "rates_file = \"deploy/rates.example.toml\"",
            &format!("rates_file = \"{rates}\""),
        );
    let config_path = dir.path().join("kakehashi.toml");
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::parse(&text).unwrap();

    let store = SqlStore::connect(&store_url).await.unwrap();
    let start = "2026-11-30"
        .parse::<kakehashi::settlement::BusinessDate>()
        .unwrap()
        .start_ms();
    for (i, yen) in [1_200_i64, 980, 2_450].into_iter().enumerate() {
        let fact = SettledPaymentFact {
            kind: FactKind::Payment,
            payment_id: format!("pay_{i}"),
            refund_id: None,
            merchant_id: "shinjuku-ramen".into(),
            network: "linepay".into(),
            amount: Money::from_minor(yen, Currency::JPY).unwrap(),
            wallet_amount: None,
            network_reference: None,
            at_ms: start + 3_600_000 * (i as i64 + 10),
        };
        sql::record_fact(store.pool(), &fact).await.unwrap();
    }

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let first = settle(&config_path, &out, "2026-11-30");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // 4,630 yen at 2.45 % = 113.435 → 113; tax 11; net 4,506.
    assert!(
        stdout.contains(
            "linepay 2026-11-30: 1 merchants, 3 payments, 0 refunds, 0 reversals, net 4506 JPY"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("payout shinjuku-ramen JPY 4506 on 2026-12-02"),
        "{stdout}"
    );
    let zengin = std::fs::read(out.join("zengin-20261202.txt")).unwrap();
    let file = ZenginFile::parse(&zengin).unwrap();
    assert_eq!(file.records[0].payee_name, "ｼﾝｼﾞﾕｸﾗ-ﾒﾝ(ｶ");
    assert_eq!(file.total_yen(), 4_506);
    let invoice =
        std::fs::read_to_string(out.join("invoice-shinjuku-ramen-2026-11-30.txt")).unwrap();
    assert!(
        invoice.contains("登録番号 T1180301018771") && invoice.contains("消費税 11"),
        "{invoice}"
    );

    let second = settle(&config_path, &out, "2026-11-30");
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("(already closed)"));
    assert_eq!(
        std::fs::read(out.join("zengin-20261202.txt")).unwrap(),
        zengin
    );

    // The rates file the example names loads, and a bad date is an error an operator reads.
    let book = config.fx.load_book().unwrap_or_else(|e| panic!("{e}"));
    let december = "2026-12-10"
        .parse::<kakehashi::settlement::BusinessDate>()
        .unwrap()
        .start_ms();
    let pair = Pair::new(Currency::JPY, Currency::CNY).unwrap();
    assert_eq!(
        book.rate_at(pair, "linepay", december).unwrap().source(),
        RateSource::ConfigFile
    );
    assert!(FxConfig::default().load_book().is_ok());
    let bad = settle(&config_path, &out, "2026-11-31");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--date"),
        "{:?}",
        bad
    );
}
