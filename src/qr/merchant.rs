//! Our merchants' codes: a static code per merchant (or per till), a dynamic code per
//! payment, and the reverse, telling one of our codes from anyone else's when a partner brings
//! it back.
//!
//! Our merchant account template sits under a configurable ID (default 26) with a
//! reverse-domain GUID (default `jp.kakehashi`): 01 = the switch's merchant id, 02 = store
//! id, 03 = terminal id. A dynamic code adds its amount (54) and the payment's reference in
//! the additional data template's reference label (62/05), where EMVCo puts a transaction
//! reference for the app to carry. A merchant with a JPQR identity also gets the Payments
//! Japan template, under the lowest free ID from 26 up, and the code must then satisfy JPQR.
use iso_currency::Currency;
use kakehashi_adapter_core::Money;
use kakehashi_adapter_core::money::parse_currency;
use serde::Deserialize;

use super::error::QrError;
use super::jpqr::{Jpqr, JpqrError, JpqrId};
use super::mpm::{Initiation, Payload, PayloadBuilder, Rules};
use super::templates::{AdditionalData, LanguageTemplate, MerchantAccount, Template, adf};
use super::tlv::{Format, Tag};
use super::{
    ADDITIONAL_FIELD_CHARS_MAX, GUID_CHARS_MAX, MERCHANT_CITY_CHARS_MAX, MERCHANT_NAME_CHARS_MAX,
    POSTAL_CODE_CHARS_MAX,
};
use crate::config::MerchantConfig;

pub const DEFAULT_GUID: &str = "jp.kakehashi";
pub const DEFAULT_TEMPLATE_ID: u8 = 26;
/// Sub-IDs of our template.
pub const MERCHANT_ID: Tag = Tag::of(1);
pub const STORE_ID: Tag = Tag::of(2);
pub const TERMINAL_ID: Tag = Tag::of(3);
/// Our ids in a code are ans and at most this long. A merchant id always fits beside any
/// GUID; store and terminal ids share what is left of the template's 99 characters, and a
/// code whose ids do not fit is refused when built.
pub const OUR_ID_CHARS_MAX: usize = 32;
/// A dynamic code's reference goes in 62/05.
pub const REFERENCE_CHARS_MAX: usize = ADDITIONAL_FIELD_CHARS_MAX;

const _: () = assert!(4 + GUID_CHARS_MAX + 4 + OUR_ID_CHARS_MAX <= super::VALUE_CHARS_MAX);

/// `[qr]`: the switch's own merchant account template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrSettings {
    /// Reverse-domain GUID naming the switch (sub-ID 00), ans, 1–32 characters.
    #[serde(default = "default_guid")]
    pub guid: String,
    /// The merchant account ID our template sits under, 26–51.
    #[serde(default = "default_template_id")]
    pub template_id: u8,
}

/// `qr = { ... }` on a `[[merchants]]` entry: what the merchant's codes show. EMVCo limits
/// are checked when the config loads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantQrConfig {
    /// Merchant name (59): 1–25 printable ASCII characters, e.g. "SHINJUKU RAMEN".
    pub name: String,
    /// Merchant city (60): 1–15 printable ASCII characters, e.g. "TOKYO".
    pub city: String,
    /// Postal code (61): 1–10 printable ASCII characters; mandatory with JPQR.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// The name in Japanese (64/01 with language JA), up to 25 characters; mandatory with JPQR.
    #[serde(default)]
    pub name_ja: Option<String>,
    /// ISO 3166-1 alpha-2 (58).
    #[serde(default = "default_country")]
    pub country: String,
    /// ISO 4217 alphabetic code of the merchant's currency (53 is written as its number).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Payments Japan identity, `0000000000001-0001-000001-000001`, when the merchant takes
    /// JPQR.
    #[serde(default)]
    pub jpqr_merchant_id: Option<String>,
}

/// Where in the merchant a code is shown; both are optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'a> {
    pub store_id: Option<&'a str>,
    pub terminal_id: Option<&'a str>,
}

