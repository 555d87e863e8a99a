//! Settling a day, as finance sees it: a month-end of mixed traffic over four networks is
//! closed, invoiced and paid out; every figure matches an independent recomputation, the
//! ledger balances per currency, and the Zengin file parses back to the same money. Closing
//! runs once however many replicas try, a closed batch never changes, and late transactions
//! fall into the next batch. On SQLite and PostgreSQL.
use std::collections::BTreeMap;

use iso_currency::Currency;
use kakehashi::fx::{Pair, Rate, RateBook, RateSource};
use kakehashi::settlement::batch::{FactKind, SettledPaymentFact};
use kakehashi::settlement::ledger::postings::{self, PaymentFacts, RefundFacts};
use kakehashi::settlement::ledger::sql::{self as ledger, trial_balance};
use kakehashi::settlement::ledger::{Account, JournalEntry};
use kakehashi::settlement::zengin::{RECORD_BYTES, ZenginFile};
use kakehashi::settlement::{BusinessDate, SettlementConfig, SettlementSetup, cli, sql};
use kakehashi::store::{SqlStore, StoreError};
use kakehashi_adapter_core::Money;
use rust_decimal_macros::dec;

#[path = "support/postgres.rs"]
mod postgres;

const NETWORKS: [&str; 4] = ["alipayplus", "linepay", "paypay", "wechatpay"];
const MERCHANTS: [&str; 3] = ["m1", "m2", "m3"];

/// The `[settlement]` section as an operator writes it.
const SETTLEMENT_TOML: &str = r#"
registration_number = "T1180301018771"
issuer_name = "カケハシペイメンツ株式会社"

[networks.paypay]
fee_taxable = true
fees = [
  { rate = "0.0198", from = "2026-01-01" },
  { merchant = "m2", rate = "0.016", from = "2026-10-01" },
]

[networks.linepay]
cutoff = "23:00"
fee_taxable = true
fees = [{ rate = "0.0245", from = "2026-01-01" }]

[networks.wechatpay]
cutoff = "23:00"
settlement_currency = "USD"
fee_taxable = true
fees = [{ rate = "0.0324", from = "2026-01-01" }]

[networks.alipayplus]
cutoff = "22:30:00"
fee_taxable = false
fees = [{ rate = "0.0325", from = "2026-01-01" }]

[remitter]
requester_code = "0012345678"
name_kana = "カ)カケハシペイメンツ"
bank_code = "0001"
bank_name_kana = "ミズホ"
branch_code = "001"
branch_name_kana = "トウキヨウ"
account_type = "ordinary"
account_number = "1234567"

[merchants.m1]
name = "さくら商店株式会社"
customer_code = "100001"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "0005", bank_name_kana = "ミツビシユ－エフジエイ", branch_code = "001", branch_name_kana = "ホンテン", account_type = "ordinary", account_number = "12345", holder_kana = "サクラショウテン(カ" }

[merchants.m2]
name = "合同会社コーヒーロースターズ"
customer_code = "100002"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "0033", bank_name_kana = "ペイペイ", branch_code = "005", branch_name_kana = "ビジネス", account_type = "ordinary", account_number = "7654321", holder_kana = "ド)コーヒーロースターズ" }

[merchants.m3]
name = "やまだ食堂"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "9900", bank_name_kana = "ユウチヨ", branch_code = "018", branch_name_kana = "〇一八", account_type = "ordinary", account_number = "1234567", holder_kana = "やまだ　たろう" }
"#;

fn setup() -> SettlementSetup {
    // `〇一八` is no kana: the config names the field and the character.
    let bad: SettlementConfig = toml::from_str(SETTLEMENT_TOML).unwrap();
    let error = bad.build().unwrap_err().to_string();
    assert!(
        error.contains("merchants.m3.bank.branch_name_kana") && error.contains('〇'),
        "{error}"
    );
    let good = SETTLEMENT_TOML.replace("〇一八", "ゼロイチハチ");
    toml::from_str::<SettlementConfig>(&good)
        .unwrap()
        .build()
        .unwrap()
}

