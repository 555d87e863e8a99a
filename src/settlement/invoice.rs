//! The fee invoice per merchant and period, with what a qualified invoice (適格請求書,
//! payouts-jp.md §4) must carry: the issuer's name and registration number, the period of
//! supply, the items, the consideration totalled per tax rate with the rate, the consumption
//! tax per rate, and the recipient's name.
//!
//! Tax is **rounded once per invoice per rate** (消費税法施行令70条の10, 基本通達1-8-15, NTA Q&A
//! 問46/問57 as cited in payouts-jp.md §4): the tax on the sum of the period's taxable fees,
//! never the sum of per-line taxes. Each batch line already charged a provisional tax on its
//! own fee; the invoice states the difference (`tax_adjustment_minor`), which is posted to
//! the merchant's payable before the payout.
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde_json::json;

use super::batch::{Batch, apply_rate};
use super::business_date::BusinessDate;
use super::config::{MerchantSetup, SettlementSetup};
use crate::fx::convert::minor_to_string;

/// Most items one invoice lists (a line per network per day for a month, with room).
pub const ITEMS_MAX: usize = 10_000;

/// 登録番号: `T` + 13 digits whose first is the 法人番号 check digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationNumber(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceItem {
    pub business_date: BusinessDate,
    pub network: String,
    pub fee_minor: i64,
    pub taxable: bool,
    /// The provisional tax the batch line charged.
    pub batch_tax_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub invoice_id: String,
    pub registration_number: RegistrationNumber,
    pub issuer_name: String,
    pub recipient_name: String,
    pub merchant_id: String,
    pub issue_date: BusinessDate,
    pub period_from: BusinessDate,
    pub period_to: BusinessDate,
    pub currency: Currency,
    pub items: Vec<InvoiceItem>,
    pub tax_rate: Decimal,
    /// Fees at the standard rate, tax excluded.
    pub taxable_total_minor: i64,
    /// The tax on `taxable_total_minor`, rounded once.
    pub tax_minor: i64,
    pub non_taxable_total_minor: i64,
    pub batch_tax_minor: i64,
    /// `tax_minor − batch_tax_minor`: what the merchant still owes (or is owed) in tax.
    pub tax_adjustment_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("`{0}` is not a registration number: write T and 13 digits")]
    BadFormat(String),
    #[error("registration number {0}: the check digit does not match")]
    CheckDigit(String),
    #[error(
        "batches of merchant {merchant} are in {first} and {second}; an invoice has one currency"
    )]
    MixedCurrencies {
        merchant: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("an invoice lists at most {ITEMS_MAX} items")]
    TooManyItems,
}

// === impl RegistrationNumber ===

