//! JPQR, Japan's unified code-payment standard (Payments Japan Association, *JPQR MPM
//! Guideline* 1.0, 2019-03): an EMVCo MPM payload with one Payments Japan merchant account
//! template and a few extra rules.
//!
//! As the research found them (`standards.md` §2.2, from mercari/go-emv-code's JPQR package,
//! which implements the guideline; the guideline PDF itself was not consulted):
//! - a merchant account template (any of 02–51) with GUID `jp.or.paymentsjapan` and four
//!   numeric sub-objects of fixed length, 01 = 13 digits, 02 = 4, 03 = 6, 04 = 6 (the template
//!   is exactly 68 characters). Their names are not public; one probably carries the unified
//!   store code issued through Payments Japan's GUILD system, so we keep them as four parts;
//! - country (58) `JP`, currency (53) `392`, postal code (61) present, merchant information
//!   in Japanese (64 with 00 = `JA`) present, and its alternate city (64/02) absent;
//! - a static code (01 = `11`) carries no amount: the customer enters it. This one is an
//!   inference from EMVCo's meaning of "static", labelled so in the research.
use std::fmt;

use super::error::{QrError, TagPath};
use super::mpm::{Initiation, Payload};
use super::templates::{GUID, MerchantAccount, Template};
use super::tlv::{Format, Tag};

pub const JPQR_GUID: &str = "jp.or.paymentsjapan";
/// Digits in sub-objects 01 to 04 of the Payments Japan template.
pub const FIELD_DIGITS: [usize; 4] = [13, 4, 6, 6];
const JPY_NUMERIC: u16 = 392;

/// The four numeric parts of a merchant's JPQR identity, as Payments Japan issues them.
/// Written in configuration as `0000000000001-0001-000001-000001`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpqrId {
    parts: [String; 4],
}

/// A payload that satisfies JPQR, with its Payments Japan identity.
#[derive(Debug, Clone)]
pub struct Jpqr<'a> {
    payload: &'a Payload,
    template: Template,
    id: JpqrId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpqrError {
    #[error("JPQR codes are Japanese: country (58) must be JP")]
    CountryNotJapan,
    #[error("JPQR codes are in yen: currency (53) must be 392, is {found:03}")]
    CurrencyNotYen { found: u16 },
    #[error("no merchant account template with GUID jp.or.paymentsjapan")]
    MissingTemplate,
    #[error("more than one merchant account template with GUID jp.or.paymentsjapan")]
    DuplicateTemplate,
    #[error("{tag}: a JPQR field of exactly {digits} digits")]
    BadField { tag: TagPath, digits: usize },
    #[error("{tag}: mandatory in the JPQR template")]
    MissingField { tag: TagPath },
    #[error("{tag}: the JPQR template holds only 00 to 04")]
    UnexpectedField { tag: TagPath },
    #[error("postal code (61) is mandatory in JPQR")]
    MissingPostalCode,
    #[error("merchant information in Japanese (64 with 00 = JA) is mandatory in JPQR")]
    MissingJapanese,
    #[error("the alternate city (64/02) is not used in JPQR")]
    AlternateCity,
    #[error("a static JPQR code carries no amount (54): the customer enters it")]
    StaticWithAmount,
    #[error("a JPQR merchant id is four groups of 13, 4, 6 and 6 digits joined by `-`")]
    BadIdText,
}

// === impl JpqrId ===

impl JpqrId {
    /// From the configuration form `0000000000001-0001-000001-000001`.
    pub fn parse(text: &str) -> Result<Self, JpqrError> {
        let groups: Vec<&str> = text.splitn(5, '-').collect();
        let parts: [&str; 4] = groups.try_into().map_err(|_| JpqrError::BadIdText)?;
        let well_formed = parts
            .iter()
            .zip(FIELD_DIGITS)
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return Err(JpqrError::BadIdText);
        }
        Ok(Self {
            parts: parts.map(str::to_owned),
        })
    }

    /// Sub-objects 01 to 04, in order.
    pub fn parts(&self) -> [&str; 4] {
        [
            &self.parts[0],
            &self.parts[1],
            &self.parts[2],
            &self.parts[3],
        ]
    }

    /// The Payments Japan template at `tag` (26–51).
    pub fn template(&self, tag: Tag) -> Result<Template, QrError> {
        let mut template = Template::new(tag, JPQR_GUID)?;
        for (number, part) in (1..=4).zip(&self.parts) {
            template = template.with(Tag::of(number), part)?;
        }
        Ok(template)
    }

    fn from_template(template: &Template, path: TagPath) -> Result<Self, JpqrError> {
        for (tag, _) in template.fields().iter() {
            if tag.number() > 4 {
                return Err(JpqrError::UnexpectedField {
                    tag: path.child(tag),
                });
            }
        }
        let mut parts: [String; 4] = Default::default();
        for ((slot, digits), number) in parts.iter_mut().zip(FIELD_DIGITS).zip(1..=4) {
            let tag = path.child(Tag::of(number));
            let value = template
                .get(Tag::of(number))
                .ok_or(JpqrError::MissingField { tag })?;
            Format::Numeric
                .check(value, digits, digits, tag)
                .map_err(|_| JpqrError::BadField { tag, digits })?;
            value.clone_into(slot);
        }
        Ok(Self { parts })
    }
}

