//! Taking a payment: idempotency, routing, the durable AUTHORIZING record, then handing the
//! payment to its driver and waiting (bounded) for the outcome.
use std::time::Duration;

use kakehashi_adapter_core::{Money, PaymentCode, mask};
use tracing::Instrument;

use super::admit::{Admitted, Candidate};
use super::commands::{Caller, MerchantQrCommand, PayCommand};
use super::{PayError, PaymentView, Payments, Unsupported};
use crate::domain::{
    ClientKey, Event, PaymentKind, PaymentRecord, PaymentState, Transition, new_id,
};
use crate::networks::Network;
use crate::routing::rules::CodeRoute;

/// Bound on the state a payment's driver task holds while it waits on the network (2.7 KB
/// in a release build): every payment in flight holds one, so with ten thousand in flight
/// a few KB more each is tens of MB. Checked in debug builds, where futures are larger.
const DRIVER_FUTURE_BYTES_MAX: usize = 8 * 1024;

/// What is needed to store a new payment, before it has an id.
pub(super) struct NewPayment<'a> {
    pub(super) caller: &'a Caller,
    pub(super) order_id: &'a ClientKey,
    pub(super) request_hash: String,
    pub(super) kind: PaymentKind,
    pub(super) amount: Money,
    pub(super) description: &'a str,
    pub(super) code_masked: String,
    pub(super) network: &'a Network,
    /// Wallet brand known from the code alone.
    pub(super) brand: Option<String>,
    pub(super) route_detail: String,
    /// The scanned code and how it was identified; `None` for a merchant-presented QR.
    pub(super) code: Option<(&'a PaymentCode, CodeRoute)>,
    /// The network's transaction id, when known before the record exists (a partner that
    /// already charged the customer).
    pub(super) network_txn_id: Option<String>,
    /// The checked quote the payment keeps.
    pub(super) quote: Option<crate::fx::Quote>,
}

// === impl Payments ===

impl Payments {
    /// Charges a customer-presented code. Returns when the payment is settled, or the
    /// customer must confirm in the wallet, or after `pay_wait_ms`, whichever is first; the
    /// switch keeps driving it either way.
    pub async fn pay(&self, caller: &Caller, cmd: PayCommand) -> Result<PaymentView, PayError> {
        let request_hash = cmd.content_hash();
        if let Some(view) = self
            .replay(caller, &cmd.merchant_order_id, &request_hash)
            .await?
        {
            return Ok(view);
        }
        let route = self
            .inner
            .networks
            .codes()
            .route(&cmd.code)
            .map_err(PayError::UnroutableCode)?;
        let network = self.usable_network(&route.network, &cmd.amount)?;
        if !network.profile.capabilities.customer_presented {
            return Err(PayError::NotSupported {
                network: network.profile.id.clone(),
                operation: Unsupported::CustomerPresented,
            });
        }
        let quote = match &cmd.quote_id {
            Some(quote_id) => Some(
                self.usable_quote(caller, quote_id, &network.profile.id, &cmd.amount)
                    .await?,
            ),
            None => None,
        };
        let new = NewPayment {
            caller,
            order_id: &cmd.merchant_order_id,
            request_hash: request_hash.clone(),
            kind: PaymentKind::CustomerPresented,
            amount: cmd.amount,
            description: &cmd.description,
            code_masked: cmd.code.masked(),
            network,
            brand: route.brand.clone(),
            route_detail: format!(
                "routed to {} by code prefix {} (length {})",
                network.profile.id,
                route.prefix,
                cmd.code.expose().len()
            ),
            code: Some((&cmd.code, route.clone())),
            quote,
            network_txn_id: None,
        };
        let Some((payment, permit, leased_until)) = self.insert_new(new).await? else {
            return self
                .replay_after_race(caller, &cmd.merchant_order_id, &request_hash)
                .await;
        };
        let this = self.clone();
        let code = cmd.code;
        let payment_id = payment.payment_id.clone();
        // The driver's spans (network.pay, queries) belong to this request's trace.
        let driver = async move {
            let _permit = permit;
            this.drive_new_payment(payment, code, leased_until).await;
        }
        .instrument(tracing::Span::current());
        debug_assert!(
            std::mem::size_of_val(&driver) <= DRIVER_FUTURE_BYTES_MAX,
            "the driver future grew to {} bytes: box the stages after the network call",
            std::mem::size_of_val(&driver)
        );
        tokio::spawn(driver);
        self.wait_until(&payment_id, self.pay_wait(), PaymentState::ends_pay_wait)
            .await
    }

