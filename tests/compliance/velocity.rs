//! Velocity counts in real SQLite and PostgreSQL: windows, sums per currency, the keyed
//! code hash in place of the code, the lock that makes a second payment count the first,
//! and pruning.
use std::time::Duration;

use iso_currency::Currency;
use kakehashi::routing::Compliance;
use kakehashi::routing::velocity::{PoolCounter, observe, observe_locked, prune, record};
use kakehashi::store::SqlStore;
use kakehashi_adapter_core::{Money, PaymentCode};

use super::fixture::{self, DAY_START_MS};
use super::support::postgres::fresh_database;

const CODE: &str = "900081818812345678904821";
const T0: i64 = DAY_START_MS + 7_200_000;

async fn sqlite(dir: &tempfile::TempDir) -> SqlStore {
    let url = format!("sqlite://{}", dir.path().join("velocity.db").display());
    SqlStore::connect(&url).await.unwrap()
}

fn money(value: &str, currency: &str) -> Money {
    Money::parse(value, currency).unwrap()
}

async fn pay(store: &SqlStore, compliance: &Compliance, code: &str, at_ms: i64, amount: Money) {
    let key = compliance.code_key(&PaymentCode::parse(code).unwrap());
    let mut tx = store.pool().begin().await.unwrap();
    record(&mut tx, key.as_ref(), "ramen-1", at_ms, &amount)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Code window 10 min; terminal windows 1 min and 1 h (fixture rules).
async fn windows_count_what_they_should(store: &SqlStore) {
    let compliance = Compliance::from_config(&fixture::config(500_000)).unwrap();
    let rules = compliance.rules();
    let code = PaymentCode::parse(CODE).unwrap();
    let key = compliance.code_key(&code).unwrap();
    assert_eq!(key.as_str().len(), 64);
    assert_eq!(compliance.code_key(&code).unwrap(), key);
    let other = PaymentCode::parse("900081818812345678909999").unwrap();
    assert_ne!(compliance.code_key(&other).unwrap(), key);

    pay(store, &compliance, CODE, T0, money("1000", "JPY")).await;
    pay(store, &compliance, CODE, T0 + 1_000, money("2000", "JPY")).await;
    pay(store, &compliance, CODE, T0 + 2_000, money("5.00", "USD")).await;
    pay(
        store,
        &compliance,
        "900081818812345678909999",
        T0 + 2_000,
        money("700", "JPY"),
    )
    .await;

    let mut counter = PoolCounter {
        pool: store.pool().clone(),
    };
    let seen = observe(
        &mut counter,
        rules,
        Some(&key),
        "ramen-1",
        T0 + 2_000,
        Currency::JPY,
    )
    .await
    .unwrap();
    // Three payments with the code, all in the window; the sum is of the yen ones only.
    assert_eq!(
        (
            seen.code[0].window_ms,
            seen.code[0].count,
            seen.code[0].sum.1
        ),
        (600_000, 3, 3_000)
    );
    // The terminal took four, the other code's included.
    let per_minute = seen
        .terminal
        .iter()
        .find(|w| w.window_ms == 60_000)
        .unwrap();
    assert_eq!((per_minute.count, per_minute.sum.1), (4, 3_700));

    // A window is (at - window, at]: a minute after T0+1s, only the T0+2s payments remain.
    let later = observe(
        &mut counter,
        rules,
        Some(&key),
        "ramen-1",
        T0 + 61_000,
        Currency::USD,
    )
    .await
    .unwrap();
    let per_minute = later
        .terminal
        .iter()
        .find(|w| w.window_ms == 60_000)
        .unwrap();
    assert_eq!(
        (per_minute.count, per_minute.sum),
        (2, (Currency::USD, 500))
    );
    // Nothing is counted before it happened.
    let earlier = observe(
        &mut counter,
        rules,
        Some(&key),
        "ramen-1",
        T0 - 1,
        Currency::JPY,
    )
    .await
    .unwrap();
    assert_eq!(earlier.code[0].count, 0);
    // A merchant-presented QR has no code: no code window is read.
    let qr = observe(
        &mut counter,
        rules,
        None,
        "ramen-1",
        T0 + 2_000,
        Currency::JPY,
    )
    .await
    .unwrap();
    assert!(qr.code.is_empty());

    // The code itself is nowhere in the tables.
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM velocity_events")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(keys.contains(&key.as_str().to_owned()));
    assert!(keys.iter().all(|k| !k.contains("12345678")), "{keys:?}");

    // An hour and two seconds on, the longest window (1 h) no longer sees any of them.
    let deleted = prune(store.pool(), rules, T0 + 3_602_000, 0).await.unwrap();
    assert_eq!(deleted, 8);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM velocity_events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// Two payments with one code at one till, decided at once: the second waits for the
/// first's transaction and then counts it.
async fn a_second_payment_waits_and_counts_the_first(store: &SqlStore) {
    let compliance = Compliance::from_config(&fixture::config(500_000)).unwrap();
    let key = compliance.code_key(&PaymentCode::parse(CODE).unwrap());
    let at_ms = T0 + 10 * 3_600_000;
    let mut first = store.pool().begin().await.unwrap();
    let seen = observe_locked(
        &mut first,
        compliance.rules(),
        key.as_ref(),
        "ramen-1",
        at_ms,
        Currency::JPY,
    )
    .await
    .unwrap();
    assert_eq!(seen.code[0].count, 0);

    let (pool, rules, second_key) = (
        store.pool().clone(),
        compliance.rules().clone(),
        key.clone(),
    );
    let mut second = tokio::spawn(async move {
        let mut tx = pool.begin().await.unwrap();
        let seen = observe_locked(
            &mut tx,
            &rules,
            second_key.as_ref(),
            "ramen-1",
            at_ms + 1,
            Currency::JPY,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        seen
    });
    let waited = tokio::time::timeout(Duration::from_millis(300), &mut second).await;
    assert!(
        waited.is_err(),
        "the second decision did not wait for the first"
    );

    record(
        &mut first,
        key.as_ref(),
        "ramen-1",
        at_ms,
        &money("1200", "JPY"),
    )
    .await
    .unwrap();
    first.commit().await.unwrap();
    let seen = second.await.unwrap();
    assert_eq!(seen.code[0].count, 1);
    assert!(
        seen.terminal
            .iter()
            .all(|w| w.count == 1 && w.sum.1 == 1_200)
    );
}

#[tokio::test]
async fn velocity_windows_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    windows_count_what_they_should(&sqlite(&dir).await).await;
}

#[tokio::test]
async fn velocity_windows_on_postgres() {
    let Some(url) = fresh_database("velocity_windows").await else {
        return;
    };
    windows_count_what_they_should(&SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn velocity_lock_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_second_payment_waits_and_counts_the_first(&sqlite(&dir).await).await;
}

#[tokio::test]
async fn velocity_lock_on_postgres() {
    let Some(url) = fresh_database("velocity_lock").await else {
        return;
    };
    a_second_payment_waits_and_counts_the_first(&SqlStore::connect(&url).await.unwrap()).await;
}
