//! The orchestrator: idempotency, routing, durable state before every network call, the
//! per-payment deadline, query on doubt, reversal at the deadline, refund bookkeeping.
//!
//! The store is the source of truth. In-memory maps here are caches of who is working on
//! what (drivers, watchers); losing them loses nothing, because recovery rebuilds the work
//! from the store.
mod admit;
mod alarms;
mod books;
mod cancel;
mod commands;
mod driver;
mod error;
mod lease;
mod partner;
mod pay;
mod quote;
mod recovery;
mod refund;
mod reverse;
mod view;
mod watch;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use dashmap::DashMap;
use kakehashi_adapter_core::{Clock, MerchantRef};
use tokio::sync::{Notify, Semaphore};

use crate::config::Limits;
use crate::domain::{PaymentRecord, PaymentState, Transition};
use crate::networks::Networks;
use crate::store::{Effects, LeaseOwner, Store, StoreError};

pub use commands::content_hash;
pub use commands::{
    Caller, CancelCommand, MerchantQrCommand, PayCommand, QuoteCommand, RefundCommand,
};
pub use error::{PayError, Unsupported};
pub use partner::{
    CodeIssuer, Notification, NotifiedOutcome, NotifyAnswer, NotifyError, PartnerCharge,
    SwitchCodeError, code_reference, merchant_code_terminal, partner_order_id,
};
pub use quote::{FxView, QuoteRefusal};
pub use refund::SWITCH_REFUND_PREFIX;
pub use view::PaymentView;

/// What the orchestrator knows about a merchant from config.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub category_code: String,
    pub networks: Vec<String>,
    pub network_ids: BTreeMap<String, String>,
    /// The store each of the merchant's terminals stands in (terminal id -> store id), sent
    /// to networks that have a store field.
    pub stores: BTreeMap<String, String>,
}

/// What the orchestrator is built from.
pub struct Setup {
    pub store: Arc<dyn Store>,
    pub networks: Networks,
    pub clock: Arc<dyn Clock>,
    pub merchants: Vec<Merchant>,
    pub limits: Limits,
    pub compliance: crate::routing::Compliance,
    /// Each network's business-day cut-off (JST), for dating ledger entries; a network not
    /// listed closes its day at midnight JST.
    pub cutoffs: BTreeMap<String, crate::settlement::Cutoff>,
    /// Must differ between processes sharing one store (see [`LeaseOwner`]).
    pub instance_name: String,
    /// The configured rates and each network's markup, rounding and quote lifetime; rates
    /// stored since (the partner feed, the networks' applied ones) join it per quote.
    pub fx: crate::fx::RateBook,
}

#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    networks: Networks,
    /// The rule set every payment is decided under, and the key codes are counted by.
    compliance: crate::routing::Compliance,
    cutoffs: BTreeMap<String, crate::settlement::Cutoff>,
    fx: crate::fx::RateBook,
    clock: Arc<dyn Clock>,
    merchants: BTreeMap<String, Merchant>,
    limits: Limits,
    /// This instance's name and boot on driver leases.
    owner: LeaseOwner,
    /// Payments this instance is driving, with a bell to ring when the terminal cancels.
    active: DashMap<String, Arc<Notify>>,
    /// When each pending refund was last sent and may be sent again (see `refund.rs`).
    refund_sends: DashMap<String, refund::RefundSends>,
    /// Where the next recovery pass resumes paging payments in doubt and pending refunds.
    recovery_cursors: std::sync::Mutex<recovery::Cursors>,
    /// Latest view of each payment being driven, for WatchPayment and waiting callers.
    watchers: DashMap<String, tokio::sync::watch::Sender<PaymentView>>,
    in_flight: Arc<Semaphore>,
    watch_slots: Arc<Semaphore>,
    alarms: alarms::Alarms,
    /// Partner payments on static codes, for tills watching their code (`partner.rs`).
    arrivals: tokio::sync::broadcast::Sender<partner::StaticArrival>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("lease_owner", &self.inner.owner.id())
            .finish()
    }
}

// === impl Payments ===

