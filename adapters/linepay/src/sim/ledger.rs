//! The simulator's books: wallets, issued one-time keys, orders. Every operation here is
//! the network's business logic; it answers with LINE Pay return codes.
use std::collections::{HashMap, HashSet};

use iso_currency::Currency;
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;

use kakehashi_adapter_core::sim_control::SimError;
use kakehashi_adapter_core::simkit::iso8601_utc;

use crate::wire;

use super::{CODES_MAX, ONE_TIME_KEY_TTL_MS, WALLETS_MAX};

mod state;

/// JP MyCode prefix (19 digits in all).
pub const CODE_PREFIX: &str = "9000000000";
pub const CODE_LENGTH: usize = 19;
/// Refused orderIds remembered; past this new refusals are not remembered.
pub const FAILED_ORDERS_MAX: usize = 200_000;
/// Refunds one order may take. LINE Pay publishes no such limit; this is the simulator's
/// own bound, answered with 2042 ("Refund could not be processed").
pub const REFUNDS_PER_ORDER_MAX: usize = 100;
/// Refunds remembered; past this LINE Pay's refund answers 9000 rather than forget one.
pub const REFUNDS_MAX: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Complete,
    Voided,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub order_id: String,
    pub transaction_id: u64,
    pub wallet_id: String,
    pub amount: Decimal,
    pub refunded: Decimal,
    pub status: OrderStatus,
    /// The channel (region) the order was paid on; other channels cannot see it.
    pub currency: Currency,
    /// When it was paid (Unix ms).
    pub paid_at_ms: i64,
    /// Every refund booked against it, oldest first: what Payment details lists.
    pub refunds: Vec<RefundView>,
}

/// One refund LINE Pay booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    pub refund_transaction_id: u64,
    pub amount: Decimal,
    pub refunded_at_ms: i64,
}

#[derive(Debug)]
struct Wallet {
    currency: Currency,
    balance: Decimal,
}

#[derive(Debug)]
struct IssuedCode {
    wallet_id: String,
    issued_at_ms: i64,
    used: bool,
}

#[derive(Debug)]
pub(super) struct Ledger {
    rng: StdRng,
    wallets: HashMap<String, Wallet>,
    codes: HashMap<String, IssuedCode>,
    orders: HashMap<String, OrderView>,
    /// orderIds whose Pay was refused: LINE Pay keeps them too, so they cannot be reused
    /// (1172) and Check reports them as FAIL.
    failed_orders: HashSet<String>,
    /// Every refund made, in order: the books `/_sim/state` reports.
    refunds: Vec<RefundRecord>,
    pub pay_requests_seen: usize,
}

#[derive(Debug)]
struct RefundRecord {
    refund_transaction_id: u64,
    order_id: String,
    amount: Decimal,
}

/// A validated Pay, as the routes hand it to the ledger.
pub(super) struct Pay<'a> {
    pub order_id: &'a str,
    pub one_time_key: &'a str,
    pub amount: Decimal,
    pub currency: &'a str,
    pub now_ms: i64,
}

/// A LINE Pay answer: return code, message, and the `info` object as JSON text.
pub(super) type Answer = (&'static str, &'static str, Option<String>);

impl Ledger {
    pub fn new(rng: StdRng) -> Self {
        Self {
            rng,
            wallets: HashMap::new(),
            codes: HashMap::new(),
            orders: HashMap::new(),
            failed_orders: HashSet::new(),
            refunds: Vec::new(),
            pay_requests_seen: 0,
        }
    }

    pub fn add_wallet(
        &mut self,
        id: &str,
        currency: Currency,
        balance: Decimal,
    ) -> Result<(), SimError> {
        if id.is_empty() || id.len() > 64 {
            return Err(SimError::Invalid(
                "wallet id must be 1..=64 characters".into(),
            ));
        }
        if balance < Decimal::ZERO {
            return Err(SimError::Invalid("balance must not be negative".into()));
        }
        if !self.wallets.contains_key(id) && self.wallets.len() >= WALLETS_MAX {
            return Err(SimError::Full(format!(
                "the simulator holds {WALLETS_MAX} wallets already"
            )));
        }
        self.wallets
            .insert(id.to_owned(), Wallet { currency, balance });
        Ok(())
    }

