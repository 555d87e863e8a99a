//! Code identification across every network, as configured from the real adapters: a
//! table of real-shaped codes with the network (and wallet) each must reach, or the refusal.
use std::sync::Arc;

use kakehashi::Config;
use kakehashi::networks::Networks;
use kakehashi::routing::IdentifyError;
use kakehashi_adapter_core::{PaymentCode, SystemClock};

mod support;
use support::switch::{Options, spawn_with};

const ALL: [&str; 4] = ["alipayplus", "linepay", "paypay", "wechatpay"];

async fn networks(extra_linepay: &str) -> Networks {
    let mut options = Options {
        networks: ALL.to_vec(),
        ..Options::default()
    };
    if !extra_linepay.is_empty() {
        options
            .network_extra
            .insert("linepay", extra_linepay.into());
    }
    let switch = spawn_with(options).await;
    let config = Config::parse(&switch.config_text).unwrap();
    Networks::build(&config.network_settings().unwrap(), Arc::new(SystemClock)).unwrap()
}

fn digits(prefix: &str, len: usize) -> String {
    let mut s = prefix.to_owned();
    let mut d = 3u8;
    while s.len() < len {
        s.push(char::from(b'0' + d));
        d = (d + 7) % 10;
    }
    s
}

#[tokio::test]
async fn every_real_shaped_code_reaches_its_network_or_is_refused() {
    let networks = networks("").await;
    // (code, expected network or "" for refused, expected wallet brand from the code)
    let table: Vec<(String, &str, Option<&str>)> = vec![
        // LINE Pay JP MyCode: 19 digits, 9000000000...
        ("9000000000123456789".into(), "linepay", Some("LINE Pay")),
        (digits("9000000000", 18), "", None),
        (digits("9000000000", 20), "", None),
        // PayPay (Kakehashi extension codes): 24 digits, 9000818188...
        (digits("9000818188", 24), "paypay", Some("PayPay")),
        (digits("9000818188", 23), "", None),
        (digits("9000818188", 25), "", None),
        // WeChat Pay: 18 digits, 10-14 mainland, 15 Hong Kong, 160 fusion.
        ("134567890123456789".into(), "wechatpay", Some("WeChat Pay")),
        (digits("10", 18), "wechatpay", Some("WeChat Pay")),
        (digits("11", 18), "wechatpay", Some("WeChat Pay")),
        (digits("12", 18), "wechatpay", Some("WeChat Pay")),
        ("120061098828009406".into(), "wechatpay", Some("WeChat Pay")),
        (digits("14", 18), "wechatpay", Some("WeChat Pay")),
        (digits("15", 18), "wechatpay", Some("WeChat Pay HK")),
        (digits("160", 18), "wechatpay", Some("WeChat Pay")),
        (digits("13", 17), "", None),
        (digits("13", 19), "", None),
        (digits("16", 18), "", None),
        // Alipay / Alipay+: 25-30, 16-32 digits; CGCP routing numbers name the wallet.
        ("28024456785672301".into(), "alipayplus", None),
        ("2893612204263667830".into(), "alipayplus", None),
        (digits("25", 16), "alipayplus", None),
        (digits("26", 20), "alipayplus", None),
        (digits("27", 24), "alipayplus", None),
        (digits("29", 19), "alipayplus", None),
        (digits("30", 32), "alipayplus", None),
        ("251001020123456789012345".into(), "alipayplus", None),
        (digits("281010", 24), "alipayplus", Some("KakaoPay")),
        (digits("301012", 24), "alipayplus", Some("TrueMoney")),
        // Any agreement digit and any length 16-32: `^(2[5-9]|30)\d<routing>\d*$`.
        (digits("281010", 18), "alipayplus", Some("KakaoPay")),
        (digits("287010", 32), "alipayplus", Some("KakaoPay")),
        (digits("28", 15), "", None),
        (digits("28", 33), "", None),
        (digits("24", 18), "", None),
        (digits("31", 18), "", None),
        // Other schemes this switch does not carry.
        (digits("62", 19), "", None),
        (digits("900001", 16), "", None),
        (digits("31589900", 19), "", None),
        (digits("90000002", 22), "", None),
    ];
    assert!(table.len() >= 30);
    for (code, network, brand) in &table {
        let parsed = PaymentCode::parse(code).unwrap();
        match (networks.codes().identify(&parsed), *network) {
            (Ok(hit), expected) => {
                assert_eq!(hit.network, expected, "code {code}");
                assert_eq!(hit.brand.as_deref(), *brand, "brand of {code}");
            }
            (Err(IdentifyError::Unknown), "") => {}
            (Err(e), expected) => panic!("code {code}: expected `{expected}`, got {e}"),
        }
    }
}

#[tokio::test]
async fn a_code_two_networks_claim_equally_is_refused_as_ambiguous() {
    // An operator's override gives LINE Pay Alipay's "28" prefix at the same prefix length.
    let networks =
        networks(r#"code_patterns = [{ prefix = "28", length_min = 18, length_max = 18 }]"#).await;
    let code = PaymentCode::parse("280244567856723011").unwrap();
    assert_eq!(
        networks.codes().identify(&code),
        Err(IdentifyError::Ambiguous("alipayplus, linepay".into()))
    );
    // The override replaced LINE Pay's own row.
    assert_eq!(
        networks
            .codes()
            .identify(&PaymentCode::parse("9000000000123456789").unwrap()),
        Err(IdentifyError::Unknown)
    );
}
