//! Velocity counting for the per-code and per-terminal limits.
//!
//! A payment code is never stored or logged: it is counted under its *code key*,
//! HMAC-SHA256 over the full code with `[compliance] velocity_key`, in hex. The code key
//! lives only in the velocity tables; decisions hold the masked code and the counts.
//!
//! At decision time the counts are read ([`VelocityCounter`], [`observe`]); a payment that
//! is stored is counted ([`record`]) in the same transaction as its insert, so a crash can
//! neither count a payment that does not exist nor forget one that does. [`observe_locked`]
//! reads inside that transaction after locking the keys, so two payments under one key are
//! decided one after the other and the second sees the first.
use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use iso_currency::Currency;
use kakehashi_adapter_core::{Money, PaymentCode};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use sqlx::{Any, AnyPool, Transaction};

use super::rules::{RuleSet, VelocityObserved, WindowCount};
use crate::store::{self, StoreError, VelocityTotals};

/// Domain separation: a code key can never equal an HMAC the same key makes elsewhere.
const CODE_KEY_CONTEXT: &[u8] = b"kakehashi velocity code v1\n";

/// What a velocity count is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Code,
    Terminal,
}

/// HMAC-SHA256 of a payment code under the velocity key, in hex. Not the code, but still
/// kept out of logs: its `Debug` shows only a prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeKey(String);

/// Makes code keys. Holds the keyed HMAC state, never prints the key.
#[derive(Clone)]
pub struct VelocityKeyer {
    mac: Hmac<Sha256>,
}

/// Reads the counts of one key in one window as of a time. Implemented over the pool
/// ([`PoolCounter`]) and inside a transaction ([`TxCounter`]).
#[async_trait]
pub trait VelocityCounter: Send {
    /// Payments counted under `(kind, key)` with `since_ms < at_ms <= until_ms`, and the
    /// sum of those in `currency`, in minor units.
    async fn totals(
        &mut self,
        kind: KeyKind,
        key: &str,
        since_ms: i64,
        until_ms: i64,
        currency: Currency,
    ) -> Result<VelocityTotals, StoreError>;
}

/// Counts read over the pool: each read is its own statement, with no lock.
#[derive(Debug, Clone)]
pub struct PoolCounter {
    pub pool: AnyPool,
}

/// Counts read inside the caller's transaction.
pub struct TxCounter<'t, 'c> {
    pub tx: &'t mut Transaction<'c, Any>,
}

// === impl KeyKind ===

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Code => "code",
            KeyKind::Terminal => "terminal",
        }
    }
}

// === impl CodeKey ===

impl CodeKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeKey({}…)", self.0.get(..8).unwrap_or(""))
    }
}

// === impl VelocityKeyer ===

impl VelocityKeyer {
    pub fn new(key: &SecretString) -> VelocityKeyer {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
            .expect("HMAC takes a key of any length");
        VelocityKeyer { mac }
    }

