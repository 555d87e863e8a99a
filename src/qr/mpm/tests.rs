//! Unit tests of the payload rules, one rule per test, each on a payload that breaks only it.
use super::*;
use crate::qr::templates::adf;

/// A small valid static payload without its CRC object: ours, at a ramen shop in Tokyo.
fn body() -> String {
    concat!(
        "000201",
        "010211",
        "26160012jp.kakehashi",
        "52045812",
        "5303392",
        "5802JP",
        "5914SHINJUKU RAMEN",
        "6005TOKYO"
    )
    .to_owned()
}

fn with_crc(body: &str) -> String {
    let mut text = format!("{body}6304");
    let crc = crc::checksum(text.as_bytes());
    text.push_str(&crc::to_hex(crc));
    text
}

fn root(tag: u8) -> TagPath {
    TagPath::root(Tag::of(tag))
}

fn jpy() -> Currency {
    Currency::from_code("JPY").unwrap()
}

#[test]
fn the_fixture_is_valid() {
    let p = Payload::parse(&with_crc(&body())).unwrap();
    assert_eq!(p.merchant_name(), Some("SHINJUKU RAMEN"));
    assert_eq!(p.encode(), with_crc(&body()));
}

#[test]
fn the_payload_format_indicator_comes_first() {
    let moved = body().replacen("000201010211", "010211000201", 1);
    assert_eq!(
        Payload::parse(&with_crc(&moved)),
        Err(QrError::PayloadFormatNotFirst)
    );
    let version_two = body().replacen("000201", "000202", 1);
    assert_eq!(
        Payload::parse(&with_crc(&version_two)),
        Err(QrError::BadPayloadFormat)
    );
    assert_eq!(Payload::parse(""), Err(QrError::PayloadFormatNotFirst));
    let twice = format!("{}000201", body());
    assert_eq!(
        Payload::parse(&with_crc(&twice)),
        Err(QrError::Duplicate { tag: root(0) })
    );
}

#[test]
fn the_crc_comes_last_with_nothing_after_it() {
    let valid = with_crc(&body());
    assert_eq!(
        Payload::parse(&format!("{valid}\n")),
        Err(QrError::CrcNotLast)
    );
    assert_eq!(Payload::parse("000201"), Err(QrError::CrcNotLast));
    // A CRC object in the middle, and a valid one at the end.
    let inside = body().replacen("5204", "630412345204", 1);
    assert_eq!(Payload::parse(&with_crc(&inside)), Err(QrError::CrcNotLast));
}

#[test]
fn the_crc_is_four_hex_digits_that_match() {
    let valid = with_crc(&body());
    let (head, crc_text) = valid.split_at(valid.len() - 4);
    assert_eq!(
        Payload::parse(&format!("{head}12G4")),
        Err(QrError::CrcMalformed)
    );
    let found = u16::from_str_radix(crc_text, 16).unwrap();
    let wrong = found.wrapping_add(1);
    assert_eq!(
        Payload::parse(&format!("{head}{wrong:04X}")),
        Err(QrError::BadCrc {
            expected: found,
            found: wrong
        })
    );
}

#[test]
fn a_lowercase_but_correct_crc_is_still_refused() {
    // Find a fixture whose CRC has a letter in it, so lowercase differs.
    let body = (0..50)
        .map(|n| body().replace("SHINJUKU RAMEN", &format!("SHINJUKU RAMEN {n:02}")))
        .find(|b| with_crc(b).ends_with(|c: char| c.is_ascii_uppercase()))
        .unwrap();
    let valid = with_crc(&body);
    let lowered = format!(
        "{}{}",
        &valid[..valid.len() - 4],
        valid[valid.len() - 4..].to_lowercase()
    );
    assert_eq!(Payload::parse(&lowered), Err(QrError::CrcLowercase));
}

#[test]
fn each_id_at_most_once() {
    let twice = format!("{}5905AGAIN", body());
    assert_eq!(
        Payload::parse(&with_crc(&twice)),
        Err(QrError::Duplicate { tag: root(59) })
    );
}