    pub fn issue_code(&mut self, wallet_id: &str, now_ms: i64) -> Result<String, SimError> {
        if !self.wallets.contains_key(wallet_id) {
            return Err(SimError::NotFound(format!("no wallet `{wallet_id}`")));
        }
        if self.codes.len() >= CODES_MAX {
            self.codes
                .retain(|_, c| !c.used && now_ms - c.issued_at_ms <= ONE_TIME_KEY_TTL_MS);
        }
        let currency = self
            .wallets
            .get(wallet_id)
            .map_or(Currency::JPY, |w| w.currency);
        let (prefix, length) = super::code_format(currency);
        let digits = length.saturating_sub(prefix.len()).clamp(1, 18);
        let span = 10u64.pow(digits as u32);
        loop {
            let tail: u64 = self.rng.random_range(0..span);
            let code = format!("{prefix}{tail:0digits$}");
            debug_assert_eq!(code.len(), length);
            if !self.codes.contains_key(&code) {
                self.codes.insert(
                    code.clone(),
                    IssuedCode {
                        wallet_id: wallet_id.to_owned(),
                        issued_at_ms: now_ms,
                        used: false,
                    },
                );
                return Ok(code);
            }
        }
    }

    pub fn balance(&self, wallet_id: &str) -> Option<Decimal> {
        self.wallets.get(wallet_id).map(|w| w.balance)
    }

    /// An order as the channel for `currency` sees it: orders of other channels do not exist.
    fn order_on(&self, order_id: &str, currency: Currency) -> Option<&OrderView> {
        self.orders.get(order_id).filter(|o| o.currency == currency)
    }

    pub fn order(&self, order_id: &str) -> Option<OrderView> {
        self.orders.get(order_id).cloned()
    }

    pub fn pay(&mut self, pay: &Pay<'_>, channel_currency: Currency) -> Answer {
        self.pay_requests_seen += 1;
        if self.orders.contains_key(pay.order_id) || self.failed_orders.contains(pay.order_id) {
            return ("1172", "Existing same orderId.", None);
        }
        let answer = self.charge(pay, channel_currency);
        if answer.0 != "0000" && self.failed_orders.len() < FAILED_ORDERS_MAX {
            self.failed_orders.insert(pay.order_id.to_owned());
        }
        answer
    }

    fn charge(&mut self, pay: &Pay<'_>, channel_currency: Currency) -> Answer {
        if pay.currency != channel_currency.code() {
            return ("1178", "Unsupported currency.", None);
        }
        let exponent = channel_currency.exponent().map(u32::from).unwrap_or(0);
        if pay.amount.normalize().scale() > exponent {
            return ("1124", "Amount info error (scale).", None);
        }
        if pay.amount <= Decimal::ZERO {
            return ("1183", "Payment amount must be greater than 0.", None);
        }
        let Some(code) = self.codes.get_mut(pay.one_time_key) else {
            return ("1133", "oneTimeKey is not valid.", None);
        };
        if code.used {
            return ("1133", "oneTimeKey was already used.", None);
        }
        if pay.now_ms - code.issued_at_ms > ONE_TIME_KEY_TTL_MS {
            return ("1180", "The payment has expired.", None);
        }
        let wallet_id = code.wallet_id.clone();
        let Some(wallet) = self.wallets.get_mut(&wallet_id) else {
            return ("1101", "Not a LINE Pay member.", None);
        };
        if wallet.currency != channel_currency {
            return ("1178", "Unsupported currency.", None);
        }
        code.used = true;
        if wallet.balance < pay.amount {
            return ("1142", "Insufficient balance.", None);
        }
        wallet.balance -= pay.amount;
        let transaction_id = self.new_transaction_id();
        self.orders.insert(
            pay.order_id.to_owned(),
            OrderView {
                order_id: pay.order_id.to_owned(),
                transaction_id,
                wallet_id,
                amount: pay.amount,
                refunded: Decimal::ZERO,
                status: OrderStatus::Complete,
                currency: channel_currency,
                paid_at_ms: pay.now_ms,
                refunds: Vec::new(),
            },
        );
        let info = wire::PayInfo {
            order_id: pay.order_id.to_owned(),
            transaction_id,
            transaction_date: iso8601_utc(pay.now_ms),
            pay_info: vec![wire::PayMethod {
                method: "BALANCE".into(),
                amount: wire::number(&pay.amount),
            }],
        };
        ("0000", "Success.", serde_json::to_string(&info).ok())
    }

    pub fn check(&self, order_id: &str, channel_currency: Currency) -> Answer {
        if self.failed_orders.contains(order_id) {
            let info = wire::CheckInfo {
                status: "FAIL".into(),
                transaction_id: None,
                order_id: Some(order_id.to_owned()),
                pay_info: Vec::new(),
            };
            return ("0000", "Success.", serde_json::to_string(&info).ok());
        }
        let Some(order) = self.order_on(order_id, channel_currency) else {
            return ("1150", "Transaction record not found.", None);
        };
        let status = match order.status {
            OrderStatus::Complete => "COMPLETE",
            OrderStatus::Refunded => "REFUND",
            OrderStatus::Voided => "FAIL",
        };
        let info = wire::CheckInfo {
            status: status.into(),
            transaction_id: Some(order.transaction_id),
            order_id: Some(order.order_id.clone()),
            pay_info: vec![wire::PayMethod {
                method: "BALANCE".into(),
                amount: wire::number(&order.amount),
            }],
        };
        ("0000", "Success.", serde_json::to_string(&info).ok())
    }

