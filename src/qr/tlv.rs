//! The data-object layer: a two-digit ID, a two-digit length counted in characters, a value.
//!
//! EMVCo counts characters, not bytes: the specification's own sample writes `0104最佳运输`
//! (four CJK characters, twelve UTF-8 bytes). [`Fields`] keeps objects in the order they came,
//! which EMVCo leaves free apart from `00` and `63`, so a parsed payload encodes back to the
//! same bytes.
use std::fmt;

use super::error::{QrError, TagPath};
use super::{OBJECTS_PER_LEVEL_MAX, VALUE_CHARS_MAX};

/// A data-object ID, `00` to `99`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(u8);

/// EMVCo's value formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// N: the digits `0`–`9`.
    Numeric,
    /// ans: the common character set of EMV Book 4, `0x20` (space) to `0x7E` (`~`).
    AlphanumericSpecial,
    /// S: any Unicode character. We refuse control characters (none is printable, and a line
    /// break in a merchant name would end up in receipts and logs).
    String,
}

/// The objects of one level (the payload or a template), in wire order, each ID once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    objects: Vec<(Tag, String)>,
}

// === impl Tag ===

impl Tag {
    /// For constants: `Tag::of(99)`. An ID above 99 is a programming error, caught at compile
    /// time in a `const`.
    pub const fn of(number: u8) -> Self {
        assert!(number <= 99, "EMVCo IDs are two decimal digits");
        Self(number)
    }

    pub fn new(number: u8) -> Option<Self> {
        (number <= 99).then_some(Self(number))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Two ASCII digits, or `None`.
    fn parse(text: &str) -> Option<Self> {
        two_digits(text).and_then(Self::new)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:02})", self.0)
    }
}

// === impl Format ===

impl Format {
    pub fn allows(self, c: char) -> bool {
        match self {
            Self::Numeric => c.is_ascii_digit(),
            Self::AlphanumericSpecial => (' '..='~').contains(&c),
            Self::String => !c.is_control(),
        }
    }

    /// Checks the characters and the length (in characters) of one value.
    pub fn check(self, value: &str, min: usize, max: usize, tag: TagPath) -> Result<(), QrError> {
        if !value.chars().all(|c| self.allows(c)) {
            return Err(QrError::BadCharacter { tag, format: self });
        }
        let found = value.chars().count();
        if found < min || found > max {
            return Err(QrError::BadValueLength {
                tag,
                min,
                max,
                found,
            });
        }
        Ok(())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Numeric => "numeric (N)",
            Self::AlphanumericSpecial => "alphanumeric special (ans)",
            Self::String => "string (S)",
        })
    }
}

// === impl Fields ===

impl Fields {
    /// Splits one level into objects. `parent` is the template's path (`None` for the root);
    /// errors name the object by its full path. Values are not interpreted here.
    pub fn parse(text: &str, parent: Option<TagPath>) -> Result<Self, QrError> {
        let mut fields = Self::default();
        let mut rest = text;
        let mut offset = 0;
        // Each pass consumes at least five characters of a text of at most 512 (the caller
        // checked), so this ends; the bound makes that explicit.
        for _ in 0..=OBJECTS_PER_LEVEL_MAX {
            if rest.is_empty() {
                return Ok(fields);
            }
            let truncated = QrError::Truncated {
                within: parent,
                offset,
            };
            let (id, after_id) = split_chars(rest, 2).ok_or(truncated.clone())?;
            let tag = Tag::parse(id).ok_or(QrError::BadId {
                within: parent,
                offset,
            })?;
            let path = path_of(parent, tag);
            let (length, after_length) = split_chars(after_id, 2).ok_or(truncated)?;
            let length = usize::from(two_digits(length).ok_or(QrError::BadLength { tag: path })?);
            if length == 0 {
                return Err(QrError::EmptyValue { tag: path });
            }
            let (value, after_value) =
                split_chars(after_length, length).ok_or(QrError::LengthOverrun { tag: path })?;
            fields.insert(tag, value.to_owned(), parent)?;
            rest = after_value;
            offset += 4 + length;
        }
        Err(QrError::TooLong)
    }

    /// Appends an object; the value must be 1 to 99 characters and the ID new at this level.
    pub fn push(
        &mut self,
        tag: Tag,
        value: impl Into<String>,
        parent: Option<TagPath>,
    ) -> Result<(), QrError> {
        let value = value.into();
        let path = path_of(parent, tag);
        let found = value.chars().count();
        if found == 0 {
            return Err(QrError::EmptyValue { tag: path });
        }
        if found > VALUE_CHARS_MAX {
            return Err(QrError::BadValueLength {
                tag: path,
                min: 1,
                max: VALUE_CHARS_MAX,
                found,
            });
        }
        self.insert(tag, value, parent)
    }

    fn insert(&mut self, tag: Tag, value: String, parent: Option<TagPath>) -> Result<(), QrError> {
        if self.get(tag).is_some() {
            return Err(QrError::Duplicate {
                tag: path_of(parent, tag),
            });
        }
        if self.objects.len() >= OBJECTS_PER_LEVEL_MAX {
            return Err(QrError::TooLong);
        }
        self.objects.push((tag, value));
        Ok(())
    }

