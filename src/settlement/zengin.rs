//! The Zengin 総合振込 (general transfer) file: fixed 120-byte records, header `1`, one data
//! record `2` per payee, trailer `8`, end `9`, JIS X 0201 bytes (payouts-jp.md §1). `N` fields
//! are right-aligned and zero-filled, `C` fields left-aligned and space-filled; a field that
//! does not fit is an error, never truncated (a cut name comes back as 名義相違, §1.7).
//!
//! The writer puts CRLF after every record, the end record included (§1.2's recommended
//! default, as `nahi/jba` does); the parser accepts that, CRLF between records only, or no
//! separators, and an optional trailing `0x1A`.
use super::kana::{self, KanaError};

pub const RECORD_BYTES: usize = 120;
/// Most data records one file carries (the trailer's count has 6 digits).
pub const RECORDS_MAX: usize = 999_999;
/// Largest amount one record transfers (10 digits, GMO-BULK).
pub const AMOUNT_MAX: u64 = 9_999_999_999;
/// Largest trailer total (12 digits).
const TOTAL_MAX: u64 = 999_999_999_999;
const CRLF: &[u8] = b"\r\n";

/// 預金種目.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountType {
    /// 普通 `1`
    Ordinary,
    /// 当座 `2`
    Current,
    /// 貯蓄 `4` (payee only)
    Savings,
    /// その他 `9`
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// 振込依頼人コード, 10 digits assigned by the remitting bank.
    pub requester_code: String,
    /// 振込依頼人名, half-width, at most 40 bytes.
    pub requester_name: String,
    /// 振込指定日 as (month, day); the full date is checked against the calendar before.
    pub transfer_month: u8,
    pub transfer_day: u8,
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
    pub account_type: AccountType,
    pub account_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRecord {
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
    pub account_type: AccountType,
    /// 7 digits.
    pub account_number: String,
    /// 受取人名, half-width, at most 30 bytes.
    pub payee_name: String,
    /// 振込金額 in yen, 1..=[`AMOUNT_MAX`].
    pub amount_yen: u64,
    /// 顧客コード1 (digits, at most 10); blank when `None`.
    pub customer_code1: Option<String>,
    pub customer_code2: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZenginFile {
    pub header: Header,
    pub records: Vec<DataRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZenginError {
    #[error("{field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("{field}: {source}")]
    Name {
        field: &'static str,
        source: KanaError,
    },
    #[error("a file carries 1 to {RECORDS_MAX} data records")]
    RecordCount,
    #[error("record {index}: {reason}")]
    Parse { index: usize, reason: String },
}

// === impl AccountType ===

impl AccountType {
    fn code(self) -> u8 {
        match self {
            Self::Ordinary => b'1',
            Self::Current => b'2',
            Self::Savings => b'4',
            Self::Other => b'9',
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            b'1' => Some(Self::Ordinary),
            b'2' => Some(Self::Current),
            b'4' => Some(Self::Savings),
            b'9' => Some(Self::Other),
            _ => None,
        }
    }
}

// === impl ZenginFile ===

impl ZenginFile {
    /// The file's bytes; every record is checked to be exactly 120 bytes.
    pub fn write(&self) -> Result<Vec<u8>, ZenginError> {
        if self.records.is_empty() || self.records.len() > RECORDS_MAX {
            return Err(ZenginError::RecordCount);
        }
        let mut out = Vec::with_capacity((self.records.len() + 3) * (RECORD_BYTES + 2));
        push_record(&mut out, &header_record(&self.header)?);
        let mut total: u64 = 0;
        for record in &self.records {
            push_record(&mut out, &data_record(record)?);
            total += record.amount_yen;
        }
        if total > TOTAL_MAX {
            return Err(field("trailer total", "over 12 digits"));
        }
        let mut trailer = Record::new(b'8');
        trailer.number("合計件数", self.records.len() as u64, 6)?;
        trailer.number("合計金額", total, 12)?;
        trailer.spaces(101);
        push_record(&mut out, &trailer.finish()?);
        let mut end = Record::new(b'9');
        end.spaces(119);
        push_record(&mut out, &end.finish()?);
        Ok(out)
    }

    pub fn total_yen(&self) -> u64 {
        self.records.iter().map(|r| r.amount_yen).sum()
    }

    /// Parses a file field by field, checking the record order, that every record is 120
    /// bytes of JIS X 0201, and that the trailer's count and total match the data records.
    pub fn parse(bytes: &[u8]) -> Result<Self, ZenginError> {
        let records = split_records(bytes)?;
        let (first, rest) = records.split_first().ok_or(ZenginError::RecordCount)?;
        let header = parse_header(first).map_err(|r| perr(0, r))?;
        let mut data = Vec::new();
        let mut index = 1;
        while let Some(record) = rest.get(index - 1).filter(|r| r[0] == b'2') {
            data.push(parse_data(record).map_err(|r| perr(index, r))?);
            index += 1;
        }
        let trailer = rest
            .get(index - 1)
            .ok_or_else(|| perr(index, "missing trailer".into()))?;
        let file = Self {
            header,
            records: data,
        };
        check_trailer(trailer, &file).map_err(|r| perr(index, r))?;
        let end = rest
            .get(index)
            .ok_or_else(|| perr(index + 1, "missing end record".into()))?;
        if end[0] != b'9' || end[1..].iter().any(|b| *b != b' ') {
            return Err(perr(
                index + 1,
                "the end record is `9` and 119 spaces".into(),
            ));
        }
        if rest.len() != index + 1 {
            return Err(perr(index + 2, "records after the end record".into()));
        }
        Ok(file)
    }
}

fn header_record(h: &Header) -> Result<[u8; RECORD_BYTES], ZenginError> {
    let mut r = Record::new(b'1');
    r.raw(b"21"); // 種別コード: 総合振込
    r.raw(b"0"); // コード区分: JIS
    r.digits("振込依頼人コード", &h.requester_code, 10)?;
    r.text("振込依頼人名", &h.requester_name, 40)?;
    if !(1..=12).contains(&h.transfer_month) || !(1..=31).contains(&h.transfer_day) {
        return Err(field("振込指定日", "not a month and day"));
    }
    r.number(
        "振込指定日",
        u64::from(h.transfer_month) * 100 + u64::from(h.transfer_day),
        4,
    )?;
    r.digits("仕向銀行番号", &h.bank_code, 4)?;
    r.text("仕向銀行名", &h.bank_name, 15)?;
    r.digits("仕向支店番号", &h.branch_code, 3)?;
    r.text("仕向支店名", &h.branch_name, 15)?;
    r.raw(&[h.account_type.code()]);
    r.digits("口座番号", &h.account_number, 7)?;
    r.spaces(17);
    r.finish()
}

fn data_record(d: &DataRecord) -> Result<[u8; RECORD_BYTES], ZenginError> {
    let mut r = Record::new(b'2');
    r.digits("被仕向銀行番号", &d.bank_code, 4)?;
    r.text("被仕向銀行名", &d.bank_name, 15)?;
    r.digits("被仕向支店番号", &d.branch_code, 3)?;
    r.text("被仕向支店名", &d.branch_name, 15)?;
    r.raw(b"0000"); // 手形交換所番号: unused
    r.raw(&[d.account_type.code()]);
    r.digits("口座番号", &d.account_number, 7)?;
    r.text("受取人名", &d.payee_name, 30)?;
    if d.amount_yen == 0 || d.amount_yen > AMOUNT_MAX {
        return Err(field("振込金額", "must be 1 to 9,999,999,999 yen"));
    }
    r.number("振込金額", d.amount_yen, 10)?;
    r.raw(b"0"); // 新規コード: その他
    r.optional_digits("顧客コード1", d.customer_code1.as_deref(), 10)?;
    r.optional_digits("顧客コード2", d.customer_code2.as_deref(), 10)?;
    r.raw(b"7"); // 振込指定区分: 電信扱
    r.raw(b" "); // 識別表示: 顧客コード, not EDI
    r.spaces(7);
    r.finish()
}

fn push_record(out: &mut Vec<u8>, record: &[u8; RECORD_BYTES]) {
    out.extend_from_slice(record);
    out.extend_from_slice(CRLF);
}

/// A record being written, field by field.
struct Record {
    bytes: Vec<u8>,
}

impl Record {
    fn new(kind: u8) -> Self {
        let mut bytes = Vec::with_capacity(RECORD_BYTES);
        bytes.push(kind);
        Self { bytes }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    fn spaces(&mut self, n: usize) {
        self.bytes.extend(std::iter::repeat_n(b' ', n));
    }

    fn number(&mut self, name: &'static str, value: u64, width: usize) -> Result<(), ZenginError> {
        let text = format!("{value:0width$}");
        if text.len() != width {
            return Err(field(
                name,
                &format!("{value} has more than {width} digits"),
            ));
        }
        self.raw(text.as_bytes());
        Ok(())
    }

    /// Digits, zero-filled on the left to `width`.
    fn digits(&mut self, name: &'static str, value: &str, width: usize) -> Result<(), ZenginError> {
        if value.is_empty() || value.len() > width || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field(name, &format!("must be 1 to {width} digits")));
        }
        self.raw("0".repeat(width - value.len()).as_bytes());
        self.raw(value.as_bytes());
        Ok(())
    }

    fn optional_digits(
        &mut self,
        name: &'static str,
        value: Option<&str>,
        width: usize,
    ) -> Result<(), ZenginError> {
        match value {
            Some(v) => self.digits(name, v, width),
            None => {
                self.spaces(width);
                Ok(())
            }
        }
    }

    /// Half-width text in the allowed name set, space-filled on the right.
    fn text(&mut self, name: &'static str, value: &str, width: usize) -> Result<(), ZenginError> {
        let checked = kana::to_zengin_field(value, width).map_err(|source| ZenginError::Name {
            field: name,
            source,
        })?;
        let bytes = kana::encode(&checked).map_err(|source| ZenginError::Name {
            field: name,
            source,
        })?;
        self.raw(&bytes);
        self.spaces(width - bytes.len());
        Ok(())
    }

    fn finish(self) -> Result<[u8; RECORD_BYTES], ZenginError> {
        // Every field above has a fixed width, so a record of any other length is a bug.
        <[u8; RECORD_BYTES]>::try_from(self.bytes.as_slice())
            .map_err(|_| field("record", "is not 120 bytes"))
    }
}

fn split_records(bytes: &[u8]) -> Result<Vec<&[u8; RECORD_BYTES]>, ZenginError> {
    let body = bytes.strip_suffix(&[0x1A]).unwrap_or(bytes);
    let mut records = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if records.len() > RECORDS_MAX + 2 {
            return Err(ZenginError::RecordCount);
        }
        let index = records.len();
        let (record, after) = rest.split_at_checked(RECORD_BYTES).ok_or_else(|| {
            perr(
                index,
                format!("{} bytes where a record needs 120", rest.len()),
            )
        })?;
        let record = <&[u8; RECORD_BYTES]>::try_from(record)
            .map_err(|_| perr(index, "not 120 bytes".into()))?;
        records.push(record);
        rest = after.strip_prefix(CRLF).unwrap_or(after);
        if rest.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
            return Err(perr(
                index,
                "a lone CR or LF; records end with CRLF or nothing".into(),
            ));
        }
    }
    Ok(records)
}

