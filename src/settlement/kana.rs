//! Names for Zengin files: converting a payee or bank name to the half-width characters the
//! 全銀 format allows, and encoding them as JIS X 0201 bytes (the single-byte half of
//! Shift_JIS), by explicit tables rather than a generic converter (payouts-jp.md §1.7: NFKC
//! goes the wrong way and `jaconv`-style converters keep small kana).
//!
//! The pipeline: hiragana → katakana; full-width → half-width; small kana → large (`ョ` →
//! `ﾖ`); voiced kana → base + `ﾞ`/`ﾟ`; long-vowel marks and dashes → `-`; `・` → `.`;
//! lower-case → upper-case. The allowed set for names is the strict one most banks accept:
//! half-width katakana without small letters, `ﾞ ﾟ`, `A–Z`, `0–9`, space and `( ) - .`.
//! `ｦ`, `ｰ`, `¥`, `｢ ｣`, `, /` and everything else are refused, never dropped or truncated.

/// Full-width katakana and the half-width letter each becomes.
const PLAIN: [(char, char); 45] = [
    ('ア', 'ｱ'),
    ('イ', 'ｲ'),
    ('ウ', 'ｳ'),
    ('エ', 'ｴ'),
    ('オ', 'ｵ'),
    ('カ', 'ｶ'),
    ('キ', 'ｷ'),
    ('ク', 'ｸ'),
    ('ケ', 'ｹ'),
    ('コ', 'ｺ'),
    ('サ', 'ｻ'),
    ('シ', 'ｼ'),
    ('ス', 'ｽ'),
    ('セ', 'ｾ'),
    ('ソ', 'ｿ'),
    ('タ', 'ﾀ'),
    ('チ', 'ﾁ'),
    ('ツ', 'ﾂ'),
    ('テ', 'ﾃ'),
    ('ト', 'ﾄ'),
    ('ナ', 'ﾅ'),
    ('ニ', 'ﾆ'),
    ('ヌ', 'ﾇ'),
    ('ネ', 'ﾈ'),
    ('ノ', 'ﾉ'),
    ('ハ', 'ﾊ'),
    ('ヒ', 'ﾋ'),
    ('フ', 'ﾌ'),
    ('ヘ', 'ﾍ'),
    ('ホ', 'ﾎ'),
    ('マ', 'ﾏ'),
    ('ミ', 'ﾐ'),
    ('ム', 'ﾑ'),
    ('メ', 'ﾒ'),
    ('モ', 'ﾓ'),
    ('ヤ', 'ﾔ'),
    ('ユ', 'ﾕ'),
    ('ヨ', 'ﾖ'),
    ('ラ', 'ﾗ'),
    ('リ', 'ﾘ'),
    ('ル', 'ﾙ'),
    ('レ', 'ﾚ'),
    ('ロ', 'ﾛ'),
    ('ワ', 'ﾜ'),
    ('ン', 'ﾝ'),
];

/// Small kana written large, as banks require (`キュウヨ` → `キユウヨ`, payouts-jp.md §1.7).
const SMALL: [(char, char); 21] = [
    ('ァ', 'ア'),
    ('ィ', 'イ'),
    ('ゥ', 'ウ'),
    ('ェ', 'エ'),
    ('ォ', 'オ'),
    ('ッ', 'ツ'),
    ('ャ', 'ヤ'),
    ('ュ', 'ユ'),
    ('ョ', 'ヨ'),
    ('ヮ', 'ワ'),
    ('ヵ', 'カ'),
    ('ヶ', 'ケ'),
    ('ｧ', 'ア'),
    ('ｨ', 'イ'),
    ('ｩ', 'ウ'),
    ('ｪ', 'エ'),
    ('ｫ', 'オ'),
    ('ｯ', 'ツ'),
    ('ｬ', 'ヤ'),
    ('ｭ', 'ユ'),
    ('ｮ', 'ヨ'),
];

