//! The `[settlement]` section: cut-off and currencies per network, fee rates with effective
//! dates, the consumption-tax rule, the qualified-invoice issuer, the remitting account and
//! each merchant's payout cycle and bank account. [`SettlementConfig::build`] checks it all
//! and yields [`SettlementSetup`], the form the rest of settlement works with.
use std::collections::BTreeMap;

use iso_currency::Currency;
use kakehashi_adapter_core::money::parse_currency;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::business_date::{BusinessDate, Cutoff};
use super::fees::{FeeRate, FeeSchedule};
use super::invoice::RegistrationNumber;
use super::kana;
use super::payout::{BankAccount, PayoutCycle, Remitter};
use super::zengin::AccountType;
use crate::fx::RoundingMode;

/// Most fee-rate rows per network.
const FEE_RATES_MAX: usize = 10_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementConfig {
    /// 適格請求書発行事業者登録番号: `T` + 13 digits.
    pub registration_number: String,
    /// The issuer's name as it appears on fee invoices.
    pub issuer_name: String,
    /// Consumption tax on fees, a decimal string (default "0.10").
    #[serde(default)]
    pub tax_rate: Option<String>,
    /// How the invoice's tax is rounded, once per invoice (default `down`, 切り捨て).
    #[serde(default)]
    pub tax_rounding: Option<RoundingMode>,
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkConfig>,
    #[serde(default)]
    pub merchants: BTreeMap<String, MerchantConfig>,
    /// Our account that pays merchants (the Zengin header).
    #[serde(default)]
    pub remitter: Option<RemitterConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// When the business day closes, JST, `HH:MM[:SS]` (default "24:00": calendar days).
    #[serde(default)]
    pub cutoff: Option<String>,
    /// The currency merchants are paid in (default JPY).
    #[serde(default)]
    pub currency: Option<String>,
    /// The currency the network pays us in (default: `currency`).
    #[serde(default)]
    pub settlement_currency: Option<String>,
    /// Whether this network's fees bear consumption tax (standards.md §5.3: code-payment fees
    /// usually do; card-funded ones may not; tax counsel decides).
    pub fee_taxable: bool,
    /// Rounding of the fee on a batch line (default `down`).
    #[serde(default)]
    pub fee_rounding: Option<RoundingMode>,
    pub fees: Vec<FeeRateConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeRateConfig {
    /// The merchant it applies to; absent = every merchant without its own rate.
    #[serde(default)]
    pub merchant: Option<String>,
    /// Merchant discount rate, a decimal string ("0.0198" = 1.98 %).
    pub rate: String,
    /// First business date it applies to.
    pub from: String,
    /// First business date it no longer applies to (absent: open-ended).
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    /// The recipient's name on its fee invoice.
    pub name: String,
    /// 顧客コード1 in the Zengin file (digits, at most 10).
    #[serde(default)]
    pub customer_code: Option<String>,
    pub payout: PayoutCycleConfig,
    pub bank: BankAccountConfig,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutCycleConfig {
    pub cycle: PayoutCycle,
    /// Business days after the close the money arrives (翌々営業日 = 2).
    pub business_days_after: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountConfig {
    pub bank_code: String,
    pub bank_name_kana: String,
    pub branch_code: String,
    pub branch_name_kana: String,
    pub account_type: AccountType,
    pub account_number: String,
    /// 口座名義 in kana (full- or half-width, hiragana allowed).
    pub holder_kana: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemitterConfig {
    /// 振込依頼人コード, 10 digits from the bank.
    pub requester_code: String,
    pub name_kana: String,
    pub bank_code: String,
    pub bank_name_kana: String,
    pub branch_code: String,
    pub branch_name_kana: String,
    pub account_type: AccountType,
    pub account_number: String,
}

/// A network's checked settlement rules.
#[derive(Debug, Clone)]
pub struct NetworkRules {
    pub network: String,
    pub cutoff: Cutoff,
    pub currency: Currency,
    pub settlement_currency: Currency,
    pub fee_taxable: bool,
    pub fee_rounding: RoundingMode,
    pub fees: FeeSchedule,
}

#[derive(Debug, Clone)]
pub struct MerchantSetup {
    pub merchant_id: String,
    pub name: String,
    pub customer_code: Option<String>,
    pub cycle: PayoutCycle,
    pub business_days_after: u32,
    pub bank: BankAccount,
}

/// Everything settlement needs, checked.
#[derive(Debug, Clone)]
pub struct SettlementSetup {
    pub registration_number: RegistrationNumber,
    pub issuer_name: String,
    pub tax_rate: Decimal,
    pub tax_rounding: RoundingMode,
    pub networks: BTreeMap<String, NetworkRules>,
    pub merchants: BTreeMap<String, MerchantSetup>,
    pub remitter: Option<Remitter>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("settlement.{place}: {reason}")]
pub struct SettlementConfigError {
    pub place: String,
    pub reason: String,
}

// === impl SettlementConfig ===

impl SettlementConfig {
    pub fn build(&self) -> Result<SettlementSetup, SettlementConfigError> {
        let registration_number = RegistrationNumber::parse(&self.registration_number)
            .map_err(|e| err("registration_number", e))?;
        if self.issuer_name.trim().is_empty() {
            return Err(err("issuer_name", "must not be empty"));
        }
        let tax_rate = decimal(self.tax_rate.as_deref().unwrap_or("0.10"))
            .filter(|r| *r >= Decimal::ZERO && *r < Decimal::ONE && r.scale() <= 4)
            .ok_or_else(|| {
                err(
                    "tax_rate",
                    "a decimal string from 0 to below 1, e.g. \"0.10\"",
                )
            })?;
        let mut networks = BTreeMap::new();
        for (network, config) in &self.networks {
            networks.insert(network.clone(), config.build(network)?);
        }
        let mut merchants = BTreeMap::new();
        for (merchant, config) in &self.merchants {
            merchants.insert(merchant.clone(), config.build(merchant)?);
        }
        let remitter = self
            .remitter
            .as_ref()
            .map(RemitterConfig::build)
            .transpose()?;
        Ok(SettlementSetup {
            registration_number,
            issuer_name: self.issuer_name.clone(),
            tax_rate,
            tax_rounding: self.tax_rounding.unwrap_or(RoundingMode::Down),
            networks,
            merchants,
            remitter,
        })
    }
}

impl NetworkConfig {
    fn build(&self, network: &str) -> Result<NetworkRules, SettlementConfigError> {
        let place = |field: &str| format!("networks.{network}.{field}");
        let cutoff = match &self.cutoff {
            Some(text) => Cutoff::parse(text).map_err(|e| err(&place("cutoff"), e))?,
            None => Cutoff::MIDNIGHT,
        };
        let currency = currency(
            self.currency.as_deref().unwrap_or("JPY"),
            &place("currency"),
        )?;
        let settlement_currency = match &self.settlement_currency {
            Some(code) => self::currency(code, &place("settlement_currency"))?,
            None => currency,
        };
        if self.fees.len() > FEE_RATES_MAX {
            return Err(err(&place("fees"), "too many rows"));
        }
        let mut rates = Vec::with_capacity(self.fees.len());
        for (index, row) in self.fees.iter().enumerate() {
            rates.push(
                row.build()
                    .map_err(|reason| err(&place(&format!("fees[{index}]")), reason))?,
            );
        }
        let fees = FeeSchedule::new(rates).map_err(|e| err(&place("fees"), e))?;
        Ok(NetworkRules {
            network: network.to_owned(),
            cutoff,
            currency,
            settlement_currency,
            fee_taxable: self.fee_taxable,
            fee_rounding: self.fee_rounding.unwrap_or(RoundingMode::Down),
            fees,
        })
    }
}

impl FeeRateConfig {
    fn build(&self) -> Result<FeeRate, String> {
        let rate = decimal(&self.rate)
            .filter(|r| *r >= Decimal::ZERO && *r < Decimal::ONE && r.scale() <= 6)
            .ok_or("rate must be a decimal string from 0 to below 1 with at most 6 decimals")?;
        let from: BusinessDate = self.from.parse().map_err(|e| format!("from: {e}"))?;
        let to = match &self.to {
            Some(text) => Some(
                text.parse::<BusinessDate>()
                    .map_err(|e| format!("to: {e}"))?,
            ),
            None => None,
        };
        if to.is_some_and(|to| to <= from) {
            return Err("to must be after from".into());
        }
        Ok(FeeRate {
            merchant: self.merchant.clone(),
            rate,
            from,
            to,
        })
    }
}

impl MerchantConfig {
    fn build(&self, merchant: &str) -> Result<MerchantSetup, SettlementConfigError> {
        let place = |field: &str| format!("merchants.{merchant}.{field}");
        if let Some(code) = &self.customer_code
            && (code.is_empty() || code.len() > 10 || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(err(&place("customer_code"), "1 to 10 digits"));
        }
        if self.payout.business_days_after > 20 {
            return Err(err(&place("payout.business_days_after"), "at most 20"));
        }
        let bank = self
            .bank
            .build()
            .map_err(|(field, reason)| err(&place(&format!("bank.{field}")), reason))?;
        Ok(MerchantSetup {
            merchant_id: merchant.to_owned(),
            name: self.name.clone(),
            customer_code: self.customer_code.clone(),
            cycle: self.payout.cycle,
            business_days_after: self.payout.business_days_after,
            bank,
        })
    }
}

impl BankAccountConfig {
    /// Bank code 4 digits, branch 3, account number 1–7 digits (zero-filled to 7), a payee
    /// account type, and names that convert to the Zengin set within their field widths.
    fn build(&self) -> Result<BankAccount, (&'static str, String)> {
        digits(&self.bank_code, 4, 4).map_err(|r| ("bank_code", r))?;
        digits(&self.branch_code, 3, 3).map_err(|r| ("branch_code", r))?;
        digits(&self.account_number, 1, 7).map_err(|r| ("account_number", r))?;
        let name = |field: &'static str, text: &str, max: usize| {
            kana::to_zengin_field(text, max).map_err(|e| (field, e.to_string()))
        };
        Ok(BankAccount {
            bank_code: self.bank_code.clone(),
            bank_name: name("bank_name_kana", &self.bank_name_kana, 15)?,
            branch_code: self.branch_code.clone(),
            branch_name: name("branch_name_kana", &self.branch_name_kana, 15)?,
            account_type: self.account_type,
            account_number: format!("{:0>7}", self.account_number),
            holder: name("holder_kana", &self.holder_kana, 30)?,
        })
    }
}

impl RemitterConfig {
    fn build(&self) -> Result<Remitter, SettlementConfigError> {
        let place = |field: &str| format!("remitter.{field}");
        digits(&self.requester_code, 10, 10).map_err(|r| err(&place("requester_code"), r))?;
        if matches!(self.account_type, AccountType::Savings) {
            return Err(err(
                &place("account_type"),
                "a remitter's account is ordinary, current or other",
            ));
        }
        let account = BankAccountConfig {
            bank_code: self.bank_code.clone(),
            bank_name_kana: self.bank_name_kana.clone(),
            branch_code: self.branch_code.clone(),
            branch_name_kana: self.branch_name_kana.clone(),
            account_type: self.account_type,
            account_number: self.account_number.clone(),
            holder_kana: self.name_kana.clone(),
        };
        let name =
            kana::to_zengin_field(&self.name_kana, 40).map_err(|e| err(&place("name_kana"), e))?;
        let account = account
            .build()
            .map_err(|(field, reason)| err(&place(field), reason))?;
        Ok(Remitter {
            requester_code: self.requester_code.clone(),
            name,
            account,
        })
    }
}

fn digits(text: &str, min: usize, max: usize) -> Result<(), String> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if min == max {
            format!("must be exactly {max} digits")
        } else {
            format!("must be {min} to {max} digits")
        });
    }
    Ok(())
}

fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text).ok().map(|d| d.normalize())
}

fn currency(code: &str, place: &str) -> Result<Currency, SettlementConfigError> {
    parse_currency(code).map_err(|e| err(place, e))
}

fn err(place: &str, reason: impl std::fmt::Display) -> SettlementConfigError {
    SettlementConfigError {
        place: place.to_owned(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
registration_number = "T1180301018771"
issuer_name = "Kakehashi"
[networks.paypay]
fee_taxable = true
fees = [{ rate = "0.0198", from = "2026-01-01" }]
[merchants.m1]
name = "M1"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "0005", bank_name_kana = "ミツビシユ－エフジエイ", branch_code = "001", branch_name_kana = "ホンテン", account_type = "ordinary", account_number = "12345", holder_kana = "サクラショウテン(カ" }
"#;

    fn build(text: &str) -> Result<SettlementSetup, SettlementConfigError> {
        toml::from_str::<SettlementConfig>(text).unwrap().build()
    }

    #[test]
    fn a_valid_section_builds_with_its_defaults() {
        let setup = build(BASE).unwrap();
        let paypay = &setup.networks["paypay"];
        assert_eq!(paypay.cutoff, Cutoff::MIDNIGHT);
        assert_eq!(paypay.settlement_currency, Currency::JPY);
        assert_eq!(setup.tax_rate, Decimal::new(1, 1));
        assert_eq!(setup.tax_rounding, RoundingMode::Down);
        let bank = &setup.merchants["m1"].bank;
        assert_eq!(bank.account_number, "0012345");
        assert_eq!(bank.holder, "ｻｸﾗｼﾖｳﾃﾝ(ｶ");
    }

    #[test]
    fn each_bad_bank_field_is_named() {
        let cases = [
            (
                "bank_code = \"0005\"",
                "bank_code = \"005\"",
                "bank.bank_code",
            ),
            (
                "branch_code = \"001\"",
                "branch_code = \"0011\"",
                "bank.branch_code",
            ),
            (
                "account_number = \"12345\"",
                "account_number = \"12345678\"",
                "bank.account_number",
            ),
            (
                "account_number = \"12345\"",
                "account_number = \"12-45\"",
                "bank.account_number",
            ),
            (
                "holder_kana = \"サクラショウテン(カ\"",
                "holder_kana = \"さくら商店\"",
                "bank.holder_kana",
            ),
            ("T1180301018771", "T1180301018772", "registration_number"),
            ("rate = \"0.0198\"", "rate = \"1.5\"", "fees[0]"),
            (
                "fee_taxable = true",
                "fee_taxable = true\ncutoff = \"00:00\"",
                "cutoff",
            ),
        ];
        for (from, to, place) in cases {
            let error = build(&BASE.replace(from, to)).unwrap_err();
            assert!(error.place.ends_with(place), "{to}: {error}");
        }
        let holder = build(&BASE.replace("サクラショウテン(カ", "さくら商店")).unwrap_err();
        assert!(holder.to_string().contains("merchants.m1") && holder.reason.contains('商'));
        let wrong_type = "account_type = \"ordinary\", account_number = \"12345\"";
        let text = BASE.replace(
            wrong_type,
            "account_type = \"savings-ish\", account_number = \"12345\"",
        );
        assert!(toml::from_str::<SettlementConfig>(&text).is_err());
    }
}
