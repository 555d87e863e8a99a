//! Compliance rules end to end: refusals as the terminal sees them, velocity counted in real
//! SQLite and PostgreSQL, rule sets kept by version in the store, and replay of a day of
//! mixed traffic, before and after a rule change.
#[path = "../support/mod.rs"]
mod support;

mod day;
mod fixture;
mod refusals;
mod rule_store;
mod velocity;
