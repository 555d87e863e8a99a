//! Visiting wallets through the switch: WeChat Pay (PIN entry that succeeds on poll, a
//! payment that never resolves and is reversed, a refund) and Alipay+ (a KRW wallet paying a
//! yen price with the quote stored, a refund), each with the wallet-side amount exact.
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_proto::v1::{PaymentState, RefundState};

mod support;
use support::linepay::wait_state;
use support::switch::{Options, TestSwitch, spawn_with};

async fn switch() -> TestSwitch {
    let mut options = Options {
        networks: vec!["wechatpay", "alipayplus"],
        ..Options::default()
    };
    options.limits.push_str("refund_resend_interval_ms = 200\n");
    options.network_extra.insert(
        "wechatpay",
        "http = { request_timeout_ms = 1000 }\ntiming = { payment_deadline_ms = 3000, query_first_delay_ms = 300, query_interval_ms = 300 }".into(),
    );
    options.network_extra.insert(
        "alipayplus",
        "http = { request_timeout_ms = 500 }\ntiming = { payment_deadline_ms = 3000, query_first_delay_ms = 200, query_interval_ms = 200 }".into(),
    );
    spawn_with(options).await
}

fn wechat(switch: &TestSwitch) -> Arc<kakehashi_wechatpay::SimControl> {
    switch.sim("wechatpay").control().unwrap()
}

fn alipay(switch: &TestSwitch) -> Arc<kakehashi_alipayplus::SimControl> {
    switch.sim("alipayplus").control().unwrap()
}

/// A visitor's wallet holding `minor` units; `confirm_ms`: how long the PIN or the
/// confirmation in the app takes.
fn wallet(id: &str, minor: i64, currency: Currency, confirm_ms: Option<u64>) -> NewWallet {
    let mut wallet = NewWallet::new(id, Amount::from_minor(minor, currency).unwrap());
    wallet.confirm_ms = confirm_ms;
    wallet
}

fn state(p: &kakehashi_proto::v1::Payment) -> PaymentState {
    PaymentState::try_from(p.state).unwrap()
}

#[tokio::test]
async fn a_wechat_customer_slow_to_enter_the_pin_pays_on_poll() {
    let switch = switch().await;
    let sim = wechat(&switch);
    sim.add_wallet(&wallet("li", 100_000, Currency::CNY, Some(1_000)))
        .unwrap();
    let mut till = switch.terminal().await;

    let asked = till
        .pay("wx-1", "1200", "JPY", &sim.issue_code("li").unwrap())
        .await
        .unwrap();
    // The till hears at once that the customer is entering the PIN, then follows.
    assert_eq!(state(&asked), PaymentState::AwaitingCustomer);
    let paid = till.watch("wx-1", |_| {}).await.unwrap().unwrap();

    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(
        (paid.network.as_str(), paid.wallet_brand.as_str()),
        ("wechatpay", "WeChat Pay")
    );
    let wallet = paid.wallet_amount.clone().unwrap();
    assert_eq!(
        wallet.amount.unwrap(),
        kakehashi_proto::v1::Money {
            value: "57.36".into(),
            currency: "CNY".into()
        }
    );
    assert_eq!(wallet.rate, "0.0478");
    assert_eq!(
        paid.amount.unwrap().value,
        "1200",
        "the merchant amount stays in yen"
    );
    let history = support::linepay::history(&switch, &paid.payment_id).await;
    assert_eq!(
        history,
        vec!["RECEIVED", "AUTHORIZING", "AWAITING_CUSTOMER", "SUCCEEDED"]
    );
    assert_eq!(sim.balance("li"), Some(100_000 - 5_736));

    // A refund: accepted, processed asynchronously, refunded at the original rate.
    let refund = till
        .refund("wx-1", "wx-1-r", Some(("600", "JPY")))
        .await
        .unwrap();
    assert_eq!(refund.refund.unwrap().state, RefundState::Succeeded as i32);
    assert_eq!(sim.balance("li"), Some(100_000 - 5_736 + 2_868));
}

#[tokio::test]
async fn a_wechat_payment_that_never_resolves_is_reversed_and_no_money_moves() {
    let switch = switch().await;
    let sim = wechat(&switch);
    sim.add_wallet(&wallet("zhao", 100_000, Currency::CNY, Some(u64::MAX)))
        .unwrap();
    let mut till = switch.terminal().await;

    let first = till
        .pay("wx-2", "3000", "JPY", &sim.issue_code("zhao").unwrap())
        .await
        .unwrap();
    assert!(
        matches!(
            state(&first),
            PaymentState::AwaitingCustomer | PaymentState::Reversing | PaymentState::Reversed
        ),
        "{:?}",
        state(&first)
    );
    // WeChat Pay forbids reversing within 15 s of the order: the switch waits, then reverses.
    let reversed = wait_state(&mut till, "wx-2", PaymentState::Reversed).await;
    assert!(
        reversed.updated_at_ms - reversed.created_at_ms >= 15_000,
        "not reversed before 15 s"
    );
    assert_eq!(sim.order(&reversed.payment_id).unwrap().state, "REVOKED");
    assert_eq!(
        sim.balance("zhao"),
        Some(100_000),
        "the simulator shows no money moved"
    );
}

