//! Kakehashi switch.
#![forbid(unsafe_code)]
