//! The switch under test and its networks' simulators: in this process (the default), or
//! as child processes of the current executable (`kakehashi sim ...`, `kakehashi serve`),
//! with the config written to a temporary directory.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::{RunningSimulator, SimulatorOptions, SystemClock};

use crate::{Config, Switch};

/// The merchant every till belongs to.
const MERCHANT: &str = "bench-mart";
/// Longest a child process may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Customer codes issued at once while preparing a run.
const CODE_REQUESTS_IN_FLIGHT: usize = 16;

/// A till's API key (each till is its own terminal).
pub fn till_key(i: usize) -> String {
    format!("bench-till-{i:04}-api-key")
}

/// A process taking part in the run, for CPU and memory.
#[derive(Debug, Clone)]
pub struct Process {
    pub label: String,
    pub pid: String,
}

pub struct Target {
    pub switch_url: String,
    /// Simulator base URLs by network.
    pub sims: BTreeMap<String, String>,
    /// Child processes (empty in-process).
    pub processes: Vec<Process>,
    inner: Inner,
}

enum Inner {
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        server: tokio::task::JoinHandle<Result<(), crate::switch::StartError>>,
        _sims: BTreeMap<String, RunningSimulator>,
    },
    Processes {
        children: Vec<Child>,
        _dir: tempfile::TempDir,
    },
}

impl Target {
    /// Stops the switch and the simulators.
    pub async fn stop(mut self) {
        match &mut self.inner {
            Inner::InProcess { stop, server, .. } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
            }
            Inner::Processes { children, .. } => kill_all(children),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Inner::Processes { children, .. } = &mut self.inner {
            kill_all(children);
        }
    }
}

fn kill_all(children: &mut [Child]) {
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Switch limits a run sets: the bench's own defaults, or the memory run's (a short Pay
/// wait, so a till moves on while its payment stays held at the network).
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub pay_wait_ms: u64,
    pub payments_in_flight_max: Option<usize>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            pay_wait_ms: 20_000,
            payments_in_flight_max: None,
        }
    }
}

/// The switch's config: one merchant, `tills` terminals, and the networks' tables.
fn config_text(
    store_url: &str,
    tills: usize,
    networks: &[String],
    tables: &str,
    tuning: Tuning,
) -> String {
    let list: Vec<String> = networks.iter().map(|n| format!("\"{n}\"")).collect();
    let in_flight = tuning
        .payments_in_flight_max
        .map(|n| format!("payments_in_flight_max = {n}\n"))
        .unwrap_or_default();
    let mut text = format!(
        "listen = \"127.0.0.1:0\"\nstore_url = \"{store_url}\"\n[limits]\npay_wait_ms = {}\n{in_flight}\
         [[merchants]]\nid = \"{MERCHANT}\"\nname = \"Bench Mart\"\ncategory_code = \"5411\"\n\
         networks = [{}]\n[merchants.network_ids]\npaypay = \"bench-mart-pp\"\n",
        tuning.pay_wait_ms,
        list.join(", ")
    );
    for i in 0..tills {
        text.push_str(&format!(
            "[[terminals]]\nid = \"till-{i}\"\nmerchant_id = \"{MERCHANT}\"\nstore_id = \"bench-1\"\n\
             api_key = \"{}\"\n",
            till_key(i)
        ));
    }
    text.push('\n');
    text.push_str(tables);
    text
}

/// Starts the simulators and the switch in this process.
pub async fn in_process(
    store_url: &str,
    tills: usize,
    networks: &[String],
) -> Result<Target, String> {
    let mut sims = BTreeMap::new();
    let mut tables = String::new();
    for (seed, kind) in networks.iter().enumerate() {
        let factory =
            crate::networks::factory(kind).ok_or_else(|| format!("{kind} adapter not linked"))?;
        let sim = factory
            .spawn_simulator(SimulatorOptions {
                bind: ([127, 0, 0, 1], 0).into(),
                seed: seed as u64 + 1,
                clock: Arc::new(SystemClock),
            })
            .await
            .map_err(|e| format!("{kind} simulator: {e}"))?;
        let mut table = toml::Table::new();
        let mut inner = toml::Table::new();
        inner.insert(kind.clone(), toml::Value::Table(sim.adapter_config.clone()));
        table.insert("networks".into(), toml::Value::Table(inner));
        tables.push_str(&toml::to_string(&table).map_err(|e| e.to_string())?);
        sims.insert(kind.clone(), sim);
    }
    let config = Config::parse(&config_text(
        store_url,
        tills,
        networks,
        &tables,
        Tuning::default(),
    ))
    .map_err(|e| format!("bench config: {e}"))?;
    let switch = Switch::build(config).await.map_err(|e| e.to_string())?;
    let switch_url = format!("http://{}", switch.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switch.serve(async {
        let _ = stopped.await;
    }));
    Ok(Target {
        switch_url,
        sims: sims
            .iter()
            .map(|(k, s)| (k.clone(), s.base_url.clone()))
            .collect(),
        processes: Vec::new(),
        inner: Inner::InProcess {
            stop: Some(stop),
            server,
            _sims: sims,
        },
    })
}

