//! The books as `GET /_sim/state` shows them, every order first moved along the clock (PIN
//! entered, or auto-revoked) as a query would move it.
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, PaymentStatus, RefundStatus, SimPayment, SimRefund, SimState, SimWallet, extras,
};

use super::{Books, ReverseWindow, State};

/// Amounts in the books are non-negative minor units of currencies WeChat Pay takes.
fn minor(value: i64, currency: Currency) -> Amount {
    Amount::from_minor(value, currency)
        .expect("the books hold non-negative minor units of currencies with an exponent")
}

impl Books {
    pub(in crate::sim) fn state(&mut self, network: &str, now_ms: i64) -> SimState {
        let ids: Vec<String> = self.orders.keys().cloned().collect();
        for id in &ids {
            self.settle(id, now_ms);
        }
        let wallets = self
            .wallets
            .iter()
            .map(|(id, w)| SimWallet {
                id: id.clone(),
                kind: Some(w.kind.as_str().to_owned()),
                balance: minor(w.balance, w.kind.currency()),
            })
            .collect();
        let payments = ids
            .iter()
            .filter_map(|id| Some((id, self.orders.get(id)?)))
            .map(|(id, o)| {
                let status = match o.state {
                    State::UserPaying => PaymentStatus::Pending,
                    State::Success => PaymentStatus::Succeeded,
                    State::Revoked => PaymentStatus::Reversed,
                    State::PayError => PaymentStatus::Failed,
                };
                let trade_state = self
                    .order_fields(id, now_ms)
                    .remove("trade_state")
                    .unwrap_or_default();
                SimPayment {
                    id: id.clone(),
                    network_id: Some(o.transaction_id.clone()),
                    wallet: Some(o.wallet_id.clone()),
                    status,
                    amount: minor(o.total_fee, o.fee_type),
                    wallet_amount: Some(minor(o.cash_fee, o.cash_fee_type)),
                    refunded: minor(o.refunded, o.fee_type),
                    extras: extras([
                        ("network_status", trade_state.into()),
                        ("rate", o.rate.to_string().into()),
                    ]),
                }
            })
            .collect();
        let refunds = self
            .refunds
            .iter()
            .filter_map(|(id, r)| {
                let order = self.orders.get(&r.out_trade_no)?;
                Some(SimRefund {
                    id: Some(id.clone()),
                    network_id: Some(r.refund_id.clone()),
                    payment: r.out_trade_no.clone(),
                    // Asynchronous: done from the second refundquery.
                    status: if r.queries >= 2 {
                        RefundStatus::Succeeded
                    } else {
                        RefundStatus::Pending
                    },
                    amount: minor(r.refund_fee, order.fee_type),
                    // `cash_refund_fee`, at the original payment's rate.
                    wallet_amount: Some(minor(r.cash_refund_fee, order.cash_fee_type)),
                    extras: Default::default(),
                })
            })
            .collect();
        let pool = self
            .refund_pool_fen
            .map(|fen| minor(fen.max(0), Currency::CNY));
        let window = match self.reverse_window {
            ReverseWindow::SameDay => "same_day",
            ReverseWindow::SevenDays => "seven_days",
        };
        SimState {
            network: network.to_owned(),
            wallets,
            payments,
            refunds,
            extras: extras([
                ("refund_pool", serde_json::json!(pool)),
                ("reverse_window", window.into()),
            ]),
        }
        .sorted()
    }
}
