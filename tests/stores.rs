//! The terminal's configured store reaches every network that has a store field: the till
//! in "shinjuku-east" pays, and each simulator's wiretap shows the store in that network's
//! own field; a terminal with no store sends none.
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_adapter_core::wiretap::Wiretap;
use kakehashi_proto::v1::PaymentState;

mod support;
use support::switch::{OTHER_TILL_KEY, Options, TestSwitch, spawn_with};

const STORE: &str = "shinjuku-east";

async fn switch() -> TestSwitch {
    spawn_with(Options {
        networks: vec!["linepay", "alipayplus", "paypay"],
        ..Options::default()
    })
    .await
}

/// Pays `code` from till-1 (in STORE) and from the Osaka till (no store); returns the pay
/// bodies the network received for each.
async fn pay_from_both_tills(
    switch: &TestSwitch,
    codes: [String; 2],
    wiretap: &Wiretap,
    path: &str,
) -> (String, String) {
    let mut till = switch.terminal().await;
    let paid = till
        .pay(&kakehashi::domain::new_id("ord"), "1000", "JPY", &codes[0])
        .await
        .unwrap();
    assert_eq!(paid.state, PaymentState::Succeeded as i32, "{paid:?}");
    let with_store = String::from_utf8(wiretap.last(path).expect("pay seen").body).unwrap();
    let mut other = switch.terminal_with_key(OTHER_TILL_KEY).await;
    let paid = other
        .pay(&kakehashi::domain::new_id("ord"), "1000", "JPY", &codes[1])
        .await
        .unwrap();
    assert_eq!(paid.state, PaymentState::Succeeded as i32, "{paid:?}");
    let without = String::from_utf8(wiretap.last(path).expect("pay seen").body).unwrap();
    (with_store, without)
}

fn yen(id: &str) -> NewWallet {
    NewWallet::new(id, Amount::from_minor(100_000, Currency::JPY).unwrap())
}

fn field(body: &str, pointer: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json.pointer(pointer)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

#[tokio::test]
async fn each_network_hears_the_terminals_store() {
    let switch = switch().await;

    let line: Arc<kakehashi_linepay::SimControl> = switch.sim("linepay").control().unwrap();
    line.add_wallet(&yen("a")).unwrap();
    line.add_wallet(&yen("b")).unwrap();
    let codes = [line.issue_code("a").unwrap(), line.issue_code("b").unwrap()];
    let (with, without) = pay_from_both_tills(
        &switch,
        codes,
        &line.wiretap,
        kakehashi_linepay::wire::PAY_PATH,
    )
    .await;
    assert_eq!(
        field(&with, "/options/extra/branchId").as_deref(),
        Some(STORE)
    );
    assert_eq!(field(&without, "/options/extra/branchId"), None);

    let alipay: Arc<kakehashi_alipayplus::SimControl> = switch.sim("alipayplus").control().unwrap();
    let cny = |id: &str| NewWallet::new(id, Amount::from_minor(1_000_000, Currency::CNY).unwrap());
    alipay.add_wallet(&cny("c")).unwrap();
    alipay.add_wallet(&cny("d")).unwrap();
    let codes = [
        alipay.issue_code("c").unwrap(),
        alipay.issue_code("d").unwrap(),
    ];
    let (with, without) = pay_from_both_tills(
        &switch,
        codes,
        &alipay.wiretap,
        kakehashi_alipayplus::wire::PAY_PATH,
    )
    .await;
    assert_eq!(
        field(&with, "/order/merchant/store/referenceStoreId").as_deref(),
        Some(STORE)
    );
    assert_ne!(
        field(&without, "/order/merchant/store/referenceStoreId").as_deref(),
        Some(STORE)
    );

    let paypay: Arc<kakehashi_paypay::SimControl> = switch.sim("paypay").control().unwrap();
    paypay.add_wallet(&yen("e")).unwrap();
    paypay.add_wallet(&yen("f")).unwrap();
    let codes = [
        paypay.issue_code("e").unwrap(),
        paypay.issue_code("f").unwrap(),
    ];
    let (with, without) = pay_from_both_tills(
        &switch,
        codes,
        &paypay.wiretap,
        kakehashi_paypay::wire::EXT_SCAN_PATH,
    )
    .await;
    assert_eq!(field(&with, "/storeId").as_deref(), Some(STORE));
    assert_eq!(field(&without, "/storeId"), None);
}
