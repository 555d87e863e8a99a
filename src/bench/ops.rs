//! The tills' operations against the switch: a payment by customer code (LINE Pay), and by
//! the configured mix a refund or a cancel after it, a replay of it (same order id, same
//! request: the stored answer must come back), or a dynamic merchant QR (PayPay) that the
//! till then cancels.
use std::sync::Arc;
use std::time::Instant;

use kakehashi_proto::v1::{Payment, PaymentState};

use super::Mix;
use super::client::{Op, Outcome};
use crate::terminal::Terminal;

/// The network whose customer codes the tills scan.
pub const CODE_NETWORK: &str = "linepay";
/// The network asked for dynamic merchant QRs.
pub const QR_NETWORK: &str = "paypay";
/// Every payment is this many yen: small enough for any wallet and any rule.
const AMOUNT_YEN: &str = "100";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pay,
    Refund,
    Cancel,
    Replay,
    Qr,
}

impl Mix {
    /// Which operation index `i` is: a fixed hash of the index, so a mix's shares hold for
    /// any count and no two tills need to agree on anything.
    fn kind(&self, seed: u64, i: usize) -> Kind {
        let roll = splitmix(seed ^ i as u64) % 100;
        let mut edge = u64::from(self.refund_pct);
        if roll < edge {
            return Kind::Refund;
        }
        edge += u64::from(self.cancel_pct);
        if roll < edge {
            return Kind::Cancel;
        }
        edge += u64::from(self.replay_pct);
        if roll < edge {
            return Kind::Replay;
        }
        edge += u64::from(self.qr_pct);
        if roll < edge {
            return Kind::Qr;
        }
        Kind::Pay
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The switch operation for the load client. `codes[i]` is operation i's customer code;
/// `run` prefixes every order id so no two runs share one.
pub fn switch_op(
    tills: Arc<Vec<Terminal>>,
    codes: Arc<Vec<String>>,
    run: Arc<str>,
    mix: Mix,
    seed: u64,
) -> Op {
    Arc::new(move |i, worker| {
        let till = tills.get(worker % tills.len().max(1)).cloned();
        let code = codes.get(i).cloned().unwrap_or_default();
        let order = format!("{run}-{i}");
        let kind = mix.kind(seed, i);
        Box::pin(async move {
            let Some(mut till) = till else {
                return Outcome::failed(Default::default(), "no till".into());
            };
            run_op(&mut till, kind, &order, &code).await
        })
    })
}

async fn run_op(till: &mut Terminal, kind: Kind, order: &str, code: &str) -> Outcome {
    let mut out = Outcome::default();
    let started = Instant::now();
    if kind == Kind::Qr {
        let created = till.create_qr(order, AMOUNT_YEN, "JPY", QR_NETWORK).await;
        out.latency = started.elapsed();
        out.calls = 1;
        match created {
            Ok(p) if p.state == PaymentState::AwaitingCustomer as i32 => out.payments = 1,
            Ok(p) => out.errors.push(unexpected("CreateMerchantQr", &p)),
            Err(s) => out.errors.push(format!("CreateMerchantQr: {:?}", s.code())),
        }
        if out.payments == 1 {
            out.calls += 1;
            if let Err(s) = till.cancel(order).await {
                out.errors
                    .push(format!("CancelPayment (QR): {:?}", s.code()));
            }
        }
        return out;
    }
    let paid = till.pay(order, AMOUNT_YEN, "JPY", code).await;
    out.latency = started.elapsed();
    out.calls = 1;
    let payment = match paid {
        Ok(p) if p.state == PaymentState::Succeeded as i32 => p,
        Ok(p) => {
            out.errors.push(unexpected("Pay", &p));
            return out;
        }
        Err(s) => {
            out.errors.push(format!("Pay: {:?}", s.code()));
            return out;
        }
    };
    out.payments = 1;
    match kind {
        Kind::Pay | Kind::Qr => {}
        Kind::Refund => {
            out.calls += 1;
            let refund_id = format!("{order}-r");
            if let Err(s) = till.refund(order, &refund_id, None).await {
                out.errors.push(format!("RefundPayment: {:?}", s.code()));
            }
        }
        Kind::Cancel => {
            out.calls += 1;
            if let Err(s) = till.cancel(order).await {
                out.errors.push(format!("CancelPayment: {:?}", s.code()));
            }
        }
        Kind::Replay => {
            out.calls += 1;
            match till.pay(order, AMOUNT_YEN, "JPY", code).await {
                Ok(p) if p.payment_id == payment.payment_id && p.state == payment.state => {}
                Ok(p) => out.errors.push(format!(
                    "Pay (replay): a different answer ({})",
                    crate::terminal::state_name(p.state)
                )),
                Err(s) => out.errors.push(format!("Pay (replay): {:?}", s.code())),
            }
        }
    }
    out
}

fn unexpected(rpc: &str, p: &Payment) -> String {
    format!("{rpc}: state {}", crate::terminal::state_name(p.state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_holds_its_shares() {
        let mix = Mix {
            refund_pct: 10,
            cancel_pct: 20,
            replay_pct: 5,
            qr_pct: 15,
        };
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..100_000 {
            *counts
                .entry(format!("{:?}", mix.kind(7, i)))
                .or_insert(0u32) += 1;
        }
        let share = |k: &str| f64::from(counts.get(k).copied().unwrap_or(0)) / 1000.0;
        for (kind, pct) in [
            ("Refund", 10.0),
            ("Cancel", 20.0),
            ("Replay", 5.0),
            ("Qr", 15.0),
            ("Pay", 50.0),
        ] {
            assert!((share(kind) - pct).abs() < 1.0, "{kind}: {}", share(kind));
        }
    }
}
