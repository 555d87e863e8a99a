//! FX quotes over gRPC: a yen price quoted in yuan at our rate plus WeChat Pay's markup,
//! paid with the quote named, the payment keeping our quote and the difference from the rate
//! WeChat Pay applied; a quote replayed by its idempotency key and the key refused for
//! another quote (SQLite and PostgreSQL); and every quote `Pay` cannot use refused with its
//! reason.
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::PaymentState;
use tonic::Code;
use tonic_types::StatusExt;

mod support;
use support::switch::{OTHER_TILL_KEY, Options, TestSwitch, spawn_with};

/// Our market rate, JPY/CNY; WeChat Pay's simulator applies 0.0478.
const RATES: &str = r#"
[[rates]]
pair = "JPY/CNY"
rate = "0.0465"
valid_from = "2020-01-01T00:00:00Z"
valid_to = "2100-01-01T00:00:00Z"
"#;

async fn switch(dir: &tempfile::TempDir) -> TestSwitch {
    switch_on(dir, None).await
}

/// The switch on SQLite (`None`) or the PostgreSQL database `store_url`.
async fn switch_on(dir: &tempfile::TempDir, store_url: Option<String>) -> TestSwitch {
    let rates = dir.path().join("rates.toml");
    std::fs::write(&rates, RATES).unwrap();
    let mut options = Options {
        networks: vec!["wechatpay", "alipayplus", "paypay"],
        store_url,
        ..Options::default()
    };
    options.extra = format!(
        "[fx]\nrates_file = \"{}\"\nquote_ttl_ms = 60000\n[fx.markup]\nwechatpay = \"0.02\"\n",
        rates.display()
    );
    spawn_with(options).await
}

fn wechat(switch: &TestSwitch) -> Arc<kakehashi_wechatpay::SimControl> {
    switch.sim("wechatpay").control().unwrap()
}

fn yuan_wallet(id: &str) -> NewWallet {
    NewWallet::new(id, Amount::from_minor(100_000, Currency::CNY).unwrap())
}

fn money(value: &str, currency: &str) -> pb::Money {
    pb::Money {
        value: value.into(),
        currency: currency.into(),
    }
}