#[test]
fn templates_are_parsed_to_the_last_character() {
    let overrun = body().replacen("26160012jp.kakehashi", "26160013jp.kakehashi", 1);
    assert_eq!(
        Payload::parse(&with_crc(&overrun)),
        Err(QrError::LengthOverrun {
            tag: root(26).child(Tag::of(0))
        })
    );
    let leftover = body().replacen("26160012jp.kakehashi", "26180012jp.kakehashi01", 1);
    assert_eq!(
        Payload::parse(&with_crc(&leftover)),
        Err(QrError::Truncated {
            within: Some(root(26)),
            offset: 16
        })
    );
}

#[test]
fn characters_follow_each_fields_format() {
    let japanese_name = body().replacen("5914SHINJUKU RAMEN", "5906新宿らーめん", 1);
    assert_eq!(
        Payload::parse(&with_crc(&japanese_name)),
        Err(QrError::BadCharacter {
            tag: root(59),
            format: Format::AlphanumericSpecial
        })
    );
    let letter_in_mcc = body().replacen("52045812", "5204581A", 1);
    assert_eq!(
        Payload::parse(&with_crc(&letter_in_mcc)),
        Err(QrError::BadCharacter {
            tag: root(52),
            format: Format::Numeric
        })
    );
}

#[test]
fn lengths_are_bounded_per_field() {
    let long_city = body().replacen("6005TOKYO", "6016TOKYO SHINJUKU-K", 1);
    assert_eq!(
        Payload::parse(&with_crc(&long_city)),
        Err(QrError::BadValueLength {
            tag: root(60),
            min: 1,
            max: 15,
            found: 16
        })
    );
    let mut huge = body();
    while huge.chars().count() < PAYLOAD_CHARS_MAX {
        huge.push_str("8016001212345678901201");
    }
    assert_eq!(Payload::parse(&with_crc(&huge)), Err(QrError::TooLong));
}

#[test]
fn point_of_initiation_is_static_or_dynamic() {
    let other = body().replacen("010211", "010213", 1);
    assert!(matches!(
        Payload::parse(&with_crc(&other)),
        Err(QrError::BadValue { tag, .. }) if tag == root(1)
    ));
    let dynamic = body().replacen("010211", "010212", 1);
    assert_eq!(
        Payload::parse(&with_crc(&dynamic)),
        Err(QrError::DynamicWithoutAmount)
    );
    let with_amount = dynamic.replacen("5303392", "530339254041200", 1);
    let p = Payload::parse(&with_crc(&with_amount)).unwrap();
    assert_eq!(p.amount().unwrap().minor(), 1200);
}

#[test]
fn mandatory_objects_are_present() {
    let without = |cut: &str| with_crc(&body().replacen(cut, "", 1));
    assert_eq!(
        Payload::parse(&without("5303392")),
        Err(QrError::Missing { tag: root(53) })
    );
    assert_eq!(
        Payload::parse(&without("5802JP")),
        Err(QrError::Missing { tag: root(58) })
    );
    assert_eq!(
        Payload::parse(&without("6005TOKYO")),
        Err(QrError::Missing { tag: root(60) })
    );
    assert_eq!(
        Payload::parse(&without("26160012jp.kakehashi")),
        Err(QrError::NoMerchantAccount)
    );
    assert_eq!(
        Payload::parse_with(&without("6005TOKYO"), Rules::SchemeDefined)
            .unwrap()
            .merchant_city(),
        None
    );
}

#[test]
fn tip_and_convenience_fees_go_together() {
    let fee_alone = body().replacen("5802JP", "56031005802JP", 1);
    assert_eq!(
        Payload::parse(&with_crc(&fee_alone)),
        Err(QrError::Conditional {
            tag: root(56),
            requires: "55 = 02"
        })
    );
    let indicator_alone = body().replacen("5802JP", "5502025802JP", 1);
    assert!(matches!(
        Payload::parse(&with_crc(&indicator_alone)),
        Err(QrError::Conditional { tag, .. }) if tag == root(55)
    ));
    let fixed = body().replacen("5802JP", "5502025602105802JP", 1);
    let p = Payload::parse(&with_crc(&fixed)).unwrap();
    assert_eq!(
        p.tip(),
        Some(&Tip::FixedFee(Money::parse("10", "JPY").unwrap()))
    );
    let percentage = body().replacen("5802JP", "550203570125802JP", 1);
    assert!(matches!(
        Payload::parse(&with_crc(&percentage)).unwrap().tip(),
        Some(Tip::Percentage(p)) if p.to_string() == "2"
    ));
    let unknown = body().replacen("5802JP", "5502045802JP", 1);
    assert!(matches!(
        Payload::parse(&with_crc(&unknown)),
        Err(QrError::BadValue { tag, .. }) if tag == root(55)
    ));
}