    /// Shows a merchant-presented QR for an amount. Returns at once, AWAITING_CUSTOMER with
    /// the QR payload (or DECLINED if the network refused to create it).
    pub async fn create_merchant_qr(
        &self,
        caller: &Caller,
        cmd: MerchantQrCommand,
    ) -> Result<PaymentView, PayError> {
        let request_hash = cmd.content_hash();
        if let Some(view) = self
            .replay(caller, &cmd.merchant_order_id, &request_hash)
            .await?
        {
            return Ok(view);
        }
        if self.inner.networks.get(&cmd.network).is_none() {
            return Err(PayError::UnknownNetwork(cmd.network.clone()));
        }
        let network = self.usable_network(&cmd.network, &cmd.amount)?;
        if !network.profile.capabilities.merchant_presented {
            return Err(PayError::NotSupported {
                network: network.profile.id.clone(),
                operation: Unsupported::MerchantPresented,
            });
        }
        let quote = match &cmd.quote_id {
            Some(quote_id) => Some(
                self.usable_quote(caller, quote_id, &network.profile.id, &cmd.amount)
                    .await?,
            ),
            None => None,
        };
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
            route_detail: format!("merchant-presented QR on {}", network.profile.id),
            code: None,
            quote,
            network_txn_id: None,
        };
        let Some((payment, permit, leased_until)) = self.insert_new(new).await? else {
            return self
                .replay_after_race(caller, &cmd.merchant_order_id, &request_hash)
                .await;
        };
        let payment_id = payment.payment_id.clone();
        let (shown_tx, shown_rx) = tokio::sync::oneshot::channel();
        let this = self.clone();
        tokio::spawn(
            async move {
                let _permit = permit;
                this.drive_new_merchant_qr(payment, shown_tx, leased_until)
                    .await;
            }
            .instrument(tracing::Span::current()),
        );
        let _ = tokio::time::timeout(self.pay_wait(), shown_rx).await;
        let payment = self.reload(&payment_id).await?;
        self.view(&payment).await
    }

    /// The stored answer for a repeated key, or a refusal if the content differs.
    pub(super) async fn replay(
        &self,
        caller: &Caller,
        order_id: &ClientKey,
        request_hash: &str,
    ) -> Result<Option<PaymentView>, PayError> {
        let existing = self
            .inner
            .store
            .payment_by_order(&caller.merchant_id, order_id.as_str())
            .await?;
        let Some(existing) = existing else {
            return Ok(None);
        };
        if existing.request_hash != request_hash {
            return Err(PayError::OrderIdReused(order_id.to_string()));
        }
        let view = if existing.kind == PaymentKind::CustomerPresented {
            self.wait_until(
                &existing.payment_id,
                self.pay_wait(),
                PaymentState::ends_pay_wait,
            )
            .await?
        } else {
            self.view(&existing).await?
        };
        Ok(Some(view))
    }

    /// Another request with the same key was stored first: the same content gets its
    /// answer, different content is refused, exactly as a later replay would be.
    pub(super) async fn replay_after_race(
        &self,
        caller: &Caller,
        order_id: &ClientKey,
        request_hash: &str,
    ) -> Result<PaymentView, PayError> {
        self.replay(caller, order_id, request_hash)
            .await?
            .ok_or(PayError::Conflict)
    }

    /// The network, if this switch runs it and it can price the amount. Whether the
    /// merchant may use it is a compliance rule, decided (and logged) at admission.
    pub(super) fn usable_network(
        &self,
        network_id: &str,
        amount: &Money,
    ) -> Result<&Network, PayError> {
        let network = self
            .inner
            .networks
            .get(network_id)
            .ok_or_else(|| PayError::NetworkNotEnabled(network_id.to_owned()))?;
        if !network.profile.currencies.contains(&amount.currency()) {
            return Err(PayError::CurrencyNotSupported {
                network: network_id.to_owned(),
                currency: amount.currency_code().to_owned(),
            });
        }
        Ok(network)
    }

    /// Decides the payment under the compliance rules and, if routed, stores it as
    /// AUTHORIZING (durably, with its RECEIVED and AUTHORIZING transitions, in one
    /// transaction with the decision) and opens its watch channel. `None` when another
    /// request with the same key won the race.
    pub(super) async fn insert_new(
        &self,
        new: NewPayment<'_>,
    ) -> Result<Option<(PaymentRecord, tokio::sync::OwnedSemaphorePermit, i64)>, PayError> {
        let permit = self
            .inner
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| PayError::Busy)?;
        let now = self.now_ms();
        let deadline_ms = i64::try_from(new.network.profile.timing.payment_deadline.as_millis())
            .unwrap_or(i64::MAX);
        let payment = PaymentRecord {
            payment_id: new_id("pay"),
            merchant_id: new.caller.merchant_id.clone(),
            terminal_id: new.caller.terminal_id.clone(),
            merchant_order_id: new.order_id.clone(),
            request_hash: new.request_hash,
            kind: new.kind,
            amount: new.amount,
            description: new.description.to_owned(),
            code_masked: new.code_masked,
            network: new.network.profile.id.clone(),
            state: PaymentState::Received
                .apply(Event::Submitted)
                .map_err(|e| PayError::Internal(e.to_string()))?,
            wallet_brand: new.brand,
            decline_reason: None,
            network_code: None,
            network_txn_id: new.network_txn_id,
            wallet_amount: None,
            settlement_quote: None,
            qr_payload: None,
            fx_quote_id: new.quote.as_ref().map(|q| q.quote_id.clone()),
            refunded_minor: 0,
            refund_reserved_minor: 0,
            created_at_ms: now,
            updated_at_ms: now,
            deadline_at_ms: now.saturating_add(deadline_ms),
            reverse_attempts: 0,
            version: 1,
        };
        let transitions = [
            Transition {
                seq: 1,
                from: None,
                to: PaymentState::Received,
                detail: "accepted".into(),
                at_ms: now,
            },
            Transition {
                seq: 2,
                from: Some(PaymentState::Received),
                to: PaymentState::Authorizing,
                detail: new.route_detail,
                at_ms: now,
            },
        ];
        // Born leased for its first call, so no recovery pass anywhere takes it over before
        // its own driver has sent it and heard (or given up on) the answer.
        let first_call = self.call_window(
            &payment,
            new.network,
            super::lease::CallKind::BeforeDeadline,
        );
        let lease_until = self.first_lease_until(now, first_call);
        let candidate = Candidate {
            payment: &payment,
            transitions: &transitions,
            lease_until_ms: lease_until,
            code: new.code,
        };
        match self.admit(candidate).await? {
            Admitted::Inserted => {}
            Admitted::Existing => return Ok(None),
            Admitted::Refused { rule, detail } => {
                return Err(PayError::RuleRefused {
                    rule,
                    detail,
                    payment_id: payment.payment_id.clone(),
                });
            }
        }
        tracing::info!(
            payment_id = %payment.payment_id,
            merchant_id = %payment.merchant_id,
            network = %payment.network,
            amount = %payment.amount,
            code = %if payment.code_masked.is_empty() { mask("") } else { payment.code_masked.clone() },
            "Payment authorizing"
        );
        let view = PaymentView {
            payment: payment.clone(),
            refunds: Vec::new(),
            state_reason: super::view::state_reason(&transitions),
            fx: new.quote.map(|quote| super::FxView {
                quote,
                comparison: None,
            }),
            history: Some(transitions.to_vec().into()),
        };
        self.open_channel(view);
        Ok(Some((payment, permit, lease_until)))
    }

    pub(super) fn pay_wait(&self) -> Duration {
        Duration::from_millis(self.inner.limits.pay_wait_ms)
    }

    /// A payment of the caller's merchant by its order id.
    pub(super) async fn find(
        &self,
        caller: &Caller,
        merchant_order_id: &str,
    ) -> Result<PaymentRecord, PayError> {
        self.inner
            .store
            .payment_by_order(&caller.merchant_id, merchant_order_id)
            .await?
            .ok_or_else(|| PayError::PaymentNotFound(merchant_order_id.to_owned()))
    }

    pub async fn get(
        &self,
        caller: &Caller,
        merchant_order_id: &str,
    ) -> Result<PaymentView, PayError> {
        let payment = self.find(caller, merchant_order_id).await?;
        self.view(&payment).await
    }
}
