//! What partner networks do to payments through the partner gateway (src/gateway): report
//! the final outcome of a payment the switch started, and record a payment they already
//! charged on a merchant's static code. Both go through the same transitions the driver
//! uses (`apply_with_retry`), so the lifecycle table, the books and the watchers see a
//! partner's word exactly as they see a network's answer to a query.

use kakehashi_adapter_core::{DeclineReason, Money, Paid, PayOutcome, mask};
use tracing::Instrument;

use super::pay::NewPayment;
use super::{Caller, PayError, PaymentView, Payments};
use crate::domain::{ClientKey, PaymentKind, PaymentRecord, PaymentState};

/// The outcome a partner reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifiedOutcome {
    Succeeded,
    Declined,
    /// Closed unpaid, or returned in full, by the network.
    Closed,
}

/// A partner's final word on one payment, already parsed.
#[derive(Debug, Clone)]
pub struct Notification {
    pub outcome: NotifiedOutcome,
    /// Required (non-empty) for `Succeeded`.
    pub network_txn_id: Option<String>,
    pub amount: Money,
    pub decline_reason: Option<DeclineReason>,
    pub network_code: String,
    pub wallet_amount: Option<kakehashi_adapter_core::WalletAmount>,
}

/// How the switch took a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyAnswer {
    pub state: PaymentState,
    /// The switch already held this outcome: nothing changed.
    pub already_final: bool,
}

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No payment with this id on the partner's network (another network's payment looks
    /// exactly like one that does not exist).
    #[error("no payment with this payment_id for your network")]
    NotFound,
    #[error("the notified amount {notified} differs from the payment's")]
    AmountMismatch { notified: Money },
    /// The outcome (or transaction id) contradicts what the switch holds.
    #[error("{0}")]
    Contradiction(String),
    #[error(transparent)]
    Pay(#[from] PayError),
}

/// A payment a partner already charged its customer for, on one of our merchant codes.
#[derive(Debug, Clone)]
pub struct PartnerCharge {
    pub merchant_id: String,
    /// The till the code belongs to; `None` for a merchant-wide code.
    pub terminal_id: Option<String>,
    /// Derived from the partner's request id (see [`partner_order_id`]).
    pub order_id: ClientKey,
    pub request_hash: String,
    pub amount: Money,
    pub paid: Paid,
    pub description: String,
}

/// A partner payment on a static code, for tills watching "the next payment on my code".
#[derive(Debug, Clone)]
pub(super) struct StaticArrival {
    merchant_id: String,
    terminal_id: Option<String>,
    payment_id: String,
}

/// Static-code arrivals buffered for slow watchers; a watcher that falls behind skips ahead.
pub(super) const ARRIVALS_BUFFERED: usize = 256;

/// The merchant order id of a partner payment: stable for (network, request id), always a
/// valid client key, and never one a terminal would choose (`partner-` and 40 hex digits).
pub fn partner_order_id(network: &str, request_id: &str) -> Result<ClientKey, PayError> {
    let hash = super::commands::content_hash(&["partner-order", network, request_id]);
    let key = format!("partner-{}", hash.get(..40).unwrap_or(&hash));
    ClientKey::parse(&key).map_err(|e| PayError::Internal(format!("partner order id: {e}")))
}

/// The till id recorded for a payment on a merchant-wide code (no till in the code).
pub fn merchant_code_terminal(merchant_id: &str) -> String {
    format!("{merchant_id}:code")
}

// === impl Payments ===

