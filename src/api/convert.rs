//! Proto <-> domain. Parsing happens here, once: a command that reaches `payments` holds
//! only valid values. Every field is checked, so one answer names every invalid field;
//! descriptions say what to do and never echo a code.
use kakehashi_adapter_core::money::check_exact_decimal;
use kakehashi_adapter_core::{DeclineReason, Money, MoneyError, PaymentCode};
use kakehashi_proto::v1 as pb;
use tonic::Status;

use super::reason::Reason;
use super::status::{Violation, Violations};
use crate::domain::{ClientKey, PaymentState, RefundRecord, RefundState};
use crate::fx::{Quote, QuoteComparison};
use crate::payments::{
    CancelCommand, MerchantQrCommand, PayCommand, PaymentView, QuoteCommand, RefundCommand,
};

/// Longest description or reason accepted.
pub const TEXT_LENGTH_MAX: usize = 128;
/// Longest network name read.
const NETWORK_LENGTH_MAX: usize = 32;

fn key(field: &str, reason: Reason, raw: &str) -> Result<ClientKey, Violation> {
    ClientKey::parse(raw).map_err(|e| Violation::new(field, reason, e))
}

fn text(field: &str, raw: &str) -> Result<String, Violation> {
    if raw.chars().count() > TEXT_LENGTH_MAX {
        return Err(Violation::new(
            field,
            Reason::TextFormat,
            format!("at most {TEXT_LENGTH_MAX} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(Violation::new(
            field,
            Reason::TextFormat,
            "must not contain control characters",
        ));
    }
    Ok(raw.to_owned())
}

fn code(raw: &str) -> Result<PaymentCode, Violation> {
    PaymentCode::parse(raw).map_err(|e| Violation::new("code", Reason::CodeFormat, e))
}

/// Records a violation for `amount.currency` and, independently, for `amount.value`, so a
/// request with both wrong hears of both.
pub(crate) fn money(
    violations: &mut Violations,
    field: &str,
    m: Option<&pb::Money>,
) -> Option<Money> {
    let Some(m) = m else {
        violations.push(Violation::new(field, Reason::AmountRequired, "is required"));
        return None;
    };
    let value_field = format!("{field}.value");
    let error = match Money::parse(&m.value, &m.currency) {
        Ok(money) => return Some(money),
        Err(error) => error,
    };
    match error {
        MoneyError::UnknownCurrency(_) | MoneyError::NoMinorUnit(_) => {
            violations.push(Violation::new(
                &format!("{field}.currency"),
                Reason::CurrencyUnknown,
                &error,
            ));
            if let Err(value_error) = check_exact_decimal(&m.value) {
                violations.push(Violation::new(
                    &value_field,
                    Reason::AmountFormat,
                    value_error,
                ));
            }
        }
        MoneyError::NotANumber(_) | MoneyError::CurrencyMismatch(..) => {
            violations.push(Violation::new(&value_field, Reason::AmountFormat, &error));
        }
        MoneyError::TooManyDecimals { .. } => {
            violations.push(Violation::new(&value_field, Reason::AmountScale, &error));
        }
        MoneyError::NotPositive => {
            violations.push(Violation::new(
                &value_field,
                Reason::AmountNotPositive,
                &error,
            ));
        }
        MoneyError::TooLarge => {
            violations.push(Violation::new(&value_field, Reason::AmountTooLarge, &error));
        }
    }
    None
}

fn merchant_order_id(raw: &str) -> Result<ClientKey, Violation> {
    key("merchant_order_id", Reason::OrderIdFormat, raw)
}

/// An optional quote id: empty is none; otherwise `q_` and 32 lowercase hex digits, as
/// `Quote` issues them. A malformed id names no quote, so it is refused as unknown.
fn quote_id(raw: &str) -> Result<Option<String>, Violation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let well_formed = raw.len() == 34
        && raw.starts_with("q_")
        && raw[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(Violation::new(
            "quote_id",
            Reason::QuoteUnknown,
            "not a quote id: send the quote_id Quote returned, or leave it empty",
        ));
    }
    Ok(Some(raw.to_owned()))
}

