//! Every linked simulator, driven from outside as an integrator would: the table `kakehashi
//! sim` prints pastes into a switch config and takes a payment, and the `/_sim/` control
//! API (docs/simulators.md) speaks one language, over HTTP, at every network.
use std::sync::Arc;

use iso_currency::Currency;
use kakehashi::networks::{self, Networks, simulator_config_toml};
use kakehashi::terminal::Terminal;
use kakehashi::{Config, Switch};
use kakehashi_adapter_core::sim_control::{Amount, PaymentStatus, RefundStatus, SimInfo, SimState};
use kakehashi_adapter_core::{
    MerchantRef, Money, PayOutcome, PayRequest, PaymentCode, RefundOutcome, RefundRequest,
    RunningSimulator, SimulatorOptions, SystemClock, WalletNetwork,
};
use kakehashi_proto::v1::PaymentState;
use reqwest::Method;
use serde_json::{Value, json};

mod support;
use support::switch::{Options, spawn_with};

const TILL_KEY: &str = "pasted-till-key-0001";

/// A simulator of every linked network, each with an HTTP client for its controls.
async fn every_simulator() -> Vec<(String, RunningSimulator, Control)> {
    let mut sims = Vec::new();
    for (seed, factory) in networks::factories().into_iter().enumerate() {
        let sim = factory
            .spawn_simulator(SimulatorOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                seed: seed as u64 + 11,
                clock: Arc::new(SystemClock),
            })
            .await
            .unwrap();
        let control = Control::new(&sim);
        sims.push((factory.kind().to_owned(), sim, control));
    }
    assert!(sims.len() >= 4, "every network is linked");
    sims
}

/// The `/_sim/` API of one simulator over HTTP (HTTPS with its own CA where it has one).
struct Control {
    base: String,
    http: reqwest::Client,
}

