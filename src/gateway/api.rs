//! `kakehashi.v1.PartnerGatewayService`: each handler identifies the partner from its
//! client certificate, validates the whole request (every bad field named at once), claims
//! the partner's idempotency key, and hands the work to `payments`, `fx` or the store.
//!
//! Idempotency keys live in `partner_requests` per (network, RPC, key) with the SHA-256 of
//! the request's protobuf encoding: the same key and bytes answer what the first call did;
//! the same key with other content is ALREADY_EXISTS.
use std::str::FromStr;
use std::sync::Arc;

use kakehashi_adapter_core::{Clock, DeclineReason, Money, Paid, WalletAmount};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::partner_gateway_service_server::PartnerGatewayService;
use prost::Message;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use super::codes::MerchantCodes;
use super::identity::{Partner, PartnerDirectory};
use super::reason::{FieldErrors, GatewayReason, internal};
use crate::api::convert::{money, pb_reason, pb_state};
use crate::api::status::Violations;
use crate::domain::ClientKey;
use crate::fx::{Pair, Rate, RateSource};
use crate::payments::{
    Notification, NotifiedOutcome, NotifyError, PartnerCharge, PayError, Payments, SwitchCodeError,
    partner_order_id,
};
use crate::store::partner_sql::{self, StoredRequest};

/// Rates one PublishRates may carry.
pub const RATES_PER_CALL_MAX: usize = 256;
/// Lines one SubmitSettlementReport may carry.
pub const LINES_PER_CALL_MAX: usize = 10_000;
/// Longest id a partner sends (transaction ids, payment ids in lines, network codes).
const ID_CHARS_MAX: usize = 64;
/// Longest rate string read.
const RATE_CHARS_MAX: usize = 40;

#[derive(Clone)]
pub struct PartnerGatewayApi {
    payments: Payments,
    partners: PartnerDirectory,
    codes: Arc<MerchantCodes>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PartnerGatewayApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerGatewayApi").finish_non_exhaustive()
    }
}

/// What a claimed key tells the handler.
enum Claim {
    /// A new request: do the work, then store the answer.
    New,
    /// The same request was answered before: this is its answer.
    Replay(String),
}

// === impl PartnerGatewayApi ===

impl PartnerGatewayApi {
    pub fn new(
        payments: Payments,
        partners: PartnerDirectory,
        codes: Arc<MerchantCodes>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            payments,
            partners,
            codes,
            clock,
        }
    }

    /// The answer stored for (network, kind, key), or `New`; a different request under the
    /// key is ALREADY_EXISTS naming `field`.
    async fn lookup(
        &self,
        partner: &Partner,
        (kind, field, key): (&str, &str, &str),
        request_hash: &str,
    ) -> Result<Claim, Status> {
        let mut tx = self.payments.store().begin().await.map_err(internal)?;
        let stored = partner_sql::partner_request(&mut tx, &partner.network, kind, key)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        check_stored(stored, field, request_hash)
    }

    /// Stores the answer of a new request; if a concurrent one stored first, its answer (or
    /// a conflict) wins, as a later replay would see.
    async fn remember(
        &self,
        partner: &Partner,
        (kind, field, key): (&str, &str, &str),
        stored: StoredRequest,
    ) -> Result<String, Status> {
        let mut tx = self.payments.store().begin().await.map_err(internal)?;
        let ids = (partner.network.as_str(), kind, key);
        let inserted =
            partner_sql::insert_partner_request(&mut tx, ids, &stored, self.clock.now_ms())
                .await
                .map_err(internal)?;
        if inserted {
            tx.commit().await.map_err(internal)?;
            return Ok(stored.answer);
        }
        let existing = partner_sql::partner_request(&mut tx, &partner.network, kind, key)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        match check_stored(existing, field, &stored.request_hash)? {
            Claim::Replay(answer) => Ok(answer),
            Claim::New => Ok(stored.answer),
        }
    }
}

