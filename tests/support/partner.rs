//! The reference partner (`grpc-wallet`) as any wallet network, with short timings so the
//! tests' in-doubt and reversal paths finish quickly.
use std::sync::Arc;

use kakehashi_adapter_core::{RunningSimulator, SimulatorOptions, SystemClock};

/// A partner for `network` whose codes start with `prefix` and whose wallets hold
/// `currency`; payments must resolve within `deadline_ms`.
pub async fn spawn(
    network: &str,
    prefix: &str,
    currency: &str,
    deadline_ms: u64,
    seed: u64,
) -> RunningSimulator {
    let settings: toml::Table = format!(
        "network = \"{network}\"\ncode_prefix = \"{prefix}\"\nwallet_currency = \"{currency}\"\n\
         timing = {{ payment_deadline_ms = {deadline_ms}, query_first_delay_ms = 200, \
         query_interval_ms = 200, call_timeout_ms = 1000 }}\n"
    )
    .parse()
    .expect("partner settings");
    kakehashi::networks::simulator_factory("grpc-wallet")
        .expect("the reference partner is linked")
        .spawn_simulator_with(
            SimulatorOptions {
                bind: "127.0.0.1:0".parse().expect("addr"),
                seed,
                clock: Arc::new(SystemClock),
            },
            &settings,
        )
        .await
        .expect("the partner starts")
}
