//! A day of mixed traffic, settled: 240 payments on LINE Pay, WeChat Pay (yuan and Hong Kong
//! dollar wallets), Alipay+ (won wallets) and PayPay (merchant-presented QRs) for two
//! merchants, with refunds and reversals, made through the switch against the simulators;
//! the operator closes the day over gRPC. Then: every wallet holds exactly what the switch
//! says it was charged; every batch line is gross − refunds − reversals − fee − tax, and
//! equals the test's own recomputation to the yen (fee rates per network and merchant,
//! taxable or not, Alipay+ converted to USD); the ledger balances in every currency and each
//! account holds what the batches say.
use std::collections::BTreeMap;
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi::settlement::BusinessDate;
use kakehashi_adapter_core::Clock;
use kakehashi_adapter_core::sim_control::{Amount, NewWallet, SimulatorControl};
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::settlement_service_client::SettlementServiceClient;

mod support;
use support::switch::{OTHER_TILL_KEY, Options, TestSwitch, spawn_with};

const OPERATOR_KEY: &str = "mixed-day-operator-key-1";
const PAYMENTS: usize = 240;

const RATES: &str = r#"
[[rates]]
pair = "JPY/USD"
rate = "0.0066"
valid_from = "2020-01-01T00:00:00Z"
valid_to = "2100-01-01T00:00:00Z"
"#;

const SETTLEMENT: &str = r#"
[[operators]]
id = "finance"
api_key = "mixed-day-operator-key-1"

[settlement]
registration_number = "T1180301018771"
issuer_name = "カケハシペイメンツ株式会社"
tax_rate = "0.10"
tax_rounding = "down"

[settlement.networks.linepay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0245", from = "2020-01-01" }, { merchant = "osaka-sushi", rate = "0.0198", from = "2020-01-01" }]

[settlement.networks.wechatpay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0300", from = "2020-01-01" }]

[settlement.networks.alipayplus]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "USD"
fee_taxable = false
fee_rounding = "down"
fees = [{ rate = "0.0325", from = "2020-01-01" }]

[settlement.networks.paypay]
cutoff = "24:00"
currency = "JPY"
settlement_currency = "JPY"
fee_taxable = true
fee_rounding = "down"
fees = [{ rate = "0.0198", from = "2020-01-01" }]

[settlement.remitter]
requester_code = "0012345678"
name_kana = "カ)カケハシペイメンツ"
bank_code = "0001"
bank_name_kana = "ミズホ"
branch_code = "001"
branch_name_kana = "トウキヨウ"
account_type = "ordinary"
account_number = "1234567"

[settlement.merchants.shinjuku-ramen]
name = "新宿らーめん株式会社"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "0005", bank_name_kana = "ミツビシユ－エフジエイ", branch_code = "001", branch_name_kana = "ホンテン", account_type = "ordinary", account_number = "12345", holder_kana = "シンジユクラーメン(カ" }

[settlement.merchants.osaka-sushi]
name = "大阪寿司株式会社"
payout = { cycle = "month-end", business_days_after = 2 }
bank = { bank_code = "0005", bank_name_kana = "ミツビシユ－エフジエイ", branch_code = "001", branch_name_kana = "ホンテン", account_type = "ordinary", account_number = "54321", holder_kana = "オオサカスシ(カ" }
"#;

/// Fee rate in basis points of a hundredth (per 10,000) and whether tax applies, per
/// network and merchant: the config above, restated for the recomputation.
fn fee_rule(network: &str, merchant: &str) -> (i64, bool) {
    match (network, merchant) {
        ("linepay", "osaka-sushi") => (198, true),
        ("linepay", _) => (245, true),
        ("wechatpay", _) => (300, true),
        ("alipayplus", _) => (325, false),
        _ => (198, true),
    }
}

async fn switch(dir: &tempfile::TempDir) -> TestSwitch {
    let rates = dir.path().join("rates.toml");
    std::fs::write(&rates, RATES).unwrap();
    let mut options = Options {
        networks: vec!["linepay", "wechatpay", "alipayplus", "paypay"],
        extra: format!("[fx]\nrates_file = \"{}\"\n{SETTLEMENT}", rates.display()),
        ..Options::default()
    };
    options.limits.push_str("refund_resend_interval_ms = 200\n");
    for network in ["wechatpay", "alipayplus", "paypay"] {
        options.network_extra.insert(
            network,
            "http = { request_timeout_ms = 2000 }\ntiming = { query_first_delay_ms = 100, query_interval_ms = 100 }".into(),
        );
    }
    spawn_with(options).await
}

fn control<S: SimulatorControl>(switch: &TestSwitch, network: &str) -> Arc<S> {
    switch.sim(network).control::<S>().unwrap()
}

fn add_wallet(switch: &TestSwitch, network: &str, id: &str, balance: Amount) {
    let wallet = NewWallet::new(id, balance);
    match network {
        "linepay" => control::<kakehashi_linepay::SimControl>(switch, network)
            .add_wallet(&wallet)
            .map(|_| ()),
        "wechatpay" => control::<kakehashi_wechatpay::SimControl>(switch, network)
            .add_wallet(&wallet)
            .map(|_| ()),
        "alipayplus" => control::<kakehashi_alipayplus::SimControl>(switch, network)
            .add_wallet(&wallet)
            .map(|_| ()),
        _ => control::<kakehashi_paypay::SimControl>(switch, network)
            .add_wallet(&wallet)
            .map(|_| ()),
    }
    .unwrap();
}

fn code(switch: &TestSwitch, network: &str, wallet: &str) -> String {
    match network {
        "linepay" => control::<kakehashi_linepay::SimControl>(switch, network).issue_code(wallet),
        "wechatpay" => {
            control::<kakehashi_wechatpay::SimControl>(switch, network).issue_code(wallet)
        }
        _ => control::<kakehashi_alipayplus::SimControl>(switch, network).issue_code(wallet),
    }
    .unwrap()
}

fn balance(switch: &TestSwitch, network: &str, wallet: &str) -> i64 {
    let w = match network {
        "linepay" => control::<kakehashi_linepay::SimControl>(switch, network).wallet(wallet),
        "wechatpay" => control::<kakehashi_wechatpay::SimControl>(switch, network).wallet(wallet),
        "alipayplus" => control::<kakehashi_alipayplus::SimControl>(switch, network).wallet(wallet),
        _ => control::<kakehashi_paypay::SimControl>(switch, network).wallet(wallet),
    };
    w.unwrap().balance.minor()
}

/// What happens to one payment after it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Keep,
    Refund,
    Reverse,
}