/// What one of our codes says, for the partner gateway's ResolveMerchantCode and
/// PayMerchantCode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurCode {
    pub merchant_id: String,
    pub store_id: Option<String>,
    pub terminal_id: Option<String>,
    pub initiation: Initiation,
    /// Present exactly when dynamic.
    pub amount: Option<Money>,
    /// The payment's reference; present exactly when dynamic.
    pub reference: Option<String>,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerchantQrError {
    #[error("merchant `{0}` has no `qr` settings in the config")]
    NoQrConfig(String),
    #[error("{0}")]
    Config(String),
    #[error("{what} must be 1 to {OUR_ID_CHARS_MAX} printable ASCII characters to go in a code")]
    BadId { what: &'static str },
    #[error("a reference must be 1 to {REFERENCE_CHARS_MAX} printable ASCII characters")]
    BadReference,
    #[error("the amount is in {found}, the merchant's codes are in {expected}")]
    CurrencyMismatch {
        expected: &'static str,
        found: &'static str,
    },
    #[error("code is not valid EMVCo: {0}")]
    Qr(#[from] QrError),
    #[error("code is not valid JPQR: {0}")]
    Jpqr(#[from] JpqrError),
}

/// Why a payload is not one of our codes we can pay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    #[error("not a valid EMVCo code: {0}")]
    Invalid(#[from] QrError),
    #[error("not a Kakehashi code: no merchant account template with our GUID")]
    NotOurs,
    #[error("our template lacks a well-formed {what}")]
    BadId { what: &'static str },
    #[error("{0}")]
    Inconsistent(&'static str),
}

fn default_guid() -> String {
    DEFAULT_GUID.to_owned()
}
fn default_template_id() -> u8 {
    DEFAULT_TEMPLATE_ID
}
fn default_country() -> String {
    "JP".to_owned()
}
fn default_currency() -> String {
    "JPY".to_owned()
}

// === impl QrSettings ===

impl Default for QrSettings {
    fn default() -> Self {
        Self {
            guid: default_guid(),
            template_id: default_template_id(),
        }
    }
}

impl QrSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(26..=51).contains(&self.template_id) {
            return Err("qr.template_id must be a merchant account template ID, 26-51".into());
        }
        self.template(&Place::default(), "x")
            .map(|_| ())
            .map_err(|_| "qr.guid must be 1-32 printable ASCII characters".to_owned())
    }

    /// Our template for one merchant at one place.
    fn template(&self, place: &Place<'_>, merchant_id: &str) -> Result<Template, MerchantQrError> {
        let mut template = Template::new(Tag::of(self.template_id.min(99)), &self.guid)?;
        let ids = [
            (MERCHANT_ID, Some(merchant_id), "merchant id"),
            (STORE_ID, place.store_id, "store id"),
            (TERMINAL_ID, place.terminal_id, "terminal id"),
        ];
        for (tag, value, what) in ids {
            if let Some(value) = value {
                check_our_id(value).ok_or(MerchantQrError::BadId { what })?;
                template = template.with(tag, value)?;
            }
        }
        Ok(template)
    }
}

fn check_our_id(value: &str) -> Option<()> {
    let ok = !value.is_empty()
        && value.chars().count() <= OUR_ID_CHARS_MAX
        && value.chars().all(|c| Format::AlphanumericSpecial.allows(c));
    ok.then_some(())
}

// === impl MerchantQrConfig ===

impl MerchantQrConfig {
    /// Checks the merchant's code settings field by field, then builds its static code to be
    /// sure the whole fits. Messages name the config key.
    pub fn validate(&self, settings: &QrSettings, merchant: &MerchantConfig) -> Result<(), String> {
        let place = |key: &str| format!("merchant `{}`: qr.{key}", merchant.id);
        let ans = |value: &str, max: usize| {
            let n = value.chars().count();
            n >= 1 && n <= max && value.chars().all(|c| Format::AlphanumericSpecial.allows(c))
        };
        if !ans(&self.name, MERCHANT_NAME_CHARS_MAX) {
            return Err(format!(
                "{} must be 1-25 printable ASCII characters",
                place("name")
            ));
        }
        if !ans(&self.city, MERCHANT_CITY_CHARS_MAX) {
            return Err(format!(
                "{} must be 1-15 printable ASCII characters",
                place("city")
            ));
        }
        if let Some(postal) = &self.postal_code
            && !ans(postal, POSTAL_CODE_CHARS_MAX)
        {
            return Err(format!(
                "{} must be 1-10 printable ASCII characters",
                place("postal_code")
            ));
        }
        if let Some(name) = &self.name_ja
            && LanguageTemplate::new("JA", name, None).is_err()
        {
            return Err(format!(
                "{} must be 1-25 characters, none of them control characters",
                place("name_ja")
            ));
        }
        parse_currency(&self.currency).map_err(|e| format!("{}: {e}", place("currency")))?;
        if check_our_id(&merchant.id).is_none() {
            return Err(format!(
                "merchant `{}`: an id in a QR code must be 1-{OUR_ID_CHARS_MAX} printable ASCII characters",
                merchant.id
            ));
        }
        if let Some(id) = &self.jpqr_merchant_id {
            JpqrId::parse(id).map_err(|e| format!("{}: {e}", place("jpqr_merchant_id")))?;
        }
        static_code(settings, merchant, Place::default())
            .map(|_| ())
            .map_err(|e| format!("merchant `{}`: its static QR code: {e}", merchant.id))
    }

    fn currency(&self) -> Result<Currency, MerchantQrError> {
        parse_currency(&self.currency).map_err(|e| MerchantQrError::Config(e.to_string()))
    }
}

/// The merchant's static code (01 = `11`): printed once, paid many times, no amount.
pub fn static_code(
    settings: &QrSettings,
    merchant: &MerchantConfig,
    place: Place<'_>,
) -> Result<Payload, MerchantQrError> {
    let builder = builder(settings, merchant, &place, Initiation::Static)?;
    finish(builder, merchant)
}

/// A dynamic code (01 = `12`) for one payment of `amount`, carrying the payment's
/// `reference` (1–25 printable ASCII characters) in 62/05.
pub fn dynamic_code(
    settings: &QrSettings,
    merchant: &MerchantConfig,
    place: Place<'_>,
    amount: Money,
    reference: &str,
) -> Result<Payload, MerchantQrError> {
    let mut builder = builder(settings, merchant, &place, Initiation::Dynamic)?;
    if amount.currency() != builder.currency {
        return Err(MerchantQrError::CurrencyMismatch {
            expected: builder.currency.code(),
            found: amount.currency_code(),
        });
    }
    let reference_ok = !reference.is_empty()
        && reference.chars().count() <= REFERENCE_CHARS_MAX
        && reference
            .chars()
            .all(|c| Format::AlphanumericSpecial.allows(c));
    if !reference_ok {
        return Err(MerchantQrError::BadReference);
    }
    builder.amount = Some(amount);
    builder.additional_data = Some(AdditionalData::from_pairs(&[(
        adf::REFERENCE_LABEL,
        reference,
    )])?);
    finish(builder, merchant)
}

fn builder(
    settings: &QrSettings,
    merchant: &MerchantConfig,
    place: &Place<'_>,
    initiation: Initiation,
) -> Result<PayloadBuilder, MerchantQrError> {
    let qr = merchant
        .qr
        .as_ref()
        .ok_or_else(|| MerchantQrError::NoQrConfig(merchant.id.clone()))?;
    let mut builder = PayloadBuilder::new(qr.currency()?, &qr.country);
    builder.initiation = Some(initiation);
    let ours = settings.template(place, &merchant.id)?;
    if let Some(id) = &qr.jpqr_merchant_id {
        let id = JpqrId::parse(id)?;
        let free = (26..=51).find(|n| *n != settings.template_id).unwrap_or(26);
        builder
            .merchant_accounts
            .push(MerchantAccount::template(id.template(Tag::of(free))?)?);
    }
    builder
        .merchant_accounts
        .push(MerchantAccount::template(ours)?);
    builder.merchant_category_code = Some(merchant.category_code.clone());
    builder.merchant_name = Some(qr.name.clone());
    builder.merchant_city = Some(qr.city.clone());
    builder.postal_code = qr.postal_code.clone();
    builder.language = qr
        .name_ja
        .as_deref()
        .map(|name| LanguageTemplate::new("JA", name, None))
        .transpose()?;
    Ok(builder)
}

fn finish(builder: PayloadBuilder, merchant: &MerchantConfig) -> Result<Payload, MerchantQrError> {
    let payload = builder.build(Rules::Strict)?;
    let jpqr = merchant
        .qr
        .as_ref()
        .and_then(|q| q.jpqr_merchant_id.as_ref());
    if jpqr.is_some() {
        Jpqr::validate(&payload)?;
    }
    Ok(payload)
}

/// Reads a payload a partner brought back: is it one of ours, for which merchant, and (for a
/// dynamic code) which payment? The payload is held to [`Rules::Strict`]; whether the
/// merchant exists and takes the payment is the caller's to decide.
pub fn identify(settings: &QrSettings, text: &str) -> Result<OurCode, IdentifyError> {
    let payload = Payload::parse(text)?;
    let ours = payload
        .account_template(&settings.guid)
        .ok_or(IdentifyError::NotOurs)?;
    let read = |tag, what| match ours.get(tag) {
        Some(v) => check_our_id(v)
            .map(|_| Some(v.to_owned()))
            .ok_or(IdentifyError::BadId { what }),
        None => Ok(None),
    };
    let merchant_id = read(MERCHANT_ID, "merchant id (01)")?.ok_or(IdentifyError::BadId {
        what: "merchant id (01)",
    })?;
    let store_id = read(STORE_ID, "store id (02)")?;
    let terminal_id = read(TERMINAL_ID, "terminal id (03)")?;
    let reference = payload
        .additional_data()
        .and_then(AdditionalData::reference_label)
        .map(str::to_owned);
    let initiation = payload.initiation().ok_or(IdentifyError::Inconsistent(
        "our codes always state their point of initiation (01)",
    ))?;
    match (initiation, payload.amount().is_some(), reference.is_some()) {
        (Initiation::Static, false, false) | (Initiation::Dynamic, true, true) => {}
        (Initiation::Static, _, _) => {
            return Err(IdentifyError::Inconsistent(
                "our static codes carry neither an amount nor a reference",
            ));
        }
        (Initiation::Dynamic, _, _) => {
            return Err(IdentifyError::Inconsistent(
                "our dynamic codes carry an amount and a reference (62/05)",
            ));
        }
    }
    Ok(OurCode {
        merchant_id,
        store_id,
        terminal_id,
        initiation,
        amount: payload.amount(),
        reference,
        currency: payload.currency(),
    })
}

#[cfg(test)]
mod tests;
