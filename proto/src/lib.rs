//! Generated protobuf and gRPC code for `kakehashi.v1`; compiled once here so the switch,
//! its tests and its CLI share one copy.
#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic)]

pub mod v1 {
    tonic::include_proto!("kakehashi.v1");
}

/// Encoded descriptor set of every Kakehashi proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kakehashi_descriptor");
