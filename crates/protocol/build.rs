//! Compiles `proto/*.proto` with protox (pure Rust), so no system `protoc` is needed, and
//! keeps the encoded descriptors for the node API's reflection service and JSON mapping.

const PROTOS: &[&str] = &[
    "proto/application.proto",
    "proto/channel.proto",
    "proto/clock.proto",
    "proto/data.proto",
    "proto/keys.proto",
    "proto/node.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("file_descriptor_set.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