/// Starts each simulator as `kakehashi sim <network> --port 0` and the switch as
/// `kakehashi serve --config <temp>/kakehashi.toml`, children of this process.
pub async fn processes(
    executable: Option<&std::path::Path>,
    store_url: &str,
    tills: usize,
    networks: &[String],
    tuning: Tuning,
) -> Result<Target, String> {
    let exe = match executable {
        Some(path) => path.to_owned(),
        None => std::env::current_exe().map_err(|e| format!("cannot find kakehashi: {e}"))?,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut children = Vec::new();
    let mut procs = Vec::new();
    let mut sims = BTreeMap::new();
    let mut tables = String::new();
    let result = async {
        for kind in networks {
            let mut child = Command::new(&exe)
                .args(["sim", kind, "--port", "0"])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start the {kind} simulator: {e}"))?;
            let stdout = child.stdout.take();
            procs.push(Process {
                label: format!("sim {kind}"),
                pid: child.id().to_string(),
            });
            children.push(child);
            let stdout = stdout.ok_or("simulator without stdout")?;
            let (base_url, table) = read_sim_banner(stdout, kind).await?;
            tables.push_str(&table);
            tables.push('\n');
            sims.insert(kind.clone(), base_url);
        }
        let path = dir.path().join("kakehashi.toml");
        std::fs::write(
            &path,
            config_text(store_url, tills, networks, &tables, tuning),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut child = Command::new(&exe)
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the switch: {e}"))?;
        let stderr = child.stderr.take();
        procs.push(Process {
            label: "switch".into(),
            pid: child.id().to_string(),
        });
        children.push(child);
        let addr = read_until(stderr.ok_or("switch without stderr")?, |line| {
            line.strip_prefix("kakehashi: serving on ")
                .map(|a| a.trim().to_owned())
        })
        .await
        .map_err(|e| format!("the switch did not start: {e}"))?;
        Ok::<_, String>(format!("http://{addr}"))
    }
    .await;
    let inner = Inner::Processes {
        children,
        _dir: dir,
    };
    let switch_url = match result {
        Ok(url) => url,
        Err(e) => {
            drop(Target {
                switch_url: String::new(),
                sims,
                processes: procs,
                inner,
            });
            return Err(e);
        }
    };
    Ok(Target {
        switch_url,
        sims,
        processes: procs,
        inner,
    })
}

/// Reads `kakehashi sim`'s banner: its base URL, then the config table up to the
/// "# Controls" line. The rest of its output is drained so the child never blocks.
async fn read_sim_banner(
    stdout: std::process::ChildStdout,
    kind: &str,
) -> Result<(String, String), String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut base = None;
        let mut table = String::new();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix('#') {
                if let Some((_, url)) = rest.split_once(" listening on ") {
                    base = Some(url.trim().to_owned());
                }
                if rest.trim_start().starts_with("Controls") {
                    break;
                }
            } else {
                table.push_str(&line);
                table.push('\n');
            }
        }
        let _ = tx.send(base.map(|b| (b, table)));
        for _ in lines {}
    });
    match tokio::time::timeout(START_TIMEOUT, rx).await {
        Ok(Ok(Some(found))) => Ok(found),
        _ => Err(format!("the {kind} simulator did not start")),
    }
}

/// Reads lines until `found` picks one; the rest is drained on a thread of its own.
async fn read_until(
    out: impl std::io::Read + Send + 'static,
    found: impl Fn(&str) -> Option<String> + Send + 'static,
) -> Result<String, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(out).lines();
        let mut tx = Some(tx);
        let mut last = String::new();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(v) = found(&line) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(Ok(v));
                }
                break;
            }
            last = line;
        }
        if let Some(tx) = tx.take() {
            let _ = tx.send(Err(last));
        }
        for _ in lines {}
    });
    match tokio::time::timeout(START_TIMEOUT, rx).await {
        Ok(Ok(result)) => result,
        _ => Err("timed out".into()),
    }
}

/// Creates a wallet on the code network's simulator and issues `count` customer codes
/// through its control API (`/_sim`), the same way in both modes.
pub async fn issue_codes(base_url: &str, count: usize) -> Result<Vec<String>, String> {
    use futures::StreamExt;
    let http = reqwest::Client::new();
    let wallet = serde_json::json!({
        "id": "bench",
        "balance": { "value": "1000000000000", "currency": "JPY" },
    });
    let created = http
        .post(format!("{base_url}/_sim/wallets"))
        .json(&wallet)
        .send()
        .await
        .map_err(|e| format!("simulator wallet: {e}"))?;
    if !created.status().is_success() {
        return Err(format!("simulator wallet: HTTP {}", created.status()));
    }
    let url = format!("{base_url}/_sim/wallets/bench/codes");
    let codes: Vec<Result<String, String>> = futures::stream::iter(0..count)
        .map(|_| {
            let http = http.clone();
            let url = url.clone();
            async move {
                let reply: serde_json::Value = http
                    .post(&url)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                reply
                    .get("code")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("no code in {reply}"))
            }
        })
        .buffered(CODE_REQUESTS_IN_FLIGHT)
        .collect()
        .await;
    codes
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("simulator codes: {e}"))
}