fn book() -> RateBook {
    let mut book = RateBook::default();
    let pair = Pair::new(Currency::JPY, Currency::USD).unwrap();
    book.add(
        Rate::new(
            pair,
            dec!(0.00652),
            RateSource::ConfigFile,
            None,
            0,
            i64::MAX,
            0,
        )
        .unwrap(),
    )
    .unwrap();
    book
}

fn month_end() -> BusinessDate {
    "2026-12-31".parse().unwrap()
}

/// One movement of the synthetic day, with the ledger entry the write path posts with it.
struct Movement {
    fact: SettledPaymentFact,
    entry: JournalEntry,
}

/// Hundreds of payments across the four networks and three merchants on 2026-12-31, before
/// each network's cut-off; every 7th refunded by half, every 11th reversed.
fn day_of_traffic(setup: &SettlementSetup) -> Vec<Movement> {
    let date = month_end();
    let mut movements = Vec::new();
    for i in 0..480_i64 {
        let network = NETWORKS[(i % 4) as usize];
        let merchant = MERCHANTS[(i % 3) as usize];
        let yen = 100 + (i * 7_919) % 30_000;
        let closes = setup.networks[network].cutoff.closes_at_ms(date);
        let at_ms = date.start_ms() + (i * 150_000) % (closes - date.start_ms());
        let payment = PaymentFacts {
            payment_id: format!("pay_{i:04}"),
            merchant_id: merchant.into(),
            network: network.into(),
            amount: Money::from_minor(yen, Currency::JPY).unwrap(),
            wallet_amount: None,
            at_ms,
            business_date: date,
        };
        let fact = |kind, refund_id: Option<String>, amount: Money, at_ms| SettledPaymentFact {
            kind,
            payment_id: payment.payment_id.clone(),
            refund_id,
            merchant_id: merchant.into(),
            network: network.into(),
            amount,
            wallet_amount: None,
            network_reference: Some(format!("{network}-{i}")),
            at_ms,
        };
        movements.push(Movement {
            fact: fact(FactKind::Payment, None, payment.amount, at_ms),
            entry: postings::for_payment_succeeded(&payment).unwrap(),
        });
        if i % 11 == 0 {
            movements.push(Movement {
                fact: fact(FactKind::Reversal, None, payment.amount, at_ms + 1),
                entry: postings::for_reversal(&PaymentFacts {
                    at_ms: at_ms + 1,
                    ..payment.clone()
                })
                .unwrap(),
            });
        } else if i % 7 == 0 {
            let refund = Money::from_minor(yen / 2, Currency::JPY).unwrap();
            let refund_id = format!("ref_{i:04}");
            movements.push(Movement {
                fact: fact(FactKind::Refund, Some(refund_id.clone()), refund, at_ms + 1),
                entry: postings::for_refund(&RefundFacts {
                    refund_id,
                    payment_id: payment.payment_id.clone(),
                    merchant_id: merchant.into(),
                    network: network.into(),
                    amount: refund,
                    at_ms: at_ms + 1,
                    business_date: date,
                })
                .unwrap(),
            });
        }
    }
    movements
}

