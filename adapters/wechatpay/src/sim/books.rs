//! The simulator's books: wallets, auth codes, orders, refunds and the FX table. Each
//! operation is WeChat Pay's business logic and answers with its result fields.
use std::collections::HashMap;
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::SimError;
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{AUTH_CODE_VALID_MS, AUTO_REVOKE_MS, REVERSE_NOT_BEFORE_MS};
use crate::xml::Fields;

mod state;

const WALLETS_MAX: usize = 10_000;
const RECORDS_MAX: usize = 200_000;
const CST_OFFSET_MINUTES: i64 = 8 * 60;

/// Which WeChat wallet a customer has: mainland (pays CNY, codes 10-14) or Hong Kong
/// (pays HKD, codes 15; accepted by fusion institutions, which Japan allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletKind {
    Mainland,
    HongKong,
}

impl WalletKind {
    /// The control API's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mainland => "mainland",
            Self::HongKong => "hong_kong",
        }
    }
    pub fn currency(self) -> Currency {
        match self {
            Self::Mainland => Currency::CNY,
            Self::HongKong => Currency::HKD,
        }
    }
    fn code_prefix(self) -> &'static str {
        match self {
            Self::Mainland => "13",
            Self::HongKong => "15",
        }
    }
}

/// FX table: price currency → wallet currency, × 10^8 (WeChat's `rate`).
fn rate_e8(from: Currency, to: Currency) -> Option<i64> {
    match (from.code(), to.code()) {
        ("JPY", "CNY") => Some(4_780_000),
        ("JPY", "HKD") => Some(5_210_000),
        ("USD", "CNY") => Some(717_420_000),
        ("USD", "HKD") => Some(778_000_000),
        ("HKD", "CNY") => Some(92_200_000),
        (a, b) if a == b => Some(100_000_000),
        _ => None,
    }
}

/// `cash_fee`: the wallet-side amount in its minor unit, rounded half up (WeChat does not
/// document its rounding; half-up reproduces its published sample).
fn cash_fee(total_fee: i64, from: Currency, to: Currency, rate: i64) -> Option<i64> {
    let major = Decimal::new(total_fee, u32::from(from.exponent()?));
    let wallet = major * Decimal::new(rate, 8);
    let minor = (wallet * Decimal::from(10i64.pow(u32::from(to.exponent()?))))
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(minor.mantissa()).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    UserPaying,
    Success,
    Revoked,
    PayError,
}

#[derive(Debug)]
struct Wallet {
    kind: WalletKind,
    balance: i64,
    pin_entry_ms: Option<i64>,
}

#[derive(Debug)]
struct Code {
    wallet_id: String,
    issued_ms: i64,
    used: bool,
}

#[derive(Debug)]
struct Order {
    transaction_id: String,
    wallet_id: String,
    total_fee: i64,
    fee_type: Currency,
    cash_fee: i64,
    cash_fee_type: Currency,
    rate: i64,
    state: State,
    created_ms: i64,
    /// When the customer finishes entering the PIN (None: paid at once).
    pin_done_ms: Option<i64>,
    refunded: i64,
}

#[derive(Debug)]
struct Refund {
    out_trade_no: String,
    refund_id: String,
    refund_fee: i64,
    cash_refund_fee: i64,
    queries: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub state: &'static str,
    pub total_fee: i64,
    pub cash_fee: i64,
    pub refunded: i64,
}

#[derive(Debug)]
pub(super) struct Books {
    rng: StdRng,
    wallets: HashMap<String, Wallet>,
    codes: HashMap<String, Code>,
    orders: HashMap<String, Order>,
    refunds: HashMap<String, Refund>,
    /// Cross-border refunds to mainland wallets are paid from the day's unconverted CNY
    /// (fen); when it is short, `refund` answers NOTENOUGH. `None`: never short.
    refund_pool_fen: Option<i64>,
    /// How long after creation an order may be reversed (then REVERSE_EXPIRE: refund it).
    reverse_window: ReverseWindow,
}

/// WeChat Pay's documents disagree on how long reverse is allowed: "the same day" (the
/// Quick Pay guide) or "within 7 days" (the revoke pages). The simulator can play either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReverseWindow {
    /// Until midnight China time on the day of the order.
    SameDay,
    /// Seven days after the order.
    SevenDays,
}

