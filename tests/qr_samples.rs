//! The published payloads of `shared/research/standards.md` §1.4: every valid one parses and
//! encodes back byte for byte; every listed invalid one is refused for its own reason.
use kakehashi::qr::jpqr::{Jpqr, JpqrError};
use kakehashi::qr::mpm::{Initiation, Payload, Rules, Tip};
use kakehashi::qr::{QrError, Tag, TagPath};

/// E1: the EMVCo specification's own sample.
const E1: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
/// E2: Thai PromptPay (dtinth/promptpay-qr): static phone, phone, national id, tax id; dynamic.
const E2: [&str; 5] = [
    "00020101021129370016A000000677010111011300668012345675802TH530376463046197",
    "00020101021129370016A000000677010111011300668912345675802TH5303764630429C1",
    "00020101021129370016A000000677010111021311111111111115802TH530376463047B5A",
    "00020101021129370016A000000677010111021301234567890125802TH530376463040CBD",
    "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469",
];
/// E3: JPQR static (mercari/go-emv-code), with 60 before 01.
const E3: &str = "0002016003xxx01021129300012D156000000000510A93FO3230Q31280012D1560000000103081234567826680019jp.or.paymentsjapan01130000000000001020400010306000001040600000153033925903xxx64180002JA0108メルペイ カフェ520441115802JP610710661436304DEE9";
/// E4: JPY dynamic (dongri/emv-qrcode README), amount without decimals.
const E4: &str = "0002010102121516ABCDEF123456789052045311530339254039995802JP5906DONGRI6005TOKYO62240104hoge0504fuga0704piyo63043FE6";
/// E5: UnionPay international (HK) static, primitive ID 15.
const E5: &str = "000201010211153125000344000203441000000000000065204597253033445802HK5913Test Merchant6002HK626001200000000000000000000005200000000000000000000007080000001063045855";
/// E6: Brazil Pix (Banco Central manual example).
const PIX: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
/// E6: Pix dynamic, URL-based (ACBr test suite): the amount is fetched from the URL.
const PIX_DYNAMIC: &str = "00020101021226870014br.gov.bcb.pix2565qrcodepix-h.bb.com.br/pix/v2/d9b97f73-b48b-43f6-be7e-f0594fb275a65204000053039865802BR5920ALAN GUIACHERO BUENO6008BRASILIA62070503***630464FF";
/// E6: Cambodia (phannaly/emv-qr-code README). Listed as valid, but its city has 16 characters.
const CAMBODIA: &str = "00020101021252044131153137210116372101160123456789ABCDE6016Banteay Meanchey5913Kuntheas Shop5802KH540510.005303840621201081234567863041FF2";

fn root(tag: u8) -> TagPath {
    TagPath::root(Tag::new(tag).unwrap())
}

fn round_trips(payload: &str, rules: Rules) -> Payload {
    let parsed =
        Payload::parse_with(payload, rules).unwrap_or_else(|e| panic!("refused: {e}\n{payload}"));
    assert_eq!(
        parsed.encode(),
        payload,
        "did not encode back byte for byte"
    );
    parsed
}

#[test]
fn the_emvco_specification_sample_parses_and_round_trips() {
    let p = round_trips(E1, Rules::Strict);
    assert_eq!(p.initiation(), Some(Initiation::Dynamic));
    assert_eq!(p.amount().unwrap().to_string(), "CNY 23.72");
    assert_eq!(p.merchant_category_code(), Some("4111"));
    assert_eq!(p.merchant_name(), Some("BEST TRANSPORT"));
    assert_eq!(p.merchant_city(), Some("BEIJING"));
    assert_eq!(p.country_code(), "CN");
    assert_eq!(p.tip(), Some(&Tip::Prompt));
    let accounts: Vec<_> = p.merchant_accounts().iter().map(|a| a.guid()).collect();
    assert_eq!(accounts, [Some("D15600000000"), Some("D15600000001")]);
    let language = p.language().unwrap();
    assert_eq!(
        (language.language(), language.name(), language.city()),
        ("ZH", "最佳运输", Some("北京"))
    );
    let data = p.additional_data().unwrap();
    assert_eq!(data.store_label(), Some("1234"));
    assert_eq!(data.terminal_label(), Some("A6008667"));
    assert_eq!(p.unreserved_templates()[0].guid(), "A011223344998877");
    // 248 characters, 260 bytes: lengths count characters.
    assert_eq!((E1.chars().count(), E1.len()), (248, 260));
}

#[test]
fn promptpay_stickers_parse_under_scheme_rules_and_round_trip() {
    for payload in E2 {
        let p = round_trips(payload, Rules::SchemeDefined);
        assert_eq!(p.merchant_accounts()[0].guid(), Some("A000000677010111"));
        assert_eq!(p.currency().code(), "THB");
    }
    let dynamic = round_trips(E2[4], Rules::SchemeDefined);
    assert_eq!(dynamic.amount().unwrap().minor(), 422);
}

#[test]
fn promptpay_lacks_what_emvco_marks_mandatory() {
    // No merchant category (52), name (59) or city (60): strict parsing says which first.
    for payload in E2 {
        assert_eq!(
            Payload::parse(payload),
            Err(QrError::Missing { tag: root(52) }),
            "{payload}"
        );
    }
}

#[test]
fn the_jpqr_sample_parses_round_trips_and_satisfies_jpqr() {
    let p = round_trips(E3, Rules::Strict);
    let tags: Vec<u8> = p.fields().iter().map(|(t, _)| t.number()).collect();
    assert_eq!(tags, [60, 1, 29, 31, 26, 53, 59, 64, 52, 58, 61]);
    let jpqr = Jpqr::validate(&p).unwrap();
    assert_eq!(jpqr.tag(), Tag::of(26));
    assert_eq!(jpqr.id().to_string(), "0000000000001-0001-000001-000001");
    assert_eq!(jpqr.japanese_name(), "メルペイ カフェ");
    assert_eq!(jpqr.postal_code(), "1066143");
}

