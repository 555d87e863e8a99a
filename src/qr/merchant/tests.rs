//! Unit tests of our merchants' codes, built from a real config.
use super::*;
use crate::config::Config;
use crate::qr::jpqr::JPQR_GUID;

const CONFIG: &str = r#"
listen = "127.0.0.1:0"
store_url = "sqlite://x.db"

[[merchants]]
id = "shinjuku-ramen"
name = "Shinjuku Ramen"
category_code = "5812"
networks = []
qr = { name = "SHINJUKU RAMEN", city = "TOKYO", postal_code = "1600022", name_ja = "新宿らーめん", jpqr_merchant_id = "0000000000001-0001-000001-000001" }

[[merchants]]
id = "kyoto-tea"
name = "Kyoto Tea"
networks = []
qr = { name = "KYOTO TEA HOUSE", city = "KYOTO" }

[[merchants]]
id = "no-codes"
name = "No Codes"
networks = []
"#;

fn config() -> Config {
    Config::parse(CONFIG).unwrap()
}

fn merchant<'a>(config: &'a Config, id: &str) -> &'a MerchantConfig {
    config.merchants.iter().find(|m| m.id == id).unwrap()
}

fn yen(value: &str) -> Money {
    Money::parse(value, "JPY").unwrap()
}

#[test]
fn a_jpqr_merchants_static_code_is_ours_and_jpqr() {
    let config = config();
    let ramen = merchant(&config, "shinjuku-ramen");
    let payload = static_code(&config.qr, ramen, Place::default()).unwrap();
    assert_eq!(payload.initiation(), Some(Initiation::Static));
    assert_eq!(payload.amount(), None);
    let ours = payload.account_template(DEFAULT_GUID).unwrap();
    assert_eq!(ours.tag(), Tag::of(26));
    assert_eq!(ours.get(MERCHANT_ID), Some("shinjuku-ramen"));
    let jpqr = Jpqr::validate(&payload).unwrap();
    assert_eq!(jpqr.tag(), Tag::of(27));
    assert_eq!(jpqr.japanese_name(), "新宿らーめん");
    assert_eq!(
        payload.account_template(JPQR_GUID).map(|t| t.tag()),
        Some(Tag::of(27))
    );
    assert_eq!(payload.merchant_category_code(), Some("5812"));
    assert_eq!(payload.postal_code(), Some("1600022"));

    let code = identify(&config.qr, &payload.encode()).unwrap();
    assert_eq!(
        code,
        OurCode {
            merchant_id: "shinjuku-ramen".into(),
            store_id: None,
            terminal_id: None,
            initiation: Initiation::Static,
            amount: None,
            reference: None,
            currency: Currency::JPY,
        }
    );
}

#[test]
fn a_dynamic_code_carries_its_amount_and_reference_back() {
    let config = config();
    let tea = merchant(&config, "kyoto-tea");
    let place = Place {
        store_id: Some("gion"),
        terminal_id: Some("till-3"),
    };
    let payload = dynamic_code(&config.qr, tea, place, yen("1200"), "ordA1B2C3").unwrap();
    let text = payload.encode();
    assert!(text.contains("54041200"), "{text}");
    assert!(text.contains("62130509ordA1B2C3"), "{text}");
    assert_eq!(
        Jpqr::validate(&payload).unwrap_err(),
        JpqrError::MissingTemplate
    );

    let code = identify(&config.qr, &text).unwrap();
    assert_eq!(code.merchant_id, "kyoto-tea");
    assert_eq!(code.store_id.as_deref(), Some("gion"));
    assert_eq!(code.terminal_id.as_deref(), Some("till-3"));
    assert_eq!(code.initiation, Initiation::Dynamic);
    assert_eq!(code.amount, Some(yen("1200")));
    assert_eq!(code.reference.as_deref(), Some("ordA1B2C3"));
}

#[test]
fn a_dynamic_jpqr_code_is_still_jpqr() {
    let config = config();
    let ramen = merchant(&config, "shinjuku-ramen");
    let payload = dynamic_code(&config.qr, ramen, Place::default(), yen("980"), "r1").unwrap();
    assert!(Jpqr::validate(&payload).is_ok());
}

#[test]
fn dynamic_codes_refuse_foreign_amounts_and_bad_references() {
    let config = config();
    let tea = merchant(&config, "kyoto-tea");
    let dollars = Money::parse("12.50", "USD").unwrap();
    assert_eq!(
        dynamic_code(&config.qr, tea, Place::default(), dollars, "r1"),
        Err(MerchantQrError::CurrencyMismatch {
            expected: "JPY",
            found: "USD"
        })
    );
    for reference in ["", "注文1", &"r".repeat(26)] {
        assert_eq!(
            dynamic_code(&config.qr, tea, Place::default(), yen("1"), reference),
            Err(MerchantQrError::BadReference),
            "{reference}"
        );
    }
}

#[test]
fn a_merchant_without_qr_settings_has_no_codes() {
    let config = config();
    assert_eq!(
        static_code(&config.qr, merchant(&config, "no-codes"), Place::default()),
        Err(MerchantQrError::NoQrConfig("no-codes".into()))
    );
}

