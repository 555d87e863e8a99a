//! The demo's printed report: one row per scenario, printed as the scenario ends, then one
//! per wallet balance, each checked.
use std::str::FromStr;

use kakehashi_proto::v1 as pb;
use rust_decimal::{Decimal, RoundingStrategy};

use super::layout::{Layout, Row};
use crate::terminal::{Terminal, network_reference, state_name};

#[derive(Debug, Default)]
pub struct Report {
    layout: Layout,
    rows: Vec<Row>,
    balances: Vec<Balance>,
}

#[derive(Debug)]
struct Balance {
    wallet: String,
    currency: String,
    start: String,
    end: String,
    /// What the script meant the wallet to hold.
    expected: String,
    /// The orders this wallet paid, to reconcile against the switch's books.
    orders: Vec<String>,
    /// start − what the switch's stored payments and refunds say the wallet paid.
    books: Option<String>,
}

// === impl Balance ===

impl Balance {
    /// The network's balance is what the script intended and what the switch's books say.
    fn agrees(&self) -> bool {
        let same = |a: &str, b: &str| matches!((Decimal::from_str(a), Decimal::from_str(b)), (Ok(x), Ok(y)) if x == y);
        same(&self.end, &self.expected) && self.books.as_deref().is_some_and(|b| same(&self.end, b))
    }
}

/// What a payment took from the customer's wallet and kept, in the wallet's currency:
/// nothing unless it succeeded; less what was refunded (for a visiting wallet, the same share
/// of the wallet-side amount, rounded half up as the networks do).
fn wallet_net(payment: &pb::Payment) -> Option<Decimal> {
    use pb::PaymentState as S;
    let captured = matches!(
        pb::PaymentState::try_from(payment.state).ok()?,
        S::Succeeded | S::PartiallyRefunded | S::Refunded
    );
    if !captured {
        return Some(Decimal::ZERO);
    }
    let amount = Decimal::from_str(&payment.amount.as_ref()?.value).ok()?;
    let refunded = match &payment.refunded_amount {
        Some(m) => Decimal::from_str(&m.value).ok()?,
        None => Decimal::ZERO,
    };
    match payment
        .wallet_amount
        .as_ref()
        .and_then(|w| w.amount.as_ref())
    {
        None => Some(amount - refunded),
        Some(wallet) => {
            let wallet_value = Decimal::from_str(&wallet.value).ok()?;
            if amount.is_zero() {
                return None;
            }
            let back = (wallet_value * refunded / amount).round_dp_with_strategy(
                wallet_value.scale(),
                RoundingStrategy::MidpointAwayFromZero,
            );
            Some(wallet_value - back)
        }
    }
}

// === impl Report ===

impl Report {
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            ..Self::default()
        }
    }

    /// Records a scenario's outcome against the state it was meant to end in, and prints
    /// it at once (the table's header before the first one), so the shift shows as it goes.
    pub fn payment(
        &mut self,
        scenario: &str,
        result: &Result<pb::Payment, String>,
        expected: pb::PaymentState,
    ) {
        let row = row(scenario, result, expected);
        let mut lines = Vec::new();
        if self.rows.is_empty() {
            lines.extend(self.layout.header());
        }
        lines.extend(self.layout.row(self.rows.len() + 1, &row));
        self.rows.push(row);
        for line in lines {
            println!("{line}");
        }
    }

    /// A simulator wallet's balance at the end of the shift, with what the script meant it
    /// to hold and the orders it paid (reconciled later against the switch's books).
    pub fn balance(
        &mut self,
        wallet: &str,
        currency: &str,
        (start, end, expected): (String, String, String),
        orders: &[&str],
    ) {
        self.balances.push(Balance {
            wallet: wallet.to_owned(),
            currency: currency.to_owned(),
            start,
            end,
            expected,
            orders: orders.iter().map(|o| (*o).to_owned()).collect(),
            books: None,
        });
    }

    /// Works out each wallet's balance from the switch's books, read back through the API:
    /// start minus, for each order the wallet paid, what the switch says was captured and
    /// not refunded (in the wallet's currency for visiting wallets).
    pub async fn reconcile(&mut self, till: &mut Terminal) {
        for balance in &mut self.balances {
            let Ok(start) = Decimal::from_str(&balance.start) else {
                continue;
            };
            let mut held = start;
            let mut readable = true;
            for order in &balance.orders {
                match till.get(order).await {
                    Ok(payment) => match wallet_net(&payment) {
                        Some(net) => held -= net,
                        None => readable = false,
                    },
                    Err(_) => readable = false,
                }
            }
            balance.books = readable.then(|| {
                held.rescale(start.scale());
                held.to_string()
            });
        }
    }

    /// Each scenario's name and whether it ended as the script meant.
    pub fn scenarios(&self) -> Vec<(String, bool)> {
        self.rows
            .iter()
            .map(|r| (r.scenario.clone(), r.ok()))
            .collect()
    }

    /// Each simulator wallet and whether its balance agrees with the script and the books.
    pub fn balances(&self) -> Vec<(String, bool)> {
        self.balances
            .iter()
            .map(|b| (b.wallet.clone(), b.agrees()))
            .collect()
    }

    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| !r.ok()).count()
            + self.balances.iter().filter(|b| !b.agrees()).count()
    }

    /// Prints the balances against the switch's books and the verdict (the scenarios were
    /// printed as they ended).
    pub fn print(&self) {
        println!();
        for line in self.balance_lines() {
            println!("{line}");
        }
        println!();
        match self.failures() {
            0 => println!(
                "Every scenario ended as intended and the networks' balances agree with the switch."
            ),
            n => println!("{n} check(s) failed."),
        }
    }

    fn balance_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{:<28} {:<8} {:>12} {:>12} {:>12} {:>14}  ok",
            "simulator wallet", "currency", "start", "end", "intended", "switch books"
        )];
        for b in &self.balances {
            let ok = if b.agrees() { "✓" } else { "✗" };
            lines.push(format!(
                "{:<28} {:<8} {:>12} {:>12} {:>12} {:>14}  {ok}",
                b.wallet,
                b.currency,
                b.start,
                b.end,
                b.expected,
                b.books.as_deref().unwrap_or("unreadable")
            ));
        }
        lines
    }
}