/// Reads fixed-width fields of one record, in order.
struct Fields<'a> {
    record: &'a [u8; RECORD_BYTES],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(record: &'a [u8; RECORD_BYTES]) -> Self {
        Self { record, at: 1 }
    }

    fn take(&mut self, width: usize) -> &'a [u8] {
        let slice = &self.record[self.at..self.at + width];
        self.at += width;
        slice
    }

    fn digits(&mut self, name: &str, width: usize) -> Result<String, String> {
        let raw = self.take(width);
        if !raw.iter().all(u8::is_ascii_digit) {
            return Err(format!("{name} is not {width} digits"));
        }
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    fn number(&mut self, name: &str, width: usize) -> Result<u64, String> {
        self.digits(name, width)?
            .parse()
            .map_err(|_| format!("{name} is not a number"))
    }

    fn text(&mut self, name: &str, width: usize) -> Result<String, String> {
        let decoded = kana::decode(self.take(width))
            .ok_or_else(|| format!("{name} has a byte outside JIS X 0201"))?;
        Ok(decoded.trim_end_matches(' ').to_owned())
    }

    fn optional_digits(&mut self, name: &str, width: usize) -> Result<Option<String>, String> {
        if self.record[self.at..self.at + width]
            .iter()
            .all(|b| *b == b' ')
        {
            self.at += width;
            return Ok(None);
        }
        self.digits(name, width).map(Some)
    }

    fn literal(&mut self, name: &str, expected: &[u8]) -> Result<(), String> {
        if self.take(expected.len()) != expected {
            return Err(format!(
                "{name} must be `{}`",
                String::from_utf8_lossy(expected)
            ));
        }
        Ok(())
    }

    fn account_type(&mut self) -> Result<AccountType, String> {
        AccountType::from_code(self.take(1)[0]).ok_or_else(|| "unknown 預金種目".to_owned())
    }

    fn blank(&mut self, width: usize) -> Result<(), String> {
        if self.take(width).iter().any(|b| *b != b' ') {
            return Err("ダミー must be spaces".into());
        }
        Ok(())
    }
}

