//! Compliance tables (migration 0004): rule sets kept by version, and the velocity events
//! per-code and per-terminal limits count. Plain functions over a pool or a transaction,
//! typed in strings and integers, so the store knows nothing of the rules' meaning.
use sqlx::{Any, AnyPool, Executor, Transaction};

use super::StoreError;

/// What velocity counts in one window: payments and the sum of their amounts in one
/// currency, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VelocityTotals {
    pub count: i64,
    pub amount_minor: i64,
}

/// Saves a rule set's canonical text under its version unless that version is stored, and
/// logs its activation in the audit log in the same commit, so an auditor sees from which
/// entry on a version decided. A stored version with different text is
/// [`StoreError::Corrupt`]: the version is the text's hash, so the stored row was altered.
pub async fn save_rule_set(
    pool: &AnyPool,
    version: &str,
    canonical: &str,
    created_at_ms: i64,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO rule_sets (version, canonical, created_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(version)
    .bind(canonical)
    .bind(created_at_ms)
    .execute(&mut *tx)
    .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT canonical FROM rule_sets WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
    if stored.as_deref() != Some(canonical) {
        tx.rollback().await?;
        return Err(StoreError::Corrupt {
            table: "rule_sets",
            detail: format!("version {version} holds other text than its own"),
        });
    }
    let entry = crate::audit::facts::rule_set_activated(version, created_at_ms);
    super::audit_sql::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// The canonical text stored under `version`, if any.
pub async fn rule_set(pool: &AnyPool, version: &str) -> Result<Option<String>, StoreError> {
    let text = sqlx::query_scalar("SELECT canonical FROM rule_sets WHERE version = $1")
        .bind(version)
        .fetch_optional(pool)
        .await?;
    Ok(text)
}

/// Every stored rule-set version with the time it was first activated, oldest first.
pub async fn rule_set_versions(pool: &AnyPool) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query_as(
        "SELECT version, created_at_ms FROM rule_sets ORDER BY created_at_ms, version",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Payments counted under `(key_kind, key)` with `since_ms < at_ms <= until_ms`, and the
/// sum of those in `currency`.
pub async fn velocity_totals<'c, E>(
    executor: E,
    key_kind: &str,
    key: &str,
    since_ms: i64,
    until_ms: i64,
    currency: &str,
) -> Result<VelocityTotals, StoreError>
where
    E: Executor<'c, Database = Any>,
{
    // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps one integer type on both.
    let (count, amount_minor): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN currency = $5 THEN amount_minor \
         ELSE 0 END), 0) AS BIGINT) FROM velocity_events \
         WHERE key_kind = $1 AND key = $2 AND at_ms > $3 AND at_ms <= $4",
    )
    .bind(key_kind)
    .bind(key)
    .bind(since_ms)
    .bind(until_ms)
    .bind(currency)
    .fetch_one(executor)
    .await?;
    Ok(VelocityTotals {
        count,
        amount_minor,
    })
}

/// Takes the row lock of `(key_kind, key)` until the transaction ends, so two payments
/// counted under one key are decided one after the other: the second counts the first.
/// (On SQLite the write itself takes the database's one write lock.)
pub async fn lock_velocity_key(
    tx: &mut Transaction<'_, Any>,
    key_kind: &str,
    key: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO velocity_keys (key_kind, key, touched_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (key_kind, key) DO UPDATE SET touched_at_ms = $3",
    )
    .bind(key_kind)
    .bind(key)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Counts one payment under `(key_kind, key)`; part of the caller's transaction.
pub async fn insert_velocity_event(
    tx: &mut Transaction<'_, Any>,
    key_kind: &str,
    key: &str,
    at_ms: i64,
    amount_minor: i64,
    currency: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO velocity_events (key_kind, key, at_ms, amount_minor, currency) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key_kind)
    .bind(key)
    .bind(at_ms)
    .bind(amount_minor)
    .bind(currency)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes velocity events at or before `before_ms`, and the key rows untouched since;
/// returns the events deleted.
pub async fn prune_velocity(pool: &AnyPool, before_ms: i64) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM velocity_events WHERE at_ms <= $1")
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM velocity_keys WHERE touched_at_ms <= $1")
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted)
}
