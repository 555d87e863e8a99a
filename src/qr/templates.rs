//! The nested templates of an MPM payload: merchant account information (02–51), additional
//! data (62), merchant information in another language (64) and the unreserved templates
//! (80–99).
//!
//! Each keeps its objects in wire order (so it encodes back byte for byte) and checks them
//! when built, whether from a payload or by our own code: there is one set of rules.
use super::error::{QrError, TagPath};
use super::tlv::{Fields, Format, Tag};
use super::{
    ADDITIONAL_FIELD_CHARS_MAX, GUID_CHARS_MAX, MERCHANT_CITY_CHARS_MAX, MERCHANT_NAME_CHARS_MAX,
    VALUE_CHARS_MAX,
};

/// Sub-ID 00 of every GUID template.
pub const GUID: Tag = Tag::of(0);

/// A template whose first duty is to say whose it is: sub-ID 00, the globally unique
/// identifier (an AID such as `A000000677010111`, or a reverse domain name such as
/// `jp.or.paymentsjapan`), then IDs 01–99 defined by that owner. Used for merchant account
/// information 26–51, unreserved templates 80–99 and payment-system templates 62/50–99.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    path: TagPath,
    fields: Fields,
}

/// Merchant account information (02–51): how one network reaches the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MerchantAccount {
    /// IDs 02–25, reserved for card schemes (Visa, Mastercard, UnionPay...), hold a value in
    /// the scheme's own format, e.g. a 31-digit UnionPay merchant number under 15.
    Primitive { tag: Tag, value: String },
    /// IDs 26–51: a GUID template for any other network.
    Template(Template),
}

/// The additional data field template (62).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionalData {
    fields: Fields,
    payment_system: Vec<Template>,
}

/// Merchant information in an alternate language (64), e.g. a Japanese name beside the
/// romanised one in 59.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTemplate {
    fields: Fields,
}

/// Sub-IDs of the additional data field template (62).
pub mod adf {
    use super::Tag;
    pub const BILL_NUMBER: Tag = Tag::of(1);
    pub const MOBILE_NUMBER: Tag = Tag::of(2);
    pub const STORE_LABEL: Tag = Tag::of(3);
    pub const LOYALTY_NUMBER: Tag = Tag::of(4);
    pub const REFERENCE_LABEL: Tag = Tag::of(5);
    pub const CUSTOMER_LABEL: Tag = Tag::of(6);
    pub const TERMINAL_LABEL: Tag = Tag::of(7);
    pub const PURPOSE_OF_TRANSACTION: Tag = Tag::of(8);
    pub const CONSUMER_DATA_REQUEST: Tag = Tag::of(9);
}

/// Sub-IDs of the language template (64).
pub mod language {
    use super::Tag;
    pub const PREFERENCE: Tag = Tag::of(0);
    pub const NAME: Tag = Tag::of(1);
    pub const CITY: Tag = Tag::of(2);
}

pub(crate) const ADDITIONAL_DATA: Tag = Tag::of(62);
pub(crate) const MERCHANT_LANGUAGE: Tag = Tag::of(64);

// === impl Template ===

impl Template {
    /// A new template at `tag` with its GUID; add owner-defined objects with [`Self::with`].
    pub fn new(tag: Tag, guid: &str) -> Result<Self, QrError> {
        let path = TagPath::root(tag);
        let mut fields = Fields::default();
        fields.push(GUID, guid, Some(path))?;
        Self::from_fields(fields, path)
    }

    /// Adds an object (S format, 1–99 characters) and checks the template again.
    pub fn with(self, tag: Tag, value: &str) -> Result<Self, QrError> {
        let mut fields = self.fields;
        fields.push(tag, value, Some(self.path))?;
        Self::from_fields(fields, self.path)
    }

    pub(crate) fn parse(value: &str, path: TagPath) -> Result<Self, QrError> {
        Self::from_fields(Fields::parse(value, Some(path))?, path)
    }

    fn from_fields(fields: Fields, path: TagPath) -> Result<Self, QrError> {
        for (tag, value) in fields.iter() {
            let (format, max) = if tag == GUID {
                (Format::AlphanumericSpecial, GUID_CHARS_MAX)
            } else {
                (Format::String, VALUE_CHARS_MAX)
            };
            format.check(value, 1, max, path.child(tag))?;
        }
        if fields.get(GUID).is_none() {
            return Err(QrError::Missing {
                tag: path.child(GUID),
            });
        }
        let template = Self { path, fields };
        template.check_fits()?;
        Ok(template)
    }

