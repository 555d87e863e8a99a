//! Why the orchestrator refused or could not finish a request. The API maps each variant to
//! one gRPC status in one place. A decline is not an error: it is a payment outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    #[error("no payment with merchant_order_id `{0}` for this merchant")]
    PaymentNotFound(String),
    #[error("merchant_order_id `{0}` was already used for a different request")]
    OrderIdReused(String),
    #[error("refund_id `{0}` was already used for a different refund")]
    RefundIdReused(String),
    #[error("code not accepted: {0}")]
    UnroutableCode(String),
    #[error("merchant is not enabled for network `{0}`")]
    NetworkNotEnabled(String),
    #[error("unknown network `{0}`")]
    UnknownNetwork(String),
    #[error("{network} cannot take payments in {currency}")]
    CurrencyNotSupported { network: String, currency: String },
    #[error("{0}")]
    NotAllowed(String),
    #[error("the switch is at capacity; retry shortly")]
    Busy,
    #[error("the record changed concurrently")]
    Conflict,
    #[error("storage failure: {0}")]
    Store(String),
    #[error("internal error: {0}")]
    Internal(String),
}
