//! Posting rules: one function per money event, from plain facts (not the payment record:
//! the write path maps its records to these) to one balanced [`JournalEntry`].
//!
//! | event | debit | credit |
//! |---|---|---|
//! | payment succeeded | network receivable | merchant payable |
//! | refund, reversal | merchant payable | network receivable |
//! | fee (per batch line) | merchant payable (fee + tax) | fee revenue, tax payable |
//! | invoice tax adjustment | merchant payable or tax payable | the other |
//! | settlement (same currency) | bank | network receivable |
//! | settlement (other currency) | bank, fx difference | fx difference, network receivable |
//! | payout | merchant payable | bank |
use kakehashi_adapter_core::Money;

use super::{Account, EntryKind, JournalEntry, LedgerError, Line};
use crate::settlement::business_date::BusinessDate;

/// A payment the network approved (or a late approval), in the merchant's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    pub payment_id: String,
    pub merchant_id: String,
    pub network: String,
    pub amount: Money,
    /// What the customer paid in the wallet's currency, when the network reported it.
    pub wallet_amount: Option<Money>,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    pub refund_id: String,
    pub payment_id: String,
    pub merchant_id: String,
    pub network: String,
    pub amount: Money,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

/// A merchant's fee (and the tax on it) for one batch line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeFacts {
    pub batch_id: String,
    pub merchant_id: String,
    pub network: String,
    pub fee: Money,
    /// `None` when the network's fees are not taxable or the tax rounds to zero.
    pub tax: Option<Money>,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

/// What a network paid us for a batch: `receivable` in the batch currency, `received` in the
/// settlement currency (the same money when the currencies agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementFacts {
    pub batch_id: String,
    pub network: String,
    pub receivable: Money,
    pub received: Money,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutFacts {
    pub payout_id: String,
    pub merchant_id: String,
    pub amount: Money,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

/// The difference between an invoice's tax (rounded once for the period) and the tax the
/// period's batch lines already charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxAdjustmentFacts {
    pub invoice_id: String,
    pub merchant_id: String,
    /// Invoice tax − batch taxes, in minor units of `currency`.
    pub difference_minor: i64,
    pub currency: iso_currency::Currency,
    pub at_ms: i64,
    pub business_date: BusinessDate,
}

pub fn for_payment_succeeded(f: &PaymentFacts) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        EntryKind::Payment,
        &f.payment_id,
        f.at_ms,
        f.business_date,
        vec![
            Line::debit(Account::network_receivable(&f.network), f.amount),
            Line::credit(Account::merchant_payable(&f.merchant_id), f.amount),
        ],
    )
}

pub fn for_refund(f: &RefundFacts) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        EntryKind::Refund,
        &f.refund_id,
        f.at_ms,
        f.business_date,
        vec![
            Line::debit(Account::merchant_payable(&f.merchant_id), f.amount),
            Line::credit(Account::network_receivable(&f.network), f.amount),
        ],
    )
}

/// Undoes a succeeded payment the switch reversed through the network.
pub fn for_reversal(f: &PaymentFacts) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        EntryKind::Reversal,
        &f.payment_id,
        f.at_ms,
        f.business_date,
        vec![
            Line::debit(Account::merchant_payable(&f.merchant_id), f.amount),
            Line::credit(Account::network_receivable(&f.network), f.amount),
        ],
    )
}

/// A success that arrived after the reversal began is recorded, then reversed: two entries,
/// posted together, so the books show both what the network did and that it was undone.
pub fn for_late_approval_reversal(f: &PaymentFacts) -> Result<[JournalEntry; 2], LedgerError> {
    Ok([for_payment_succeeded(f)?, for_reversal(f)?])
}

pub fn for_fee(f: &FeeFacts) -> Result<JournalEntry, LedgerError> {
    let mut lines = vec![Line::credit(Account::fee_revenue(&f.network), f.fee)];
    let charged = match f.tax {
        Some(tax) => {
            lines.push(Line::credit(Account::TaxPayable, tax));
            f.fee
                .checked_add(&tax)
                .map_err(|e| LedgerError::Amount(e.to_string()))?
        }
        None => f.fee,
    };
    lines.insert(
        0,
        Line::debit(Account::merchant_payable(&f.merchant_id), charged),
    );
    JournalEntry::new(
        EntryKind::Fee,
        &format!("{}/{}", f.batch_id, f.merchant_id),
        f.at_ms,
        f.business_date,
        lines,
    )
}

/// `None` when the invoice's tax equals what the batches charged.
pub fn for_tax_adjustment(f: &TaxAdjustmentFacts) -> Result<Option<JournalEntry>, LedgerError> {
    if f.difference_minor == 0 {
        return Ok(None);
    }
    let amount = Money::from_minor(f.difference_minor.abs(), f.currency)
        .map_err(|e| LedgerError::Amount(e.to_string()))?;
    let payable = Account::merchant_payable(&f.merchant_id);
    let lines = if f.difference_minor > 0 {
        vec![
            Line::debit(payable, amount),
            Line::credit(Account::TaxPayable, amount),
        ]
    } else {
        vec![
            Line::debit(Account::TaxPayable, amount),
            Line::credit(payable, amount),
        ]
    };
    let reference = format!("{}/{}", f.invoice_id, f.merchant_id);
    JournalEntry::new(
        EntryKind::TaxAdjustment,
        &reference,
        f.at_ms,
        f.business_date,
        lines,
    )
    .map(Some)
}

