//! alipayplus adapter (being written).
#![forbid(unsafe_code)]