#[allow(clippy::result_large_err)]
fn check_stored(
    stored: Option<StoredRequest>,
    field: &str,
    request_hash: &str,
) -> Result<Claim, Status> {
    match stored {
        None => Ok(Claim::New),
        Some(s) if s.request_hash == request_hash => Ok(Claim::Replay(s.answer)),
        Some(_) => Err(GatewayReason::IdempotencyConflict.status(
            format!("{field} was already used for a different request"),
            &[("field", field)],
        )),
    }
}

fn request_hash(message: &impl Message) -> String {
    hex::encode(Sha256::digest(message.encode_to_vec()))
}

fn check_key(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<ClientKey> {
    match ClientKey::parse(raw) {
        Ok(key) => Some(key),
        Err(e) => {
            errors.push(field, GatewayReason::KeyFormat, e);
            None
        }
    }
}

/// 1..=64 printable ASCII characters, or `None` with a recorded error.
fn check_id(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    reason: GatewayReason,
) -> Option<String> {
    let ok = !raw.is_empty()
        && raw.len() <= ID_CHARS_MAX
        && raw.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if ok {
        Some(raw.to_owned())
    } else {
        errors.push(
            field,
            reason,
            format!("must be 1 to {ID_CHARS_MAX} printable ASCII characters"),
        );
        None
    }
}

/// At most 64 printable ASCII characters (empty allowed).
fn check_optional(errors: &mut FieldErrors, field: &str, raw: &str, reason: GatewayReason) {
    if !raw.is_empty() {
        check_id(errors, field, raw, reason);
    }
}

fn check_money(errors: &mut FieldErrors, field: &str, m: Option<&pb::Money>) -> Option<Money> {
    let mut violations = Violations::default();
    let parsed = money(&mut violations, field, m);
    errors.extend_acceptance(violations);
    parsed
}

/// A positive exact decimal: digits, optionally a point and more digits; nothing else
/// (no sign, exponent or separators).
fn exact_decimal(raw: &str) -> Result<Decimal, &'static str> {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if raw.len() > RATE_CHARS_MAX || !digits(whole) || (raw.contains('.') && !digits(fraction)) {
        return Err("must be a positive exact decimal string such as \"9.2071\"");
    }
    let value = Decimal::from_str(raw).map_err(|_| "is out of range")?;
    if value <= Decimal::ZERO {
        return Err("must be positive");
    }
    Ok(value)
}

fn wallet_amount(errors: &mut FieldErrors, w: Option<&pb::WalletAmount>) -> Option<WalletAmount> {
    let w = w?;
    let amount = check_money(errors, "wallet_amount.amount", w.amount.as_ref());
    let rate = if w.rate.is_empty() {
        None
    } else {
        match exact_decimal(&w.rate) {
            Ok(rate) => Some(rate),
            Err(why) => {
                errors.push("wallet_amount.rate", GatewayReason::RateFormat, why);
                None
            }
        }
    };
    amount.map(|amount| WalletAmount { amount, rate })
}

fn decline_reason(raw: i32) -> Option<DeclineReason> {
    let wanted = pb::DeclineReason::try_from(raw).ok()?;
    DeclineReason::ALL
        .into_iter()
        .find(|r| pb_reason(Some(*r)) == wanted)
}

fn state_name(state: i32) -> String {
    pb::PaymentState::try_from(state)
        .map(|s| s.as_str_name().to_owned())
        .unwrap_or_default()
}

fn notify_error(e: NotifyError) -> Status {
    match e {
        NotifyError::NotFound => GatewayReason::PaymentNotFound.status(e.to_string(), &[]),
        NotifyError::AmountMismatch { .. } => {
            GatewayReason::AmountMismatch.status(e.to_string(), &[("field", "amount")])
        }
        NotifyError::Contradiction(_) => {
            GatewayReason::StateContradiction.status(e.to_string(), &[])
        }
        NotifyError::Pay(e) => pay_error(e),
    }
}

