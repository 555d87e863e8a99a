//! Rows to records and back. Loading re-validates everything (money scale, states, keys):
//! a row that no longer parses is reported as corruption, never silently repaired.
use std::str::FromStr;

use kakehashi_adapter_core::money::parse_currency;
use kakehashi_adapter_core::{DeclineReason, Money, SettlementQuote, WalletAmount};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use crate::domain::{
    ClientKey, PaymentKind, PaymentRecord, PaymentState, RefundRecord, RefundState, Transition,
};

/// Column list for `SELECT`s of payments, as a literal so queries stay `&'static str`.
macro_rules! payment_columns {
    () => {
        "payment_id, merchant_id, terminal_id, merchant_order_id, \
    request_hash, kind, amount_minor, amount_value, currency, description, code_masked, network, \
    state, wallet_brand, decline_reason, network_code, network_txn_id, wallet_amount_value, \
    wallet_currency, wallet_rate, quote_id, quote_pair, quote_price, quote_settlement_value, \
    quote_settlement_currency, quote_expires_at_ms, qr_payload, refunded_minor, \
    refund_reserved_minor, created_at_ms, updated_at_ms, deadline_at_ms, reverse_attempts, version, \
    fx_quote_id"
    };
}
pub(crate) use payment_columns;

macro_rules! refund_columns {
    () => {
        "refund_id, merchant_id, merchant_refund_id, payment_id, \
    request_hash, amount_minor, amount_value, currency, reason, state, network_refund_id, \
    decline_reason, network_code, created_at_ms, updated_at_ms, send_count"
    };
}
pub(crate) use refund_columns;

fn corrupt(table: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.into(),
    }
}

fn money(table: &'static str, value: &str, currency: &str) -> Result<Money, StoreError> {
    Money::parse(value, currency).map_err(|e| corrupt(table, format!("amount {value}: {e}")))
}

fn decimal(table: &'static str, value: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(value).map_err(|e| corrupt(table, format!("decimal {value}: {e}")))
}

fn decline(
    table: &'static str,
    value: Option<String>,
) -> Result<Option<DeclineReason>, StoreError> {
    value
        .map(|v| DeclineReason::parse(&v).ok_or_else(|| corrupt(table, format!("reason {v}"))))
        .transpose()
}

pub fn payment_from_row(row: &AnyRow) -> Result<PaymentRecord, StoreError> {
    const T: &str = "payments";
    let amount_value: String = row.try_get("amount_value")?;
    let currency: String = row.try_get("currency")?;
    let amount = money(T, &amount_value, &currency)?;
    let amount_minor: i64 = row.try_get("amount_minor")?;
    if amount.minor() != amount_minor {
        return Err(corrupt(T, "amount_minor disagrees with amount_value"));
    }
    let state: String = row.try_get("state")?;
    let kind: String = row.try_get("kind")?;
    let order_id: String = row.try_get("merchant_order_id")?;
    let wallet_amount = match (
        row.try_get::<Option<String>, _>("wallet_amount_value")?,
        row.try_get::<Option<String>, _>("wallet_currency")?,
    ) {
        (Some(value), Some(currency)) => Some(WalletAmount {
            amount: money(T, &value, &currency)?,
            rate: row
                .try_get::<Option<String>, _>("wallet_rate")?
                .map(|r| decimal(T, &r))
                .transpose()?,
        }),
        _ => None,
    };
    let settlement_quote = match row.try_get::<Option<String>, _>("quote_id")? {
        Some(quote_id) => Some(SettlementQuote {
            quote_id,
            currency_pair: row
                .try_get::<Option<String>, _>("quote_pair")?
                .unwrap_or_default(),
            price: decimal(
                T,
                &row.try_get::<Option<String>, _>("quote_price")?
                    .unwrap_or_default(),
            )?,
            settlement_amount: match (
                row.try_get::<Option<String>, _>("quote_settlement_value")?,
                row.try_get::<Option<String>, _>("quote_settlement_currency")?,
            ) {
                (Some(v), Some(c)) => Some(money(T, &v, &c)?),
                _ => None,
            },
            expires_at_ms: row.try_get("quote_expires_at_ms")?,
        }),
        None => None,
    };
    let record = PaymentRecord {
        payment_id: row.try_get("payment_id")?,
        merchant_id: row.try_get("merchant_id")?,
        terminal_id: row.try_get("terminal_id")?,
        merchant_order_id: ClientKey::parse(&order_id)
            .map_err(|e| corrupt(T, format!("merchant_order_id: {e}")))?,
        request_hash: row.try_get("request_hash")?,
        kind: PaymentKind::parse(&kind).ok_or_else(|| corrupt(T, format!("kind {kind}")))?,
        amount,
        description: row.try_get("description")?,
        code_masked: row.try_get("code_masked")?,
        network: row.try_get("network")?,
        state: PaymentState::parse(&state).ok_or_else(|| corrupt(T, format!("state {state}")))?,
        wallet_brand: row.try_get("wallet_brand")?,
        decline_reason: decline(T, row.try_get("decline_reason")?)?,
        network_code: row.try_get("network_code")?,
        network_txn_id: row.try_get("network_txn_id")?,
        wallet_amount,
        settlement_quote,
        qr_payload: row.try_get("qr_payload")?,
        fx_quote_id: row.try_get("fx_quote_id")?,
        refunded_minor: row.try_get("refunded_minor")?,
        refund_reserved_minor: row.try_get("refund_reserved_minor")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        deadline_at_ms: row.try_get("deadline_at_ms")?,
        reverse_attempts: row.try_get("reverse_attempts")?,
        version: row.try_get("version")?,
    };
    check_payment(&record)?;
    Ok(record)
}

