//! The checker is the trusted base: Cargo keeps it apart (`slth` depends on `slth-checker`,
//! never the reverse, which Cargo would refuse as a cycle). What remains to guard is what
//! the trusted crate pulls in from outside: exactly the dependencies the README lists under
//! "What VALID means".

use std::path::Path;

/// The dependencies of crates/slth-checker, as the README names them.
const TRUSTED: [&str; 11] = [
    "flate2",
    "num-bigint",
    "num-integer",
    "num-rational",
    "num-traits",
    "rand_chacha",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "sha2",
    "thiserror",
];

/// The names in the `[dependencies]` table of a Cargo.toml.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().split('.').next().unwrap_or("").to_string());
        }
    }
    names.sort();
    names
}

#[test]
fn the_trusted_crate_depends_on_the_listed_crates_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("crates/slth-checker/Cargo.toml")).unwrap();
    assert_eq!(dependencies(&manifest), TRUSTED);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## What VALID means")
        .nth(1)
        .expect("README has a section on what VALID means");
    for name in TRUSTED {
        assert!(section.contains(name), "README does not list {name}");
    }
}

#[test]
fn the_dependency_reader_reads_tables() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\na = \"1\"\nb.workspace = true\n[dev-dependencies]\nc = \"1\"\n";
    assert_eq!(dependencies(manifest), ["a", "b"]);
}