    fn check_fits(&self) -> Result<(), QrError> {
        let found = self.fields.encode().chars().count();
        if found > VALUE_CHARS_MAX {
            return Err(QrError::BadValueLength {
                tag: self.path,
                min: 1,
                max: VALUE_CHARS_MAX,
                found,
            });
        }
        Ok(())
    }

    pub fn tag(&self) -> Tag {
        self.path.last()
    }

    pub fn guid(&self) -> &str {
        self.fields.get(GUID).unwrap_or_default()
    }

    pub fn get(&self, tag: Tag) -> Option<&str> {
        self.fields.get(tag)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn encode(&self) -> String {
        self.fields.encode()
    }
}

// === impl MerchantAccount ===

impl MerchantAccount {
    /// A scheme-defined value under 02–25.
    pub fn primitive(tag: Tag, value: &str) -> Result<Self, QrError> {
        if !(2..=25).contains(&tag.number()) {
            return Err(QrError::NotAllowed {
                tag: TagPath::root(tag),
            });
        }
        Format::AlphanumericSpecial.check(value, 1, VALUE_CHARS_MAX, TagPath::root(tag))?;
        Ok(Self::Primitive {
            tag,
            value: value.to_owned(),
        })
    }

    /// A GUID template under 26–51.
    pub fn template(template: Template) -> Result<Self, QrError> {
        if !(26..=51).contains(&template.tag().number()) {
            return Err(QrError::NotAllowed {
                tag: TagPath::root(template.tag()),
            });
        }
        Ok(Self::Template(template))
    }

    pub(crate) fn parse(tag: Tag, value: &str) -> Result<Self, QrError> {
        match tag.number() {
            26..=51 => Self::template(Template::parse(value, TagPath::root(tag))?),
            _ => Self::primitive(tag, value),
        }
    }

    pub fn tag(&self) -> Tag {
        match self {
            Self::Primitive { tag, .. } => *tag,
            Self::Template(t) => t.tag(),
        }
    }

    pub fn guid(&self) -> Option<&str> {
        match self {
            Self::Primitive { .. } => None,
            Self::Template(t) => Some(t.guid()),
        }
    }

    pub fn as_template(&self) -> Option<&Template> {
        match self {
            Self::Primitive { .. } => None,
            Self::Template(t) => Some(t),
        }
    }

    pub(crate) fn value(&self) -> String {
        match self {
            Self::Primitive { value, .. } => value.clone(),
            Self::Template(t) => t.encode(),
        }
    }
}

// === impl AdditionalData ===

impl AdditionalData {
    /// Builds the template from `(sub-ID, value)` pairs, in that order, under the same rules
    /// as a parsed one.
    pub fn from_pairs(pairs: &[(Tag, &str)]) -> Result<Self, QrError> {
        let path = TagPath::root(ADDITIONAL_DATA);
        let mut fields = Fields::default();
        for (tag, value) in pairs {
            fields.push(*tag, *value, Some(path))?;
        }
        Self::from_fields(fields)
    }

    pub(crate) fn parse(value: &str) -> Result<Self, QrError> {
        let path = TagPath::root(ADDITIONAL_DATA);
        Self::from_fields(Fields::parse(value, Some(path))?)
    }

    fn from_fields(fields: Fields) -> Result<Self, QrError> {
        let path = TagPath::root(ADDITIONAL_DATA);
        let mut payment_system = Vec::new();
        for (tag, value) in fields.iter() {
            let at = path.child(tag);
            match tag.number() {
                0 => return Err(QrError::NotAllowed { tag: at }),
                1..=8 => {
                    Format::AlphanumericSpecial.check(value, 1, ADDITIONAL_FIELD_CHARS_MAX, at)?
                }
                9 => check_consumer_data_request(value, at)?,
                // 10–49 are reserved for EMVCo (v1.1 gives 10 and 11 meanings): carried as
                // they came, so a newer payload still round-trips.
                10..=49 => Format::String.check(value, 1, VALUE_CHARS_MAX, at)?,
                _ => payment_system.push(Template::parse(value, at)?),
            }
        }
        let data = Self {
            fields,
            payment_system,
        };
        let found = data.fields.encode().chars().count();
        if found > VALUE_CHARS_MAX {
            return Err(QrError::BadValueLength {
                tag: path,
                min: 1,
                max: VALUE_CHARS_MAX,
                found,
            });
        }
        Ok(data)
    }

