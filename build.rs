//! Registers every wallet-network adapter the switch depends on.
//!
//! An adapter is a dependency whose workspace entry points under `adapters/` (other than the
//! contract crate `adapters/core`). For each, the generated `factories()` calls its
//! `factory()`. Adding a network is adding its crate and one dependency line: no central
//! list or match in the switch's code changes.
use std::fmt::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let manifest_path = root.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest_path.display());
    let manifest: toml::Table = std::fs::read_to_string(&manifest_path)?.parse()?;
    let workspace_deps = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();
    let deps = manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();
    let mut adapters: Vec<String> = Vec::new();
    for (name, spec) in &deps {
        let path = spec
            .get("path")
            .or_else(|| workspace_deps.get(name).and_then(|w| w.get("path")))
            .and_then(|p| p.as_str());
        if let Some(path) = path
            && path.starts_with("adapters/")
            && path != "adapters/core"
        {
            adapters.push(name.replace('-', "_"));
        }
    }
    adapters.sort();
    let mut code = String::from(
        "/// Every adapter this build links, as discovered by build.rs.\n\
         pub fn factories() -> Vec<std::sync::Arc<dyn kakehashi_adapter_core::NetworkFactory>> {\n    vec![\n",
    );
    for crate_name in &adapters {
        writeln!(code, "        {crate_name}::factory(),")?;
    }
    code.push_str("    ]\n}\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("adapters.rs"), code)?;
    Ok(())
}
