//! The EMVCo MPM payload: a typed, validated view over the objects exactly as they came, so a
//! parsed payload encodes back to the same bytes and a built one encodes deterministically
//! (objects in ascending ID order).
//!
//! There is one set of rules for both directions: [`PayloadBuilder::build`] lays out the
//! objects and runs the same checks as [`Payload::parse`], so everything we print is something
//! we would accept.
use std::str::FromStr;

use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use rust_decimal::Decimal;

use super::amount::{amount_field, currency_field, parse_amount, parse_currency, parse_percentage};
use super::crc;
use super::error::{QrError, TagPath};
use super::templates::{AdditionalData, LanguageTemplate, MerchantAccount, Template};
use super::tlv::{Fields, Format, Tag, split_chars};
use super::{
    MERCHANT_CITY_CHARS_MAX, MERCHANT_NAME_CHARS_MAX, PAYLOAD_BYTES_MAX, PAYLOAD_CHARS_MAX,
    POSTAL_CODE_CHARS_MAX, VALUE_CHARS_MAX,
};

/// Root IDs.
pub mod ids {
    use super::Tag;
    pub const PAYLOAD_FORMAT: Tag = Tag::of(0);
    pub const INITIATION: Tag = Tag::of(1);
    pub const MERCHANT_CATEGORY: Tag = Tag::of(52);
    pub const CURRENCY: Tag = Tag::of(53);
    pub const AMOUNT: Tag = Tag::of(54);
    pub const TIP: Tag = Tag::of(55);
    pub const FEE_FIXED: Tag = Tag::of(56);
    pub const FEE_PERCENTAGE: Tag = Tag::of(57);
    pub const COUNTRY: Tag = Tag::of(58);
    pub const MERCHANT_NAME: Tag = Tag::of(59);
    pub const MERCHANT_CITY: Tag = Tag::of(60);
    pub const POSTAL_CODE: Tag = Tag::of(61);
    pub const ADDITIONAL_DATA: Tag = Tag::of(62);
    pub const CRC: Tag = Tag::of(63);
    pub const LANGUAGE: Tag = Tag::of(64);
}

/// How much presence to demand beyond the syntax, which is always strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Every object EMVCo marks mandatory (00, a merchant account, 52, 53, 58, 59, 60, 63),
    /// and a dynamic code (01 = `12`) states its amount, as every code we issue does. The
    /// default, and what partners' payloads are held to.
    Strict,
    /// For other schemes' codes: 53 and 58 and a merchant account are still required, but 52,
    /// 59 and 60 may be absent and a dynamic code may leave its amount to the app. Thai
    /// PromptPay stickers omit 52/59/60 and Brazil's Pix dynamic codes fetch their amount
    /// from a URL (`standards.md` §1.4 E2, E6).
    SchemeDefined,
}

/// Point of initiation (01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiation {
    /// `11`: the same code for many transactions (a printed sticker).
    Static,
    /// `12`: a new code for each transaction.
    Dynamic,
}

/// Tip or convenience indicator (55) with its fee (56 or 57).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tip {
    /// `01`: the app asks the customer for a tip.
    Prompt,
    /// `02`: a fixed fee in the transaction currency (56).
    FixedFee(Money),
    /// `03`: a percentage fee (57).
    Percentage(Decimal),
}

/// A validated payload. Built only by [`Payload::parse`] and [`PayloadBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Every root object but 00 and 63, in wire order: the source of the encoding.
    root: Fields,
    initiation: Option<Initiation>,
    accounts: Vec<MerchantAccount>,
    currency: Currency,
    amount: Option<Money>,
    tip: Option<Tip>,
    additional_data: Option<AdditionalData>,
    language: Option<LanguageTemplate>,
    unreserved: Vec<Template>,
}

/// The typed inputs of a payload we issue. `build` lays them out in ascending ID order.
#[derive(Debug, Clone)]
pub struct PayloadBuilder {
    pub initiation: Option<Initiation>,
    pub merchant_accounts: Vec<MerchantAccount>,
    pub merchant_category_code: Option<String>,
    pub currency: Currency,
    pub amount: Option<Money>,
    pub tip: Option<Tip>,
    /// ISO 3166-1 alpha-2, e.g. `JP`.
    pub country: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    pub postal_code: Option<String>,
    pub additional_data: Option<AdditionalData>,
    pub language: Option<LanguageTemplate>,
    /// 80–99.
    pub unreserved: Vec<Template>,
}

/// What the first pass over the root objects learns; the second pass checks it as a whole.
#[derive(Default)]
struct Reading {
    initiation: Option<Initiation>,
    accounts: Vec<MerchantAccount>,
    currency: Option<Currency>,
    tip_code: Option<u8>,
    fee_percentage: Option<Decimal>,
    additional_data: Option<AdditionalData>,
    language: Option<LanguageTemplate>,
    unreserved: Vec<Template>,
}

