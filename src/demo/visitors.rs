//! The rest of the shift: PayPay (a scanned code through the Kakehashi extension and a
//! dynamic QR the customer pays), WeChat Pay (a customer slow with the PIN, one who never
//! finishes), Alipay+ (AlipayCN and KakaoPay), showing what each wallet paid in its own
//! currency.
use std::time::Duration;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_proto::v1::PaymentState;

use super::Shift;

fn err(s: tonic::Status) -> String {
    s.message().to_owned()
}

/// Funds a demo wallet (`confirm_ms`: the customer takes this long to confirm). A failure
/// shows as a scenario that does not end as meant.
fn fund(
    sim: &impl SimulatorControl,
    id: &str,
    minor: i64,
    currency: Currency,
    confirm_ms: Option<u64>,
) {
    if let Ok(balance) = Amount::from_minor(minor, currency) {
        let mut wallet = NewWallet::new(id, balance);
        wallet.confirm_ms = confirm_ms;
        let _ = sim.add_wallet(&wallet);
    }
}

pub async fn paypay(shift: &mut Shift) {
    let Some(sim) = shift
        .sims
        .get("paypay")
        .and_then(|s| s.control::<kakehashi_paypay::SimControl>())
    else {
        return;
    };
    fund(sim.as_ref(), "pp-yamada", 8_000, Currency::JPY, None);
    let code = sim.issue_code("pp-yamada").unwrap_or_default();
    let scanned = shift
        .till
        .pay("shift-101", "980", "JPY", &code)
        .await
        .map_err(err);
    shift.report.payment(
        "PayPay: scanned code (Kakehashi extension)",
        &scanned,
        PaymentState::Succeeded,
    );

    let shown = shift
        .till
        .create_qr("shift-102", "1500", "JPY", "paypay")
        .await
        .map_err(err);
    shift.report.payment(
        "PayPay: dynamic QR shown at the till",
        &shown,
        PaymentState::AwaitingCustomer,
    );
    if let Ok(shown) = &shown {
        let (sim, qr) = (sim.clone(), shown.qr_payload.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            let _ = sim.pay_qr(&qr, "pp-yamada");
        });
        let watched = shift
            .till
            .watch("shift-102", |_| {})
            .await
            .map_err(err)
            .and_then(|p| p.ok_or_else(|| "no state".into()));
        shift.report.payment(
            "PayPay: customer scans and pays, seen via WatchPayment",
            &watched,
            PaymentState::Succeeded,
        );
    }
    let end = sim
        .balance("pp-yamada")
        .map(|b| b.to_string())
        .unwrap_or_default();
    shift.report.balance(
        "paypay/pp-yamada",
        "JPY",
        ("8000".into(), end, (8_000 - 980 - 1_500).to_string()),
        &["shift-101", "shift-102"],
    );
}

