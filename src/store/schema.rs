//! Schema migrations, embedded and applied in order at start-up. Types are the subset both
//! SQLite and PostgreSQL share through sqlx's Any driver: TEXT and BIGINT. Money is kept as
//! BIGINT minor units beside the exact decimal text.
use sqlx::AnyPool;

use super::StoreError;

/// Applied in version order.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_refund_leases.sql")),
    (3, include_str!("migrations/0003_audit.sql")),
    (4, include_str!("migrations/0004_rules.sql")),
    (5, include_str!("migrations/0005_money.sql")),
    (6, include_str!("migrations/0006_partner_gateway.sql")),
    (7, include_str!("migrations/0007_quotes.sql")),
    (8, include_str!("migrations/0008_quote_keys.sql")),
];

pub async fn migrate(pool: &AnyPool) -> Result<(), StoreError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .execute(pool)
        .await?;
    for (version, script) in MIGRATIONS {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(pool)
                .await?;
        if applied.is_some() {
            continue;
        }
        let mut tx = pool.begin().await?;
        for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version: *version,
                    detail: e.to_string(),
                })?;
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
