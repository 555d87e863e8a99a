//! Nothing stays in doubt: at start-up and then periodically, find payments whose outcome is
//! unknown and whose driver is gone (lease expired), and drive them; ask networks about
//! pending refunds.
use std::time::Duration;

use super::Payments;

/// Rows fetched per recovery pass; the next pass takes the rest.
const RECOVERY_BATCH_MAX: i64 = 100;

/// The last payment and refund id a recovery pass looked at; the next pass continues after
/// them, and starts over once a page comes back short.
#[derive(Debug, Default)]
pub(super) struct Cursors {
    payments: String,
    refunds: String,
}

/// The cursor after a page: its last id, or the start again if the page was not full.
fn advance(cursor: &mut String, last: Option<&str>, fetched: usize) {
    match last {
        Some(id) if fetched as i64 >= RECOVERY_BATCH_MAX => *cursor = id.to_owned(),
        _ => cursor.clear(),
    }
}

// === impl Payments ===

impl Payments {
    /// One recovery pass. Returns how many payments it started driving.
    pub async fn recover_once(&self) -> usize {
        let mut started = 0;
        let after = self.cursors().payments.clone();
        match self
            .inner
            .store
            .payments_in_doubt(&self.inner.owner, self.now_ms(), &after, RECOVERY_BATCH_MAX)
            .await
        {
            Ok(payments) => {
                advance(
                    &mut self.cursors().payments,
                    payments.last().map(|p| p.payment_id.as_str()),
                    payments.len(),
                );
                for payment in payments {
                    if self.inner.active.contains_key(&payment.payment_id) {
                        continue;
                    }
                    let Ok(permit) = self.inner.in_flight.clone().try_acquire_owned() else {
                        break;
                    };
                    tracing::info!(payment_id = %payment.payment_id, state = %payment.state, "Recovering payment in doubt");
                    let this = self.clone();
                    tokio::spawn(async move {
                        let _permit = permit;
                        this.drive_existing(&payment.payment_id).await;
                    });
                    started += 1;
                }
            }
            Err(e) => tracing::error!(error = %e, "Recovery scan failed"),
        }
        self.recover_refunds().await;
        started
    }

    async fn recover_refunds(&self) {
        let after = self.cursors().refunds.clone();
        let refunds = match self
            .inner
            .store
            .pending_refunds(&self.inner.owner, self.now_ms(), &after, RECOVERY_BATCH_MAX)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "Refund recovery scan failed");
                return;
            }
        };
        advance(
            &mut self.cursors().refunds,
            refunds.last().map(|r| r.refund_id.as_str()),
            refunds.len(),
        );
        for refund in refunds {
            self.recover_refund(refund).await;
        }
    }

    fn cursors(&self) -> std::sync::MutexGuard<'_, Cursors> {
        self.inner
            .recovery_cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs recovery now and then every `recovery_interval_ms` until `shutdown` fires.
    pub async fn run_recovery(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let interval = Duration::from_millis(self.inner.limits.recovery_interval_ms.max(50));
        loop {
            self.recover_once().await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
