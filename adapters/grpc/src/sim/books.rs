//! The reference partner's ledger: wallets in their own currency, single-use codes,
//! payments, refunds. Strict as a real network: an exact amount or a refusal, idempotency by
//! `payment_id` and `refund_id`, a refund never above what remains captured, money charged
//! only when the customer has confirmed. Bounded everywhere; pure (the clock comes in).
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod qr;
mod state;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, SimError, SimWallet};
use kakehashi_adapter_core::{
    DeclineReason, Money, Paid, PayOutcome, RefundOutcome, ReverseOutcome, WalletAmount,
};
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::{Decimal, RoundingStrategy};

pub const WALLETS_MAX: usize = 10_000;
pub const PAYMENTS_MAX: usize = 100_000;
pub const REFUNDS_MAX: usize = 100_000;
pub const CODES_MAX: usize = 100_000;
/// Payment ids reversed before their Pay arrived, remembered so a late Pay is declined.
pub const TOMBSTONES_MAX: usize = 100_000;
/// A code is single use and valid this long.
pub const CODE_VALID_MS: i64 = 5 * 60 * 1000;
const WALLET_ID_CHARS_MAX: usize = 64;

/// What the partner offers, fixed at start.
#[derive(Debug, Clone)]
pub struct Rules {
    pub display_name: String,
    pub code_prefix: String,
    pub code_length: usize,
    /// Merchant-side currencies (the profile's).
    pub currencies: Vec<Currency>,
    /// The currency the partner's own wallets hold.
    pub wallet_currency: Currency,
    /// Wallet-currency units per one unit of each merchant currency.
    pub rates: BTreeMap<Currency, Decimal>,
}

/// A request the partner refuses outright (a gRPC error), moving nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Full(&'static str),
}

/// A customer-presented payment to charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub payment_id: String,
    pub merchant_id: String,
    pub amount: Money,
    pub code: String,
}

#[derive(Debug)]
struct Wallet {
    currency: Currency,
    balance: i64,
    confirm_ms: Option<i64>,
}

#[derive(Debug)]
struct Code {
    wallet: String,
    expires_at_ms: i64,
    used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// The customer is confirming in the app until `confirm_at_ms`.
    Confirming {
        confirm_at_ms: i64,
    },
    /// A merchant QR waiting for a customer.
    QrShown {
        expires_at_ms: i64,
        abandoned: bool,
    },
    Succeeded,
    Declined {
        reason: DeclineReason,
        code: &'static str,
    },
    /// Closed unpaid, or returned in full.
    Reversed,
}

#[derive(Debug)]
struct Payment {
    merchant_id: String,
    amount: Money,
    /// The code it was paid with; `None` for a merchant QR.
    code: Option<String>,
    network_txn_id: String,
    qr_payload: Option<String>,
    wallet: Option<String>,
    /// What the wallet is charged, in its currency, and the rate applied.
    wallet_amount: Option<(Currency, i64)>,
    rate: Decimal,
    stage: Stage,
    /// Whether the wallet was ever charged (a reversal of a paid payment gives it back).
    charged: bool,
    refunded_minor: i64,
    wallet_refunded_minor: i64,
}

#[derive(Debug)]
struct Refund {
    payment_id: String,
    amount: Money,
    wallet_minor: i64,
    network_refund_id: String,
}

#[derive(Debug)]
pub struct Books {
    rng: StdRng,
    rules: Rules,
    wallets: BTreeMap<String, Wallet>,
    codes: HashMap<String, Code>,
    payments: BTreeMap<String, Payment>,
    refunds: BTreeMap<String, Refund>,
    tombstones: BTreeSet<String>,
    serial: u64,
}

// === impl Books ===

impl Books {
    pub fn new(rng: StdRng, rules: Rules) -> Self {
        Self {
            rng,
            rules,
            wallets: BTreeMap::new(),
            codes: HashMap::new(),
            payments: BTreeMap::new(),
            refunds: BTreeMap::new(),
            tombstones: BTreeSet::new(),
            serial: 0,
        }
    }