impl TryFrom<pb::PayRequest> for PayCommand {
    type Error = Status;
    fn try_from(r: pb::PayRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let merchant_order_id = v.check(merchant_order_id(&r.merchant_order_id));
        let amount = money(&mut v, "amount", r.amount.as_ref());
        let code = v.check(code(&r.code));
        let description = v.check(text("description", &r.description));
        let quote_id = v.check(quote_id(&r.quote_id));
        let (Some(merchant_order_id), Some(amount), Some(code), Some(description), Some(quote_id)) =
            (merchant_order_id, amount, code, description, quote_id)
        else {
            return Err(v.into_status());
        };
        Ok(Self {
            merchant_order_id,
            amount,
            code,
            description,
            quote_id,
        })
    }
}

/// The wallet currency of a quote: an ISO 4217 code with a minor unit.
fn wallet_currency(raw: &str) -> Result<iso_currency::Currency, Violation> {
    iso_currency::Currency::from_code(raw)
        .filter(|c| c.exponent().is_some())
        .ok_or_else(|| {
            Violation::new(
                "wallet_currency",
                Reason::CurrencyUnknown,
                "not an ISO 4217 code with a minor unit, e.g. \"CNY\"",
            )
        })
}

impl TryFrom<pb::QuoteRequest> for QuoteCommand {
    type Error = Status;
    fn try_from(r: pb::QuoteRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let amount = money(&mut v, "amount", r.amount.as_ref());
        let network = v.check(network(&r.network));
        let wallet_currency = v.check(wallet_currency(&r.wallet_currency));
        let idempotency_key = v.check(key(
            "idempotency_key",
            Reason::IdempotencyKeyFormat,
            &r.idempotency_key,
        ));
        let (Some(amount), Some(network), Some(wallet_currency), Some(idempotency_key)) =
            (amount, network, wallet_currency, idempotency_key)
        else {
            return Err(v.into_status());
        };
        Ok(Self {
            idempotency_key,
            amount,
            network,
            wallet_currency,
        })
    }
}

fn network(raw: &str) -> Result<String, Violation> {
    if raw.is_empty() || raw.len() > NETWORK_LENGTH_MAX {
        return Err(Violation::new(
            "network",
            Reason::NetworkUnknown,
            "name the network, e.g. \"paypay\"",
        ));
    }
    Ok(raw.to_owned())
}

impl TryFrom<pb::CreateMerchantQrRequest> for MerchantQrCommand {
    type Error = Status;
    fn try_from(r: pb::CreateMerchantQrRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let merchant_order_id = v.check(merchant_order_id(&r.merchant_order_id));
        let amount = money(&mut v, "amount", r.amount.as_ref());
        let network = v.check(network(&r.network));
        let description = v.check(text("description", &r.description));
        let quote_id = v.check(quote_id(&r.quote_id));
        let (
            Some(merchant_order_id),
            Some(amount),
            Some(network),
            Some(description),
            Some(quote_id),
        ) = (merchant_order_id, amount, network, description, quote_id)
        else {
            return Err(v.into_status());
        };
        Ok(Self {
            merchant_order_id,
            amount,
            network,
            description,
            switch_code: r.switch_code,
            quote_id,
        })
    }
}

impl TryFrom<pb::CancelPaymentRequest> for CancelCommand {
    type Error = Status;
    fn try_from(r: pb::CancelPaymentRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let merchant_order_id = v.check(merchant_order_id(&r.merchant_order_id));
        let reason = v.check(text("reason", &r.reason));
        let (Some(merchant_order_id), Some(reason)) = (merchant_order_id, reason) else {
            return Err(v.into_status());
        };
        Ok(Self {
            merchant_order_id,
            reason,
        })
    }
}

