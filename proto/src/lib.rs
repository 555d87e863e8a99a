//! Generated protobuf and gRPC code for `kakehashi.v1`; compiled once here so the switch,
//! its tests and its CLI share one copy.
#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic)]

pub mod codec;

pub mod v1 {
    tonic::include_proto!("kakehashi.v1");

    mod server {
        include!(concat!(env!("OUT_DIR"), "/server/kakehashi.v1.rs"));
    }
    /// The server reads requests with [`crate::codec::RequestCodec`].
    pub use server::{
        acceptance_service_server, audit_service_server, partner_gateway_service_server,
        settlement_service_server, wallet_network_service_server,
    };
}

/// Encoded descriptor set of every Kakehashi proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kakehashi_descriptor");
