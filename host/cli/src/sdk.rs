//! The guest SDKs this binary carries, and `molotov vendor`: writing one into
//! a project's `molotov-sdk/`, so that the project builds with nothing but
//! `molotov` and its language's toolchain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::build::language::Language;

/// An SDK's files: each path (relative, `/`-separated) and its bytes.
pub type Files = &'static [(&'static str, &'static [u8])];

/// The SDKs, as `build.rs` read them from the repository.
mod carried {
    use super::Files;
    include!(concat!(env!("OUT_DIR"), "/sdks.rs"));
}

/// Where a project keeps its vendored SDK (its manifest refers to it there).
pub const VENDORED_DIR: &str = "molotov-sdk";

/// The files of `language`'s SDK, as published.
pub fn files(language: Language) -> Files {
    match language {
        Language::Rust => carried::RUST,
        Language::Go => carried::GO,
        Language::JavaScript => carried::JAVASCRIPT,
        Language::Python => carried::PYTHON,
    }
}

/// The file of `language`'s SDK at `path`, if it has one.
pub fn file(language: Language, path: &str) -> Option<&'static [u8]> {
    files(language)
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// Writes `language`'s SDK into `project/molotov-sdk`, replacing an older
/// copy there, and returns that directory.
pub fn vendor(project: &Path, language: Language) -> anyhow::Result<PathBuf> {
    let dir = project.join(VENDORED_DIR);
    if dir.exists() {
        // Only a copy we wrote is replaced: it has the SDK's manifest.
        let manifest = match language {
            Language::Rust => "Cargo.toml",
            Language::Go => "go.mod",
            Language::JavaScript => "package.json",
            Language::Python => "molotov/__init__.py",
        };
        if !dir.join(manifest).is_file() {
            bail!(
                "{} exists and is not a {language} SDK that molotov vendored (no {manifest}): move it away first",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    for (name, bytes) in files(language) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(language: Language, path: &str) -> &'static str {
        std::str::from_utf8(file(language, path).unwrap_or_else(|| panic!("{path}"))).unwrap()
    }

    /// A vendored SDK must build on its own: no workspace to inherit from, no
    /// path out of its directory, and the version of the host that carries it.
    #[test]
    fn the_rust_sdk_is_carried_as_published() {
        let version = format!("version = \"{}\"", env!("CARGO_PKG_VERSION"));
        for manifest in ["Cargo.toml", "macros/Cargo.toml"] {
            let manifest = text(Language::Rust, manifest);
            assert!(manifest.contains(&version), "{manifest}");
            assert!(!manifest.contains("workspace = true"), "{manifest}");
        }
        assert!(text(Language::Rust, "src/lib.rs").contains("path: \"wit\""));
        assert_eq!(text(Language::Rust, "wit/scenario.wit"), crate::build::WIT);
    }

    #[test]
    fn every_sdk_is_carried_without_installed_packages() {
        let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
        assert!(text(Language::JavaScript, "package.json").contains(&version));
        assert!(
            text(Language::Go, "go.mod")
                .contains("module github.com/molotov-wasm/molotov/guest-sdk-go")
        );
        assert!(file(Language::Python, "molotov/__init__.py").is_some());
        for language in [
            Language::Rust,
            Language::Go,
            Language::JavaScript,
            Language::Python,
        ] {
            for (name, _) in files(language) {
                assert!(
                    !name.contains("node_modules") && !name.ends_with(".lock"),
                    "{name}"
                );
            }
        }
    }
}