/// Voiced kana: the base and its mark.
const VOICED: [(char, char, char); 26] = [
    ('ガ', 'カ', 'ﾞ'),
    ('ギ', 'キ', 'ﾞ'),
    ('グ', 'ク', 'ﾞ'),
    ('ゲ', 'ケ', 'ﾞ'),
    ('ゴ', 'コ', 'ﾞ'),
    ('ザ', 'サ', 'ﾞ'),
    ('ジ', 'シ', 'ﾞ'),
    ('ズ', 'ス', 'ﾞ'),
    ('ゼ', 'セ', 'ﾞ'),
    ('ゾ', 'ソ', 'ﾞ'),
    ('ダ', 'タ', 'ﾞ'),
    ('ヂ', 'チ', 'ﾞ'),
    ('ヅ', 'ツ', 'ﾞ'),
    ('デ', 'テ', 'ﾞ'),
    ('ド', 'ト', 'ﾞ'),
    ('バ', 'ハ', 'ﾞ'),
    ('ビ', 'ヒ', 'ﾞ'),
    ('ブ', 'フ', 'ﾞ'),
    ('ベ', 'ヘ', 'ﾞ'),
    ('ボ', 'ホ', 'ﾞ'),
    ('パ', 'ハ', 'ﾟ'),
    ('ピ', 'ヒ', 'ﾟ'),
    ('プ', 'フ', 'ﾟ'),
    ('ペ', 'ヘ', 'ﾟ'),
    ('ポ', 'ホ', 'ﾟ'),
    ('ヴ', 'ウ', 'ﾞ'),
];

/// Every long-vowel mark and dash a name may be typed with; all become `-`, as bank names
/// do (`ミツビシユ－エフジエイ` → `ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ`).
const DASHES: [char; 9] = ['ー', 'ｰ', '‐', '−', '–', '—', '―', '－', '-'];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KanaError {
    #[error(
        "`{character}` cannot be written in a Zengin name (allowed: half-width katakana, A-Z, 0-9, space and ( ) - .)"
    )]
    NotAllowed { character: char },
    #[error("a voiced-sound mark must follow a kana that takes it")]
    StrayMark,
    #[error("the name is empty")]
    Empty,
    #[error("the name needs {bytes} bytes; the field holds {max}")]
    TooLong { bytes: usize, max: usize },
}

/// Converts `text` to the allowed half-width form (one byte per character once encoded).
pub fn to_zengin_name(text: &str) -> Result<String, KanaError> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_converted(&mut out, c)?;
    }
    check_marks(&out)?;
    if out.trim().is_empty() {
        return Err(KanaError::Empty);
    }
    Ok(out)
}

/// As [`to_zengin_name`], refusing a result longer than `max` bytes.
pub fn to_zengin_field(text: &str, max: usize) -> Result<String, KanaError> {
    let name = to_zengin_name(text)?;
    let bytes = name.chars().count();
    if bytes > max {
        return Err(KanaError::TooLong { bytes, max });
    }
    Ok(name)
}

fn push_converted(out: &mut String, c: char) -> Result<(), KanaError> {
    let c = hiragana_to_katakana(c);
    let c = SMALL
        .iter()
        .find(|(s, _)| *s == c)
        .map_or(c, |(_, large)| *large);
    if let Some((_, half)) = PLAIN.iter().find(|(full, _)| *full == c) {
        out.push(*half);
    } else if let Some((_, base, mark)) = VOICED.iter().find(|(v, _, _)| *v == c) {
        push_converted(out, *base)?;
        out.push(*mark);
    } else if DASHES.contains(&c) {
        out.push('-');
    } else if allowed_half_width(c) {
        out.push(c);
    } else {
        out.push(match c {
            'a'..='z' => c.to_ascii_uppercase(),
            'Ａ'..='Ｚ' | '０'..='９' => shift(c, 'Ａ' as u32 - 'A' as u32)?,
            'ａ'..='ｚ' => shift(c, 'ａ' as u32 - 'A' as u32)?,
            '（' => '(',
            '）' => ')',
            '．' | '・' | '･' => '.',
            '　' => ' ',
            '゛' => 'ﾞ',
            '゜' => 'ﾟ',
            _ => return Err(KanaError::NotAllowed { character: c }),
        });
    }
    Ok(())
}

/// Characters already in the allowed half-width set.
fn allowed_half_width(c: char) -> bool {
    matches!(c, 'A'..='Z' | '0'..='9' | ' ' | '(' | ')' | '-' | '.' | 'ﾞ' | 'ﾟ')
        || ('ｱ'..='ﾝ').contains(&c)
}

