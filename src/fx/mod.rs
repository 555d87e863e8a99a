//! Foreign exchange: rates as exact decimals with their source and validity, the book that
//! picks the rate valid at an instant, quotes with a markup per network, and every
//! conversion rule (rounding, minor units, allocation) in one place, [`convert`].
//!
//! A rate says how many units of `to` one unit of `from` buys: `JPY/CNY 0.0465` turns
//! JPY 1,000 into CNY 46.50. Rates are never inverted or chained here: a rate in the other
//! direction is a different fact, published by whoever quotes it.
pub mod config;
pub mod convert;
mod error;
pub mod quote;
pub mod rate;
/// Storage of rates and quotes (SQL over sqlx's Any driver). The file lives beside the rest of
/// the store; the lead may declare it from `store/mod.rs` instead.
#[path = "../store/fx_sql.rs"]
pub mod sql;

pub use config::{FxConfig, FxPolicy, NetworkFx};
pub use convert::{Conversion, RoundingMode, allocate, convert, convert_parts};
pub use error::FxError;
pub use quote::{Quote, QuoteComparison, compare, quote};
pub use rate::{Pair, Rate, RateBook, RateSource};
