//! The books as `GET /_sim/state` shows them, every payment waiting for the customer first
//! moved along the clock as an inquiry would move it.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, PaymentStatus, RefundStatus, SimPayment, SimRefund, SimState, SimWallet, extras,
};

use super::{Books, Status};
use crate::wire;

/// Amounts in the books are non-negative minor units: `pay` and `refund` refuse others.
fn minor(value: i64, currency: Currency) -> Amount {
    Amount::from_minor(value, currency)
        .expect("the books hold non-negative minor units of currencies with an exponent")
}

/// A wire amount the books accepted (`pay` checked its currency and minor-unit value).
fn wire_amount(amount: &wire::Amount) -> Amount {
    let currency = Currency::from_code(&amount.currency).unwrap_or(Currency::JPY);
    minor(i64::from_str(&amount.value).unwrap_or(0), currency)
}

impl Books {
    pub(in crate::sim) fn state(&mut self, network: &str, now_ms: i64) -> SimState {
        let ids: Vec<String> = self.payments.keys().cloned().collect();
        for id in &ids {
            self.settle(id, now_ms);
        }
        let wallets = self
            .wallets
            .iter()
            .map(|(id, w)| SimWallet {
                id: id.clone(),
                kind: Some(w.member.brand().to_owned()),
                balance: minor(w.balance, w.member.currency()),
            })
            .collect();
        let payments = self
            .payments
            .iter()
            .map(|(id, p)| {
                let (status, name) = match &p.status {
                    Status::Processing { .. } => (PaymentStatus::Pending, "PROCESSING".into()),
                    Status::Success => (PaymentStatus::Succeeded, "SUCCESS".into()),
                    Status::Fail(code) => (PaymentStatus::Failed, format!("FAIL:{code}")),
                    Status::Cancelled => (PaymentStatus::Reversed, "CANCELLED".into()),
                };
                let amount = wire_amount(&p.amount);
                let mut more = extras([
                    ("network_status", name.into()),
                    ("psp_id", p.member.psp_id().into()),
                ]);
                if let Some((settlement, _)) = &p.settlement {
                    more.insert(
                        "settlement_amount".into(),
                        serde_json::json!(wire_amount(settlement)),
                    );
                }
                SimPayment {
                    id: id.clone(),
                    network_id: Some(p.payment_id.clone()),
                    wallet: Some(p.wallet_id.clone()),
                    status,
                    amount,
                    wallet_amount: Some(minor(p.customer_minor, p.member.currency())),
                    refunded: minor(p.refunded_minor, amount.currency()),
                    extras: more,
                }
            })
            .collect();
        let refunds = self
            .refunds
            .iter()
            .map(|(id, r)| {
                let payment = self.payments.get(&r.payment_request_id);
                let currency = payment.map_or(Currency::JPY, |p| wire_amount(&p.amount).currency());
                SimRefund {
                    id: Some(id.clone()),
                    network_id: Some(r.refund_id.clone()),
                    payment: r.payment_request_id.clone(),
                    // Alipay+ refunds complete in the reply.
                    status: RefundStatus::Succeeded,
                    amount: minor(r.amount_minor, currency),
                    wallet_amount: payment.map(|p| minor(r.customer_minor, p.member.currency())),
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