impl ReverseWindow {
    fn closes_at_ms(self, created_ms: i64) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        match self {
            Self::SameDay => {
                let offset = CST_OFFSET_MINUTES * 60_000;
                ((created_ms + offset).div_euclid(DAY_MS) + 1) * DAY_MS - offset
            }
            Self::SevenDays => created_ms.saturating_add(7 * DAY_MS),
        }
    }
}

/// A business answer: `Ok(fields)` for result_code SUCCESS, `Err((err_code, des))` for FAIL
/// (with any extra fields, e.g. `recall`).
pub(super) type Answer = Result<Fields, (&'static str, &'static str, Fields)>;

fn fail(code: &'static str, des: &'static str) -> Answer {
    Err((code, des, Fields::new()))
}

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

impl Books {
    pub fn new(rng: StdRng) -> Self {
        Self {
            rng,
            wallets: HashMap::new(),
            codes: HashMap::new(),
            orders: HashMap::new(),
            refunds: HashMap::new(),
            refund_pool_fen: None,
            reverse_window: ReverseWindow::SevenDays,
        }
    }

    pub fn set_reverse_window(&mut self, window: ReverseWindow) {
        self.reverse_window = window;
    }

    pub fn set_refund_pool(&mut self, fen: Option<i64>) {
        self.refund_pool_fen = fen;
    }

