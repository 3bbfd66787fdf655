//! `molotov new DIR [--lang L]`: a ready-to-build scenario project in Rust,
//! Go, JavaScript or Python, with a `molotov.json` of three tests.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::Lang;

/// Where this binary's own SDKs were, when it was built from the repository.
const REPOSITORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// What was created: the component the project builds, and how.
pub struct Created {
    pub component: String,
    pub build: &'static str,
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
    let artifact = crate_name.replace('-', "_");
    let sdk = sdk_dir(lang, sdk)?;
    let (component, build, source) = match lang {
        Lang::Rust => (
            format!("target/wasm32-wasip2/release/{artifact}.wasm"),
            "cargo build --release --target wasm32-wasip2",
            "src/lib.rs",
        ),
        // `molotov build DIR` writes `DIR/<dir name>.wasm`.
        _ => (
            format!("{}.wasm", dir_name(dir)?),
            if lang == Lang::Js {
                "npm install && molotov build ."
            } else {
                "molotov build ."
            },
            match lang {
                Lang::Go => "main.go",
                Lang::Js => "scenarios.js",
                _ => "scenarios.py",
            },
        ),
    };
    let fill = |template: &str| {
        template
            .replace("{{crate}}", &crate_name)
            .replace("{{component}}", &component)
            .replace("{{build}}", build)
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
        Lang::Js => files.extend([
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
    Ok(Created { component, build })
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

/// The language's SDK sources: `--sdk`, else those this binary was built
/// from, else none (the published SDK). Python's is in this binary.
fn sdk_dir(lang: Lang, sdk: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = sdk {
        return path
            .canonicalize()
            .map(Some)
            .with_context(|| format!("--sdk {}: no such directory", path.display()));
    }
    let name = match lang {
        Lang::Rust => "guest-sdk-rust",
        Lang::Go => "guest-sdk-go",
        Lang::Js => "guest-sdk-js",
        Lang::Python => return Ok(None),
    };
    Ok(Path::new(REPOSITORY).join(name).canonicalize().ok())
}

/// How the project's manifest names the SDK.
fn sdk_reference(lang: Lang, sdk: Option<&Path>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    match (lang, sdk) {
        (Lang::Rust, Some(path)) => format!("path = {:?}", path.display().to_string()),
        (Lang::Rust, None) => format!("version = \"{version}\""),
        (_, Some(path)) => format!("file:{}", path.display()),
        (_, None) => format!("^{version}"),
    }
}

/// Go's `replace` of the SDK module by local sources, if any.
fn go_replace(sdk: Option<&Path>) -> String {
    sdk.map_or_else(String::new, |path| {
        format!(
            "\nreplace github.com/molotov-wasm/molotov/guest-sdk-go => {}\n",
            path.display()
        )
    })
}
