//! Settlement: the double-entry ledger, daily batches per network and cut-off with fees and
//! consumption tax, fee invoices, the bank calendar and merchant payouts as Zengin files.
//!
//! Everything here that computes is pure (`close_batch`, invoices, postings, the Zengin
//! writer); storage sits in `sql` and `ledger::sql`, and `cli` ties them together for
//! `kakehashi settle`.
pub mod batch;
pub mod bench;
pub mod business_date;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod fees;
pub mod invoice;
pub mod kana;
pub mod ledger;
pub mod payout;
pub mod reconcile;
pub mod report;
/// Storage of settlement facts and closed batches (SQL over sqlx's Any driver).
#[path = "../store/settlement_sql.rs"]
pub mod sql;
pub mod zengin;

pub use batch::{Batch, BatchLine, BatchRules, FactKind, SettledPaymentFact, close_batch};
pub use business_date::{BusinessDate, Cutoff};
pub use config::{SettlementConfig, SettlementSetup};
