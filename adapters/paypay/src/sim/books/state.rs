//! The books as the control API sees them: `GET /_sim/state`, and a shown QR found by its
//! payload or its `codeId`, as the customer's phone would find it.
use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{
    Amount, PaymentStatus, RefundStatus, SimPayment, SimRefund, SimState, SimWallet, extras,
};

use super::{Books, Status};

/// What a dynamic QR encodes: PayPay's URL and deep link, each ending in the `codeId`.
pub(in crate::sim) const QR_URL_PREFIX: &str = "https://qr.paypay.ne.jp/";
pub(in crate::sim) const QR_DEEPLINK_PREFIX: &str = "paypay://payment?link_key=";

/// Yen amounts in the books are never negative and never above PayPay's limits.
fn yen(value: i64) -> Amount {
    Amount::from_minor(value, Currency::JPY)
        .expect("the books hold non-negative yen within PayPay's payment limit")
}

impl Books {
    /// The `merchantPaymentId` of the QR whose payload (URL or deep link) or `codeId` is `qr`.
    pub(in crate::sim) fn payment_for_qr(&self, qr: &str) -> Option<String> {
        let code_id = qr
            .strip_prefix(QR_URL_PREFIX)
            .or_else(|| qr.strip_prefix(QR_DEEPLINK_PREFIX))
            .unwrap_or(qr);
        self.qr_codes.get(code_id).cloned()
    }

    pub(in crate::sim) fn state(&mut self, network: &str, now_ms: i64) -> SimState {
        let ids: Vec<String> = self.payments.keys().cloned().collect();
        for id in &ids {
            self.settle_expiry(id, now_ms);
        }
        let wallets = self
            .wallets
            .iter()
            .map(|(id, balance)| SimWallet {
                id: id.clone(),
                kind: None,
                balance: yen(*balance),
            })
            .collect();
        let payments = self
            .payments
            .iter()
            .map(|(id, p)| {
                let status = match p.status {
                    Status::Created => PaymentStatus::Pending,
                    Status::Completed | Status::Refunded => PaymentStatus::Succeeded,
                    // Only the merchant's cancel or QR deletion makes a payment FAILED.
                    Status::Failed => PaymentStatus::Reversed,
                    Status::Expired => PaymentStatus::Failed,
                };
                let mut more = extras([("network_status", p.status.as_str().into())]);
                if let Some(code_id) = &p.qr_code_id {
                    more.insert("qr_code_id".into(), code_id.as_str().into());
                    more.insert(
                        "qr_payload".into(),
                        format!("{QR_URL_PREFIX}{code_id}").into(),
                    );
                    more.insert("abandoned".into(), p.abandoned.into());
                }
                SimPayment {
                    id: id.clone(),
                    network_id: p.payment_id.clone(),
                    wallet: p.wallet_id.clone(),
                    status,
                    amount: yen(p.amount),
                    wallet_amount: p.wallet_id.as_ref().map(|_| yen(p.amount)),
                    refunded: yen(p.refunded),
                    extras: more,
                }
            })
            .collect();
        let refunds = self
            .refunds
            .iter()
            .map(|(id, r)| SimRefund {
                id: Some(id.clone()),
                network_id: Some(r.refund_id.clone()),
                payment: r.merchant_payment_id.clone(),
                status: if r.done {
                    RefundStatus::Succeeded
                } else {
                    RefundStatus::Pending
                },
                amount: yen(r.amount),
                wallet_amount: Some(yen(r.amount)),
                extras: Default::default(),
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