fn pay(order: &str, value: &str, code: &str, quote_id: &str) -> pb::PayRequest {
    pb::PayRequest {
        merchant_order_id: order.into(),
        amount: Some(money(value, "JPY")),
        code: code.into(),
        description: String::new(),
        quote_id: quote_id.into(),
    }
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_quoted_payment_keeps_our_quote_and_the_networks_difference() {
    let dir = tempfile::tempdir().unwrap();
    quoted_payment(switch(&dir).await).await;
}

#[tokio::test]
async fn a_quoted_payment_on_postgresql_keeps_its_quote_and_difference() {
    let Some(url) = support::postgres::fresh_database("quotes").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    quoted_payment(switch_on(&dir, Some(url)).await).await;
}

async fn quoted_payment(switch: TestSwitch) {
    let sim = wechat(&switch);
    sim.add_wallet(&yuan_wallet("li")).unwrap();
    let mut till = switch.terminal().await;

    let quote = till
        .quote("qk-1", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    // 0.0465 × 1.02 = 0.04743; 1200 × 0.04743 = 56.916 → half-up → 56.92.
    assert_eq!(quote.rate, "0.04743");
    assert_eq!(quote.rate_market, "0.0465");
    assert_eq!(quote.markup, "0.02");
    assert_eq!(quote.wallet_amount, Some(money("56.92", "CNY")));
    assert_eq!(quote.merchant_amount, Some(money("1200", "JPY")));
    assert_eq!(quote.expires_at_ms - quote.created_at_ms, 60_000);
    assert!(quote.quote_id.starts_with("q_") && quote.quote_id.len() == 34);

    let code = sim.issue_code("li").unwrap();
    let paid = till
        .pay_request(pay("fx-1", "1200", &code, &quote.quote_id))
        .await
        .unwrap();
    let paid = if paid.state == PaymentState::Succeeded as i32 {
        paid
    } else {
        till.watch("fx-1", |_| {}).await.unwrap().unwrap()
    };
    assert_eq!(paid.state, PaymentState::Succeeded as i32, "{paid:?}");
    assert_eq!(
        paid.quote.as_ref(),
        Some(&quote),
        "the payment keeps our quote"
    );
    let expected = pb::QuoteComparison {
        quote_id: quote.quote_id.clone(),
        wallet_amount_quoted: Some(money("56.92", "CNY")),
        // WeChat Pay's 0.0478: 1200 × 0.0478 = 57.36.
        wallet_amount_applied: Some(money("57.36", "CNY")),
        difference: Some(money("0.44", "CNY")),
        rate_quoted: "0.04743".into(),
        rate_applied: "0.0478".into(),
        rate_difference: "0.00037".into(),
        expired: false,
    };
    let read = till.get("fx-1").await.unwrap();
    assert_eq!(read.quote_comparison.as_ref(), Some(&expected), "{read:?}");
    assert_eq!(read.quote.as_ref(), Some(&quote));

    // Durable: the comparison is a row beside the payment, read back after a restart.
    let mut switch = switch;
    switch.crash().await;
    switch.restart().await;
    let mut till = switch.terminal().await;
    let read = till.get("fx-1").await.unwrap();
    assert_eq!(read.quote_comparison, Some(expected));

    // The same request again is a replay, quote and all.
    let again = till
        .pay_request(pay("fx-1", "1200", &code, &quote.quote_id))
        .await
        .unwrap();
    assert_eq!(again.payment_id, paid.payment_id);
    // The same key with another quote is another request.
    let other = till
        .quote("qk-2", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    let status = till
        .pay_request(pay("fx-1", "1200", &code, &other.quote_id))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
}

#[tokio::test]
async fn a_quote_is_replayed_by_its_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    quote_replays(switch(&dir).await).await;
}

#[tokio::test]
async fn a_quote_is_replayed_by_its_idempotency_key_on_postgresql() {
    let Some(url) = support::postgres::fresh_database("quote_keys").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    quote_replays(switch_on(&dir, Some(url)).await).await;
}

async fn quote_replays(mut switch: TestSwitch) {
    let mut till = switch.terminal().await;
    let first = till
        .quote("lunch-1", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    // A retry after a lost answer: the stored quote, id, amounts and expiry alike.
    let again = till
        .quote("lunch-1", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    assert_eq!(again, first);
    // Two at once with a new key: one quote, both answered with it.
    let mut other_till = switch.terminal().await;
    let (a, b) = tokio::join!(
        till.quote("lunch-race", "900", "JPY", "wechatpay", "CNY"),
        other_till.quote("lunch-race", "900", "JPY", "wechatpay", "CNY"),
    );
    assert_eq!(a.unwrap(), b.unwrap());
    // A new key is a new quote.
    let second = till
        .quote("lunch-2", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    assert_ne!(second.quote_id, first.quote_id);

    // The key with anything else priced differently is refused, before any rate is looked
    // for (HKD has none), and stores nothing.
    for (value, network, wallet) in [
        ("1300", "wechatpay", "CNY"),
        ("1200", "alipayplus", "CNY"),
        ("1200", "wechatpay", "HKD"),
    ] {
        let status = till
            .quote("lunch-1", value, "JPY", network, wallet)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "IDEMPOTENCY_CONFLICT");
        assert_eq!(info.domain, "kakehashi.v1");
        assert_eq!(
            info.metadata.get("field").map(String::as_str),
            Some("idempotency_key")
        );
    }

    // Durable: after a restart the key still answers the first quote.
    switch.crash().await;
    switch.restart().await;
    let mut till = switch.terminal().await;
    let after = till
        .quote("lunch-1", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    assert_eq!(after, first);

    // Keys are the merchant's own: another merchant's same key is its own quote.
    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;
    let theirs = osaka
        .quote("lunch-1", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    assert_ne!(theirs.quote_id, first.quote_id);

    // The key is required and has Pay's shape.
    let long = "k".repeat(65);
    for key in ["", "has space", long.as_str()] {
        let status = till
            .quote(key, "1200", "JPY", "wechatpay", "CNY")
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), reason(&status).as_str()),
            (Code::InvalidArgument, "IDEMPOTENCY_KEY_FORMAT"),
            "{key:?}"
        );
        let fields: Vec<String> = status
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["idempotency_key"]);
    }
}

#[tokio::test]
async fn a_quote_pay_cannot_use_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let switch = switch(&dir).await;
    let sim = wechat(&switch);
    sim.add_wallet(&yuan_wallet("wang")).unwrap();
    let mut till = switch.terminal().await;
    let quote = till
        .quote("qk-3", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    let code = sim.issue_code("wang").unwrap();

    // Malformed and unknown ids name no quote: INVALID_ARGUMENT, field quote_id.
    for (order, id) in [
        ("bad-1", "q_NOTHEX"),
        ("bad-2", "q_0123456789abcdef0123456789abcdef"),
    ] {
        let status = till
            .pay_request(pay(order, "1200", &code, id))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(reason(&status), "QUOTE_UNKNOWN");
        let fields: Vec<String> = status
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["quote_id"]);
    }

    // Another merchant's quote is as unknown as one never issued.
    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;
    let theirs = osaka
        .quote("qk-4", "1200", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    let status = till
        .pay_request(pay("bad-3", "1200", &code, &theirs.quote_id))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::InvalidArgument, "QUOTE_UNKNOWN")
    );

    // A quote for another amount, or another network, does not price this payment.
    let status = till
        .pay_request(pay("bad-4", "1300", &code, &quote.quote_id))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::FailedPrecondition, "QUOTE_MISMATCH"),
        "{status:?}"
    );
    let alipay = till
        .quote("qk-5", "1200", "JPY", "alipayplus", "CNY")
        .await
        .unwrap();
    let status = till
        .pay_request(pay("bad-5", "1200", &code, &alipay.quote_id))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::FailedPrecondition, "QUOTE_MISMATCH"),
        "{status:?}"
    );

    // An expired quote (stored as the switch would have, an hour ago).
    let store = switch.store().await;
    let mut old = kakehashi::fx::sql::merchant_quote(
        store.pool(),
        support::switch::MERCHANT,
        &quote.quote_id,
    )
    .await
    .unwrap()
    .unwrap();
    old.quote_id = "q_00000000000000000000000000000001".into();
    old.created_at_ms -= 3_600_000;
    old.expires_at_ms = old.created_at_ms + 60_000;
    kakehashi::fx::sql::insert_merchant_quote(store.pool(), support::switch::MERCHANT, &old)
        .await
        .unwrap();
    let status = till
        .pay_request(pay("bad-6", "1200", &code, &old.quote_id))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::FailedPrecondition, "QUOTE_EXPIRED"),
        "{status:?}"
    );
    // None of the refused requests stored a payment.
    for order in ["bad-1", "bad-2", "bad-3", "bad-4", "bad-5", "bad-6"] {
        let status = till.get(order).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{order}");
    }

    // Quote itself: no rate for the pair, an unknown wallet currency, an unknown network.
    let status = till
        .quote("qk-6", "1200", "JPY", "wechatpay", "KRW")
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::FailedPrecondition, "RATE_UNAVAILABLE")
    );
    let status = till
        .quote("qk-7", "1200", "JPY", "wechatpay", "XYZ")
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::InvalidArgument, "CURRENCY_UNKNOWN")
    );
    let status = till
        .quote("qk-8", "1200.5", "JPY", "nope", "CNY")
        .await
        .unwrap_err();
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        ["amount.value"],
        "the network is checked after the amount parses"
    );
    let status = till
        .quote("qk-9", "1200", "JPY", "nope", "CNY")
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::InvalidArgument, "NETWORK_UNKNOWN")
    );

    // The quoted payment still goes through with its own, valid quote.
    let paid = till
        .pay_request(pay("ok-1", "1200", &code, &quote.quote_id))
        .await
        .unwrap();
    assert_ne!(paid.state, PaymentState::Declined as i32, "{paid:?}");
}

