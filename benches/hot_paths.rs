//! The hot pure functions of a payment, timed with criterion: identifying a code's network,
//! each network's request signing, FX conversion, appending to the audit log's Merkle tree,
//! and parsing an EMVCo merchant QR. Run `cargo bench --bench hot_paths`; the README's
//! Performance section has the figures.
use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iso_currency::Currency;
use kakehashi::audit::tree::{MemoryHashes, PrefetchedHashes, append_hashes, append_reads};
use kakehashi::fx::convert::{RoundingMode, convert};
use kakehashi::routing::CodeTable;
use kakehashi_adapter_core::{CodePattern, Money, PaymentCode};
use rust_decimal::Decimal;
use tlog_tiles::record_hash;

/// The code table of a switch accepting the four customer-presented networks, with the
/// rows their adapters declare (LINE Pay, PayPay, WeChat Pay and its HK brand, Alipay+ with
/// one wallet's CGCP rows): a realistic scan length.
fn code_table() -> CodeTable {
    let mut table = CodeTable::new();
    let rows = |patterns: &[(&str, usize, usize, &str)]| -> Vec<CodePattern> {
        patterns
            .iter()
            .map(|(p, min, max, brand)| CodePattern::new(p, *min, *max).with_brand(brand))
            .collect()
    };
    let ok = |r: Result<(), String>| r.unwrap_or_else(|e| panic!("{e}"));
    ok(table.add("linepay", &rows(&[("9000000000", 19, 19, "LINE Pay")])));
    ok(table.add("paypay", &rows(&[("9000818188", 24, 24, "PayPay")])));
    let wechat: Vec<(&str, usize, usize, &str)> = ["10", "11", "12", "13", "14"]
        .iter()
        .map(|p| (*p, 18, 18, "WeChat Pay"))
        .chain([
            ("15", 18, 18, "WeChat Pay HK"),
            ("160", 18, 18, "WeChat Pay"),
        ])
        .collect();
    ok(table.add("wechatpay", &rows(&wechat)));
    let mut alipay = Vec::new();
    for p in ["25", "26", "27", "28", "29", "30"] {
        alipay.push(CodePattern::new(p, 16, 32));
        for agreement in 0..=9 {
            alipay.push(
                CodePattern::new(&format!("{p}{agreement}123"), 16, 32).with_brand("Kakao Pay"),
            );
        }
    }
    ok(table.add("alipayplus", &alipay));
    table
}

fn identify(c: &mut Criterion) {
    let table = code_table();
    let line = PaymentCode::parse("9000000000123456789").expect("code");
    let alipay = PaymentCode::parse("2811234567890123456789").expect("code");
    c.bench_function("identify/linepay", |b| {
        b.iter(|| table.identify(black_box(&line)))
    });
    c.bench_function("identify/alipayplus_cgcp", |b| {
        b.iter(|| table.identify(black_box(&alipay)))
    });
}

fn signing(c: &mut Criterion) {
    let body = br#"{"amount":100,"currency":"JPY","orderId":"bench-1","productName":"Ramen","oneTimeKey":"900000000012345678"}"#;
    c.bench_function("sign/linepay_hmac_sha256", |b| {
        b.iter(|| {
            kakehashi_linepay::sign::signature(
                black_box("channel-secret-0123456789abcdef"),
                "/v3/payments/oneTimeKeys/pay",
                black_box(body),
                "5f1d3e6a-0c1b-4f7e-9a53-0a4c8e2b1d77",
            )
        })
    });
    let signed = kakehashi_paypay::sign::Signed {
        path: "/v2/payments",
        method: "POST",
        nonce: "a1b2c3d4",
        epoch: 1_700_000_000,
        body: Some(("application/json", body)),
    };
    c.bench_function("sign/paypay_opa_hmac", |b| {
        b.iter(|| {
            kakehashi_paypay::sign::authorization(
                "api-key-0123",
                black_box("api-secret-0123456789"),
                black_box(&signed),
            )
        })
    });
    let fields: BTreeMap<String, String> = [
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "10000100"),
        ("sub_mch_id", "1900000109"),
        ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("body", "Ramen"),
        ("out_trade_no", "bench-1"),
        ("total_fee", "100"),
        ("fee_type", "JPY"),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", "134567890123456789"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (name, kind) in [
        (
            "sign/wechatpay_md5",
            kakehashi_wechatpay::sign::SignType::Md5,
        ),
        (
            "sign/wechatpay_hmac_sha256",
            kakehashi_wechatpay::sign::SignType::HmacSha256,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                kakehashi_wechatpay::sign::sign(
                    black_box(&fields),
                    "192006250b4c09247ec02edce69f6a2d",
                    kind,
                )
            })
        });
    }
    let (private, _) = kakehashi_alipayplus::sign::generate_pem_pair().expect("RSA key");
    let signer = kakehashi_alipayplus::sign::Signer::from_pkcs8_pem(&private).expect("key");
    c.bench_function("sign/alipayplus_rsa2048_sha256", |b| {
        b.iter(|| {
            let content = kakehashi_alipayplus::sign::content(
                "POST",
                "/aps/api/v1/payments/pay",
                "CLIENT-ID",
                "2026-01-01T00:00:00+09:00",
                black_box(body),
            );
            signer.sign(&content)
        })
    });
}

fn fx(c: &mut Criterion) {
    let amount = Money::from_minor(123_456, Currency::JPY).expect("money");
    let rate: Decimal = "0.0064213".parse().expect("rate");
    c.bench_function("fx/convert_jpy_usd_half_even", |b| {
        b.iter(|| {
            convert(
                black_box(amount),
                black_box(rate),
                Currency::USD,
                RoundingMode::HalfEven,
            )
        })
    });
}

fn merkle(c: &mut Criterion) {
    // A tree of 1,000,000 records; time the planning and hashing of one more record and of a
    // batch of 64 (as a group commit would append).
    let size = 1_000_000u64;
    let mut tree = MemoryHashes::default();
    for n in 0..size {
        tree.push(record_hash(&n.to_be_bytes())).expect("push");
    }
    for batch in [1u64, 64] {
        let leaves: Vec<_> = (size..size + batch)
            .map(|n| record_hash(&n.to_be_bytes()))
            .collect();
        c.bench_function(&format!("merkle/append_{batch}_at_1m"), |b| {
            b.iter(|| {
                let reads = append_reads(size, batch);
                let prefetched =
                    PrefetchedHashes::new(reads.iter().map(|&i| (i, tree.all()[i as usize])));
                append_hashes(size, black_box(&leaves), prefetched)
            })
        });
    }
}

fn emvco(c: &mut Criterion) {
    let text = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
    assert!(kakehashi::qr::Payload::parse(text).is_ok(), "sample parses");
    c.bench_function("emvco/parse_mpm", |b| {
        b.iter(|| kakehashi::qr::Payload::parse(black_box(text)))
    });
}

criterion_group!(hot_paths, identify, signing, fx, merkle, emvco);
criterion_main!(hot_paths);