#[test]
fn a_yen_dynamic_code_has_no_decimal_point() {
    let p = round_trips(E4, Rules::Strict);
    let amount = p.amount().unwrap();
    assert_eq!((amount.minor(), amount.currency_code()), (999, "JPY"));
    let data = p.additional_data().unwrap();
    assert_eq!(
        (
            data.bill_number(),
            data.reference_label(),
            data.terminal_label()
        ),
        (Some("hoge"), Some("fuga"), Some("piyo"))
    );
}

#[test]
fn a_card_scheme_primitive_account_round_trips() {
    let p = round_trips(E5, Rules::Strict);
    assert_eq!(p.merchant_accounts()[0].tag(), Tag::of(15));
    assert_eq!(p.merchant_accounts()[0].guid(), None);
    assert_eq!(p.currency().code(), "HKD");
    assert_eq!(p.amount(), None);
}

#[test]
fn pix_codes_round_trip() {
    let p = round_trips(PIX, Rules::Strict);
    assert_eq!(p.initiation(), None);
    assert_eq!(p.additional_data().unwrap().reference_label(), Some("***"));
    let url = p.account_template("br.gov.bcb.pix").unwrap();
    assert_eq!(
        url.get(Tag::of(1)),
        Some("123e4567-e12b-12d1-a456-426655440000")
    );

    let dynamic = round_trips(PIX_DYNAMIC, Rules::SchemeDefined);
    assert_eq!(dynamic.initiation(), Some(Initiation::Dynamic));
    assert_eq!(dynamic.amount(), None);
    // Strictly, a dynamic code is for one transaction and states its amount.
    assert_eq!(
        Payload::parse(PIX_DYNAMIC),
        Err(QrError::DynamicWithoutAmount)
    );
}

#[test]
fn the_cambodian_sample_breaks_the_city_length() {
    // EMVCo (and the research's own table) allow 15 characters in 60; "Banteay Meanchey" has 16.
    let city_too_long = QrError::BadValueLength {
        tag: root(60),
        min: 1,
        max: 15,
        found: 16,
    };
    assert_eq!(Payload::parse(CAMBODIA), Err(city_too_long.clone()));
    assert_eq!(
        Payload::parse_with(CAMBODIA, Rules::SchemeDefined),
        Err(city_too_long)
    );
}

#[test]
fn a_payload_that_matches_no_published_encoding_is_refused_for_its_crc() {
    // kenmaz/JPQRReader's test payload: 0F92 over UTF-8, neither Shift_JIS nor EUC-JP give 6D60.
    let kenmaz = "00020164210002JA0111JPQRMPM本舗食堂53033925903xxx6003xxx610710600325802JP01021126680019jp.or.paymentsjapan0113000000000000102040001030600000104060000015204412163046D60";
    assert_eq!(
        Payload::parse(kenmaz),
        Err(QrError::BadCrc {
            expected: 0x0F92,
            found: 0x6D60
        })
    );
}

#[test]
fn an_amount_slipped_into_a_static_code_is_caught_by_the_crc() {
    let edited = PIX.replace("5303986", "5303986540510.00");
    assert_eq!(
        Payload::parse(&edited),
        Err(QrError::BadCrc {
            expected: 0x288F,
            found: 0x1D3D
        })
    );
}

#[test]
fn a_lowercased_payload_is_refused_for_its_crc() {
    // mercari's "err: crc is invalid": the whole of E1 lowercased, ending 6304a13b.
    let lowered = "00020101021229300012d156000000000510a93fo3230q31280012d15600000001030812345678520441115802cn5914best transport6007beijing64200002zh0104最佳运输0202北京540523.7253031565502016233030412340603***0708a60086670902me91320016a0112233449988770708123456786304a13b";
    assert_eq!(
        Payload::parse(lowered),
        Err(QrError::BadCrc {
            expected: 0xB972,
            found: 0xA13B
        })
    );
}

#[test]
fn the_paynow_sample_fails_its_crc_and_then_its_structure() {
    let paynow = "00020101021125280009SG.PAYNOW010100211+659876543203011530370254040.005802SG5913TAN AH GAO 63042968";
    assert_eq!(
        Payload::parse(paynow),
        Err(QrError::BadCrc {
            expected: 0x1F4D,
            found: 0x2968
        })
    );
    // With its CRC mended, 25's declared 28 characters end mid-template (its sub-objects span
    // 38), and the root reads on from the wrong place until a length runs past the end.
    let mended = paynow.replace("63042968", "63041F4D");
    let error = Payload::parse_with(&mended, Rules::SchemeDefined).unwrap_err();
    assert_eq!(error, QrError::LengthOverrun { tag: root(65) });
}

#[test]
fn jpqr_refuses_a_payload_in_another_currency() {
    // mercari's JPQR reject case: E1 moved to JP but still in yuan (156); its CRC is valid.
    let yuan = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802JP5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A011223344998877070812345678630420EE";
    let p = round_trips(yuan, Rules::Strict);
    assert_eq!(
        Jpqr::validate(&p).unwrap_err(),
        JpqrError::CurrencyNotYen { found: 156 }
    );
}

#[test]
fn emvco_codes_without_the_payments_japan_template_are_not_jpqr() {
    let p = round_trips(E4, Rules::Strict);
    assert_eq!(Jpqr::validate(&p).unwrap_err(), JpqrError::MissingTemplate);
}
