//! `kakehashi demo`: a scripted shift at a Japanese till. It starts every network's
//! simulator in-process, the switch on SQLite in a temporary directory, and plays the shift
//! through the real gRPC API as a terminal would, then prints what happened and checks that
//! the simulators' balances agree with the switch's books. Each scenario prints as it ends.
mod layout;
mod partner;
mod script;
mod table;
mod visitors;

use std::collections::BTreeMap;
use std::sync::Arc;

use kakehashi_adapter_core::{Clock, RunningSimulator, SimulatorOptions, SystemClock};

use crate::terminal::Terminal;
use crate::{Config, Switch};

pub use layout::Layout;
pub use table::Report;

pub const MERCHANT: &str = "shinjuku-ramen";
pub const TILL_KEY: &str = "demo-till-1-api-key";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo set-up failed: {0}")]
    Setup(String),
    #[error("{0} of the shift's checks failed (see the table above)")]
    Failed(usize),
}

/// The demo's world: simulators by network id, the switch's address, a terminal.
pub struct Shift {
    pub sims: BTreeMap<String, RunningSimulator>,
    pub till: Terminal,
    /// The KPay partner's mutual-TLS connection to the switch's PartnerGatewayService.
    pub gateway: Option<partner::Gateway>,
    pub report: Report,
}

/// Plays the shift, printing in `layout` (the default fits 120 columns); the report, for
/// tests, when every check passed.
pub async fn run(layout: Layout) -> Result<Report, DemoError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().map_err(|e| DemoError::Setup(e.to_string()))?;
    let mut sims = BTreeMap::new();
    for (seed, factory) in crate::networks::factories().into_iter().enumerate() {
        // The reference partner runs as KPay below, a network joined by config alone.
        if factory.kind() == kakehashi_grpc::ADAPTER_KIND {
            continue;
        }
        let options = SimulatorOptions {
            bind: ([127, 0, 0, 1], 0).into(),
            seed: 2026 + seed as u64,
            clock: Arc::new(SystemClock),
        };
        let sim = factory
            .spawn_simulator(options)
            .await
            .map_err(|e| DemoError::Setup(e.to_string()))?;
        sims.insert(factory.kind().to_owned(), sim);
    }
    sims.insert(
        partner::NETWORK.to_owned(),
        partner::spawn_kpay(2040).await?,
    );
    let certs = partner::certificates(dir.path())?;
    let store_url = format!("sqlite://{}", dir.path().join("kakehashi.db").display());
    let audit_key = audit_key(dir.path())?;
    let config = Config::parse(&format!(
        "{}\n{}\n{}",
        config_text(&store_url, &sims),
        audit_key.config,
        certs.config
    ))
    .map_err(|e| DemoError::Setup(e.to_string()))?;
    let static_code = till_static_code(&config)?;
    let switch = Switch::build(config)
        .await
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    let url = format!("http://{}", switch.local_addr());
    let gateway_port = switch
        .partner_gateway_addr()
        .map(|a| a.port())
        .ok_or_else(|| DemoError::Setup("the partner gateway did not start".into()))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switch.serve(async {
        let _ = stopped.await;
    }));
    let till = Terminal::connect(&url, TILL_KEY)
        .await
        .map_err(DemoError::Setup)?;
    let gateway = partner::connect(gateway_port, &certs, static_code).await?;
    println!(
        "Kakehashi demo: the switch on {url}, SQLite at {}",
        dir.path().display()
    );
    println!("Partner gateway (mutual TLS) on https://localhost:{gateway_port}");
    println!("Simulators:");
    for (kind, sim) in &sims {
        println!("  {kind:<12} {}", sim.base_url);
    }
    println!();
    println!("The shift (about 25 s; each scenario prints as it ends):");
    let mut shift = Shift {
        sims,
        till,
        gateway: Some(gateway),
        report: Report::new(layout),
    };
    script::play(&mut shift).await;
    shift.report.reconcile(&mut shift.till).await;
    shift.report.print();
    let _ = stop.send(());
    let _ = server.await;
    println!("{}", audit_epilogue(&store_url, &audit_key).await);
    match shift.report.failures() {
        0 => Ok(shift.report),
        n => Err(DemoError::Failed(n)),
    }
}

/// The EMVCo static code printed at till-1 (what `kakehashi merchant qr` prints).
fn till_static_code(config: &Config) -> Result<String, DemoError> {
    let merchant = config
        .merchants
        .iter()
        .find(|m| m.id == MERCHANT)
        .ok_or_else(|| DemoError::Setup(format!("no merchant {MERCHANT}")))?;
    let place = crate::qr::merchant::Place {
        store_id: None,
        terminal_id: Some("till-1"),
    };
    crate::qr::merchant::static_code(&config.qr, merchant, place)
        .map(|code| code.encode())
        .map_err(|e| DemoError::Setup(format!("the till's static code: {e}")))
}