pub fn for_settlement(f: &SettlementFacts) -> Result<JournalEntry, LedgerError> {
    let receivable = Account::network_receivable(&f.network);
    let lines = if f.received.currency() == f.receivable.currency() {
        vec![
            Line::debit(Account::Bank, f.received),
            Line::credit(receivable, f.receivable),
        ]
    } else {
        let fx = Account::fx_difference(&f.network);
        vec![
            Line::debit(Account::Bank, f.received),
            Line::credit(fx.clone(), f.received),
            Line::debit(fx, f.receivable),
            Line::credit(receivable, f.receivable),
        ]
    };
    JournalEntry::new(
        EntryKind::Settlement,
        &f.batch_id,
        f.at_ms,
        f.business_date,
        lines,
    )
}

/// A payout clears the merchant payable against our bank account.
pub fn for_payout(f: &PayoutFacts) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        EntryKind::Payout,
        &f.payout_id,
        f.at_ms,
        f.business_date,
        vec![
            Line::debit(Account::merchant_payable(&f.merchant_id), f.amount),
            Line::credit(Account::Bank, f.amount),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::ledger::Side;

    fn jpy(v: &str) -> Money {
        Money::parse(v, "JPY").unwrap()
    }

    fn date() -> BusinessDate {
        "2026-12-24".parse().unwrap()
    }

    fn payment() -> PaymentFacts {
        PaymentFacts {
            payment_id: "pay_1".into(),
            merchant_id: "m1".into(),
            network: "paypay".into(),
            amount: jpy("1200"),
            wallet_amount: None,
            at_ms: 5,
            business_date: date(),
        }
    }

    #[test]
    fn a_payment_owes_the_merchant_what_the_network_owes_us() {
        let entry = for_payment_succeeded(&payment()).unwrap();
        assert_eq!(entry.id(), "payment/pay_1");
        assert_eq!(
            entry.lines()[0].account,
            Account::network_receivable("paypay")
        );
        assert_eq!(entry.lines()[0].side, Side::Debit);
        assert_eq!(entry.lines()[1].account, Account::merchant_payable("m1"));
    }

    #[test]
    fn a_late_approval_is_recorded_and_undone() {
        let [approval, reversal] = for_late_approval_reversal(&payment()).unwrap();
        assert_eq!(approval.kind(), EntryKind::Payment);
        assert_eq!(reversal.kind(), EntryKind::Reversal);
        assert_eq!(reversal.lines()[0].account, approval.lines()[1].account);
        assert_eq!(reversal.lines()[0].side, Side::Debit);
    }

    #[test]
    fn a_fee_charges_the_merchant_fee_plus_tax() {
        let entry = for_fee(&FeeFacts {
            batch_id: "paypay/2026-12-24".into(),
            merchant_id: "m1".into(),
            network: "paypay".into(),
            fee: jpy("703"),
            tax: Some(jpy("70")),
            at_ms: 0,
            business_date: date(),
        })
        .unwrap();
        assert_eq!(entry.lines()[0].amount, jpy("773"));
        assert_eq!(entry.reference(), "paypay/2026-12-24/m1");
    }

    #[test]
    fn a_tax_adjustment_goes_the_way_of_its_sign() {
        let f = |difference_minor| TaxAdjustmentFacts {
            invoice_id: "inv_1".into(),
            merchant_id: "m1".into(),
            difference_minor,
            currency: iso_currency::Currency::JPY,
            at_ms: 0,
            business_date: date(),
        };
        assert_eq!(for_tax_adjustment(&f(0)).unwrap(), None);
        let more = for_tax_adjustment(&f(2)).unwrap().unwrap();
        assert_eq!(more.lines()[0].account, Account::merchant_payable("m1"));
        let less = for_tax_adjustment(&f(-1)).unwrap().unwrap();
        assert_eq!(less.lines()[0].account, Account::TaxPayable);
    }

    #[test]
    fn a_cross_currency_settlement_passes_through_fx_difference() {
        let entry = for_settlement(&SettlementFacts {
            batch_id: "alipayplus/2026-12-24".into(),
            network: "alipayplus".into(),
            receivable: jpy("15000"),
            received: Money::parse("98.76", "USD").unwrap(),
            at_ms: 0,
            business_date: date(),
        })
        .unwrap();
        assert_eq!(entry.lines().len(), 4);
        let payout = for_payout(&PayoutFacts {
            payout_id: "po_1".into(),
            merchant_id: "m1".into(),
            amount: jpy("98765"),
            at_ms: 0,
            business_date: date(),
        })
        .unwrap();
        assert_eq!(payout.lines()[1].account, Account::Bank);
    }
}
