//! The soak's world: every customer-presented network's simulator in-process, spoken to
//! through the shared `/_sim` control API over HTTP (as an integrator would), and one or
//! two switch replicas on one store, each on a runtime of its own so a crash drops every
//! task it started, as `kill -9` would.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::sim_control::SimState;
use kakehashi_adapter_core::{RunningSimulator, SimulatorOptions, SystemClock};

use crate::terminal::Terminal;
use crate::{Config, Switch};

pub const MERCHANT: &str = "soak-merchant";
pub const TILL_KEY: &str = "soak-till-api-key-0001";
/// Networks the soak pays through: every one whose customers present a code.
pub const NETWORKS: [&str; 4] = ["alipayplus", "linepay", "paypay", "wechatpay"];

/// Short timings, so reversals and recoveries happen within a soak's minutes; each
/// deadline still covers its network's longest call plus the 2 s margin.
fn network_overrides(kind: &str) -> &'static str {
    match kind {
        "linepay" => {
            "pay_timeout_ms = 600\nhttp = { request_timeout_ms = 600 }\n\
             timing = { payment_deadline_ms = 4000, query_first_delay_ms = 200, query_interval_ms = 300 }"
        }
        "alipayplus" => {
            "http = { request_timeout_ms = 600 }\n\
             timing = { payment_deadline_ms = 4000, query_first_delay_ms = 200, query_interval_ms = 300 }"
        }
        _ => {
            "http = { request_timeout_ms = 800 }\n\
             timing = { payment_deadline_ms = 4000, query_first_delay_ms = 200, query_interval_ms = 300 }"
        }
    }
}

/// One simulator and an HTTP client for its control API.
pub struct Sim {
    pub kind: &'static str,
    pub running: RunningSimulator,
    http: reqwest::Client,
}

/// A switch process: its config, and while it runs, its runtime and address.
pub struct Replica {
    config_text: String,
    runtime: Option<tokio::runtime::Runtime>,
    pub addr: Option<SocketAddr>,
}

pub struct World {
    pub sims: BTreeMap<&'static str, Sim>,
    pub replicas: Vec<Replica>,
    pub store_url: String,
    _dir: tempfile::TempDir,
}

// === impl World ===

impl World {
    pub async fn start(
        seed: u64,
        store_url: Option<String>,
        replicas: usize,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut sims = BTreeMap::new();
        for (i, kind) in NETWORKS.into_iter().enumerate() {
            let factory = crate::networks::factory(kind).ok_or(format!("{kind} not linked"))?;
            let running = factory
                .spawn_simulator(SimulatorOptions {
                    bind: ([127, 0, 0, 1], 0).into(),
                    seed: seed.wrapping_add(i as u64),
                    clock: Arc::new(SystemClock),
                })
                .await
                .map_err(|e| e.to_string())?;
            let http = control_client(&running)?;
            sims.insert(
                kind,
                Sim {
                    kind,
                    running,
                    http,
                },
            );
        }
        let store_url = store_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("soak.db").display()));
        let mut world = Self {
            replicas: (0..replicas.max(1))
                .map(|n| Replica {
                    config_text: config_text(&store_url, &sims, &format!("soak-{n}")),
                    runtime: None,
                    addr: None,
                })
                .collect(),
            sims,
            store_url,
            _dir: dir,
        };
        for n in 0..world.replicas.len() {
            world.replicas[n].start().await?;
        }
        Ok(world)
    }

    /// A terminal connected to replica `n` (or the first running one).
    pub async fn terminal(&self, n: usize) -> Result<Terminal, String> {
        let replica = self
            .replicas
            .get(n % self.replicas.len())
            .filter(|r| r.addr.is_some())
            .or_else(|| self.replicas.iter().find(|r| r.addr.is_some()))
            .ok_or("no replica is running")?;
        let addr = replica.addr.ok_or("no replica is running")?;
        Terminal::connect(&format!("http://{addr}"), TILL_KEY).await
    }

    pub fn sim(&self, kind: &str) -> Result<&Sim, String> {
        self.sims.get(kind).ok_or(format!("no simulator {kind}"))
    }

    pub fn stop(&mut self) {
        for r in &mut self.replicas {
            r.crash();
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop();
    }
}

