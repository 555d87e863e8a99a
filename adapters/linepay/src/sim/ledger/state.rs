//! The ledger as `GET /_sim/state` shows it.
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, PaymentStatus, RefundStatus, SimPayment, SimRefund, SimState, SimWallet, extras,
};
use rust_decimal::Decimal;

use super::{Ledger, OrderStatus};

/// Every amount in the ledger sits at its currency's scale: `pay` refuses any other.
fn amount(value: Decimal, currency: Currency) -> Amount {
    Amount::from_decimal(value, currency)
        .expect("the ledger holds only non-negative amounts at their currency's scale")
}

impl Ledger {
    pub(in crate::sim) fn state(&self, network: &str) -> SimState {
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
            .orders
            .values()
            .map(|o| {
                let (status, name) = match o.status {
                    OrderStatus::Complete => (PaymentStatus::Succeeded, "COMPLETE"),
                    OrderStatus::Refunded => (PaymentStatus::Succeeded, "REFUND"),
                    OrderStatus::Voided => (PaymentStatus::Reversed, "FAIL"),
                };
                SimPayment {
                    id: o.order_id.clone(),
                    network_id: Some(o.transaction_id.to_string()),
                    wallet: Some(o.wallet_id.clone()),
                    status,
                    amount: amount(o.amount, o.currency),
                    wallet_amount: Some(amount(o.amount, o.currency)),
                    refunded: amount(o.refunded, o.currency),
                    extras: extras([
                        ("network_status", name.into()),
                        ("channel_currency", o.currency.code().into()),
                    ]),
                }
            })
            .collect();
        let refunds = self
            .refunds
            .iter()
            .map(|r| {
                let currency = self
                    .orders
                    .get(&r.order_id)
                    .map_or(Currency::JPY, |o| o.currency);
                SimRefund {
                    id: None,
                    network_id: Some(r.refund_transaction_id.to_string()),
                    payment: r.order_id.clone(),
                    status: RefundStatus::Succeeded,
                    amount: amount(r.amount, currency),
                    wallet_amount: Some(amount(r.amount, currency)),
                    extras: Default::default(),
                }
            })
            .collect();
        let mut refused: Vec<&String> = self.failed_orders.iter().collect();
        refused.sort();
        SimState {
            network: network.to_owned(),
            wallets,
            payments,
            refunds,
            // Refused Pays keep their orderId (1172 on reuse) but no amount.
            extras: extras([("refused_order_ids", serde_json::json!(refused))]),
        }
        .sorted()
    }
}