impl Payments {
    /// Each call starts a new boot of `setup.instance_name` (see [`LeaseOwner`]).
    pub fn new(setup: Setup) -> Self {
        let Setup {
            store,
            networks,
            clock,
            merchants,
            limits,
            compliance,
            cutoffs,
            instance_name,
            fx,
        } = setup;
        let inner = Inner {
            store,
            networks,
            compliance,
            cutoffs,
            fx,
            clock,
            merchants: merchants.into_iter().map(|m| (m.id.clone(), m)).collect(),
            owner: LeaseOwner::new(&instance_name, &crate::domain::new_id("boot")),
            active: DashMap::new(),
            refund_sends: DashMap::new(),
            recovery_cursors: std::sync::Mutex::new(recovery::Cursors::default()),
            watchers: DashMap::new(),
            in_flight: Arc::new(Semaphore::new(limits.payments_in_flight_max)),
            watch_slots: Arc::new(Semaphore::new(limits.watchers_max)),
            alarms: alarms::Alarms::new(),
            arrivals: tokio::sync::broadcast::channel(partner::ARRIVALS_BUFFERED).0,
            limits,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn networks(&self) -> &Networks {
        &self.inner.networks
    }

    /// Operator alarms logged since start (each subject once per repeat interval).
    pub fn operator_alarms(&self) -> u64 {
        self.inner.alarms.raised()
    }

    fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn merchant(&self, merchant_id: &str) -> Result<&Merchant, PayError> {
        self.inner
            .merchants
            .get(merchant_id)
            .ok_or_else(|| PayError::Internal(format!("merchant {merchant_id} not configured")))
    }

    fn merchant_ref(&self, payment: &PaymentRecord) -> MerchantRef {
        let merchant = self.inner.merchants.get(&payment.merchant_id);
        MerchantRef {
            merchant_id: payment.merchant_id.clone(),
            network_merchant_id: merchant
                .and_then(|m| m.network_ids.get(&payment.network).cloned()),
            name: merchant.map(|m| m.name.clone()).unwrap_or_default(),
            category_code: merchant
                .map(|m| m.category_code.clone())
                .unwrap_or_default(),
            store_id: merchant
                .and_then(|m| m.stores.get(&payment.terminal_id).cloned())
                .unwrap_or_default(),
            terminal_id: payment.terminal_id.clone(),
        }
    }

    /// Applies `event` to the payment, stores it with a transition, and tells watchers.
    /// `mutate` sets the record's other fields. On a concurrent change, returns `Conflict`
    /// and the caller reloads.
    async fn transition(
        &self,
        payment: &mut PaymentRecord,
        event: crate::domain::Event,
        detail: String,
        mutate: impl FnOnce(&mut PaymentRecord),
    ) -> Result<(), PayError> {
        let (next, record, effects, history) =
            self.next_state(payment, event, detail, mutate).await?;
        self.inner
            .store
            .update_payment(&next, Some(&record), &effects)
            .await?;
        self.commit_transition(payment, next, &record, history)
            .await;
        Ok(())
    }

    /// `transition` that also stores a new pending refund, with its amount reserved, in the
    /// same commit.
    async fn transition_with_refund(
        &self,
        payment: &mut PaymentRecord,
        event: crate::domain::Event,
        detail: String,
        paid: &kakehashi_adapter_core::Paid,
        (refund, lease_until): (&crate::domain::RefundRecord, i64),
    ) -> Result<(), PayError> {
        let (next, record, effects, history) = self
            .next_state(payment, event, detail, |p| {
                p.record_paid(paid);
                p.refund_reserved_minor += refund.amount.minor();
            })
            .await?;
        let lease = (&self.inner.owner, lease_until);
        self.inner
            .store
            .update_payment_with_refund(&next, &record, refund, lease, &effects)
            .await?;
        self.commit_transition(payment, next, &record, history)
            .await;
        Ok(())
    }

    /// The record after `event` (version and time bumped), its transition row, the money
    /// it books, and the history it follows.
    async fn next_state(
        &self,
        payment: &PaymentRecord,
        event: crate::domain::Event,
        detail: String,
        mutate: impl FnOnce(&mut PaymentRecord),
    ) -> Result<(PaymentRecord, Transition, Effects, Vec<Transition>), PayError> {
        let from = payment.state;
        let to = from
            .apply(event)
            .map_err(|e| PayError::Internal(e.to_string()))?;
        let mut next = payment.clone();
        mutate(&mut next);
        next.state = to;
        next.version += 1;
        next.updated_at_ms = self.now_ms();
        let history = match self.known_history(payment) {
            Some(known) => known,
            None => self.inner.store.transitions(&payment.payment_id).await?,
        };
        let record = Transition {
            seq: history.len() as i64 + 1,
            from: Some(from),
            to,
            detail,
            at_ms: next.updated_at_ms,
        };
        let mut effects = self.payment_effects(&history, event, &next)?;
        if effects
            .facts
            .iter()
            .any(|f| f.kind == crate::settlement::FactKind::Payment)
        {
            effects.quote_comparison = self.capture_comparison(&next).await?;
        }
        Ok((next, record, effects, history))
    }

    /// After the store committed: the caller's copy becomes the new record; watchers hear.
    /// `history`: the stored transitions before `record`, so watchers' view is built
    /// without reading them again.
    async fn commit_transition(
        &self,
        payment: &mut PaymentRecord,
        next: PaymentRecord,
        record: &Transition,
        mut history: Vec<Transition>,
    ) {
        *payment = next;
        tracing::info!(payment_id = %payment.payment_id, network = %payment.network, from = record.from.map_or("", |s| s.as_str()), to = %record.to, "Payment transition");
        history.push(record.clone());
        // A payment has refunds only once it has succeeded: leaving a state before that,
        // it has none to read.
        let never_succeeded = matches!(
            record.from,
            None | Some(PaymentState::Received)
                | Some(PaymentState::Authorizing)
                | Some(PaymentState::AwaitingCustomer)
        );
        self.publish_with(payment, Some(history), never_succeeded.then(Vec::new))
            .await;
    }

    /// Stores field changes that do not change the state.
    async fn save(&self, payment: &mut PaymentRecord) -> Result<(), PayError> {
        let mut next = payment.clone();
        next.version += 1;
        next.updated_at_ms = self.now_ms();
        self.inner
            .store
            .update_payment(&next, None, &Effects::none())
            .await?;
        *payment = next;
        self.publish(payment).await;
        Ok(())
    }

    async fn reload(&self, payment_id: &str) -> Result<PaymentRecord, PayError> {
        self.inner
            .store
            .payment(payment_id)
            .await?
            .ok_or_else(|| PayError::Internal(format!("payment {payment_id} vanished")))
    }
}

impl From<StoreError> for PayError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => PayError::Conflict,
            other => PayError::Store(other.to_string()),
        }
    }
}