/// The demo log's signing key, its verifier key, and the `[audit]` table naming it.
struct DemoAuditKey {
    verifier_key: String,
    private_key: String,
    config: String,
}

const DEMO_ORIGIN: &str = "kakehashi.example/audit/demo";

fn audit_key(dir: &std::path::Path) -> Result<DemoAuditKey, DemoError> {
    let setup = |e: crate::audit::checkpoint::CheckpointError| DemoError::Setup(e.to_string());
    let (private_key, verifier_key) =
        crate::audit::checkpoint::keygen(DEMO_ORIGIN).map_err(setup)?;
    let path = dir.join("audit.key");
    crate::audit::checkpoint::write_key_file(&path, &private_key).map_err(setup)?;
    let config = format!(
        "[audit]\norigin = \"{DEMO_ORIGIN}\"\nkey_path = {:?}\ncheckpoint_interval_ms = 1000\n",
        path.display().to_string()
    );
    Ok(DemoAuditKey {
        verifier_key,
        private_key,
        config,
    })
}

/// The shift's last act: export the audit log, verify the export offline with the
/// verifier key alone and replay every routing decision in it, as an auditor would.
async fn audit_epilogue(store_url: &str, key: &DemoAuditKey) -> String {
    let result = async {
        let store = crate::store::SqlStore::connect(store_url)
            .await
            .map_err(|e| e.to_string())?;
        let signer = crate::audit::checkpoint::LogSigner::from_key(&key.private_key, DEMO_ORIGIN)
            .map_err(|e| e.to_string())?;
        crate::audit::writer::checkpoint_now(store.pool(), &signer, SystemClock.now_ms())
            .await
            .map_err(|e| e.to_string())?;
        if crate::store::audit_sql::tree_size(store.pool())
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Ok("Audit log: no entries were written this shift".to_owned());
        }
        // Kept after the demo (its store is not), so the reader can check it with the
        // auditor's commands printed below.
        let out = std::env::temp_dir().join(format!("kakehashi-demo-audit-{}", std::process::id()));
        if out.exists() {
            std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        }
        let summary = crate::audit::export::export(store.pool(), &out)
            .await
            .map_err(|e| e.to_string())?;
        crate::audit::verify::verify_dir(&out, &key.verifier_key).map_err(|e| e.to_string())?;
        let replayed = crate::audit::cli::replay(&out)?;
        Ok::<_, String>(format!(
            "Audit log: {} entries exported to {out} and verified offline with {key}\n\
             Audit replay: {replayed}\n\
             Check it as an auditor: kakehashi audit verify {out} --key {key}\n\
             {pad}and: kakehashi audit replay {out}",
            summary.size,
            out = out.display(),
            key = key.verifier_key,
            pad = " ".repeat("Check it as an auditor: ".len() - "and: ".len()),
        ))
    }
    .await;
    result.unwrap_or_else(|e| format!("Audit log: export or verification FAILED: {e}"))
}

/// The switch config: one merchant accepting every network, short timings so the shift's
/// timeouts resolve in seconds, and each simulator's own adapter config.
pub(crate) fn config_text(store_url: &str, sims: &BTreeMap<String, RunningSimulator>) -> String {
    let networks: Vec<String> = sims.keys().map(|k| format!("\"{k}\"")).collect();
    let mut text = format!(
        r#"
listen = "127.0.0.1:0"
store_url = "{store_url}"
[limits]
pay_wait_ms = 20000
lease_ms = 3000
recovery_interval_ms = 1000
[[merchants]]
id = "{MERCHANT}"
name = "Shinjuku Ramen"
category_code = "5812"
networks = [{networks}]
qr = {{ name = "SHINJUKU RAMEN", city = "TOKYO" }}
[merchants.network_ids]
wechatpay = "1900000109"
alipayplus = "JP-SHINJUKU-RAMEN"
paypay = "shinjuku-ramen-pp"
[[terminals]]
id = "till-1"
merchant_id = "{MERCHANT}"
store_id = "shinjuku-east"
api_key = "{TILL_KEY}"
"#,
        networks = networks.join(", ")
    );
    for (kind, sim) in sims {
        let mut table = sim.adapter_config.clone();
        crate::config::overlay_table(&mut table, script::network_overrides(kind));
        let mut networks = toml::Table::new();
        networks.insert(kind.clone(), toml::Value::Table(table));
        let mut wrapper = toml::Table::new();
        wrapper.insert("networks".into(), toml::Value::Table(networks));
        text.push('\n');
        text.push_str(&toml::to_string(&wrapper).unwrap_or_default());
    }
    text
}
