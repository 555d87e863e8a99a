//! The simulator's books: wallets, customer codes (Kakehashi extension), payments from
//! dynamic QRs and scans, refunds. Every operation is PayPay's business logic and answers
//! with its status codes.
use std::collections::HashMap;

use kakehashi_adapter_core::sim_control::SimError;
use rand::Rng;
use rand::rngs::StdRng;

use super::{CUSTOMER_CODE_VALID_MS, QR_VALID_MS};
use crate::wire;

mod state;

pub const CODE_PREFIX: &str = "9000818188";
const WALLETS_MAX: usize = 10_000;
const RECORDS_MAX: usize = 200_000;
/// PayPay refuses a single payment above ¥500,000.
const PAYMENT_YEN_MAX: i64 = 500_000;
const JST_OFFSET_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Completed,
    Refunded,
    Failed,
    Expired,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Completed => "COMPLETED",
            Self::Refunded => "REFUNDED",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub merchant_payment_id: String,
    pub payment_id: Option<String>,
    pub status: &'static str,
    pub amount: i64,
    pub refunded: i64,
    pub wallet_id: Option<String>,
    pub qr_code_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    pub merchant_refund_id: String,
    pub status: &'static str,
    pub amount: i64,
}

#[derive(Debug)]
struct Payment {
    payment_id: Option<String>,
    status: Status,
    amount: i64,
    refunded: i64,
    wallet_id: Option<String>,
    qr_code_id: Option<String>,
    created_ms: i64,
    accepted_ms: Option<i64>,
    expires_ms: Option<i64>,
    /// The customer walked away from the shown QR: PayPay still reports it CREATED until it
    /// expires (nothing tells PayPay), but this customer will not pay it.
    abandoned: bool,
}

#[derive(Debug)]
struct Refund {
    merchant_payment_id: String,
    refund_id: String,
    amount: i64,
    done: bool,
}

#[derive(Debug)]
struct CustomerCode {
    wallet_id: String,
    issued_ms: i64,
    used: bool,
}

/// What a route sends back.
#[derive(Debug)]
pub(super) enum Answer {
    Ok {
        status: u16,
        data: String,
    },
    Accepted,
    Err {
        status: u16,
        code: &'static str,
        code_id: &'static str,
    },
}

fn err(status: u16, code: &'static str, code_id: &'static str) -> Answer {
    Answer::Err {
        status,
        code,
        code_id,
    }
}

#[derive(Debug)]
pub(super) struct Books {
    rng: StdRng,
    wallets: HashMap<String, i64>,
    codes: HashMap<String, CustomerCode>,
    payments: HashMap<String, Payment>,
    qr_codes: HashMap<String, String>,
    refunds: HashMap<String, Refund>,
}

impl Books {
    pub fn new(rng: StdRng) -> Self {
        Self {
            rng,
            wallets: HashMap::new(),
            codes: HashMap::new(),
            payments: HashMap::new(),
            qr_codes: HashMap::new(),
            refunds: HashMap::new(),
        }
    }

    pub fn add_wallet(&mut self, id: &str, yen: i64) -> Result<(), SimError> {
        if id.is_empty() || id.len() > 64 || yen < 0 {
            return Err(SimError::Invalid(
                "wallet id must be 1..=64 characters and the balance not negative".into(),
            ));
        }
        if !self.wallets.contains_key(id) && self.wallets.len() >= WALLETS_MAX {
            return Err(SimError::Full(format!(
                "the simulator holds {WALLETS_MAX} wallets already"
            )));
        }
        self.wallets.insert(id.to_owned(), yen);
        Ok(())
    }

    pub fn balance(&self, id: &str) -> Option<i64> {
        self.wallets.get(id).copied()
    }

    pub fn issue_code(&mut self, wallet_id: &str, now_ms: i64) -> Result<String, SimError> {
        if !self.wallets.contains_key(wallet_id) {
            return Err(SimError::NotFound(format!("no wallet `{wallet_id}`")));
        }
        if self.codes.len() >= RECORDS_MAX {
            self.codes
                .retain(|_, c| !c.used && now_ms - c.issued_ms <= CUSTOMER_CODE_VALID_MS);
        }
        loop {
            let tail: u64 = self.rng.random_range(0..100_000_000_000_000);
            let code = format!("{CODE_PREFIX}{tail:014}");
            if !self.codes.contains_key(&code) {
                self.codes.insert(
                    code.clone(),
                    CustomerCode {
                        wallet_id: wallet_id.to_owned(),
                        issued_ms: now_ms,
                        used: false,
                    },
                );
                return Ok(code);
            }
        }
    }

