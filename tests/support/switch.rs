//! `spawn_switch()`: the real switch, built from a real config, on 127.0.0.1:0, with each
//! requested network's simulator running beside it. Only isolation differs from
//! production: a fresh SQLite file (or PostgreSQL database) and short timings.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kakehashi::terminal::Terminal;
use kakehashi::{Config, Switch};
use kakehashi_adapter_core::{RunningSimulator, SimulatorOptions, SystemClock};

pub const MERCHANT: &str = "shinjuku-ramen";
pub const OTHER_MERCHANT: &str = "osaka-sushi";
pub const TILL_KEY: &str = "till-1-test-key-0001";
pub const OTHER_TILL_KEY: &str = "osaka-till-test-key-01";

pub struct TestSwitch {
    pub addr: SocketAddr,
    pub sims: BTreeMap<String, RunningSimulator>,
    pub store_url: String,
    pub config_text: String,
    dir: Arc<tempfile::TempDir>,
    /// The switch runs on a runtime of its own, like a process: a crash drops the runtime
    /// and with it every task the switch started (server, drivers, recovery).
    runtime: Option<tokio::runtime::Runtime>,
}

pub struct Options {
    pub networks: Vec<&'static str>,
    /// Extra TOML appended to each network's table (e.g. timing overrides).
    pub network_extra: BTreeMap<&'static str, String>,
    pub limits: String,
    pub store_url: Option<String>,
    /// Extra TOML appended to the config (e.g. a `[tls]` table).
    pub extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            networks: vec!["linepay"],
            network_extra: BTreeMap::new(),
            limits: "pay_wait_ms = 15000\nlease_ms = 1000\nrecovery_interval_ms = 200\n".into(),
            store_url: None,
            extra: String::new(),
        }
    }
}

pub async fn spawn_switch() -> TestSwitch {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestSwitch {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    init_test_log();
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut sims = BTreeMap::new();
    for (seed, kind) in options.networks.iter().enumerate() {
        let factory = kakehashi::networks::factory(kind).expect("adapter linked");
        let sim = factory
            .spawn_simulator(SimulatorOptions {
                bind: "127.0.0.1:0".parse().expect("addr"),
                seed: seed as u64 + 7,
                clock: Arc::new(SystemClock),
            })
            .await
            .expect("simulator starts");
        sims.insert((*kind).to_owned(), sim);
    }
    let store_url = options
        .store_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("kakehashi.db").display()));
    let config_text = config_text(&options, &sims, &store_url);
    let mut switch = TestSwitch {
        addr: "127.0.0.1:0".parse().expect("addr"),
        sims,
        store_url,
        config_text,
        dir,
        runtime: None,
    };
    switch.start().await;
    switch
}

fn config_text(
    options: &Options,
    sims: &BTreeMap<String, RunningSimulator>,
    store_url: &str,
) -> String {
    let networks: Vec<String> = options
        .networks
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect();
    let mut text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "{store_url}"
[limits]
{limits}
[[merchants]]
id = "{MERCHANT}"
name = "Shinjuku Ramen"
category_code = "5812"
networks = [{networks}]
[merchants.network_ids]
wechatpay = "1900000109"
alipayplus = "JP-SHINJUKU-RAMEN"
paypay = "shinjuku-ramen-pp"
[[merchants]]
id = "{OTHER_MERCHANT}"
name = "Osaka Sushi"
networks = [{networks}]
[merchants.network_ids]
wechatpay = "1900000110"
[[terminals]]
id = "till-1"
merchant_id = "{MERCHANT}"
store_id = "shinjuku-east"
api_key = "{TILL_KEY}"
[[terminals]]
id = "osaka-till"
merchant_id = "{OTHER_MERCHANT}"
api_key = "{OTHER_TILL_KEY}"
"#,
        limits = options.limits,
        networks = networks.join(", ")
    );
    text.push_str(&options.extra);
    text.push('\n');
    for (kind, sim) in sims {
        let mut table = sim.adapter_config.clone();
        if let Some(extra) = options.network_extra.get(kind.as_str()) {
            let extra: toml::Table = extra.parse().expect("extra network TOML");
            table.extend(extra);
        }
        let mut wrapper = toml::Table::new();
        let mut networks = toml::Table::new();
        networks.insert(kind.clone(), toml::Value::Table(table));
        wrapper.insert("networks".into(), toml::Value::Table(networks));
        text.push('\n');
        text.push_str(&toml::to_string(&wrapper).expect("network TOML"));
    }
    text
}

fn init_test_log() {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
}

// === impl TestSwitch ===

impl TestSwitch {
    async fn start(&mut self) {
        let config = Config::parse(&self.config_text).expect("test config parses");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("switch runtime");
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let switch = Switch::build(config).await.expect("switch builds");
            let _ = addr_tx.send(switch.local_addr());
            let _ = switch.serve(std::future::pending()).await;
        });
        match addr_rx.await {
            Ok(addr) => self.addr = addr,
            Err(_) => {
                // The build panicked on the switch's runtime: stop it without blocking here,
                // then fail this test (dropping a runtime inside async code would abort).
                runtime.shutdown_background();
                panic!("the switch did not start; run with TEST_LOG=1 to see why");
            }
        }
        self.runtime = Some(runtime);
    }

    /// Kills the switch abruptly, as a crashed process: its runtime and every task on it
    /// (server, payment drivers, recovery) stop at once; only what the store committed
    /// survives.
    pub async fn crash(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Starts a new switch process on the same store and simulators.
    pub async fn restart(&mut self) {
        self.crash().await;
        self.start().await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn terminal(&self) -> Terminal {
        Terminal::connect(&self.url(), TILL_KEY)
            .await
            .expect("terminal connects")
    }

    pub async fn terminal_with_key(&self, key: &str) -> Terminal {
        Terminal::connect(&self.url(), key)
            .await
            .expect("terminal connects")
    }

    pub fn sim(&self, kind: &str) -> &RunningSimulator {
        self.sims.get(kind).expect("simulator running")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("kakehashi.db")
    }

    /// A direct store handle, to check what was (not) written.
    pub async fn store(&self) -> kakehashi::store::SqlStore {
        kakehashi::store::SqlStore::connect(&self.store_url)
            .await
            .expect("store opens")
    }
}

impl Drop for TestSwitch {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
