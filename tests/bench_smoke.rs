//! `kakehashi bench`, short: both baselines and the switch, in-process and as separate
//! processes, with every kind of operation in the mix. The figures must be sane and
//! non-zero and no call may fail.
use std::time::Duration;

use kakehashi::bench::{Mix, Options, Report, Run};

fn options(payments: usize, processes: bool) -> Options {
    Options {
        payments,
        duration: Duration::from_secs(120),
        concurrency: 8,
        mix: Mix {
            refund_pct: 10,
            cancel_pct: 10,
            replay_pct: 10,
            qr_pct: 10,
        },
        processes,
        postgres: None,
        skip_sqlite: false,
        executable: Some(env!("CARGO_BIN_EXE_kakehashi").into()),
    }
}

fn check_run(run: &Run, payments: usize) {
    let m = &run.samples;
    assert!(m.errors.is_empty(), "{}: {:?}", run.name, m.errors);
    assert_eq!(m.operations, payments as u64, "{}", run.name);
    assert_eq!(m.latencies_us.len(), payments, "{}", run.name);
    assert!(run.per_second() > 0.0, "{}", run.name);
    let (p50, p99, p999) = (
        m.quantile_ms(0.5),
        m.quantile_ms(0.99),
        m.quantile_ms(0.999),
    );
    assert!(
        0.0 < p50 && p50 <= p99 && p99 <= p999,
        "{}: {p50} {p99} {p999}",
        run.name
    );
    assert!(p999 < 60_000.0, "{}: p99.9 {p999} ms", run.name);
    assert!(
        run.usage.cpu_seconds() > 0.0,
        "{}: no CPU measured",
        run.name
    );
    assert!(run.cpu_us_per_unit() > 0.0);
    for p in &run.usage.processes {
        assert!(
            p.peak_rss_kib.is_some_and(|k| k > 1024),
            "{}: {p:?}",
            run.name
        );
    }
}

fn check_baselines(report: &Report, payments: usize) {
    for name in ["echo", "relay"] {
        let run = report.run(name).expect("baseline ran");
        check_run(run, payments);
        assert!(run.store.is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_in_process_bench_reports_sane_figures() {
    let payments = 200;
    let report = kakehashi::bench::run(&options(payments, false))
        .await
        .expect("bench runs");
    check_baselines(&report, payments);
    let switch = report.run("switch/sqlite").expect("switch ran");
    check_run(switch, payments);
    // Every operation made a payment (QRs included), and the mix made extra calls.
    assert_eq!(switch.samples.payments, payments as u64);
    assert!(switch.samples.calls > payments as u64);
    let store = switch.store.as_ref().expect("store figures");
    let stats = store.stats.expect("in-process counters");
    let statements = store.statements.expect("statements counted");
    // A payment is several statements and acquisitions; group commit shares transactions
    // and durable commits between payments, so there may be fewer than one per payment,
    // but never none. Far more than 100 of any per payment would be a counting bug.
    let per = |n: u64| n as f64 / payments as f64;
    assert!((1.0..100.0).contains(&per(statements)), "{statements}");
    assert!(stats.transactions > 0, "{stats:?}");
    assert!(per(stats.transactions) < 20.0, "{stats:?}");
    assert!(stats.commits <= stats.transactions, "{stats:?}");
    assert!(stats.durable_commits() > 0, "{stats:?}");
    assert!(per(stats.durable_commits()) < 20.0, "{stats:?}");
    assert!((1.0..100.0).contains(&per(stats.acquisitions)), "{stats:?}");
    // Every payment's insert is among the statements, listed by kind.
    let inserts: u64 = store
        .statement_kinds
        .iter()
        .filter(|(summary, _)| summary.starts_with("INSERT INTO payments "))
        .map(|(_, n)| n)
        .sum();
    assert!(inserts >= payments as u64, "{:?}", store.statement_kinds);
    let text = report.render();
    for needle in [
        "÷ echo",
        "÷ relay",
        "µs per payment",
        "statements",
        "durable commits",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_bench_runs_the_switch_and_simulators_as_processes() {
    let payments = 60;
    let report = kakehashi::bench::run(&options(payments, true))
        .await
        .expect("bench runs");
    check_baselines(&report, payments);
    let switch = report.run("switch/sqlite").expect("switch ran");
    check_run(switch, payments);
    let labels: Vec<&str> = switch
        .usage
        .processes
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    for label in ["switch", "sim linepay", "sim paypay"] {
        assert!(labels.contains(&label), "{labels:?}");
    }
    let own = |label: &str| {
        switch
            .usage
            .processes
            .iter()
            .find(|p| p.label == label)
            .map_or(0.0, |p| p.cpu_seconds)
    };
    assert!(own("switch") > 0.0, "{labels:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_hold_keeps_every_payment_in_flight_and_measures_the_switch() {
    let held = 40;
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kakehashi"));
    let report = kakehashi::bench::hold::run(held, 8, Some(&exe))
        .await
        .expect("hold runs");
    // Every Pay came back AUTHORIZING: its payment is held at the network. The simulator's
    // table asks for HTTP/2, so the held calls are streams on one connection and the
    // switch's open files did not grow with them (over HTTP/1.1 each held its own).
    assert_eq!((report.held, report.errors), (held, 0), "{report}");
    assert!(report.held_fds < report.idle_fds + held / 4, "{report}");
    assert!(
        report.idle_rss_kib > 0 && report.held_rss_kib > 0,
        "{report}"
    );
    assert!(report.to_string().contains("per in-flight payment"));
    assert!(kakehashi::bench::hold::run(0, 8, Some(&exe)).await.is_err());
}
