//! The simulator's books: member wallets, codes, payments with their quotes, refunds.
//! Each operation is Alipay+'s business logic and answers with its result model.
use std::collections::HashMap;
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::SimError;
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::wire::{self, Amount, PaymentReply, Quote, ResultInfo};

mod recon;
mod state;

const WALLETS_MAX: usize = 10_000;
const RECORDS_MAX: usize = 200_000;
/// Payment codes refresh in the wallet app; an old one is refused.
pub(super) const CODE_VALID_MS: i64 = 2 * 60 * 1000;
/// A payment the customer never confirms is closed after this long.
const CONFIRM_WINDOW_MS: i64 = 3 * 60 * 1000;
const QUOTE_VALID_MS: i64 = 10 * 60 * 1000;
const UTC8_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Member wallets of the simulated Alipay+ network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    AlipayCn,
    AlipayHk,
    KakaoPay,
    TrueMoney,
}

impl Member {
    pub const ALL: [Member; 4] = [
        Self::AlipayCn,
        Self::AlipayHk,
        Self::KakaoPay,
        Self::TrueMoney,
    ];

    pub fn brand(self) -> &'static str {
        match self {
            Self::AlipayCn => "AlipayCN",
            Self::AlipayHk => "AlipayHK",
            Self::KakaoPay => "KakaoPay",
            Self::TrueMoney => "TrueMoney",
        }
    }

    fn psp_id(self) -> &'static str {
        match self {
            Self::AlipayCn => "1022088000000000001",
            Self::AlipayHk => "1022172000000000001",
            Self::KakaoPay => "1022188000000000001",
            Self::TrueMoney => "1022185000000000001",
        }
    }

    pub fn currency(self) -> Currency {
        match self {
            Self::AlipayCn => Currency::CNY,
            Self::AlipayHk => Currency::HKD,
            Self::KakaoPay => Currency::KRW,
            Self::TrueMoney => Currency::THB,
        }
    }

    /// CGCP routing number, for members whose codes carry one.
    pub fn routing_number(self) -> Option<&'static str> {
        match self {
            Self::KakaoPay => Some("010"),
            Self::TrueMoney => Some("012"),
            Self::AlipayCn | Self::AlipayHk => None,
        }
    }
}

/// Wallet currency per JPY.
fn rate_from_jpy(to: Currency) -> Option<Decimal> {
    let r = match to.code() {
        "CNY" => "0.0478",
        "HKD" => "0.0521",
        "KRW" => "9.12",
        "THB" => "0.2281",
        "USD" => "0.00658",
        "JPY" => "1",
        _ => return None,
    };
    Decimal::from_str(r).ok()
}