    /// Void applies to authorizations; every simulated payment is captured at once, so a
    /// completed order answers 1155 (refund it instead), as LINE Pay does.
    pub fn void(&mut self, order_id: &str, channel_currency: Currency) -> Answer {
        match self.order_on(order_id, channel_currency).map(|o| o.status) {
            None => ("1150", "Transaction record not found.", None),
            Some(OrderStatus::Voided | OrderStatus::Refunded) => {
                ("1165", "Already voided or refunded.", None)
            }
            Some(OrderStatus::Complete) => (
                "1155",
                "Captured transaction cannot be voided; refund it.",
                None,
            ),
        }
    }

    pub fn refund(
        &mut self,
        order_id: &str,
        channel_currency: Currency,
        amount: Option<Decimal>,
        now_ms: i64,
    ) -> Answer {
        let refund_id = self.new_transaction_id();
        let Some(order) = self
            .orders
            .get_mut(order_id)
            .filter(|o| o.currency == channel_currency)
        else {
            return ("1150", "Transaction record not found.", None);
        };
        if order.status != OrderStatus::Complete {
            return ("1165", "Already refunded.", None);
        }
        let remaining = order.amount - order.refunded;
        let amount = amount.unwrap_or(remaining);
        if amount <= Decimal::ZERO {
            return ("1183", "Refund amount must be greater than 0.", None);
        }
        if amount > remaining {
            return ("1164", "Exceeded refundable amount.", None);
        }
        if order.refunds.len() >= REFUNDS_PER_ORDER_MAX {
            return ("2042", "Refund could not be processed.", None);
        }
        let Some(wallet) = self.wallets.get_mut(&order.wallet_id) else {
            return ("9000", "Internal error.", None);
        };
        if self.refunds.len() >= REFUNDS_MAX {
            return ("9000", "Internal error.", None);
        }
        self.refunds.push(RefundRecord {
            refund_transaction_id: refund_id,
            order_id: order_id.to_owned(),
            amount,
        });
        wallet.balance += amount;
        order.refunded += amount;
        order.refunds.push(RefundView {
            refund_transaction_id: refund_id,
            amount,
            refunded_at_ms: now_ms,
        });
        if order.refunded == order.amount {
            order.status = OrderStatus::Refunded;
        }
        let info = wire::RefundInfo {
            refund_transaction_id: refund_id,
            refund_transaction_date: iso8601_utc(now_ms),
        };
        ("0000", "Success.", serde_json::to_string(&info).ok())
    }

    /// Payment details for one order on this channel, found by orderId and/or transactionId
    /// (both given: both must name it): the payment and its refund list, refunds negative
    /// as LINE Pay lists them. An order that does not exist here is 1150, as LINE Pay
    /// answers an unknown id (a refused Pay created no transaction).
    pub fn details(
        &self,
        order_id: Option<&str>,
        transaction_id: Option<u64>,
        channel_currency: Currency,
    ) -> Answer {
        let by_order = order_id.map(|id| self.order_on(id, channel_currency));
        let found = match (by_order, transaction_id) {
            (Some(order), None) => order,
            (Some(order), Some(txn)) => order.filter(|o| o.transaction_id == txn),
            (None, Some(txn)) => self
                .orders
                .values()
                .find(|o| o.transaction_id == txn && o.currency == channel_currency),
            (None, None) => return ("2101", "Parameter error (orderId or transactionId).", None),
        };
        let Some(order) = found else {
            return ("1150", "Transaction record not found.", None);
        };
        let refund_list = order
            .refunds
            .iter()
            .map(|r| wire::ListedRefund {
                refund_transaction_id: wire::TransactionId(r.refund_transaction_id),
                transaction_type: if r.amount == order.amount {
                    "PAYMENT_REFUND".into()
                } else {
                    "PARTIAL_REFUND".into()
                },
                refund_amount: wire::number(&-r.amount),
                refund_transaction_date: iso8601_utc(r.refunded_at_ms),
            })
            .collect();
        let details = [wire::PaymentDetails {
            transaction_id: wire::TransactionId(order.transaction_id),
            order_id: order.order_id.clone(),
            transaction_type: "PAYMENT".into(),
            transaction_date: iso8601_utc(order.paid_at_ms),
            currency: order.currency.code().to_owned(),
            pay_info: vec![wire::PayMethod {
                method: "BALANCE".into(),
                amount: wire::number(&order.amount),
            }],
            refund_list,
        }];
        ("0000", "Success.", serde_json::to_string(&details).ok())
    }

    /// 19 digits, as LINE Pay's: the year 2026 and 15 seeded random digits.
    fn new_transaction_id(&mut self) -> u64 {
        2_026_000_000_000_000_000 + self.rng.random_range(0..1_000_000_000_000_000u64)
    }
}