    pub fn code_key(&self, code: &PaymentCode) -> CodeKey {
        let mut mac = self.mac.clone();
        mac.update(CODE_KEY_CONTEXT);
        mac.update(code.expose().as_bytes());
        CodeKey(hex::encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for VelocityKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VelocityKeyer(..)")
    }
}

// === impl PoolCounter ===

#[async_trait]
impl VelocityCounter for PoolCounter {
    async fn totals(
        &mut self,
        kind: KeyKind,
        key: &str,
        since_ms: i64,
        until_ms: i64,
        currency: Currency,
    ) -> Result<VelocityTotals, StoreError> {
        store::velocity_totals(
            &self.pool,
            kind.as_str(),
            key,
            since_ms,
            until_ms,
            currency.code(),
        )
        .await
    }
}

// === impl TxCounter ===

#[async_trait]
impl VelocityCounter for TxCounter<'_, '_> {
    async fn totals(
        &mut self,
        kind: KeyKind,
        key: &str,
        since_ms: i64,
        until_ms: i64,
        currency: Currency,
    ) -> Result<VelocityTotals, StoreError> {
        store::velocity_totals(
            &mut **self.tx,
            kind.as_str(),
            key,
            since_ms,
            until_ms,
            currency.code(),
        )
        .await
    }
}

/// The counts the rule set's velocity limits need for one payment, as of `at_ms`, in the
/// payment's `currency`. Without a code key (a merchant-presented QR) no code window is
/// read.
pub async fn observe(
    counter: &mut dyn VelocityCounter,
    rules: &RuleSet,
    code_key: Option<&CodeKey>,
    terminal_id: &str,
    at_ms: i64,
    currency: Currency,
) -> Result<VelocityObserved, StoreError> {
    let mut observed = VelocityObserved::default();
    if let Some(code_key) = code_key {
        for window_ms in rules.code_windows_ms() {
            let seen = window(
                counter,
                KeyKind::Code,
                code_key.as_str(),
                window_ms,
                at_ms,
                currency,
            );
            observed.code.push(seen.await?);
        }
    }
    for window_ms in rules.terminal_windows_ms() {
        let seen = window(
            counter,
            KeyKind::Terminal,
            terminal_id,
            window_ms,
            at_ms,
            currency,
        );
        observed.terminal.push(seen.await?);
    }
    Ok(observed)
}

async fn window(
    counter: &mut dyn VelocityCounter,
    kind: KeyKind,
    key: &str,
    window_ms: u64,
    at_ms: i64,
    currency: Currency,
) -> Result<WindowCount, StoreError> {
    let since_ms = at_ms.saturating_sub(i64::try_from(window_ms).unwrap_or(i64::MAX));
    let totals = counter.totals(kind, key, since_ms, at_ms, currency).await?;
    Ok(WindowCount {
        window_ms,
        count: u64::try_from(totals.count).unwrap_or(0),
        sum: (currency, totals.amount_minor),
    })
}

/// [`observe`] inside `tx`, after locking the terminal's key and then the code's (always in
/// that order, so two transactions cannot deadlock on them). Until `tx` ends, another
/// payment under either key waits, and then counts this one if it was recorded.
pub async fn observe_locked(
    tx: &mut Transaction<'_, Any>,
    rules: &RuleSet,
    code_key: Option<&CodeKey>,
    terminal_id: &str,
    at_ms: i64,
    currency: Currency,
) -> Result<VelocityObserved, StoreError> {
    if !rules.terminal_windows_ms().is_empty() {
        store::lock_velocity_key(tx, KeyKind::Terminal.as_str(), terminal_id, at_ms).await?;
    }
    if let Some(code_key) = code_key.filter(|_| rules.has_code_limits()) {
        store::lock_velocity_key(tx, KeyKind::Code.as_str(), code_key.as_str(), at_ms).await?;
    }
    let mut counter = TxCounter { tx };
    observe(&mut counter, rules, code_key, terminal_id, at_ms, currency).await
}

/// Counts a stored payment under its code key (if any) and its terminal. Call in the
/// transaction that inserts the payment.
pub async fn record(
    tx: &mut Transaction<'_, Any>,
    code_key: Option<&CodeKey>,
    terminal_id: &str,
    at_ms: i64,
    amount: &Money,
) -> Result<(), StoreError> {
    let (minor, currency) = (amount.minor(), amount.currency_code());
    if let Some(code_key) = code_key {
        let key = code_key.as_str();
        store::insert_velocity_event(tx, KeyKind::Code.as_str(), key, at_ms, minor, currency)
            .await?;
    }
    store::insert_velocity_event(
        tx,
        KeyKind::Terminal.as_str(),
        terminal_id,
        at_ms,
        minor,
        currency,
    )
    .await
}

/// Deletes velocity events no window of `rules` can see any more as of `now_ms`, keeping at
/// least `retain_ms_min` (so a rule set that lengthens a window after a restart still finds
/// recent history). Returns the events deleted.
pub async fn prune(
    pool: &AnyPool,
    rules: &RuleSet,
    now_ms: i64,
    retain_ms_min: u64,
) -> Result<u64, StoreError> {
    let keep_ms = rules.velocity_window_ms_max().max(retain_ms_min);
    let before_ms = now_ms.saturating_sub(i64::try_from(keep_ms).unwrap_or(i64::MAX));
    store::prune_velocity(pool, before_ms).await
}