/// Records each movement's fact and posts its entry in one transaction, as the write path will.
async fn record(store: &SqlStore, movements: &[Movement]) {
    for m in movements {
        let mut tx = store.pool().begin().await.unwrap();
        assert!(sql::record_fact(&mut *tx, &m.fact).await.unwrap());
        ledger::post(&mut tx, &m.entry).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[derive(Default, Debug, PartialEq, Eq)]
struct Expected {
    gross: i64,
    refunds: i64,
    reversals: i64,
    fee: i64,
    tax: i64,
    net: i64,
}

/// The day recomputed from the movements alone, with the config's rates written out here.
fn recompute(movements: &[Movement]) -> BTreeMap<(&'static str, String), Expected> {
    let rate = |network: &str, merchant: &str| match (network, merchant) {
        ("paypay", "m2") => (160, 10_000),
        ("paypay", _) => (198, 10_000),
        ("linepay", _) => (245, 10_000),
        ("wechatpay", _) => (324, 10_000),
        _ => (325, 10_000),
    };
    let mut lines: BTreeMap<(&'static str, String), Expected> = BTreeMap::new();
    for m in movements {
        let network = NETWORKS.into_iter().find(|n| *n == m.fact.network).unwrap();
        let line = lines
            .entry((network, m.fact.merchant_id.clone()))
            .or_default();
        let minor = m.fact.amount.minor();
        match m.fact.kind {
            FactKind::Payment => line.gross += minor,
            FactKind::Refund => line.refunds += minor,
            FactKind::Reversal => line.reversals += minor,
        }
    }
    for ((network, merchant), line) in &mut lines {
        let (numerator, denominator) = rate(network, merchant);
        let base = (line.gross - line.refunds - line.reversals).max(0);
        line.fee = base * numerator / denominator;
        line.tax = if *network == "alipayplus" {
            0
        } else {
            line.fee / 10
        };
        line.net = line.gross - line.refunds - line.reversals - line.fee - line.tax;
    }
    lines
}

async fn a_month_end_is_settled_to_the_last_yen(store: &SqlStore, out: &std::path::Path) {
    let setup = setup();
    let movements = day_of_traffic(&setup);
    assert!(
        movements.len() > 500,
        "hundreds of payments, refunds and reversals"
    );
    record(store, &movements).await;
    let report = cli::run(store.pool(), &setup, &book(), month_end(), out, 1)
        .await
        .unwrap();
    let expected = recompute(&movements);
    assert_eq!(report.batches.len(), 4);
    for (batch, won) in &report.batches {
        assert!(won, "{} closed by this run", batch.batch_id);
        for line in &batch.lines {
            let e = &expected[&(batch.network.as_str(), line.merchant_id.clone())];
            let got = Expected {
                gross: line.gross_minor,
                refunds: line.refunds_minor,
                reversals: line.reversals_minor,
                fee: line.fee_minor,
                tax: line.tax_minor,
                net: line.net_minor,
            };
            assert_eq!(&got, e, "{} {}", batch.network, line.merchant_id);
            let ids = line.payment_ids.len() + line.refund_ids.len() + line.reversal_ids.len();
            let facts = movements
                .iter()
                .filter(|m| {
                    m.fact.network == batch.network && m.fact.merchant_id == line.merchant_id
                })
                .count();
            assert_eq!(ids, facts, "every figure traces to its movements");
        }
    }
    // WeChat Pay settles in USD: the day's receivable converted once.
    let (wechat, _) = report
        .batches
        .iter()
        .find(|(b, _)| b.network == "wechatpay")
        .unwrap();
    let conversion = wechat.conversion.as_ref().unwrap();
    assert_eq!(conversion.settlement_currency, Currency::USD);
    let exact = rust_decimal::Decimal::from(wechat.totals.receivable_minor) * dec!(0.652);
    assert_eq!(
        rust_decimal::Decimal::from(conversion.receivable_minor),
        exact.round()
    );
    // Invoices: tax once per merchant over its taxable fees; the payout nets it.
    for merchant in MERCHANTS {
        let taxable: i64 = expected
            .iter()
            .filter(|((n, m), _)| *m == merchant && *n != "alipayplus")
            .map(|(_, e)| e.fee)
            .sum();
        let line_tax: i64 = expected
            .iter()
            .filter(|((_, m), _)| *m == merchant)
            .map(|(_, e)| e.tax)
            .sum();
        let net: i64 = expected
            .iter()
            .filter(|((_, m), _)| *m == merchant)
            .map(|(_, e)| e.net)
            .sum();
        let invoice_tax = taxable / 10;
        let payout = report
            .payouts
            .iter()
            .find(|p| p.merchant_id == merchant)
            .unwrap();
        assert_eq!(
            payout.amount_yen as i64,
            net - (invoice_tax - line_tax),
            "{merchant}"
        );
        assert_eq!(
            payout.transfer_date.to_string(),
            "2027-01-05",
            "two bank days after 12/31"
        );
        let invoice =
            std::fs::read_to_string(out.join(format!("invoice-{merchant}-2026-12-31.json")))
                .unwrap();
        let invoice: serde_json::Value = serde_json::from_str(&invoice).unwrap();
        assert_eq!(invoice["registration_number"], "T1180301018771");
        assert_eq!(invoice["per_rate"][0]["tax"], invoice_tax.to_string());
        assert_eq!(invoice["period"]["from"], "2026-12-01");
    }
    // The ledger: every currency balances; each payable is cleared by its payout.
    let balances = ledger::balances(store.pool(), i64::MAX).await.unwrap();
    for (currency, (debits, credits)) in trial_balance(&balances) {
        assert_eq!(debits, credits, "{currency}");
    }
    for merchant in MERCHANTS {
        let payable = Account::merchant_payable(merchant);
        let balance = ledger::balance(store.pool(), &payable, Currency::JPY, i64::MAX)
            .await
            .unwrap();
        assert_eq!(balance.net_minor(), 0, "{merchant}'s payable is cleared");
    }
    // The Zengin file: parses back to the payouts; 120-byte records; allowed names only.
    let bytes = std::fs::read(out.join("zengin-20270105.txt")).unwrap();
    assert!(
        bytes
            .chunks(RECORD_BYTES + 2)
            .all(|r| r.len() == RECORD_BYTES + 2 && r.ends_with(b"\r\n"))
    );
    let file = ZenginFile::parse(&bytes).unwrap();
    assert_eq!(file.records.len(), 3);
    assert_eq!(
        (file.header.transfer_month, file.header.transfer_day),
        (1, 5)
    );
    let paid: u64 = report.payouts.iter().map(|p| p.amount_yen).sum();
    assert_eq!(file.total_yen(), paid);
    for (record, payout) in file.records.iter().zip(&report.payouts) {
        assert_eq!(record.amount_yen, payout.amount_yen);
        let allowed = |c: char| matches!(c, 'A'..='Z' | '0'..='9' | ' ' | '(' | ')' | '-' | '.' | 'ﾞ' | 'ﾟ' | 'ｱ'..='ﾝ');
        assert!(
            record.payee_name.chars().all(allowed),
            "{}",
            record.payee_name
        );
    }
    assert_eq!(file.records[2].payee_name, "ﾔﾏﾀﾞ ﾀﾛｳ");
    let csv = std::fs::read_to_string(out.join("batch-paypay-2026-12-31.csv")).unwrap();
    assert!(
        csv.lines()
            .last()
            .unwrap()
            .starts_with("paypay,2026-12-31,TOTAL,JPY,")
    );

    // Settling the same day again changes nothing and writes the same Zengin file.
    let again = cli::run(store.pool(), &setup, &book(), month_end(), out, 2)
        .await
        .unwrap();
    assert!(again.batches.iter().all(|(_, won)| !won));
    assert_eq!(again.payouts, report.payouts);
    assert_eq!(
        std::fs::read(out.join("zengin-20270105.txt")).unwrap(),
        bytes
    );
}

/// Two replicas close the same day at the same time: one batch, one set of fee entries.
async fn two_replicas_close_once(first: &SqlStore, second: &SqlStore, dirs: [&std::path::Path; 2]) {
    let setup = setup();
    let date: BusinessDate = "2026-11-30".parse().unwrap();
    let facts: Vec<SettledPaymentFact> = (0..50)
        .map(|i| SettledPaymentFact {
            kind: FactKind::Payment,
            payment_id: format!("race_{i}"),
            refund_id: None,
            merchant_id: MERCHANTS[i % 3].into(),
            network: "paypay".into(),
            amount: Money::from_minor(1_000 + i as i64, Currency::JPY).unwrap(),
            wallet_amount: None,
            network_reference: None,
            at_ms: date.start_ms() + i as i64,
        })
        .collect();
    for fact in &facts {
        sql::record_fact(first.pool(), fact).await.unwrap();
    }
    let book = book();
    let (a, b) = tokio::join!(
        cli::run(first.pool(), &setup, &book, date, dirs[0], 10),
        cli::run(second.pool(), &setup, &book, date, dirs[1], 11),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    for ((batch_a, won_a), (batch_b, won_b)) in a.batches.iter().zip(&b.batches) {
        assert_eq!(batch_a, batch_b, "both replicas report the one batch");
        assert!(
            won_a ^ won_b,
            "{}: exactly one replica closed it",
            batch_a.batch_id
        );
    }
    let paypay = sql::get_batch(first.pool(), "paypay", date)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paypay.totals.payments, 50);
    assert_eq!(
        sql::facts_in_batch(first.pool(), &paypay.batch_id)
            .await
            .unwrap()
            .len(),
        50
    );
    for merchant in MERCHANTS {
        let fees =
            ledger::entries_for_reference(first.pool(), &format!("paypay/2026-11-30/{merchant}"))
                .await
                .unwrap();
        assert_eq!(fees.len(), 1, "one fee entry for {merchant}");
    }
}

/// A closed batch never changes: a fact that arrives after the close (timed in that day)
/// waits for the next batch, and a row edited behind the store's back is refused on read.
async fn a_closed_batch_is_immutable_and_late_facts_roll_forward(
    store: &SqlStore,
    out: &std::path::Path,
) {
    let setup = setup();
    let linepay = &setup.networks["linepay"];
    let day: BusinessDate = "2026-12-10".parse().unwrap();
    let closes = linepay.cutoff.closes_at_ms(day);
    let fact = |id: &str, at_ms| SettledPaymentFact {
        kind: FactKind::Payment,
        payment_id: id.into(),
        refund_id: None,
        merchant_id: "m1".into(),
        network: "linepay".into(),
        amount: Money::from_minor(10_000, Currency::JPY).unwrap(),
        wallet_amount: None,
        network_reference: None,
        at_ms,
    };
    // Around the 23:00 cut-off: a millisecond before is the 10th, the instant itself the 11th.
    assert_eq!(linepay.cutoff.business_date(closes - 1).unwrap(), day);
    assert_eq!(
        linepay.cutoff.business_date(closes).unwrap(),
        day.next().unwrap()
    );
    sql::record_fact(store.pool(), &fact("before_cutoff", closes - 1))
        .await
        .unwrap();
    sql::record_fact(store.pool(), &fact("at_cutoff", closes))
        .await
        .unwrap();
    let first = cli::run(store.pool(), &setup, &book(), day, out, 20)
        .await
        .unwrap();
    let closed = first
        .batches
        .iter()
        .find(|(b, _)| b.network == "linepay")
        .unwrap()
        .0
        .clone();
    assert_eq!(closed.lines[0].payment_ids, ["before_cutoff"]);
    // Recorded after the close, timed before the cut-off: late.
    sql::record_fact(store.pool(), &fact("late", closes - 60_000))
        .await
        .unwrap();
    let again = cli::run(store.pool(), &setup, &book(), day, out, 21)
        .await
        .unwrap();
    let unchanged = &again
        .batches
        .iter()
        .find(|(b, _)| b.network == "linepay")
        .unwrap()
        .0;
    assert_eq!(
        unchanged, &closed,
        "closing again returns the closed batch, unchanged"
    );
    let next = cli::run(store.pool(), &setup, &book(), day.next().unwrap(), out, 22)
        .await
        .unwrap();
    let next = &next
        .batches
        .iter()
        .find(|(b, _)| b.network == "linepay")
        .unwrap()
        .0;
    assert_eq!(next.lines[0].payment_ids, ["late", "at_cutoff"]);
    // Editing the stored batch is noticed.
    sqlx::query("UPDATE settlement_batches SET content = REPLACE(content, '10000', '10001') WHERE batch_id = 'linepay/2026-12-10'")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        sql::get_batch(store.pool(), "linepay", day).await,
        Err(StoreError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn sqlite_settles_a_month_end() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("settle.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    a_month_end_is_settled_to_the_last_yen(&store, dir.path()).await;
    let replica = SqlStore::connect(&url).await.unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    two_replicas_close_once(&store, &replica, [a.path(), b.path()]).await;
    a_closed_batch_is_immutable_and_late_facts_roll_forward(&store, a.path()).await;
}

#[tokio::test]
async fn postgres_settles_a_month_end() {
    let Some(url) = postgres::fresh_database("settlement").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    a_month_end_is_settled_to_the_last_yen(&store, dir.path()).await;
    let replica = SqlStore::connect(&url).await.unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    two_replicas_close_once(&store, &replica, [a.path(), b.path()]).await;
    a_closed_batch_is_immutable_and_late_facts_roll_forward(&store, a.path()).await;
}