fn pay_error(e: PayError) -> Status {
    match e {
        PayError::OrderIdReused(_) => GatewayReason::IdempotencyConflict.status(
            "request_id was already used for a different request",
            &[("field", "request_id")],
        ),
        PayError::Busy => GatewayReason::SwitchBusy.status(
            "the switch is at capacity; retry shortly with the same key",
            &[],
        ),
        PayError::NetworkNotEnabled(network) => GatewayReason::NetworkNotEnabled.status(
            format!("the switch does not run {network}"),
            &[("network", &network)],
        ),
        PayError::CurrencyNotSupported { network, currency } => GatewayReason::CurrencyNotSupported
            .status(
                format!("{network} cannot take payments in {currency}"),
                &[("currency", &currency)],
            ),
        PayError::Store(detail) | PayError::Internal(detail) => internal(detail),
        // Compliance refusals keep the acceptance API's RULE_* reasons.
        other => Status::from(other),
    }
}

#[tonic::async_trait]
impl PartnerGatewayService for PartnerGatewayApi {
    async fn notify_payment(
        &self,
        request: Request<pb::NotifyPaymentRequest>,
    ) -> Result<Response<pb::NotifyPaymentResponse>, Status> {
        let partner = self.partners.identify(&request)?;
        let r = request.into_inner();
        let mut errors = FieldErrors::default();
        let key = check_key(&mut errors, "notification_id", &r.notification_id);
        check_id(
            &mut errors,
            "payment_id",
            &r.payment_id,
            GatewayReason::KeyFormat,
        );
        let outcome = match pb::NotifiedOutcome::try_from(r.outcome) {
            Ok(pb::NotifiedOutcome::Succeeded) => Some(NotifiedOutcome::Succeeded),
            Ok(pb::NotifiedOutcome::Declined) => Some(NotifiedOutcome::Declined),
            Ok(pb::NotifiedOutcome::Closed) => Some(NotifiedOutcome::Closed),
            _ => {
                errors.push(
                    "outcome",
                    GatewayReason::OutcomeRequired,
                    "must be SUCCEEDED, DECLINED or CLOSED",
                );
                None
            }
        };
        let txn = if r.network_txn_id.is_empty() && outcome != Some(NotifiedOutcome::Succeeded) {
            None
        } else {
            check_id(
                &mut errors,
                "network_txn_id",
                &r.network_txn_id,
                GatewayReason::NetworkTxnIdRequired,
            )
        };
        let amount = check_money(&mut errors, "amount", r.amount.as_ref());
        check_optional(
            &mut errors,
            "network_code",
            &r.network_code,
            GatewayReason::KeyFormat,
        );
        let wallet = wallet_amount(&mut errors, r.wallet_amount.as_ref());
        errors.finish()?;
        let (Some(key), Some(outcome), Some(amount)) = (key, outcome, amount) else {
            return Err(internal("notify validated without its fields"));
        };
        let hash = request_hash(&r);
        let ids = ("notify", "notification_id", key.as_str());
        if let Claim::Replay(answer) = self.lookup(&partner, ids, &hash).await? {
            return Ok(Response::new(decode_notify(&answer)));
        }
        let notification = Notification {
            outcome,
            network_txn_id: txn,
            amount,
            decline_reason: decline_reason(r.decline_reason),
            network_code: r.network_code.clone(),
            wallet_amount: wallet,
        };
        let answer = self
            .payments
            .notify(&partner.network, &r.payment_id, &notification)
            .await
            .map_err(notify_error)?;
        let response = pb::NotifyPaymentResponse {
            state: pb_state(answer.state).into(),
            already_final: answer.already_final,
        };
        let stored = StoredRequest {
            request_hash: hash,
            answer: encode_notify(&response),
        };
        let answer = self.remember(&partner, ids, stored).await?;
        Ok(Response::new(decode_notify(&answer)))
    }