#[test]
fn countries_and_currencies_are_iso_codes() {
    for bad in ["5802jp", "5802XX", "5802J1"] {
        let p = body().replacen("5802JP", bad, 1);
        assert!(
            matches!(
                Payload::parse(&with_crc(&p)),
                Err(QrError::BadValue { tag, .. }) if tag == root(58)
            ),
            "{bad}"
        );
    }
    let gold = body().replacen("5303392", "5303959", 1);
    assert_eq!(
        Payload::parse(&with_crc(&gold)),
        Err(QrError::UnknownCurrency { numeric: 959 })
    );
}

#[test]
fn bytes_that_are_not_utf8_are_refused() {
    let mut bytes = with_crc(&body()).into_bytes();
    bytes[40] = 0xFF;
    assert_eq!(
        Payload::parse_bytes(&bytes, Rules::Strict),
        Err(QrError::NotUtf8)
    );
    assert_eq!(
        Payload::parse_bytes(&vec![b'0'; PAYLOAD_BYTES_MAX + 1], Rules::Strict),
        Err(QrError::TooLong)
    );
}

#[test]
fn reserved_ids_are_carried_through() {
    let rfu = format!("{}6503abc", body());
    let p = Payload::parse(&with_crc(&rfu)).unwrap();
    assert_eq!(p.fields().get(Tag::of(65)), Some("abc"));
    assert_eq!(p.encode(), with_crc(&rfu));
}

fn builder() -> PayloadBuilder {
    let mut b = PayloadBuilder::new(jpy(), "JP");
    b.initiation = Some(Initiation::Dynamic);
    b.merchant_accounts.push(
        MerchantAccount::template(Template::new(Tag::of(27), "jp.kakehashi").unwrap()).unwrap(),
    );
    b.merchant_accounts
        .push(MerchantAccount::primitive(Tag::of(15), "1234567890").unwrap());
    b.merchant_category_code = Some("5812".into());
    b.amount = Some(Money::parse("1200", "JPY").unwrap());
    b.merchant_name = Some("SHINJUKU RAMEN".into());
    b.merchant_city = Some("TOKYO".into());
    b.additional_data =
        Some(AdditionalData::from_pairs(&[(adf::REFERENCE_LABEL, "ord1")]).unwrap());
    b
}

#[test]
fn built_payloads_are_in_ascending_id_order() {
    let p = builder().build(Rules::Strict).unwrap();
    let expected = concat!(
        "000201",
        "010212",
        "15101234567890",
        "27160012jp.kakehashi",
        "52045812",
        "5303392",
        "54041200",
        "5802JP",
        "5914SHINJUKU RAMEN",
        "6005TOKYO",
        "62080504ord1"
    );
    assert_eq!(p.encode(), with_crc(expected));
    assert_eq!(Payload::parse(&p.encode()), Ok(p));
}

#[test]
fn the_builder_holds_its_payloads_to_the_parser_rules() {
    let mut other_currency = builder();
    other_currency.amount = Some(Money::parse("12.50", "USD").unwrap());
    assert!(matches!(
        other_currency.build(Rules::Strict),
        Err(QrError::BadValue { tag, .. }) if tag == root(54)
    ));
    let mut no_amount = builder();
    no_amount.amount = None;
    assert_eq!(
        no_amount.build(Rules::Strict),
        Err(QrError::DynamicWithoutAmount)
    );
    let mut no_city = builder();
    no_city.merchant_city = None;
    assert_eq!(
        no_city.build(Rules::Strict),
        Err(QrError::Missing { tag: root(60) })
    );
    let mut too_many = builder();
    for n in 80..=99 {
        let t = Template::new(Tag::new(n).unwrap(), "jp.kakehashi.unreserved").unwrap();
        too_many.unreserved.push(t);
    }
    assert_eq!(too_many.build(Rules::Strict), Err(QrError::TooLong));
}
