//! What the control API reads and answers, shared by every simulator: the wallet a test
//! creates, the books `GET /_sim/state` returns, what `GET /_sim` says the simulator offers,
//! and the errors, each with its HTTP status.
use iso_currency::Currency;
use serde::{Deserialize, Serialize};

use super::Amount;

/// Network-specific detail beside the shared fields (e.g. the network's own status name).
pub type Extras = serde_json::Map<String, serde_json::Value>;

/// `POST /_sim/wallets`: a test customer's wallet. Creating an existing id resets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWallet {
    pub id: String,
    pub balance: Amount,
    /// The network's wallet flavour (`GET /_sim` lists them). Omitted: the one flavour that
    /// holds the balance's currency.
    #[serde(default)]
    pub kind: Option<String>,
    /// The customer must confirm in the wallet app (WeChat Pay: enter the PIN) and takes this
    /// long; a very large value never confirms. Omitted: pays at once. Refused by networks
    /// whose customers never confirm.
    #[serde(default)]
    pub confirm_ms: Option<u64>,
}

/// One flavour of wallet a simulator can hold, for `GET /_sim`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportedWallet {
    /// `None`: the network's wallets have no flavours; the currency alone decides.
    pub kind: Option<String>,
    pub currency: String,
}

/// `GET /_sim`: what this simulator offers through the control API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInfo {
    pub network: String,
    pub wallets: Vec<SupportedWallet>,
    /// Whether wallets accept `confirm_ms`.
    pub customer_confirms: bool,
    /// Whether `/_sim/qr/pay` and `/_sim/qr/abandon` apply (merchant-presented QRs).
    pub merchant_qr: bool,
    /// How long an issued payment code stays valid.
    pub code_valid_ms: i64,
    /// The `operation` names `POST /_sim/faults` takes.
    pub fault_operations: Vec<String>,
    /// This network's extra controls, e.g. `POST /_sim/refund-pool`.
    pub extras: Vec<String>,
}

/// `GET /_sim/state`: the simulator's books, in one shape for every network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimState {
    pub network: String,
    /// Sorted by id.
    pub wallets: Vec<SimWallet>,
    /// Sorted by id.
    pub payments: Vec<SimPayment>,
    /// Sorted by payment, then id.
    pub refunds: Vec<SimRefund>,
    #[serde(default)]
    pub extras: Extras,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimWallet {
    pub id: String,
    pub kind: Option<String>,
    pub balance: Amount,
}

/// Where a payment stands as far as the customer's money goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing charged yet; the customer may still pay (a shown QR, a PIN being entered).
    Pending,
    /// The wallet is charged (less any refunds).
    Succeeded,
    /// Closed by a reversal, cancel or void (or revoked by the network); nothing stays
    /// charged.
    Reversed,
    /// Declined, expired or closed unpaid; nothing was charged.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimPayment {
    /// The id the merchant side gave it (the switch's payment id): LINE Pay `orderId`,
    /// PayPay `merchantPaymentId`, WeChat Pay `out_trade_no`, Alipay+ `paymentRequestId`.
    pub id: String,
    /// The network's own transaction id, once it has one.
    pub network_id: Option<String>,
    /// The paying wallet, once known.
    pub wallet: Option<String>,
    pub status: PaymentStatus,
    /// The price, in the merchant's currency.
    pub amount: Amount,
    /// What the wallet is (or will be) charged, in the wallet's currency.
    pub wallet_amount: Option<Amount>,
    /// Refunds the network accepted, in the merchant's currency (some may still be pending).
    pub refunded: Amount,
    #[serde(default)]
    pub extras: Extras,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Accepted; the money has not reached the wallet yet.
    Pending,
    /// The money is back in the wallet.
    Succeeded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimRefund {
    /// The merchant side's refund id, where the network takes one (LINE Pay does not).
    pub id: Option<String>,
    pub network_id: Option<String>,
    /// The refunded payment's [`SimPayment::id`].
    pub payment: String,
    pub status: RefundStatus,
    /// In the merchant's currency.
    pub amount: Amount,
    /// What goes (or went) back to the wallet, in the wallet's currency.
    pub wallet_amount: Option<Amount>,
    #[serde(default)]
    pub extras: Extras,
}

/// Why a control request was refused; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// 400: the request is malformed or breaks the network's rules.
    #[error("{0}")]
    Invalid(String),
    /// 404: no such wallet, QR or control.
    #[error("{0}")]
    NotFound(String),
    /// 409: understood, but the books refuse it now (a QR already paid, a short balance).
    #[error("{0}")]
    Refused(String),
    /// 413
    #[error("request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    /// 501: this network has no such thing (e.g. a merchant QR at LINE Pay).
    #[error("{0}")]
    Unsupported(String),
    /// 507: the sandbox's bounded books are full.
    #[error("{0}")]
    Full(String),
}

impl From<super::AmountError> for SimError {
    fn from(e: super::AmountError) -> Self {
        Self::Invalid(e.to_string())
    }
}

// === impl NewWallet ===

impl NewWallet {
    pub fn new(id: impl Into<String>, balance: Amount) -> Self {
        Self {
            id: id.into(),
            balance,
            kind: None,
            confirm_ms: None,
        }
    }

    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    pub fn confirm_after_ms(mut self, ms: u64) -> Self {
        self.confirm_ms = Some(ms);
        self
    }