    async fn publish_rates(
        &self,
        request: Request<pb::PublishRatesRequest>,
    ) -> Result<Response<pb::PublishRatesResponse>, Status> {
        let partner = self.partners.identify(&request)?;
        let r = request.into_inner();
        let mut errors = FieldErrors::default();
        let key = check_key(&mut errors, "publication_id", &r.publication_id);
        if r.rates.is_empty() {
            errors.push("rates", GatewayReason::RateFormat, "at least one rate");
        }
        if r.rates.len() > RATES_PER_CALL_MAX {
            errors.push(
                "rates",
                GatewayReason::TooManyItems,
                format!("at most {RATES_PER_CALL_MAX} rates per call"),
            );
            return Err(errors.finish().err().unwrap_or_else(|| internal("rates")));
        }
        let now = self.clock.now_ms();
        let mut rates = Vec::with_capacity(r.rates.len());
        for (i, rate) in r.rates.iter().enumerate() {
            if let Some(rate) = parse_rate(&mut errors, i, rate, &partner.network, now) {
                rates.push(rate);
            }
        }
        errors.finish()?;
        let Some(key) = key else {
            return Err(internal("publish validated without its key"));
        };
        let hash = request_hash(&r);
        let mut tx = self.payments.store().begin().await.map_err(internal)?;
        let stored = partner_sql::partner_request(&mut tx, &partner.network, "rates", key.as_str())
            .await
            .map_err(internal)?;
        if let Claim::Replay(_) = check_stored(stored, "publication_id", &hash)? {
            tx.commit().await.map_err(internal)?;
            return Ok(Response::new(pb::PublishRatesResponse { stored: 0 }));
        }
        let claim = StoredRequest {
            request_hash: hash,
            answer: rates.len().to_string(),
        };
        let ids = (partner.network.as_str(), "rates", key.as_str());
        if !partner_sql::insert_partner_request(&mut tx, ids, &claim, now)
            .await
            .map_err(internal)?
        {
            // A concurrent publication under this key won; answer as its replay would.
            tx.rollback().await.map_err(internal)?;
            let ids = ("rates", "publication_id", key.as_str());
            self.lookup(&partner, ids, &claim.request_hash).await?;
            return Ok(Response::new(pb::PublishRatesResponse { stored: 0 }));
        }
        for rate in &rates {
            crate::fx::sql::insert_rate(&mut *tx, rate)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        tracing::info!(partner = %partner.name, network = %partner.network, rates = rates.len(), "Partner rates stored");
        Ok(Response::new(pb::PublishRatesResponse {
            stored: u32::try_from(rates.len()).unwrap_or(u32::MAX),
        }))
    }

    async fn submit_settlement_report(
        &self,
        request: Request<pb::SubmitSettlementReportRequest>,
    ) -> Result<Response<pb::SubmitSettlementReportResponse>, Status> {
        let partner = self.partners.identify(&request)?;
        let r = request.into_inner();
        let mut errors = FieldErrors::default();
        let key = check_key(&mut errors, "report_id", &r.report_id);
        let date_ok = time::Date::parse(
            &r.business_date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok();
        if !date_ok {
            errors.push(
                "business_date",
                GatewayReason::ReportDateFormat,
                "must be a calendar date, YYYY-MM-DD",
            );
        }
        let settlement_currency =
            match kakehashi_adapter_core::money::parse_currency(&r.settlement_currency) {
                Ok(c) => Some(c),
                Err(e) => {
                    let mut violations = Violations::default();
                    violations.push(crate::api::status::Violation::new(
                        "settlement_currency",
                        crate::api::reason::Reason::CurrencyUnknown,
                        e,
                    ));
                    errors.extend_acceptance(violations);
                    None
                }
            };
        if r.lines.len() > LINES_PER_CALL_MAX {
            errors.push(
                "lines",
                GatewayReason::TooManyItems,
                format!("at most {LINES_PER_CALL_MAX} lines per call"),
            );
            return Err(errors.finish().err().unwrap_or_else(|| internal("lines")));
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for (i, line) in r.lines.iter().enumerate() {
            if let Some(line) = parse_line(&mut errors, i, line, settlement_currency) {
                lines.push(line);
            }
        }
        errors.finish()?;
        let (Some(key), Some(_)) = (key, settlement_currency) else {
            return Err(internal("report validated without its fields"));
        };
        let hash = request_hash(&r);
        let mut tx = self.payments.store().begin().await.map_err(internal)?;
        let stored =
            partner_sql::partner_request(&mut tx, &partner.network, "report", key.as_str())
                .await
                .map_err(internal)?;
        if let Claim::Replay(answer) = check_stored(stored, "report_id", &hash)? {
            tx.commit().await.map_err(internal)?;
            return Ok(Response::new(decode_report(&answer)));
        }
        let report = partner_sql::Report {
            network: &partner.network,
            report_id: key.as_str(),
            business_date: &r.business_date,
            settlement_currency: &r.settlement_currency,
            lines: &lines,
            received_at_ms: self.clock.now_ms(),
        };
        let unmatched = partner_sql::insert_report(&mut tx, &report)
            .await
            .map_err(internal)?;
        let response = pb::SubmitSettlementReportResponse {
            stored_lines: u32::try_from(lines.len()).unwrap_or(u32::MAX),
            unmatched_lines: unmatched,
        };
        let claim = StoredRequest {
            request_hash: hash,
            answer: format!("{}/{}", response.stored_lines, response.unmatched_lines),
        };
        let ids = (partner.network.as_str(), "report", key.as_str());
        if !partner_sql::insert_partner_request(&mut tx, ids, &claim, report.received_at_ms)
            .await
            .map_err(internal)?
        {
            tx.rollback().await.map_err(internal)?;
            return Err(GatewayReason::SwitchBusy.status(
                "the same report is being stored concurrently; retry with the same report_id",
                &[],
            ));
        }
        tx.commit().await.map_err(internal)?;
        tracing::info!(partner = %partner.name, network = %partner.network, business_date = %r.business_date, lines = lines.len(), unmatched, "Partner settlement report stored");
        Ok(Response::new(response))
    }

    async fn resolve_merchant_code(
        &self,
        request: Request<pb::ResolveMerchantCodeRequest>,
    ) -> Result<Response<pb::ResolveMerchantCodeResponse>, Status> {
        let partner = self.partners.identify(&request)?;
        let r = request.into_inner();
        check_code_field(&r.merchant_code)?;
        let resolved = self.codes.resolve(&r.merchant_code, &partner.network)?;
        let pb_money = |m: &Money| pb::Money {
            value: m.value_string(),
            currency: m.currency_code().to_owned(),
        };
        let mut expires_at_ms = 0;
        if resolved.dynamic {
            let payment_id = dynamic_payment_id(&resolved)?;
            expires_at_ms = self
                .payments
                .switch_code_expiry(&partner.network, &resolved.merchant_id, &payment_id)
                .await
                .map_err(pay_error)?
                .ok_or_else(unknown_code)?;
        }
        let (amount_min, amount_max) = if resolved.dynamic {
            (None, None)
        } else {
            let min = Money::from_minor(1, resolved.currency).ok();
            let max = self
                .payments
                .single_payment_max(&partner.network, resolved.currency.code());
            (min, max)
        };
        Ok(Response::new(pb::ResolveMerchantCodeResponse {
            merchant_id: resolved.merchant_id,
            merchant_name: resolved.merchant_name,
            category_code: resolved.category_code,
            currency: resolved.currency.code().to_owned(),
            dynamic: resolved.dynamic,
            amount: resolved.amount.as_ref().map(pb_money),
            amount_min: amount_min.as_ref().map(pb_money),
            amount_max: amount_max.as_ref().map(pb_money),
            expires_at_ms,
        }))
    }

    async fn pay_merchant_code(
        &self,
        request: Request<pb::PayMerchantCodeRequest>,
    ) -> Result<Response<pb::PayMerchantCodeResponse>, Status> {
        let partner = self.partners.identify(&request)?;
        let r = request.into_inner();
        let mut errors = FieldErrors::default();
        let key = check_key(&mut errors, "request_id", &r.request_id);
        if let Err(why) = code_field(&r.merchant_code) {
            errors.push("merchant_code", GatewayReason::MerchantCodeFormat, why);
        }
        let amount = check_money(&mut errors, "amount", r.amount.as_ref());
        let txn = check_id(
            &mut errors,
            "network_txn_id",
            &r.network_txn_id,
            GatewayReason::NetworkTxnIdRequired,
        );
        check_optional(
            &mut errors,
            "wallet_brand",
            &r.wallet_brand,
            GatewayReason::KeyFormat,
        );
        let wallet = wallet_amount(&mut errors, r.wallet_amount.as_ref());
        errors.finish()?;
        let (Some(key), Some(amount), Some(txn)) = (key, amount, txn) else {
            return Err(internal("pay validated without its fields"));
        };
        let resolved = self.codes.resolve(&r.merchant_code, &partner.network)?;
        if amount.currency() != resolved.currency {
            return Err(GatewayReason::CurrencyNotSupported.status(
                format!(
                    "the merchant's code takes {}, not {}",
                    resolved.currency.code(),
                    amount.currency_code()
                ),
                &[("currency", amount.currency_code())],
            ));
        }
        if let Some(max) = self
            .payments
            .single_payment_max(&partner.network, amount.currency_code())
            && amount.minor() > max.minor()
        {
            return Err(GatewayReason::AmountOutsideLimits.status(
                format!("one payment on this code may be at most {max}"),
                &[("amountMax", &max.value_string())],
            ));
        }
        let hash = request_hash(&r);
        let ids = ("pay", "request_id", key.as_str());
        if let Claim::New = self.lookup(&partner, ids, &hash).await? {
            let claim = StoredRequest {
                request_hash: hash.clone(),
                answer: resolved.merchant_id.clone(),
            };
            self.remember(&partner, ids, claim).await?;
        }
        let paid = Paid {
            network_txn_id: txn,
            wallet_brand: (!r.wallet_brand.is_empty()).then(|| r.wallet_brand.clone()),
            wallet_amount: wallet,
            settlement_quote: None,
        };
        if resolved.dynamic {
            let payment_id = dynamic_payment_id(&resolved)?;
            if resolved.amount != Some(amount) {
                return Err(GatewayReason::AmountMismatch.status(
                    "a dynamic code is paid with exactly its own amount",
                    &[("field", "amount")],
                ));
            }
            let view = self
                .payments
                .pay_switch_code(
                    &partner.network,
                    &resolved.merchant_id,
                    &payment_id,
                    &amount,
                    &paid,
                )
                .await
                .map_err(switch_code_error)?;
            tracing::info!(partner = %partner.name, network = %partner.network, payment_id = %view.payment.payment_id, state = %view.payment.state, "Partner paid a switch-issued dynamic code");
            return Ok(Response::new(pb::PayMerchantCodeResponse {
                payment_id: view.payment.payment_id.clone(),
                state: pb_state(view.payment.state).into(),
            }));
        }
        let charge = PartnerCharge {
            merchant_id: resolved.merchant_id.clone(),
            terminal_id: resolved.terminal_id.clone(),
            order_id: partner_order_id(&partner.network, key.as_str()).map_err(pay_error)?,
            request_hash: hash,
            amount,
            paid,
            description: String::new(),
        };
        let view = self
            .payments
            .record_partner_charge(&partner.network, charge)
            .await
            .map_err(pay_error)?;
        tracing::info!(partner = %partner.name, network = %partner.network, payment_id = %view.payment.payment_id, merchant_id = %view.payment.merchant_id, state = %view.payment.state, "Partner payment on a merchant code");
        Ok(Response::new(pb::PayMerchantCodeResponse {
            payment_id: view.payment.payment_id.clone(),
            state: pb_state(view.payment.state).into(),
        }))
    }
}

fn unknown_code() -> Status {
    GatewayReason::MerchantCodeUnknown.status(
        "the merchant code is not one of this switch's merchants' codes",
        &[],
    )
}

/// The payment a switch-issued dynamic code is for, from its reference.
#[allow(clippy::result_large_err)]
fn dynamic_payment_id(resolved: &super::codes::Resolved) -> Result<String, Status> {
    let reference = resolved.reference.as_deref().unwrap_or_default();
    let ours = reference.len() == 24 && reference.chars().all(|c| c.is_ascii_alphanumeric());
    if !ours {
        return Err(unknown_code());
    }
    Ok(format!("pay{reference}"))
}

fn switch_code_error(e: SwitchCodeError) -> Status {
    match e {
        SwitchCodeError::Unknown => unknown_code(),
        SwitchCodeError::AmountMismatch { .. } => {
            GatewayReason::AmountMismatch.status(e.to_string(), &[("field", "amount")])
        }
        SwitchCodeError::Expired(_) => GatewayReason::CodeExpired.status(e.to_string(), &[]),
        SwitchCodeError::Pay(e) => pay_error(e),
    }
}

fn code_field(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("is required".into());
    }
    if raw.len() > crate::qr::PAYLOAD_BYTES_MAX
        || raw.chars().count() > crate::qr::PAYLOAD_CHARS_MAX
    {
        return Err(format!(
            "is longer than {} characters",
            crate::qr::PAYLOAD_CHARS_MAX
        ));
    }
    Ok(())
}

#[allow(clippy::result_large_err)]
fn check_code_field(raw: &str) -> Result<(), Status> {
    let mut errors = FieldErrors::default();
    if let Err(why) = code_field(raw) {
        errors.push("merchant_code", GatewayReason::MerchantCodeFormat, why);
    }
    errors.finish()
}

fn parse_rate(
    errors: &mut FieldErrors,
    i: usize,
    rate: &pb::FxRate,
    network: &str,
    now_ms: i64,
) -> Option<Rate> {
    let field = |name: &str| format!("rates[{i}].{name}");
    let currency = |errors: &mut FieldErrors, name: &str, raw: &str| {
        match kakehashi_adapter_core::money::parse_currency(raw) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(field(name), GatewayReason::RateFormat, e);
                None
            }
        }
    };
    let base = currency(errors, "base_currency", &rate.base_currency);
    let quote = currency(errors, "quote_currency", &rate.quote_currency);
    let pair = match (base, quote) {
        (Some(b), Some(q)) => match Pair::new(b, q) {
            Ok(pair) => Some(pair),
            Err(e) => {
                errors.push(field("quote_currency"), GatewayReason::RateFormat, e);
                None
            }
        },
        _ => None,
    };
    let value = match exact_decimal(&rate.rate) {
        Ok(value) if value.normalize().scale() > crate::fx::rate::SOURCE_RATE_SCALE_MAX => {
            errors.push(
                field("rate"),
                GatewayReason::RateFormat,
                format!(
                    "at most {} decimal places",
                    crate::fx::rate::SOURCE_RATE_SCALE_MAX
                ),
            );
            None
        }
        Ok(value) => Some(value),
        Err(why) => {
            errors.push(field("rate"), GatewayReason::RateFormat, why);
            None
        }
    };
    let mut window_ok = true;
    if rate.valid_from_ms <= 0 {
        errors.push(
            field("valid_from_ms"),
            GatewayReason::ValidityFormat,
            "is required (Unix ms)",
        );
        window_ok = false;
    }
    if rate.valid_to_ms <= 0 || (rate.valid_from_ms > 0 && rate.valid_to_ms <= rate.valid_from_ms) {
        errors.push(
            field("valid_to_ms"),
            GatewayReason::ValidityFormat,
            "is required and must be after valid_from_ms",
        );
        window_ok = false;
    }
    let (pair, value) = (pair?, value?);
    if !window_ok {
        return None;
    }
    match Rate::new(
        pair,
        value,
        RateSource::PartnerFeed,
        Some(network.to_owned()),
        rate.valid_from_ms,
        rate.valid_to_ms,
        now_ms,
    ) {
        Ok(rate) => Some(rate),
        Err(e) => {
            errors.push(field("rate"), GatewayReason::RateFormat, e);
            None
        }
    }
}

