//! Ledger accounts. Each is per merchant or per network; the currency is the line's, so an
//! account holds one balance per currency.
use std::fmt;
use std::str::FromStr;

use super::LedgerError;

/// Longest merchant or network id an account name carries.
const OWNER_BYTES_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// What we owe a merchant for its payments, less refunds, fees and payouts (credit-normal).
    MerchantPayable { merchant: String },
    /// What a network owes us for the payments it took (debit-normal).
    NetworkReceivable { network: String },
    /// The merchant discount fees we earned through a network (credit-normal).
    FeeRevenue { network: String },
    /// Consumption tax charged on fees, owed to the tax office (credit-normal).
    TaxPayable,
    /// The currency position of a network's conversions: where the receivable in one currency
    /// meets the settlement in another. Each currency balances on its own.
    FxDifference { network: String },
    /// Our bank account: settlements come in, payouts go out (debit-normal).
    Bank,
}

// === impl Account ===

impl Account {
    pub fn merchant_payable(merchant: &str) -> Self {
        Self::MerchantPayable {
            merchant: merchant.to_owned(),
        }
    }

    pub fn network_receivable(network: &str) -> Self {
        Self::NetworkReceivable {
            network: network.to_owned(),
        }
    }

    pub fn fee_revenue(network: &str) -> Self {
        Self::FeeRevenue {
            network: network.to_owned(),
        }
    }

    pub fn fx_difference(network: &str) -> Self {
        Self::FxDifference {
            network: network.to_owned(),
        }
    }

    fn owner(&self) -> Option<&str> {
        match self {
            Self::MerchantPayable { merchant } => Some(merchant),
            Self::NetworkReceivable { network }
            | Self::FeeRevenue { network }
            | Self::FxDifference { network } => Some(network),
            Self::TaxPayable | Self::Bank => None,
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            Self::MerchantPayable { .. } => "merchant_payable",
            Self::NetworkReceivable { .. } => "network_receivable",
            Self::FeeRevenue { .. } => "fee_revenue",
            Self::TaxPayable => "tax_payable",
            Self::FxDifference { .. } => "fx_difference",
            Self::Bank => "bank",
        }
    }

    /// Owners are non-empty, at most 64 bytes, and printable without spaces.
    pub fn check(&self) -> Result<(), LedgerError> {
        match self.owner() {
            Some(owner)
                if owner.is_empty()
                    || owner.len() > OWNER_BYTES_MAX
                    || owner.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Err(LedgerError::BadAccount(self.to_string()))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.owner() {
            Some(owner) => write!(f, "{}:{owner}", self.prefix()),
            None => f.write_str(self.prefix()),
        }
    }
}

impl FromStr for Account {
    type Err = LedgerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (prefix, owner) = match text.split_once(':') {
            Some((prefix, owner)) => (prefix, Some(owner.to_owned())),
            None => (text, None),
        };
        let account = match (prefix, owner) {
            ("merchant_payable", Some(merchant)) => Self::MerchantPayable { merchant },
            ("network_receivable", Some(network)) => Self::NetworkReceivable { network },
            ("fee_revenue", Some(network)) => Self::FeeRevenue { network },
            ("fx_difference", Some(network)) => Self::FxDifference { network },
            ("tax_payable", None) => Self::TaxPayable,
            ("bank", None) => Self::Bank,
            _ => return Err(LedgerError::BadAccount(text.chars().take(80).collect())),
        };
        account.check()?;
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_round_trip() {
        for account in [
            Account::merchant_payable("shinjuku-ramen"),
            Account::network_receivable("wechatpay"),
            Account::fee_revenue("paypay"),
            Account::fx_difference("alipayplus"),
            Account::TaxPayable,
            Account::Bank,
        ] {
            assert_eq!(account.to_string().parse::<Account>().unwrap(), account);
        }
        for bad in [
            "bank:x",
            "merchant_payable",
            "merchant_payable:",
            "wallet:x",
            "fee_revenue:a b",
        ] {
            assert!(bad.parse::<Account>().is_err(), "{bad}");
        }
    }
}