impl TryFrom<pb::RefundPaymentRequest> for RefundCommand {
    type Error = Status;
    fn try_from(r: pb::RefundPaymentRequest) -> Result<Self, Status> {
        let mut v = Violations::default();
        let merchant_order_id = v.check(merchant_order_id(&r.merchant_order_id));
        let refund_id = v.check(refund_id(&r.refund_id));
        // Absent means "refund what remains"; present must be valid.
        let amount = match r.amount.as_ref() {
            None => Some(None),
            Some(m) => money(&mut v, "amount", Some(m)).map(Some),
        };
        let reason = v.check(text("reason", &r.reason));
        let (Some(merchant_order_id), Some(refund_id), Some(amount), Some(reason)) =
            (merchant_order_id, refund_id, amount, reason)
        else {
            return Err(v.into_status());
        };
        Ok(Self {
            merchant_order_id,
            refund_id,
            amount,
            reason,
        })
    }
}

fn refund_id(raw: &str) -> Result<ClientKey, Violation> {
    if raw.starts_with(crate::payments::SWITCH_REFUND_PREFIX) {
        return Err(Violation::new(
            "refund_id",
            Reason::RefundIdReserved,
            format!(
                "ids starting with `{}` are reserved for the switch",
                crate::payments::SWITCH_REFUND_PREFIX
            ),
        ));
    }
    key("refund_id", Reason::RefundIdFormat, raw)
}

/// The `merchant_order_id` of a read (GetPayment, WatchPayment).
#[allow(clippy::result_large_err)]
pub fn order_id(raw: &str) -> Result<ClientKey, Status> {
    merchant_order_id(raw).map_err(Violation::into_status)
}

fn pb_money(m: &Money) -> pb::Money {
    pb::Money {
        value: m.value_string(),
        currency: m.currency_code().to_owned(),
    }
}

pub fn pb_state(s: PaymentState) -> pb::PaymentState {
    match s {
        PaymentState::Received => pb::PaymentState::Received,
        PaymentState::Authorizing => pb::PaymentState::Authorizing,
        PaymentState::AwaitingCustomer => pb::PaymentState::AwaitingCustomer,
        PaymentState::Succeeded => pb::PaymentState::Succeeded,
        PaymentState::Declined => pb::PaymentState::Declined,
        PaymentState::Reversing => pb::PaymentState::Reversing,
        PaymentState::Reversed => pb::PaymentState::Reversed,
        PaymentState::PartiallyRefunded => pb::PaymentState::PartiallyRefunded,
        PaymentState::Refunded => pb::PaymentState::Refunded,
    }
}

pub fn pb_reason(r: Option<DeclineReason>) -> pb::DeclineReason {
    use DeclineReason as D;
    use pb::DeclineReason as P;
    match r {
        None => P::Unspecified,
        Some(D::InsufficientFunds) => P::InsufficientFunds,
        Some(D::CodeExpired) => P::CodeExpired,
        Some(D::CodeInvalid) => P::CodeInvalid,
        Some(D::LimitExceeded) => P::LimitExceeded,
        Some(D::AccountRestricted) => P::AccountRestricted,
        Some(D::RiskRejected) => P::RiskRejected,
        Some(D::CurrencyNotSupported) => P::CurrencyNotSupported,
        Some(D::MerchantNotEnabled) => P::MerchantNotEnabled,
        Some(D::CustomerCancelled) => P::CustomerCancelled,
        Some(D::PaymentExpired) => P::PaymentExpired,
        Some(D::DuplicateOrder) => P::DuplicateOrder,
        Some(D::InvalidRequest) => P::InvalidRequest,
        Some(D::RefundNotAllowed) => P::RefundNotAllowed,
        Some(D::NetworkError) => P::NetworkError,
        Some(D::NetworkUnsupported) => P::NetworkUnsupported,
        Some(D::Other) => P::Other,
    }
}

