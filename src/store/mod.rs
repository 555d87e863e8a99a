//! Durable state behind one trait: SQLite (the embedded default) and PostgreSQL
//! (several replicas) share one SQL implementation over sqlx's Any driver.
//!
//! Every method commits before it returns: when the orchestrator hears `Ok`, the change
//! survives a crash. Changes to a payment are optimistic: the caller names the version it
//! read, and a concurrent change makes the write fail with [`StoreError::Conflict`].
pub mod audit_sql;
pub mod group;
pub mod partner_sql;
mod rows;
mod rules_sql;
mod schema;
mod sql;
pub mod stats;

use async_trait::async_trait;

use crate::domain::{PaymentRecord, RefundRecord, Transition};

pub use rules_sql::{
    VelocityTotals, insert_velocity_event, lock_velocity_key, prune_velocity, rule_set,
    rule_set_versions, save_rule_set, velocity_totals,
};
pub use sql::{SqlStore, insert_payment_in, write_effects};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the record changed concurrently")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row no longer parses into a valid record: corruption or a bug.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("migration {version} failed: {detail}")]
    Migration { version: i64, detail: String },
    /// A batched write could not be stored: its batch did not start or commit, or the
    /// writer stopped. Nothing of the write is stored.
    #[error("store write failed: {0}")]
    Batch(String),
}

/// A merchant as configured, mirrored into the store so records can reference it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    pub merchant_id: String,
    pub name: String,
    pub category_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalRow {
    pub terminal_id: String,
    pub merchant_id: String,
    pub store_id: String,
}

/// What else a state change writes, in its own transaction: the ledger entries it posts and
/// the settlement facts it records. Built by the orchestrator before the write; written all
/// or nothing with the change.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub journal: Vec<crate::settlement::ledger::JournalEntry>,
    pub facts: Vec<crate::settlement::SettledPaymentFact>,
    /// A quoted payment's capture: our quote against the network's conversion.
    pub quote_comparison: Option<QuoteComparisonRow>,
}

/// How a payment's capture compares with the quote `Pay` named, recorded with the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteComparisonRow {
    pub payment_id: String,
    pub comparison: crate::fx::QuoteComparison,
    pub at_ms: i64,
}

impl Effects {
    pub fn none() -> Self {
        Self::default()
    }
}

/// Who holds a driver lease: the instance's configured name and this process's boot. Each
/// running process has its own name, so a new boot of a name knows every older boot of it
/// is dead and takes their leases at once, instead of waiting out calls nobody can hear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOwner {
    /// `<name>/`: every boot of this name.
    name_prefix: String,
    /// `<name>/<boot>`: this boot, as stored in `lease_owner`.
    id: String,
}

