//! The SQL store over sqlx's Any driver: one code path for SQLite and PostgreSQL.
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use super::group::{GroupCommit, Keep};
use super::rows::{
    check_payment, payment_columns, payment_from_row, refund_columns, refund_from_row,
    transition_from_row,
};
use super::stats;
use super::{
    Effects, InsertPayment, InsertRefund, LeaseOwner, MerchantRow, Store, StoreError, TerminalRow,
    audit_sql, schema,
};
use crate::audit::facts;
use crate::domain::{PaymentRecord, RefundRecord, RefundState, Transition};

/// Connections per pool. SQLite serialises writers anyway; PostgreSQL replicas share a
/// server, so each keeps a modest pool.
const SQLITE_CONNECTIONS_MAX: u32 = 4;
const POSTGRES_CONNECTIONS_MAX: u32 = 16;

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// The one writer that batches the hot path's writes into shared commits.
    group: GroupCommit,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
}

// === impl SqlStore ===

impl SqlStore {
    /// Connects (`sqlite://path` or `postgres://...`), applies migrations, and for SQLite
    /// turns on WAL with `synchronous=FULL`, so a commit is on disk before it returns
    /// (mapping the file for reads changes nothing about that: writes still go through the
    /// WAL and its fsync).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_owned()
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite {
                SQLITE_CONNECTIONS_MAX
            } else {
                POSTGRES_CONNECTIONS_MAX
            })
            .acquire_timeout(Duration::from_secs(10))
            // No ping per checkout: a broken connection fails its statement, which the
            // caller handles like any store error; a ping per acquire was a round trip per
            // statement on PostgreSQL.
            .test_before_acquire(false)
            .after_release(|_, _| {
                Box::pin(async {
                    super::stats::connection_released();
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // The group writer runs each write in a savepoint, whose
                        // sub-journal would otherwise be a temporary file written per
                        // write; and reads map the database rather than copy it in.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                        conn.execute("PRAGMA mmap_size = 268435456").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        schema::migrate(&pool).await?;
        let group = GroupCommit::start(pool.clone());
        Ok(Self { pool, group })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

async fn insert_transition<'c, E>(
    executor: E,
    payment_id: &str,
    t: &Transition,
) -> Result<(), StoreError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO payment_transitions (payment_id, seq, from_state, to_state, detail, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payment_id)
    .bind(t.seq)
    .bind(t.from.map(|s| s.as_str()))
    .bind(t.to.as_str())
    .bind(&t.detail)
    .bind(t.at_ms)
    .execute(executor)
    .await?;
    Ok(())
}

/// A new payment's first transitions in one statement (it has two: RECEIVED, AUTHORIZING).
async fn insert_transitions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    payment_id: &str,
    transitions: &[Transition],
) -> Result<(), StoreError> {
    for chunk in transitions.chunks(TRANSITION_ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO payment_transitions (payment_id, seq, from_state, to_state, detail, \
             at_ms) VALUES ",
        );
        sql.push_str(&super::placeholders(chunk.len(), 6));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in chunk {
            query = query
                .bind(payment_id)
                .bind(t.seq)
                .bind(t.from.map(|s| s.as_str()))
                .bind(t.to.as_str())
                .bind(&t.detail)
                .bind(t.at_ms);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Transitions per INSERT, small for the same reason as the ledger's lines.
const TRANSITION_ROWS_PER_INSERT: usize = 8;

fn opt_value(m: Option<&kakehashi_adapter_core::Money>) -> Option<String> {
    m.map(|m| m.value_string())
}

fn opt_currency(m: Option<&kakehashi_adapter_core::Money>) -> Option<&'static str> {
    m.map(|m| m.currency_code())
}

#[async_trait]
impl Store for SqlStore {
    async fn sync_merchants(
        &self,
        merchants: &[MerchantRow],
        terminals: &[TerminalRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        stats::transaction_begun();
        for m in merchants {
            sqlx::query(
                "INSERT INTO merchants (merchant_id, name, category_code) VALUES ($1, $2, $3) \
                 ON CONFLICT (merchant_id) DO UPDATE SET name = $2, category_code = $3",
            )
            .bind(&m.merchant_id)
            .bind(&m.name)
            .bind(&m.category_code)
            .execute(&mut *tx)
            .await?;
        }
        for t in terminals {
            sqlx::query(
                "INSERT INTO terminals (terminal_id, merchant_id, store_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (terminal_id) DO UPDATE SET merchant_id = $2, store_id = $3",
            )
            .bind(&t.terminal_id)
            .bind(&t.merchant_id)
            .bind(&t.store_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        stats::committed();
        Ok(())
    }

    async fn insert_payment(
        &self,
        p: &PaymentRecord,
        transitions: &[Transition],
        lease_owner: &LeaseOwner,
        lease_until_ms: i64,
    ) -> Result<InsertPayment, StoreError> {
        let mut tx = self.pool.begin().await?;
        stats::transaction_begun();
        if !insert_payment_in(&mut tx, p, transitions, (lease_owner, lease_until_ms)).await? {
            tx.rollback().await?;
            let existing = self
                .payment_by_order(&p.merchant_id, p.merchant_order_id.as_str())
                .await?
                .ok_or(StoreError::Conflict)?;
            return Ok(InsertPayment::Existing(Box::new(existing)));
        }
        audit_sql::append(&mut tx, &facts::payment_transitions(p, transitions)).await?;
        tx.commit().await?;
        stats::committed();
        Ok(InsertPayment::Inserted)
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = self.pool.begin().await?;
        stats::transaction_begun();
        Ok(tx)
    }

    fn group(&self) -> &GroupCommit {
        &self.group
    }

    async fn payment(&self, payment_id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE payment_id = $1"
        ))
        .bind(payment_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    async fn payments_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE payment_id > $1 ORDER BY payment_id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn payment_by_order(
        &self,
        merchant_id: &str,
        merchant_order_id: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE merchant_id = $1 AND merchant_order_id = $2"
        ))
        .bind(merchant_id)
        .bind(merchant_order_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    async fn update_payment(
        &self,
        p: &PaymentRecord,
        transition: Option<&Transition>,
        effects: &Effects,
    ) -> Result<(), StoreError> {
        check_payment(p)?;
        let (p, transition, effects) = (p.clone(), transition.cloned(), effects.clone());
        self.group
            .run(move |tx, log| {
                Box::pin(async move {
                    write_payment(tx, &p).await?;
                    if let Some(t) = &transition {
                        insert_transition(&mut **tx, &p.payment_id, t).await?;
                        log.log(&[facts::payment_transition(&p, t)])?;
                    }
                    write_effects(tx, &effects).await?;
                    Ok(Keep::Commit(()))
                })
            })
            .await
    }

    async fn transitions(&self, payment_id: &str) -> Result<Vec<Transition>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, from_state, to_state, detail, at_ms FROM payment_transitions \
             WHERE payment_id = $1 ORDER BY seq",
        )
        .bind(payment_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(transition_from_row).collect()
    }

    async fn payments_in_doubt(
        &self,
        owner: &LeaseOwner,
        now_ms: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            " FROM payments WHERE state IN ('RECEIVED', 'AUTHORIZING', 'AWAITING_CUSTOMER', \
             'REVERSING') AND (lease_until_ms < $1 OR (lease_owner <> $4 AND \
             substr(lease_owner, 1, CAST($5 AS INTEGER)) = $6)) AND payment_id > $2 \
             ORDER BY payment_id LIMIT $3"
        ))
        .bind(now_ms)
        .bind(after)
        .bind(limit)
        .bind(owner.id())
        .bind(owner.name_prefix().len() as i64)
        .bind(owner.name_prefix())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn take_lease(
        &self,
        payment_id: &str,
        owner: &LeaseOwner,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        // The holder's own lease only grows: a call it has open may rely on the longer one.
        // Through the store's one writer, like every hot-path write: on SQLite a write
        // beside it would wait in the busy handler for the batch's lock.
        let (owner, payment_id) = (owner.clone(), payment_id.to_owned());
        self.group
            .run(move |tx, _log| {
                Box::pin(async move {
                    let taken = sqlx::query(
                        "UPDATE payments SET lease_owner = $1, lease_until_ms = CASE \
                         WHEN lease_owner = $1 AND lease_until_ms > $2 THEN lease_until_ms \
                         ELSE $2 END WHERE payment_id = $3 \
                         AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until_ms < $4 \
                         OR substr(lease_owner, 1, CAST($5 AS INTEGER)) = $6)",
                    )
                    .bind(owner.id())
                    .bind(until_ms)
                    .bind(&payment_id)
                    .bind(now_ms)
                    .bind(owner.name_prefix().len() as i64)
                    .bind(owner.name_prefix())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    Ok(Keep::Commit(taken == 1))
                })
            })
            .await
    }

    async fn release_lease(&self, payment_id: &str, owner: &LeaseOwner) -> Result<(), StoreError> {
        let (owner, payment_id) = (owner.clone(), payment_id.to_owned());
        self.group
            .run(move |tx, _log| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE payments SET lease_until_ms = 0 \
                         WHERE payment_id = $1 AND lease_owner = $2",
                    )
                    .bind(&payment_id)
                    .bind(owner.id())
                    .execute(&mut **tx)
                    .await?;
                    Ok(Keep::Commit(()))
                })
            })
            .await
    }

    async fn take_refund_lease(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let (owner, refund_id) = (owner.clone(), refund_id.to_owned());
        self.group
            .run(move |tx, _log| {
                Box::pin(async move {
                    let taken = sqlx::query(
                        "UPDATE refunds SET lease_owner = $1, lease_until_ms = CASE \
                         WHEN lease_owner = $1 AND lease_until_ms > $2 THEN lease_until_ms \
                         ELSE $2 END WHERE refund_id = $3 \
                         AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until_ms < $4 \
                         OR substr(lease_owner, 1, CAST($5 AS INTEGER)) = $6)",
                    )
                    .bind(owner.id())
                    .bind(until_ms)
                    .bind(&refund_id)
                    .bind(now_ms)
                    .bind(owner.name_prefix().len() as i64)
                    .bind(owner.name_prefix())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    Ok(Keep::Commit(taken == 1))
                })
            })
            .await
    }

    async fn release_refund_lease(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
    ) -> Result<(), StoreError> {
        let (owner, refund_id) = (owner.clone(), refund_id.to_owned());
        self.group
            .run(move |tx, _log| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE refunds SET lease_until_ms = 0 \
                         WHERE refund_id = $1 AND lease_owner = $2",
                    )
                    .bind(&refund_id)
                    .bind(owner.id())
                    .execute(&mut **tx)
                    .await?;
                    Ok(Keep::Commit(()))
                })
            })
            .await
    }

    async fn count_refund_send(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
    ) -> Result<Option<i64>, StoreError> {
        let (owner, refund_id) = (owner.clone(), refund_id.to_owned());
        self.group
            .run(move |tx, _log| {
                Box::pin(async move {
                    let count: Option<i64> = sqlx::query_scalar(
                        "UPDATE refunds SET send_count = send_count + 1 WHERE refund_id = $1 \
                         AND lease_owner = $2 AND state = 'PENDING' RETURNING send_count",
                    )
                    .bind(&refund_id)
                    .bind(owner.id())
                    .fetch_optional(&mut **tx)
                    .await?;
                    Ok(Keep::Commit(count))
                })
            })
            .await
    }

    async fn insert_refund(
        &self,
        r: &RefundRecord,
        lease: (&LeaseOwner, i64),
    ) -> Result<InsertRefund, StoreError> {
        /// Why a refund's insert wrote nothing.
        enum Refused {
            NotReserved,
            KeyTaken,
        }
        let (refund, owner, lease_until) = (r.clone(), lease.0.clone(), lease.1);
        let written = self
            .group
            .run(move |tx, log| {
                Box::pin(async move {
                    let r = &refund;
                    let reserved = sqlx::query(
                        "UPDATE payments SET refund_reserved_minor = refund_reserved_minor + $1, \
                         version = version + 1 WHERE payment_id = $2 AND currency = $3 \
                         AND state IN ('SUCCEEDED', 'PARTIALLY_REFUNDED') \
                         AND amount_minor - refunded_minor - refund_reserved_minor >= $1",
                    )
                    .bind(r.amount.minor())
                    .bind(&r.payment_id)
                    .bind(r.amount.currency_code())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if reserved == 0 {
                        return Ok(Keep::Undo(Err(Refused::NotReserved)));
                    }
                    if insert_refund_row(tx, r, (&owner, lease_until)).await? == 0 {
                        return Ok(Keep::Undo(Err(Refused::KeyTaken)));
                    }
                    log.log(&[facts::refund_transition(r, None)])?;
                    Ok(Keep::Commit(Ok(())))
                })
            })
            .await?;
        let existing = || self.refund_by_key(&r.merchant_id, r.merchant_refund_id.as_str());
        match written {
            Ok(()) => Ok(InsertRefund::Inserted),
            Err(Refused::NotReserved) => match existing().await? {
                Some(existing) => Ok(InsertRefund::Existing(Box::new(existing))),
                None => Ok(InsertRefund::NotRefundable),
            },
            Err(Refused::KeyTaken) => {
                let existing = existing().await?.ok_or(StoreError::Conflict)?;
                Ok(InsertRefund::Existing(Box::new(existing)))
            }
        }
    }

    async fn refund_by_key(
        &self,
        merchant_id: &str,
        merchant_refund_id: &str,
    ) -> Result<Option<RefundRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            refund_columns!(),
            " FROM refunds WHERE merchant_id = $1 AND merchant_refund_id = $2"
        ))
        .bind(merchant_id)
        .bind(merchant_refund_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(refund_from_row).transpose()
    }

    async fn refunds_for_payment(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            refund_columns!(),
            " FROM refunds WHERE payment_id = $1 ORDER BY created_at_ms, refund_id"
        ))
        .bind(payment_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(refund_from_row).collect()
    }

    async fn pending_refunds(
        &self,
        owner: &LeaseOwner,
        now_ms: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RefundRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            refund_columns!(),
            " FROM refunds WHERE state = 'PENDING' AND refund_id > $1 AND (lease_until_ms < $3 \
             OR (lease_owner <> $4 AND substr(lease_owner, 1, CAST($5 AS INTEGER)) = $6)) \
             ORDER BY refund_id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .bind(now_ms)
        .bind(owner.id())
        .bind(owner.name_prefix().len() as i64)
        .bind(owner.name_prefix())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(refund_from_row).collect()
    }

    async fn update_payment_with_refund(
        &self,
        p: &PaymentRecord,
        transition: &Transition,
        r: &RefundRecord,
        lease: (&LeaseOwner, i64),
        effects: &Effects,
    ) -> Result<(), StoreError> {
        check_payment(p)?;
        let (p, transition, r) = (p.clone(), transition.clone(), r.clone());
        let (owner, lease_until, effects) = (lease.0.clone(), lease.1, effects.clone());
        self.group
            .run(move |tx, log| {
                Box::pin(async move {
                    write_payment(tx, &p).await?;
                    insert_transition(&mut **tx, &p.payment_id, &transition).await?;
                    if insert_refund_row(tx, &r, (&owner, lease_until)).await? == 0 {
                        return Err(StoreError::Conflict);
                    }
                    write_effects(tx, &effects).await?;
                    log.log(&[
                        facts::payment_transition(&p, &transition),
                        facts::refund_transition(&r, None),
                    ])?;
                    Ok(Keep::Commit(()))
                })
            })
            .await
    }

    async fn finish_refund(
        &self,
        r: &RefundRecord,
        p: &PaymentRecord,
        transition: Option<&Transition>,
        effects: &Effects,
    ) -> Result<(), StoreError> {
        check_payment(p)?;
        let (r, p, transition, effects) =
            (r.clone(), p.clone(), transition.cloned(), effects.clone());
        self.group
            .run(move |tx, log| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE refunds SET state = $1, network_refund_id = $2, \
                         decline_reason = $3, network_code = $4, updated_at_ms = $5 \
                         WHERE refund_id = $6 AND state = 'PENDING'",
                    )
                    .bind(r.state.as_str())
                    .bind(&r.network_refund_id)
                    .bind(r.decline_reason.map(|d| d.as_str()))
                    .bind(&r.network_code)
                    .bind(r.updated_at_ms)
                    .bind(&r.refund_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(conflict_if_unique_violation)?
                    .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::Conflict);
                    }
                    write_payment(tx, &p).await?;
                    log.log(&[facts::refund_transition(&r, Some(RefundState::Pending))])?;
                    if let Some(t) = &transition {
                        insert_transition(&mut **tx, &p.payment_id, t).await?;
                        log.log(&[facts::payment_transition(&p, t)])?;
                    }
                    write_effects(tx, &effects).await?;
                    Ok(Keep::Commit(()))
                })
            })
            .await
    }
}