fn parse_line(
    errors: &mut FieldErrors,
    i: usize,
    line: &pb::SettlementLine,
    settlement: Option<iso_currency::Currency>,
) -> Option<partner_sql::ReportLine> {
    let field = |name: &str| format!("lines[{i}].{name}");
    let payment_id = check_id(
        errors,
        &field("payment_id"),
        &line.payment_id,
        GatewayReason::SettlementLineFormat,
    );
    check_optional(
        errors,
        &field("refund_id"),
        &line.refund_id,
        GatewayReason::SettlementLineFormat,
    );
    check_optional(
        errors,
        &field("network_txn_id"),
        &line.network_txn_id,
        GatewayReason::SettlementLineFormat,
    );
    let kind = match pb::SettlementLineKind::try_from(line.kind) {
        Ok(pb::SettlementLineKind::Payment) => Some("payment"),
        Ok(pb::SettlementLineKind::Refund) => Some("refund"),
        Ok(pb::SettlementLineKind::Reversal) => Some("reversal"),
        _ => {
            errors.push(
                field("kind"),
                GatewayReason::SettlementLineFormat,
                "must be PAYMENT, REFUND or REVERSAL",
            );
            None
        }
    };
    let amount = check_money(errors, &field("amount"), line.amount.as_ref());
    let settled = check_money(
        errors,
        &field("settled_amount"),
        line.settled_amount.as_ref(),
    );
    let fee = match &line.fee {
        None => settlement.and_then(|c| Money::from_minor(0, c).ok()),
        Some(_) => check_money(errors, &field("fee"), line.fee.as_ref()),
    };
    for (name, m) in [("settled_amount", &settled), ("fee", &fee)] {
        if let (Some(m), Some(c)) = (m, settlement)
            && m.currency() != c
        {
            errors.push(
                field(name),
                GatewayReason::SettlementLineFormat,
                format!("must be in settlement_currency {}", c.code()),
            );
        }
    }
    Some(partner_sql::ReportLine {
        payment_id: payment_id?,
        refund_id: line.refund_id.clone(),
        network_txn_id: line.network_txn_id.clone(),
        kind: kind?,
        amount: amount?,
        fee: fee?,
        settled: settled?,
    })
}

fn encode_notify(r: &pb::NotifyPaymentResponse) -> String {
    format!("{}/{}", state_name(r.state), u8::from(r.already_final))
}

fn decode_notify(answer: &str) -> pb::NotifyPaymentResponse {
    let (state, already) = answer.split_once('/').unwrap_or((answer, "0"));
    pb::NotifyPaymentResponse {
        state: pb::PaymentState::from_str_name(state)
            .unwrap_or(pb::PaymentState::Unspecified)
            .into(),
        already_final: already == "1",
    }
}

fn decode_report(answer: &str) -> pb::SubmitSettlementReportResponse {
    let (stored, unmatched) = answer.split_once('/').unwrap_or((answer, "0"));
    pb::SubmitSettlementReportResponse {
        stored_lines: stored.parse().unwrap_or(0),
        unmatched_lines: unmatched.parse().unwrap_or(0),
    }
}
