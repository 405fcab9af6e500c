//! Links every architecture plugin the CLI depends on.
//!
//! A plugin registers itself at link time, but Rust only links a dependency that is named
//! somewhere. This script names each `flint-model-*` dependency of Cargo.toml in generated
//! code, so adding an architecture is adding its dependency line and nothing else.

use std::fmt::Write;

fn main() {
    let manifest = std::fs::read_to_string("Cargo.toml").expect("read Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let mut code = String::new();
    for line in manifest.lines() {
        let name = line.split(['=', '.', ' ']).next().unwrap_or("").trim();
        if let Some(arch) = name.strip_prefix("flint-model-") {
            let krate = format!("flint_model_{}", arch.replace('-', "_"));
            writeln!(code, "extern crate {krate};").unwrap();
        }
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("plugins.rs");
    std::fs::write(out, code).expect("write plugins.rs");
}
