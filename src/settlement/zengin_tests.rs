//! The Zengin writer and parser against the worked example of payouts-jp.md §1.9, which two
//! independent generators reproduced byte for byte.
use sha2::{Digest, Sha256};

use super::*;

/// The five records of payouts-jp.md §1.9 exactly as printed there, `_` standing for a space.
const WORKED_EXAMPLE: [&str; 5] = [
    "12100012345678ｶ)ｶｹﾊｼﾍﾟｲﾒﾝﾂ____________________________12250001ﾐｽﾞﾎ___________001ﾄｳｷﾖｳ__________11234567_________________",
    "20005ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ__001ﾎﾝﾃﾝ___________000010012345ｻｸﾗｼﾖｳﾃﾝ(ｶ____________________000009876500000100001__________7________",
    "20033ﾍﾟｲﾍﾟｲ_________005ﾋﾞｼﾞﾈｽ_________000017654321ﾄﾞ)ｺ-ﾋ-ﾛ-ｽﾀ-ｽﾞ________________000025000000000100002__________7________",
    "8000002000000348765_____________________________________________________________________________________________________",
    "9_______________________________________________________________________________________________________________________",
];

/// SHA-256 of the 610-byte file, as payouts-jp.md §1.9 states it.
const WORKED_EXAMPLE_SHA256: &str =
    "82f437487d0d0dbdf9e7c2e28a9f3b4577edff0ca4848cfdcf190d9902b2269f";

fn worked_example_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in WORKED_EXAMPLE {
        bytes.extend(kana::encode(&line.replace('_', " ")).unwrap());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

/// The example's inputs as an operator would configure them: full-width kana, the bank
/// names as zengin-code spells them.
fn worked_example_file() -> ZenginFile {
    ZenginFile {
        header: Header {
            requester_code: "0012345678".into(),
            requester_name: "カ)カケハシペイメンツ".into(),
            transfer_month: 12,
            transfer_day: 25,
            bank_code: "0001".into(),
            bank_name: "ミズホ".into(),
            branch_code: "001".into(),
            branch_name: "トウキヨウ".into(),
            account_type: AccountType::Ordinary,
            account_number: "1234567".into(),
        },
        records: vec![
            DataRecord {
                bank_code: "0005".into(),
                bank_name: "ミツビシユ－エフジエイ".into(),
                branch_code: "001".into(),
                branch_name: "ホンテン".into(),
                account_type: AccountType::Ordinary,
                account_number: "12345".into(),
                payee_name: "サクラショウテン(カ".into(),
                amount_yen: 98_765,
                customer_code1: Some("100001".into()),
                customer_code2: None,
            },
            DataRecord {
                bank_code: "0033".into(),
                bank_name: "ペイペイ".into(),
                branch_code: "005".into(),
                branch_name: "ビジネス".into(),
                account_type: AccountType::Ordinary,
                account_number: "7654321".into(),
                payee_name: "ド)コーヒーロースターズ".into(),
                amount_yen: 250_000,
                customer_code1: Some("100002".into()),
                customer_code2: None,
            },
        ],
    }
}

#[test]
fn the_worked_example_is_reproduced_byte_for_byte() {
    let expected = worked_example_bytes();
    assert_eq!(expected.len(), 610);
    assert_eq!(
        hex::encode(Sha256::digest(&expected)),
        WORKED_EXAMPLE_SHA256
    );
    let written = worked_example_file().write().unwrap();
    assert_eq!(written, expected);
}

#[test]
fn the_worked_example_parses_back_field_by_field() {
    let parsed = ZenginFile::parse(&worked_example_bytes()).unwrap();
    assert_eq!(parsed.header.requester_name, "ｶ)ｶｹﾊｼﾍﾟｲﾒﾝﾂ");
    assert_eq!(
        (parsed.header.transfer_month, parsed.header.transfer_day),
        (12, 25)
    );
    assert_eq!(parsed.records.len(), 2);
    assert_eq!(parsed.records[0].payee_name, "ｻｸﾗｼﾖｳﾃﾝ(ｶ");
    assert_eq!(parsed.records[0].account_number, "0012345");
    assert_eq!(
        parsed.records[0].customer_code1.as_deref(),
        Some("0000100001")
    );
    assert_eq!(parsed.records[1].bank_name, "ﾍﾟｲﾍﾟｲ");
    assert_eq!(parsed.total_yen(), 348_765);
    // Writing what was parsed gives the same bytes again.
    assert_eq!(parsed.write().unwrap(), worked_example_bytes());
}

#[test]
fn the_parser_accepts_the_other_line_shapes_and_refuses_broken_files() {
    let with_crlf = worked_example_bytes();
    let no_final = &with_crlf[..with_crlf.len() - 2];
    let no_breaks: Vec<u8> = with_crlf
        .iter()
        .copied()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect();
    let mut eof = with_crlf.clone();
    eof.push(0x1A);
    for shape in [no_final, &no_breaks, &eof] {
        assert_eq!(ZenginFile::parse(shape).unwrap().records.len(), 2);
    }
    // A trailer total that disagrees with the records.
    let mut wrong_total = with_crlf.clone();
    let trailer = 3 * 122;
    wrong_total[trailer + 18] = b'6';
    assert!(matches!(
        ZenginFile::parse(&wrong_total),
        Err(ZenginError::Parse { index: 3, .. })
    ));
    // A record one byte short.
    let mut short = with_crlf.clone();
    short.remove(50);
    assert!(ZenginFile::parse(&short).is_err());
    // LF-only line ends.
    let lf: Vec<u8> = with_crlf.iter().copied().filter(|b| *b != b'\r').collect();
    assert!(ZenginFile::parse(&lf).is_err());
}

#[test]
fn a_name_outside_the_allowed_set_or_too_long_is_refused_by_field() {
    let mut file = worked_example_file();
    file.records[0].payee_name = "さくら商店".into();
    assert_eq!(
        file.write(),
        Err(ZenginError::Name {
            field: "受取人名",
            source: KanaError::NotAllowed { character: '商' }
        })
    );
    let mut file = worked_example_file();
    file.records[1].payee_name = "ア".repeat(31);
    assert!(matches!(
        file.write(),
        Err(ZenginError::Name {
            source: KanaError::TooLong { .. },
            ..
        })
    ));
    let mut file = worked_example_file();
    file.records[1].amount_yen = 0;
    assert!(matches!(
        file.write(),
        Err(ZenginError::Field {
            field: "振込金額",
            ..
        })
    ));
    let mut file = worked_example_file();
    file.records[1].account_number = "12345678".into();
    assert!(matches!(
        file.write(),
        Err(ZenginError::Field {
            field: "口座番号",
            ..
        })
    ));
}
