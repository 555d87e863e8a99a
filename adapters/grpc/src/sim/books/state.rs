//! The partner's books in the shared `GET /_sim/state` shape.
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, PaymentStatus, RefundStatus, SimPayment, SimRefund, SimState, SimWallet, extras,
};

use super::{Books, Stage, unreachable_amount};

// === impl Books ===

impl Books {
    pub fn state(&mut self, network: &str, now_ms: i64) -> SimState {
        let ids: Vec<String> = self.payments.keys().cloned().collect();
        for id in &ids {
            self.settle(id, now_ms);
        }
        let amount = |minor: i64, currency: Currency| {
            Amount::from_minor(minor, currency)
                .unwrap_or_else(|_| Amount::zero(currency).unwrap_or_else(|_| unreachable_amount()))
        };
        let wallets = self
            .wallets
            .iter()
            .map(|(id, w)| SimWallet {
                id: id.clone(),
                kind: None,
                balance: amount(w.balance, w.currency),
            })
            .collect();
        let payments = self
            .payments
            .iter()
            .map(|(id, p)| {
                let (status, stage) = match &p.stage {
                    Stage::Confirming { .. } => (PaymentStatus::Pending, "confirming"),
                    Stage::QrShown { .. } => (PaymentStatus::Pending, "qr_shown"),
                    Stage::Succeeded => (PaymentStatus::Succeeded, "succeeded"),
                    Stage::Declined { .. } => (PaymentStatus::Failed, "declined"),
                    Stage::Reversed => (PaymentStatus::Reversed, "reversed"),
                };
                let abandoned = matches!(
                    p.stage,
                    Stage::QrShown {
                        abandoned: true,
                        ..
                    }
                );
                let declined = matches!(p.stage, Stage::Declined { .. });
                SimPayment {
                    id: id.clone(),
                    network_id: Some(p.network_txn_id.clone()),
                    wallet: p.wallet.clone(),
                    status,
                    amount: amount(p.amount.minor(), p.amount.currency()),
                    wallet_amount: p
                        .wallet_amount
                        .filter(|_| !declined)
                        .map(|(c, minor)| amount(minor, c)),
                    refunded: amount(p.refunded_minor, p.amount.currency()),
                    extras: extras([
                        ("stage", stage.into()),
                        ("rate", p.rate.to_string().into()),
                        ("charged", p.charged.into()),
                        ("abandoned", abandoned.into()),
                    ]),
                }
            })
            .collect();
        let refunds = self
            .refunds
            .iter()
            .map(|(id, r)| {
                let wallet_currency = self
                    .payments
                    .get(&r.payment_id)
                    .and_then(|p| p.wallet_amount.map(|(c, _)| c))
                    .unwrap_or(r.amount.currency());
                SimRefund {
                    id: Some(id.clone()),
                    network_id: Some(r.network_refund_id.clone()),
                    payment: r.payment_id.clone(),
                    status: RefundStatus::Succeeded,
                    amount: amount(r.amount.minor(), r.amount.currency()),
                    wallet_amount: Some(amount(r.wallet_minor, wallet_currency)),
                    extras: Default::default(),
                }
            })
            .collect();
        SimState {
            network: network.to_owned(),
            wallets,
            payments,
            refunds,
            extras: Default::default(),
        }
        .sorted()
    }
}
