//! Merchant-presented QR codes: EMVCo MPM payloads and the JPQR template, generated for our
//! merchants and parsed strictly when they come back from a partner.
//!
//! Standard: *EMV® QR Code Specification for Payment Systems, Merchant-Presented Mode* v1.1
//! (November 2020; v1.0 of July 2017 lays out the same objects) and the Payments Japan
//! *JPQR MPM Guideline* 1.0 (2019-03). The rules here come from the project's research notes
//! (`shared/research/standards.md` §1–2), which were checked against several independent
//! implementations and recomputed, not against the registration-only PDFs; each module says
//! where a rule is an inference.
//!
//! What "strict" means, in [`mpm::Payload::parse`]:
//! - lengths are two decimal digits counting characters (not bytes), 01 to 99, and every value
//!   fits inside its payload or template with nothing left over;
//! - `00` (value `01`) comes first and `63` (four uppercase hex digits, CRC-16/CCITT-FALSE over
//!   the UTF-8 bytes up to and including `6304`) last; every other object in any order, each
//!   ID at most once per level;
//! - templates (26–51, 62, 64, 80–99, and 50–99 inside 62) are parsed as nested objects, with
//!   their mandatory sub-objects (the GUID `00`, the language and name in 64);
//! - characters per field as EMVCo's formats say: N (digits), ans (the common character set,
//!   `0x20`–`0x7E`), S (any Unicode, which we narrow by refusing control characters);
//! - the mandatory root objects are present, conditional ones agree (55 with 56/57), a dynamic
//!   code states its amount, and amounts carry no more decimals than the currency's ISO 4217
//!   minor unit; at most 512 characters in all.
//!
//! Every error is a [`QrError`] that names the ID (as `62/05` inside a template) and the
//! problem, without echoing the payload. Nothing here panics on any input.
pub mod amount;
pub mod cli;
pub mod crc;
pub mod error;
pub mod image;
pub mod jpqr;
pub mod merchant;
pub mod mpm;
pub mod templates;
pub mod tlv;

pub use error::{AmountProblem, QrError, TagPath};
pub use jpqr::{JPQR_GUID, Jpqr, JpqrError, JpqrId};
pub use merchant::{MerchantQrConfig, OurCode, QrSettings};
pub use mpm::{Initiation, Payload, PayloadBuilder, Rules, Tip};
pub use templates::{AdditionalData, LanguageTemplate, MerchantAccount, Template};
pub use tlv::{Fields, Format, Tag};

/// EMVCo's ceiling on a whole payload, in characters.
pub const PAYLOAD_CHARS_MAX: usize = 512;
/// Bytes we read before counting characters: a UTF-8 character is at most four bytes, so
/// anything longer cannot be a payload and is refused without further work.
pub const PAYLOAD_BYTES_MAX: usize = 4 * PAYLOAD_CHARS_MAX;
/// A value's length is two decimal digits.
pub const VALUE_CHARS_MAX: usize = 99;
/// Globally unique identifiers (sub-ID 00 of a template).
pub const GUID_CHARS_MAX: usize = 32;
/// Transaction amount (54) and fixed convenience fee (56).
pub const AMOUNT_CHARS_MAX: usize = 13;
/// Convenience fee percentage (57).
pub const PERCENTAGE_CHARS_MAX: usize = 5;
/// Merchant name (59) and its alternate-language form (64/01).
pub const MERCHANT_NAME_CHARS_MAX: usize = 25;
/// Merchant city (60) and its alternate-language form (64/02).
pub const MERCHANT_CITY_CHARS_MAX: usize = 15;
/// Postal code (61).
pub const POSTAL_CODE_CHARS_MAX: usize = 10;
/// Each labelled field of the additional data template (62/01–08), e.g. the reference label.
pub const ADDITIONAL_FIELD_CHARS_MAX: usize = 25;

// The smallest object is five characters (ID, length, one character), so a payload holds at
// most this many objects per level: the parser's loops and vectors are bounded by it.
pub const OBJECTS_PER_LEVEL_MAX: usize = PAYLOAD_CHARS_MAX / 5;

const _: () = assert!(PAYLOAD_BYTES_MAX == 4 * PAYLOAD_CHARS_MAX);
const _: () = assert!(GUID_CHARS_MAX + 4 <= VALUE_CHARS_MAX);
const _: () = assert!(AMOUNT_CHARS_MAX < VALUE_CHARS_MAX);
const _: () = assert!(MERCHANT_CITY_CHARS_MAX < MERCHANT_NAME_CHARS_MAX);
