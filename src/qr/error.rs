//! Why a payload was refused: one variant per rule, each naming the object it concerns.
use std::fmt;

use super::PAYLOAD_CHARS_MAX;
use super::tlv::{Format, Tag};

/// Where an object sits: a root ID (`54`), or an ID inside a template (`62/05`, `62/50/00`).
/// Templates nest at most two deep in EMVCo MPM, so three IDs always suffice.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagPath {
    tags: [Tag; 3],
    depth: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("payload is longer than {PAYLOAD_CHARS_MAX} characters")]
    TooLong,
    #[error("payload is not UTF-8 text")]
    NotUtf8,
    #[error("payload must begin with the payload format indicator `000201`")]
    PayloadFormatNotFirst,
    #[error("payload format indicator (00) must be `01`")]
    BadPayloadFormat,
    #[error("payload must end with the CRC object: `6304` and four hex digits")]
    CrcNotLast,
    #[error("CRC (63) must be four hexadecimal digits")]
    CrcMalformed,
    #[error("CRC (63) must be written in uppercase hexadecimal")]
    CrcLowercase,
    #[error(
        "CRC (63) does not match: the payload computes to {expected:04X}, it carries {found:04X}"
    )]
    BadCrc { expected: u16, found: u16 },
    #[error("the ID at character {offset}{} is not two digits", Within(*within))]
    BadId {
        within: Option<TagPath>,
        offset: usize,
    },
    #[error("the text ends inside the ID or length of an object at character {offset}{}", Within(*within))]
    Truncated {
        within: Option<TagPath>,
        offset: usize,
    },
    #[error("{tag}: length is not two digits")]
    BadLength { tag: TagPath },
    #[error("{tag}: length is 00; a value has 1 to 99 characters")]
    EmptyValue { tag: TagPath },
    #[error("{tag}: the value is longer than what is left of its payload or template")]
    LengthOverrun { tag: TagPath },
    #[error("{tag} appears more than once")]
    Duplicate { tag: TagPath },
    #[error("{tag} is not defined at this level")]
    NotAllowed { tag: TagPath },
    #[error("mandatory {tag} is missing")]
    Missing { tag: TagPath },
    #[error("no merchant account information (02-51): a payload needs at least one")]
    NoMerchantAccount,
    #[error("{tag}: a character outside the {format} set")]
    BadCharacter { tag: TagPath, format: Format },
    #[error("{tag}: must be {min} to {max} characters, has {found}")]
    BadValueLength {
        tag: TagPath,
        min: usize,
        max: usize,
        found: usize,
    },
    #[error("{tag}: {reason}")]
    BadValue { tag: TagPath, reason: &'static str },
    #[error("{tag}: {problem}")]
    BadAmount {
        tag: TagPath,
        problem: AmountProblem,
    },
    #[error("transaction currency (53) {numeric:03} is not an ISO 4217 currency with a minor unit")]
    UnknownCurrency { numeric: u16 },
    #[error("{tag} needs {requires}")]
    Conditional {
        tag: TagPath,
        requires: &'static str,
    },
    #[error("a dynamic code (01 = 12) is for one transaction and must state its amount (54)")]
    DynamicWithoutAmount,
}

/// What is wrong with an amount (54, 56) or a percentage (57).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountProblem {
    #[error("not a decimal of digits with at most one `.` between digits")]
    Syntax,
    #[error("more decimals than the currency's {allowed} minor digits")]
    TooManyDecimals { allowed: u32 },
    #[error("must be greater than zero")]
    NotPositive,
    #[error("larger than the switch accepts")]
    TooLarge,
    #[error("a percentage must be above 0 and below 100")]
    PercentageOutOfRange,
}

struct Within(Option<TagPath>);

// === impl TagPath ===

impl TagPath {
    pub const fn root(tag: Tag) -> Self {
        Self {
            tags: [tag, Tag::of(0), Tag::of(0)],
            depth: 1,
        }
    }

    /// The path of `tag` inside the template at `self`. Deeper than three is never built: the
    /// parser stops descending at the second level.
    pub fn child(self, tag: Tag) -> Self {
        let mut next = self;
        if let Some(slot) = next.tags.get_mut(usize::from(self.depth)) {
            *slot = tag;
            next.depth += 1;
        }
        next
    }

    /// The IDs from the root down.
    pub fn tags(&self) -> &[Tag] {
        &self.tags[..usize::from(self.depth)]
    }

    /// The innermost ID.
    pub fn last(&self) -> Tag {
        self.tags[usize::from(self.depth) - 1]
    }
}

impl fmt::Display for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, tag) in self.tags().iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{tag}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagPath({self})")
    }
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " inside {path}"),
            None => Ok(()),
        }
    }
}

// === impl QrError ===

impl QrError {
    /// The object the error is about, when there is one.
    pub fn tag(&self) -> Option<TagPath> {
        match self {
            Self::BadLength { tag }
            | Self::EmptyValue { tag }
            | Self::LengthOverrun { tag }
            | Self::Duplicate { tag }
            | Self::NotAllowed { tag }
            | Self::Missing { tag }
            | Self::BadCharacter { tag, .. }
            | Self::BadValueLength { tag, .. }
            | Self::BadValue { tag, .. }
            | Self::BadAmount { tag, .. }
            | Self::Conditional { tag, .. } => Some(*tag),
            Self::BadId { within, .. } | Self::Truncated { within, .. } => *within,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_from_the_root_down() {
        let adf = TagPath::root(Tag::of(62));
        assert_eq!(adf.to_string(), "62");
        assert_eq!(adf.child(Tag::of(5)).to_string(), "62/05");
        assert_eq!(
            adf.child(Tag::of(50)).child(Tag::of(0)).to_string(),
            "62/50/00"
        );
        assert_eq!(adf.child(Tag::of(5)).last(), Tag::of(5));
    }

    #[test]
    fn a_fourth_level_is_never_recorded() {
        let deep = TagPath::root(Tag::of(62))
            .child(Tag::of(50))
            .child(Tag::of(1))
            .child(Tag::of(2));
        assert_eq!(deep.to_string(), "62/50/01");
    }

    #[test]
    fn messages_name_the_object_and_never_the_payload() {
        let e = QrError::LengthOverrun {
            tag: TagPath::root(Tag::of(25)),
        };
        assert_eq!(
            e.to_string(),
            "25: the value is longer than what is left of its payload or template"
        );
        let crc = QrError::BadCrc {
            expected: 0x0F92,
            found: 0x6D60,
        };
        assert_eq!(
            crc.to_string(),
            "CRC (63) does not match: the payload computes to 0F92, it carries 6D60"
        );
        let inside = QrError::BadId {
            within: Some(TagPath::root(Tag::of(26))),
            offset: 4,
        };
        assert_eq!(
            inside.to_string(),
            "the ID at character 4 inside 26 is not two digits"
        );
    }
}
