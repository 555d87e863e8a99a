//! The demo's printed report: one row per scenario, one per wallet balance, each checked.
use std::str::FromStr;

use kakehashi_proto::v1 as pb;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::terminal::Terminal;

#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    balances: Vec<Balance>,
}

#[derive(Debug)]
struct Row {
    scenario: String,
    order: String,
    network: String,
    amount: String,
    state: String,
    expected: String,
    detail: String,
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

pub fn state_name(state: i32) -> String {
    pb::PaymentState::try_from(state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PAYMENT_STATE_")
                .to_owned()
        })
        .unwrap_or_else(|_| format!("?{state}"))
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
    /// Records a scenario's outcome against the state it was meant to end in.
    pub fn payment(
        &mut self,
        scenario: &str,
        result: &Result<pb::Payment, String>,
        expected: pb::PaymentState,
    ) {
        let expected_name = expected
            .as_str_name()
            .trim_start_matches("PAYMENT_STATE_")
            .to_owned();
        let row = match result {
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
                expected: expected_name,
                detail: detail(p),
            },
            Err(e) => Row {
                scenario: scenario.to_owned(),
                order: String::new(),
                network: String::new(),
                amount: String::new(),
                state: "ERROR".into(),
                expected: expected_name,
                detail: e.clone(),
            },
        };
        self.rows.push(row);
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

    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.state != r.expected).count()
            + self.balances.iter().filter(|b| !b.agrees()).count()
    }

    pub fn print(&self) {
        println!(
            "{:<3} {:<54} {:<11} {:<26} {:<10} {:<19} {:<3} detail",
            "#", "scenario", "order", "network / wallet", "amount", "state", "ok"
        );
        for (i, r) in self.rows.iter().enumerate() {
            let ok = if r.state == r.expected { "✓" } else { "✗" };
            let state = if r.state == r.expected {
                r.state.clone()
            } else {
                format!("{} (want {})", r.state, r.expected)
            };
            println!(
                "{:<3} {:<54} {:<11} {:<26} {:<10} {:<19} {:<3} {}",
                i + 1,
                r.scenario,
                r.order,
                r.network,
                r.amount,
                state,
                ok,
                r.detail
            );
        }
        println!();
        println!(
            "{:<28} {:<8} {:>12} {:>12} {:>12} {:>14}  ok",
            "simulator wallet", "currency", "start", "end", "intended", "switch books"
        );
        for b in &self.balances {
            let ok = if b.agrees() { "✓" } else { "✗" };
            println!(
                "{:<28} {:<8} {:>12} {:>12} {:>12} {:>14}  {ok}",
                b.wallet,
                b.currency,
                b.start,
                b.end,
                b.expected,
                b.books.as_deref().unwrap_or("unreadable")
            );
        }
        println!();
        match self.failures() {
            0 => println!(
                "Every scenario ended as intended and the networks' balances agree with the switch."
            ),
            n => println!("{n} check(s) failed."),
        }
    }
}

fn detail(p: &pb::Payment) -> String {
    let mut parts = Vec::new();
    if !p.network_txn_id.is_empty() {
        parts.push(format!("txn {}", p.network_txn_id));
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
