//! The ledger and the FX tables against real SQLite and real PostgreSQL: entries post inside
//! the caller's transaction, balances add up per currency, and a stored entry that no longer
//! balances is reported, not repaired.
use iso_currency::Currency;
use kakehashi::fx::{self, FxConfig, Pair, Rate, RateBook, RateSource};
use kakehashi::settlement::BusinessDate;
use kakehashi::settlement::ledger::postings::{self, PaymentFacts, PayoutFacts, RefundFacts};
use kakehashi::settlement::ledger::sql::{self as ledger, trial_balance};
use kakehashi::settlement::ledger::{Account, EntryKind};
use kakehashi::store::{SqlStore, StoreError};
use kakehashi_adapter_core::Money;
use rust_decimal_macros::dec;

#[path = "support/postgres.rs"]
mod postgres;

fn date() -> BusinessDate {
    "2026-12-24".parse().unwrap()
}

fn jpy(value: &str) -> Money {
    Money::parse(value, "JPY").unwrap()
}

fn payment(id: &str, merchant: &str, network: &str, yen: &str, at_ms: i64) -> PaymentFacts {
    PaymentFacts {
        payment_id: id.into(),
        merchant_id: merchant.into(),
        network: network.into(),
        amount: jpy(yen),
        wallet_amount: None,
        at_ms,
        business_date: date(),
    }
}

async fn sqlite() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    (dir, store)
}

async fn postgres(label: &str) -> Option<SqlStore> {
    let url = postgres::fresh_database(label).await?;
    Some(SqlStore::connect(&url).await.unwrap())
}

/// A shop's day: two payments, a refund and a payout, posted as the write path will post
/// them, each in its own transaction.
async fn entries_post_and_balance(store: &SqlStore) {
    let pool = store.pool();
    let entries = [
        postings::for_payment_succeeded(&payment("pay_1", "m1", "paypay", "1200", 10)).unwrap(),
        postings::for_payment_succeeded(&payment("pay_2", "m1", "wechatpay", "3000", 20)).unwrap(),
        postings::for_refund(&RefundFacts {
            refund_id: "ref_1".into(),
            payment_id: "pay_1".into(),
            merchant_id: "m1".into(),
            network: "paypay".into(),
            amount: jpy("200"),
            at_ms: 30,
            business_date: date(),
        })
        .unwrap(),
        postings::for_payout(&PayoutFacts {
            payout_id: "m1/2026-12-24".into(),
            merchant_id: "m1".into(),
            amount: jpy("4000"),
            at_ms: 40,
            business_date: date(),
        })
        .unwrap(),
    ];
    for entry in &entries {
        let mut tx = pool.begin().await.unwrap();
        ledger::post(&mut tx, entry).await.unwrap();
        tx.commit().await.unwrap();
    }
    let payable = Account::merchant_payable("m1");
    let at = |ms| ledger::balance(pool, &payable, Currency::JPY, ms);
    assert_eq!(
        at(25).await.unwrap().net_minor(),
        -4_200,
        "owed after two payments"
    );
    assert_eq!(at(30).await.unwrap().net_minor(), -4_000, "less the refund");
    assert_eq!(at(40).await.unwrap().net_minor(), 0, "the payout clears it");
    let all = ledger::balances(pool, 40).await.unwrap();
    let receivable = all
        .iter()
        .find(|b| b.account == Account::network_receivable("paypay"))
        .unwrap();
    assert_eq!(receivable.net_minor(), 1_000);
    for (currency, (debits, credits)) in trial_balance(&all) {
        assert_eq!(debits, credits, "{currency}");
    }
    let read = ledger::entries_for_reference(pool, "pay_1").await.unwrap();
    assert_eq!(read, [entries[0].clone()]);
}

