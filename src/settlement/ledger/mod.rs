//! The double-entry ledger: accounts per merchant, network and currency; journal entries
//! that cannot exist unbalanced; and the posting rules that turn each money event into one.
//!
//! An entry balances per currency (its debits equal its credits in every currency it
//! touches). [`JournalEntry::new`] refuses anything else, the store checks again before it
//! writes and once more when it reads, so a corrupted row is reported, never repaired.
mod account;
mod entry;
pub mod postings;
/// Storage of journal entries and balances (SQL over sqlx's Any driver).
#[path = "../../store/ledger_sql.rs"]
pub mod sql;

pub use account::Account;
pub use entry::{EntryKind, JournalEntry, LedgerError, Line, Side};

/// Most lines an entry holds (see [`entry::LINES_MAX`]).
pub fn entry_lines_max() -> usize {
    entry::LINES_MAX
}
