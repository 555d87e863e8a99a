//! A short crash-and-fault soak in the suite (the full run is `kakehashi soak`): faults in
//! every network, switch restarts, then the switch's books must agree with every network's.
use kakehashi::soak::{SoakOptions, run};

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_on_sqlite_ends_with_the_books_agreeing() {
    let report = run(SoakOptions {
        seed: 11,
        operations: 40,
        restarts: 2,
        postgres: None,
        replicas: 1,
    })
    .await
    .expect("the soak runs");
    assert!(
        report.restarts == 2 && report.payments > 10,
        "{}",
        report.render()
    );
    assert!(!report.faults.is_empty(), "{}", report.render());
    assert!(report.passed(), "{}", report.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_with_two_replicas_on_postgresql_ends_with_the_books_agreeing() {
    let Some(url) = support::postgres::fresh_database("soak").await else {
        return;
    };
    let report = run(SoakOptions {
        seed: 12,
        operations: 40,
        restarts: 2,
        postgres: Some(url),
        replicas: 2,
    })
    .await
    .expect("the soak runs");
    assert!(report.passed(), "{}", report.render());
}