/// A retried state change cannot post twice, and an entry posted in a transaction that rolls
/// back is not there: the entry lives or dies with the change that caused it.
async fn entries_live_and_die_with_their_transaction(store: &SqlStore) {
    let pool = store.pool();
    let entry =
        postings::for_payment_succeeded(&payment("pay_9", "m2", "paypay", "500", 50)).unwrap();
    let mut tx = pool.begin().await.unwrap();
    ledger::post(&mut tx, &entry).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(
        ledger::entries_for_reference(pool, "pay_9")
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = pool.begin().await.unwrap();
    ledger::post(&mut tx, &entry).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    assert!(matches!(
        ledger::post(&mut tx, &entry).await,
        Err(StoreError::Conflict)
    ));
}

/// A row changed behind the ledger's back (one line's amount) is refused on read.
async fn a_corrupted_entry_is_reported_on_read(store: &SqlStore) {
    let pool = store.pool();
    let entry =
        postings::for_payment_succeeded(&payment("pay_7", "m3", "paypay", "800", 60)).unwrap();
    let mut tx = pool.begin().await.unwrap();
    ledger::post(&mut tx, &entry).await.unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "UPDATE ledger_lines SET amount_minor = 801, amount_value = '801' \
         WHERE entry_id = 'payment/pay_7' AND line_no = 1",
    )
    .execute(pool)
    .await
    .unwrap();
    let error = ledger::entries_for_reference(pool, "pay_7")
        .await
        .unwrap_err();
    let StoreError::Corrupt { detail, .. } = error else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert!(detail.contains("does not balance in JPY"), "{detail}");
    // A whole unbalanced entry written directly with SQL is refused the same way.
    for statement in [
        "INSERT INTO ledger_entries (entry_id, kind, reference, at_ms, business_date, line_count) \
         VALUES ('fee/b1/m3', 'fee', 'b1/m3', 70, '2026-12-24', 2)",
        "INSERT INTO ledger_lines (entry_id, line_no, account, side, amount_minor, amount_value, \
         currency, at_ms) VALUES ('fee/b1/m3', 0, 'merchant_payable:m3', 'debit', 10, '10', 'JPY', 70)",
        "INSERT INTO ledger_lines (entry_id, line_no, account, side, amount_minor, amount_value, \
         currency, at_ms) VALUES ('fee/b1/m3', 1, 'fee_revenue:paypay', 'credit', 9, '9', 'JPY', 70)",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    assert!(matches!(
        ledger::entries_for_reference(pool, "b1/m3").await,
        Err(StoreError::Corrupt { .. })
    ));
}

/// Rates and quotes survive the store; a quote reads back exactly.
async fn rates_and_quotes_round_trip(store: &SqlStore) {
    let pool = store.pool();
    let pair = Pair::parse("JPY/CNY").unwrap();
    let file_rate = Rate::new(
        pair,
        dec!(0.0465),
        RateSource::ConfigFile,
        None,
        0,
        1_000,
        0,
    )
    .unwrap();
    let feed_rate = Rate::new(
        pair,
        dec!(0.0467),
        RateSource::PartnerFeed,
        Some("alipayplus".into()),
        100,
        200,
        99,
    )
    .unwrap();
    for rate in [&file_rate, &feed_rate, &feed_rate] {
        fx::sql::insert_rate(pool, rate).await.unwrap();
    }
    let stored = fx::sql::rates_valid_at(pool, 150).await.unwrap();
    assert_eq!(stored.len(), 2, "the repeated rate is one row");
    let config: FxConfig = toml::from_str("[markup]\nalipayplus = \"0.01\"\n").unwrap();
    let mut book = RateBook::new(config.policy().unwrap());
    for rate in stored {
        book.add(rate).unwrap();
    }
    let quote = fx::quote(&book, "alipayplus", jpy("1200"), Currency::CNY, 150).unwrap();
    assert_eq!(quote.rate_source, RateSource::PartnerFeed);
    assert_eq!(quote.rate_quoted, dec!(0.047167));
    let mut tx = pool.begin().await.unwrap();
    fx::sql::insert_quote(&mut *tx, &quote).await.unwrap();
    tx.commit().await.unwrap();
    let read = fx::sql::get_quote(pool, &quote.quote_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, quote);
    assert_eq!(fx::sql::get_quote(pool, "q_none").await.unwrap(), None);
}

async fn exercise(store: &SqlStore) {
    entries_post_and_balance(store).await;
    entries_live_and_die_with_their_transaction(store).await;
    a_corrupted_entry_is_reported_on_read(store).await;
    rates_and_quotes_round_trip(store).await;
    let kinds = ledger::entries_for_reference(store.pool(), "ref_1")
        .await
        .unwrap();
    assert_eq!(kinds[0].kind(), EntryKind::Refund);
}

#[tokio::test]
async fn sqlite_ledger_keeps_the_books() {
    let (_dir, store) = sqlite().await;
    exercise(&store).await;
}

#[tokio::test]
async fn postgres_ledger_keeps_the_books() {
    let Some(store) = postgres("ledger").await else {
        return;
    };
    exercise(&store).await;
}
