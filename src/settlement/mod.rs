//! Settlement: the double-entry ledger, daily batches per network and cut-off with fees and
//! consumption tax, fee invoices, the bank calendar and merchant payouts as Zengin files.
pub mod business_date;
pub mod ledger;

pub use business_date::{BusinessDate, Cutoff};