/// A scenario's row: the payment it ended with, or the error it got.
fn row(scenario: &str, result: &Result<pb::Payment, String>, expected: pb::PaymentState) -> Row {
    let expected = expected
        .as_str_name()
        .trim_start_matches("PAYMENT_STATE_")
        .to_owned();
    match result {
        Ok(p) => Row {
            scenario: scenario.to_owned(),
            order: p.merchant_order_id.clone(),
            network: if p.wallet_brand.is_empty() {
                p.network.clone()
            } else {
                format!("{} / {}", p.network, p.wallet_brand)
            },
            amount: p
                .amount
                .as_ref()
                .map(|m| format!("{} {}", m.currency, m.value))
                .unwrap_or_default(),
            state: state_name(p.state),
            expected,
            detail: detail(p),
        },
        Err(e) => Row {
            scenario: scenario.to_owned(),
            order: String::new(),
            network: String::new(),
            amount: String::new(),
            state: "ERROR".into(),
            expected,
            detail: e.clone(),
        },
    }
}

/// What else a person wants to know about the payment: the network's reference (a QR's id
/// until a customer pays it), why it was declined or reversed, what a visiting wallet paid.
fn detail(p: &pb::Payment) -> String {
    use pb::PaymentState as S;
    let mut parts = Vec::new();
    if let Some(reference) = network_reference(p) {
        parts.push(reference);
    }
    if matches!(S::try_from(p.state), Ok(S::Reversing | S::Reversed)) {
        let why = if p.state_reason.is_empty() {
            "the switch gave no reason"
        } else {
            p.state_reason.as_str()
        };
        parts.push(format!("why: {why}"));
    }
    let reason = pb::DeclineReason::try_from(p.decline_reason).unwrap_or_default();
    if reason != pb::DeclineReason::Unspecified {
        parts.push(format!(
            "{} ({})",
            reason.as_str_name().trim_start_matches("DECLINE_REASON_"),
            p.network_code
        ));
    }
    if let Some(w) = &p.wallet_amount
        && let Some(m) = &w.amount
    {
        parts.push(format!(
            "wallet paid {} {} (rate {})",
            m.currency, m.value, w.rate
        ));
    }
    if let Some(q) = &p.settlement_quote {
        parts.push(format!(
            "quote {} {} @ {}",
            q.quote_id, q.currency_pair, q.price
        ));
    }
    if let Some(r) = &p.refunded_amount
        && r.value != "0"
    {
        parts.push(format!("refunded {} {}", r.currency, r.value));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::layout::LINE_WIDTH_MAX;
    use pb::PaymentState as S;

    fn money(value: &str, currency: &str) -> Option<pb::Money> {
        Some(pb::Money {
            value: value.into(),
            currency: currency.into(),
        })
    }

    fn payment(order: &str, state: S) -> pb::Payment {
        pb::Payment {
            merchant_order_id: order.into(),
            amount: money("1200", "JPY"),
            state: state as i32,
            network: "linepay".into(),
            network_txn_id: "2026012012345678901".into(),
            refunded_amount: money("0", "JPY"),
            ..Default::default()
        }
    }

    /// A shift's worth of rows, with the widest cells the demo prints and wider.
    fn shift_report(layout: Layout) -> (Report, Vec<String>) {
        let mut visitor = payment("shift-302", S::Succeeded);
        visitor.network = "alipayplus".into();
        visitor.wallet_brand = "KakaoPay".into();
        visitor.wallet_amount = Some(pb::WalletAmount {
            amount: money("31920", "KRW"),
            rate: "9.12".into(),
        });
        visitor.settlement_quote = Some(pb::SettlementQuote {
            quote_id: "QUOTE-2026-0120-000000000042".into(),
            currency_pair: "JPY/KRW".into(),
            price: "9.1200000".into(),
            settlement_amount: money("3500", "JPY"),
        });
        let mut reversed = payment("shift-003", S::Reversed);
        reversed.state_reason = "no reply from LINE Pay before the deadline, check found \
                                 nothing; voided by the network, nothing was charged"
            .into();
        let mut qr = payment("shift-102", S::AwaitingCustomer);
        qr.network = "paypay".into();
        qr.network_txn_id = "pp-qr-0001".into();
        qr.qr_payload = "https://qr.paypay.ne.jp/28180104ma1xq0AYDbHmTqg4".into();
        let scenarios: [(&str, Result<pb::Payment, String>, S); 5] = [
            (
                "PayPay: customer scans and pays, seen via WatchPayment",
                Ok(visitor),
                S::Succeeded,
            ),
            (
                "LINE Pay: network timeout, checked, then voided",
                Ok(reversed),
                S::Reversed,
            ),
            ("PayPay: dynamic QR shown at the till", Ok(qr), S::Succeeded),
            (
                "LINE Pay: partial refund of ¥500",
                Err(["the switch could not be reached: connection refused"; 4].join(", ")),
                S::PartiallyRefunded,
            ),
            (
                "A scenario whose name is much longer than any column of the narrow layout",
                Ok(payment(
                    "an-order-id-longer-than-its-column",
                    S::PartiallyRefunded,
                )),
                S::PartiallyRefunded,
            ),
        ];
        let mut report = Report::new(layout);
        let mut lines = layout.header();
        for (i, (scenario, result, expected)) in scenarios.iter().enumerate() {
            let row = row(scenario, result, *expected);
            lines.extend(layout.row(i + 1, &row));
            report.rows.push(row);
        }
        report.balance(
            "alipayplus/ap-kim-with-a-long-name",
            "KRW",
            ("500000".into(), "468080".into(), "468080".into()),
            &["shift-302"],
        );
        lines.extend(report.balance_lines());
        (report, lines)
    }

    #[test]
    fn the_default_layout_fits_in_120_columns() {
        let (_, lines) = shift_report(Layout::Narrow);
        for line in &lines {
            assert!(
                line.chars().count() <= LINE_WIDTH_MAX,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        let text = lines.join("\n");
        for kept in [
            "KakaoPay",
            "KRW 31920",
            "QUOTE-2026-0120-000000000042",
            "voided",
        ] {
            assert!(text.contains(kept), "{kept} is still shown, wrapped");
        }
    }

    #[test]
    fn the_wide_layout_keeps_every_column_on_one_line() {
        let (report, lines) = shift_report(Layout::Wide);
        assert!(lines[0].starts_with("#") && lines[0].ends_with("detail"));
        for (i, row) in report.rows.iter().enumerate() {
            let line = &lines[i + 1];
            for cell in [
                &row.scenario,
                &row.order,
                &row.network,
                &row.amount,
                &row.state,
                &row.detail,
            ] {
                assert!(line.contains(cell.as_str()), "{cell} in {line}");
            }
        }
        assert!(lines.iter().any(|l| l.chars().count() > LINE_WIDTH_MAX));
    }

    #[test]
    fn a_reversed_row_says_why() {
        let mut reversed = payment("shift-003", S::Reversed);
        reversed.state_reason = "deadline passed unresolved; reversed by network".into();
        let row = row("timeout", &Ok(reversed.clone()), S::Reversed);
        assert!(
            row.detail
                .contains("why: deadline passed unresolved; reversed by network"),
            "{}",
            row.detail
        );
        reversed.state_reason.clear();
        let row = row_of(&reversed);
        assert!(row.detail.contains("why: "), "{}", row.detail);
        let succeeded = row_of(&payment("shift-001", S::Succeeded));
        assert!(!succeeded.detail.contains("why"), "{}", succeeded.detail);
    }

    #[test]
    fn a_qr_id_is_labelled_as_a_qr_until_the_customer_pays() {
        let mut shown = payment("shift-102", S::AwaitingCustomer);
        shown.network_txn_id = "pp-qr-0001".into();
        shown.qr_payload = "https://qr.paypay.ne.jp/abc".into();
        let detail = row_of(&shown).detail;
        assert!(detail.starts_with("QR pp-qr-0001"), "{detail}");
        assert!(!detail.contains("txn"), "{detail}");
        let mut paid = shown;
        paid.state = S::Succeeded as i32;
        paid.network_txn_id = "04170123456789".into();
        assert!(row_of(&paid).detail.starts_with("txn 04170123456789"));
    }

    fn row_of(p: &pb::Payment) -> Row {
        row("scenario", &Ok(p.clone()), S::Succeeded)
    }
}