impl Payments {
    /// Applies a partner's final outcome for `payment_id`, which must be on `network`.
    /// Agreement with a final state is harmless; a contradiction is refused and logged.
    pub async fn notify(
        &self,
        network: &str,
        payment_id: &str,
        notification: &Notification,
    ) -> Result<NotifyAnswer, NotifyError> {
        let payment = self
            .inner
            .store
            .payment(payment_id)
            .await
            .map_err(PayError::from)?
            .filter(|p| p.network == network)
            .ok_or(NotifyError::NotFound)?;
        if notification.amount != payment.amount {
            tracing::warn!(payment_id, network, notified = %notification.amount, amount = %payment.amount, "Partner notification contradicts the payment's amount; refused");
            return Err(NotifyError::AmountMismatch {
                notified: notification.amount,
            });
        }
        let unchanged = |p: &PaymentRecord| NotifyAnswer {
            state: p.state,
            already_final: true,
        };
        let captured = matches!(
            payment.state,
            PaymentState::Succeeded | PaymentState::PartiallyRefunded | PaymentState::Refunded
        );
        match notification.outcome {
            NotifiedOutcome::Succeeded => {
                let txn = notification.network_txn_id.clone().unwrap_or_default();
                if captured {
                    if payment.network_txn_id.as_deref() != Some(txn.as_str()) {
                        return Err(self.contradiction(
                            &payment,
                            "SUCCEEDED",
                            "the notified network_txn_id differs from the one the switch recorded",
                        ));
                    }
                    return Ok(unchanged(&payment));
                }
                if payment.state == PaymentState::Declined {
                    return Err(self.contradiction(
                        &payment,
                        "SUCCEEDED",
                        "the payment is DECLINED: the switch recorded that no money moved",
                    ));
                }
                if matches!(
                    payment.state,
                    PaymentState::Reversing | PaymentState::Reversed
                ) && self.late_approval_known(&payment, &txn).await?
                {
                    return Ok(NotifyAnswer {
                        state: payment.state,
                        already_final: true,
                    });
                }
                let paid = Paid {
                    network_txn_id: txn,
                    wallet_brand: None,
                    wallet_amount: notification.wallet_amount.clone(),
                    settlement_quote: None,
                };
                self.apply_notified(&payment, &PayOutcome::Succeeded(paid))
                    .await
            }
            NotifiedOutcome::Declined | NotifiedOutcome::Closed => {
                let closed = notification.outcome == NotifiedOutcome::Closed;
                match payment.state {
                    PaymentState::Declined | PaymentState::Reversed => Ok(unchanged(&payment)),
                    PaymentState::Refunded if closed => Ok(unchanged(&payment)),
                    // The reversal under way will confirm it; the partner's word agrees.
                    PaymentState::Reversing => Ok(NotifyAnswer {
                        state: payment.state,
                        already_final: false,
                    }),
                    _ if captured => Err(self.contradiction(
                        &payment,
                        if closed { "CLOSED" } else { "DECLINED" },
                        "the switch recorded the payment as captured",
                    )),
                    _ => {
                        let reason = notification.decline_reason.unwrap_or(if closed {
                            DeclineReason::PaymentExpired
                        } else {
                            DeclineReason::Other
                        });
                        let outcome = PayOutcome::Declined {
                            reason,
                            network_code: notification.network_code.clone(),
                        };
                        self.apply_notified(&payment, &outcome).await
                    }
                }
            }
        }
    }

    /// Runs the driver's own transition for `outcome`, wakes the payment's driver (or starts
    /// one, when a late approval sent the payment back to be reversed), and reports.
    async fn apply_notified(
        &self,
        payment: &PaymentRecord,
        outcome: &PayOutcome,
    ) -> Result<NotifyAnswer, NotifyError> {
        let network = self.network_of(payment)?;
        self.apply_with_retry(&payment.payment_id, &network, outcome, None)
            .await?;
        let after = self.reload(&payment.payment_id).await?;
        tracing::info!(payment_id = %after.payment_id, network = %after.network, from = %payment.state, to = %after.state, "Partner notification applied");
        self.wake_driver(&after);
        Ok(NotifyAnswer {
            state: after.state,
            already_final: after.version == payment.version && !after.state.is_in_doubt(),
        })
    }

    fn wake_driver(&self, payment: &PaymentRecord) {
        if !self.ring_or_none(&payment.payment_id) && payment.state == PaymentState::Reversing {
            let this = self.clone();
            let id = payment.payment_id.clone();
            tokio::spawn(
                async move { this.drive_existing(&id).await }.instrument(tracing::Span::current()),
            );
        }
    }