/// Invariants every stored payment keeps; checked before each write and after each read.
pub fn check_payment(p: &PaymentRecord) -> Result<(), StoreError> {
    const T: &str = "payments";
    if p.refunded_minor < 0 || p.refund_reserved_minor < 0 {
        return Err(corrupt(
            T,
            format!("{}: negative refund total", p.payment_id),
        ));
    }
    if p.refunded_minor + p.refund_reserved_minor > p.amount.minor() {
        return Err(corrupt(
            T,
            format!("{}: refunds exceed the amount", p.payment_id),
        ));
    }
    let refunded_state = matches!(
        p.state,
        PaymentState::PartiallyRefunded | PaymentState::Refunded
    );
    if refunded_state != (p.refunded_minor > 0) {
        return Err(corrupt(
            T,
            format!(
                "{}: state {} with refunded {}",
                p.payment_id, p.state, p.refunded_minor
            ),
        ));
    }
    if (p.state == PaymentState::Refunded) != (p.refunded_minor == p.amount.minor()) {
        return Err(corrupt(
            T,
            format!("{}: REFUNDED must mean fully refunded", p.payment_id),
        ));
    }
    Ok(())
}

pub fn transition_from_row(row: &AnyRow) -> Result<Transition, StoreError> {
    const T: &str = "payment_transitions";
    let from: Option<String> = row.try_get("from_state")?;
    let to: String = row.try_get("to_state")?;
    Ok(Transition {
        seq: row.try_get("seq")?,
        from: from
            .map(|f| PaymentState::parse(&f).ok_or_else(|| corrupt(T, format!("state {f}"))))
            .transpose()?,
        to: PaymentState::parse(&to).ok_or_else(|| corrupt(T, format!("state {to}")))?,
        detail: row.try_get("detail")?,
        at_ms: row.try_get("at_ms")?,
    })
}

pub fn refund_from_row(row: &AnyRow) -> Result<RefundRecord, StoreError> {
    const T: &str = "refunds";
    let value: String = row.try_get("amount_value")?;
    let currency: String = row.try_get("currency")?;
    parse_currency(&currency).map_err(|e| corrupt(T, e.to_string()))?;
    let state: String = row.try_get("state")?;
    let key: String = row.try_get("merchant_refund_id")?;
    Ok(RefundRecord {
        refund_id: row.try_get("refund_id")?,
        merchant_id: row.try_get("merchant_id")?,
        merchant_refund_id: ClientKey::parse(&key)
            .map_err(|e| corrupt(T, format!("merchant_refund_id: {e}")))?,
        payment_id: row.try_get("payment_id")?,
        request_hash: row.try_get("request_hash")?,
        amount: money(T, &value, &currency)?,
        reason: row.try_get("reason")?,
        state: RefundState::parse(&state).ok_or_else(|| corrupt(T, format!("state {state}")))?,
        network_refund_id: row.try_get("network_refund_id")?,
        decline_reason: decline(T, row.try_get("decline_reason")?)?,
        network_code: row.try_get("network_code")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        send_count: row.try_get("send_count")?,
    })
}
