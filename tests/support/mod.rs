//! Shared test support: real databases, the real switch on a random port, its simulators,
//! and a terminal that talks to it over loopback gRPC.
#![allow(dead_code)]
pub mod linepay;
pub mod postgres;
pub mod switch;
