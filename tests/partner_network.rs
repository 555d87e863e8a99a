//! A wallet network added purely in configuration: a `[networks.kpay]` table with
//! `adapter = "grpc"` pointing at a running reference partner, a merchant that accepts
//! "kpay", and nothing else. The till pays, a lost reply is found by a query, a payment the
//! switch cannot learn about is reversed at its deadline, a waiting one is cancelled, and
//! refunds (partial, lost, full) go through, while the partner's own books, read through its
//! `/_sim/state`, agree with the switch's at every step.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use kakehashi::terminal::Terminal;
use kakehashi::{Config, Switch};
use kakehashi_adapter_core::RunningSimulator;
use kakehashi_proto::v1::{PaymentState, RefundState};
use serde_json::{Value, json};

#[path = "support/partner.rs"]
mod partner;

const TILL_KEY: &str = "kpay-till-test-key-01";

async fn partner(network: &str, prefix: &str, currency: &str) -> RunningSimulator {
    partner::spawn(network, prefix, currency, 4000, 21).await
}

/// The switch's config: one merchant, one till, and for each partner only the table an
/// operator would write by hand.
fn config(dir: &std::path::Path, partners: &[(&str, &RunningSimulator)]) -> String {
    let ids: Vec<String> = partners.iter().map(|(id, _)| format!("\"{id}\"")).collect();
    let mut text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "sqlite://{db}"
[limits]
pay_wait_ms = 8000
lease_ms = 1000
recovery_interval_ms = 200
[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = [{ids}]
[[terminals]]
id = "till-1"
merchant_id = "shinjuku-ramen"
api_key = "{TILL_KEY}"
"#,
        db = dir.join("kakehashi.db").display(),
        ids = ids.join(", ")
    );
    for (id, sim) in partners {
        text.push_str(&format!(
            "\n[networks.{id}]\nadapter = \"grpc\"\nendpoint = \"{}\"\n",
            sim.base_url
        ));
    }
    text
}

async fn switch(text: &str) -> Terminal {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = Config::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let switch = Switch::build(config).await.expect("the switch starts");
    let url = format!("http://{}", switch.local_addr());
    tokio::spawn(switch.serve(std::future::pending()));
    Terminal::connect(&url, TILL_KEY).await.unwrap()
}

/// The partner's `/_sim` control API, over HTTP as an integrator drives it.
struct Control {
    base: String,
    http: reqwest::Client,
}

