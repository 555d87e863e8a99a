//! Our side of a reconciliation: the business day's settlement facts as the payments and
//! refunds a network's file should list, and, for files that carry settlement amounts, the
//! settlement quote each payment recorded when the network reported it (Alipay+'s
//! `settlementQuote` from `inquiryPayment`), read from the payment rows.
use std::collections::HashMap;
use std::str::FromStr;

use kakehashi_adapter_core::Money;
use rust_decimal::Decimal;
use sqlx::{AnyPool, Row};

use super::{OurPayment, OurRefund, OurSettlement};
use crate::settlement::{FactKind, SettledPaymentFact};
use crate::store::StoreError;

/// Payment ids per settlement-quote query: well under every engine's bound on bind
/// parameters (SQLite's is 32,766), and few enough round trips for a day of a million.
const QUOTE_IDS_PER_QUERY: usize = 500;

/// The day's payments and refunds from its facts. A payment reversed the same day is kept,
/// marked reversed; a reversal of a payment captured on another day names no payment here
/// and is not reconciled (the file of the capture's day lists it).
pub fn from_facts(facts: &[SettledPaymentFact]) -> (Vec<OurPayment>, Vec<OurRefund>) {
    let mut payments: Vec<OurPayment> = Vec::new();
    let mut refunds = Vec::new();
    for fact in facts {
        match fact.kind {
            FactKind::Payment => payments.push(OurPayment {
                payment_id: fact.payment_id.clone(),
                merchant_id: fact.merchant_id.clone(),
                network_txn_id: fact.network_reference.clone(),
                amount: fact.amount,
                wallet_amount: fact.wallet_amount,
                settlement: None,
                reversed: false,
            }),
            FactKind::Refund => refunds.push(OurRefund {
                refund_id: fact.refund_id.clone().unwrap_or_default(),
                payment_id: fact.payment_id.clone(),
                network_refund_id: fact.network_reference.clone(),
                amount: fact.amount,
            }),
            FactKind::Reversal => {}
        }
    }
    // By index, not by search: a day of a million payments and thousands of reversals.
    let index: HashMap<String, usize> = payments
        .iter()
        .enumerate()
        .map(|(i, p)| (p.payment_id.clone(), i))
        .collect();
    for fact in facts.iter().filter(|f| f.kind == FactKind::Reversal) {
        if let Some(&i) = index.get(&fact.payment_id) {
            payments[i].reversed = true;
        }
    }
    (payments, refunds)
}

/// Sets each payment's settlement quote from its row, where the network reported one.
pub async fn add_settlement_quotes(
    pool: &AnyPool,
    payments: &mut [OurPayment],
) -> Result<(), StoreError> {
    let mut quotes: HashMap<String, OurSettlement> = HashMap::new();
    for chunk in payments.chunks(QUOTE_IDS_PER_QUERY) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT payment_id, quote_price, quote_settlement_value, quote_settlement_currency \
             FROM payments WHERE quote_settlement_value IS NOT NULL AND payment_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            query = query.bind(&p.payment_id);
        }
        for row in query.fetch_all(pool).await? {
            let id: String = row.try_get("payment_id")?;
            quotes.insert(id, settlement_from_row(&row)?);
        }
    }
    for p in payments {
        p.settlement = quotes.remove(&p.payment_id);
    }
    Ok(())
}

fn settlement_from_row(row: &sqlx::any::AnyRow) -> Result<OurSettlement, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "payments",
        detail,
    };
    let price: Option<String> = row.try_get("quote_price")?;
    let value: String = row.try_get("quote_settlement_value")?;
    let currency: Option<String> = row.try_get("quote_settlement_currency")?;
    let price = price.ok_or_else(|| corrupt("a settlement amount without its quote".into()))?;
    let quote_price = Decimal::from_str(&price)
        .map_err(|_| corrupt(format!("quote_price `{price}` is not a decimal")))?;
    let amount = Money::parse(&value, currency.as_deref().unwrap_or_default())
        .map_err(|e| corrupt(format!("quote_settlement_value: {e}")))?;
    Ok(OurSettlement {
        amount,
        quote_price,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn fact(kind: FactKind, payment: &str) -> SettledPaymentFact {
        SettledPaymentFact {
            kind,
            payment_id: payment.into(),
            refund_id: (kind == FactKind::Refund).then(|| format!("{payment}-r")),
            merchant_id: "m".into(),
            network: "n".into(),
            amount: Money::from_minor(100, Currency::JPY).unwrap(),
            wallet_amount: None,
            network_reference: Some(format!("n-{payment}")),
            at_ms: 0,
        }
    }

    #[test]
    fn a_reversal_marks_its_payment_and_one_of_another_day_is_dropped() {
        let facts = [
            fact(FactKind::Payment, "p1"),
            fact(FactKind::Payment, "p2"),
            fact(FactKind::Reversal, "p2"),
            fact(FactKind::Reversal, "p-yesterday"),
            fact(FactKind::Refund, "p1"),
        ];
        let (payments, refunds) = from_facts(&facts);
        let reversed: Vec<(&str, bool)> = payments
            .iter()
            .map(|p| (p.payment_id.as_str(), p.reversed))
            .collect();
        assert_eq!(reversed, [("p1", false), ("p2", true)]);
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0].refund_id, "p1-r");
        assert_eq!(refunds[0].network_refund_id.as_deref(), Some("n-p1"));
    }
}