#[tokio::test]
async fn a_merchant_presented_qr_keeps_its_quote_and_refuses_another_networks() {
    let dir = tempfile::tempdir().unwrap();
    let switch = switch(&dir).await;
    let mut till = switch.terminal().await;
    let qr = |order: &str, quote_id: &str| pb::CreateMerchantQrRequest {
        merchant_order_id: order.into(),
        amount: Some(money("1500", "JPY")),
        network: "paypay".into(),
        description: String::new(),
        quote_id: quote_id.into(),
        switch_code: false,
    };
    // No markup is configured for PayPay: the market rate, 1500 × 0.0465 = 69.75.
    let quote = till
        .quote("qk-10", "1500", "JPY", "paypay", "CNY")
        .await
        .unwrap();
    assert_eq!(quote.wallet_amount, Some(money("69.75", "CNY")));
    let shown = till
        .create_qr_request(qr("mpm-1", &quote.quote_id))
        .await
        .unwrap();
    assert_eq!(
        shown.state,
        PaymentState::AwaitingCustomer as i32,
        "{shown:?}"
    );
    assert_eq!(shown.quote.as_ref(), Some(&quote));
    assert_eq!(till.get("mpm-1").await.unwrap().quote, Some(quote));

    let wechat = till
        .quote("qk-11", "1500", "JPY", "wechatpay", "CNY")
        .await
        .unwrap();
    let status = till
        .create_qr_request(qr("mpm-2", &wechat.quote_id))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), reason(&status).as_str()),
        (Code::FailedPrecondition, "QUOTE_MISMATCH")
    );
}
