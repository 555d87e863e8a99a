//! Compiles proto/kakehashi/v1/*.proto with protox, so no system `protoc` is needed.
//! Every file is listed here: one that is not is neither built nor served by reflection.
//!
//! Two passes over the same descriptors: the messages and the client with tonic-prost's
//! codec, then the server alone with [`kakehashi_proto::codec::RequestCodec`] (the messages
//! are marked extern so they exist once). The server and the client need different codecs:
//! bytes that do not decode are the client's fault when the server reads them, and the
//! server's when a client reads them.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let files = [
        "kakehashi/v1/common.proto",
        "kakehashi/v1/acceptance.proto",
        "kakehashi/v1/wallet_network.proto",
        "kakehashi/v1/partner.proto",
        "kakehashi/v1/audit.proto",
        "kakehashi/v1/settlement.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("kakehashi_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(fds.clone())?;
    let server = out.join("server");
    std::fs::create_dir_all(&server)?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(false)
        .extern_path(".kakehashi.v1", "crate::v1")
        .codec_path("crate::codec::RequestCodec")
        .out_dir(&server)
        .compile_fds(fds)?;
    Ok(())
}
