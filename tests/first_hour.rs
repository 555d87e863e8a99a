//! An integrator's first hour: what the switch and the `kakehashi` command tell a person
//! trying them by hand. The API says why a payment ended where it did; the `terminal`
//! command (the built binary, run as a user would) answers with help, made-up ids, exit
//! statuses a script can tell apart and a QR watch that gives up; logs read well in a file.
use kakehashi::store::Store;
use kakehashi_adapter_core::sim_control::SimulatorControl;
use kakehashi_proto::v1::PaymentState;

mod support;
use support::linepay as lp;
use support::switch::{Options, TILL_KEY, TestSwitch, spawn_switch, spawn_with};

#[tokio::test]
async fn a_reversed_payment_says_why_through_the_api() {
    let switch = lp::spawn_with_short_deadline().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    lp::black_hole(&switch); // pay and every check hang: the deadline passes unresolved
    let code = lp::code(&switch, &wallet);
    let clear = {
        let control = lp::control(&switch);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
            control.clear_faults(); // back in time for the void
        })
    };

    till.pay("order-why", "1200", "JPY", &code).await.unwrap();
    clear.await.unwrap();
    let reversed = lp::wait_state(&mut till, "order-why", PaymentState::Reversed).await;

    let transitions = switch
        .store()
        .await
        .transitions(&reversed.payment_id)
        .await
        .unwrap();
    let detail_into = |state: kakehashi::domain::PaymentState| {
        transitions
            .iter()
            .find(|t| t.to == state)
            .map(|t| t.detail.clone())
            .expect("transition stored")
    };
    let started = detail_into(kakehashi::domain::PaymentState::Reversing);
    let ended = detail_into(kakehashi::domain::PaymentState::Reversed);
    assert!(
        reversed.state_reason.starts_with(&started) && reversed.state_reason.ends_with(&ended),
        "why it started reversing ({started}) and how it ended ({ended}), got: {}",
        reversed.state_reason
    );
    assert_eq!(
        till.get("order-why").await.unwrap().state_reason,
        reversed.state_reason,
        "GetPayment tells the same reason"
    );
}

/// Runs the built `kakehashi` binary as a user would (no API key from the environment);
/// fails the test if it runs for more than a minute.
async fn kakehashi(args: Vec<String>) -> std::process::Output {
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args(&args)
            .env_remove("KAKEHASHI_API_KEY")
            .env_remove("RUST_LOG")
            .output()
            .expect("the kakehashi binary runs")
    });
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("kakehashi finished within a minute")
        .expect("runner thread")
}

/// `kakehashi terminal --server <switch> --api-key <till> <args>`.
async fn terminal(switch: &TestSwitch, args: &[&str]) -> Output {
    let mut all: Vec<String> = ["terminal", "--server", &switch.url(), "--api-key", TILL_KEY]
        .map(str::to_owned)
        .to_vec();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    Output::of(kakehashi(all).await)
}

/// What a command printed and how it exited.
struct Output {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn of(output: std::process::Output) -> Self {
        Self {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

#[tokio::test]
async fn a_declined_payment_exits_2_so_a_script_can_tell() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 500);
    let code = lp::code(&switch, &wallet);

    let out = terminal(&switch, &["pay", "--code", &code, "--amount", "1200"]).await;

    assert_eq!(
        out.status,
        Some(2),
        "stdout: {} stderr: {}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.starts_with("ord"),
        "the made-up order id leads: {}",
        out.stdout
    );
    assert!(out.stdout.contains("DECLINED"), "{}", out.stdout);
    assert!(out.stdout.contains("INSUFFICIENT_FUNDS"), "{}", out.stdout);
    assert_eq!(lp::balance(&switch, &wallet), 500);
}

#[tokio::test]
async fn a_paid_order_exits_0_and_a_refused_request_exits_1() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let code = lp::code(&switch, &wallet);
    let description = "x".repeat(129);

    let refused = terminal(
        &switch,
        &[
            "pay",
            "--code",
            &code,
            "--amount",
            "1200",
            "--description",
            &description,
        ],
    )
    .await;
    let paid = terminal(
        &switch,
        &[
            "pay",
            "--code",
            &code,
            "--amount",
            "1200",
            "--order-id",
            "order-ok",
            "--description",
            "ramen set",
        ],
    )
    .await;

    assert_eq!(refused.status, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("InvalidArgument") && refused.stderr.contains("description"),
        "the switch saw --description: {}",
        refused.stderr
    );
    assert_eq!(paid.status, Some(0), "{} {}", paid.stdout, paid.stderr);
    assert!(
        paid.stdout.starts_with("order-ok JPY 1200 SUCCEEDED"),
        "{}",
        paid.stdout
    );
    assert_eq!(lp::balance(&switch, &wallet), 8_800);
}