    fn new_payment_id(&mut self) -> String {
        format!(
            "0{}",
            self.rng
                .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000)
        )
    }

    fn full(&self) -> bool {
        self.payments.len() >= RECORDS_MAX || self.refunds.len() >= RECORDS_MAX
    }

    /// Expires an unpaid QR whose time is up; returns the payment.
    fn settle_expiry(&mut self, id: &str, now_ms: i64) -> Option<&Payment> {
        let payment = self.payments.get_mut(id)?;
        if payment.status == Status::Created && payment.expires_ms.is_some_and(|e| now_ms > e) {
            payment.status = Status::Expired;
        }
        Some(payment)
    }

    pub fn create_qr(&mut self, request: &wire::CreateQrRequest, now_ms: i64) -> Answer {
        if let Some(answer) = check_amount(&request.amount) {
            return answer;
        }
        if request.code_type != "ORDER_QR" || !valid_id(&request.merchant_payment_id) {
            return err(400, "INVALID_PARAMS", "00200004");
        }
        if self.payments.contains_key(&request.merchant_payment_id) {
            return err(400, "DUPLICATE_DYNAMIC_QR_REQUEST", "01652073");
        }
        if self.full() {
            return err(503, "MAINTENANCE_MODE", "08100999");
        }
        let code_id = format!(
            "04-{}",
            self.rng
                .random_range(1_000_000_000_000u64..10_000_000_000_000)
        );
        let expires_ms = now_ms + QR_VALID_MS;
        self.qr_codes
            .insert(code_id.clone(), request.merchant_payment_id.clone());
        self.payments.insert(
            request.merchant_payment_id.clone(),
            Payment {
                payment_id: None,
                status: Status::Created,
                amount: request.amount.amount,
                refunded: 0,
                wallet_id: None,
                qr_code_id: Some(code_id.clone()),
                created_ms: now_ms,
                accepted_ms: None,
                expires_ms: Some(expires_ms),
                abandoned: false,
            },
        );
        let data = wire::QrData {
            url: format!("{}{code_id}", state::QR_URL_PREFIX),
            deeplink: format!("{}{code_id}", state::QR_DEEPLINK_PREFIX),
            code_id,
            expiry_date: expires_ms / 1000,
            merchant_payment_id: request.merchant_payment_id.clone(),
            amount: request.amount.clone(),
        };
        ok(201, &data)
    }

    pub fn delete_qr(&mut self, code_id: &str) -> Answer {
        let Some(id) = self.qr_codes.remove(code_id) else {
            return err(404, "DYNAMIC_QR_NOT_FOUND", "01652075");
        };
        if let Some(p) = self.payments.get_mut(&id)
            && p.status == Status::Created
        {
            p.status = Status::Failed;
        }
        Answer::Ok {
            status: 200,
            data: "{}".into(),
        }
    }

    /// The shown QR for `id`, if it is still waiting for a customer.
    fn waiting_qr(&mut self, id: &str, now_ms: i64) -> Result<(), SimError> {
        let status = self
            .settle_expiry(id, now_ms)
            .map(|p| p.status)
            .ok_or_else(|| SimError::NotFound(format!("no QR for {id}")))?;
        if status != Status::Created {
            return Err(SimError::Refused(format!("the QR is {}", status.as_str())));
        }
        Ok(())
    }

    /// `id`: the QR's `merchantPaymentId`.
    pub fn customer_pays(
        &mut self,
        id: &str,
        wallet_id: &str,
        now_ms: i64,
    ) -> Result<(), SimError> {
        self.waiting_qr(id, now_ms)?;
        if self.payments.get(id).is_some_and(|p| p.abandoned) {
            return Err(SimError::Refused(
                "the customer walked away from this QR".into(),
            ));
        }
        let amount = self.payments.get(id).map(|p| p.amount).unwrap_or(0);
        let balance = self
            .wallets
            .get_mut(wallet_id)
            .ok_or_else(|| SimError::NotFound(format!("no wallet `{wallet_id}`")))?;
        if *balance < amount {
            return Err(SimError::Refused(
                "insufficient balance: the customer cannot pay".into(),
            ));
        }
        *balance -= amount;
        let payment_id = self.new_payment_id();
        if let Some(p) = self.payments.get_mut(id) {
            p.status = Status::Completed;
            p.payment_id = Some(payment_id);
            p.wallet_id = Some(wallet_id.to_owned());
            p.accepted_ms = Some(now_ms);
        }
        Ok(())
    }

    pub fn customer_abandons(&mut self, id: &str, now_ms: i64) -> Result<(), SimError> {
        self.waiting_qr(id, now_ms)?;
        if let Some(p) = self.payments.get_mut(id) {
            p.abandoned = true;
        }
        Ok(())
    }

    /// Kakehashi extension: charge a scanned customer code.
    pub fn scan(&mut self, request: &wire::ExtScanRequest, now_ms: i64) -> Answer {
        if let Some(answer) = check_amount(&request.amount) {
            return answer;
        }
        if !valid_id(&request.merchant_payment_id) {
            return err(400, "INVALID_PARAMS", "00200004");
        }
        if let Some(existing) = self.payments.get(&request.merchant_payment_id) {
            // Idempotent create: the same merchantPaymentId returns the previous result.
            return if existing.qr_code_id.is_none() && existing.amount == request.amount.amount {
                ok(200, &self.payment_data(&request.merchant_payment_id))
            } else {
                err(400, "INVALID_PARAMS", "00200004")
            };
        }
        if self.full() {
            return err(503, "MAINTENANCE_MODE", "08100999");
        }
        let Some(code) = self.codes.get_mut(&request.kakehashi_customer_code) else {
            return err(400, "KAKEHASHI_EXT_CUSTOMER_CODE_INVALID", "KX000001");
        };
        if code.used {
            return err(400, "KAKEHASHI_EXT_CUSTOMER_CODE_INVALID", "KX000001");
        }
        if now_ms - code.issued_ms > CUSTOMER_CODE_VALID_MS {
            return err(400, "KAKEHASHI_EXT_CUSTOMER_CODE_EXPIRED", "KX000002");
        }
        code.used = true;
        let wallet_id = code.wallet_id.clone();
        let balance = self.wallets.get_mut(&wallet_id);
        let Some(balance) = balance.filter(|b| **b >= request.amount.amount) else {
            return err(400, "NO_SUFFICIENT_FUND", "00400035");
        };
        *balance -= request.amount.amount;
        let payment_id = self.new_payment_id();
        self.payments.insert(
            request.merchant_payment_id.clone(),
            Payment {
                payment_id: Some(payment_id),
                status: Status::Completed,
                amount: request.amount.amount,
                refunded: 0,
                wallet_id: Some(wallet_id),
                qr_code_id: None,
                created_ms: now_ms,
                accepted_ms: Some(now_ms),
                abandoned: false,
                expires_ms: None,
            },
        );
        ok(201, &self.payment_data(&request.merchant_payment_id))
    }

    fn payment_data(&self, id: &str) -> wire::PaymentData {
        let p = self.payments.get(id);
        wire::PaymentData {
            payment_id: p.and_then(|p| p.payment_id.clone()),
            status: p.map(|p| p.status.as_str()).unwrap_or("FAILED").to_owned(),
            merchant_payment_id: id.to_owned(),
            amount: wire::MoneyAmount {
                amount: p.map(|p| p.amount).unwrap_or(0),
                currency: "JPY".into(),
            },
            accepted_at: p.and_then(|p| p.accepted_ms).map(|ms| ms / 1000),
        }
    }

    /// `qr`: the dynamic-QR details path, which knows only QR payments.
    pub fn details(&mut self, id: &str, qr: bool, now_ms: i64) -> Answer {
        match self.settle_expiry(id, now_ms) {
            Some(p) if p.qr_code_id.is_some() == qr => ok(200, &self.payment_data(id)),
            _ if qr => err(404, "DYNAMIC_QR_PAYMENT_NOT_FOUND", "01652075"),
            _ => err(404, "RESOURCE_NOT_FOUND", "00200001"),
        }
    }

    pub fn payment_view(&mut self, id: &str, now_ms: i64) -> Option<PaymentView> {
        let p = self.settle_expiry(id, now_ms)?;
        Some(PaymentView {
            merchant_payment_id: id.to_owned(),
            payment_id: p.payment_id.clone(),
            status: p.status.as_str(),
            amount: p.amount,
            refunded: p.refunded,
            wallet_id: p.wallet_id.clone(),
            qr_code_id: p.qr_code_id.clone(),
        })
    }

    /// Cancel: accepted until 00:14:59 JST the day after the payment; the money goes back.
    pub fn cancel(&mut self, id: &str, now_ms: i64) -> Answer {
        let Some(p) = self.payments.get_mut(id) else {
            return err(404, "RESOURCE_NOT_FOUND", "00200001");
        };
        let created_day_jst = (p.created_ms + JST_OFFSET_MS).div_euclid(DAY_MS);
        let window_end = (created_day_jst + 1) * DAY_MS + 14 * 60_000 + 59_999 - JST_OFFSET_MS;
        match p.status {
            Status::Failed => return Answer::Accepted,
            Status::Created => {
                p.status = Status::Failed;
                return Answer::Accepted;
            }
            Status::Refunded | Status::Expired => {
                return err(400, "ORDER_NOT_REVERSIBLE", "00200044");
            }
            Status::Completed if now_ms > window_end || p.refunded > 0 => {
                return err(400, "ORDER_NOT_REVERSIBLE", "00200044");
            }
            Status::Completed => {}
        }
        p.status = Status::Failed;
        let (wallet, amount) = (p.wallet_id.clone(), p.amount);
        if let Some(balance) = wallet.and_then(|w| self.wallets.get_mut(&w)) {
            *balance += amount;
        }
        Answer::Accepted
    }

    pub fn refund(&mut self, request: &wire::RefundRequest) -> Answer {
        if let Some(answer) = check_amount(&request.amount) {
            return answer;
        }
        if !valid_id(&request.merchant_refund_id) {
            return err(400, "INVALID_PARAMS", "00200004");
        }
        if let Some(existing) = self.refunds.get(&request.merchant_refund_id) {
            return if existing.amount == request.amount.amount {
                ok(200, &self.refund_data(&request.merchant_refund_id))
            } else {
                err(400, "INVALID_PARAMS", "00200004")
            };
        }
        let Some((id, p)) = self
            .payments
            .iter_mut()
            .find(|(_, p)| p.payment_id.as_deref() == Some(request.payment_id.as_str()))
        else {
            return err(404, "RESOURCE_NOT_FOUND", "00200001");
        };
        if p.status != Status::Completed {
            return err(400, "UNACCEPTABLE_OP", "00200013");
        }
        if request.amount.amount > p.amount - p.refunded {
            return err(400, "INVALID_PARAMS", "00200015");
        }
        p.refunded += request.amount.amount;
        let id = id.clone();
        let refund_id = format!(
            "R{}",
            self.rng
                .random_range(1_000_000_000_000u64..10_000_000_000_000)
        );
        self.refunds.insert(
            request.merchant_refund_id.clone(),
            Refund {
                merchant_payment_id: id,
                refund_id,
                amount: request.amount.amount,
                done: false,
            },
        );
        ok(200, &self.refund_data(&request.merchant_refund_id))
    }

    /// Refunds complete asynchronously: the first details request after creation finds
    /// the refund done, and only then does the money reach the wallet.
    /// `payment_id`: the `?paymentId=` the newer documentation requires.
    pub fn refund_details(&mut self, merchant_refund_id: &str, payment_id: Option<&str>) -> Answer {
        let Some(payment_id) = payment_id else {
            return err(400, "INVALID_PARAMS", "00200004");
        };
        let Some(refund) = self.refunds.get(merchant_refund_id) else {
            return err(404, "NO_SUCH_REFUND_ORDER", "00200001");
        };
        let refunded_payment = self
            .payments
            .get(&refund.merchant_payment_id)
            .and_then(|p| p.payment_id.as_deref());
        if refunded_payment != Some(payment_id) {
            return err(404, "RESOURCE_NOT_FOUND", "00200001");
        }
        let Some(refund) = self.refunds.get_mut(merchant_refund_id) else {
            return err(404, "NO_SUCH_REFUND_ORDER", "00200001");
        };
        if !refund.done {
            refund.done = true;
            let (id, amount) = (refund.merchant_payment_id.clone(), refund.amount);
            if let Some(p) = self.payments.get_mut(&id) {
                if p.refunded == p.amount {
                    p.status = Status::Refunded;
                }
                if let Some(balance) = p.wallet_id.clone().and_then(|w| self.wallets.get_mut(&w)) {
                    *balance += amount;
                }
            }
        }
        ok(200, &self.refund_data(merchant_refund_id))
    }

    fn refund_data(&self, merchant_refund_id: &str) -> wire::RefundData {
        let r = self.refunds.get(merchant_refund_id);
        let payment_id = r
            .and_then(|r| self.payments.get(&r.merchant_payment_id))
            .and_then(|p| p.payment_id.clone());
        wire::RefundData {
            status: if r.is_some_and(|r| r.done) {
                "REFUNDED"
            } else {
                "CREATED"
            }
            .to_owned(),
            merchant_refund_id: merchant_refund_id.to_owned(),
            payment_id: payment_id.unwrap_or_default(),
            amount: wire::MoneyAmount {
                amount: r.map(|r| r.amount).unwrap_or(0),
                currency: "JPY".into(),
            },
            refund_id: r.map(|r| r.refund_id.clone()),
        }
    }

    pub fn refund_view(&self, merchant_refund_id: &str) -> Option<RefundView> {
        self.refunds.get(merchant_refund_id).map(|r| RefundView {
            merchant_refund_id: merchant_refund_id.to_owned(),
            status: if r.done { "REFUNDED" } else { "CREATED" },
            amount: r.amount,
        })
    }
}