// === impl Payload ===

impl Payload {
    /// Parses an untrusted payload under [`Rules::Strict`].
    pub fn parse(text: &str) -> Result<Self, QrError> {
        Self::parse_with(text, Rules::Strict)
    }

    /// Parses raw bytes, e.g. straight from a QR decoder.
    pub fn parse_bytes(bytes: &[u8], rules: Rules) -> Result<Self, QrError> {
        if bytes.len() > PAYLOAD_BYTES_MAX {
            return Err(QrError::TooLong);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| QrError::NotUtf8)?;
        Self::parse_with(text, rules)
    }

    pub fn parse_with(text: &str, rules: Rules) -> Result<Self, QrError> {
        if text.len() > PAYLOAD_BYTES_MAX || text.chars().count() > PAYLOAD_CHARS_MAX {
            return Err(QrError::TooLong);
        }
        if !text.starts_with("00") {
            return Err(QrError::PayloadFormatNotFirst);
        }
        // The CRC is checked before anything is interpreted: a damaged or edited payload is
        // reported as such, not by whichever field the damage happened to hit.
        let body = check_crc(text)?;
        let mut root = Fields::parse(body, None)?;
        match root.take_first() {
            Some((tag, value)) if tag == ids::PAYLOAD_FORMAT => {
                if value != "01" {
                    return Err(QrError::BadPayloadFormat);
                }
            }
            _ => return Err(QrError::PayloadFormatNotFirst),
        }
        Self::from_root(root, rules)
    }

    fn from_root(root: Fields, rules: Rules) -> Result<Self, QrError> {
        let mut reading = Reading::default();
        for (tag, value) in root.iter() {
            read_object(tag, value, &mut reading)?;
        }
        let at = TagPath::root;
        let currency = reading.currency.ok_or(QrError::Missing {
            tag: at(ids::CURRENCY),
        })?;
        let mut required = vec![ids::COUNTRY];
        if rules == Rules::Strict {
            required.extend([
                ids::MERCHANT_CATEGORY,
                ids::MERCHANT_NAME,
                ids::MERCHANT_CITY,
            ]);
        }
        if let Some(tag) = required.into_iter().find(|t| root.get(*t).is_none()) {
            return Err(QrError::Missing { tag: at(tag) });
        }
        if reading.accounts.is_empty() {
            return Err(QrError::NoMerchantAccount);
        }
        let amount = root
            .get(ids::AMOUNT)
            .map(|v| parse_amount(v, currency, at(ids::AMOUNT)))
            .transpose()?;
        let tip = read_tip(&root, &reading, currency)?;
        if rules == Rules::Strict
            && reading.initiation == Some(Initiation::Dynamic)
            && amount.is_none()
        {
            return Err(QrError::DynamicWithoutAmount);
        }
        Ok(Self {
            root,
            initiation: reading.initiation,
            accounts: reading.accounts,
            currency,
            amount,
            tip,
            additional_data: reading.additional_data,
            language: reading.language,
            unreserved: reading.unreserved,
        })
    }

    /// The whole payload: `000201`, the objects, `6304` and the CRC.
    pub fn encode(&self) -> String {
        let mut out = String::from("000201");
        self.root.encode_into(&mut out);
        out.push_str("6304");
        let crc = crc::checksum(out.as_bytes());
        out.push_str(&crc::to_hex(crc));
        out
    }

    pub fn initiation(&self) -> Option<Initiation> {
        self.initiation
    }

    pub fn merchant_accounts(&self) -> &[MerchantAccount] {
        &self.accounts
    }

    /// The first merchant account template (26–51) with this GUID.
    pub fn account_template(&self, guid: &str) -> Option<&Template> {
        self.accounts
            .iter()
            .filter_map(MerchantAccount::as_template)
            .find(|t| t.guid() == guid)
    }

