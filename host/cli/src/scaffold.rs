//! `molotov new DIR [--lang L]`: a ready-to-build scenario project in Rust,
//! Go, JavaScript or Python, with a `molotov.json` of three tests and, but
//! for Python (whose SDK `molotov build` brings), a vendored copy of the SDK.

use std::path::Path;

use anyhow::{Context, bail};

use crate::build::Language as Lang;
use crate::sdk::{self, VENDORED_DIR};

/// What was created: the command that runs its smoke test.
pub struct Created {
    pub first_run: String,
}

/// Writes the project into `dir` (which must not exist or be empty).
pub fn create(dir: &Path, lang: Lang, sdk: Option<&Path>) -> anyhow::Result<Created> {
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    let crate_name = crate_name(dir)?;
    let sdk = match sdk {
        Some(path) => Some(
            path.canonicalize()
                .with_context(|| format!("--sdk {}: no such directory", path.display()))?,
        ),
        None => None,
    };
    let source = match lang {
        Lang::Rust => "src/lib.rs",
        Lang::Go => "main.go",
        Lang::JavaScript => "scenarios.js",
        Lang::Python => "scenarios.py",
    };
    // The tests name the project itself: `molotov run` builds it on first use.
    let first_run = format!(
        "{}molotov run --config molotov.json smoke",
        if lang == Lang::JavaScript {
            "npm install && "
        } else {
            ""
        }
    );
    let fill = |template: &str| {
        template
            .replace("{{crate}}", &crate_name)
            .replace("{{first_run}}", &first_run)
            .replace("{{source}}", source)
            .replace("{{sdk}}", &sdk_reference(lang, sdk.as_deref()))
            .replace("{{replace}}", &go_replace(sdk.as_deref()))
    };
    let mut files = vec![
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
    match lang {
        Lang::Rust => files.extend([
            (
                "Cargo.toml",
                fill(include_str!("../templates/new/rust/Cargo.toml.in")),
            ),
            (
                "src/lib.rs",
                include_str!("../templates/new/rust/lib.rs").into(),
            ),
        ]),
        Lang::Go => files.extend([
            (
                "go.mod",
                fill(include_str!("../templates/new/go/go.mod.in")),
            ),
            ("go.sum", include_str!("../templates/new/go/go.sum").into()),
            (
                "main.go",
                include_str!("../templates/new/go/main.go").into(),
            ),
        ]),
        Lang::JavaScript => files.extend([
            (
                "package.json",
                fill(include_str!("../templates/new/js/package.json.in")),
            ),
            (
                "scenarios.js",
                include_str!("../templates/new/js/scenarios.js").into(),
            ),
        ]),
        Lang::Python => files.push((
            "scenarios.py",
            include_str!("../templates/new/python/scenarios.py").into(),
        )),
    }
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if sdk.is_none() && lang != Lang::Python {
        sdk::vendor(dir, lang)?;
    }
    Ok(Created { first_run })
}

fn dir_name(dir: &Path) -> anyhow::Result<&str> {
    dir.file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable name for a project", dir.display()))
}

/// A Cargo package name from the directory's name.
fn crate_name(dir: &Path) -> anyhow::Result<String> {
    let base = dir_name(dir)?;
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

/// How the project's manifest names the SDK: `--sdk`'s directory, else the
/// vendored copy.
fn sdk_reference(lang: Lang, sdk: Option<&Path>) -> String {
    let path = sdk.map_or_else(|| VENDORED_DIR.to_string(), |p| p.display().to_string());
    match lang {
        Lang::Rust => format!("path = {path:?}"),
        _ => format!("file:{path}"),
    }
}

/// Go's `replace` of the SDK module by its local sources.
fn go_replace(sdk: Option<&Path>) -> String {
    let path = sdk.map_or_else(|| format!("./{VENDORED_DIR}"), |p| p.display().to_string());
    format!("\nreplace github.com/molotov-wasm/molotov/guest-sdk-go => {path}\n")
}