    /// The currencies a wallet may hold: the partner's own first, then the merchants'.
    pub fn wallet_currencies(&self) -> Vec<Currency> {
        let mut out = vec![self.rules.wallet_currency];
        for c in &self.rules.currencies {
            if !out.contains(c) {
                out.push(*c);
            }
        }
        out
    }

    fn next_id(&mut self, prefix: char) -> String {
        self.serial += 1;
        format!("{prefix}{:012}", self.serial)
    }

    pub fn add_wallet(
        &mut self,
        id: &str,
        balance: Amount,
        confirm_ms: Option<i64>,
    ) -> Result<SimWallet, SimError> {
        let plain = !id.is_empty()
            && id.len() <= WALLET_ID_CHARS_MAX
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !plain {
            return Err(SimError::Invalid(format!(
                "wallet id must be 1..={WALLET_ID_CHARS_MAX} of [A-Za-z0-9_-]"
            )));
        }
        if !self.wallets.contains_key(id) && self.wallets.len() >= WALLETS_MAX {
            return Err(SimError::Full(format!("at most {WALLETS_MAX} wallets")));
        }
        self.wallets.insert(
            id.to_owned(),
            Wallet {
                currency: balance.currency(),
                balance: balance.minor(),
                confirm_ms,
            },
        );
        Ok(SimWallet {
            id: id.to_owned(),
            kind: None,
            balance,
        })
    }

    pub fn issue_code(&mut self, wallet: &str, now_ms: i64) -> Result<String, SimError> {
        if !self.wallets.contains_key(wallet) {
            return Err(SimError::NotFound(format!(
                "no wallet `{}`",
                wallet.chars().take(64).collect::<String>()
            )));
        }
        if self.codes.len() >= CODES_MAX {
            self.codes
                .retain(|_, c| !c.used && c.expires_at_ms > now_ms);
            if self.codes.len() >= CODES_MAX {
                return Err(SimError::Full(format!("at most {CODES_MAX} live codes")));
            }
        }
        let digits = self.rules.code_length - self.rules.code_prefix.len();
        let code = loop {
            let tail: String = (0..digits)
                .map(|_| char::from(b'0' + self.rng.random_range(0..10u8)))
                .collect();
            let code = format!("{}{tail}", self.rules.code_prefix);
            if !self.codes.contains_key(&code) {
                break code;
            }
        };
        self.codes.insert(
            code.clone(),
            Code {
                wallet: wallet.to_owned(),
                expires_at_ms: now_ms + CODE_VALID_MS,
                used: false,
            },
        );
        Ok(code)
    }

    /// Charges a customer-presented code; the same `payment_id` with the same content
    /// answers what became of the first.
    pub fn pay(&mut self, charge: &Charge, now_ms: i64) -> Result<PayOutcome, Refusal> {
        if let Some(existing) = self.payments.get(&charge.payment_id) {
            let same = existing.merchant_id == charge.merchant_id
                && existing.amount == charge.amount
                && existing.code.as_deref() == Some(charge.code.as_str());
            if !same {
                return Err(Refusal::AlreadyExists(
                    "payment_id was used for another payment".into(),
                ));
            }
            return Ok(self.outcome(&charge.payment_id, now_ms));
        }
        if self.payments.len() >= PAYMENTS_MAX {
            return Err(Refusal::Full("the partner's books are full"));
        }
        let declined = |reason, code| Stage::Declined { reason, code };
        let mut payment = Payment {
            merchant_id: charge.merchant_id.clone(),
            amount: charge.amount,
            code: Some(charge.code.clone()),
            network_txn_id: self.next_id('T'),
            qr_payload: None,
            wallet: None,
            wallet_amount: None,
            rate: Decimal::ONE,
            stage: Stage::Succeeded,
            charged: false,
            refunded_minor: 0,
            wallet_refunded_minor: 0,
        };
        payment.stage = if self.tombstones.contains(&charge.payment_id) {
            declined(DeclineReason::PaymentExpired, "REVERSED_BEFORE_PAY")
        } else if !self.rules.currencies.contains(&charge.amount.currency()) {
            declined(
                DeclineReason::CurrencyNotSupported,
                "CURRENCY_NOT_SUPPORTED",
            )
        } else {
            match self.codes.get_mut(&charge.code) {
                None => declined(DeclineReason::CodeInvalid, "CODE_UNKNOWN"),
                Some(code) if code.used => declined(DeclineReason::CodeInvalid, "CODE_USED"),
                Some(code) if code.expires_at_ms <= now_ms => {
                    declined(DeclineReason::CodeExpired, "CODE_EXPIRED")
                }
                Some(code) => {
                    code.used = true;
                    payment.wallet = Some(code.wallet.clone());
                    Stage::Succeeded
                }
            }
        };
        if let Some(wallet_id) = payment.wallet.clone() {
            payment.stage = self.price(&mut payment, &wallet_id, now_ms);
        }
        let id = charge.payment_id.clone();
        self.payments.insert(id.clone(), payment);
        self.settle(&id, now_ms);
        Ok(self.outcome(&id, now_ms))
    }