    pub fn merchant_category_code(&self) -> Option<&str> {
        self.root.get(ids::MERCHANT_CATEGORY)
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The transaction amount (54) as exact money in the transaction currency.
    pub fn amount(&self) -> Option<Money> {
        self.amount
    }

    pub fn tip(&self) -> Option<&Tip> {
        self.tip.as_ref()
    }

    pub fn country_code(&self) -> &str {
        self.root.get(ids::COUNTRY).unwrap_or_default()
    }

    pub fn merchant_name(&self) -> Option<&str> {
        self.root.get(ids::MERCHANT_NAME)
    }

    pub fn merchant_city(&self) -> Option<&str> {
        self.root.get(ids::MERCHANT_CITY)
    }

    pub fn postal_code(&self) -> Option<&str> {
        self.root.get(ids::POSTAL_CODE)
    }

    pub fn additional_data(&self) -> Option<&AdditionalData> {
        self.additional_data.as_ref()
    }

    pub fn language(&self) -> Option<&LanguageTemplate> {
        self.language.as_ref()
    }

    /// Unreserved templates (80–99).
    pub fn unreserved_templates(&self) -> &[Template] {
        &self.unreserved
    }

    /// Every root object but 00 and 63, in wire order, as text.
    pub fn fields(&self) -> &Fields {
        &self.root
    }
}

/// Checks one root object on its own and records what it means.
fn read_object(tag: Tag, value: &str, reading: &mut Reading) -> Result<(), QrError> {
    let at = TagPath::root(tag);
    let ans = Format::AlphanumericSpecial;
    match tag.number() {
        0 => return Err(QrError::Duplicate { tag: at }),
        1 => {
            Format::Numeric.check(value, 2, 2, at)?;
            reading.initiation = Some(match value {
                "11" => Initiation::Static,
                "12" => Initiation::Dynamic,
                _ => {
                    return Err(QrError::BadValue {
                        tag: at,
                        reason: "point of initiation is 11 (static) or 12 (dynamic)",
                    });
                }
            });
        }
        2..=51 => reading.accounts.push(MerchantAccount::parse(tag, value)?),
        52 => Format::Numeric.check(value, 4, 4, at)?,
        53 => reading.currency = Some(parse_currency(value, at)?),
        // Needs the currency, which may come later: read in the second pass.
        54 | 56 => ans.check(value, 1, super::AMOUNT_CHARS_MAX, at)?,
        55 => {
            Format::Numeric.check(value, 2, 2, at)?;
            let code = value.parse::<u8>().ok().filter(|c| (1..=3).contains(c));
            reading.tip_code = Some(code.ok_or(QrError::BadValue {
                tag: at,
                reason: "tip or convenience indicator is 01, 02 or 03",
            })?);
        }
        57 => reading.fee_percentage = Some(parse_percentage(value, at)?),
        58 => check_country(value, at)?,
        59 => ans.check(value, 1, MERCHANT_NAME_CHARS_MAX, at)?,
        60 => ans.check(value, 1, MERCHANT_CITY_CHARS_MAX, at)?,
        61 => ans.check(value, 1, POSTAL_CODE_CHARS_MAX, at)?,
        62 => reading.additional_data = Some(AdditionalData::parse(value)?),
        63 => return Err(QrError::CrcNotLast),
        64 => reading.language = Some(LanguageTemplate::parse(value)?),
        // Reserved for EMVCo: apps are to ignore them, so they are kept and passed on.
        65..=79 => Format::String.check(value, 1, VALUE_CHARS_MAX, at)?,
        _ => reading.unreserved.push(Template::parse(value, at)?),
    }
    Ok(())
}

/// 58: ISO 3166-1 alpha-2, uppercase, an assigned code.
fn check_country(value: &str, tag: TagPath) -> Result<(), QrError> {
    Format::AlphanumericSpecial.check(value, 2, 2, tag)?;
    let assigned = value.bytes().all(|b| b.is_ascii_uppercase())
        && iso_currency::Country::from_str(value).is_ok();
    if !assigned {
        return Err(QrError::BadValue {
            tag,
            reason: "not an ISO 3166-1 alpha-2 country code",
        });
    }
    Ok(())
}

/// 55 decides which of 56 and 57 may, and must, be present.
fn read_tip(root: &Fields, reading: &Reading, currency: Currency) -> Result<Option<Tip>, QrError> {
    let at = TagPath::root;
    let fixed = root.get(ids::FEE_FIXED);
    let conditional = |tag, requires| QrError::Conditional {
        tag: at(tag),
        requires,
    };
    if fixed.is_some() && reading.tip_code != Some(2) {
        return Err(conditional(ids::FEE_FIXED, "55 = 02"));
    }
    if reading.fee_percentage.is_some() && reading.tip_code != Some(3) {
        return Err(conditional(ids::FEE_PERCENTAGE, "55 = 03"));
    }
    Ok(match reading.tip_code {
        None => None,
        Some(1) => Some(Tip::Prompt),
        Some(2) => {
            let fixed = fixed.ok_or(conditional(ids::TIP, "the fixed fee 56 when it is 02"))?;
            Some(Tip::FixedFee(parse_amount(
                fixed,
                currency,
                at(ids::FEE_FIXED),
            )?))
        }
        Some(_) => {
            Some(Tip::Percentage(reading.fee_percentage.ok_or(
                conditional(ids::TIP, "the fee percentage 57 when it is 03"),
            )?))
        }
    })
}

/// Checks the trailing `6304XXXX` and returns what precedes it.
fn check_crc(text: &str) -> Result<&str, QrError> {
    let chars = text.chars().count();
    let (body, object) = chars
        .checked_sub(8)
        .and_then(|n| split_chars(text, n))
        .ok_or(QrError::CrcNotLast)?;
    let Some(digits) = object.strip_prefix("6304") else {
        return Err(QrError::CrcNotLast);
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(QrError::CrcMalformed);
    }
    let found = u16::from_str_radix(digits, 16).map_err(|_| QrError::CrcMalformed)?;
    let covered = &text[..text.len() - digits.len()];
    let expected = crc::checksum(covered.as_bytes());
    if found != expected {
        return Err(QrError::BadCrc { expected, found });
    }
    if digits.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(QrError::CrcLowercase);
    }
    Ok(body)
}

