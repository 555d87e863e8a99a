//! An integrator in another language: tests/python/acceptance_client.py generates Python
//! stubs from the protos, sends bad requests to the real switch and reads the google.rpc
//! details (BadRequest, ErrorInfo, PreconditionFailure) as any Python gRPC client does.
//!
//! It needs Python 3 with tests/python/requirements.txt installed (`.ci/run` installs them
//! and sets `KAKEHASHI_PYTHON`). Without them the test says SKIPPED, loudly; in CI (`CI`
//! set) or when `KAKEHASHI_PYTHON` names an interpreter, it fails instead.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::linepay as lp;
use support::switch::{TILL_KEY, spawn_switch};

/// Longest the script may run: it makes six calls to a switch on loopback.
const SCRIPT_DURATION_MAX: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreter to use, or `None` (after saying why) when the test may be skipped.
fn python() -> Option<String> {
    let chosen = std::env::var("KAKEHASHI_PYTHON").ok();
    let python = chosen.clone().unwrap_or_else(|| "python3".to_owned());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import grpc, grpc_tools.protoc, grpc_status.rpc_status, google.rpc.error_details_pb2",
        ])
        .output();
    let missing = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        Err(e) => format!("cannot run {python}: {e}"),
    };
    let install = "pip install -r tests/python/requirements.txt";
    if std::env::var("CI").is_ok() || chosen.is_some() {
        panic!("the Python test client needs {python} with its packages ({install}): {missing}");
    }
    eprintln!("SKIPPED: Python test client: {python} lacks its packages ({install}): {missing}");
    None
}

/// Runs the command to completion or kills it at the deadline.
fn run_bounded(mut command: Command, deadline: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    let started = Instant::now();
    while child.try_wait().expect("python status").is_none() {
        if started.elapsed() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("python output")
}

fn script_command(python: &str, target: &str, short_code: &str) -> Command {
    let root: &Path = &repo();
    let mut command = Command::new(python);
    command
        .arg(root.join("tests/python/acceptance_client.py"))
        .args(["--target", target])
        .args(["--api-key", TILL_KEY])
        .arg("--proto-root")
        .arg(root.join("proto"))
        .args(["--short-wallet-code", short_code]);
    command
}

#[tokio::test]
async fn a_python_client_reads_every_error_detail() {
    let Some(python) = python() else {
        return;
    };
    let switch = spawn_switch().await;
    let short = lp::wallet(&switch, 500);
    let short_code = lp::code(&switch, &short);
    let command = script_command(&python, &switch.addr.to_string(), &short_code);

    let output = tokio::task::spawn_blocking(move || run_bounded(command, SCRIPT_DURATION_MAX))
        .await
        .expect("script thread");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("python client: 6 stories passed"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(lp::balance(&switch, &short), 500, "nothing was charged");
}
