//! Compiles `proto/*.proto` with protox (pure Rust), so no system `protoc` is needed.

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
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