// === impl PayloadBuilder ===

impl PayloadBuilder {
    /// The two objects every payload needs besides a merchant account.
    pub fn new(currency: Currency, country: &str) -> Self {
        Self {
            initiation: None,
            merchant_accounts: Vec::new(),
            merchant_category_code: None,
            currency,
            amount: None,
            tip: None,
            country: country.to_owned(),
            merchant_name: None,
            merchant_city: None,
            postal_code: None,
            additional_data: None,
            language: None,
            unreserved: Vec::new(),
        }
    }

    /// Lays the objects out in ascending ID order and checks them under `rules`.
    pub fn build(self, rules: Rules) -> Result<Payload, QrError> {
        self.check_currencies()?;
        if let Some(t) = self.unreserved.iter().find(|t| t.tag().number() < 80) {
            return Err(QrError::NotAllowed {
                tag: TagPath::root(t.tag()),
            });
        }
        let mut root = Fields::default();
        let mut put = |tag: Tag, value: String| root.push(tag, value, None);
        if let Some(initiation) = self.initiation {
            let value = match initiation {
                Initiation::Static => "11",
                Initiation::Dynamic => "12",
            };
            put(ids::INITIATION, value.to_owned())?;
        }
        let mut accounts = self.merchant_accounts;
        accounts.sort_by_key(MerchantAccount::tag);
        for account in &accounts {
            put(account.tag(), account.value())?;
        }
        if let Some(mcc) = self.merchant_category_code {
            put(ids::MERCHANT_CATEGORY, mcc)?;
        }
        put(ids::CURRENCY, currency_field(self.currency))?;
        if let Some(amount) = &self.amount {
            put(
                ids::AMOUNT,
                amount_field(amount, TagPath::root(ids::AMOUNT))?,
            )?;
        }
        match &self.tip {
            None => {}
            Some(Tip::Prompt) => put(ids::TIP, "01".to_owned())?,
            Some(Tip::FixedFee(fee)) => {
                put(ids::TIP, "02".to_owned())?;
                put(
                    ids::FEE_FIXED,
                    amount_field(fee, TagPath::root(ids::FEE_FIXED))?,
                )?;
            }
            Some(Tip::Percentage(p)) => {
                put(ids::TIP, "03".to_owned())?;
                put(ids::FEE_PERCENTAGE, p.normalize().to_string())?;
            }
        }
        put(ids::COUNTRY, self.country)?;
        let text_objects = [
            (ids::MERCHANT_NAME, self.merchant_name),
            (ids::MERCHANT_CITY, self.merchant_city),
            (ids::POSTAL_CODE, self.postal_code),
            (
                ids::ADDITIONAL_DATA,
                self.additional_data.map(|a| a.encode()),
            ),
            (ids::LANGUAGE, self.language.map(|l| l.encode())),
        ];
        for (tag, value) in text_objects {
            if let Some(value) = value {
                put(tag, value)?;
            }
        }
        let mut unreserved = self.unreserved;
        unreserved.sort_by_key(Template::tag);
        for template in &unreserved {
            put(template.tag(), template.encode())?;
        }
        let payload = Payload::from_root(root, rules)?;
        if payload.encode().chars().count() > PAYLOAD_CHARS_MAX {
            return Err(QrError::TooLong);
        }
        Ok(payload)
    }

    /// An amount or fee in another currency than 53 would be misread as 53's.
    fn check_currencies(&self) -> Result<(), QrError> {
        let fee = match &self.tip {
            Some(Tip::FixedFee(fee)) => Some((ids::FEE_FIXED, fee)),
            _ => None,
        };
        let amount = self.amount.as_ref().map(|a| (ids::AMOUNT, a));
        for (tag, money) in amount.into_iter().chain(fee) {
            if money.currency() != self.currency {
                return Err(QrError::BadValue {
                    tag: TagPath::root(tag),
                    reason: "in another currency than the transaction currency (53)",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
