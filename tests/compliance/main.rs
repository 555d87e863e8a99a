//! Compliance rules end to end: rule sets kept by version in the store.
#[path = "../support/mod.rs"]
mod support;

mod fixture;
mod rule_store;