fn ok<T: serde::Serialize>(status: u16, data: &T) -> Answer {
    match serde_json::to_string(data) {
        Ok(data) => Answer::Ok { status, data },
        Err(_) => err(500, "INTERNAL_SERVER_ERROR", "08101000"),
    }
}

fn check_amount(amount: &wire::MoneyAmount) -> Option<Answer> {
    if amount.currency != "JPY" || amount.amount <= 0 {
        return Some(err(400, "INVALID_PARAMS", "00200004"));
    }
    if amount.amount > PAYMENT_YEN_MAX {
        return Some(err(400, "UNACCEPTABLE_OP", "00400035"));
    }
    None
}

/// `merchantPaymentId` / `merchantRefundId`: at most 64 of `[a-zA-Z0-9-_]`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn refunded_books() -> (Books, String) {
        let mut books = Books::new(StdRng::seed_from_u64(1));
        books.add_wallet("w", 1_000).unwrap();
        let code = books.issue_code("w", 0).unwrap();
        let scan = wire::ExtScanRequest {
            merchant_payment_id: "P1".into(),
            kakehashi_customer_code: code,
            amount: wire::MoneyAmount {
                amount: 500,
                currency: "JPY".into(),
            },
            requested_at: 0,
            order_description: String::new(),
            store_id: None,
            terminal_id: None,
        };
        assert!(matches!(books.scan(&scan, 0), Answer::Ok { .. }));
        let payment_id = books.payment_view("P1", 0).unwrap().payment_id.unwrap();
        let refund = wire::RefundRequest {
            merchant_refund_id: "R1".into(),
            payment_id: payment_id.clone(),
            amount: wire::MoneyAmount {
                amount: 200,
                currency: "JPY".into(),
            },
            requested_at: 0,
            reason: String::new(),
        };
        assert!(matches!(books.refund(&refund), Answer::Ok { .. }));
        (books, payment_id)
    }

    #[test]
    fn refund_details_require_the_payment_id_it_was_made_on() {
        let (mut books, payment_id) = refunded_books();
        assert!(matches!(
            books.refund_details("R1", None),
            Answer::Err { status: 400, .. }
        ));
        assert!(matches!(
            books.refund_details("R1", Some("P1")),
            Answer::Err { status: 404, .. }
        ));
        assert!(matches!(
            books.refund_details("R1", Some(&payment_id)),
            Answer::Ok { .. }
        ));
    }
}