    /// A visiting customer paid a merchant's static code in the partner's app: the customer
    /// confirmed by paying, so the wallet is charged at once under a payment id of the
    /// partner's own; the partner then tells the switch (`PayMerchantCode`) and, if the
    /// switch refuses, gives the money back with [`Books::reverse`].
    pub fn charge_presented(
        &mut self,
        wallet_id: &str,
        merchant_id: &str,
        amount: Money,
        now_ms: i64,
    ) -> Result<(String, PayOutcome), Refusal> {
        if self.payments.len() >= PAYMENTS_MAX {
            return Err(Refusal::Full("the partner's books are full"));
        }
        if !self.rules.currencies.contains(&amount.currency()) {
            return Err(Refusal::Invalid {
                field: "amount.currency",
                detail: format!("{} is not priced by this partner", amount.currency_code()),
            });
        }
        let mut payment = Payment {
            merchant_id: merchant_id.to_owned(),
            amount,
            code: None,
            network_txn_id: self.next_id('T'),
            qr_payload: None,
            wallet: Some(wallet_id.to_owned()),
            wallet_amount: None,
            rate: Decimal::ONE,
            stage: Stage::Succeeded,
            charged: false,
            refunded_minor: 0,
            wallet_refunded_minor: 0,
        };
        payment.stage = match self.price(&mut payment, wallet_id, now_ms) {
            Stage::Confirming { .. } => Stage::Confirming {
                confirm_at_ms: now_ms,
            },
            declined => declined,
        };
        let id = self.next_id('S');
        self.payments.insert(id.clone(), payment);
        self.settle(&id, now_ms);
        let outcome = self.outcome(&id, now_ms);
        Ok((id, outcome))
    }

    /// Prices the payment in the wallet's currency and decides whether it waits for the
    /// customer; the charge itself happens in [`Books::settle`].
    fn price(&self, payment: &mut Payment, wallet_id: &str, now_ms: i64) -> Stage {
        let Some(wallet) = self.wallets.get(wallet_id) else {
            return Stage::Declined {
                reason: DeclineReason::AccountRestricted,
                code: "WALLET_CLOSED",
            };
        };
        let Some(rate) = self.rate(wallet.currency, payment.amount.currency()) else {
            return Stage::Declined {
                reason: DeclineReason::CurrencyNotSupported,
                code: "NO_RATE",
            };
        };
        payment.rate = rate;
        payment.wallet_amount = Some((
            wallet.currency,
            convert(payment.amount.amount(), rate, wallet.currency),
        ));
        match wallet.confirm_ms {
            Some(ms) => Stage::Confirming {
                confirm_at_ms: now_ms.saturating_add(ms),
            },
            None => Stage::Confirming {
                confirm_at_ms: now_ms,
            },
        }
    }

    fn rate(&self, wallet: Currency, merchant: Currency) -> Option<Decimal> {
        if wallet == merchant {
            return Some(Decimal::ONE);
        }
        (wallet == self.rules.wallet_currency)
            .then(|| self.rules.rates.get(&merchant).copied())
            .flatten()
    }