pub async fn wechatpay(shift: &mut Shift) {
    let Some(sim) = shift
        .sims
        .get("wechatpay")
        .and_then(|s| s.control::<kakehashi_wechatpay::SimControl>())
    else {
        return;
    };
    fund(sim.as_ref(), "wx-li", 200_000, Currency::CNY, None);
    fund(sim.as_ref(), "wx-wang", 200_000, Currency::CNY, Some(2_000));
    fund(sim.as_ref(), "wx-chan", 100_000, Currency::HKD, None);
    fund(
        sim.as_ref(),
        "wx-zhao",
        200_000,
        Currency::CNY,
        Some(u64::MAX),
    );
    let code = |w: &str| sim.issue_code(w).unwrap_or_default();

    let paid = shift
        .till
        .pay("shift-201", "2400", "JPY", &code("wx-li"))
        .await
        .map_err(err);
    shift.report.payment(
        "WeChat Pay: mainland visitor, paid in CNY",
        &paid,
        PaymentState::Succeeded,
    );
    // Pay answers AWAITING_CUSTOMER while the customer types the PIN; the till follows.
    let pin = match shift
        .till
        .pay("shift-202", "1800", "JPY", &code("wx-wang"))
        .await
        .map_err(err)
    {
        Ok(p) if p.state == PaymentState::AwaitingCustomer as i32 => {
            wait_for(shift, "shift-202", PaymentState::Succeeded).await
        }
        other => other,
    };
    shift.report.payment(
        "WeChat Pay: slow PIN entry, awaited, then paid",
        &pin,
        PaymentState::Succeeded,
    );
    let hk = shift
        .till
        .pay("shift-203", "1000", "JPY", &code("wx-chan"))
        .await
        .map_err(err);
    shift.report.payment(
        "WeChat Pay HK: Hong Kong wallet, paid in HKD",
        &hk,
        PaymentState::Succeeded,
    );

    // The customer never finishes: at the deadline the switch reverses, but WeChat Pay
    // forbids reversing in an order's first 15 s, so the switch waits for that.
    let stuck = shift
        .till
        .pay("shift-204", "3000", "JPY", &code("wx-zhao"))
        .await
        .map_err(err);
    let reversed = match stuck {
        Ok(p) if p.state == PaymentState::Reversed as i32 => Ok(p),
        Ok(_) => wait_for(shift, "shift-204", PaymentState::Reversed).await,
        Err(e) => Err(e),
    };
    shift.report.payment(
        "WeChat Pay: never completed, reversed after 15 s",
        &reversed,
        PaymentState::Reversed,
    );

    for (wallet, start, spent, order) in [
        ("wx-li", 200_000, 11_472, "shift-201"),
        ("wx-wang", 200_000, 8_604, "shift-202"),
        ("wx-chan", 100_000, 5_210, "shift-203"),
        ("wx-zhao", 200_000, 0, "shift-204"),
    ] {
        let end = sim.balance(wallet).map(|b| minor(b, 2)).unwrap_or_default();
        let currency = if wallet == "wx-chan" { "HKD" } else { "CNY" };
        shift.report.balance(
            &format!("wechatpay/{wallet}"),
            currency,
            (minor(start, 2), end, minor(start - spent, 2)),
            &[order],
        );
    }
}

pub async fn alipayplus(shift: &mut Shift) {
    let Some(sim) = shift
        .sims
        .get("alipayplus")
        .and_then(|s| s.control::<kakehashi_alipayplus::SimControl>())
    else {
        return;
    };
    fund(sim.as_ref(), "ap-wei", 100_000, Currency::CNY, None);
    fund(sim.as_ref(), "ap-kim", 500_000, Currency::KRW, None);
    let code = |w: &str| sim.issue_code(w).unwrap_or_default();
    let cn = shift
        .till
        .pay("shift-301", "1200", "JPY", &code("ap-wei"))
        .await
        .map_err(err);
    shift.report.payment(
        "Alipay+: AlipayCN visitor, paid in CNY",
        &cn,
        PaymentState::Succeeded,
    );
    let kr = shift
        .till
        .pay("shift-302", "3500", "JPY", &code("ap-kim"))
        .await
        .map_err(err);
    shift.report.payment(
        "Alipay+: KakaoPay visitor, paid in KRW",
        &kr,
        PaymentState::Succeeded,
    );
    let end = |w: &str, exp: u32| sim.balance(w).map(|b| minor(b, exp)).unwrap_or_default();
    shift.report.balance(
        "alipayplus/ap-wei",
        "CNY",
        (
            minor(100_000, 2),
            end("ap-wei", 2),
            minor(100_000 - 5_736, 2),
        ),
        &["shift-301"],
    );
    shift.report.balance(
        "alipayplus/ap-kim",
        "KRW",
        (
            minor(500_000, 0),
            end("ap-kim", 0),
            minor(500_000 - 31_920, 0),
        ),
        &["shift-302"],
    );
}

async fn wait_for(
    shift: &mut Shift,
    order: &str,
    want: PaymentState,
) -> Result<kakehashi_proto::v1::Payment, String> {
    for _ in 0..400 {
        let p = shift.till.get(order).await.map_err(err)?;
        if p.state == want as i32 {
            return Ok(p);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shift.till.get(order).await.map_err(err)
}

/// Minor units as a decimal string: `minor(5736, 2)` is "57.36".
fn minor(value: i64, exponent: u32) -> String {
    rust_decimal::Decimal::new(value, exponent).to_string()
}
