//! `molotov new DIR`: a ready-to-build Rust scenario project with a `molotov.json` of three tests.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Where this binary's own SDK sources were, when it was built from the repository.
const BUILT_WITH_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guest-sdk-rust");

/// Writes the project into `dir` (which must not exist or be empty) and
/// returns the name of the component it builds.
pub fn create(dir: &Path, sdk: Option<&Path>) -> anyhow::Result<String> {
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    let crate_name = crate_name(dir)?;
    let artifact = crate_name.replace('-', "_");
    let sdk = sdk_dependency(sdk)?;
    let fill = |template: &str| {
        template
            .replace("{{crate}}", &crate_name)
            .replace("{{artifact}}", &artifact)
            .replace("{{sdk}}", &sdk)
    };
    let files = [
        (
            "Cargo.toml",
            fill(include_str!("../templates/new/Cargo.toml.in")),
        ),
        (
            "src/lib.rs",
            include_str!("../templates/new/lib.rs").to_string(),
        ),
        (
            "molotov.json",
            fill(include_str!("../templates/new/molotov.json.in")),
        ),
        (
            "README.md",
            fill(include_str!("../templates/new/README.md.in")),
        ),
        (
            ".gitignore",
            include_str!("../templates/new/gitignore").to_string(),
        ),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(format!("{artifact}.wasm"))
}

/// A Cargo package name from the directory's name.
fn crate_name(dir: &Path) -> anyhow::Result<String> {
    let base = dir
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable name for a project", dir.display()))?;
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-');
    Ok(match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name.to_string(),
        _ => format!("scenarios-{name}")
            .trim_end_matches('-')
            .to_string(),
    })
}

/// The SDK dependency: `--sdk`, else the sources this binary was built
/// from, else the published crate.
fn sdk_dependency(sdk: Option<&Path>) -> anyhow::Result<String> {
    let path: Option<PathBuf> = match sdk {
        Some(path) => Some(
            path.canonicalize()
                .with_context(|| format!("--sdk {}: no such directory", path.display()))?,
        ),
        None => Path::new(BUILT_WITH_SDK).canonicalize().ok(),
    };
    Ok(match path {
        Some(path) => format!("path = {:?}", path.display().to_string()),
        None => format!("version = \"{}\"", env!("CARGO_PKG_VERSION")),
    })
}