    pub fn add_wallet(
        &mut self,
        id: &str,
        kind: WalletKind,
        balance: i64,
        pin_entry_ms: Option<i64>,
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
                kind,
                balance,
                pin_entry_ms,
            },
        );
        Ok(())
    }

    pub fn balance(&self, id: &str) -> Option<i64> {
        self.wallets.get(id).map(|w| w.balance)
    }

    pub fn issue_code(&mut self, wallet_id: &str, now_ms: i64) -> Result<String, SimError> {
        let prefix = self
            .wallets
            .get(wallet_id)
            .map(|w| w.kind.code_prefix())
            .ok_or_else(|| SimError::NotFound(format!("no wallet `{wallet_id}`")))?;
        if self.codes.len() >= RECORDS_MAX {
            self.codes
                .retain(|_, c| !c.used && now_ms - c.issued_ms <= AUTH_CODE_VALID_MS);
        }
        loop {
            let code = format!(
                "{prefix}{:016}",
                self.rng.random_range(0..10_000_000_000_000_000u64)
            );
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

    /// Moves an order along the clock: the PIN entered (debit, or PAYERROR if short), or
    /// revoked at 45 s if still unpaid.
    fn settle(&mut self, out_trade_no: &str, now_ms: i64) {
        let Some(order) = self.orders.get_mut(out_trade_no) else {
            return;
        };
        if order.state != State::UserPaying {
            return;
        }
        let revoke_at = order.created_ms + AUTO_REVOKE_MS;
        match order.pin_done_ms {
            Some(done) if done <= now_ms && done < revoke_at => {
                let wallet = self.wallets.get_mut(&order.wallet_id);
                match wallet.filter(|w| w.balance >= order.cash_fee) {
                    Some(w) => {
                        w.balance -= order.cash_fee;
                        order.state = State::Success;
                    }
                    None => order.state = State::PayError,
                }
            }
            _ if now_ms >= revoke_at => order.state = State::Revoked,
            _ => {}
        }
    }

    pub fn micropay(&mut self, f: &Fields, now_ms: i64) -> Answer {
        let (
            Some(out_trade_no),
            Some(total_fee),
            Some(fee_type),
            Some(auth_code),
            Some(_body),
            Some(_ip),
        ) = (
            field(f, "out_trade_no"),
            field(f, "total_fee"),
            field(f, "fee_type"),
            field(f, "auth_code"),
            field(f, "body"),
            field(f, "spbill_create_ip"),
        )
        else {
            return fail("LACK_PARAMS", "缺少参数");
        };
        let total_fee = match i64::from_str(total_fee) {
            Ok(t) if t > 0 => t,
            _ => return fail("PARAM_ERROR", "total_fee 无效"),
        };
        let Some(fee_type) =
            Currency::from_code(fee_type).filter(|c| ["JPY", "USD", "HKD"].contains(&c.code()))
        else {
            return fail("PARAM_ERROR", "fee_type 无效");
        };
        if out_trade_no.len() > 32
            || !out_trade_no
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-|*".contains(c))
        {
            return fail("PARAM_ERROR", "out_trade_no 无效");
        }
        if let Some(existing) = self.orders.get(out_trade_no) {
            return if existing.state == State::Success {
                fail("ORDERPAID", "订单已支付")
            } else {
                fail("OUT_TRADE_NO_USED", "商户订单号重复")
            };
        }
        if self.orders.len() >= RECORDS_MAX {
            return fail("SYSTEMERROR", "系统繁忙");
        }
        if auth_code.len() != 18 || !auth_code.chars().all(|c| c.is_ascii_digit()) {
            return fail("AUTH_CODE_INVALID", "101 付款码无效，请重新扫码");
        }
        let Some(code) = self.codes.get_mut(auth_code) else {
            return fail("AUTH_CODE_INVALID", "101 付款码无效，请重新扫码");
        };
        if code.used {
            return fail("AUTH_CODE_ERROR", "每个二维码仅限使用一次，请刷新再试");
        }
        if now_ms - code.issued_ms > AUTH_CODE_VALID_MS {
            return fail("AUTHCODEEXPIRE", "二维码已过期，请用户在微信上刷新后再试");
        }
        code.used = true;
        let wallet_id = code.wallet_id.clone();
        let Some(wallet) = self.wallets.get(&wallet_id) else {
            return fail("SYSTEMERROR", "系统错误");
        };
        let cash_type = wallet.kind.currency();
        let Some(rate) = rate_e8(fee_type, cash_type) else {
            return fail("PARAM_ERROR", "币种不支持");
        };
        let Some(cash) = cash_fee(total_fee, fee_type, cash_type, rate) else {
            return fail("SYSTEMERROR", "系统错误");
        };
        let pin = wallet.pin_entry_ms;
        let transaction_id = format!(
            "42000{:023}",
            self.rng.random_range(0..10_000_000_000_000_000_000u128)
        );
        let order = Order {
            transaction_id,
            wallet_id: wallet_id.clone(),
            total_fee,
            fee_type,
            cash_fee: cash,
            cash_fee_type: cash_type,
            rate,
            state: State::UserPaying,
            created_ms: now_ms,
            pin_done_ms: pin.map(|ms| now_ms.saturating_add(ms)),
            refunded: 0,
        };
        self.orders.insert(out_trade_no.to_owned(), order);
        if pin.is_some() {
            return fail("USERPAYING", "需要用户输入支付密码");
        }
        let enough = self
            .wallets
            .get(&wallet_id)
            .is_some_and(|w| w.balance >= cash);
        let order = self.orders.get_mut(out_trade_no).expect("inserted above");
        if !enough {
            order.state = State::PayError;
            return fail("NOTENOUGH", "余额不足");
        }
        order.state = State::Success;
        if let Some(w) = self.wallets.get_mut(&wallet_id) {
            w.balance -= cash;
        }
        let mut out = self.order_fields(out_trade_no, now_ms);
        // Micropay's reply carries no `rate`; orderquery does.
        out.remove("rate");
        out.remove("trade_state");
        Ok(out)
    }

    fn order_fields(&self, out_trade_no: &str, now_ms: i64) -> Fields {
        let mut out = Fields::new();
        let Some(o) = self.orders.get(out_trade_no) else {
            return out;
        };
        let state = match (o.state, o.refunded > 0) {
            (State::Success, true) => "REFUND",
            (State::Success, false) => "SUCCESS",
            (State::UserPaying, _) => "USERPAYING",
            (State::Revoked, _) => "REVOKED",
            (State::PayError, _) => "PAYERROR",
        };
        out.insert("out_trade_no".into(), out_trade_no.to_owned());
        out.insert("trade_state".into(), state.into());
        if matches!(o.state, State::Success) {
            out.insert("transaction_id".into(), o.transaction_id.clone());
            out.insert("trade_type".into(), "MICROPAY".into());
            out.insert("openid".into(), format!("oSim{}", o.wallet_id.len()));
            out.insert("total_fee".into(), o.total_fee.to_string());
            out.insert("fee_type".into(), o.fee_type.code().into());
            out.insert("cash_fee".into(), o.cash_fee.to_string());
            out.insert("cash_fee_type".into(), o.cash_fee_type.code().into());
            out.insert("rate".into(), o.rate.to_string());
            out.insert("time_end".into(), cst(now_ms));
        }
        out
    }

    pub fn order_query(&mut self, f: &Fields, now_ms: i64) -> Answer {
        let Some(out_trade_no) = field(f, "out_trade_no").map(str::to_owned) else {
            return fail("LACK_PARAMS", "缺少参数");
        };
        if !self.orders.contains_key(&out_trade_no) {
            return fail("ORDERNOTEXIST", "此交易订单号不存在");
        }
        self.settle(&out_trade_no, now_ms);
        Ok(self.order_fields(&out_trade_no, now_ms))
    }

    pub fn order_view(&mut self, out_trade_no: &str, now_ms: i64) -> Option<OrderView> {
        self.settle(out_trade_no, now_ms);
        let fields = self.order_fields(out_trade_no, now_ms);
        let o = self.orders.get(out_trade_no)?;
        let state = match fields.get("trade_state").map(String::as_str) {
            Some("REFUND") => "REFUND",
            Some("SUCCESS") => "SUCCESS",
            Some("USERPAYING") => "USERPAYING",
            Some("REVOKED") => "REVOKED",
            _ => "PAYERROR",
        };
        Some(OrderView {
            state,
            total_fee: o.total_fee,
            cash_fee: o.cash_fee,
            refunded: o.refunded,
        })
    }

    pub fn reverse(&mut self, f: &Fields, now_ms: i64) -> Answer {
        let Some(out_trade_no) = field(f, "out_trade_no").map(str::to_owned) else {
            return fail("LACK_PARAMS", "缺少参数");
        };
        let recall = |code, des| {
            let mut extra = Fields::new();
            extra.insert("recall".into(), "Y".into());
            Err((code, des, extra))
        };
        let Some(created) = self.orders.get(&out_trade_no).map(|o| o.created_ms) else {
            return fail("ORDERNOTEXIST", "订单不存在");
        };
        if now_ms < created + REVERSE_NOT_BEFORE_MS {
            return recall("SYSTEMERROR", "下单15秒内不能撤销，请稍后再试");
        }
        self.settle(&out_trade_no, now_ms);
        let Some(order) = self.orders.get_mut(&out_trade_no) else {
            return fail("ORDERNOTEXIST", "订单不存在");
        };
        if order.refunded > 0 {
            return fail("REVERSE_EXPIRE", "订单已退款，不能撤销");
        }
        if order.state != State::Revoked
            && now_ms >= self.reverse_window.closes_at_ms(order.created_ms)
        {
            return fail("REVERSE_EXPIRE", "订单已超过撤销期限，请走退款");
        }
        if order.state == State::UserPaying {
            // The customer is still at the PIN prompt: WeChat Pay closes it, and asks the
            // caller to reverse again (recall=Y) to confirm.
            order.state = State::Revoked;
            return recall("SYSTEMERROR", "用户支付中，已关闭，请再次撤销");
        }
        if order.state == State::Success
            && let Some(w) = self.wallets.get_mut(&order.wallet_id)
        {
            w.balance += order.cash_fee;
        }
        order.state = State::Revoked;
        let mut out = Fields::new();
        out.insert("recall".into(), "N".into());
        Ok(out)
    }

    pub fn refund(&mut self, f: &Fields, now_ms: i64) -> Answer {
        let (Some(out_trade_no), Some(out_refund_no), Some(total_fee), Some(refund_fee)) = (
            field(f, "out_trade_no"),
            field(f, "out_refund_no"),
            field(f, "total_fee"),
            field(f, "refund_fee"),
        ) else {
            return fail("LACK_PARAMS", "缺少参数");
        };
        let (Ok(total_fee), Ok(refund_fee)) = (i64::from_str(total_fee), i64::from_str(refund_fee))
        else {
            return fail("PARAM_ERROR", "金额无效");
        };
        if let Some(existing) = self.refunds.get(out_refund_no) {
            return if existing.out_trade_no == out_trade_no && existing.refund_fee == refund_fee {
                Ok(self.refund_fields(out_refund_no))
            } else {
                fail("PARAM_ERROR", "退款单号重复")
            };
        }
        self.settle(out_trade_no, now_ms);
        let Some(order) = self.orders.get_mut(out_trade_no) else {
            return fail("INVALID_TRANSACTIONID", "订单不存在");
        };
        if order.state != State::Success {
            return fail("PARAM_ERROR", "订单状态不允许退款");
        }
        if field(f, "refund_fee_type").is_some_and(|t| t != order.fee_type.code()) {
            return fail("PARAM_ERROR", "退款币种必须与支付币种一致");
        }
        if total_fee != order.total_fee
            || refund_fee <= 0
            || refund_fee > order.total_fee - order.refunded
        {
            return fail("PARAM_ERROR", "退款金额无效");
        }
        if self.refunds.len() >= RECORDS_MAX {
            return fail("SYSTEMERROR", "系统繁忙");
        }
        // FX on refund: the original transaction's rate.
        let cash_refund_fee = cash_fee(refund_fee, order.fee_type, order.cash_fee_type, order.rate)
            .unwrap_or(0)
            .min(order.cash_fee);
        if order.cash_fee_type == Currency::CNY
            && let Some(pool) = self.refund_pool_fen.as_mut()
        {
            if *pool < cash_refund_fee {
                return fail("NOTENOUGH", "余额不足");
            }
            *pool -= cash_refund_fee;
        }
        order.refunded += refund_fee;
        let refund_id = format!(
            "50000{:023}",
            self.rng.random_range(0..10_000_000_000_000_000_000u128)
        );
        self.refunds.insert(
            out_refund_no.to_owned(),
            Refund {
                out_trade_no: out_trade_no.to_owned(),
                refund_id,
                refund_fee,
                cash_refund_fee,
                queries: 0,
            },
        );
        Ok(self.refund_fields(out_refund_no))
    }

    fn refund_fields(&self, out_refund_no: &str) -> Fields {
        let mut out = Fields::new();
        let Some(r) = self.refunds.get(out_refund_no) else {
            return out;
        };
        let order = self.orders.get(&r.out_trade_no);
        out.insert("out_trade_no".into(), r.out_trade_no.clone());
        out.insert("out_refund_no".into(), out_refund_no.to_owned());
        out.insert("refund_id".into(), r.refund_id.clone());
        out.insert("refund_fee".into(), r.refund_fee.to_string());
        out.insert("cash_refund_fee".into(), r.cash_refund_fee.to_string());
        if let Some(o) = order {
            out.insert("transaction_id".into(), o.transaction_id.clone());
            out.insert("total_fee".into(), o.total_fee.to_string());
            out.insert("fee_type".into(), o.fee_type.code().into());
            out.insert("refund_fee_type".into(), o.fee_type.code().into());
            out.insert("cash_fee".into(), o.cash_fee.to_string());
            out.insert("cash_fee_type".into(), o.cash_fee_type.code().into());
            out.insert("cash_refund_fee_type".into(), o.cash_fee_type.code().into());
            out.insert("rate".into(), o.rate.to_string());
        }
        out
    }

    /// Refunds are processed asynchronously: PROCESSING on the first query, SUCCESS (and
    /// the money back in the wallet) from the second.
    pub fn refund_query(&mut self, f: &Fields) -> Answer {
        let Some(out_refund_no) = field(f, "out_refund_no").map(str::to_owned) else {
            return fail("LACK_PARAMS", "缺少参数");
        };
        let Some(refund) = self.refunds.get_mut(&out_refund_no) else {
            return fail("REFUNDNOTEXIST", "退款订单查询失败");
        };
        refund.queries = refund.queries.saturating_add(1);
        let done = refund.queries >= 2;
        if refund.queries == 2 {
            let (cash, trade) = (refund.cash_refund_fee, refund.out_trade_no.clone());
            if let Some(w) = self
                .orders
                .get(&trade)
                .and_then(|o| self.wallets.get_mut(&o.wallet_id))
            {
                w.balance += cash;
            }
        }
        let mut out = self.refund_fields(&out_refund_no);
        let refund_id = out.get("refund_id").cloned().unwrap_or_default();
        let refund_fee = out.get("refund_fee").cloned().unwrap_or_default();
        out.insert("refund_count".into(), "1".into());
        out.insert("out_refund_no_0".into(), out_refund_no);
        out.insert("refund_id_0".into(), refund_id);
        out.insert("refund_fee_0".into(), refund_fee);
        out.insert(
            "refund_status_0".into(),
            if done { "SUCCESS" } else { "PROCESSING" }.into(),
        );
        Ok(out)
    }
}

/// WeChat Pay times: China Standard Time, `yyyyMMddHHmmss`.
fn cst(now_ms: i64) -> String {
    kakehashi_adapter_core::simkit::iso8601_with_offset(now_ms, CST_OFFSET_MINUTES)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_fee_follows_the_published_sample() {
        // USD 0.42 at 7.1742 = CNY 3.013164 -> 301 fen.
        assert_eq!(
            cash_fee(42, Currency::USD, Currency::CNY, 717_420_000),
            Some(301)
        );
        // JPY 1200 at 0.0478 = CNY 57.36.
        assert_eq!(
            cash_fee(1200, Currency::JPY, Currency::CNY, 4_780_000),
            Some(5736)
        );
        assert_eq!(cst(1_795_000_000_000), "20261118190640");
    }
}