    /// A late approval with this transaction id is already on the payment's record.
    async fn late_approval_known(
        &self,
        payment: &PaymentRecord,
        txn: &str,
    ) -> Result<bool, NotifyError> {
        if payment.network_txn_id.as_deref() != Some(txn) {
            return Ok(false);
        }
        let history = self
            .inner
            .store
            .transitions(&payment.payment_id)
            .await
            .map_err(PayError::from)?;
        Ok(history
            .iter()
            .any(|t| t.detail.starts_with("late approval")))
    }

    fn contradiction(&self, payment: &PaymentRecord, notified: &str, why: &str) -> NotifyError {
        tracing::warn!(payment_id = %payment.payment_id, network = %payment.network, state = %payment.state, notified, txn = %payment.network_txn_id.as_deref().map(mask).unwrap_or_default(), "Partner notification contradicts the payment's final state; refused");
        NotifyError::Contradiction(format!(
            "{notified} contradicts the payment's state {}: {why}",
            payment.state
        ))
    }

    /// Records a payment a partner already charged: admitted under the compliance rules
    /// like any other, stored AUTHORIZING, then SUCCEEDED through the driver's transition
    /// with the partner's transaction id, all before the answer. A replay answers the stored
    /// payment (and completes one a crash left AUTHORIZING).
    pub async fn record_partner_charge(
        &self,
        network_id: &str,
        charge: PartnerCharge,
    ) -> Result<PaymentView, PayError> {
        let terminal_id = charge
            .terminal_id
            .clone()
            .unwrap_or_else(|| merchant_code_terminal(&charge.merchant_id));
        let caller = Caller {
            merchant_id: charge.merchant_id.clone(),
            terminal_id,
        };
        let existing = self
            .inner
            .store
            .payment_by_order(&caller.merchant_id, charge.order_id.as_str())
            .await?;
        let payment = match existing {
            Some(existing) if existing.request_hash != charge.request_hash => {
                return Err(PayError::OrderIdReused(charge.order_id.to_string()));
            }
            Some(existing) => existing,
            None => {
                let network = self.usable_network(network_id, &charge.amount)?;
                let new = NewPayment {
                    caller: &caller,
                    order_id: &charge.order_id,
                    request_hash: charge.request_hash.clone(),
                    kind: PaymentKind::MerchantPresented,
                    amount: charge.amount,
                    description: &charge.description,
                    code_masked: String::new(),
                    network,
                    brand: charge.paid.wallet_brand.clone(),
                    route_detail: format!(
                        "paid by partner {} on the merchant's code (txn {})",
                        network.profile.id,
                        mask(&charge.paid.network_txn_id)
                    ),
                    code: None,
                    network_txn_id: Some(charge.paid.network_txn_id.clone()),
                    quote: None,
                };
                match self.insert_new(new).await? {
                    Some((payment, _permit, _leased_until)) => {
                        let network = self.network_of(&payment)?;
                        let outcome = PayOutcome::Succeeded(charge.paid.clone());
                        let applied = self
                            .apply_with_retry(
                                &payment.payment_id,
                                &network,
                                &outcome,
                                Some(payment.clone()),
                            )
                            .await;
                        self.close_channel(&payment.payment_id);
                        self.release(&payment.payment_id).await;
                        applied?;
                        let _ = self.inner.arrivals.send(StaticArrival {
                            merchant_id: payment.merchant_id.clone(),
                            terminal_id: charge.terminal_id.clone(),
                            payment_id: payment.payment_id.clone(),
                        });
                        return self.view(&self.reload(&payment.payment_id).await?).await;
                    }
                    None => self.find(&caller, charge.order_id.as_str()).await?,
                }
            }
        };
        if payment.request_hash != charge.request_hash {
            return Err(PayError::OrderIdReused(charge.order_id.to_string()));
        }
        if matches!(
            payment.state,
            PaymentState::Authorizing | PaymentState::AwaitingCustomer
        ) {
            let network = self.network_of(&payment)?;
            let outcome = PayOutcome::Succeeded(charge.paid.clone());
            self.apply_with_retry(&payment.payment_id, &network, &outcome, None)
                .await?;
        }
        self.view(&self.reload(&payment.payment_id).await?).await
    }