#[test]
fn ids_that_do_not_fit_are_refused_not_truncated() {
    let config = config();
    let tea = merchant(&config, "kyoto-tea");
    let long = "t".repeat(33);
    let place = Place {
        store_id: None,
        terminal_id: Some(&long),
    };
    assert_eq!(
        static_code(&config.qr, tea, place),
        Err(MerchantQrError::BadId {
            what: "terminal id"
        })
    );
    let store = "s".repeat(32);
    let terminal = "t".repeat(32);
    let place = Place {
        store_id: Some(&store),
        terminal_id: Some(&terminal),
    };
    assert!(matches!(
        static_code(&config.qr, tea, place),
        Err(MerchantQrError::Qr(QrError::BadValueLength { max: 99, .. }))
    ));
}

#[test]
fn other_codes_are_not_ours() {
    let config = config();
    let e4 = "0002010102121516ABCDEF123456789052045311530339254039995802JP5906DONGRI6005TOKYO62240104hoge0504fuga0704piyo63043FE6";
    assert_eq!(identify(&config.qr, e4), Err(IdentifyError::NotOurs));
    let tea = merchant(&config, "kyoto-tea");
    let ours = static_code(&config.qr, tea, Place::default())
        .unwrap()
        .encode();
    let elsewhere = QrSettings {
        guid: "jp.example.other".into(),
        template_id: 26,
    };
    assert_eq!(identify(&elsewhere, &ours), Err(IdentifyError::NotOurs));
    assert!(matches!(
        identify(&config.qr, &ours.replace("KYOTO", "KY0TO")),
        Err(IdentifyError::Invalid(QrError::BadCrc { .. }))
    ));
}

#[test]
fn a_static_code_with_an_amount_is_not_one_we_made() {
    let config = config();
    let tea = merchant(&config, "kyoto-tea");
    let mut forged = builder(&config.qr, tea, &Place::default(), Initiation::Static).unwrap();
    forged.amount = Some(yen("1"));
    let forged = forged.build(Rules::Strict).unwrap().encode();
    assert!(matches!(
        identify(&config.qr, &forged),
        Err(IdentifyError::Inconsistent(_))
    ));
}

#[test]
fn config_load_checks_the_emvco_limits() {
    let with_qr = |qr: &str| {
        let text = CONFIG.replacen(
            r#"qr = { name = "KYOTO TEA HOUSE", city = "KYOTO" }"#,
            &format!("qr = {{ {qr} }}"),
            1,
        );
        Config::parse(&text).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(with_qr(r#"name = "KYOTO TEA", city = "KYOTO""#), Ok(()));
    let cases = [
        (
            r#"name = "KYOTO TEA HOUSE OF THE EAST", city = "KYOTO""#,
            "qr.name",
        ),
        (r#"name = "京都茶房", city = "KYOTO""#, "qr.name"),
        (
            r#"name = "KYOTO TEA", city = "HIGASHIYAMA-KU KY""#,
            "qr.city",
        ),
        (
            r#"name = "KYOTO TEA", city = "KYOTO", postal_code = "605-0074-000""#,
            "qr.postal_code",
        ),
        (
            r#"name = "KYOTO TEA", city = "KYOTO", currency = "XAU""#,
            "qr.currency",
        ),
        (
            r#"name = "KYOTO TEA", city = "KYOTO", jpqr_merchant_id = "123""#,
            "qr.jpqr_merchant_id",
        ),
        (
            r#"name = "KYOTO TEA", city = "KYOTO", country = "XX""#,
            "58",
        ),
        // JPQR needs a postal code and a Japanese name.
        (
            r#"name = "KYOTO TEA", city = "KYOTO", jpqr_merchant_id = "0000000000001-0001-000001-000001""#,
            "postal code (61) is mandatory in JPQR",
        ),
        (
            r#"name = "KYOTO TEA", city = "KYOTO", colour = "green""#,
            "colour",
        ),
    ];
    for (qr, expected) in cases {
        let error = with_qr(qr).unwrap_err();
        assert!(error.contains(expected), "{qr}: {error}");
    }
}

#[test]
fn the_switch_template_settings_are_checked() {
    let bad_id = format!("{CONFIG}\n[qr]\ntemplate_id = 80\n");
    assert!(
        Config::parse(&bad_id)
            .unwrap_err()
            .to_string()
            .contains("qr.template_id")
    );
    let bad_guid = format!("{CONFIG}\n[qr]\nguid = \"jp.架け橋\"\n");
    assert!(
        Config::parse(&bad_guid)
            .unwrap_err()
            .to_string()
            .contains("qr.guid")
    );
    let moved = format!("{CONFIG}\n[qr]\nguid = \"jp.example.switch\"\ntemplate_id = 40\n");
    let config = Config::parse(&moved).unwrap();
    let payload = static_code(
        &config.qr,
        merchant(&config, "shinjuku-ramen"),
        Place::default(),
    )
    .unwrap();
    assert_eq!(
        payload.account_template("jp.example.switch").unwrap().tag(),
        Tag::of(40)
    );
    // With our template off 26, JPQR takes 26, as in every published example.
    assert_eq!(Jpqr::validate(&payload).unwrap().tag(), Tag::of(26));
}