/// `minor` JPY in `to`'s minor units at `rate`, rounded half up.
fn convert(minor_jpy: i64, to: Currency, rate: Decimal) -> Option<i64> {
    let major = Decimal::from(minor_jpy) * rate;
    let minor = (major * Decimal::from(10i64.pow(u32::from(to.exponent()?))))
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(minor.mantissa()).ok()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Processing { confirm_at: i64 },
    Success,
    Fail(&'static str),
    Cancelled,
}

#[derive(Debug)]
struct Wallet {
    member: Member,
    balance: i64,
    confirm_ms: Option<i64>,
}

#[derive(Debug)]
struct Code {
    wallet_id: String,
    issued_ms: i64,
    used: bool,
}

#[derive(Debug)]
struct Payment {
    fingerprint: String,
    wallet_id: String,
    member: Member,
    payment_id: String,
    amount: Amount,
    customer_minor: i64,
    customer_rate: Decimal,
    settlement: Option<(Amount, Quote)>,
    quote_id: String,
    created_ms: i64,
    status: Status,
    refunded_minor: i64,
    customer_refunded_minor: i64,
}

#[derive(Debug)]
struct Refund {
    payment_request_id: String,
    amount_minor: i64,
    /// What went back to the wallet, in its currency's minor units.
    customer_minor: i64,
    refund_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub status: String,
    pub wallet_id: String,
    pub customer_minor: i64,
    pub refunded_minor: i64,
}

#[derive(Debug)]
pub(super) struct Books {
    rng: StdRng,
    wallets: HashMap<String, Wallet>,
    codes: HashMap<String, Code>,
    payments: HashMap<String, Payment>,
    refunds: HashMap<String, Refund>,
}

fn result(status: &str, code: &str, message: &str) -> ResultInfo {
    ResultInfo {
        result_code: code.into(),
        result_status: status.into(),
        result_message: message.into(),
    }
}

fn fail(code: &str) -> PaymentReply {
    PaymentReply {
        result: Some(result("F", code, code)),
        ..PaymentReply::default()
    }
}

fn success() -> ResultInfo {
    result("S", "SUCCESS", "success")
}

impl Books {
    pub fn new(rng: StdRng) -> Self {
        Self {
            rng,
            wallets: HashMap::new(),
            codes: HashMap::new(),
            payments: HashMap::new(),
            refunds: HashMap::new(),
        }
    }

    pub fn add_wallet(
        &mut self,
        id: &str,
        member: Member,
        balance: i64,
        confirm_ms: Option<i64>,
    ) -> Result<(), SimError> {
        if id.is_empty() || id.len() > 64 || balance < 0 {
            return Err(SimError::Invalid(
                "wallet id must be 1..=64 characters and the balance not negative".into(),
            ));
        }
        if !self.wallets.contains_key(id) && self.wallets.len() >= WALLETS_MAX {
            return Err(SimError::Full(format!(
                "the simulator holds {WALLETS_MAX} wallets already"
            )));
        }
        self.wallets.insert(
            id.to_owned(),
            Wallet {
                member,
                balance,
                confirm_ms,
            },
        );
        Ok(())
    }

    pub fn balance(&self, id: &str) -> Option<i64> {
        self.wallets.get(id).map(|w| w.balance)
    }

    pub fn issue_code(&mut self, wallet_id: &str, now_ms: i64) -> Result<String, SimError> {
        let member = self
            .wallets
            .get(wallet_id)
            .map(|w| w.member)
            .ok_or_else(|| SimError::NotFound(format!("no wallet `{wallet_id}`")))?;
        if self.codes.len() >= RECORDS_MAX {
            self.codes
                .retain(|_, c| !c.used && now_ms - c.issued_ms <= CODE_VALID_MS);
        }
        loop {
            let code = match (member, member.routing_number()) {
                (_, Some(routing)) => format!(
                    "281{routing}{:018}",
                    self.rng.random_range(0..1_000_000_000_000_000_000u64)
                ),
                (Member::AlipayHk, None) => format!(
                    "28{:015}",
                    self.rng.random_range(0..1_000_000_000_000_000u64)
                ),
                (_, None) => format!(
                    "28{:016}",
                    self.rng.random_range(0..10_000_000_000_000_000u64)
                ),
            };
            if !self.codes.contains_key(&code) {
                self.codes.insert(
                    code.clone(),
                    Code {
                        wallet_id: wallet_id.to_owned(),
                        issued_ms: now_ms,
                        used: false,
                    },
                );
                return Ok(code);
            }
        }
    }

    /// Moves a payment waiting for the customer's confirmation along the clock.
    fn settle(&mut self, id: &str, now_ms: i64) {
        let Some(p) = self.payments.get_mut(id) else {
            return;
        };
        let Status::Processing { confirm_at } = p.status else {
            return;
        };
        if confirm_at <= now_ms && confirm_at < p.created_ms + CONFIRM_WINDOW_MS {
            match self
                .wallets
                .get_mut(&p.wallet_id)
                .filter(|w| w.balance >= p.customer_minor)
            {
                Some(w) => {
                    w.balance -= p.customer_minor;
                    p.status = Status::Success;
                }
                None => p.status = Status::Fail("USER_BALANCE_NOT_ENOUGH"),
            }
        } else if now_ms >= p.created_ms + CONFIRM_WINDOW_MS {
            p.status = Status::Fail("ORDER_IS_CLOSED");
        }
    }

    /// `with_settlement`: inquiryPayment carries `settlementAmount`/`settlementQuote`; the
    /// `pay` reply does not (Alipay+'s `AlipayApsPayResponse` has no such fields).
    fn reply(&self, id: &str, with_settlement: bool) -> PaymentReply {
        let Some(p) = self.payments.get(id) else {
            return fail("ORDER_NOT_EXIST");
        };
        let payment_result = match &p.status {
            Status::Processing { .. } => result(
                "U",
                "PAYMENT_IN_PROCESS",
                "waiting for the customer to confirm",
            ),
            Status::Success => success(),
            Status::Fail(code) => result("F", code, code),
            Status::Cancelled => result("F", "ORDER_IS_CANCELED", "cancelled"),
        };
        let paid = p.status == Status::Success;
        let quote_time = kakehashi_adapter_core::simkit::iso8601_utc;
        PaymentReply {
            result: Some(payment_result.clone()),
            payment_result: Some(payment_result),
            payment_id: paid.then(|| p.payment_id.clone()),
            payment_request_id: Some(id.to_owned()),
            payment_amount: Some(p.amount.clone()),
            psp_id: Some(p.member.psp_id().into()),
            wallet_brand_name: Some(p.member.brand().into()),
            customer_pay_amount: paid.then(|| Amount {
                currency: p.member.currency().code().into(),
                value: p.customer_minor.to_string(),
            }),
            payment_quote: paid.then(|| Quote {
                quote_id: p.quote_id.clone(),
                quote_currency_pair: format!("JPY/{}", p.member.currency().code()),
                quote_price: p.customer_rate.to_string(),
                quote_start_time: Some(quote_time(p.created_ms)),
                quote_expiry_time: Some(quote_time(p.created_ms + QUOTE_VALID_MS)),
                base_currency: Some("JPY".into()),
            }),
            settlement_amount: p
                .settlement
                .as_ref()
                .filter(|_| paid && with_settlement)
                .map(|s| s.0.clone()),
            settlement_quote: p
                .settlement
                .as_ref()
                .filter(|_| paid && with_settlement)
                .map(|s| s.1.clone()),
            refund_id: None,
            refund_amount: None,
        }
    }

    pub fn pay(&mut self, r: &wire::PayRequest, now_ms: i64) -> PaymentReply {
        // What REPEAT_REQ_INCONSISTENT compares: amount, factor, strategy, method.
        let fingerprint = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            r.payment_amount.currency,
            r.payment_amount.value,
            r.payment_method.payment_method_type,
            r.payment_method.payment_method_id,
            r.settlement_strategy.settlement_currency,
            r.payment_factor.is_in_store_payment,
            r.payment_factor.in_store_payment_scenario
        );
        if let Some(existing) = self.payments.get(&r.payment_request_id) {
            if existing.fingerprint != fingerprint {
                return fail("REPEAT_REQ_INCONSISTENT");
            }
            self.settle(&r.payment_request_id, now_ms);
            return self.reply(&r.payment_request_id, false);
        }
        if r.payment_request_id.is_empty()
            || r.payment_request_id.len() > 64
            || r.payment_method.payment_method_type != "CONNECT_WALLET"
            || r.order.order_amount != r.payment_amount
        {
            return fail("PARAM_ILLEGAL");
        }
        if r.payment_amount.currency != "JPY" {
            return fail("CURRENCY_NOT_SUPPORT");
        }
        let Some(minor) = i64::from_str(&r.payment_amount.value)
            .ok()
            .filter(|v| *v > 0)
        else {
            return fail("PARAM_ILLEGAL");
        };
        let code = r.payment_method.payment_method_id.as_str();
        let shaped = (16..=32).contains(&code.len())
            && code.chars().all(|c| c.is_ascii_digit())
            && (25..=30).contains(&code[..2].parse::<u32>().unwrap_or(0));
        if !shaped {
            return fail("INVALID_CODE");
        }
        if self.payments.len() >= RECORDS_MAX {
            return PaymentReply {
                result: Some(result("U", "REQUEST_TRAFFIC_EXCEED_LIMIT", "busy")),
                ..PaymentReply::default()
            };
        }
        let Some(issued) = self.codes.get_mut(code) else {
            return fail("INVALID_PAYMENT_CODE");
        };
        if issued.used {
            return fail("INVALID_CODE");
        }
        if now_ms - issued.issued_ms > CODE_VALID_MS {
            return fail("EXPIRED_CODE");
        }
        issued.used = true;
        let wallet_id = issued.wallet_id.clone();
        let Some(wallet) = self.wallets.get(&wallet_id) else {
            return fail("USER_NOT_EXIST");
        };
        let member = wallet.member;
        let confirm = wallet.confirm_ms;
        let (Some(rate), Some(settle_currency)) = (
            rate_from_jpy(member.currency()),
            Currency::from_code(&r.settlement_strategy.settlement_currency),
        ) else {
            return fail("CURRENCY_NOT_SUPPORT");
        };
        let Some(customer_minor) = convert(minor, member.currency(), rate) else {
            return fail("CURRENCY_NOT_SUPPORT");
        };
        let settlement = match (settle_currency.code() != "JPY")
            .then(|| rate_from_jpy(settle_currency))
            .flatten()
        {
            Some(settle_rate) => convert(minor, settle_currency, settle_rate).map(|value| {
                let quote = Quote {
                    quote_id: format!("SQ{}", self.rng.random_range(10_000_000u64..100_000_000)),
                    quote_currency_pair: format!("JPY/{}", settle_currency.code()),
                    quote_price: settle_rate.to_string(),
                    quote_start_time: Some(kakehashi_adapter_core::simkit::iso8601_utc(now_ms)),
                    quote_expiry_time: Some(kakehashi_adapter_core::simkit::iso8601_utc(
                        now_ms + QUOTE_VALID_MS,
                    )),
                    base_currency: Some("JPY".into()),
                };
                (
                    Amount {
                        currency: settle_currency.code().into(),
                        value: value.to_string(),
                    },
                    quote,
                )
            }),
            None => None,
        };
        let payment_id = format!(
            "2026{:016}",
            self.rng.random_range(0..10_000_000_000_000_000u64)
        );
        let quote_id = format!("PQ{}", self.rng.random_range(10_000_000u64..100_000_000));
        let status = match confirm {
            Some(ms) => Status::Processing {
                confirm_at: now_ms.saturating_add(ms),
            },
            None => match self
                .wallets
                .get_mut(&wallet_id)
                .filter(|w| w.balance >= customer_minor)
            {
                Some(w) => {
                    w.balance -= customer_minor;
                    Status::Success
                }
                None => Status::Fail("USER_BALANCE_NOT_ENOUGH"),
            },
        };
        self.payments.insert(
            r.payment_request_id.clone(),
            Payment {
                fingerprint,
                wallet_id,
                member,
                payment_id,
                amount: r.payment_amount.clone(),
                customer_minor,
                customer_rate: rate,
                settlement,
                quote_id,
                created_ms: now_ms,
                status,
                refunded_minor: 0,
                customer_refunded_minor: 0,
            },
        );
        self.reply(&r.payment_request_id, false)
    }

    pub fn inquiry(&mut self, id: &str, now_ms: i64) -> PaymentReply {
        self.settle(id, now_ms);
        let mut reply = self.reply(id, true);
        if self.payments.contains_key(id) {
            reply.result = Some(success());
        }
        reply
    }

    /// Cancel: allowed until 00:15 (UTC+8) the day after; the money goes back; it wins over
    /// any later success.
    pub fn cancel(&mut self, id: &str, now_ms: i64) -> PaymentReply {
        self.settle(id, now_ms);
        let Some(p) = self.payments.get_mut(id) else {
            return fail("ORDER_NOT_EXIST");
        };
        let day = (p.created_ms + UTC8_MS).div_euclid(DAY_MS);
        let window_end = (day + 1) * DAY_MS + 15 * 60_000 - UTC8_MS;
        if now_ms > window_end || p.refunded_minor > 0 {
            return fail("ORDER_STATUS_INVALID");
        }
        if p.status == Status::Success
            && let Some(w) = self.wallets.get_mut(&p.wallet_id)
        {
            w.balance += p.customer_minor;
        }
        p.status = Status::Cancelled;
        PaymentReply {
            result: Some(success()),
            psp_id: Some(p.member.psp_id().into()),
            ..PaymentReply::default()
        }
    }

    pub fn refund(&mut self, r: &wire::RefundRequest, now_ms: i64) -> PaymentReply {
        let Some(minor) = i64::from_str(&r.refund_amount.value)
            .ok()
            .filter(|v| *v > 0)
        else {
            return fail("PARAM_ILLEGAL");
        };
        if let Some(existing) = self.refunds.get(&r.refund_request_id) {
            return if existing.payment_request_id == r.payment_request_id
                && existing.amount_minor == minor
            {
                let refund_id = existing.refund_id.clone();
                self.refund_reply(&r.payment_request_id, minor, refund_id)
            } else {
                fail("REPEAT_REQ_INCONSISTENT")
            };
        }
        self.settle(&r.payment_request_id, now_ms);
        let Some(p) = self.payments.get_mut(&r.payment_request_id) else {
            return fail("ORDER_NOT_EXIST");
        };
        if p.status != Status::Success || r.refund_amount.currency != p.amount.currency {
            return fail("ORDER_STATUS_INVALID");
        }
        let paid = i64::from_str(&p.amount.value).unwrap_or(0);
        if minor > paid - p.refunded_minor {
            return fail("REFUND_AMOUNT_EXCEED");
        }
        // The customer gets back the same share of what the wallet charged.
        p.refunded_minor += minor;
        let customer_total = if p.refunded_minor == paid {
            p.customer_minor
        } else {
            convert(p.refunded_minor, p.member.currency(), p.customer_rate)
                .unwrap_or(0)
                .min(p.customer_minor)
        };
        let back = customer_total - p.customer_refunded_minor;
        p.customer_refunded_minor = customer_total;
        if let Some(w) = self.wallets.get_mut(&p.wallet_id) {
            w.balance += back;
        }
        let refund_id = format!(
            "RF{}",
            self.rng.random_range(10_000_000_000u64..100_000_000_000)
        );
        self.refunds.insert(
            r.refund_request_id.clone(),
            Refund {
                payment_request_id: r.payment_request_id.clone(),
                amount_minor: minor,
                customer_minor: back,
                refund_id: refund_id.clone(),
            },
        );
        self.refund_reply(&r.payment_request_id, minor, refund_id)
    }

    /// A refund's reply: its settlement amount at the payment's settlement quote.
    fn refund_reply(
        &self,
        payment_request_id: &str,
        minor: i64,
        refund_id: String,
    ) -> PaymentReply {
        let settlement = self
            .payments
            .get(payment_request_id)
            .and_then(|p| p.settlement.as_ref())
            .and_then(|(amount, quote)| {
                let currency = Currency::from_code(&amount.currency)?;
                let price = Decimal::from_str(&quote.quote_price).ok()?;
                let value = convert(minor, currency, price)?;
                Some((
                    Amount {
                        currency: amount.currency.clone(),
                        value: value.to_string(),
                    },
                    quote.clone(),
                ))
            });
        PaymentReply {
            result: Some(success()),
            refund_id: Some(refund_id),
            refund_amount: self.payments.get(payment_request_id).map(|p| Amount {
                currency: p.amount.currency.clone(),
                value: minor.to_string(),
            }),
            settlement_amount: settlement.as_ref().map(|s| s.0.clone()),
            settlement_quote: settlement.map(|s| s.1),
            ..PaymentReply::default()
        }
    }

    pub fn view(&mut self, id: &str, now_ms: i64) -> Option<PaymentView> {
        self.settle(id, now_ms);
        let p = self.payments.get(id)?;
        let status = match &p.status {
            Status::Processing { .. } => "PROCESSING".to_owned(),
            Status::Success => "SUCCESS".to_owned(),
            Status::Fail(code) => format!("FAIL:{code}"),
            Status::Cancelled => "CANCELLED".to_owned(),
        };
        Some(PaymentView {
            status,
            wallet_id: p.wallet_id.clone(),
            customer_minor: p.customer_minor,
            refunded_minor: p.refunded_minor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_half_up_in_the_wallet_currency() {
        assert_eq!(
            convert(1200, Currency::KRW, Decimal::from_str("9.12").unwrap()),
            Some(10_944)
        );
        assert_eq!(
            convert(1200, Currency::CNY, Decimal::from_str("0.0478").unwrap()),
            Some(5_736)
        );
        assert_eq!(
            convert(1200, Currency::USD, Decimal::from_str("0.00658").unwrap()),
            Some(790)
        );
    }
}