    /// The largest single payment the compliance rules let `network` take in `currency`.
    pub fn single_payment_max(&self, network: &str, currency: &str) -> Option<Money> {
        self.inner
            .compliance
            .rules()
            .single_payment_max(network, currency)
    }

    /// A payment of `merchant_id` by its id, for the gateway's answers.
    pub async fn payment_view_by_order(
        &self,
        merchant_id: &str,
        order_id: &ClientKey,
    ) -> Result<Option<PaymentView>, PayError> {
        match self
            .inner
            .store
            .payment_by_order(merchant_id, order_id.as_str())
            .await?
        {
            Some(p) => Ok(Some(self.view(&p).await?)),
            None => Ok(None),
        }
    }

    /// Waits (at most `wait`) for the next partner payment on a static code of the caller's
    /// till (a code naming it, or a merchant-wide code), then streams that payment as
    /// [`Payments::watch`] does. Arrivals are heard by the instance that recorded them.
    pub async fn watch_next_on_code(
        &self,
        caller: &Caller,
        watch_max: std::time::Duration,
    ) -> Result<tokio::sync::mpsc::Receiver<PaymentView>, PayError> {
        let permit = self
            .inner
            .watch_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| PayError::Busy)?;
        let mut arrivals = self.inner.arrivals.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let this = self.clone();
        let caller = caller.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + watch_max;
            let payment_id = loop {
                match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                    Ok(Ok(arrival)) => {
                        let mine = arrival.merchant_id == caller.merchant_id
                            && arrival
                                .terminal_id
                                .as_ref()
                                .is_none_or(|t| *t == caller.terminal_id);
                        if mine {
                            break arrival.payment_id;
                        }
                    }
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) | Err(_) => {
                        return;
                    }
                }
            };
            this.stream_views(&payment_id, deadline, tx, permit).await;
        });
        Ok(rx)
    }
}

/// Builds the switch's dynamic code for a payment: (merchant id, till id, amount,
/// reference) to the EMVCo payload, or why not.
pub type CodeIssuer<'a> = &'a (dyn Fn(&str, &str, &Money, &str) -> Result<String, String> + Sync);

/// Why a switch-issued dynamic code cannot be paid.
#[derive(Debug, thiserror::Error)]
pub enum SwitchCodeError {
    /// No such payment for this merchant on the partner's network.
    #[error("the merchant code is not one of this switch's merchants' codes")]
    Unknown,
    #[error("the code is for {expected}; the payment is {paid}")]
    AmountMismatch { expected: Money, paid: Money },
    #[error("{0}")]
    Expired(String),
    #[error(transparent)]
    Pay(#[from] PayError),
}

/// The reference a switch-issued code carries for a payment: its id without the prefix
/// (24 alphanumerics, within EMVCo's 25 for 62/05).
pub fn code_reference(payment_id: &str) -> &str {
    payment_id.strip_prefix("pay").unwrap_or(payment_id)
}

impl Payments {
    /// CreateMerchantQr with `switch_code`: stores the payment AUTHORIZING (admitted like
    /// any other), shows the switch's own EMVCo dynamic code (AWAITING_CUSTOMER), and drives
    /// it like a network's QR: queried until its deadline, then closed (reversed).
    pub async fn create_switch_code(
        &self,
        caller: &Caller,
        cmd: super::MerchantQrCommand,
        issue: CodeIssuer<'_>,
    ) -> Result<PaymentView, PayError> {
        let request_hash = cmd.content_hash();
        if let Some(view) = self
            .replay(caller, &cmd.merchant_order_id, &request_hash)
            .await?
        {
            return Ok(view);
        }
        let network = self.usable_network(&cmd.network, &cmd.amount)?;
        let new = NewPayment {
            caller,
            order_id: &cmd.merchant_order_id,
            request_hash: request_hash.clone(),
            kind: PaymentKind::MerchantPresented,
            amount: cmd.amount,
            description: &cmd.description,
            code_masked: String::new(),
            network,
            brand: None,
            route_detail: format!("switch-issued EMVCo code for {}", network.profile.id),
            code: None,
            network_txn_id: None,
            quote: None,
        };
        let Some((mut payment, permit, _leased_until)) = self.insert_new(new).await? else {
            return self
                .replay_after_race(caller, &cmd.merchant_order_id, &request_hash)
                .await;
        };
        let reference = code_reference(&payment.payment_id).to_owned();
        let issued = issue(
            &payment.merchant_id,
            &payment.terminal_id,
            &payment.amount,
            &reference,
        );
        let shown = match issued {
            Ok(payload) => {
                self.transition(
                    &mut payment,
                    crate::domain::Event::CustomerActionRequired,
                    "switch-issued EMVCo code shown".into(),
                    |p| p.qr_payload = Some(payload),
                )
                .await
            }
            Err(why) => {
                self.transition(
                    &mut payment,
                    crate::domain::Event::NetworkDeclined,
                    format!("the switch could not issue the code: {why}"),
                    |p| p.decline_reason = Some(DeclineReason::InvalidRequest),
                )
                .await
            }
        };
        let this = self.clone();
        let id = payment.payment_id.clone();
        tokio::spawn(
            async move {
                let _permit = permit;
                this.drive_existing(&id).await;
            }
            .instrument(tracing::Span::current()),
        );
        shown?;
        self.view(&self.reload(&payment.payment_id).await?).await
    }