#[tokio::test]
async fn a_refund_without_an_id_gets_one_and_prints_its_own_amount_and_state() {
    let switch = spawn_switch().await;
    let wallet = lp::wallet(&switch, 10_000);
    let mut till = switch.terminal().await;
    till.pay("order-r", "1200", "JPY", &lp::code(&switch, &wallet))
        .await
        .unwrap();

    let out = terminal(
        &switch,
        &[
            "refund",
            "--order-id",
            "order-r",
            "--amount",
            "500",
            "--reason",
            "a bowl came back",
        ],
    )
    .await;

    assert_eq!(out.status, Some(0), "{} {}", out.stdout, out.stderr);
    let first = out.stdout.lines().next().unwrap_or_default();
    let refund_id = first
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert!(refund_id.starts_with("ref"), "a made-up refund id: {first}");
    assert!(
        first.starts_with(&format!("refund {refund_id} of order-r: JPY 500 SUCCEEDED")),
        "the refund's own amount and state: {first}"
    );
    let payment = till.get("order-r").await.unwrap();
    let refund = payment
        .refunds
        .iter()
        .find(|r| r.refund_id == refund_id)
        .expect("the printed id is the refund's id");
    assert_eq!(
        refund.amount.as_ref().map(|m| m.value.as_str()),
        Some("500")
    );
    assert!(
        out.stdout.contains("PARTIALLY_REFUNDED"),
        "then the payment: {}",
        out.stdout
    );
    assert_eq!(lp::balance(&switch, &wallet), 9_300);
}

#[tokio::test]
async fn a_cancel_passes_its_reason_to_the_switch() {
    let switch = spawn_switch().await;
    let long = "y".repeat(129);

    let out = terminal(
        &switch,
        &["cancel", "--order-id", "no-such", "--reason", &long],
    )
    .await;

    assert_eq!(out.status, Some(1));
    assert!(
        out.stderr.contains("InvalidArgument: reason"),
        "the switch checked --reason: {}",
        out.stderr
    );
}

#[tokio::test]
async fn a_qr_nobody_pays_is_shown_once_and_given_up_after_the_timeout() {
    let switch = spawn_with(Options {
        networks: vec!["paypay"],
        ..Options::default()
    })
    .await;

    let started = std::time::Instant::now();
    let out = terminal(
        &switch,
        &[
            "qr",
            "--network",
            "paypay",
            "--amount",
            "1500",
            "--order-id",
            "qr-1",
            "--timeout",
            "1",
        ],
    )
    .await;

    assert_eq!(out.status, Some(3), "{} {}", out.stdout, out.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(
        out.stdout.matches("AWAITING_CUSTOMER").count(),
        1,
        "each state once: {}",
        out.stdout
    );
    let qr_id = switch
        .terminal()
        .await
        .get("qr-1")
        .await
        .unwrap()
        .network_txn_id;
    assert!(
        !qr_id.is_empty() && out.stdout.contains(&format!("QR {qr_id}")),
        "the QR's id is labelled a QR: {}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("gave up waiting after 1 s: qr-1 is still AWAITING_CUSTOMER"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn every_terminal_subcommand_explains_itself_and_its_exit_status() {
    let top = Output::of(kakehashi(vec!["terminal".into(), "--help".into()]).await);
    assert_eq!(top.status, Some(0));
    assert!(top.stdout.contains("Exit status") && top.stdout.contains("2  declined"));
    for sub in ["pay", "qr", "get", "watch", "cancel", "refund"] {
        let help =
            Output::of(kakehashi(vec!["terminal".into(), sub.into(), "--help".into()]).await);
        assert_eq!(help.status, Some(0), "{sub}: {}", help.stderr);
        let about = help.stdout.lines().next().unwrap_or_default();
        assert!(about.len() > 20, "{sub} says what it does: {about}");
        assert!(help.stdout.contains("--order-id"), "{sub}: {}", help.stdout);
        assert!(
            help.stdout.contains("Exit status"),
            "{sub}: {}",
            help.stdout
        );
    }
}

/// Starts `kakehashi serve` with `config` and `args`, reads its stderr until the switch logs
/// that it serves, stops it, and returns what it wrote.
fn serve_stderr(config: &str, args: &[&str]) -> String {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kakehashi.toml");
    let store = dir.path().join("kakehashi.db");
    let text = format!(
        "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://{}\"\n{config}",
        store.display()
    );
    std::fs::write(&path, text).expect("config written");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("Kakehashi serving");
            if tx.send(line).is_err() || done {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(30)) {
        let done = line.contains("Kakehashi serving");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines.join("\n")
}

#[test]
fn serve_logs_json_lines_when_the_config_asks() {
    let stderr = serve_stderr("[telemetry]\nlog_format = \"json\"\n", &[]);

    let logged: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert!(
        logged
            .iter()
            .any(|l| l["message"] == "Kakehashi serving" && l["level"] == "INFO"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn the_flag_wins_and_text_logs_to_a_pipe_carry_no_colour_codes() {
    let stderr = serve_stderr(
        "[telemetry]\nlog_format = \"json\"\n",
        &["--log-format", "text"],
    );

    let line = stderr
        .lines()
        .find(|l| l.contains("Kakehashi serving"))
        .unwrap_or_else(|| panic!("the switch logged that it serves: {stderr}"));
    assert!(
        !line.starts_with('{'),
        "--log-format text wins over the config: {line}"
    );
    assert!(line.contains("INFO"), "{line}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI escapes into a pipe: {stderr:?}"
    );
}