/// Stores a new payment, leased, and its first transitions inside `tx`, unless the merchant
/// already used its order id: `false` then, and nothing was written (roll `tx` back).
pub async fn insert_payment_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    p: &PaymentRecord,
    transitions: &[Transition],
    (lease_owner, lease_until_ms): (&LeaseOwner, i64),
) -> Result<bool, StoreError> {
    check_payment(p)?;
    let inserted = sqlx::query(
        "INSERT INTO payments (payment_id, merchant_id, terminal_id, merchant_order_id, \
         request_hash, kind, amount_minor, amount_value, currency, description, code_masked, \
         network, state, qr_payload, refunded_minor, refund_reserved_minor, created_at_ms, \
         updated_at_ms, deadline_at_ms, reverse_attempts, version, lease_owner, lease_until_ms, \
         wallet_brand, fx_quote_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, 0, $15, $16, \
         $17, 0, $18, $20, $21, $19, $22) ON CONFLICT (merchant_id, merchant_order_id) DO NOTHING",
    )
    .bind(&p.payment_id)
    .bind(&p.merchant_id)
    .bind(&p.terminal_id)
    .bind(p.merchant_order_id.as_str())
    .bind(&p.request_hash)
    .bind(p.kind.as_str())
    .bind(p.amount.minor())
    .bind(p.amount.value_string())
    .bind(p.amount.currency_code())
    .bind(&p.description)
    .bind(&p.code_masked)
    .bind(&p.network)
    .bind(p.state.as_str())
    .bind(&p.qr_payload)
    .bind(p.created_at_ms)
    .bind(p.updated_at_ms)
    .bind(p.deadline_at_ms)
    .bind(p.version)
    .bind(&p.wallet_brand)
    .bind(lease_owner.id())
    .bind(lease_until_ms)
    .bind(&p.fx_quote_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    insert_transitions(tx, &p.payment_id, transitions).await?;
    Ok(true)
}

/// Posts the ledger entries and records the settlement facts a state change caused, inside
/// its transaction. A fact already recorded (a retried change) is not recorded twice; an
/// entry already posted is a `Conflict`, so the caller reloads and decides again.
pub async fn write_effects(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    effects: &Effects,
) -> Result<(), StoreError> {
    for entry in &effects.journal {
        crate::settlement::ledger::sql::post(tx, entry).await?;
    }
    for fact in &effects.facts {
        crate::settlement::sql::record_fact(&mut **tx, fact).await?;
    }
    if let Some(row) = &effects.quote_comparison {
        crate::fx::sql::insert_comparison(&mut **tx, &row.payment_id, &row.comparison, row.at_ms)
            .await?;
    }
    Ok(())
}

/// A unique index refused the write: another record holds that key.
fn conflict_if_unique_violation(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Database(e),
    }
}