// === impl Replica ===

impl Replica {
    pub async fn start(&mut self) -> Result<(), String> {
        let config = Config::parse(&self.config_text).map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            match Switch::build(config).await {
                Ok(switch) => {
                    let _ = addr_tx.send(Ok(switch.local_addr()));
                    let _ = switch.serve(std::future::pending()).await;
                }
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                }
            }
        });
        let started = addr_rx
            .await
            .map_err(|_| "the switch died at start".to_owned());
        match started {
            Ok(Ok(addr)) => {
                self.addr = Some(addr);
                self.runtime = Some(runtime);
                Ok(())
            }
            Ok(Err(e)) | Err(e) => {
                runtime.shutdown_background();
                Err(e)
            }
        }
    }

    /// Kills the process at once: only what its store committed survives.
    pub fn crash(&mut self) {
        self.addr = None;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    pub async fn restart(&mut self) -> Result<(), String> {
        self.crash();
        self.start().await
    }
}

// === impl Sim ===

impl Sim {
    fn url(&self, path: &str) -> String {
        format!("{}/_sim{path}", self.running.base_url)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
        let response = request
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.kind))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{}: control answered {status}: {text}", self.kind));
        }
        if text.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", self.kind))
    }

    pub async fn add_wallet(&self, id: &str, value: &str, currency: &str) -> Result<(), String> {
        let body = serde_json::json!({"id": id, "balance": {"value": value, "currency": currency}});
        self.send(self.http.post(self.url("/wallets")).json(&body))
            .await
            .map(|_| ())
    }

    pub async fn issue_code(&self, wallet: &str) -> Result<String, String> {
        let answer = self
            .send(
                self.http
                    .post(self.url(&format!("/wallets/{wallet}/codes"))),
            )
            .await?;
        answer["code"]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("{}: no code in the answer", self.kind))
    }

    pub async fn inject(&self, operation: &str, fault: serde_json::Value) -> Result<(), String> {
        let body = serde_json::json!({"operation": operation, "fault": fault, "times": 1});
        self.send(self.http.post(self.url("/faults")).json(&body))
            .await
            .map(|_| ())
    }

    pub async fn clear_faults(&self) -> Result<(), String> {
        self.send(self.http.delete(self.url("/faults")))
            .await
            .map(|_| ())
    }

    pub async fn state(&self) -> Result<SimState, String> {
        let value = self.send(self.http.get(self.url("/state"))).await?;
        serde_json::from_value(value).map_err(|e| format!("{}: books: {e}", self.kind))
    }
}

/// An HTTP client for a simulator's control API; WeChat Pay's speaks HTTPS with its own CA.
fn control_client(sim: &RunningSimulator) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = sim.adapter_config.get("ca_pem").and_then(|v| v.as_str()) {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| e.to_string())
}

fn config_text(store_url: &str, sims: &BTreeMap<&'static str, Sim>, instance: &str) -> String {
    let networks: Vec<String> = sims.keys().map(|k| format!("\"{k}\"")).collect();
    let mut text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "{store_url}"
instance = "{instance}"
[limits]
pay_wait_ms = 8000
lease_ms = 1000
recovery_interval_ms = 300
refund_resend_interval_ms = 300
[[merchants]]
id = "{MERCHANT}"
name = "Soak Ramen"
category_code = "5812"
networks = [{networks}]
[merchants.network_ids]
wechatpay = "1900000109"
[[terminals]]
id = "soak-till"
merchant_id = "{MERCHANT}"
store_id = "soak-store"
api_key = "{TILL_KEY}"
"#,
        networks = networks.join(", ")
    );
    for (kind, sim) in sims {
        let mut table = sim.running.adapter_config.clone();
        if let Ok(extra) = network_overrides(kind).parse::<toml::Table>() {
            crate::config::overlay_table(&mut table, extra);
        }
        let mut networks = toml::Table::new();
        networks.insert((*kind).to_owned(), toml::Value::Table(table));
        let mut wrapper = toml::Table::new();
        wrapper.insert("networks".into(), toml::Value::Table(networks));
        text.push('\n');
        text.push_str(&toml::to_string(&wrapper).unwrap_or_default());
    }
    text
}