pub fn pb_refund(r: &RefundRecord) -> pb::Refund {
    pb::Refund {
        refund_id: r.merchant_refund_id.to_string(),
        amount: Some(pb_money(&r.amount)),
        state: match r.state {
            RefundState::Pending => pb::RefundState::Pending,
            RefundState::Succeeded => pb::RefundState::Succeeded,
            RefundState::Declined => pb::RefundState::Declined,
        } as i32,
        network_refund_id: r.network_refund_id.clone().unwrap_or_default(),
        decline_reason: pb_reason(r.decline_reason) as i32,
        network_code: r.network_code.clone().unwrap_or_default(),
    }
}

pub fn pb_quote(q: &Quote) -> pb::FxQuote {
    pb::FxQuote {
        quote_id: q.quote_id.clone(),
        network: q.network.clone(),
        merchant_amount: Some(pb_money(&q.merchant_amount)),
        wallet_amount: Some(pb_money(&q.wallet_amount)),
        rate: q.rate_quoted.to_string(),
        rate_market: q.rate_market.to_string(),
        markup: q.markup.to_string(),
        created_at_ms: q.created_at_ms,
        expires_at_ms: q.expires_at_ms,
    }
}

/// Minor units of `currency` as a proto Money (zero and negatives included: a difference).
fn pb_minor(minor: i64, currency: iso_currency::Currency) -> pb::Money {
    pb::Money {
        value: crate::fx::convert::minor_to_string(minor, currency),
        currency: currency.code().to_owned(),
    }
}

fn pb_comparison(c: &QuoteComparison) -> pb::QuoteComparison {
    pb::QuoteComparison {
        quote_id: c.quote_id.clone(),
        wallet_amount_quoted: Some(pb_minor(c.wallet_minor_quoted, c.wallet_currency)),
        wallet_amount_applied: Some(pb_minor(c.wallet_minor_applied, c.wallet_currency)),
        difference: Some(pb_minor(c.difference_minor, c.wallet_currency)),
        rate_quoted: c.rate_quoted.to_string(),
        rate_applied: c.rate_applied.to_string(),
        rate_difference: c.rate_difference.to_string(),
        expired: c.expired,
    }
}

pub fn pb_payment(view: &PaymentView) -> pb::Payment {
    let p = &view.payment;
    let refunded = Money::from_minor(p.refunded_minor, p.amount.currency()).ok();
    pb::Payment {
        payment_id: p.payment_id.clone(),
        merchant_order_id: p.merchant_order_id.to_string(),
        amount: Some(pb_money(&p.amount)),
        state: pb_state(p.state) as i32,
        network: p.network.clone(),
        network_txn_id: p.network_txn_id.clone().unwrap_or_default(),
        wallet_brand: p.wallet_brand.clone().unwrap_or_default(),
        decline_reason: pb_reason(p.decline_reason) as i32,
        network_code: p.network_code.clone().unwrap_or_default(),
        wallet_amount: p.wallet_amount.as_ref().map(|w| pb::WalletAmount {
            amount: Some(pb_money(&w.amount)),
            rate: w.rate.map(|r| r.to_string()).unwrap_or_default(),
        }),
        settlement_quote: p.settlement_quote.as_ref().map(|q| pb::SettlementQuote {
            quote_id: q.quote_id.clone(),
            currency_pair: q.currency_pair.clone(),
            price: q.price.to_string(),
            settlement_amount: q.settlement_amount.as_ref().map(pb_money),
        }),
        refunded_amount: Some(refunded.map(|m| pb_money(&m)).unwrap_or(pb::Money {
            value: "0".into(),
            currency: p.amount.currency_code().to_owned(),
        })),
        refunds: view.refunds.iter().map(pb_refund).collect(),
        code_masked: p.code_masked.clone(),
        created_at_ms: p.created_at_ms,
        updated_at_ms: p.updated_at_ms,
        qr_payload: p.qr_payload.clone().unwrap_or_default(),
        state_reason: view.state_reason.clone(),
        quote: view.fx.as_ref().map(|fx| pb_quote(&fx.quote)),
        quote_comparison: view
            .fx
            .as_ref()
            .and_then(|fx| fx.comparison.as_ref())
            .map(pb_comparison),
    }
}
