//! The soak's checker: after the faults stop and recovery has had its time, the switch's
//! books (its store) and every network's books (each simulator's `/_sim/state`) must tell
//! the same story, payment by payment and wallet by wallet. Nothing the till heard is
//! trusted.
use std::collections::BTreeMap;
use std::time::Duration;

use kakehashi_adapter_core::sim_control::{PaymentStatus, RefundStatus, SimState};

use super::world::World;
use crate::domain::{PaymentRecord, PaymentState, RefundRecord, RefundState};
use crate::store::{SqlStore, Store};

const PAGE: i64 = 500;

/// The switch's whole book: payments and their refunds.
pub struct Books {
    pub payments: Vec<(PaymentRecord, Vec<RefundRecord>)>,
}

pub async fn read_books(store: &SqlStore) -> Result<Books, String> {
    let mut payments = Vec::new();
    let mut after = String::new();
    loop {
        let page = store
            .payments_page(&after, PAGE)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = last.payment_id.clone();
        for p in page {
            let refunds = store
                .refunds_for_payment(&p.payment_id)
                .await
                .map_err(|e| e.to_string())?;
            payments.push((p, refunds));
        }
    }
    Ok(Books { payments })
}

/// Waits (at most `limit`) until nothing is left for the switch to finish: no payment in
/// doubt, no refund pending. Returns how long it took.
pub async fn settle(store: &SqlStore, limit: Duration) -> Result<Duration, String> {
    let started = tokio::time::Instant::now();
    loop {
        let books = read_books(store).await?;
        let open = books.payments.iter().any(|(p, refunds)| {
            p.state.is_in_doubt() || refunds.iter().any(|r| r.state == RefundState::Pending)
        });
        if !open || started.elapsed() >= limit {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every disagreement between the books, in words; empty when they agree.
pub async fn check(world: &World, store: &SqlStore) -> Result<Vec<String>, String> {
    let books = read_books(store).await?;
    let mut states = BTreeMap::new();
    for (kind, sim) in &world.sims {
        states.insert(*kind, sim.state().await?);
    }
    let mut problems = Vec::new();
    let mut known = std::collections::BTreeSet::new();
    for (payment, refunds) in &books.payments {
        known.insert(payment.payment_id.clone());
        let Some(state) = states.get(payment.network.as_str()) else {
            problems.push(format!(
                "{}: unknown network {}",
                payment.payment_id, payment.network
            ));
            continue;
        };
        check_payment(payment, refunds, state, &mut problems);
    }
    for (kind, state) in &states {
        for p in &state.payments {
            if p.status == PaymentStatus::Succeeded && !known.contains(&p.id) {
                problems.push(format!(
                    "{kind}: wallet {:?} charged for {} that the switch never recorded",
                    p.wallet, p.id
                ));
            }
        }
        check_wallets(kind, state, &mut problems);
    }
    check_ledger(store, &books, &mut problems).await?;
    // Every change the storm made has its audit entry, and no entry a change the store lost.
    let audit = crate::audit::crosscheck::check(store)
        .await
        .map_err(|e| e.to_string())?;
    problems.extend(audit.into_iter().map(|p| format!("audit log: {p}")));
    Ok(problems)
}

/// The ledger balances per currency, and what it owes each merchant is exactly what stays
/// captured in the switch's books (no fees are posted before a batch closes).
async fn check_ledger(
    store: &SqlStore,
    books: &Books,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    use crate::settlement::ledger::Account;
    use crate::settlement::ledger::sql::{balances, trial_balance};
    let all = balances(store.pool(), i64::MAX)
        .await
        .map_err(|e| e.to_string())?;
    for (currency, (debit, credit)) in trial_balance(&all) {
        if debit != credit {
            problems.push(format!(
                "ledger: {currency} debits {debit} != credits {credit}"
            ));
        }
    }
    let mut owed: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    for (p, _) in &books.payments {
        if matches!(
            p.state,
            PaymentState::Succeeded | PaymentState::PartiallyRefunded | PaymentState::Refunded
        ) {
            let key = (p.merchant_id.clone(), p.amount.currency_code());
            *owed.entry(key).or_default() += p.amount.minor() - p.refunded_minor;
        }
    }
    for ((merchant, currency), expected) in owed {
        let account = Account::merchant_payable(&merchant).to_string();
        let held: i64 = all
            .iter()
            .filter(|b| b.account.to_string() == account && b.currency.code() == currency)
            .map(|b| -b.net_minor())
            .sum();
        if held != expected {
            problems.push(format!(
                "ledger: merchant {merchant} payable {held} {currency}, its captured payments say {expected}"
            ));
        }
    }
    Ok(())
}

fn check_payment(
    p: &PaymentRecord,
    refunds: &[RefundRecord],
    state: &SimState,
    problems: &mut Vec<String>,
) {
    let id = &p.payment_id;
    if p.state.is_in_doubt() {
        problems.push(format!(
            "{id}: left {} after recovery had its time",
            p.state
        ));
    }
    for r in refunds.iter().filter(|r| r.state == RefundState::Pending) {
        problems.push(format!("{id}: refund {} left PENDING", r.refund_id));
    }
    let at_network = state
        .payments
        .iter()
        .filter(|s| &s.id == id)
        .collect::<Vec<_>>();
    if at_network.len() > 1 {
        problems.push(format!(
            "{id}: the network holds {} payments for it",
            at_network.len()
        ));
    }
    // What stays captured, in the merchant's minor units. A reversal may be a full refund
    // at the network (LINE Pay cannot void a captured payment): only the net must agree.
    let captured_here = matches!(
        p.state,
        PaymentState::Succeeded | PaymentState::PartiallyRefunded | PaymentState::Refunded
    );
    let net_here = if captured_here {
        p.amount.minor() - p.refunded_minor
    } else {
        0
    };
    let net_there: i64 = at_network
        .iter()
        .filter(|s| s.status == PaymentStatus::Succeeded)
        .map(|s| {
            let back: i64 = state
                .refunds
                .iter()
                .filter(|r| r.payment == s.id && r.status == RefundStatus::Succeeded)
                .map(|r| r.amount.minor())
                .sum();
            s.amount.minor() - back
        })
        .sum();
    if net_here != net_there {
        problems.push(format!(
            "{id}: the switch says {} with {net_here} minor units captured, the network {:?} with {net_there}",
            p.state,
            at_network.first().map(|s| s.status)
        ));
    }
    if captured_here
        && at_network
            .first()
            .is_none_or(|s| s.status != PaymentStatus::Succeeded)
    {
        problems.push(format!(
            "{id}: the switch says {}, the network holds no capture",
            p.state
        ));
    }
    let succeeded_here: i64 = refunds
        .iter()
        .filter(|r| r.state == RefundState::Succeeded)
        .map(|r| r.amount.minor())
        .sum();
    if succeeded_here != p.refunded_minor {
        problems.push(format!(
            "{id}: its refunds do not add up to its refunded total"
        ));
    }
}

/// A wallet's balance is its start less what it paid plus what came back, by the network's
/// own books; the soak starts each wallet with a known balance.
fn check_wallets(kind: &str, state: &SimState, problems: &mut Vec<String>) {
    for wallet in &state.wallets {
        let paid: i64 = state
            .payments
            .iter()
            .filter(|p| {
                p.wallet.as_deref() == Some(&wallet.id) && p.status == PaymentStatus::Succeeded
            })
            .filter_map(|p| p.wallet_amount.as_ref().map(|a| a.minor()))
            .sum();
        let back: i64 = state
            .refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Succeeded)
            .filter(|r| {
                state
                    .payments
                    .iter()
                    .any(|p| p.id == r.payment && p.wallet.as_deref() == Some(&wallet.id))
            })
            .filter_map(|r| r.wallet_amount.as_ref().map(|a| a.minor()))
            .sum();
        let start = super::traffic::starting_balance_minor(wallet.balance.currency_code());
        if start - paid + back != wallet.balance.minor() {
            problems.push(format!(
                "{kind}: wallet {} holds {} minor units, its payments and refunds say {}",
                wallet.id,
                wallet.balance.minor(),
                start - paid + back
            ));
        }
    }
}