struct Made {
    network: &'static str,
    merchant: &'static str,
    wallet: String,
    wallet_start_minor: i64,
    wallet_currency: &'static str,
    yen: i64,
    then: Then,
    refund_yen: i64,
    /// What the wallet was charged, as the switch recorded it (minor units).
    wallet_charged_minor: i64,
}

fn state(p: &pb::Payment) -> pb::PaymentState {
    pb::PaymentState::try_from(p.state).unwrap()
}

fn op<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("x-api-key", OPERATOR_KEY.parse().unwrap());
    r
}

/// Polls the payment until `done` holds (bounded: 200 reads).
async fn settle_on(
    till: &mut kakehashi::terminal::Terminal,
    order: &str,
    done: impl Fn(&pb::Payment) -> bool,
) -> pb::Payment {
    for _ in 0..200 {
        let p = till.get(order).await.unwrap();
        if done(&p) {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{order} did not settle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_mixed_traffic_settles_to_the_yen() {
    let dir = tempfile::tempdir().unwrap();
    let switch = switch(&dir).await;
    let mut shinjuku = switch.terminal().await;
    let mut osaka = switch.terminal_with_key(OTHER_TILL_KEY).await;
    let networks = ["linepay", "wechatpay", "alipayplus", "paypay"];
    let mut made = Vec::with_capacity(PAYMENTS);
    // A fixed walk through amounts and outcomes: deterministic, no seed to replay.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..PAYMENTS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let network = networks[i % 4];
        // Osaka Sushi takes LINE Pay only (its other networks need ids the sims do not hold).
        let merchant = if network == "linepay" && i % 8 == 0 {
            "osaka-sushi"
        } else {
            "shinjuku-ramen"
        };
        let yen = 100 + (x % 19_900) as i64;
        let then = match (network, i % 9) {
            // PayPay refunds complete asynchronously; keep its day simple.
            ("paypay", _) => Then::Keep,
            // WeChat Pay takes no reverse in the first 15 s of an order (the simulator
            // plays that rule); its customers get refunds instead.
            ("wechatpay", 3 | 5) => Then::Refund,
            (_, 3) => Then::Refund,
            (_, 5) => Then::Reverse,
            _ => Then::Keep,
        };
        let wallet_balance = match (network, i % 3) {
            ("wechatpay", 0) => Amount::from_minor(500_000, Currency::HKD).unwrap(),
            ("wechatpay", _) => Amount::from_minor(500_000, Currency::CNY).unwrap(),
            ("alipayplus", _) => Amount::from_minor(5_000_000, Currency::KRW).unwrap(),
            _ => Amount::from_minor(100_000, Currency::JPY).unwrap(),
        };
        let wallet = format!("w-{i}");
        add_wallet(&switch, network, &wallet, wallet_balance);
        let order = format!("o-{i}");
        let till = if merchant == "osaka-sushi" {
            &mut osaka
        } else {
            &mut shinjuku
        };
        let paid = if network == "paypay" {
            let shown = till
                .create_qr(&order, &yen.to_string(), "JPY", "paypay")
                .await
                .unwrap();
            control::<kakehashi_paypay::SimControl>(&switch, "paypay")
                .pay_qr(&shown.qr_payload, &wallet)
                .unwrap();
            settle_on(till, &order, |p| state(p) == pb::PaymentState::Succeeded).await
        } else {
            let code = code(&switch, network, &wallet);
            let asked = till
                .pay(&order, &yen.to_string(), "JPY", &code)
                .await
                .unwrap();
            if state(&asked) == pb::PaymentState::Succeeded {
                asked
            } else {
                settle_on(till, &order, |p| state(p) == pb::PaymentState::Succeeded).await
            }
        };
        let wallet_charged_minor = match &paid.wallet_amount {
            Some(w) => {
                let m = w.amount.as_ref().unwrap();
                kakehashi_adapter_core::Money::parse(&m.value, &m.currency)
                    .unwrap()
                    .minor()
            }
            None => yen,
        };
        let mut refund_yen = 0;
        match then {
            Then::Keep => {}
            Then::Refund => {
                refund_yen = yen / 3;
                till.refund(
                    &order,
                    &format!("{order}-r"),
                    Some((&refund_yen.to_string(), "JPY")),
                )
                .await
                .unwrap();
            }
            Then::Reverse => {
                till.cancel(&order).await.unwrap();
            }
        }
        made.push(Made {
            network,
            merchant,
            wallet,
            wallet_start_minor: wallet_balance.minor(),
            wallet_currency: wallet_balance.currency_code(),
            yen,
            then,
            refund_yen,
            wallet_charged_minor,
        });
    }
    // Every refund and reversal final before the day is closed.
    for (i, m) in made.iter().enumerate() {
        let till = if m.merchant == "osaka-sushi" {
            &mut osaka
        } else {
            &mut shinjuku
        };
        let order = format!("o-{i}");
        match m.then {
            Then::Keep => {}
            Then::Refund => {
                settle_on(till, &order, |p| {
                    p.refunds
                        .iter()
                        .all(|r| r.state == pb::RefundState::Succeeded as i32)
                        && state(p) == pb::PaymentState::PartiallyRefunded
                })
                .await;
            }
            Then::Reverse => {
                settle_on(till, &order, |p| state(p) == pb::PaymentState::Reversed).await;
            }
        }
    }

    // The wallets: charged exactly what the switch recorded, or nothing after a reversal.
    for m in made.iter().filter(|m| m.then != Then::Refund) {
        let expected = match m.then {
            Then::Reverse => m.wallet_start_minor,
            _ => m.wallet_start_minor - m.wallet_charged_minor,
        };
        assert_eq!(
            balance(&switch, m.network, &m.wallet),
            expected,
            "{}",
            m.wallet
        );
    }
    let currencies: std::collections::BTreeSet<&str> =
        made.iter().map(|m| m.wallet_currency).collect();
    assert_eq!(
        currencies.into_iter().collect::<Vec<_>>(),
        ["CNY", "HKD", "JPY", "KRW"]
    );

    // Close the day over gRPC.
    let today = BusinessDate::of_instant(kakehashi_adapter_core::SystemClock.now_ms())
        .unwrap()
        .to_string();
    let mut settlement = SettlementServiceClient::connect(switch.url())
        .await
        .unwrap();
    let closed = settlement
        .close_business_day(op(pb::CloseBusinessDayRequest {
            business_date: today.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.batches.len(), 4);

    // The test's own books, from what it made.
    #[derive(Default, Debug, PartialEq, Eq)]
    struct Figures {
        gross: i64,
        refunds: i64,
        reversals: i64,
        fee: i64,
        tax: i64,
        net: i64,
        payments: u64,
    }
    let mut ours: BTreeMap<(&str, &str), Figures> = BTreeMap::new();
    for m in &made {
        let f = ours.entry((m.network, m.merchant)).or_default();
        f.gross += m.yen;
        f.payments += 1;
        match m.then {
            Then::Refund => f.refunds += m.refund_yen,
            Then::Reverse => f.reversals += m.yen,
            Then::Keep => {}
        }
    }
    for ((network, merchant), f) in &mut ours {
        let (rate, taxable) = fee_rule(network, merchant);
        let base = (f.gross - f.refunds - f.reversals).max(0);
        f.fee = base * rate / 10_000;
        f.tax = if taxable { f.fee / 10 } else { 0 };
        f.net = f.gross - f.refunds - f.reversals - f.fee - f.tax;
    }
    let yen = |m: &Option<pb::Money>| -> i64 {
        let m = m.as_ref().unwrap();
        assert_eq!(m.currency, "JPY");
        m.value.parse().unwrap()
    };
    let mut receivable: BTreeMap<String, i64> = BTreeMap::new();
    for closed in &closed.batches {
        let batch = closed.batch.as_ref().unwrap();
        for line in &batch.lines {
            let theirs = Figures {
                gross: yen(&line.gross),
                refunds: yen(&line.refunds),
                reversals: yen(&line.reversals),
                fee: yen(&line.fee),
                tax: yen(&line.tax),
                net: yen(&line.net),
                payments: line.payment_count,
            };
            assert_eq!(
                theirs.net,
                theirs.gross - theirs.refunds - theirs.reversals - theirs.fee - theirs.tax,
                "{} {}",
                batch.network,
                line.merchant_id
            );
            let key = (batch.network.as_str(), line.merchant_id.as_str());
            assert_eq!(Some(&theirs), ours.get(&key), "{key:?}");
        }
        let totals = batch.totals.as_ref().unwrap();
        let lines_net: i64 = batch.lines.iter().map(|l| yen(&l.net)).sum();
        assert_eq!(yen(&totals.net), lines_net);
        receivable.insert(batch.network.clone(), yen(&totals.receivable));
        if batch.network == "alipayplus" {
            // JPY/USD 0.0066, half-up to the cent.
            let conversion = batch.conversion.as_ref().unwrap();
            let cents = (yen(&totals.receivable) * 66 + 50) / 100;
            assert_eq!(
                conversion.receivable.as_ref().unwrap().value,
                kakehashi::fx::convert::minor_to_string(cents, Currency::USD)
            );
        } else {
            assert!(batch.conversion.is_none());
        }
    }
    assert_eq!(
        ours.len(),
        closed
            .batches
            .iter()
            .map(|b| b.batch.as_ref().unwrap().lines.len())
            .sum::<usize>()
    );

    // The ledger: balanced in every currency, each account what the batches say.
    let balances = settlement
        .get_balances(op(pb::GetBalancesRequest {
            as_of_ms: i64::MAX,
            account_prefix: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let mut per_currency: BTreeMap<String, i64> = BTreeMap::new();
    let mut net: BTreeMap<String, i64> = BTreeMap::new();
    for b in &balances.balances {
        let value: i64 = kakehashi_adapter_core::Money::parse(
            b.net.as_ref().unwrap().value.trim_start_matches('-'),
            &b.currency,
        )
        .map(|m| m.minor())
        .unwrap_or(0)
            * if b.net.as_ref().unwrap().value.starts_with('-') {
                -1
            } else {
                1
            };
        *per_currency.entry(b.currency.clone()).or_default() += value;
        net.insert(format!("{} {}", b.account, b.currency), value);
    }
    assert!(per_currency.values().all(|v| *v == 0), "{per_currency:?}");
    for merchant in ["shinjuku-ramen", "osaka-sushi"] {
        let owed: i64 = ours
            .iter()
            .filter(|((_, m), _)| *m == merchant)
            .map(|(_, f)| f.net)
            .sum();
        assert_eq!(
            net.get(&format!("merchant_payable:{merchant} JPY")),
            Some(&-owed),
            "{net:?}"
        );
    }
    for (network, yen) in &receivable {
        assert_eq!(
            net.get(&format!("network_receivable:{network} JPY")),
            Some(yen),
            "{net:?}"
        );
    }
    let fees: i64 = ours.values().map(|f| f.fee).sum();
    let taxes: i64 = ours.values().map(|f| f.tax).sum();
    let revenue: i64 = net
        .iter()
        .filter(|(k, _)| k.starts_with("fee_revenue"))
        .map(|(_, v)| *v)
        .sum();
    let tax_payable: i64 = net
        .iter()
        .filter(|(k, _)| k.starts_with("tax_payable"))
        .map(|(_, v)| *v)
        .sum();
    assert_eq!((revenue, tax_payable), (-fees, -taxes), "{net:?}");
}
