//! Generates the gRPC client and server stubs for `proto/sigil/store/v1` (pure Rust: protox
//! parses the .proto files, no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not baked in when the script was compiled: a moved checkout that
    // reuses the target directory must not point at the old one.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")?;
    let root = std::path::Path::new(&manifest_dir).join("../../proto");
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
