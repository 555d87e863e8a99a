//! The `kakehashi` command: run the switch, the demo, a network simulator, or a terminal.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kakehashi::config::{Config, TelemetryConfig, hash_api_key};
use kakehashi::telemetry::LogFormat;
use kakehashi::terminal::Terminal;
use kakehashi::terminal::cli::{EXIT_STATUS_HELP, Outcome, TerminalAction};
use kakehashi_adapter_core::{SimulatorOptions, SystemClock};

#[derive(Parser)]
#[command(
    name = "kakehashi",
    version,
    about = "Payment interoperability switch (架け橋)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the switch from a config file.
    Serve {
        /// The switch's TOML config (listen address, store, merchants, terminals, networks).
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
        /// How log lines are written to stderr; overrides `[telemetry] log_format`.
        #[arg(long, value_enum)]
        log_format: Option<LogFormat>,
    },
    /// Run a scripted shift at a Japanese till against in-process simulators and print each
    /// scenario as it ends, then the wallets' balances against the switch's books. Needs
    /// nothing installed.
    Demo {
        /// Print every column on one line per scenario (wider than 120 columns).
        #[arg(long)]
        wide: bool,
    },
    /// Run one wallet network's simulator standalone, as a sandbox for integrators.
    Sim {
        /// Simulator name, e.g. linepay, or grpc-wallet (the reference gRPC partner).
        network: String,
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        partner: PartnerFlags,
    },
    /// Talk to a running switch as a merchant terminal.
    #[command(after_help = EXIT_STATUS_HELP)]
    Terminal {
        /// The switch's gRPC address (https:// needs --ca-cert).
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        server: String,
        /// The terminal's API key, as configured under [[terminals]].
        #[arg(long, env = "KAKEHASHI_API_KEY")]
        api_key: String,
        /// PEM certificate to trust for an https:// server (its CA, or its self-signed cert).
        #[arg(long, env = "KAKEHASHI_CA_CERT")]
        ca_cert: Option<PathBuf>,
        #[command(subcommand)]
        action: TerminalAction,
    },
    /// Benchmark the switch against two same-run baselines (a tonic echo, and a relay that
    /// makes one HTTP call per request): tills drive payments with a mix of refunds,
    /// cancels, replays and dynamic QRs; prints payments/s ÷ each baseline, latency
    /// quantiles, errors by status, CPU and peak RSS per process, and store work per payment.
    /// Every run uses a fresh database.
    Bench {
        /// Operations per target at most (each is one payment, or one call for a baseline).
        #[arg(long, default_value_t = 5000)]
        payments: usize,
        /// Seconds per target at most.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Tills (and baseline clients), each with one call in flight.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 5)]
        refund_pct: u8,
        #[arg(long, default_value_t = 5)]
        cancel_pct: u8,
        #[arg(long, default_value_t = 5)]
        replay_pct: u8,
        /// Dynamic merchant QRs (CreateMerchantQr on PayPay, then cancelled).
        #[arg(long, default_value_t = 5)]
        qr_pct: u8,
        /// Run the switch and the simulators as child processes (`serve`, `sim`).
        #[arg(long)]
        processes: bool,
        /// A PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres: the switch
        /// also runs on a fresh database created there (random name) and dropped after.
        #[arg(long)]
        postgres: Option<String>,
        /// Only PostgreSQL (with --postgres).
        #[arg(long)]
        skip_sqlite: bool,
        /// Instead: hold N payments in flight at a simulator that never answers, and print
        /// the switch's memory per in-flight payment (switch and simulator as processes).
        #[arg(long)]
        hold: Option<usize>,
    },
    /// A seeded crash-and-fault soak: payments, replays, refunds and cancels against every
    /// customer-presented network's simulator with injected faults and switch restarts, then
    /// a check that the switch's books and every network's agree. Exits 1 if they do not.
    Soak {
        /// Decides every operation, fault and restart: the same seed plays the same soak.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 300)]
        operations: usize,
        /// Crash-and-restart events, spread over the run.
        #[arg(long, default_value_t = 5)]
        restarts: usize,
        /// Switch replicas sharing the store.
        #[arg(long, default_value_t = 1)]
        replicas: usize,
        /// A PostgreSQL database used only by soaks (default: SQLite in a temporary directory).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Print the SHA-256 of an API key, for `api_key_sha256` in the config.
    HashKey { key: String },
    /// Close a business day: each network's batch (gross, refunds, fees, tax, net per
    /// merchant), the reports, and on a payout date the fee invoices and the Zengin file.
    Settle {
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
        /// The business date to close, YYYY-MM-DD (JST).
        #[arg(long)]
        date: String,
        /// Where the reports, invoices and Zengin files go.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Reconcile a network's settlement or transaction file for a business day against the
    /// switch's records: every line matched or reported with both sides' values.
    Reconcile {
        #[arg(long, env = "KAKEHASHI_CONFIG")]
        config: PathBuf,
        /// The network's id, as in `[networks.<id>]`.
        #[arg(long)]
        network: String,
        /// The network's file (WeChat Pay downloadbill, PayPay 突合ファイル).
        #[arg(long)]
        file: PathBuf,
        /// The business date the file covers, YYYY-MM-DD (JST).
        #[arg(long)]
        date: String,
        /// Wallet amounts may differ by this many wallet minor units.
        #[arg(long, default_value_t = 1)]
        fx_tolerance_minor: i64,
        /// Also write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Time `close_batch` and its reports over N synthetic payments and print peak memory.
    BenchSettle {
        #[arg(long, default_value_t = 1_000_000)]
        payments: usize,
    },
    /// Time reconciling a WeChat Pay bill of N synthetic payments (facts in a fresh SQLite
    /// store, one seeded discrepancy of every class) and print peak memory.
    BenchReconcile {
        #[arg(long, default_value_t = 1_000_000)]
        payments: usize,
    },
    /// Benchmark the audit log on a throwaway store: bulk-build a tree of N records, then
    /// time durable appends (batches of 1 and 64) and inclusion proofs at that size.
    BenchAudit {
        #[arg(long, default_value_t = 10_000_000)]
        entries: u64,
        /// Entries appended per batch size when timing appends.
        #[arg(long, default_value_t = 2_000)]
        appends: u64,
        /// A database to fill, e.g. sqlite:///tmp/bench.db or postgres://postgres@127.0.0.1/bench
        #[arg(long)]
        store: String,
    },
    /// The compliance audit log: keygen, checkpoint, export, verify, show.
    Audit {
        #[command(subcommand)]
        command: kakehashi::audit::cli::AuditCommand,
    },
    /// Merchant tools: `merchant qr` prints a merchant's static EMVCo code and writes its PNG.
    Merchant {
        #[command(subcommand)]
        command: kakehashi::qr::cli::MerchantCommand,
    },
}

/// What makes a grpc-wallet partner a particular wallet; other simulators take none.
#[derive(clap::Args)]
struct PartnerFlags {
    /// grpc-wallet: the network id it serves, as in `[networks.<id>]`, e.g. kpay.
    #[arg(long = "network")]
    network_id: Option<String>,
    /// grpc-wallet: the name shown for it, e.g. "K-Pay".
    #[arg(long)]
    display_name: Option<String>,
    /// grpc-wallet: the digits its customers' codes start with, e.g. 93.
    #[arg(long)]
    prefix: Option<String>,
    /// grpc-wallet: the currency its wallets hold, e.g. KRW (priced from JPY at its rate).
    #[arg(long)]
    currency: Option<String>,
    /// grpc-wallet: wallet-currency units per yen, e.g. 9.2.
    #[arg(long)]
    rate: Option<String>,
}

impl PartnerFlags {
    /// The flags given, as the simulator's settings table.
    fn settings(&self) -> toml::Table {
        let mut table = toml::Table::new();
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(v) = value {
                table.insert(key.into(), v.clone().into());
            }
        };
        put("network", &self.network_id);
        put("display_name", &self.display_name);
        put("code_prefix", &self.prefix);
        put("wallet_currency", &self.currency);
        if let Some(rate) = &self.rate {
            let mut rates = toml::Table::new();
            rates.insert("JPY".into(), rate.clone().into());
            table.insert("rates".into(), rates.into());
        }
        table
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are not errors. A usage error exits 1, not clap's 2: `terminal`
        // keeps 2 for a declined payment.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Serve { config, log_format } => serve(config, log_format).await,
        Command::Demo { wide } => {
            let layout = if wide {
                kakehashi::demo::Layout::Wide
            } else {
                kakehashi::demo::Layout::Narrow
            };
            kakehashi::demo::run(layout)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Command::Sim {
            network,
            port,
            host,
            seed,
            partner,
        } => {
            sim(
                &network,
                SocketAddr::new(host, port),
                seed,
                &partner.settings(),
            )
            .await
        }
        Command::Terminal {
            server,
            api_key,
            ca_cert,
            action,
        } => {
            return match terminal(&server, &api_key, ca_cert, action).await {
                Ok(outcome) => ExitCode::from(outcome.exit_status()),
                Err(e) => {
                    eprintln!("kakehashi: {e}");
                    ExitCode::from(Outcome::Failed.exit_status())
                }
            };
        }
        Command::Bench {
            payments,
            duration,
            concurrency,
            refund_pct,
            cancel_pct,
            replay_pct,
            qr_pct,
            processes,
            postgres,
            skip_sqlite,
            hold,
        } => {
            if let Some(held) = hold {
                kakehashi::bench::hold::run(held, concurrency, None)
                    .await
                    .map(|report| println!("{report}"))
            } else {
                let options = kakehashi::bench::Options {
                    payments,
                    duration: std::time::Duration::from_secs(duration),
                    concurrency,
                    mix: kakehashi::bench::Mix {
                        refund_pct,
                        cancel_pct,
                        replay_pct,
                        qr_pct,
                    },
                    processes,
                    postgres,
                    skip_sqlite,
                    executable: None,
                };
                kakehashi::bench::run(&options)
                    .await
                    .map(|report| print!("{}", report.render()))
            }
        }
        Command::Soak {
            seed,
            operations,
            restarts,
            replicas,
            postgres,
        } => {
            let options = kakehashi::soak::SoakOptions {
                seed,
                operations,
                restarts,
                postgres,
                replicas,
            };
            match kakehashi::soak::run(options).await {
                Ok(report) => {
                    print!("{}", report.render());
                    if report.passed() {
                        Ok(())
                    } else {
                        Err("the books disagree".to_owned())
                    }
                }
                Err(e) => Err(e),
            }
        }
        Command::BenchAudit {
            entries,
            appends,
            store,
        } => kakehashi::audit::bench::run(entries, appends, &store)
            .await
            .map(|report| print!("{report}")),
        Command::HashKey { key } => {
            println!("{}", hash_api_key(&key));
            Ok(())
        }
        Command::Settle { config, date, out } => settle(&config, &date, &out).await,
        Command::Reconcile {
            config,
            network,
            file,
            date,
            fx_tolerance_minor,
            json,
        } => {
            reconcile(
                &config,
                &network,
                &file,
                &date,
                fx_tolerance_minor,
                json.as_deref(),
            )
            .await
        }
        Command::BenchSettle { payments } => bench_settle(payments),
        Command::BenchReconcile { payments } => bench_reconcile(payments).await,
        Command::Audit { command } => kakehashi::audit::cli::run(command)
            .await
            .map(|out| println!("{out}")),
        Command::Merchant { command } => {
            kakehashi::qr::cli::run(&command).map(|out| println!("{out}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kakehashi: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(path: PathBuf, log_format: Option<LogFormat>) -> Result<(), String> {
    let mut config = Config::load(&path).map_err(|e| e.to_string())?;
    if let Some(format) = log_format {
        config.telemetry.log_format = format;
    }
    let telemetry = kakehashi::telemetry::init(&config.telemetry, "info")?;
    let switch = kakehashi::Switch::build(config)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("kakehashi: serving on {}", switch.local_addr());
    let result = switch
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string());
    telemetry.shutdown().await;
    result
}

async fn settle(config: &std::path::Path, date: &str, out: &std::path::Path) -> Result<(), String> {
    let date: kakehashi::settlement::BusinessDate =
        date.parse().map_err(|e| format!("--date: {e}"))?;
    let now_ms = kakehashi_adapter_core::Clock::now_ms(&SystemClock);
    let report = kakehashi::settlement::cli::settle(config, date, out, now_ms)
        .await
        .map_err(|e| e.to_string())?;
    for (batch, closed_now) in &report.batches {
        let t = &batch.totals;
        println!(
            "{} {}: {} merchants, {} payments, {} refunds, {} reversals, net {} {}{}",
            batch.network,
            batch.business_date,
            batch.lines.len(),
            t.payments,
            t.refunds,
            t.reversals,
            kakehashi::fx::convert::minor_to_string(t.net_minor, batch.currency),
            batch.currency.code(),
            if *closed_now { "" } else { " (already closed)" }
        );
    }
    for payout in &report.payouts {
        println!(
            "payout {} JPY {} on {}",
            payout.merchant_id, payout.amount_yen, payout.transfer_date
        );
    }
    for file in &report.files {
        println!("wrote {}", file.display());
    }
    Ok(())
}

/// Prints the report; fails (exit 1) when the file and the records disagree, so a script
/// notices.
async fn reconcile(
    config: &std::path::Path,
    network: &str,
    file: &std::path::Path,
    date: &str,
    fx_minor: i64,
    json: Option<&std::path::Path>,
) -> Result<(), String> {
    let date: kakehashi::settlement::BusinessDate =
        date.parse().map_err(|e| format!("--date: {e}"))?;
    let report = kakehashi::settlement::reconcile::cli::run(config, network, file, date, fx_minor)
        .await
        .map_err(|e| e.to_string())?;
    print!(
        "{}",
        kakehashi::settlement::reconcile::cli::to_text(&report)
    );
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(format!("{} discrepancies", report.findings.len()))
    }
}

fn bench_settle(payments: usize) -> Result<(), String> {
    let r = kakehashi::settlement::bench::run(payments)?;
    println!(
        "payments {} (facts {}, merchants {}): generate {} ms, close_batch {} ms, CSV+JSON {} ms \
         ({} + {} bytes), peak RSS {}",
        r.payments,
        r.facts,
        r.merchants,
        r.generate_ms,
        r.close_ms,
        r.report_ms,
        r.csv_bytes,
        r.json_bytes,
        r.peak_rss_kib
            .map_or("unknown".to_owned(), |k| format!("{} MiB", k / 1024))
    );
    Ok(())
}

async fn bench_reconcile(payments: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let r = kakehashi::settlement::reconcile::bench::run(payments, dir.path()).await?;
    println!(
        "payments {} (facts {}): store facts {} ms, write bill {} ms ({} lines, {} bytes), \
         reconcile {} ms; {}; peak RSS {}",
        r.payments,
        r.facts,
        r.store_ms,
        r.write_ms,
        r.file_lines,
        r.file_bytes,
        r.reconcile_ms,
        kakehashi::settlement::reconcile::bench::summary(&r.report),
        r.peak_rss_kib
            .map_or("unknown".to_owned(), |k| format!("{} MiB", k / 1024))
    );
    Ok(())
}

async fn sim(
    network: &str,
    bind: SocketAddr,
    seed: u64,
    settings: &toml::Table,
) -> Result<(), String> {
    let _telemetry = kakehashi::telemetry::init(&TelemetryConfig::default(), "info")?;
    let factory = kakehashi::networks::simulator_factory(network).ok_or_else(|| {
        let known: Vec<_> = kakehashi::networks::factories()
            .iter()
            .map(|f| f.simulator_name())
            .collect();
        format!("no simulator for `{network}` (known: {})", known.join(", "))
    })?;
    let options = SimulatorOptions {
        bind,
        seed,
        clock: Arc::new(SystemClock),
    };
    let sim = factory
        .spawn_simulator_with(options, settings)
        .await
        .map_err(|e| e.to_string())?;
    // The table is named for the network the simulator serves: its kind, or the id a
    // multi-network simulator was given (`--network kpay`).
    let id = settings
        .get("network")
        .and_then(|v| v.as_str())
        .unwrap_or(factory.kind())
        .to_owned();
    let table = kakehashi::networks::simulator_config_toml(&id, &sim)
        .map_err(|e| format!("cannot print the {id} config: {e}"))?;
    println!("# {network} simulator listening on {}", sim.base_url);
    println!("# Paste what follows into the switch's config file as is:");
    println!("{table}");
    println!(
        "# Controls (wallets, codes, faults, the books): {}/_sim (docs/simulators.md)",
        sim.base_url
    );
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

async fn terminal(
    server: &str,
    api_key: &str,
    ca_cert: Option<PathBuf>,
    action: TerminalAction,
) -> Result<Outcome, String> {
    let ca_pem = match ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("--ca-cert {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut t = Terminal::connect_with_ca(server, api_key, ca_pem.as_deref()).await?;
    kakehashi::terminal::cli::run(&mut t, action).await
}
