//! The demo's printed report: one row per scenario, one per wallet balance, each checked.
use kakehashi_proto::v1 as pb;

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
    expected: String,
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

    pub fn balance(
        &mut self,
        wallet: &str,
        currency: &str,
        start: String,
        end: String,
        expected: String,
    ) {
        self.balances.push(Balance {
            wallet: wallet.to_owned(),
            currency: currency.to_owned(),
            start,
            end,
            expected,
        });
    }

    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.state != r.expected).count()
            + self.balances.iter().filter(|b| b.end != b.expected).count()
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
            "{:<28} {:<8} {:>12} {:>12} {:>12}  ok",
            "simulator wallet", "currency", "start", "end", "expected"
        );
        for b in &self.balances {
            let ok = if b.end == b.expected { "✓" } else { "✗" };
            println!(
                "{:<28} {:<8} {:>12} {:>12} {:>12}  {ok}",
                b.wallet, b.currency, b.start, b.end, b.expected
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
