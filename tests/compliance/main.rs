//! Compliance rules end to end: refusals as the terminal sees them, velocity counted in real
//! SQLite and PostgreSQL, and rule sets kept by version in the store.
#[path = "../support/mod.rs"]
mod support;

mod fixture;
mod refusals;
mod rule_store;
mod velocity;