    pub fn get(&self, tag: Tag) -> Option<&str> {
        self.fields.get(tag)
    }

    pub fn bill_number(&self) -> Option<&str> {
        self.get(adf::BILL_NUMBER)
    }

    pub fn store_label(&self) -> Option<&str> {
        self.get(adf::STORE_LABEL)
    }

    /// The merchant's reference for this transaction; in our dynamic codes, the payment's.
    pub fn reference_label(&self) -> Option<&str> {
        self.get(adf::REFERENCE_LABEL)
    }

    pub fn terminal_label(&self) -> Option<&str> {
        self.get(adf::TERMINAL_LABEL)
    }

    pub fn purpose_of_transaction(&self) -> Option<&str> {
        self.get(adf::PURPOSE_OF_TRANSACTION)
    }

    /// Payment-system-specific templates (62/50–99).
    pub fn payment_system_templates(&self) -> &[Template] {
        &self.payment_system
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn encode(&self) -> String {
        self.fields.encode()
    }
}

/// 62/09 asks the app for the consumer's address (`A`), mobile number (`M`) and e-mail
/// (`E`), each at most once, in any order.
fn check_consumer_data_request(value: &str, tag: TagPath) -> Result<(), QrError> {
    Format::AlphanumericSpecial.check(value, 1, 3, tag)?;
    let mut seen = Vec::with_capacity(3);
    for c in value.chars() {
        if !matches!(c, 'A' | 'M' | 'E') || seen.contains(&c) {
            return Err(QrError::BadValue {
                tag,
                reason: "letters A, M and E, each at most once",
            });
        }
        seen.push(c);
    }
    Ok(())
}

// === impl LanguageTemplate ===

impl LanguageTemplate {
    /// `language` is an ISO 639 two-letter code (`JA`); `name` is mandatory, `city` not.
    pub fn new(language: &str, name: &str, city: Option<&str>) -> Result<Self, QrError> {
        let path = TagPath::root(MERCHANT_LANGUAGE);
        let mut fields = Fields::default();
        fields.push(language::PREFERENCE, language, Some(path))?;
        fields.push(language::NAME, name, Some(path))?;
        if let Some(city) = city {
            fields.push(language::CITY, city, Some(path))?;
        }
        Self::from_fields(fields)
    }

    pub(crate) fn parse(value: &str) -> Result<Self, QrError> {
        let path = TagPath::root(MERCHANT_LANGUAGE);
        Self::from_fields(Fields::parse(value, Some(path))?)
    }

    fn from_fields(fields: Fields) -> Result<Self, QrError> {
        let path = TagPath::root(MERCHANT_LANGUAGE);
        for (tag, value) in fields.iter() {
            let at = path.child(tag);
            match tag.number() {
                0 => {
                    Format::AlphanumericSpecial.check(value, 2, 2, at)?;
                    if !value.chars().all(|c| c.is_ascii_alphabetic()) {
                        return Err(QrError::BadValue {
                            tag: at,
                            reason: "an ISO 639 language code is two letters",
                        });
                    }
                }
                1 => Format::String.check(value, 1, MERCHANT_NAME_CHARS_MAX, at)?,
                2 => Format::String.check(value, 1, MERCHANT_CITY_CHARS_MAX, at)?,
                _ => Format::String.check(value, 1, VALUE_CHARS_MAX, at)?,
            }
        }
        for mandatory in [language::PREFERENCE, language::NAME] {
            if fields.get(mandatory).is_none() {
                return Err(QrError::Missing {
                    tag: path.child(mandatory),
                });
            }
        }
        let found = fields.encode().chars().count();
        if found > VALUE_CHARS_MAX {
            return Err(QrError::BadValueLength {
                tag: path,
                min: 1,
                max: VALUE_CHARS_MAX,
                found,
            });
        }
        Ok(Self { fields })
    }

    pub fn language(&self) -> &str {
        self.fields.get(language::PREFERENCE).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.fields.get(language::NAME).unwrap_or_default()
    }

