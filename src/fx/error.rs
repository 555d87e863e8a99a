//! What can go wrong with rates, quotes and conversions: each a value a caller can act on.
use kakehashi_adapter_core::MoneyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("no {pair} rate is valid at {at_ms} ms (add one to the rates file or the feed)")]
    NoRate { pair: String, at_ms: i64 },
    #[error("a rate needs two different currencies, got {0} twice")]
    SameCurrency(&'static str),
    #[error("`{0}` is not a currency pair: write FROM/TO with ISO 4217 codes, e.g. JPY/CNY")]
    BadPair(String),
    #[error("rate {pair}: {reason}")]
    BadRate { pair: String, reason: String },
    #[error("markup for {network}: {reason}")]
    BadMarkup { network: String, reason: String },
    #[error("{0}")]
    Money(#[from] MoneyError),
    #[error("the converted amount rounds to zero {0}")]
    RoundsToZero(&'static str),
    #[error("the converted amount is larger than the switch accepts")]
    TooLarge,
    #[error("the conversion overflows its exact arithmetic (amount or rate too large)")]
    Overflow,
    #[error("cannot allocate: {0}")]
    Allocation(&'static str),
    #[error("quote {quote_id} is for {quoted}, the network applied {applied}")]
    QuoteMismatch {
        quote_id: String,
        quoted: String,
        applied: String,
    },
    #[error("rates file {path}: {detail}")]
    RatesFile { path: String, detail: String },
}