impl fmt::Display for JpqrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("-"))
    }
}

// === impl Jpqr ===

impl<'a> Jpqr<'a> {
    /// Checks the JPQR rules on a payload that already passed EMVCo's. Root rules first, then
    /// the template, then the objects JPQR makes mandatory.
    pub fn validate(payload: &'a Payload) -> Result<Self, JpqrError> {
        if payload.country_code() != "JP" {
            return Err(JpqrError::CountryNotJapan);
        }
        let numeric = payload.currency().numeric();
        if numeric != JPY_NUMERIC {
            return Err(JpqrError::CurrencyNotYen { found: numeric });
        }
        let template = find_template(payload)?;
        let id = JpqrId::from_template(&template, TagPath::root(template.tag()))?;
        if payload.postal_code().is_none() {
            return Err(JpqrError::MissingPostalCode);
        }
        let language = payload
            .language()
            .filter(|l| l.language() == "JA")
            .ok_or(JpqrError::MissingJapanese)?;
        if language.city().is_some() {
            return Err(JpqrError::AlternateCity);
        }
        if payload.initiation() == Some(Initiation::Static) && payload.amount().is_some() {
            return Err(JpqrError::StaticWithAmount);
        }
        Ok(Self {
            payload,
            template,
            id,
        })
    }

    pub fn id(&self) -> &JpqrId {
        &self.id
    }

    /// The root ID the Payments Japan template sits under (26 in every published example).
    pub fn tag(&self) -> Tag {
        self.template.tag()
    }

    pub fn japanese_name(&self) -> &str {
        self.payload
            .language()
            .map(|l| l.name())
            .unwrap_or_default()
    }

    pub fn postal_code(&self) -> &str {
        self.payload.postal_code().unwrap_or_default()
    }

    pub fn payload(&self) -> &Payload {
        self.payload
    }
}

/// Exactly one merchant account carries the Payments Japan GUID. Like mercari's reader we look
/// in all of 02–51: a primitive 02–25 value that reads as such a template counts too.
fn find_template(payload: &Payload) -> Result<Template, JpqrError> {
    let mut jpqr = payload
        .merchant_accounts()
        .iter()
        .filter_map(|a| match a {
            MerchantAccount::Template(t) => Some(t.clone()),
            MerchantAccount::Primitive { tag, value } => {
                Template::parse(value, TagPath::root(*tag)).ok()
            }
        })
        .filter(|t| t.get(GUID) == Some(JPQR_GUID));
    match (jpqr.next(), jpqr.next()) {
        (Some(t), None) => Ok(t),
        (Some(_), Some(_)) => Err(JpqrError::DuplicateTemplate),
        (None, _) => Err(JpqrError::MissingTemplate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_id_is_four_digit_groups() {
        let id = JpqrId::parse("0000000000001-0001-000001-000001").unwrap();
        assert_eq!(id.parts(), ["0000000000001", "0001", "000001", "000001"]);
        assert_eq!(id.to_string(), "0000000000001-0001-000001-000001");
        for bad in [
            "0000000000001-0001-000001",
            "0000000000001-0001-000001-000001-1",
            "000000000001-0001-000001-000001",
            "0000000000001-0001-00000a-000001",
            "00000000000010001000001000001",
        ] {
            assert_eq!(JpqrId::parse(bad), Err(JpqrError::BadIdText), "{bad}");
        }
    }

    #[test]
    fn the_template_is_exactly_68_characters() {
        let id = JpqrId::parse("0000000000001-0001-000001-000001").unwrap();
        let template = id.template(Tag::of(26)).unwrap();
        assert_eq!(
            template.encode(),
            "0019jp.or.paymentsjapan011300000000000010204000103060000010406000001"
        );
        assert_eq!(template.encode().len(), 68);
    }

    #[test]
    fn template_fields_have_fixed_lengths_and_nothing_else() {
        let path = TagPath::root(Tag::of(26));
        let twelve_digits = concat!(
            "0019jp.or.paymentsjapan",
            "0112000000000001",
            "02040001",
            "0306000001",
            "0406000001"
        );
        let short = Template::parse(twelve_digits, path).unwrap();
        assert_eq!(
            JpqrId::from_template(&short, path),
            Err(JpqrError::BadField {
                tag: path.child(Tag::of(1)),
                digits: 13
            })
        );
        let extra = JpqrId::parse("0000000000001-0001-000001-000001")
            .unwrap()
            .template(Tag::of(26))
            .unwrap()
            .with(Tag::of(5), "x")
            .unwrap();
        assert_eq!(
            JpqrId::from_template(&extra, path),
            Err(JpqrError::UnexpectedField {
                tag: path.child(Tag::of(5))
            })
        );
    }
}
