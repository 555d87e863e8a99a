//! Which instance drives a payment. One driver per payment per instance (the `active` map),
//! and across instances the store lease. The rule that keeps a late answer from being lost:
//! before every network call the driver holds the lease for as long as that call may stay
//! open plus a margin, so no other instance takes the payment over while its holder can
//! still hear the network's answer. The lease only grows while held; it is released when
//! the driver stops.
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::Notify;

use super::Payments;
use crate::domain::PaymentRecord;
use crate::networks::{CALL_GRACE, Network};

/// Time past the end of a call's window for its holder to store the answer before anyone
/// else may take the payment.
pub(super) const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// Most a call's window is shortened to fit the lease the payment was born with.
pub(super) const BORN_LEASE_SLACK: Duration = Duration::from_secs(1);

/// How long one network call may be waited for.
pub(super) enum CallKind {
    /// Pay or query: bounded by the payment's deadline (plus grace) and the network's
    /// longest call.
    BeforeDeadline,
    /// Reverse, refund, or a query while reversing: the deadline has passed; bounded by the
    /// network's longest call.
    AfterDeadline,
}

// === impl Payments ===

impl Payments {
    /// The longest this driver waits for one call of `kind` on `payment`.
    pub(super) fn call_window(
        &self,
        payment: &PaymentRecord,
        network: &Network,
        kind: CallKind,
    ) -> Duration {
        let longest = network.profile.timing.call_timeout + CALL_GRACE;
        match kind {
            CallKind::BeforeDeadline => longest.min(self.remaining(payment) + CALL_GRACE),
            CallKind::AfterDeadline => longest,
        }
    }

    /// The lease a new payment is born with: covers its first call.
    pub(super) fn first_lease_until(&self, now_ms: i64, first_call: Duration) -> i64 {
        now_ms.saturating_add(millis(self.lease_for(first_call)))
    }

    /// Holds the lease for a call (or a wait) of `window`: until `now + window + margin`,
    /// at least `lease_ms`. `false`: another instance holds it and drives the payment.
    pub(super) async fn hold_lease(&self, payment_id: &str, window: Duration) -> bool {
        let now = self.now_ms();
        let until = now.saturating_add(millis(self.lease_for(window)));
        match self
            .inner
            .store
            .take_lease(payment_id, &self.inner.owner, now, until)
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(payment_id, error = %e, "Lease renewal failed");
                false
            }
        }
    }

    fn lease_for(&self, window: Duration) -> Duration {
        let idle = Duration::from_millis(self.inner.limits.lease_ms);
        (window + LEASE_MARGIN).max(idle)
    }

    /// The window a call of `window` may use under the lease this instance holds until
    /// `held_until_ms`, renewing it (like [`Self::hold_lease`]) only when that lease would
    /// not cover the call: a payment is born leased for its first call, and the moments
    /// between its insert and the call come off the call's window (at most
    /// [`BORN_LEASE_SLACK`]) instead of costing another write. `None`: another instance
    /// holds the payment.
    pub(super) async fn cover_call(
        &self,
        payment_id: &str,
        window: Duration,
        held_until_ms: i64,
    ) -> Option<Duration> {
        let covered_ms = held_until_ms
            .saturating_sub(self.now_ms())
            .saturating_sub(millis(LEASE_MARGIN));
        let covered = Duration::from_millis(u64::try_from(covered_ms).unwrap_or(0));
        if covered >= window {
            return Some(window);
        }
        if window - covered <= BORN_LEASE_SLACK && !covered.is_zero() {
            return Some(covered);
        }
        self.hold_lease(payment_id, window).await.then_some(window)
    }

    /// Takes this instance's lock on a payment it has just stored: the insert already gave
    /// it the store lease, so only the in-memory lock is taken. `None` if a driver here
    /// already has it.
    pub(super) fn claim_born(&self, payment_id: &str) -> Option<Arc<Notify>> {
        let bell = Arc::new(Notify::new());
        match self.inner.active.entry(payment_id.to_owned()) {
            dashmap::Entry::Occupied(_) => None,
            dashmap::Entry::Vacant(v) => {
                v.insert(Arc::clone(&bell));
                Some(bell)
            }
        }
    }

    /// Rings the bell of this instance's driver of the payment, if there is one; false if
    /// none drives it here. Rings while holding the entry, so a driver on its way out
    /// either hears it (`rang_while_leaving`) or is already gone and the caller drives.
    pub(super) fn ring_or_none(&self, payment_id: &str) -> bool {
        match self.inner.active.get(payment_id) {
            Some(bell) => {
                bell.notify_one();
                true
            }
            None => false,
        }
    }

    /// Lets go of a payment whose final state is stored: that write also cleared the store
    /// lease (a lease only guards a payment in doubt), so only the in-memory lock remains.
    pub(super) fn let_go_settled(&self, payment_id: &str) {
        self.inner.active.remove(payment_id);
    }

    /// Takes this instance's lock and the store lease; `None` if someone else drives it.
    pub(super) async fn claim(&self, payment_id: &str) -> Option<Arc<Notify>> {
        let bell = Arc::new(Notify::new());
        match self.inner.active.entry(payment_id.to_owned()) {
            dashmap::Entry::Occupied(_) => return None,
            dashmap::Entry::Vacant(v) => {
                v.insert(Arc::clone(&bell));
            }
        }
        if !self.hold_lease(payment_id, Duration::ZERO).await {
            self.inner.active.remove(payment_id);
            return None;
        }
        Some(bell)
    }

    /// Lets go of a payment this driver has finished with: no call of ours is open.
    pub(super) async fn release(&self, payment_id: &str) {
        self.inner.active.remove(payment_id);
        if let Err(e) = self
            .inner
            .store
            .release_lease(payment_id, &self.inner.owner)
            .await
        {
            tracing::warn!(payment_id, error = %e, "Lease release failed; it will expire");
        }
    }
}

/// Whether a driver's bell rang after its last wait, now that it has let go of the
/// payment. Sound because a waker rings while holding the `active` entry (see
/// [`Payments::ring_or_none`]) and letting go removes that entry: a ring either came
/// before the removal, and its stored permit is seen here, or it found no entry and the
/// waker started a driver itself.
pub(super) fn rang_while_leaving(bell: &Notify) -> bool {
    bell.notified().now_or_never().is_some()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
