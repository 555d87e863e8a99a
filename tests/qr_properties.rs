//! Properties of merchant-presented codes over random merchants, amounts and damage: what we
//! build we parse back equal with a correct CRC, and no input makes the parser panic.
use std::collections::BTreeMap;

use iso_currency::{Currency, IntoEnumIterator};
use kakehashi::config::MerchantConfig;
use kakehashi::qr::merchant::{self, Place};
use kakehashi::qr::mpm::{Initiation, Payload, PayloadBuilder, Rules};
use kakehashi::qr::templates::adf;
use kakehashi::qr::{
    AdditionalData, LanguageTemplate, MerchantAccount, MerchantQrConfig, QrSettings, Tag, Template,
};
use kakehashi_adapter_core::Money;
use proptest::prelude::*;

/// CRC-16/CCITT-FALSE bit by bit, independent of the `crc` crate the code uses.
fn reference_crc(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in bytes {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn crc_is_right(payload: &str) -> bool {
    let (covered, digits) = payload.split_at(payload.len() - 4);
    covered.ends_with("6304") && format!("{:04X}", reference_crc(covered.as_bytes())) == digits
}

/// Every currency ISO 4217 gives a minor unit, with that exponent.
fn currencies() -> Vec<Currency> {
    Currency::iter()
        .filter(|c| c.exponent().is_some())
        .collect()
}

/// ans text: printable ASCII, space included.
fn ans(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..=0x7E, 1..=max)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

/// S text: any character but controls, Japanese and Chinese likely.
fn unicode(max: usize) -> impl Strategy<Value = String> {
    let any = any::<char>().prop_filter("no controls", |c| !c.is_control());
    let kana = proptest::char::range('\u{3041}', '\u{30FF}');
    proptest::collection::vec(prop_oneof![any, kana], 1..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// A positive amount in `currency` that EMVCo's 13 characters can hold.
fn amount(currency: Currency) -> impl Strategy<Value = Money> {
    let exponent = u32::from(currency.exponent().unwrap_or(0));
    let digits = if exponent == 0 { 13 } else { 12 };
    (1i64..10i64.pow(digits)).prop_map(move |minor| Money::from_minor(minor, currency).unwrap())
}

fn currency_and_amount() -> impl Strategy<Value = (Currency, Money)> {
    proptest::sample::select(currencies()).prop_flat_map(|c| (Just(c), amount(c)))
}

const COUNTRIES: [&str; 12] = [
    "JP", "TH", "CN", "HK", "KR", "SG", "BR", "US", "GB", "DE", "KH", "TW",
];

#[derive(Debug, Clone)]
struct RandomMerchant {
    name: String,
    city: String,
    mcc: String,
    country: &'static str,
    currency: Currency,
    amount: Money,
    dynamic: bool,
    reference: String,
    postal_code: Option<String>,
    name_local: Option<String>,
    merchant_id: String,
}

fn random_merchant() -> impl Strategy<Value = RandomMerchant> {
    (
        (
            ans(25),
            ans(15),
            "[0-9]{4}",
            proptest::sample::select(&COUNTRIES[..]),
        ),
        currency_and_amount(),
        (any::<bool>(), ans(25), proptest::option::of(ans(10))),
        (proptest::option::of(unicode(25)), ans(32)),
    )
        .prop_map(
            |(
                (name, city, mcc, country),
                (currency, amount),
                (dynamic, reference, postal_code),
                (name_local, merchant_id),
            )| {
                RandomMerchant {
                    name,
                    city,
                    mcc,
                    country,
                    currency,
                    amount,
                    dynamic,
                    reference,
                    postal_code,
                    name_local,
                    merchant_id,
                }
            },
        )
}

fn merchant_config(m: &RandomMerchant) -> MerchantConfig {
    MerchantConfig {
        id: m.merchant_id.clone(),
        name: m.name.clone(),
        category_code: m.mcc.clone(),
        networks: Vec::new(),
        network_ids: BTreeMap::new(),
        qr: Some(MerchantQrConfig {
            name: m.name.clone(),
            city: m.city.clone(),
            postal_code: m.postal_code.clone(),
            name_ja: m.name_local.clone(),
            country: m.country.to_owned(),
            currency: m.currency.code().to_owned(),
            jpqr_merchant_id: None,
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_payload_we_build_parses_back_equal_with_a_correct_crc(m in random_merchant()) {
        let mut b = PayloadBuilder::new(m.currency, m.country);
        b.initiation = Some(if m.dynamic { Initiation::Dynamic } else { Initiation::Static });
        let guid = Template::new(Tag::of(30), "jp.kakehashi").unwrap();
        let ours = guid.with(Tag::of(1), &m.merchant_id).unwrap();
        b.merchant_accounts.push(MerchantAccount::template(ours).unwrap());
        b.merchant_category_code = Some(m.mcc.clone());
        b.merchant_name = Some(m.name.clone());
        b.merchant_city = Some(m.city.clone());
        b.postal_code = m.postal_code.clone();
        b.language = m.name_local.as_deref().map(|n| LanguageTemplate::new("JA", n, None).unwrap());
        if m.dynamic {
            b.amount = Some(m.amount);
            let reference = [(adf::REFERENCE_LABEL, m.reference.as_str())];
            b.additional_data = Some(AdditionalData::from_pairs(&reference).unwrap());
        }
        let built = b.build(Rules::Strict).unwrap();
        let text = built.encode();
        prop_assert!(crc_is_right(&text), "{}", text);
        prop_assert!(text.starts_with("000201"));
        let parsed = Payload::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &built);
        prop_assert_eq!(parsed.encode(), text);
        prop_assert_eq!(parsed.amount(), m.dynamic.then_some(m.amount));
        prop_assert_eq!(parsed.merchant_name(), Some(m.name.as_str()));
    }

    #[test]
    fn our_merchants_codes_identify_as_theirs(m in random_merchant()) {
        let settings = QrSettings::default();
        let config = merchant_config(&m);
        let payload = if m.dynamic {
            merchant::dynamic_code(&settings, &config, Place::default(), m.amount, &m.reference)
        } else {
            merchant::static_code(&settings, &config, Place::default())
        }
        .unwrap();
        let text = payload.encode();
        prop_assert!(crc_is_right(&text));
        let code = merchant::identify(&settings, &text).unwrap();
        prop_assert_eq!(code.merchant_id, m.merchant_id);
        prop_assert_eq!(code.amount, m.dynamic.then_some(m.amount));
        prop_assert_eq!(code.reference, m.dynamic.then_some(m.reference));
        prop_assert_eq!(code.currency, m.currency);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in ".{0,600}", digits in "[0-9A-F]{0,600}") {
        for rules in [Rules::Strict, Rules::SchemeDefined] {
            let _ = Payload::parse_with(&text, rules);
            let _ = Payload::parse_with(&digits, rules);
            let _ = Payload::parse_with(&format!("000201{digits}"), rules);
        }
    }

    #[test]
    fn damaged_payloads_never_panic_and_what_passes_encodes_back_exactly(
        sample in proptest::sample::select(&SAMPLES[..]),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..6),
        mend_crc in any::<bool>(),
    ) {
        let mut bytes = sample.as_bytes().to_vec();
        for (at, kind, byte) in edits {
            let at = at.index(bytes.len() + 1);
            let near_digit = b'0' + byte % 10;
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, near_digit),
                2 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = near_digit,
                _ => {}
            }
        }
        // Mending the CRC lets the damage reach the structure behind it.
        if mend_crc && bytes.len() >= 4 {
            let covered = bytes.len() - 4;
            let crc = format!("{:04X}", reference_crc(&bytes[..covered]));
            bytes.truncate(covered);
            bytes.extend_from_slice(crc.as_bytes());
        }
        for rules in [Rules::Strict, Rules::SchemeDefined] {
            if let Ok(payload) = Payload::parse_bytes(&bytes, rules) {
                let encoded = payload.encode();
                prop_assert_eq!(encoded.as_bytes(), &bytes[..]);
            }
        }
    }
}

/// Valid payloads from the research file (E1, E3, E4, E5, Pix, a PromptPay sticker).
const SAMPLES: [&str; 6] = [
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A",
    "0002016003xxx01021129300012D156000000000510A93FO3230Q31280012D1560000000103081234567826680019jp.or.paymentsjapan01130000000000001020400010306000001040600000153033925903xxx64180002JA0108メルペイ カフェ520441115802JP610710661436304DEE9",
    "0002010102121516ABCDEF123456789052045311530339254039995802JP5906DONGRI6005TOKYO62240104hoge0504fuga0704piyo63043FE6",
    "000201010211153125000344000203441000000000000065204597253033445802HK5913Test Merchant6002HK626001200000000000000000000005200000000000000000000007080000001063045855",
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
    "00020101021129370016A000000677010111011300668012345675802TH530376463046197",
];

#[test]
fn the_reference_crc_agrees_with_the_standard_check_value() {
    assert_eq!(reference_crc(b"123456789"), 0x29B1);
    assert!(SAMPLES.iter().all(|s| crc_is_right(s)));
}
