//! An integrator's first hour: what the switch and the `kakehashi` command tell a person
//! trying them by hand. The API says why a payment ended where it did; the `terminal`
//! command (the built binary, run as a user would) answers with help, made-up ids, exit
//! statuses a script can tell apart and a QR watch that gives up; logs read well in a file.
use kakehashi::store::Store;
use kakehashi_proto::v1::PaymentState;

mod support;
use support::linepay as lp;

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
