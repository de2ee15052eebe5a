//! The checker is the trusted base: `src/verify/` may use `numbers`, `sampler` and
//! `certificate`, never the code that builds certificates (design.md).

use std::path::{Path, PathBuf};

/// Modules of the builder's side that the checker must not reach.
const FORBIDDEN: [&str; 5] = ["construct", "bound", "fast", "network", "ticket"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module that `text` names after `crate::`, `super::` (any number of them) or
/// `slth::`, including the members of `{...}` groups (`crate::{numbers, bound::x}` gives
/// `numbers` and `bound`), a glob after `crate::` or `slth::` as `*`, and every forbidden
/// name used as a path root (`bound::x`, as after a glob import).
fn reached_modules(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for start in ["crate::", "super::", "slth::"] {
        let mut rest = text;
        while let Some(at) = rest.find(start) {
            let mut tail = &rest[at + start.len()..];
            while let Some(t) = tail.strip_prefix("super::") {
                tail = t;
            }
            if let Some(group) = tail.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for member in inner.split(',') {
                    found.push(first_segment(member.trim()));
                }
            } else {
                let segment = first_segment(tail);
                // `use super::*;` in a test module is the module under test, not the crate.
                if segment != "*" || start != "super::" {
                    found.push(segment);
                }
            }
            rest = &rest[at + start.len()..];
        }
    }
    for name in FORBIDDEN {
        let root = format!("{name}::");
        let mut rest = text;
        while let Some(at) = rest.find(&root) {
            let before = rest[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                found.push(name.to_string());
            }
            rest = &rest[at + root.len()..];
        }
    }
    found.sort();
    found.dedup();
    found
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '*')
        .collect()
}

#[test]
fn the_checker_reaches_only_numbers_sampler_and_certificate() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/verify");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.iter().any(|f| f.ends_with("mod.rs")), "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for module in reached_modules(&text) {
            assert!(
                !FORBIDDEN.contains(&module.as_str()) && module != "*",
                "{} reaches `{module}`: the checker may use only numbers, sampler and certificate",
                file.display()
            );
        }
    }
}

#[test]
fn the_scan_sees_every_spelling() {
    let reached = |text: &str| reached_modules(text);
    assert_eq!(reached("use crate::bound::claims;"), ["bound"]);
    assert_eq!(reached("use super::super::construct;"), ["construct"]);
    assert_eq!(
        reached("use crate::{numbers, ticket::BlockTicket};"),
        ["numbers", "ticket"]
    );
    assert_eq!(reached("let x = crate::fast::go();"), ["fast"]);
    assert_eq!(reached("use slth::network::Network;"), ["network"]);
    assert_eq!(reached("use crate::*;"), ["*"]);
    assert_eq!(reached("use super::*;"), Vec::<String>::new());
    assert_eq!(reached("let w = bound::claims(&x);"), ["bound"]);
    assert_eq!(
        reached("let w = outbound::claims(&x);"),
        Vec::<String>::new()
    );
    assert_eq!(
        reached("use crate::numbers; use super::scaled::Scaled;"),
        ["numbers", "scaled"]
    );
}