    /// Picks the network's flavour for this wallet from its table of `(kind, currency,
    /// value)`: by `kind` when given (its currency must be the balance's), else the one
    /// flavour holding the balance's currency.
    pub fn pick<T: Copy>(
        &self,
        network: &str,
        kinds: &[(Option<&'static str>, Currency, T)],
    ) -> Result<T, SimError> {
        let currency = self.balance.currency();
        let offered = || {
            kinds
                .iter()
                .map(|(kind, c, _)| match kind {
                    Some(kind) => format!("{kind} ({})", c.code()),
                    None => c.code().to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let found = match self.kind.as_deref() {
            Some(wanted) => kinds
                .iter()
                .find(|(kind, _, _)| *kind == Some(wanted))
                .ok_or_else(|| {
                    SimError::Invalid(format!(
                        "{network} has no wallet kind `{}`; it offers: {}",
                        wanted.chars().take(32).collect::<String>(),
                        offered()
                    ))
                })?,
            None => {
                let mut matching = kinds.iter().filter(|(_, c, _)| *c == currency);
                let first = matching.next().ok_or_else(|| {
                    SimError::Invalid(format!(
                        "{network} wallets do not hold {}; it offers: {}",
                        currency.code(),
                        offered()
                    ))
                })?;
                if matching.next().is_some() {
                    return Err(SimError::Invalid(format!(
                        "{network} has several wallet kinds in {}: give a kind ({})",
                        currency.code(),
                        offered()
                    )));
                }
                first
            }
        };
        if found.1 != currency {
            return Err(SimError::Invalid(format!(
                "a {network} `{}` wallet holds {}, not {}",
                found.0.unwrap_or_default(),
                found.1.code(),
                currency.code()
            )));
        }
        Ok(found.2)
    }

    /// `confirm_ms` as the books keep it (`None`: pays at once), refused where customers
    /// never confirm.
    pub fn confirm_ms_for(&self, network: &str, confirms: bool) -> Result<Option<i64>, SimError> {
        match self.confirm_ms {
            Some(_) if !confirms => Err(SimError::Invalid(format!(
                "{network} customers never confirm in the app: drop `confirm_ms`"
            ))),
            Some(ms) => Ok(Some(i64::try_from(ms).unwrap_or(i64::MAX))),
            None => Ok(None),
        }
    }
}

/// The table of `(kind, currency, _)` as `GET /_sim` lists it.
pub fn supported_wallets<T>(kinds: &[(Option<&'static str>, Currency, T)]) -> Vec<SupportedWallet> {
    kinds
        .iter()
        .map(|(kind, currency, _)| SupportedWallet {
            kind: kind.map(str::to_owned),
            currency: currency.code().to_owned(),
        })
        .collect()
}

// === impl SimState ===

impl SimState {
    /// Sorts every list so two reads of the same books compare equal.
    pub fn sorted(mut self) -> Self {
        self.wallets.sort_by(|a, b| a.id.cmp(&b.id));
        self.payments.sort_by(|a, b| a.id.cmp(&b.id));
        self.refunds
            .sort_by(|a, b| (&a.payment, &a.id).cmp(&(&b.payment, &b.id)));
        self
    }

    pub fn wallet(&self, id: &str) -> Option<&SimWallet> {
        self.wallets.iter().find(|w| w.id == id)
    }

    pub fn payment(&self, id: &str) -> Option<&SimPayment> {
        self.payments.iter().find(|p| p.id == id)
    }
}

/// One extra's value, for building [`Extras`] without a fallible conversion at every site.
pub fn extras<const N: usize>(pairs: [(&str, serde_json::Value); N]) -> Extras {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [(Option<&str>, Currency, u8); 3] = [
        (Some("mainland"), Currency::CNY, 1),
        (Some("hong_kong"), Currency::HKD, 2),
        (Some("hk_cny"), Currency::HKD, 3),
    ];

    fn wallet(value: &str, currency: &str) -> NewWallet {
        NewWallet::new("w", Amount::parse(value, currency).unwrap())
    }

    #[test]
    fn a_kind_is_picked_by_name_or_by_the_one_currency_that_fits() {
        assert_eq!(wallet("10", "CNY").pick("net", &KINDS), Ok(1));
        assert_eq!(
            wallet("10", "HKD").kind("hk_cny").pick("net", &KINDS),
            Ok(3)
        );
        let several = wallet("10", "HKD").pick("net", &KINDS).unwrap_err();
        assert!(several.to_string().contains("give a kind"), "{several}");
        let none = wallet("10", "JPY").pick("net", &KINDS).unwrap_err();
        assert!(none.to_string().contains("mainland (CNY)"), "{none}");
        let mismatch = wallet("10", "CNY").kind("hong_kong").pick("net", &KINDS);
        assert!(matches!(mismatch, Err(SimError::Invalid(_))));
        let unknown = wallet("10", "CNY").kind("moon").pick("net", &KINDS);
        assert!(matches!(unknown, Err(SimError::Invalid(_))));
    }

    #[test]
    fn confirmation_is_refused_where_customers_never_confirm() {
        let slow = wallet("1", "JPY").confirm_after_ms(u64::MAX);
        assert_eq!(slow.confirm_ms_for("net", true), Ok(Some(i64::MAX)));
        assert!(slow.confirm_ms_for("net", false).is_err());
        assert_eq!(wallet("1", "JPY").confirm_ms_for("net", false), Ok(None));
    }
}