    pub fn city(&self) -> Option<&str> {
        self.fields.get(language::CITY)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn encode(&self) -> String {
        self.fields.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_template_needs_its_guid() {
        let path = TagPath::root(Tag::of(29));
        assert_eq!(
            Template::parse("0510A93FO3230Q", path),
            Err(QrError::Missing {
                tag: path.child(GUID)
            })
        );
        let t = Template::parse("0012D156000000000510A93FO3230Q", path).unwrap();
        assert_eq!(
            (t.guid(), t.get(Tag::of(5))),
            ("D15600000000", Some("A93FO3230Q"))
        );
        assert_eq!(t.encode(), "0012D156000000000510A93FO3230Q");
    }

    #[test]
    fn guids_are_ans_and_at_most_32_characters() {
        assert!(matches!(
            Template::new(Tag::of(26), &"a".repeat(33)),
            Err(QrError::BadValueLength { max: 32, .. })
        ));
        assert!(matches!(
            Template::new(Tag::of(26), "jp.架け橋"),
            Err(QrError::BadCharacter { .. })
        ));
    }

    #[test]
    fn a_template_must_fit_in_99_characters() {
        let t = Template::new(Tag::of(26), "jp.kakehashi").unwrap();
        let t = t.with(Tag::of(1), &"m".repeat(60)).unwrap();
        assert!(matches!(
            t.with(Tag::of(2), &"s".repeat(30)),
            Err(QrError::BadValueLength { max: 99, .. })
        ));
    }

    #[test]
    fn account_ids_decide_primitive_or_template() {
        assert!(matches!(
            MerchantAccount::parse(Tag::of(15), "ABCDEF1234567890"),
            Ok(MerchantAccount::Primitive { .. })
        ));
        assert!(matches!(
            MerchantAccount::parse(Tag::of(26), "0014br.gov.bcb.pix0104abcd"),
            Ok(MerchantAccount::Template(_))
        ));
        let template = Template::new(Tag::of(80), "jp.kakehashi").unwrap();
        assert!(matches!(
            MerchantAccount::template(template),
            Err(QrError::NotAllowed { .. })
        ));
    }

    #[test]
    fn additional_data_checks_each_labelled_field() {
        let data = AdditionalData::parse("030412340603***0708A60086670902ME").unwrap();
        assert_eq!(data.store_label(), Some("1234"));
        assert_eq!(data.terminal_label(), Some("A6008667"));
        assert_eq!(data.get(adf::CONSUMER_DATA_REQUEST), Some("ME"));
        assert_eq!(
            AdditionalData::parse("0002xx"),
            Err(QrError::NotAllowed {
                tag: TagPath::root(ADDITIONAL_DATA).child(Tag::of(0))
            })
        );
        assert!(matches!(
            AdditionalData::parse("0902MM"),
            Err(QrError::BadValue { .. })
        ));
        assert!(matches!(
            AdditionalData::from_pairs(&[(adf::REFERENCE_LABEL, &"r".repeat(26))]),
            Err(QrError::BadValueLength { max: 25, .. })
        ));
    }

    #[test]
    fn payment_system_templates_inside_62_are_parsed_too() {
        let data = AdditionalData::parse("0503***50170008jp.kakeh0101x").unwrap();
        assert_eq!(data.payment_system_templates()[0].guid(), "jp.kakeh");
        assert_eq!(
            AdditionalData::parse("50050101x"),
            Err(QrError::Missing {
                tag: TagPath::root(ADDITIONAL_DATA)
                    .child(Tag::of(50))
                    .child(GUID)
            })
        );
    }

    #[test]
    fn the_language_template_needs_language_and_name() {
        let ja = LanguageTemplate::parse("0002JA0108メルペイ カフェ").unwrap();
        assert_eq!(
            (ja.language(), ja.name(), ja.city()),
            ("JA", "メルペイ カフェ", None)
        );
        assert_eq!(
            LanguageTemplate::parse("0002JA"),
            Err(QrError::Missing {
                tag: TagPath::root(MERCHANT_LANGUAGE).child(language::NAME)
            })
        );
        assert!(matches!(
            LanguageTemplate::new("J1", "x", None),
            Err(QrError::BadValue { .. })
        ));
        assert!(matches!(
            LanguageTemplate::new("JA", "新宿らーめん\u{7}", None),
            Err(QrError::BadCharacter { .. })
        ));
    }
}