fn parse_header(record: &[u8; RECORD_BYTES]) -> Result<Header, String> {
    if record[0] != b'1' {
        return Err("the first record must be a header (1)".into());
    }
    let mut f = Fields::new(record);
    f.literal("種別コード", b"21")?;
    f.literal("コード区分", b"0")?;
    let requester_code = f.digits("振込依頼人コード", 10)?;
    let requester_name = f.text("振込依頼人名", 40)?;
    let date = f.number("振込指定日", 4)?;
    let header = Header {
        requester_code,
        requester_name,
        transfer_month: u8::try_from(date / 100).map_err(|_| "bad month")?,
        transfer_day: u8::try_from(date % 100).map_err(|_| "bad day")?,
        bank_code: f.digits("仕向銀行番号", 4)?,
        bank_name: f.text("仕向銀行名", 15)?,
        branch_code: f.digits("仕向支店番号", 3)?,
        branch_name: f.text("仕向支店名", 15)?,
        account_type: f.account_type()?,
        account_number: f.digits("口座番号", 7)?,
    };
    f.blank(17)?;
    Ok(header)
}

fn parse_data(record: &[u8; RECORD_BYTES]) -> Result<DataRecord, String> {
    let mut f = Fields::new(record);
    let bank_code = f.digits("被仕向銀行番号", 4)?;
    let bank_name = f.text("被仕向銀行名", 15)?;
    let branch_code = f.digits("被仕向支店番号", 3)?;
    let branch_name = f.text("被仕向支店名", 15)?;
    let clearing = f.take(4);
    if clearing != b"0000" && clearing != b"    " {
        return Err("手形交換所番号 must be 0000 or spaces".into());
    }
    let account_type = f.account_type()?;
    let account_number = f.digits("口座番号", 7)?;
    let payee_name = f.text("受取人名", 30)?;
    let amount_yen = f.number("振込金額", 10)?;
    let new_code = f.take(1)[0];
    if !matches!(new_code, b'0' | b'1' | b'2' | b' ') {
        return Err("新規コード must be 0, 1, 2 or space".into());
    }
    let customer_code1 = f.optional_digits("顧客コード1", 10)?;
    let customer_code2 = f.optional_digits("顧客コード2", 10)?;
    if !matches!(f.take(1)[0], b'7' | b'8' | b' ') {
        return Err("振込指定区分 must be 7, 8 or space".into());
    }
    if f.take(1)[0] != b' ' {
        return Err("EDI records (識別表示 Y) are not read".into());
    }
    f.blank(7)?;
    Ok(DataRecord {
        bank_code,
        bank_name,
        branch_code,
        branch_name,
        account_type,
        account_number,
        payee_name,
        amount_yen,
        customer_code1,
        customer_code2,
    })
}

fn check_trailer(record: &[u8; RECORD_BYTES], file: &ZenginFile) -> Result<(), String> {
    if record[0] != b'8' {
        return Err("expected the trailer (8)".into());
    }
    let mut f = Fields::new(record);
    let count = f.number("合計件数", 6)?;
    let total = f.number("合計金額", 12)?;
    f.blank(101)?;
    if count != file.records.len() as u64 {
        return Err(format!(
            "合計件数 {count} but {} data records",
            file.records.len()
        ));
    }
    if total != file.total_yen() {
        return Err(format!(
            "合計金額 {total} but the records sum to {}",
            file.total_yen()
        ));
    }
    Ok(())
}

fn field(name: &'static str, reason: &str) -> ZenginError {
    ZenginError::Field {
        field: name,
        reason: reason.to_owned(),
    }
}

fn perr(index: usize, reason: String) -> ZenginError {
    ZenginError::Parse { index, reason }
}

#[cfg(test)]
#[path = "zengin_tests.rs"]
mod tests;
