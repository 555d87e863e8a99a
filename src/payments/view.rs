//! What callers see of a payment: the record and its refunds.
use crate::domain::{PaymentRecord, RefundRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub payment: PaymentRecord,
    pub refunds: Vec<RefundRecord>,
}
