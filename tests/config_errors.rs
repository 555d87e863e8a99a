//! Configuration that would fail on the first payment fails at start instead, naming the
//! merchant and the key to set.
use std::sync::Arc;

use kakehashi::{Config, Switch};
use kakehashi_adapter_core::{SimulatorOptions, SystemClock};

#[tokio::test]
async fn a_wechat_merchant_without_its_sub_mch_id_is_refused_at_start() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let factory = kakehashi::networks::factory("wechatpay").expect("linked");
    let sim = factory
        .spawn_simulator(SimulatorOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            seed: 1,
            clock: Arc::new(SystemClock),
        })
        .await
        .unwrap();
    let table = kakehashi::networks::simulator_config_toml("wechatpay", &sim).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = |ids: &str| {
        format!(
            "listen = \"127.0.0.1:0\"\nstore_url = \"sqlite://{}\"\n\
             [[merchants]]\nid = \"kyoto-tea\"\nname = \"Kyoto Tea\"\nnetworks = [\"wechatpay\"]\n{ids}\n{table}",
            dir.path().join("k.db").display()
        )
    };

    let missing = Config::parse(&config("")).expect("parses");
    let err = Switch::build(missing)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("kyoto-tea"), "{err}");
    assert!(err.contains("sub_mch_id"), "{err}");
    assert!(err.contains("[merchants.network_ids]"), "{err}");

    let given = Config::parse(&config(
        "[merchants.network_ids]\nwechatpay = \"1900000109\"\n",
    ))
    .expect("parses");
    assert!(Switch::build(given).await.is_ok());
}
