//! Telling callers about state changes: the Pay call waiting for an outcome and
//! WatchPayment streams. Each payment being driven has one `watch` channel holding its
//! latest view: bounded by construction, a slow reader skips to the newest state.
use std::time::Duration;

use tokio::sync::watch;

use super::{PayError, PaymentView, Payments};
use crate::domain::{PaymentRecord, PaymentState};

/// How often a watcher without an in-memory channel (the payment is driven by another
/// replica, or not at all) re-reads the store.
const STORE_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The first poll of a wait with no channel yet, doubling up to `STORE_POLL_INTERVAL`.
const STORE_POLL_FIRST: Duration = Duration::from_millis(5);

// === impl Payments ===

impl Payments {
    pub(super) async fn view(&self, payment: &PaymentRecord) -> Result<PaymentView, PayError> {
        self.view_with(payment, None, None).await
    }

    /// [`Self::view`], with the payment's transitions and refunds when the caller knows
    /// them (it has just read or written them).
    async fn view_with(
        &self,
        payment: &PaymentRecord,
        transitions: Option<Vec<crate::domain::Transition>>,
        refunds: Option<Vec<crate::domain::RefundRecord>>,
    ) -> Result<PaymentView, PayError> {
        let refunds = match refunds {
            Some(known) => known,
            None => {
                self.inner
                    .store
                    .refunds_for_payment(&payment.payment_id)
                    .await?
            }
        };
        let transitions = match transitions {
            Some(known) => known,
            None => self.inner.store.transitions(&payment.payment_id).await?,
        };
        Ok(PaymentView {
            payment: payment.clone(),
            refunds,
            state_reason: super::view::state_reason(&transitions),
            fx: self.fx_view(payment).await?,
            history: Some(transitions.into()),
        })
    }

    /// The view this instance last published for a payment it drives, if it is complete
    /// (see [`PaymentView::history`]): what this instance committed, without a read.
    pub(super) fn known(&self, payment_id: &str) -> Option<PaymentView> {
        let sender = self.inner.watchers.get(payment_id)?;
        let view = sender.borrow();
        view.history.is_some().then(|| view.clone())
    }

    /// The stored transitions of `payment` as this instance last committed them, if its
    /// channel holds a complete view of this very version.
    pub(super) fn known_history(
        &self,
        payment: &PaymentRecord,
    ) -> Option<Vec<crate::domain::Transition>> {
        let sender = self.inner.watchers.get(&payment.payment_id)?;
        let view = sender.borrow();
        if view.payment.version != payment.version {
            return None;
        }
        view.history.as_ref().map(|h| h.to_vec())
    }

    /// Sends the payment's new view to its watchers, if anyone drives or watches it here.
    pub(super) async fn publish(&self, payment: &PaymentRecord) {
        self.publish_with(payment, None, None).await;
    }

    /// [`Self::publish`], with the payment's transitions and refunds when the caller knows
    /// them. A view older than the one the channel holds is not sent: two publishers (the
    /// driver and a refund) may finish out of order.
    pub(super) async fn publish_with(
        &self,
        payment: &PaymentRecord,
        transitions: Option<Vec<crate::domain::Transition>>,
        refunds: Option<Vec<crate::domain::RefundRecord>>,
    ) {
        if let Some(sender) = self
            .inner
            .watchers
            .get(&payment.payment_id)
            .map(|s| s.clone())
        {
            match self.view_with(payment, transitions, refunds).await {
                Ok(view) => {
                    sender.send_if_modified(|current| {
                        let newer = view.payment.version >= current.payment.version;
                        if newer {
                            *current = view;
                        }
                        newer
                    });
                }
                Err(e) => {
                    tracing::warn!(payment_id = %payment.payment_id, error = %e, "View for watchers failed")
                }
            }
        }
    }

    pub(super) fn open_channel(&self, view: PaymentView) {
        self.inner
            .watchers
            .entry(view.payment.payment_id.clone())
            .or_insert_with(|| watch::channel(view).0);
    }

    pub(super) fn close_channel(&self, payment_id: &str) {
        self.inner.watchers.remove(payment_id);
    }

    /// Waits until the payment has an outcome the terminal can act on, or `wait` passes;
    /// returns the latest view either way.
    pub(super) async fn wait_settled(
        &self,
        payment_id: &str,
        wait: Duration,
    ) -> Result<PaymentView, PayError> {
        self.wait_until(payment_id, wait, PaymentState::is_settled_for_terminal)
            .await
    }

