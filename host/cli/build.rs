//! Compiles the guest SDKs into the binary: `molotov new` and `molotov vendor`
//! write them into users' projects, and `molotov build` builds Python with its
//! own, so a project needs nothing from this repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Each SDK: the constant that holds it, and its directory in the repository.
const SDKS: [(&str, &str); 4] = [
    ("RUST", "guest-sdk-rust"),
    ("GO", "guest-sdk-go"),
    ("JAVASCRIPT", "guest-sdk-js"),
    ("PYTHON", "guest-sdk-python"),
];

/// Not part of a published SDK: installed packages, build outputs, lock files
/// (a library's lock is not published; the project that uses it has its own).
const SKIPPED: [&str; 5] = [
    "node_modules",
    "target",
    "__pycache__",
    "Cargo.lock",
    "package-lock.json",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repository = manifest.join("../..");
    let mut out = String::new();
    for (name, dir) in SDKS {
        let root = repository.join(dir);
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        files.sort();
        writeln!(out, "pub const {name}: Files = &[").unwrap();
        for (relative, path) in files {
            writeln!(out, "    ({relative:?}, include_bytes!({path:?})),").unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let generated = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("sdks.rs");
    std::fs::write(generated, out).expect("cannot write sdks.rs");
}

/// Every file under `dir` (following the Rust SDK's link to the contract),
/// as its path relative to `root`, with `/` separators, and its full path.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || SKIPPED.contains(&name) {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            println!("cargo::rerun-if-changed={}", path.display());
            let relative = path.strip_prefix(root).expect("under the root");
            let relative: Vec<_> = relative.iter().map(|c| c.to_string_lossy()).collect();
            let full = path.canonicalize().expect("an SDK file");
            files.push((relative.join("/"), full.display().to_string()));
        }
    }
}