impl RegistrationNumber {
    /// Checks `T` + 13 digits and the check digit (the first digit): 9 − ((2 × the sum of the
    /// odd-placed + the sum of the even-placed digits of the 12-digit body) mod 9), as NTA's
    /// corporate-number rule defines it (payouts-jp.md §4; `T1180301018771` passes).
    pub fn parse(text: &str) -> Result<Self, InvoiceError> {
        let digits = text
            .strip_prefix('T')
            .filter(|d| d.len() == 13 && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| InvoiceError::BadFormat(text.chars().take(20).collect()))?;
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let (check, body) = values.split_at(1);
        let weighted: u32 = body
            .iter()
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { 2 * d } else { *d })
            .sum();
        if check[0] != 9 - weighted % 9 {
            return Err(InvoiceError::CheckDigit(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// === impl Invoice ===

/// The invoice for `merchant` over the batches whose business date falls in
/// `period_from..=period_to`.
pub fn build_invoice(
    setup: &SettlementSetup,
    merchant: &MerchantSetup,
    period_from: BusinessDate,
    period_to: BusinessDate,
    issue_date: BusinessDate,
    batches: &[Batch],
) -> Result<Invoice, InvoiceError> {
    let mut items = Vec::new();
    let mut currency: Option<Currency> = None;
    for batch in batches {
        if batch.business_date < period_from || batch.business_date > period_to {
            continue;
        }
        for line in batch
            .lines
            .iter()
            .filter(|l| l.merchant_id == merchant.merchant_id)
        {
            if let Some(first) = currency.filter(|c| *c != batch.currency) {
                return Err(InvoiceError::MixedCurrencies {
                    merchant: merchant.merchant_id.clone(),
                    first: first.code(),
                    second: batch.currency.code(),
                });
            }
            currency = Some(batch.currency);
            if line.fee_minor > 0 {
                items.push(InvoiceItem {
                    business_date: batch.business_date,
                    network: batch.network.clone(),
                    fee_minor: line.fee_minor,
                    taxable: batch.fee_taxable,
                    batch_tax_minor: line.tax_minor,
                });
            }
        }
    }
    if items.len() > ITEMS_MAX {
        return Err(InvoiceError::TooManyItems);
    }
    items.sort_by(|a, b| (a.business_date, &a.network).cmp(&(b.business_date, &b.network)));
    let sum = |taxable: bool| -> i64 {
        items
            .iter()
            .filter(|i| i.taxable == taxable)
            .map(|i| i.fee_minor)
            .sum()
    };
    let taxable_total_minor = sum(true);
    let tax_minor = apply_rate(taxable_total_minor, setup.tax_rate, setup.tax_rounding);
    let batch_tax_minor = items.iter().map(|i| i.batch_tax_minor).sum();
    let non_taxable_total_minor = sum(false);
    Ok(Invoice {
        invoice_id: format!("inv/{}/{period_from}/{period_to}", merchant.merchant_id),
        registration_number: setup.registration_number.clone(),
        issuer_name: setup.issuer_name.clone(),
        recipient_name: merchant.name.clone(),
        merchant_id: merchant.merchant_id.clone(),
        issue_date,
        period_from,
        period_to,
        currency: currency.unwrap_or(Currency::JPY),
        items,
        tax_rate: setup.tax_rate,
        taxable_total_minor,
        tax_minor,
        non_taxable_total_minor,
        batch_tax_minor,
        tax_adjustment_minor: tax_minor - batch_tax_minor,
    })
}

impl Invoice {
    pub fn total_minor(&self) -> i64 {
        self.taxable_total_minor + self.tax_minor + self.non_taxable_total_minor
    }

    /// JSON with every amount as an exact decimal string.
    pub fn to_json(&self) -> serde_json::Value {
        let m = |minor| minor_to_string(minor, self.currency);
        let percent = (self.tax_rate * Decimal::ONE_HUNDRED).normalize();
        json!({
            "invoice_id": self.invoice_id,
            "registration_number": self.registration_number.as_str(),
            "issuer_name": self.issuer_name,
            "recipient_name": self.recipient_name,
            "merchant_id": self.merchant_id,
            "issue_date": self.issue_date.to_string(),
            "period": { "from": self.period_from.to_string(), "to": self.period_to.to_string() },
            "currency": self.currency.code(),
            "items": self.items.iter().map(|i| json!({
                "business_date": i.business_date.to_string(),
                "description": format!("決済手数料 {}", i.network),
                "amount": m(i.fee_minor),
                "tax_rate": if i.taxable { format!("{percent}%") } else { "非課税".to_owned() },
            })).collect::<Vec<_>>(),
            "per_rate": [{
                "tax_rate": format!("{percent}%"),
                "amount_excluding_tax": m(self.taxable_total_minor),
                "tax": m(self.tax_minor),
            }],
            "non_taxable": m(self.non_taxable_total_minor),
            "total_including_tax": m(self.total_minor()),
            "tax_adjustment": m(self.tax_adjustment_minor),
        })
    }

    /// A plain-text rendering with the Japanese labels a reader expects.
    pub fn to_text(&self) -> String {
        let m = |minor| minor_to_string(minor, self.currency);
        let percent = (self.tax_rate * Decimal::ONE_HUNDRED).normalize();
        let mut out = format!(
            "適格請求書\n発行者: {} (登録番号 {})\n宛先: {} 御中\n発行日: {}\n対象期間: {} 〜 {}\n\n",
            self.issuer_name,
            self.registration_number.as_str(),
            self.recipient_name,
            self.issue_date,
            self.period_from,
            self.period_to
        );
        for item in &self.items {
            let mark = if item.taxable { "" } else { " (非課税)" };
            out.push_str(&format!(
                "{}  決済手数料 {}{mark}  {} {}\n",
                item.business_date,
                item.network,
                m(item.fee_minor),
                self.currency.code()
            ));
        }
        out.push_str(&format!(
            "\n{percent}%対象 {} (税抜)  消費税 {}\n非課税 {}\n合計 {} {}\n",
            m(self.taxable_total_minor),
            m(self.tax_minor),
            m(self.non_taxable_total_minor),
            m(self.total_minor()),
            self.currency.code()
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_numbers_need_t_thirteen_digits_and_the_check_digit() {
        assert_eq!(
            RegistrationNumber::parse("T1180301018771")
                .unwrap()
                .as_str(),
            "T1180301018771"
        );
        assert!(matches!(
            RegistrationNumber::parse("T2180301018771"),
            Err(InvoiceError::CheckDigit(_))
        ));
        for bad in [
            "1180301018771",
            "T118030101877",
            "T11803010187711",
            "t1180301018771",
            "T118030101877X",
        ] {
            assert!(
                matches!(
                    RegistrationNumber::parse(bad),
                    Err(InvoiceError::BadFormat(_))
                ),
                "{bad}"
            );
        }
    }
}