fn shift(c: char, by: u32) -> Result<char, KanaError> {
    char::from_u32(c as u32 - by).ok_or(KanaError::NotAllowed { character: c })
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// `ﾞ` follows a kana of the k/s/t/h rows or `ｳ`; `ﾟ` follows the h row.
fn check_marks(name: &str) -> Result<(), KanaError> {
    let mut previous = None;
    for c in name.chars() {
        let ok = match c {
            'ﾞ' => previous
                .is_some_and(|p| ('ｶ'..='ﾄ').contains(&p) || ('ﾊ'..='ﾎ').contains(&p) || p == 'ｳ'),
            'ﾟ' => previous.is_some_and(|p| ('ﾊ'..='ﾎ').contains(&p)),
            _ => true,
        };
        if !ok {
            return Err(KanaError::StrayMark);
        }
        previous = Some(c);
    }
    Ok(())
}

/// Encodes half-width text as JIS X 0201 bytes: ASCII as itself, half-width katakana
/// U+FF61–U+FF9F as 0xA1–0xDF (payouts-jp.md §1.7). Anything else is refused.
pub fn encode(text: &str) -> Result<Vec<u8>, KanaError> {
    text.chars()
        .map(|c| match c as u32 {
            code @ 0x20..=0x7E => Ok(code as u8),
            code @ 0xFF61..=0xFF9F => Ok((code - 0xFF61 + 0xA1) as u8),
            _ => Err(KanaError::NotAllowed { character: c }),
        })
        .collect()
}

/// Decodes JIS X 0201 bytes (the inverse of [`encode`]); `None` for any other byte.
pub fn decode(bytes: &[u8]) -> Option<String> {
    bytes
        .iter()
        .map(|b| match b {
            0x20..=0x7E => Some(char::from(*b)),
            0xA1..=0xDF => char::from_u32(u32::from(*b) - 0xA1 + 0xFF61),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_convert_as_the_worked_example_writes_them() {
        assert_eq!(to_zengin_name("サクラショウテン(カ").unwrap(), "ｻｸﾗｼﾖｳﾃﾝ(ｶ");
        assert_eq!(
            to_zengin_name("ド)コーヒーロースターズ").unwrap(),
            "ﾄﾞ)ｺ-ﾋ-ﾛ-ｽﾀ-ｽﾞ"
        );
        assert_eq!(
            to_zengin_name("ミツビシユ－エフジエイ").unwrap(),
            "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ"
        );
        assert_eq!(
            to_zengin_name("カ)カケハシペイメンツ").unwrap(),
            "ｶ)ｶｹﾊｼﾍﾟｲﾒﾝﾂ"
        );
        assert_eq!(to_zengin_name("きゅうよ").unwrap(), "ｷﾕｳﾖ");
        assert_eq!(to_zengin_name("ｶ)ﾃｽﾄ abc１２").unwrap(), "ｶ)ﾃｽﾄ ABC12");
        assert_eq!(to_zengin_name("ヤマダ・タロウ").unwrap(), "ﾔﾏﾀﾞ.ﾀﾛｳ");
    }

    #[test]
    fn characters_outside_the_set_are_named_not_dropped() {
        for (text, bad) in [
            ("さくら商店", '商'),
            ("A&B", '&'),
            ("ヲ", 'ヲ'),
            ("X,Y", ','),
            ("¥", '¥'),
        ] {
            assert_eq!(
                to_zengin_name(text),
                Err(KanaError::NotAllowed { character: bad }),
                "{text}"
            );
        }
        assert_eq!(to_zengin_name("ﾞｱ"), Err(KanaError::StrayMark));
        assert_eq!(to_zengin_name("  "), Err(KanaError::Empty));
        assert_eq!(
            to_zengin_field(&"ア".repeat(31), 30),
            Err(KanaError::TooLong { bytes: 31, max: 30 })
        );
    }

    #[test]
    fn encoding_is_one_byte_per_character_and_round_trips() {
        let bytes = encode("ｶ)ｶｹﾊｼﾍﾟｲﾒﾝﾂ").unwrap();
        assert_eq!(
            bytes,
            [
                0xb6, 0x29, 0xb6, 0xb9, 0xca, 0xbc, 0xcd, 0xdf, 0xb2, 0xd2, 0xdd, 0xc2
            ],
            "payouts-jp.md §1.9 header name bytes"
        );
        assert_eq!(decode(&bytes).unwrap(), "ｶ)ｶｹﾊｼﾍﾟｲﾒﾝﾂ");
        assert!(encode("ア").is_err());
        assert_eq!(decode(&[0x80]), None);
    }
}
