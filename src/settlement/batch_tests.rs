//! close_batch: a day's figures per merchant, each traceable to its payments.
use rust_decimal_macros::dec;

use super::*;
use crate::settlement::business_date::Cutoff;
use crate::settlement::fees::{FeeRate, FeeSchedule};

fn date() -> BusinessDate {
    "2026-12-24".parse().unwrap()
}

fn rules(settlement: Currency) -> NetworkRules {
    NetworkRules {
        network: "paypay".into(),
        cutoff: Cutoff::MIDNIGHT,
        currency: Currency::JPY,
        settlement_currency: settlement,
        fee_taxable: true,
        fee_rounding: RoundingMode::Down,
        fees: FeeSchedule::new(vec![
            FeeRate {
                merchant: None,
                rate: dec!(0.0198),
                from: date(),
                to: None,
            },
            FeeRate {
                merchant: Some("m2".into()),
                rate: dec!(0.016),
                from: date(),
                to: None,
            },
        ])
        .unwrap(),
    }
}

fn batch_rules(network: &NetworkRules) -> BatchRules<'_> {
    BatchRules {
        network,
        tax_rate: dec!(0.10),
        tax_rounding: RoundingMode::Down,
        conversion_rate: Some(dec!(0.0065)),
        fx_rounding: RoundingMode::HalfEven,
    }
}

fn fact(kind: FactKind, id: &str, merchant: &str, yen: i64) -> SettledPaymentFact {
    SettledPaymentFact {
        kind,
        payment_id: format!("pay_{id}"),
        refund_id: (kind == FactKind::Refund).then(|| format!("ref_{id}")),
        merchant_id: merchant.into(),
        network: "paypay".into(),
        amount: Money::from_minor(yen, Currency::JPY).unwrap(),
        wallet_amount: None,
        network_reference: None,
        at_ms: 0,
    }
}

fn day() -> Vec<SettledPaymentFact> {
    vec![
        fact(FactKind::Payment, "1", "m1", 12_345),
        fact(FactKind::Payment, "2", "m1", 1_000),
        fact(FactKind::Refund, "1", "m1", 345),
        fact(FactKind::Payment, "3", "m2", 50_000),
        fact(FactKind::Reversal, "3", "m2", 50_000),
        fact(FactKind::Payment, "4", "m2", 9_999),
    ]
}

#[test]
fn each_merchant_nets_gross_less_refunds_fee_and_tax() {
    let network = rules(Currency::JPY);
    let batch = close_batch("paypay", date(), &day(), &batch_rules(&network)).unwrap();
    assert_eq!(batch.batch_id, "paypay/2026-12-24");
    let m1 = &batch.lines[0];
    assert_eq!((m1.gross_minor, m1.refunds_minor), (13_345, 345));
    // 13,000 × 1.98 % = 257.4 → 257 (down); tax 25.7 → 25.
    assert_eq!(
        (m1.fee_minor, m1.tax_minor, m1.net_minor),
        (257, 25, 12_718)
    );
    assert_eq!(m1.payment_ids, ["pay_1", "pay_2"]);
    assert_eq!(m1.refund_ids, ["ref_1"]);
    let m2 = &batch.lines[1];
    assert_eq!(m2.fee_rate, dec!(0.016), "its own rate");
    assert_eq!(m2.reversal_ids, ["pay_3"]);
    // 9,999 × 1.6 % = 159.984 → 159; tax 15.
    assert_eq!((m2.fee_minor, m2.tax_minor, m2.net_minor), (159, 15, 9_825));
    let t = &batch.totals;
    assert_eq!((t.payments, t.refunds, t.reversals), (4, 1, 1));
    assert_eq!(t.net_minor, m1.net_minor + m2.net_minor);
    assert_eq!(
        t.gross_minor - t.refunds_minor - t.reversals_minor - t.fee_minor - t.tax_minor,
        t.net_minor
    );
    assert_eq!(batch.conversion, None);
}

#[test]
fn a_network_settling_in_another_currency_converts_the_receivable_once() {
    let network = rules(Currency::USD);
    let batch = close_batch("paypay", date(), &day(), &batch_rules(&network)).unwrap();
    let c = batch.conversion.unwrap();
    // 22,999 × 0.0065 = 149.4935 USD → 14949.35 cents → half-even 14949.
    assert_eq!(batch.totals.receivable_minor, 22_999);
    assert_eq!(
        (c.settlement_currency, c.receivable_minor),
        (Currency::USD, 14_949)
    );
    let mut no_rate = batch_rules(&network);
    no_rate.conversion_rate = None;
    assert!(matches!(
        close_batch("paypay", date(), &day(), &no_rate),
        Err(BatchError::NoSettlementRate { .. })
    ));
}

#[test]
fn a_taxless_network_charges_no_tax_and_refunds_beyond_sales_pay_no_fee() {
    let mut network = rules(Currency::JPY);
    network.fee_taxable = false;
    let facts = vec![
        fact(FactKind::Payment, "1", "m1", 100),
        fact(FactKind::Refund, "2", "m1", 500),
    ];
    let batch = close_batch("paypay", date(), &facts, &batch_rules(&network)).unwrap();
    let line = &batch.lines[0];
    assert_eq!(
        (
            line.fee_base_minor,
            line.fee_minor,
            line.tax_minor,
            line.net_minor
        ),
        (0, 0, 0, -400)
    );
}

#[test]
fn facts_from_elsewhere_or_without_a_rate_are_refused() {
    let network = rules(Currency::JPY);
    let mut other = day();
    other[0].network = "wechatpay".into();
    assert!(matches!(
        close_batch("paypay", date(), &other, &batch_rules(&network)),
        Err(BatchError::WrongNetwork { .. })
    ));
    let mut cny = day();
    cny[0].amount = Money::parse("1.00", "CNY").unwrap();
    assert!(matches!(
        close_batch("paypay", date(), &cny, &batch_rules(&network)),
        Err(BatchError::WrongCurrency { found: "CNY", .. })
    ));
    let early = BusinessDate::from_ymd(2026, 1, 1).unwrap();
    assert!(matches!(
        close_batch("paypay", early, &day(), &batch_rules(&network)),
        Err(BatchError::NoFeeRate { .. })
    ));
}