impl LeaseOwner {
    /// `name` is `[A-Za-z0-9.-]`, checked by the config; `boot` is fresh per process.
    pub fn new(name: &str, boot: &str) -> Self {
        Self {
            name_prefix: format!("{name}/"),
            id: format!("{name}/{boot}"),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name_prefix(&self) -> &str {
        &self.name_prefix
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertPayment {
    Inserted,
    /// The merchant already used this `merchant_order_id`; here is what it stored.
    Existing(Box<PaymentRecord>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertRefund {
    /// Stored as pending and its amount reserved against the payment.
    Inserted,
    Existing(Box<RefundRecord>),
    /// The payment is not refundable now, or the amount exceeds what remains.
    NotRefundable,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Mirrors the configured merchants and terminals (insert or update).
    async fn sync_merchants(
        &self,
        merchants: &[MerchantRow],
        terminals: &[TerminalRow],
    ) -> Result<(), StoreError>;

    /// Stores a new payment and its first transitions in one commit, unless the merchant
    /// already used the order id. The payment is born leased to `lease_owner` until
    /// `lease_until_ms`, so no recovery pass (here or on another instance) takes it over
    /// before its own driver has sent it.
    async fn insert_payment(
        &self,
        payment: &PaymentRecord,
        transitions: &[Transition],
        lease_owner: &LeaseOwner,
        lease_until_ms: i64,
    ) -> Result<InsertPayment, StoreError>;

    /// A transaction for writes that must commit together (a payment with its velocity
    /// counts, routing decision and audit entries); see `sql::insert_payment_in`. Nothing
    /// is durable until the caller commits.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError>;

    /// The writer whose batches share one commit among concurrent writes (see
    /// [`group`]): for hot-path writes that run inside a store transaction of their own.
    fn group(&self) -> &group::GroupCommit;

    async fn payment(&self, payment_id: &str) -> Result<Option<PaymentRecord>, StoreError>;

    /// Every payment by payment id after `after` (`""` from the start), at most `limit`:
    /// for checkers and reports that read the whole book.
    async fn payments_page(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError>;

    async fn payment_by_order(
        &self,
        merchant_id: &str,
        merchant_order_id: &str,
    ) -> Result<Option<PaymentRecord>, StoreError>;

    /// Writes `payment` (with `version` already incremented by one) if the stored version
    /// is `payment.version - 1`, and appends `transition` in the same commit.
    async fn update_payment(
        &self,
        payment: &PaymentRecord,
        transition: Option<&Transition>,
        effects: &Effects,
    ) -> Result<(), StoreError>;

    async fn transitions(&self, payment_id: &str) -> Result<Vec<Transition>, StoreError>;

    /// Payments whose outcome is not known (AUTHORIZING, AWAITING_CUSTOMER, REVERSING)
    /// and whose driver lease has expired, by payment id after `after` (`""` from the
    /// start): recovery pages through them all, so a few stuck ones cannot hide the rest.
    /// Leases held by an older boot of `owner`'s name count as expired.
    async fn payments_in_doubt(
        &self,
        owner: &LeaseOwner,
        now_ms: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError>;

    /// Takes or extends the right to drive a payment until `until_ms`. Another instance's
    /// unexpired lease makes this return `false`; an older boot of `owner`'s own name is
    /// dead, so its lease is taken at once. The holder's own lease is never shortened: it
    /// may cover a network call still open, whose answer only the holder can hear.
    async fn take_lease(
        &self,
        payment_id: &str,
        owner: &LeaseOwner,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Ends `owner`'s lease at once (its driver has stopped and has no call open), so
    /// recovery anywhere may take the payment up. Another owner's lease is left alone.
    async fn release_lease(&self, payment_id: &str, owner: &LeaseOwner) -> Result<(), StoreError>;

    /// Stores a pending refund and reserves its amount against the payment in one commit.
    /// The refund is born leased to `lease.0` until `lease.1`, as new payments are.
    async fn insert_refund(
        &self,
        refund: &RefundRecord,
        lease: (&LeaseOwner, i64),
    ) -> Result<InsertRefund, StoreError>;

    /// Takes or extends the right to drive a refund, with the rules of `take_lease`.
    async fn take_refund_lease(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    async fn release_refund_lease(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
    ) -> Result<(), StoreError>;

    /// Counts one more send of a pending refund `owner` holds the lease of, durably, before
    /// the send: the new count, or `None` if the refund is no longer pending or leased to
    /// `owner` (then it must not be sent).
    async fn count_refund_send(
        &self,
        refund_id: &str,
        owner: &LeaseOwner,
    ) -> Result<Option<i64>, StoreError>;

    async fn refund_by_key(
        &self,
        merchant_id: &str,
        merchant_refund_id: &str,
    ) -> Result<Option<RefundRecord>, StoreError>;

    async fn refunds_for_payment(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError>;

    /// Pending refunds whose lease has expired (or is held by an older boot of `owner`'s
    /// name), by refund id after `after` (`""` from the start), paged as
    /// `payments_in_doubt`.
    async fn pending_refunds(
        &self,
        owner: &LeaseOwner,
        now_ms: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RefundRecord>, StoreError>;

    /// Writes a payment (optimistic, as `update_payment`, with its refund reservation already
    /// counted in `payment`), its transition and a new pending refund in one commit: a
    /// refused reversal turned into a refund is never half-written. `Conflict` if the payment
    /// changed or the refund's key is taken.
    async fn update_payment_with_refund(
        &self,
        payment: &PaymentRecord,
        transition: &Transition,
        refund: &RefundRecord,
        lease: (&LeaseOwner, i64),
        effects: &Effects,
    ) -> Result<(), StoreError>;

    /// Settles a pending refund and writes the payment it changed (optimistic, as
    /// `update_payment`) in one commit. `Conflict` also when the network refund id is
    /// already another refund's of this payment.
    async fn finish_refund(
        &self,
        refund: &RefundRecord,
        payment: &PaymentRecord,
        transition: Option<&Transition>,
        effects: &Effects,
    ) -> Result<(), StoreError>;
}

/// `($1, $2), ($3, $4), ...` for `rows` rows of `columns` parameters.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
