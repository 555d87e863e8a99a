//! Proto <-> domain. Parsing happens here, once: a command that reaches `payments` holds
//! only valid values. Error messages name the field and what to do, and never echo a code.
use kakehashi_adapter_core::{DeclineReason, Money, MoneyError, PaymentCode};
use kakehashi_proto::v1 as pb;
use tonic::Status;

use crate::domain::{ClientKey, PaymentState, RefundRecord, RefundState};
use crate::payments::{CancelCommand, MerchantQrCommand, PayCommand, PaymentView, RefundCommand};

/// Longest description or reason accepted.
pub const TEXT_LENGTH_MAX: usize = 128;

fn invalid(field: &str, problem: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {problem}"))
}

fn key(field: &str, raw: &str) -> Result<ClientKey, Status> {
    ClientKey::parse(raw).map_err(|e| invalid(field, e))
}

fn text(field: &str, raw: &str) -> Result<String, Status> {
    if raw.chars().count() > TEXT_LENGTH_MAX {
        return Err(invalid(
            field,
            format!("at most {TEXT_LENGTH_MAX} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(raw.to_owned())
}

pub fn money(field: &str, m: Option<&pb::Money>) -> Result<Money, Status> {
    let m = m.ok_or_else(|| invalid(field, "is required"))?;
    Money::parse(&m.value, &m.currency).map_err(|e| match e {
        MoneyError::UnknownCurrency(_) | MoneyError::NoMinorUnit(_) => {
            invalid(&format!("{field}.currency"), e)
        }
        _ => invalid(&format!("{field}.value"), e),
    })
}

impl TryFrom<pb::PayRequest> for PayCommand {
    type Error = Status;
    fn try_from(r: pb::PayRequest) -> Result<Self, Status> {
        Ok(Self {
            merchant_order_id: key("merchant_order_id", &r.merchant_order_id)?,
            amount: money("amount", r.amount.as_ref())?,
            code: PaymentCode::parse(&r.code).map_err(|e| invalid("code", e))?,
            description: text("description", &r.description)?,
        })
    }
}

impl TryFrom<pb::CreateMerchantQrRequest> for MerchantQrCommand {
    type Error = Status;
    fn try_from(r: pb::CreateMerchantQrRequest) -> Result<Self, Status> {
        if r.network.is_empty() || r.network.len() > 32 {
            return Err(invalid("network", "name the network, e.g. \"paypay\""));
        }
        Ok(Self {
            merchant_order_id: key("merchant_order_id", &r.merchant_order_id)?,
            amount: money("amount", r.amount.as_ref())?,
            network: r.network,
            description: text("description", &r.description)?,
        })
    }
}

impl TryFrom<pb::CancelPaymentRequest> for CancelCommand {
    type Error = Status;
    fn try_from(r: pb::CancelPaymentRequest) -> Result<Self, Status> {
        Ok(Self {
            merchant_order_id: key("merchant_order_id", &r.merchant_order_id)?,
            reason: text("reason", &r.reason)?,
        })
    }
}

impl TryFrom<pb::RefundPaymentRequest> for RefundCommand {
    type Error = Status;
    fn try_from(r: pb::RefundPaymentRequest) -> Result<Self, Status> {
        Ok(Self {
            merchant_order_id: key("merchant_order_id", &r.merchant_order_id)?,
            refund_id: refund_id(&r.refund_id)?,
            amount: r
                .amount
                .as_ref()
                .map(|m| money("amount", Some(m)))
                .transpose()?,
            reason: text("reason", &r.reason)?,
        })
    }
}

fn refund_id(raw: &str) -> Result<ClientKey, Status> {
    if raw.starts_with(crate::payments::SWITCH_REFUND_PREFIX) {
        return Err(invalid(
            "refund_id",
            format!(
                "ids starting with `{}` are reserved for the switch",
                crate::payments::SWITCH_REFUND_PREFIX
            ),
        ));
    }
    key("refund_id", raw)
}

pub fn order_id(raw: &str) -> Result<ClientKey, Status> {
    key("merchant_order_id", raw)
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
    }
}
