//! The books' settlement figures for the day's Transaction Detail Report: each payment's
//! settlement amount and quote as `inquiryPayment` gave them, each refund's converted at its
//! payment's quote as the refund reply gave it.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::recon::{ReconKind, ReconLine, ReconSettlement};
use kakehashi_adapter_core::sim_control::Amount;
use rust_decimal::Decimal;

use super::{Books, convert};

impl Books {
    /// Sets each line's settlement from the books; a payment settled in yen (no quote)
    /// keeps none.
    pub(in crate::sim) fn add_settlements(&self, lines: &mut [ReconLine]) {
        for line in lines {
            let Some((amount, quote)) = self
                .payments
                .get(&line.payment_id)
                .and_then(|p| p.settlement.as_ref())
            else {
                continue;
            };
            let (Some(currency), Ok(price)) = (
                Currency::from_code(&amount.currency),
                Decimal::from_str(&quote.quote_price),
            ) else {
                continue;
            };
            let minor = match line.kind {
                ReconKind::Payment => i64::from_str(&amount.value).ok(),
                ReconKind::Refund => convert(line.amount.minor(), currency, price),
            };
            line.settlement = minor
                .and_then(|m| Amount::from_minor(m, currency).ok())
                .map(|amount| ReconSettlement {
                    amount,
                    quote_price: price,
                });
        }
    }
}