/// Inserts a refund row, leased, unless its key is taken; returns the rows inserted (0 or 1).
async fn insert_refund_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &RefundRecord,
    (owner, lease_until_ms): (&LeaseOwner, i64),
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO refunds (refund_id, merchant_id, merchant_refund_id, payment_id, \
         request_hash, amount_minor, amount_value, currency, reason, state, created_at_ms, \
         updated_at_ms, send_count, lease_owner, lease_until_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14) \
         ON CONFLICT (merchant_id, merchant_refund_id) DO NOTHING",
    )
    .bind(&r.refund_id)
    .bind(&r.merchant_id)
    .bind(r.merchant_refund_id.as_str())
    .bind(&r.payment_id)
    .bind(&r.request_hash)
    .bind(r.amount.minor())
    .bind(r.amount.value_string())
    .bind(r.amount.currency_code())
    .bind(&r.reason)
    .bind(r.state.as_str())
    .bind(r.created_at_ms)
    .bind(r.updated_at_ms)
    .bind(owner.id())
    .bind(lease_until_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Writes every mutable column of a payment if its stored version is `p.version - 1`.
async fn write_payment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    p: &PaymentRecord,
) -> Result<(), StoreError> {
    let wallet = p.wallet_amount.as_ref();
    let quote = p.settlement_quote.as_ref();
    let settlement = quote.and_then(|q| q.settlement_amount.as_ref());
    let updated = sqlx::query(
        "UPDATE payments SET state = $1, wallet_brand = $2, decline_reason = $3, \
         network_code = $4, network_txn_id = $5, wallet_amount_value = $6, wallet_currency = $7, \
         wallet_rate = $8, quote_id = $9, quote_pair = $10, quote_price = $11, \
         quote_settlement_value = $12, quote_settlement_currency = $13, quote_expires_at_ms = $14, \
         qr_payload = $15, refunded_minor = $16, refund_reserved_minor = $17, updated_at_ms = $18, \
         deadline_at_ms = $19, reverse_attempts = $20, version = $21, \
         lease_until_ms = CASE WHEN $24 = 1 THEN 0 ELSE lease_until_ms END \
         WHERE payment_id = $22 AND version = $23",
    )
    .bind(p.state.as_str())
    .bind(&p.wallet_brand)
    .bind(p.decline_reason.map(|d| d.as_str()))
    .bind(&p.network_code)
    .bind(&p.network_txn_id)
    .bind(opt_value(wallet.map(|w| &w.amount)))
    .bind(opt_currency(wallet.map(|w| &w.amount)))
    .bind(wallet.and_then(|w| w.rate).map(|r| r.to_string()))
    .bind(quote.map(|q| q.quote_id.clone()))
    .bind(quote.map(|q| q.currency_pair.clone()))
    .bind(quote.map(|q| q.price.to_string()))
    .bind(opt_value(settlement))
    .bind(opt_currency(settlement))
    .bind(quote.and_then(|q| q.expires_at_ms))
    .bind(&p.qr_payload)
    .bind(p.refunded_minor)
    .bind(p.refund_reserved_minor)
    .bind(p.updated_at_ms)
    .bind(p.deadline_at_ms)
    .bind(p.reverse_attempts)
    .bind(p.version)
    .bind(&p.payment_id)
    .bind(p.version - 1)
    // A settled payment needs no driver: its final write lets go of the lease, so the
    // driver does not spend another commit on it.
    .bind(i64::from(!p.state.is_in_doubt()))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}
