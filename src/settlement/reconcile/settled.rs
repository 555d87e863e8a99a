//! The FX check for files that state what the network settles (Alipay+): the settlement
//! amount and quote price on the line against the settlement quote the network gave us for
//! the payment, or, where it gave none, against our amount converted at the file's price.
use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::recon::ReconSettlement;
use rust_decimal::Decimal;

use super::{OurPayment, OurSettlement, money_text};
use crate::fx::RoundingMode;

/// What we expect a line to settle at: the settlement quote the network gave us for the
/// payment, or, where it gave none, our amount converted at the file's own quote price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ExpectedSettlement {
    Quoted(OurSettlement),
    /// Converted at the file's price with the network's rounding; `None`: the file's price
    /// or currency cannot convert our amount (itself a difference).
    Converted {
        amount: Option<Money>,
        quote_price: Decimal,
    },
}

// === impl ExpectedSettlement ===

impl ExpectedSettlement {
    pub(super) fn text(&self) -> String {
        match self {
            Self::Quoted(q) => format!("{} at {}", money_text(&q.amount), q.quote_price),
            Self::Converted {
                amount: Some(amount),
                quote_price,
            } => format!("{} at {quote_price} (the file's price)", money_text(amount)),
            Self::Converted {
                amount: None,
                quote_price,
            } => format!("not convertible at {quote_price}"),
        }
    }
}

pub(super) fn expected_settlement(
    ours: &OurPayment,
    theirs: &ReconSettlement,
    rounding: RoundingMode,
) -> ExpectedSettlement {
    if let Some(quoted) = &ours.settlement {
        return ExpectedSettlement::Quoted(quoted.clone());
    }
    let converted = crate::fx::convert(
        ours.amount,
        theirs.quote_price,
        theirs.amount.currency(),
        rounding,
    );
    ExpectedSettlement::Converted {
        amount: converted.ok().map(|c| c.to),
        quote_price: theirs.quote_price,
    }
}

/// A settlement is apart when its currency or amount (beyond the tolerance) differs from
/// what we expect, or when the file's quote price is not the one the network gave us.
pub(super) fn settlement_apart(
    expected: &ExpectedSettlement,
    theirs: &ReconSettlement,
    tolerance_minor: i64,
) -> bool {
    let (amount, price_differs) = match expected {
        ExpectedSettlement::Quoted(q) => (
            Some(q.amount),
            q.quote_price.normalize() != theirs.quote_price.normalize(),
        ),
        ExpectedSettlement::Converted { amount, .. } => (*amount, false),
    };
    let Some(amount) = amount else {
        return true;
    };
    price_differs
        || amount.currency() != theirs.amount.currency()
        || (amount.minor() - theirs.amount.minor()).abs() > tolerance_minor
}
