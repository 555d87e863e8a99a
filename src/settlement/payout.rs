//! Merchant payouts: one consolidated payout per merchant across all networks on its cycle
//! (e.g. month-end close, paid two business days later), written as a Zengin 総合振込 file.
//! The amount is what the ledger says we owe the merchant at the close; the payout posting
//! clears it.
use serde::Deserialize;

use super::business_date::BusinessDate;
use super::calendar::{self, CalendarError};
use super::config::MerchantSetup;
use super::zengin::{AccountType, DataRecord, Header, ZenginError, ZenginFile};

/// When a merchant's payout period closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayoutCycle {
    /// 月末締め: the period is the calendar month.
    MonthEnd,
    /// The 15th and month-end.
    SemiMonthly,
    /// Every business date.
    Daily,
}

/// A checked bank account; names already in the Zengin set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
    pub account_type: AccountType,
    /// 7 digits, zero-filled.
    pub account_number: String,
    pub holder: String,
}

/// Our side of the transfer: the Zengin header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remitter {
    pub requester_code: String,
    pub name: String,
    pub account: BankAccount,
}

/// One merchant's payout for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// `<merchant>/<period end>`: the payout posting's reference.
    pub payout_id: String,
    pub merchant_id: String,
    pub amount_yen: u64,
    pub period_to: BusinessDate,
    pub transfer_date: BusinessDate,
    pub customer_code: Option<String>,
    pub bank: BankAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutError {
    #[error("{0}")]
    Calendar(#[from] CalendarError),
    #[error("{0}")]
    Zengin(#[from] ZenginError),
    #[error("the transfer date {0} is not a bank business day")]
    NotABusinessDay(BusinessDate),
    #[error("payouts in one file share one transfer date")]
    MixedDates,
    #[error("merchant {merchant}: {source}")]
    Merchant {
        merchant: String,
        source: ZenginError,
    },
}

// === impl PayoutCycle ===

impl PayoutCycle {
    /// Whether a period closes at the end of `date`.
    pub fn closes_on(self, date: BusinessDate) -> bool {
        match self {
            Self::MonthEnd => date == date.month_end(),
            Self::SemiMonthly => date.date().day() == 15 || date == date.month_end(),
            Self::Daily => true,
        }
    }

    /// The first date of the period that closes on `date`.
    pub fn period_start(self, date: BusinessDate) -> BusinessDate {
        let d = date.date();
        let first = |day| BusinessDate::new(d.replace_day(day).unwrap_or(d));
        match self {
            Self::MonthEnd => first(1),
            Self::SemiMonthly if d.day() > 15 => first(16),
            Self::SemiMonthly => first(1),
            Self::Daily => date,
        }
    }
}

/// The merchant's transfer date for a period closing on `close`: `n` bank business days
/// after it.
pub fn transfer_date(
    merchant: &MerchantSetup,
    close: BusinessDate,
) -> Result<BusinessDate, PayoutError> {
    Ok(calendar::add_business_days(
        close,
        merchant.business_days_after,
    )?)
}

/// The payout for `merchant`, or `None` when nothing is owed (a zero or negative payable:
/// zero-yen records are dropped before writing, payouts-jp.md §1.10).
pub fn plan_payout(
    merchant: &MerchantSetup,
    owed_yen: i64,
    close: BusinessDate,
) -> Result<Option<Payout>, PayoutError> {
    let Ok(amount_yen) = u64::try_from(owed_yen) else {
        return Ok(None);
    };
    if amount_yen == 0 {
        return Ok(None);
    }
    Ok(Some(Payout {
        payout_id: format!("{}/{close}", merchant.merchant_id),
        merchant_id: merchant.merchant_id.clone(),
        amount_yen,
        period_to: close,
        transfer_date: transfer_date(merchant, close)?,
        customer_code: merchant.customer_code.clone(),
        bank: merchant.bank.clone(),
    }))
}

/// The Zengin file paying `payouts`, all on one transfer date, from `remitter`'s account.
pub fn zengin_file(remitter: &Remitter, payouts: &[Payout]) -> Result<ZenginFile, PayoutError> {
    let Some(first) = payouts.first() else {
        return Err(ZenginError::RecordCount.into());
    };
    let date = first.transfer_date;
    if payouts.iter().any(|p| p.transfer_date != date) {
        return Err(PayoutError::MixedDates);
    }
    if !calendar::is_bank_business_day(date)? {
        return Err(PayoutError::NotABusinessDay(date));
    }
    let header = Header {
        requester_code: remitter.requester_code.clone(),
        requester_name: remitter.name.clone(),
        transfer_month: u8::from(date.date().month()),
        transfer_day: date.date().day(),
        bank_code: remitter.account.bank_code.clone(),
        bank_name: remitter.account.bank_name.clone(),
        branch_code: remitter.account.branch_code.clone(),
        branch_name: remitter.account.branch_name.clone(),
        account_type: remitter.account.account_type,
        account_number: remitter.account.account_number.clone(),
    };
    let records = payouts
        .iter()
        .map(|p| DataRecord {
            bank_code: p.bank.bank_code.clone(),
            bank_name: p.bank.bank_name.clone(),
            branch_code: p.bank.branch_code.clone(),
            branch_name: p.bank.branch_name.clone(),
            account_type: p.bank.account_type,
            account_number: p.bank.account_number.clone(),
            payee_name: p.bank.holder.clone(),
            amount_yen: p.amount_yen,
            customer_code1: p.customer_code.clone(),
            customer_code2: None,
        })
        .collect();
    let file = ZenginFile { header, records };
    // Write once here so a bad record is reported with its merchant, not by position.
    for (payout, record) in payouts.iter().zip(&file.records) {
        let single = ZenginFile {
            header: file.header.clone(),
            records: vec![record.clone()],
        };
        single.write().map_err(|source| PayoutError::Merchant {
            merchant: payout.merchant_id.clone(),
            source,
        })?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> BusinessDate {
        text.parse().unwrap()
    }

    #[test]
    fn cycles_close_and_start_where_they_say() {
        assert!(PayoutCycle::MonthEnd.closes_on(date("2026-12-31")));
        assert!(!PayoutCycle::MonthEnd.closes_on(date("2026-12-30")));
        assert!(PayoutCycle::MonthEnd.closes_on(date("2028-02-29")));
        assert_eq!(
            PayoutCycle::MonthEnd.period_start(date("2026-12-31")),
            date("2026-12-01")
        );
        assert!(PayoutCycle::SemiMonthly.closes_on(date("2026-12-15")));
        assert_eq!(
            PayoutCycle::SemiMonthly.period_start(date("2026-12-31")),
            date("2026-12-16")
        );
        assert_eq!(
            PayoutCycle::Daily.period_start(date("2026-12-24")),
            date("2026-12-24")
        );
    }
}
