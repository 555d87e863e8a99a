//! The compliance audit log: an append-only RFC 6962 log of routing decisions and payment
//! and refund transitions, written in the same database transaction as the change each
//! entry describes, checkpointed as C2SP signed notes and served as C2SP tlog-tiles, so an
//! auditor verifies it with standard tools and without trusting us (docs/audit-log.md).
//!
//! The tree math is `tlog_tiles`'s and the signatures `signed_note`'s; this module only
//! decides what goes in (entry encoding), where it is kept (store/audit_sql.rs) and how it
//! is served, exported and checked.
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod crosscheck;
pub mod entry;
pub mod export;
pub mod facts;
pub mod limits;
pub mod server;
pub mod tiles;
pub mod tree;
pub mod verify;
pub mod writer;

pub use config::AuditConfig;
pub use entry::{AuditEntry, EncodedEntry, EntryError, EntryKind};