impl Control {
    fn new(sim: &RunningSimulator) -> Self {
        Self {
            base: format!("{}/_sim", sim.base_url),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let reply = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.json().await.unwrap_or(Value::Null)
    }

    async fn wallet(&self, id: &str, value: &str, currency: &str, confirm_ms: Option<u64>) {
        let mut body = json!({"id": id, "balance": {"value": value, "currency": currency}});
        if let Some(ms) = confirm_ms {
            body["confirm_ms"] = json!(ms);
        }
        self.post("/wallets", body).await;
    }

    async fn code(&self, wallet: &str) -> String {
        let body = self
            .post(&format!("/wallets/{wallet}/codes"), json!({}))
            .await;
        body["code"].as_str().unwrap().to_owned()
    }

    async fn fault(&self, operation: &str, kind: &str, times: Option<u32>) {
        let mut rule = json!({"operation": operation, "fault": {"kind": kind}});
        if let Some(times) = times {
            rule["times"] = json!(times);
        }
        self.post("/faults", rule).await;
    }

    async fn http_fault(&self, operation: &str, status: u16) {
        let rule =
            json!({"operation": operation, "fault": {"kind": "http_status", "status": status}});
        self.post("/faults", rule).await;
    }

    async fn clear_faults(&self) {
        let reply = self
            .http
            .delete(format!("{}/faults", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 204);
    }

    async fn state(&self) -> Value {
        let reply = self
            .http
            .get(format!("{}/state", self.base))
            .send()
            .await
            .unwrap();
        reply.json().await.unwrap()
    }
}

fn payment<'a>(books: &'a Value, id: &str) -> &'a Value {
    books["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("the partner has payment {id}: {books}"))
}

fn balance(books: &Value, wallet: &str) -> String {
    let wallets = books["wallets"].as_array().unwrap();
    let w = wallets.iter().find(|w| w["id"] == wallet).unwrap();
    w["balance"]["value"].as_str().unwrap().to_owned()
}

/// Follows the payment to its final state.
async fn settled(till: &mut Terminal, order: &str) -> kakehashi_proto::v1::Payment {
    till.watch(order, |_| {})
        .await
        .unwrap()
        .expect("a final state")
}

/// Reads the payment until its refund `refund_id` is final (the switch resolves it in the
/// background); bounded.
async fn refund_settled(till: &mut Terminal, order: &str, refund_id: &str) -> i32 {
    for _ in 0..100 {
        let p = till.get(order).await.unwrap();
        let r = p.refunds.iter().find(|r| r.refund_id == refund_id).unwrap();
        if r.state != RefundState::Pending as i32 {
            return r.state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("refund {refund_id} stayed pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_added_only_in_config_pays_queries_reverses_and_refunds() {
    let dir = tempfile::tempdir().unwrap();
    let kpay = partner("kpay", "93", "KRW").await;
    let control = Control::new(&kpay);
    let mut till = switch(&config(dir.path(), &[("kpay", &kpay)])).await;
    control.wallet("minji", "200000", "KRW", None).await;

    // A plain payment: a yen price, charged in won at the partner's rate.
    let paid = till
        .pay("ramen-1", "1200", "JPY", &control.code("minji").await)
        .await
        .unwrap();
    assert_eq!(paid.state, PaymentState::Succeeded as i32, "{paid:?}");
    assert_eq!(paid.network, "kpay");
    let charged = paid.wallet_amount.clone().unwrap().amount.unwrap();
    assert_eq!(
        (charged.value.as_str(), charged.currency.as_str()),
        ("11040", "KRW")
    );
    let books = control.state().await;
    assert_eq!(books["network"], "kpay");
    assert_eq!(
        payment(&books, &paid.payment_id)["network_id"],
        json!(paid.network_txn_id)
    );
    assert_eq!(balance(&books, "minji"), "188960");

    // The partner took the money and the reply was lost: the switch queries and finds it.
    control.fault("pay", "hang_after_processing", Some(1)).await;
    let found = till
        .pay("gyoza-1", "800", "JPY", &control.code("minji").await)
        .await
        .unwrap();
    let found = match found.state == PaymentState::Succeeded as i32 {
        true => found,
        false => settled(&mut till, "gyoza-1").await,
    };
    assert_eq!(found.state, PaymentState::Succeeded as i32, "{found:?}");
    assert_eq!(
        payment(&control.state().await, &found.payment_id)["status"],
        "succeeded"
    );

    // The reply is lost and every query fails: at the deadline the switch reverses, and the
    // partner gives the won back.
    control.fault("pay", "hang_after_processing", Some(1)).await;
    control.http_fault("query", 503).await;
    let code = control.code("minji").await;
    let doubt = till.pay("beer-1", "600", "JPY", &code).await.unwrap();
    let reversed = settled(&mut till, "beer-1").await;
    control.clear_faults().await;
    assert_eq!(
        reversed.state,
        PaymentState::Reversed as i32,
        "{reversed:?}"
    );
    let books = control.state().await;
    assert_eq!(payment(&books, &doubt.payment_id)["status"], "reversed");

    // A customer who does not confirm in the app: the till cancels, nothing is charged.
    control.wallet("slow", "50000", "KRW", Some(600_000)).await;
    let waiting = till
        .pay("tea-1", "300", "JPY", &control.code("slow").await)
        .await
        .unwrap();
    assert_eq!(
        waiting.state,
        PaymentState::AwaitingCustomer as i32,
        "{waiting:?}"
    );
    till.cancel("tea-1").await.unwrap();
    let cancelled = settled(&mut till, "tea-1").await;
    assert_eq!(
        cancelled.state,
        PaymentState::Reversed as i32,
        "{cancelled:?}"
    );
    let books = control.state().await;
    assert_eq!(payment(&books, &waiting.payment_id)["status"], "reversed");
    assert_eq!(balance(&books, "slow"), "50000");

    // Refunds of the first payment: partial, one whose reply is lost, then the rest.
    let partial = till
        .refund("ramen-1", "back-1", Some(("200", "JPY")))
        .await
        .unwrap();
    assert_eq!(partial.refund.unwrap().state, RefundState::Succeeded as i32);
    control
        .fault("refund", "hang_after_processing", Some(1))
        .await;
    till.refund("ramen-1", "back-2", Some(("300", "JPY")))
        .await
        .unwrap();
    assert_eq!(
        refund_settled(&mut till, "ramen-1", "back-2").await,
        RefundState::Succeeded as i32,
        "query_refund found the refund the partner made"
    );
    let rest = till.refund("ramen-1", "back-3", None).await.unwrap();
    assert_eq!(rest.refund.unwrap().amount.unwrap().value, "700");
    let ramen = till.get("ramen-1").await.unwrap();
    assert_eq!(ramen.state, PaymentState::Refunded as i32, "{ramen:?}");

    // The partner's books agree with the switch's, payment by payment.
    let books = control.state().await;
    let ramen_books = payment(&books, &ramen.payment_id);
    assert_eq!(ramen_books["refunded"]["value"], "1200");
    let refunds: Vec<&Value> = books["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["payment"] == json!(ramen.payment_id))
        .collect();
    assert_eq!(refunds.len(), 3, "{books}");
    for r in &ramen.refunds {
        let theirs = refunds
            .iter()
            .find(|t| t["network_id"] == json!(r.network_refund_id))
            .unwrap_or_else(|| panic!("the partner made refund {}", r.refund_id));
        assert_eq!(
            theirs["amount"]["value"],
            json!(r.amount.as_ref().unwrap().value)
        );
    }
    // Only the gyoza stays charged: 800 yen is 7360 won.
    assert_eq!(balance(&books, "minji"), "192640");
    let charged_in_books: Vec<&str> = books["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "succeeded" && p["refunded"]["value"] == "0")
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(charged_in_books, vec![found.payment_id.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_partner_networks_share_one_adapter_with_their_own_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let kpay = partner("kpay", "93", "KRW").await;
    let tpay = partner("tpay", "94", "THB").await;
    let (korean, thai) = (Control::new(&kpay), Control::new(&tpay));
    let mut till = switch(&config(dir.path(), &[("kpay", &kpay), ("tpay", &tpay)])).await;
    korean.wallet("minji", "100000", "KRW", None).await;
    thai.wallet("somchai", "5000.00", "THB", None).await;

    let won = till
        .pay("k-1", "1000", "JPY", &korean.code("minji").await)
        .await
        .unwrap();
    let baht = till
        .pay("t-1", "1000", "JPY", &thai.code("somchai").await)
        .await
        .unwrap();
    assert_eq!(
        (won.network.as_str(), baht.network.as_str()),
        ("kpay", "tpay")
    );
    for p in [&won, &baht] {
        assert_eq!(p.state, PaymentState::Succeeded as i32, "{p:?}");
    }
    let baht_paid = baht.wallet_amount.unwrap().amount.unwrap();
    assert_eq!(
        (baht_paid.value.as_str(), baht_paid.currency.as_str()),
        ("230.00", "THB")
    );

    // Each partner holds its own payment and nothing of the other's.
    let (k_books, t_books) = (korean.state().await, thai.state().await);
    assert_eq!(k_books["payments"].as_array().unwrap().len(), 1);
    assert_eq!(t_books["payments"].as_array().unwrap().len(), 1);
    payment(&k_books, &won.payment_id);
    payment(&t_books, &baht.payment_id);
    assert_eq!(balance(&t_books, "somchai"), "4770.00");

    // A refund goes to the network that carried the payment.
    till.refund("t-1", "t-back", None).await.unwrap();
    assert_eq!(balance(&thai.state().await, "somchai"), "5000.00");
    assert_eq!(balance(&korean.state().await, "minji"), "90800");
}

/// `kakehashi sim grpc-wallet --network kpay ...` prints a table that names the adapter and
/// the endpoint, ready to paste.
#[test]
fn the_sim_command_prints_a_pasteable_table_for_the_wallet_it_was_given() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args([
            "sim",
            "grpc-wallet",
            "--network",
            "kpay",
            "--prefix",
            "93",
            "--currency",
            "KRW",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kakehashi runs");
    let stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines().take(40) {
        let line = line.unwrap();
        let done = line.starts_with("# Controls");
        printed.push_str(&line);
        printed.push('\n');
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let table: toml::Table = printed.parse().unwrap_or_else(|e| panic!("{e}\n{printed}"));
    let kpay = &table["networks"]["kpay"];
    assert_eq!(kpay["adapter"].as_str(), Some("grpc"), "{printed}");
    assert!(
        kpay["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{printed}"
    );
    assert!(printed.contains("/_sim"), "{printed}");
}
