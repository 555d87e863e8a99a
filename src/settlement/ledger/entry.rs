//! Journal entries: a dated, referenced set of lines whose debits equal their credits in
//! every currency. The only constructor checks it, so an unbalanced entry cannot exist.
use std::collections::BTreeMap;
use std::fmt;

use kakehashi_adapter_core::Money;

use super::Account;
use crate::settlement::business_date::BusinessDate;

/// Most lines in one entry (a settlement with FX takes four; a batch's fees one per merchant
/// are separate entries).
pub const LINES_MAX: usize = 64;
/// Longest reference (a payment, refund, batch or payout id, possibly with a merchant).
pub const REFERENCE_BYTES_MAX: usize = 160;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Debit,
    Credit,
}

/// What caused an entry. Each `(kind, reference)` is posted at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    Payment,
    Refund,
    Reversal,
    Fee,
    TaxAdjustment,
    Settlement,
    Payout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: Account,
    pub side: Side,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    id: String,
    at_ms: i64,
    business_date: BusinessDate,
    kind: EntryKind,
    reference: String,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "entry {entry} does not balance in {currency}: debits {debits}, credits {credits} (minor units)"
    )]
    Unbalanced {
        entry: String,
        currency: &'static str,
        debits: i64,
        credits: i64,
    },
    #[error("entry {entry} has {count} lines; an entry has 2 to {LINES_MAX}")]
    LineCount { entry: String, count: usize },
    #[error("entry reference must be 1 to {REFERENCE_BYTES_MAX} bytes without spaces")]
    BadReference,
    #[error("`{0}` is not a ledger account")]
    BadAccount(String),
    #[error("`{0}` is not an entry kind or side")]
    BadKind(String),
    #[error("{0}")]
    Amount(String),
}

// === impl Side / EntryKind ===

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debit => "debit",
            Self::Credit => "credit",
        }
    }

    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        match text {
            "debit" => Ok(Self::Debit),
            "credit" => Ok(Self::Credit),
            other => Err(LedgerError::BadKind(other.chars().take(16).collect())),
        }
    }
}

impl EntryKind {
    const ALL: [EntryKind; 7] = [
        Self::Payment,
        Self::Refund,
        Self::Reversal,
        Self::Fee,
        Self::TaxAdjustment,
        Self::Settlement,
        Self::Payout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Refund => "refund",
            Self::Reversal => "reversal",
            Self::Fee => "fee",
            Self::TaxAdjustment => "tax_adjustment",
            Self::Settlement => "settlement",
            Self::Payout => "payout",
        }
    }

    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| LedgerError::BadKind(text.chars().take(16).collect()))
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl Line ===

impl Line {
    pub fn debit(account: Account, amount: Money) -> Self {
        Self {
            account,
            side: Side::Debit,
            amount,
        }
    }

    pub fn credit(account: Account, amount: Money) -> Self {
        Self {
            account,
            side: Side::Credit,
            amount,
        }
    }
}

// === impl JournalEntry ===

impl JournalEntry {
    /// Builds an entry, refusing one that does not balance in every currency, has fewer than
    /// two or more than [`LINES_MAX`] lines, a bad account or a bad reference. The id is
    /// `kind/reference`: one cause, one entry.
    pub fn new(
        kind: EntryKind,
        reference: &str,
        at_ms: i64,
        business_date: BusinessDate,
        lines: Vec<Line>,
    ) -> Result<Self, LedgerError> {
        if reference.is_empty()
            || reference.len() > REFERENCE_BYTES_MAX
            || reference
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(LedgerError::BadReference);
        }
        let id = format!("{kind}/{reference}");
        if !(2..=LINES_MAX).contains(&lines.len()) {
            return Err(LedgerError::LineCount {
                entry: id,
                count: lines.len(),
            });
        }
        for line in &lines {
            line.account.check()?;
        }
        check_balanced(&id, &lines)?;
        Ok(Self {
            id,
            at_ms,
            business_date,
            kind,
            reference: reference.to_owned(),
            lines,
        })
    }

    /// Checks the balance again: the store calls it just before it writes (a pair assertion
    /// with the constructor, in case an entry was built by a path that skipped it).
    pub fn verify(&self) -> Result<(), LedgerError> {
        check_balanced(&self.id, &self.lines)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn at_ms(&self) -> i64 {
        self.at_ms
    }
    pub fn business_date(&self) -> BusinessDate {
        self.business_date
    }
    pub fn kind(&self) -> EntryKind {
        self.kind
    }
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }
}

/// Debits equal credits in each currency, summed in minor units (each at most 10^15, at most
/// 64 lines: no overflow in i64).
fn check_balanced(id: &str, lines: &[Line]) -> Result<(), LedgerError> {
    let mut sums: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    for line in lines {
        let sum = sums.entry(line.amount.currency_code()).or_default();
        match line.side {
            Side::Debit => sum.0 += line.amount.minor(),
            Side::Credit => sum.1 += line.amount.minor(),
        }
    }
    for (currency, (debits, credits)) in sums {
        if debits != credits {
            return Err(LedgerError::Unbalanced {
                entry: id.to_owned(),
                currency,
                debits,
                credits,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpy(v: &str) -> Money {
        Money::parse(v, "JPY").unwrap()
    }

    fn date() -> BusinessDate {
        "2026-12-24".parse().unwrap()
    }

    #[test]
    fn an_unbalanced_entry_cannot_be_built() {
        let lines = vec![
            Line::debit(Account::network_receivable("paypay"), jpy("1200")),
            Line::credit(Account::merchant_payable("m1"), jpy("1199")),
        ];
        assert_eq!(
            JournalEntry::new(EntryKind::Payment, "pay_1", 0, date(), lines),
            Err(LedgerError::Unbalanced {
                entry: "payment/pay_1".into(),
                currency: "JPY",
                debits: 1200,
                credits: 1199
            })
        );
    }

    #[test]
    fn each_currency_balances_on_its_own() {
        let usd = Money::parse("10.00", "USD").unwrap();
        let cross = vec![
            Line::debit(Account::Bank, usd),
            Line::credit(Account::network_receivable("alipayplus"), jpy("1500")),
        ];
        assert!(matches!(
            JournalEntry::new(EntryKind::Settlement, "b1", 0, date(), cross),
            Err(LedgerError::Unbalanced { .. })
        ));
        let through_fx = vec![
            Line::debit(Account::Bank, usd),
            Line::credit(Account::fx_difference("alipayplus"), usd),
            Line::debit(Account::fx_difference("alipayplus"), jpy("1500")),
            Line::credit(Account::network_receivable("alipayplus"), jpy("1500")),
        ];
        let entry = JournalEntry::new(EntryKind::Settlement, "b1", 0, date(), through_fx).unwrap();
        assert_eq!(entry.id(), "settlement/b1");
    }

    #[test]
    fn one_line_or_a_blank_reference_is_refused() {
        let one = vec![Line::debit(Account::Bank, jpy("1"))];
        assert!(matches!(
            JournalEntry::new(EntryKind::Payout, "p", 0, date(), one),
            Err(LedgerError::LineCount { count: 1, .. })
        ));
        let two = vec![
            Line::debit(Account::Bank, jpy("1")),
            Line::credit(Account::TaxPayable, jpy("1")),
        ];
        assert_eq!(
            JournalEntry::new(EntryKind::Payout, "a b", 0, date(), two),
            Err(LedgerError::BadReference)
        );
    }
}