impl Control {
    fn new(sim: &RunningSimulator) -> Self {
        let mut builder = reqwest::Client::builder();
        if let Some(ca) = sim.adapter_config.get("ca_pem").and_then(|v| v.as_str()) {
            let ca = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
            builder = builder.tls_certs_only([ca]);
        }
        Self {
            base: sim.base_url.clone(),
            http: builder.build().unwrap(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/_sim{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status().as_u16();
        let bytes = reply.bytes().await.unwrap();
        let body = match bytes.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {bytes:?}")),
        };
        if status >= 400 {
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{path}: a refusal says why: {body}"
            );
        }
        (status, body)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    async fn info(&self) -> SimInfo {
        let (status, body) = self.get("").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn state(&self) -> SimState {
        let (status, body) = self.get("/state").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// A wallet of the simulator's first kind holding `value` of its currency.
    async fn wallet(&self, id: &str, value: &str) -> Amount {
        let info = self.info().await;
        let offer = &info.wallets[0];
        let mut body = json!({"id": id, "balance": {"value": value, "currency": offer.currency}});
        if let Some(kind) = &offer.kind {
            body["kind"] = json!(kind);
        }
        let (status, created) = self.post("/wallets", body).await;
        assert_eq!(status, 201, "{}: {created}", info.network);
        serde_json::from_value(created["balance"].clone()).unwrap()
    }

    async fn code(&self, wallet: &str) -> String {
        let (status, body) = self
            .post(&format!("/wallets/{wallet}/codes"), json!({}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["code"].as_str().expect("a code").to_owned()
    }
}

fn merchant(sim: &RunningSimulator) -> MerchantRef {
    MerchantRef {
        merchant_id: "pasted".into(),
        network_merchant_id: sim.merchant_network_id.clone(),
        name: "Pasted Ramen".into(),
        category_code: "5812".into(),
        store_id: "east".into(),
        terminal_id: "till".into(),
    }
}

fn pay_request(sim: &RunningSimulator, id: &str, code: &str) -> PayRequest {
    PayRequest {
        payment_id: id.into(),
        merchant: merchant(sim),
        amount: Money::parse("1200", "JPY").unwrap(),
        code: PaymentCode::parse(code).unwrap(),
        description: "Ramen".into(),
        created_at_ms: kakehashi_adapter_core::Clock::now_ms(&SystemClock),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_simulator_prints_a_table_that_pastes_and_runs() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let sims = every_simulator().await;
    let kinds: Vec<String> = sims
        .iter()
        .map(|(kind, ..)| format!("\"{kind}\""))
        .collect();
    let merchant_ids: String = sims
        .iter()
        .filter_map(|(kind, sim, _)| {
            Some(format!(
                "{kind} = \"{}\"\n",
                sim.merchant_network_id.as_ref()?
            ))
        })
        .collect();
    let mut text = format!(
        "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://{}\"\n\n[[merchants]]\nid = \"pasted\"\n\
         name = \"Pasted Ramen\"\nnetworks = [{}]\n[merchants.network_ids]\n{merchant_ids}\n\
         [[terminals]]\nid = \"till\"\nmerchant_id = \"pasted\"\nstore_id = \"east\"\n\
         api_key = \"{TILL_KEY}\"\n",
        dir.path().join("pasted.db").display(),
        kinds.join(", ")
    );
    for (kind, sim, _) in &sims {
        let printed = simulator_config_toml(kind, sim).unwrap();
        assert!(printed.contains(&format!("[networks.{kind}]")), "{printed}");
        text.push('\n');
        text.push_str(&printed);
    }

    let config = Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let built = Networks::build(&config.network_settings().unwrap(), Arc::new(SystemClock))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (kind, ..) in &sims {
        assert!(
            built.get(kind).is_some(),
            "{kind} was built from the pasted table"
        );
    }

    let switch = Switch::build(config).await.unwrap();
    let url = format!("http://{}", switch.local_addr());
    tokio::spawn(switch.serve(std::future::pending()));
    let mut till = Terminal::connect(&url, TILL_KEY).await.unwrap();
    for (kind, _, control) in &sims {
        let start = control.wallet("regular", "100000").await;
        let code = control.code("regular").await;
        let paid = till
            .pay(&format!("pasted-{kind}"), "1200", "JPY", &code)
            .await
            .unwrap();
        assert_eq!(
            paid.state,
            PaymentState::Succeeded as i32,
            "{kind}: {paid:?}"
        );
        assert_eq!(paid.network, *kind);

        let books = control.state().await;
        let payment = books.payment(&paid.payment_id).expect("the network has it");
        assert_eq!(payment.status, PaymentStatus::Succeeded, "{kind}");
        assert_eq!(payment.amount, Amount::parse("1200", "JPY").unwrap());
        assert_eq!(payment.wallet.as_deref(), Some("regular"));
        let charged = payment.wallet_amount.expect("the wallet was charged");
        let balance = books.wallet("regular").unwrap().balance;
        assert_eq!(balance.minor(), start.minor() - charged.minor(), "{kind}");
    }
}

// Multi-threaded: the reference gRPC partner's adapter fetches its profile at build, from a
// simulator served by this test's runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_simulator_speaks_one_control_language() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    for (kind, sim, control) in every_simulator().await {
        let info = control.info().await;
        assert_eq!(info.network, kind);
        assert_eq!(
            control.get("/").await.0,
            200,
            "{kind}: /_sim/ as well as /_sim"
        );
        assert!(!info.fault_operations.is_empty() && info.code_valid_ms > 0);
        let currency = info.wallets[0].currency.clone();
        let exponent = Currency::from_code(&currency).unwrap().exponent().unwrap();

        // Money is an exact decimal string in the wallet's currency, nothing else.
        let start = control.wallet("hanako", "5000").await;
        assert_eq!(start, Amount::parse("5000", &currency).unwrap(), "{kind}");
        let one_decimal_too_many = format!("5000.{}", "0".repeat(usize::from(exponent) + 1));
        for bad in [
            json!("5000"),
            json!(5000),
            json!({"value": 5000, "currency": currency}),
            json!({"value": 5000.5, "currency": currency}),
            json!({"value": one_decimal_too_many, "currency": currency}),
            json!({"value": " 5000", "currency": currency}),
            json!({"value": "05000", "currency": currency}),
            json!({"value": "-5", "currency": currency}),
            json!({"value": "5000", "currency": "XYZ"}),
            json!({"value": "5000"}),
        ] {
            let (status, body) = control
                .post("/wallets", json!({"id": "bad", "balance": bad}))
                .await;
            assert_eq!(status, 400, "{kind}: {bad} answered {body}");
        }
        let (status, _) = control.get("/wallets/bad").await;
        assert_eq!(status, 404, "{kind}: no refused wallet was made");
        let (status, wallet) = control.get("/wallets/hanako").await;
        assert_eq!((status, &wallet["id"]), (200, &json!("hanako")));
        if !info.customer_confirms {
            let slow = json!({"id": "slow", "balance": {"value": "1", "currency": currency}, "confirm_ms": 1000});
            assert_eq!(control.post("/wallets", slow).await.0, 400, "{kind}");
        }

        // Codes, for a wallet that exists.
        let code = control.code("hanako").await;
        assert!(code.chars().all(|c| c.is_ascii_digit()), "{kind}: {code}");
        assert_eq!(
            control.post("/wallets/nobody/codes", json!({})).await.0,
            404
        );

        // A merchant QR where the network has one; a clear refusal where it has none.
        let (status, _) = control
            .post("/qr/pay", json!({"qr": "04-nope", "wallet": "hanako"}))
            .await;
        assert_eq!(status, if info.merchant_qr { 404 } else { 501 }, "{kind}");

        // Faults: malformed rules are refused; a good one fails the next request, unprocessed.
        for bad in [
            json!({"operation": "no_such_operation", "fault": {"kind": "hang"}}),
            json!({"fault": {"kind": "http_status", "status": 200}}),
            json!({"fault": {"kind": "decline", "code": "a\"b"}}),
            json!({"fault": {"kind": "hang"}, "times": 0}),
            json!({"fault": {"kind": "teleport"}}),
        ] {
            assert_eq!(
                control.post("/faults", bad.clone()).await.0,
                400,
                "{kind}: {bad}"
            );
        }
        let named = json!({"operation": info.fault_operations[0], "fault": {"kind": "delay", "ms": 1}, "times": 1});
        assert_eq!(control.post("/faults", named).await.0, 204, "{kind}");
        assert_eq!(control.send(Method::DELETE, "/faults", None).await.0, 204);
        let outage = json!({"fault": {"kind": "http_status", "status": 503}, "times": 1});
        assert_eq!(control.post("/faults", outage).await.0, 204, "{kind}");

        let adapter: Arc<dyn WalletNetwork> = networks::factory(&kind)
            .unwrap()
            .build(&sim.adapter_config, Arc::new(SystemClock))
            .unwrap();
        let lost = adapter.pay(&pay_request(&sim, "Lost1", &code)).await;
        assert!(
            matches!(lost, PayOutcome::Unknown { .. }),
            "{kind}: {lost:?}"
        );
        let books = control.state().await;
        assert!(books.payments.is_empty(), "{kind}: the 503 moved nothing");
        assert_eq!(books.wallet("hanako").unwrap().balance, start);

        let code = control.code("hanako").await;
        let paid = adapter.pay(&pay_request(&sim, "Paid1", &code)).await;
        let PayOutcome::Succeeded(paid) = paid else {
            panic!("{kind}: {paid:?}")
        };
        let refund = RefundRequest {
            payment_id: "Paid1".into(),
            refund_id: "Back1".into(),
            merchant: merchant(&sim),
            payment_amount: Money::parse("1200", "JPY").unwrap(),
            amount: Money::parse("200", "JPY").unwrap(),
            network_txn_id: Some(paid.network_txn_id.clone()),
            reason: String::new(),
            known_network_refund_ids: Vec::new(),
        };
        let refunded = adapter.refund(&refund).await;
        assert!(
            matches!(
                refunded,
                RefundOutcome::Succeeded { .. } | RefundOutcome::Pending { .. }
            ),
            "{kind}: {refunded:?}"
        );
        let books = control.state().await;
        assert_eq!(books.network, kind);
        let payment = books.payment("Paid1").expect("the payment is in the books");
        assert_eq!(payment.status, PaymentStatus::Succeeded);
        assert_eq!(payment.amount.value_string(), "1200");
        assert_eq!(
            payment.network_id.as_deref(),
            Some(paid.network_txn_id.as_str())
        );
        assert_eq!(payment.refunded.value_string(), "200");
        let charged = payment.wallet_amount.unwrap();
        assert_eq!(charged.currency(), start.currency());
        let [back] = books.refunds.as_slice() else {
            panic!("{kind}: one refund, not {:?}", books.refunds)
        };
        assert_eq!(
            (back.payment.as_str(), back.amount.value_string()),
            ("Paid1", "200".into())
        );
        let returned = match back.status {
            RefundStatus::Succeeded => back.wallet_amount.unwrap().minor(),
            RefundStatus::Pending => 0,
        };
        let left = books.wallet("hanako").unwrap().balance;
        assert_eq!(
            left.minor(),
            start.minor() - charged.minor() + returned,
            "{kind}"
        );

        // Unknown controls and methods answer in JSON too.
        assert_eq!(control.get("/no-such-control").await.0, 404);
        assert_eq!(control.send(Method::PUT, "/state", None).await.0, 405);
        let huge =
            json!({"id": "x".repeat(20_000), "balance": {"value": "1", "currency": currency}});
        assert_eq!(control.post("/wallets", huge).await.0, 413);
        // Each network's extras are routed: an empty body is refused, not "no such control".
        for extra in &info.extras {
            let path = extra.trim_start_matches("POST /_sim");
            assert_eq!(
                control.post(path, json!({})).await.0,
                400,
                "{kind}: {extra}"
            );
        }
    }
}

#[tokio::test]
async fn a_paypay_qr_is_paid_by_its_payload_or_its_code_id() {
    let mut options = Options {
        networks: vec!["paypay"],
        ..Options::default()
    };
    options.network_extra.insert(
        "paypay",
        "timing = { query_first_delay_ms = 100, query_interval_ms = 100 }".into(),
    );
    let switch = spawn_with(options).await;
    let control = Control::new(switch.sim("paypay"));
    control.wallet("hanako", "5000").await;
    let mut till = switch.terminal().await;

    // What `kakehashi terminal qr` prints is the payload: the customer's phone reads that.
    let by_payload = till
        .create_qr("qr-payload", "1200", "JPY", "paypay")
        .await
        .unwrap();
    let pay = json!({"qr": by_payload.qr_payload, "wallet": "hanako"});
    assert_eq!(control.post("/qr/pay", pay.clone()).await.0, 204);
    assert_eq!(control.post("/qr/pay", pay).await.0, 409, "paid once");

    // Until it is paid, the payment's network reference is PayPay's codeId.
    let by_id = till
        .create_qr("qr-code-id", "800", "JPY", "paypay")
        .await
        .unwrap();
    assert!(
        by_id.network_txn_id.starts_with("04-"),
        "{}",
        by_id.network_txn_id
    );
    let pay = json!({"qr": by_id.network_txn_id, "wallet": "hanako"});
    assert_eq!(control.post("/qr/pay", pay).await.0, 204);

    let walked_away = till
        .create_qr("qr-left", "500", "JPY", "paypay")
        .await
        .unwrap();
    let leave = json!({"qr": walked_away.network_txn_id});
    assert_eq!(control.post("/qr/abandon", leave).await.0, 204);
    let pay = json!({"qr": walked_away.qr_payload, "wallet": "hanako"});
    assert_eq!(
        control.post("/qr/pay", pay).await.0,
        409,
        "the customer left"
    );
    // The switch's own payment id is not what a phone sees.
    let pay = json!({"qr": walked_away.payment_id, "wallet": "hanako"});
    assert_eq!(control.post("/qr/pay", pay).await.0, 404);

    for order in ["qr-payload", "qr-code-id"] {
        let last = till.watch(order, |_| {}).await.unwrap().unwrap();
        assert_eq!(last.state, PaymentState::Succeeded as i32, "{order}");
    }
    let books = control.state().await;
    assert_eq!(
        books.wallet("hanako").unwrap().balance.value_string(),
        "3000"
    );
    let left = books.payment(&walked_away.payment_id).unwrap();
    assert_eq!(left.status, PaymentStatus::Pending);
    assert_eq!(left.extras["abandoned"], json!(true));
}

#[tokio::test]
async fn wechat_pay_extras_take_exact_money_and_show_in_the_books() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sim = networks::factory("wechatpay")
        .unwrap()
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 3,
            clock: Arc::new(SystemClock),
        })
        .await
        .unwrap();
    let control = Control::new(&sim);

    let pool = json!({"pool": {"value": "50.00", "currency": "CNY"}});
    assert_eq!(control.post("/refund-pool", pool).await.0, 204);
    for bad in [
        json!({"pool": {"value": "50", "currency": "JPY"}}),
        json!({"pool": {"value": "50.001", "currency": "CNY"}}),
        json!({"fen": 5000}),
    ] {
        assert_eq!(
            control.post("/refund-pool", bad.clone()).await.0,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        control
            .post("/reverse-window", json!({"window": "same_day"}))
            .await
            .0,
        204
    );
    assert_eq!(
        control
            .post("/sub-merchants", json!({"id": "1900000110"}))
            .await
            .0,
        201
    );
    assert_eq!(
        control
            .post("/sub-merchants", json!({"id": "shop"}))
            .await
            .0,
        400
    );
    let hk = json!({"id": "chan", "balance": {"value": "100.00", "currency": "HKD"}});
    let (status, wallet) = control.post("/wallets", hk).await;
    assert_eq!((status, &wallet["kind"]), (201, &json!("hong_kong")));
    let mismatch =
        json!({"id": "li", "balance": {"value": "100.00", "currency": "HKD"}, "kind": "mainland"});
    assert_eq!(control.post("/wallets", mismatch).await.0, 400);

    let books = control.state().await;
    assert_eq!(
        books.extras["refund_pool"],
        json!({"value": "50.00", "currency": "CNY"})
    );
    assert_eq!(books.extras["reverse_window"], json!("same_day"));
    let known = books.extras["sub_merchants"].as_array().unwrap();
    assert!(known.contains(&json!("1900000110")) && known.contains(&json!("1900000109")));
    assert_eq!(
        books.wallet("chan").unwrap().kind.as_deref(),
        Some("hong_kong")
    );
}
