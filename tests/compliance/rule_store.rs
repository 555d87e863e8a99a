//! Rule sets kept by version in SQLite and PostgreSQL: saved once per version at start,
//! read back to the same rules, and a stored row that no longer matches its version is
//! reported, not used.
use kakehashi::routing::{Compliance, RuleSet, activate};
use kakehashi::store::{SqlStore, StoreError, rule_set, rule_set_versions};

use super::fixture;
use super::support::postgres::fresh_database;

async fn kept_by_version(store: &SqlStore) {
    let old = Compliance::from_config(&fixture::config(500_000)).unwrap();
    let new = Compliance::from_config(&fixture::config(300_000)).unwrap();
    let v1 = activate(store.pool(), old.rules(), 1_000).await.unwrap();
    // A restart under the same rules keeps the one row and its first activation time.
    assert_eq!(
        activate(store.pool(), old.rules(), 2_000).await.unwrap(),
        v1
    );
    let v2 = activate(store.pool(), new.rules(), 3_000).await.unwrap();
    let versions = rule_set_versions(store.pool()).await.unwrap();
    assert_eq!(versions, [(v1.to_string(), 1_000), (v2.to_string(), 3_000)]);

    let text = rule_set(store.pool(), v1.as_str()).await.unwrap().unwrap();
    assert_eq!(
        RuleSet::from_canonical_versioned(v1.as_str(), &text).unwrap(),
        *old.rules()
    );
    assert!(
        text.contains(r#"{"currency":"JPY","value":"500000"}"#),
        "{text}"
    );
    assert!(
        !text.contains("velocity-key"),
        "the velocity key is no rule: {text}"
    );
    assert_eq!(rule_set(store.pool(), &"0".repeat(64)).await.unwrap(), None);

    // Someone edits the stored v1 rules: the next start refuses to go on with them.
    sqlx::query("UPDATE rule_sets SET canonical = $1 WHERE version = $2")
        .bind(text.replace("500000", "900000"))
        .bind(v1.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    let err = activate(store.pool(), old.rules(), 4_000)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                table: "rule_sets",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn rule_sets_are_kept_by_version_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rules.db").display());
    kept_by_version(&SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn rule_sets_are_kept_by_version_on_postgres() {
    let Some(url) = fresh_database("rule_sets").await else {
        return;
    };
    kept_by_version(&SqlStore::connect(&url).await.unwrap()).await;
}