    /// Waits until the payment's state satisfies `done`, or `wait` passes; returns the
    /// latest view either way.
    pub(super) async fn wait_until(
        &self,
        payment_id: &str,
        wait: Duration,
        done: fn(PaymentState) -> bool,
    ) -> Result<PaymentView, PayError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut poll = STORE_POLL_FIRST;
        loop {
            // A driver this instance starts (a cancel's reversal, recovery) opens the
            // payment's channel a moment after the waiter arrives: look for it on every
            // turn, so the wait ends on the driver's commit rather than the next poll.
            let receiver = self.inner.watchers.get(payment_id).map(|s| s.subscribe());
            if let Some(receiver) = receiver {
                return self
                    .wait_on_channel(payment_id, receiver, deadline, done)
                    .await;
            }
            let current = self.reload(payment_id).await?;
            let now = tokio::time::Instant::now();
            if done(current.state) || now >= deadline {
                return self.view(&current).await;
            }
            tokio::time::sleep(poll.min(deadline - now)).await;
            poll = (poll * 2).min(STORE_POLL_INTERVAL);
        }
    }

    async fn wait_on_channel(
        &self,
        payment_id: &str,
        mut receiver: watch::Receiver<PaymentView>,
        deadline: tokio::time::Instant,
        done: fn(PaymentState) -> bool,
    ) -> Result<PaymentView, PayError> {
        loop {
            let settled = done(receiver.borrow_and_update().payment.state);
            if settled {
                break;
            }
            let changed = tokio::time::timeout_at(deadline, receiver.changed()).await;
            if !matches!(changed, Ok(Ok(()))) {
                break;
            }
        }
        // The channel's last view is what this instance committed last (it outlives the
        // channel's closing): no read needed, unless it is a placeholder.
        let last = receiver.borrow().clone();
        if last.history.is_some() {
            return Ok(last);
        }
        let payment = self.reload(payment_id).await?;
        self.view(&payment).await
    }

    /// After a void the network refused, the switch refunds the payment in full: waits until
    /// that refund has an outcome (or `wait` ends) so the terminal hears how it ended.
    pub(super) async fn wait_refunds_settled(
        &self,
        payment_id: &str,
        wait: Duration,
    ) -> Result<PaymentView, PayError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut poll = STORE_POLL_FIRST;
        loop {
            let payment = self.reload(payment_id).await?;
            let view = self.view(&payment).await?;
            let void_refund_done = view.refunds.iter().any(|r| {
                r.merchant_refund_id
                    .as_str()
                    .starts_with(super::refund::SWITCH_REFUND_PREFIX)
                    && r.state != crate::domain::RefundState::Pending
            });
            if payment.state != crate::domain::PaymentState::Succeeded
                || void_refund_done
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(view);
            }
            tokio::time::sleep(poll).await;
            poll = (poll * 2).min(STORE_POLL_INTERVAL);
        }
    }

    /// A stream of the payment's views: the current one first, then each change, ending
    /// after the first settled view. Bounded: at most `watchers_max` streams per instance,
    /// and each ends after `watch_max`.
    pub async fn watch(
        &self,
        caller: &super::Caller,
        merchant_order_id: &str,
        watch_max: Duration,
    ) -> Result<tokio::sync::mpsc::Receiver<PaymentView>, PayError> {
        let payment = self.find(caller, merchant_order_id).await?;
        let permit = self
            .inner
            .watch_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PayError::Busy)?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let this = self.clone();
        let deadline = tokio::time::Instant::now() + watch_max;
        tokio::spawn(async move {
            this.stream_views(&payment.payment_id, deadline, tx, permit)
                .await;
        });
        Ok(rx)
    }

    /// Sends the payment's current view, then each change, until it is settled for the
    /// terminal, the receiver goes away or `deadline` passes; holds a watch slot throughout.
    pub(super) async fn stream_views(
        &self,
        payment_id: &str,
        deadline: tokio::time::Instant,
        tx: tokio::sync::mpsc::Sender<PaymentView>,
        _permit: tokio::sync::OwnedSemaphorePermit,
    ) {
        let mut last_version = -1;
        loop {
            let receiver = self.inner.watchers.get(payment_id).map(|s| s.subscribe());
            let view = match self.reload(payment_id).await {
                Ok(p) => match self.view(&p).await {
                    Ok(v) => v,
                    Err(_) => break,
                },
                Err(_) => break,
            };
            if view.payment.version != last_version {
                last_version = view.payment.version;
                let settled = view.payment.state.is_settled_for_terminal();
                if tx.send(view).await.is_err() || settled {
                    break;
                }
            }
            let wake = async {
                match receiver {
                    Some(mut r) => {
                        let _ = r.changed().await;
                    }
                    None => tokio::time::sleep(STORE_POLL_INTERVAL).await,
                }
            };
            if tokio::time::timeout_at(deadline, wake).await.is_err() {
                break;
            }
        }
    }
}