    /// Moves a payment on with time: a confirmation that is due charges the wallet (or
    /// declines for want of funds), a QR past its validity expires.
    fn settle(&mut self, id: &str, now_ms: i64) {
        let Some(payment) = self.payments.get_mut(id) else {
            return;
        };
        match payment.stage {
            Stage::Confirming { confirm_at_ms } if confirm_at_ms <= now_ms => {
                payment.stage = charge(&mut self.wallets, payment);
            }
            Stage::QrShown { expires_at_ms, .. } if expires_at_ms <= now_ms => {
                payment.stage = Stage::Declined {
                    reason: DeclineReason::PaymentExpired,
                    code: "QR_EXPIRED",
                };
            }
            _ => {}
        }
    }

    fn outcome(&self, id: &str, _now_ms: i64) -> PayOutcome {
        let Some(p) = self.payments.get(id) else {
            return PayOutcome::NotReceived {
                detail: "no payment with this payment_id".into(),
            };
        };
        match &p.stage {
            Stage::Confirming { .. } | Stage::QrShown { .. } => PayOutcome::AwaitingCustomer {
                network_txn_id: Some(p.network_txn_id.clone()),
            },
            Stage::Succeeded => PayOutcome::Succeeded(Paid {
                network_txn_id: p.network_txn_id.clone(),
                wallet_brand: Some(self.rules.display_name.clone()),
                wallet_amount: self.wallet_amount(p),
                settlement_quote: None,
            }),
            Stage::Declined { reason, code } => PayOutcome::Declined {
                reason: *reason,
                network_code: (*code).to_owned(),
            },
            Stage::Reversed => PayOutcome::Declined {
                reason: DeclineReason::PaymentExpired,
                network_code: "REVERSED".into(),
            },
        }
    }

    /// Reported only where the wallet's currency is not the price's.
    fn wallet_amount(&self, p: &Payment) -> Option<WalletAmount> {
        let (currency, minor) = p.wallet_amount?;
        if currency == p.amount.currency() {
            return None;
        }
        Some(WalletAmount {
            amount: Money::from_minor(minor, currency).ok()?,
            rate: Some(p.rate),
        })
    }

    pub fn query(&mut self, id: &str, amount: &Money, now_ms: i64) -> Result<PayOutcome, Refusal> {
        if self.tombstones.contains(id) && !self.payments.contains_key(id) {
            return Ok(PayOutcome::Declined {
                reason: DeclineReason::PaymentExpired,
                network_code: "REVERSED_BEFORE_PAY".into(),
            });
        }
        if let Some(p) = self.payments.get(id)
            && p.amount != *amount
        {
            return Err(amount_differs());
        }
        self.settle(id, now_ms);
        Ok(self.outcome(id, now_ms))
    }

    /// Closes an unpaid payment or returns a paid one in full; a payment we never saw is
    /// remembered so its Pay, if it comes late, is declined.
    pub fn reverse(
        &mut self,
        id: &str,
        amount: &Money,
        now_ms: i64,
    ) -> Result<ReverseOutcome, Refusal> {
        self.settle(id, now_ms);
        let Some(p) = self.payments.get_mut(id) else {
            if self.tombstones.len() >= TOMBSTONES_MAX {
                return Err(Refusal::Full("the partner's books are full"));
            }
            self.tombstones.insert(id.to_owned());
            return Ok(ReverseOutcome::Reversed);
        };
        if p.amount != *amount {
            return Err(amount_differs());
        }
        match p.stage {
            Stage::Succeeded if p.refunded_minor > 0 => Ok(ReverseOutcome::Refused {
                network_code: "ALREADY_REFUNDED".into(),
                detail: "a payment with refunds cannot be reversed; refund the rest".into(),
            }),
            Stage::Succeeded => {
                if let (Some(wallet), Some((_, minor))) = (
                    p.wallet.as_ref().and_then(|w| self.wallets.get_mut(w)),
                    p.wallet_amount,
                ) {
                    wallet.balance += minor;
                }
                p.stage = Stage::Reversed;
                Ok(ReverseOutcome::Reversed)
            }
            Stage::Confirming { .. } | Stage::QrShown { .. } => {
                p.stage = Stage::Reversed;
                Ok(ReverseOutcome::Reversed)
            }
            Stage::Declined { .. } | Stage::Reversed => Ok(ReverseOutcome::Reversed),
        }
    }