    /// A partner pays a switch-issued dynamic code it scanned: the payment must be that
    /// merchant's, on the partner's network, awaiting the customer, for exactly this amount.
    /// The success goes through the driver's transition. Paying it again with the same
    /// transaction id answers the same payment; anything else is refused.
    pub async fn pay_switch_code(
        &self,
        network: &str,
        merchant_id: &str,
        payment_id: &str,
        amount: &Money,
        paid: &Paid,
    ) -> Result<PaymentView, SwitchCodeError> {
        let payment = self
            .inner
            .store
            .payment(payment_id)
            .await
            .map_err(PayError::from)?
            .filter(|p| {
                p.network == network
                    && p.merchant_id == merchant_id
                    && p.kind == PaymentKind::MerchantPresented
                    && p.qr_payload.is_some()
            })
            .ok_or(SwitchCodeError::Unknown)?;
        if *amount != payment.amount {
            return Err(SwitchCodeError::AmountMismatch {
                expected: payment.amount,
                paid: *amount,
            });
        }
        let captured = matches!(
            payment.state,
            PaymentState::Succeeded | PaymentState::PartiallyRefunded | PaymentState::Refunded
        );
        if captured {
            if payment.network_txn_id.as_deref() == Some(paid.network_txn_id.as_str()) {
                return Ok(self.view(&payment).await?);
            }
            return Err(SwitchCodeError::Expired("the code was already paid".into()));
        }
        if payment.state != PaymentState::AwaitingCustomer
            || self.now_ms() >= payment.deadline_at_ms
        {
            return Err(SwitchCodeError::Expired(format!(
                "the code is no longer payable (its payment is {})",
                payment.state
            )));
        }
        let network = self.network_of(&payment)?;
        self.apply_with_retry(
            payment_id,
            &network,
            &PayOutcome::Succeeded(paid.clone()),
            None,
        )
        .await?;
        let after = self.reload(payment_id).await?;
        self.wake_driver(&after);
        if after.state != PaymentState::Succeeded {
            return Err(SwitchCodeError::Expired(format!(
                "the code is no longer payable (its payment is {})",
                after.state
            )));
        }
        Ok(self.view(&after).await?)
    }

    /// When a switch-issued code of `merchant_id` on `network` stops being payable (its
    /// payment's deadline); `None` when there is no such code.
    pub async fn switch_code_expiry(
        &self,
        network: &str,
        merchant_id: &str,
        payment_id: &str,
    ) -> Result<Option<i64>, PayError> {
        Ok(self
            .inner
            .store
            .payment(payment_id)
            .await?
            .filter(|p| {
                p.network == network && p.merchant_id == merchant_id && p.qr_payload.is_some()
            })
            .map(|p| p.deadline_at_ms))
    }
}