    pub fn get(&self, tag: Tag) -> Option<&str> {
        self.objects
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (Tag, &str)> {
        self.objects.iter().map(|(t, v)| (*t, v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Removes and returns the first object (the payload format indicator, at the root).
    pub(crate) fn take_first(&mut self) -> Option<(Tag, String)> {
        (!self.objects.is_empty()).then(|| self.objects.remove(0))
    }

    /// Writes every object as ID, two-digit length and value.
    pub fn encode_into(&self, out: &mut String) {
        for (tag, value) in &self.objects {
            push_object(out, *tag, value);
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }
}

/// Writes one object. The caller has checked that `value` is 1 to 99 characters.
fn push_object(out: &mut String, tag: Tag, value: &str) {
    use std::fmt::Write;
    let _ = write!(out, "{tag}{:02}{value}", value.chars().count());
}

fn path_of(parent: Option<TagPath>, tag: Tag) -> TagPath {
    match parent {
        Some(p) => p.child(tag),
        None => TagPath::root(tag),
    }
}

/// Splits after `n` characters, or `None` when `text` is shorter.
pub(crate) fn split_chars(text: &str, n: usize) -> Option<(&str, &str)> {
    if n == 0 {
        return Some(("", text));
    }
    let mut seen = 0;
    for (index, c) in text.char_indices() {
        seen += 1;
        if seen == n {
            let end = index + c.len_utf8();
            return Some((&text[..end], &text[end..]));
        }
    }
    None
}

fn two_digits(text: &str) -> Option<u8> {
    match text.as_bytes() {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        let fields = Fields::parse("0002010104最佳运输0202北京", None).unwrap();
        assert_eq!(fields.get(Tag::of(1)), Some("最佳运输"));
        assert_eq!(fields.get(Tag::of(2)), Some("北京"));
        assert_eq!(fields.encode(), "0002010104最佳运输0202北京");
    }

    #[test]
    fn order_is_kept_as_it_came() {
        let fields = Fields::parse("6003xxx0102110002JA", None).unwrap();
        let tags: Vec<u8> = fields.iter().map(|(t, _)| t.number()).collect();
        assert_eq!(tags, [60, 1, 0]);
    }

    #[test]
    fn a_value_past_the_end_is_an_overrun_of_its_id() {
        let parent = Some(TagPath::root(Tag::of(62)));
        assert_eq!(
            Fields::parse("0503***0710A600", parent),
            Err(QrError::LengthOverrun {
                tag: TagPath::root(Tag::of(62)).child(Tag::of(7))
            })
        );
    }

    #[test]
    fn leftovers_too_short_for_an_object_are_refused() {
        assert_eq!(
            Fields::parse("0503***07", None),
            Err(QrError::Truncated {
                within: None,
                offset: 7
            })
        );
    }

    #[test]
    fn ids_and_lengths_must_be_two_ascii_digits() {
        assert_eq!(
            Fields::parse("0503***A102xx", None),
            Err(QrError::BadId {
                within: None,
                offset: 7
            })
        );
        assert_eq!(
            Fields::parse("05+3***", None),
            Err(QrError::BadLength {
                tag: TagPath::root(Tag::of(5))
            })
        );
        // Full-width digits are digits to Unicode, not to EMVCo.
        assert!(matches!(
            Fields::parse("０５03***", None),
            Err(QrError::BadId { .. })
        ));
    }

    #[test]
    fn empty_values_and_repeats_are_refused() {
        assert_eq!(
            Fields::parse("0500", None),
            Err(QrError::EmptyValue {
                tag: TagPath::root(Tag::of(5))
            })
        );
        assert_eq!(
            Fields::parse("0501a0501b", None),
            Err(QrError::Duplicate {
                tag: TagPath::root(Tag::of(5))
            })
        );
    }

    #[test]
    fn push_refuses_what_two_digits_cannot_say() {
        let mut fields = Fields::default();
        assert!(matches!(
            fields.push(Tag::of(59), "x".repeat(100), None),
            Err(QrError::BadValueLength { max: 99, .. })
        ));
        fields.push(Tag::of(59), "x".repeat(99), None).unwrap();
        assert!(fields.encode().starts_with("5999x"));
    }

    #[test]
    fn formats_follow_emvco() {
        assert!(Format::Numeric.allows('7'));
        assert!(!Format::Numeric.allows('٧'));
        assert!(Format::AlphanumericSpecial.allows(' '));
        assert!(Format::AlphanumericSpecial.allows('~'));
        assert!(!Format::AlphanumericSpecial.allows('é'));
        assert!(Format::String.allows('最'));
        assert!(!Format::String.allows('\n'));
        let tag = TagPath::root(Tag::of(59));
        assert_eq!(
            Format::AlphanumericSpecial.check("カフェ", 1, 25, tag),
            Err(QrError::BadCharacter {
                tag,
                format: Format::AlphanumericSpecial
            })
        );
    }
}