    /// Refunds part of a captured payment, at most what remains; idempotent by refund id.
    pub fn refund(
        &mut self,
        payment_id: &str,
        refund_id: &str,
        amount: &Money,
        now_ms: i64,
    ) -> Result<RefundOutcome, Refusal> {
        if let Some(existing) = self.refunds.get(refund_id) {
            if existing.payment_id != payment_id || existing.amount != *amount {
                return Err(Refusal::AlreadyExists(
                    "refund_id was used for another refund".into(),
                ));
            }
            return Ok(RefundOutcome::Succeeded {
                network_refund_id: existing.network_refund_id.clone(),
            });
        }
        if self.refunds.len() >= REFUNDS_MAX {
            return Err(Refusal::Full("the partner's books are full"));
        }
        self.settle(payment_id, now_ms);
        let refused = |code: &str| {
            Ok(RefundOutcome::Declined {
                reason: DeclineReason::RefundNotAllowed,
                network_code: code.to_owned(),
            })
        };
        let Some(p) = self.payments.get(payment_id) else {
            return refused("PAYMENT_NOT_FOUND");
        };
        if amount.currency() != p.amount.currency() {
            return Err(Refusal::Invalid {
                field: "amount.currency",
                detail: "is not the payment's currency".into(),
            });
        }
        if p.stage != Stage::Succeeded {
            return refused("PAYMENT_NOT_CAPTURED");
        }
        let remaining = p.amount.minor() - p.refunded_minor;
        if amount.minor() > remaining {
            return refused("AMOUNT_EXCEEDS_CAPTURED");
        }
        let network_refund_id = self.next_id('R');
        let Some(p) = self.payments.get_mut(payment_id) else {
            return refused("PAYMENT_NOT_FOUND");
        };
        let (wallet_currency, wallet_charged) = p
            .wallet_amount
            .unwrap_or((p.amount.currency(), p.amount.minor()));
        let wallet_left = wallet_charged - p.wallet_refunded_minor;
        // The last refund gives back exactly what is left, so rounding never returns more
        // (or less) than was charged.
        let wallet_minor = if amount.minor() == remaining {
            wallet_left
        } else {
            convert(amount.amount(), p.rate, wallet_currency).min(wallet_left)
        };
        p.refunded_minor += amount.minor();
        p.wallet_refunded_minor += wallet_minor;
        if let Some(wallet) = p.wallet.as_ref().and_then(|w| self.wallets.get_mut(w)) {
            wallet.balance += wallet_minor;
        }
        self.refunds.insert(
            refund_id.to_owned(),
            Refund {
                payment_id: payment_id.to_owned(),
                amount: *amount,
                wallet_minor,
                network_refund_id: network_refund_id.clone(),
            },
        );
        Ok(RefundOutcome::Succeeded { network_refund_id })
    }

    pub fn query_refund(
        &self,
        payment_id: &str,
        refund_id: &str,
    ) -> Result<RefundOutcome, Refusal> {
        match self.refunds.get(refund_id) {
            None => Ok(RefundOutcome::NotTaken {
                detail: "no refund with this refund_id".into(),
            }),
            Some(r) if r.payment_id != payment_id => Err(Refusal::Invalid {
                field: "refund_id",
                detail: "belongs to another payment".into(),
            }),
            Some(r) => Ok(RefundOutcome::Succeeded {
                network_refund_id: r.network_refund_id.clone(),
            }),
        }
    }
}

