//! Generates the gRPC client and server stubs for `proto/sigil/store/v1` (pure Rust: protox
//! parses the .proto files, no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["store.proto", "raft.proto", "admin.proto"]
        .map(|name| root.join("sigil/store/v1").join(name));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