#[tokio::test]
async fn a_wechat_refund_waits_while_the_cny_pool_is_short_and_refunds_once_it_is_not() {
    let switch = switch().await;
    let sim = wechat(&switch);
    sim.add_wallet(&wallet("mei", 100_000, Currency::CNY, None))
        .unwrap();
    let mut till = switch.terminal().await;
    let paid = till
        .pay("wx-5", "2000", "JPY", &sim.issue_code("mei").unwrap())
        .await
        .unwrap();
    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(sim.balance("mei"), Some(100_000 - 9_560));

    // Today's CNY pool is empty: WeChat Pay answers NOTENOUGH and takes no refund.
    sim.set_refund_pool(Some(0));
    let mut cashier = switch.terminal().await;
    let refunding = tokio::spawn(async move {
        cashier
            .refund("wx-5", "wx-5-r", Some(("500", "JPY")))
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert!(!refunding.is_finished(), "the refund is still pending");
    assert_eq!(sim.balance("mei"), Some(100_000 - 9_560));

    // New CNY arrives; the switch sends the same out_refund_no again and it completes once.
    sim.set_refund_pool(Some(1_000_000));
    let refunded = refunding.await.unwrap();
    assert_eq!(
        refunded.refund.unwrap().state,
        RefundState::Succeeded as i32
    );
    assert_eq!(
        state(&refunded.payment.unwrap()),
        PaymentState::PartiallyRefunded
    );
    assert_eq!(sim.balance("mei"), Some(100_000 - 9_560 + 2_390));
}

#[tokio::test]
async fn a_wechat_pay_that_never_arrived_is_sent_again_and_charged_once() {
    let switch = switch().await;
    let sim = wechat(&switch);
    sim.add_wallet(&wallet("xu", 100_000, Currency::CNY, None))
        .unwrap();
    // The micropay is lost on the way: WeChat Pay never sees it, the switch times out.
    sim.inject(
        Some(kakehashi_wechatpay::Operation::Micropay),
        kakehashi_adapter_core::simkit::Fault::Hang,
        Some(1),
    );
    let mut till = switch.terminal().await;
    let paid = till
        .pay("wx-6", "1000", "JPY", &sim.issue_code("xu").unwrap())
        .await
        .unwrap();

    // orderquery says ORDERNOTEXIST, so the switch sends the same out_trade_no again.
    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(sim.balance("xu"), Some(100_000 - 4_780), "charged once");
    assert_eq!(sim.order(&paid.payment_id).unwrap().state, "SUCCESS");
}

#[tokio::test]
async fn a_kakaopay_customer_pays_a_yen_price_in_won_with_the_quote_stored() {
    let switch = switch().await;
    let sim = alipay(&switch);
    sim.add_wallet(&wallet("kim", 1_000_000, Currency::KRW, None))
        .unwrap();
    let mut till = switch.terminal().await;

    let paid = till
        .pay("ap-1", "1200", "JPY", &sim.issue_code("kim").unwrap())
        .await
        .unwrap();

    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(
        (paid.network.as_str(), paid.wallet_brand.as_str()),
        ("alipayplus", "KakaoPay")
    );
    let wallet = paid.wallet_amount.clone().unwrap();
    assert_eq!(
        wallet.amount.unwrap(),
        kakehashi_proto::v1::Money {
            value: "10944".into(),
            currency: "KRW".into()
        }
    );
    assert_eq!(wallet.rate, "9.12");
    let quote = paid.settlement_quote.clone().unwrap();
    assert!(quote.quote_id.starts_with("SQ"));
    assert_eq!(
        (quote.currency_pair.as_str(), quote.price.as_str()),
        ("JPY/USD", "0.00658")
    );
    assert_eq!(
        quote.settlement_amount.unwrap(),
        kakehashi_proto::v1::Money {
            value: "7.90".into(),
            currency: "USD".into()
        }
    );
    // What the terminal saw is what the store kept.
    assert_eq!(till.get("ap-1").await.unwrap(), paid);
    assert_eq!(sim.balance("kim"), Some(1_000_000 - 10_944));

    let refunded = till.refund("ap-1", "ap-1-r", None).await.unwrap();
    assert_eq!(state(&refunded.payment.unwrap()), PaymentState::Refunded);
    assert_eq!(sim.balance("kim"), Some(1_000_000));
}

#[tokio::test]
async fn an_alipay_cn_customer_who_confirms_in_the_app_pays() {
    let switch = switch().await;
    let sim = alipay(&switch);
    sim.add_wallet(&wallet("wei", 100_000, Currency::CNY, Some(500)))
        .unwrap();
    let mut till = switch.terminal().await;
    let asked = till
        .pay("ap-2", "1000", "JPY", &sim.issue_code("wei").unwrap())
        .await
        .unwrap();
    assert_eq!(state(&asked), PaymentState::AwaitingCustomer);
    let paid = till.watch("ap-2", |_| {}).await.unwrap().unwrap();
    assert_eq!(state(&paid), PaymentState::Succeeded);
    assert_eq!(paid.wallet_brand, "AlipayCN");
    assert_eq!(paid.wallet_amount.unwrap().amount.unwrap().value, "47.80");
}