/// Charges the payment's wallet now, or declines it for want of funds.
fn charge(wallets: &mut BTreeMap<String, Wallet>, payment: &mut Payment) -> Stage {
    let (Some(wallet), Some((_, minor))) = (
        payment.wallet.as_ref().and_then(|w| wallets.get_mut(w)),
        payment.wallet_amount,
    ) else {
        return Stage::Declined {
            reason: DeclineReason::AccountRestricted,
            code: "WALLET_CLOSED",
        };
    };
    if wallet.balance < minor {
        return Stage::Declined {
            reason: DeclineReason::InsufficientFunds,
            code: "BALANCE_INSUFFICIENT",
        };
    }
    wallet.balance -= minor;
    payment.charged = true;
    Stage::Succeeded
}

/// `amount × rate` in the wallet's minor units, rounded half away from zero (as card
/// networks round conversions), and never below one minor unit: a payment is never free.
fn convert(amount: Decimal, rate: Decimal, wallet: Currency) -> i64 {
    let exponent = wallet.exponent().map(u32::from).unwrap_or(0);
    let converted =
        (amount * rate).round_dp_with_strategy(exponent, RoundingStrategy::MidpointAwayFromZero);
    let mut scaled = converted;
    scaled.rescale(exponent);
    i64::try_from(scaled.mantissa()).unwrap_or(i64::MAX).max(1)
}

fn amount_differs() -> Refusal {
    Refusal::Invalid {
        field: "amount",
        detail: "is not the payment's amount".into(),
    }
}

/// Only reached if a currency without minor units entered the books, which construction
/// refuses; zero yen keeps the state readable all the same.
fn unreachable_amount() -> Amount {
    Amount::from_minor(0, Currency::JPY).expect("zero yen is an amount")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn books() -> Books {
        let rules = Rules {
            display_name: "KPay".into(),
            code_prefix: "93".into(),
            code_length: 20,
            currencies: vec![Currency::JPY],
            wallet_currency: Currency::KRW,
            rates: BTreeMap::from([(Currency::JPY, Decimal::new(92, 1))]),
        };
        let mut books = Books::new(StdRng::seed_from_u64(1), rules);
        let balance = Amount::from_minor(20_000, Currency::KRW).unwrap();
        books.add_wallet("minji", balance, Some(60_000)).unwrap();
        books
    }

    fn yen(minor: i64) -> Money {
        Money::from_minor(minor, Currency::JPY).unwrap()
    }

    #[test]
    fn a_presented_code_charges_at_once_and_can_be_given_back() {
        let mut books = books();
        let (id, outcome) = books
            .charge_presented("minji", "shinjuku-ramen", yen(1500), 0)
            .unwrap();
        let PayOutcome::Succeeded(paid) = outcome else {
            panic!("{outcome:?}");
        };
        let won = paid.wallet_amount.unwrap().amount;
        assert_eq!(won, Money::from_minor(13_800, Currency::KRW).unwrap());
        assert_eq!(books.wallets["minji"].balance, 20_000 - 13_800);
        assert_eq!(
            books.reverse(&id, &yen(1500), 1).unwrap(),
            ReverseOutcome::Reversed
        );
        assert_eq!(books.wallets["minji"].balance, 20_000);
    }

    #[test]
    fn a_presented_code_the_wallet_cannot_cover_is_declined_and_charges_nothing() {
        let mut books = books();
        let (_, outcome) = books
            .charge_presented("minji", "shinjuku-ramen", yen(3000), 0)
            .unwrap();
        assert!(
            matches!(
                outcome,
                PayOutcome::Declined {
                    reason: DeclineReason::InsufficientFunds,
                    ..
                }
            ),
            "{outcome:?}"
        );
        assert_eq!(books.wallets["minji"].balance, 20_000);
        assert!(
            books
                .charge_presented("nobody", "m", yen(100), 0)
                .is_ok_and(|(_, o)| matches!(o, PayOutcome::Declined { .. }))
        );
        let dollars = Money::from_minor(100, Currency::USD).unwrap();
        assert!(books.charge_presented("minji", "m", dollars, 0).is_err());
    }
}
