//! `molotov build`: turns a scenario project in Rust, Go, JavaScript or Python into a component.
//!
//! Each language's own toolchain compiles the code (cargo, go, componentize-js,
//! componentize-py); the contract they build against is the one this binary
//! runs, written out from the copy compiled into it.

mod cached;
mod foreign;
mod go;
mod scripted;
mod tool;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

pub use cached::{component_for, shown_name};
pub use tool::Chatter;
use tool::Tool;

/// The contract every guest is built against: the host's own copy.
pub const WIT: &str = include_str!("../../../../wit/scenario.wit");

/// A scenario project's language: told by the files it has, or chosen with `--lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Go,
    #[value(name = "js")]
    JavaScript,
    Python,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rust => "Rust",
            Self::Go => "Go",
            Self::JavaScript => "JavaScript",
            Self::Python => "Python",
        })
    }
}

/// What to build: the project's directory, and for scripts their entry file.
#[derive(Debug)]
pub struct Project {
    pub language: Language,
    pub dir: PathBuf,
    pub entry: Option<PathBuf>,
}

impl Project {
    /// Recognises a project directory, or a `.js`/`.py` entry file; one
    /// written for another tool (k6, say) is refused with what to do.
    pub fn detect(path: &Path) -> anyhow::Result<Self> {
        let project = Self::recognise(path)?;
        foreign::refuse(&project)?;
        Ok(project)
    }

    fn recognise(path: &Path) -> anyhow::Result<Self> {
        if path.is_file() {
            let language = match path.extension().and_then(|e| e.to_str()) {
                Some("js" | "mjs") => Language::JavaScript,
                Some("py") => Language::Python,
                _ => bail!(
                    "{}: cannot tell the language of this file (a .js or .py entry, or a project directory)",
                    path.display()
                ),
            };
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            };
            return Ok(Self {
                language,
                dir,
                entry: Some(path.to_path_buf()),
            });
        }
        if !path.is_dir() {
            bail!("{}: no such project directory or file", path.display());
        }
        let has = |name: &str| path.join(name).is_file();
        let (language, entry) = if has("Cargo.toml") {
            (Language::Rust, None)
        } else if has("go.mod") {
            (Language::Go, None)
        } else if has("package.json") {
            (Language::JavaScript, Some(path.join("scenarios.js")))
        } else if has("scenarios.py") {
            (Language::Python, Some(path.join("scenarios.py")))
        } else {
            bail!(
                "{}: not a scenario project (no Cargo.toml, go.mod, package.json or scenarios.py)",
                path.display()
            );
        };
        Ok(Self {
            language,
            dir: path.to_path_buf(),
            entry,
        })
    }

    /// Where the component goes unless `-o` says: `<dir>/<dir name>.wasm`.
    fn default_output(&self) -> anyhow::Result<PathBuf> {
        let dir = self
            .dir
            .canonicalize()
            .context("cannot resolve the project directory")?;
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("scenarios");
        Ok(dir.join(format!("{name}.wasm")))
    }
}

/// Builds the project at `path` and returns the component's path.
pub fn build(path: &Path, output: Option<&Path>, chatter: Chatter) -> anyhow::Result<PathBuf> {
    let project = Project::detect(path)?;
    if project.language == Language::Rust {
        return rust(&project, output, chatter);
    }
    let output = match output {
        Some(path) => path.to_path_buf(),
        None => project.default_output()?,
    };
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let wit_dir = work.path().join("wit");
    std::fs::create_dir_all(&wit_dir)?;
    std::fs::write(wit_dir.join("scenario.wit"), WIT)?;
    match project.language {
        Language::Go => go::build(&project, work.path(), &output, chatter)?,
        Language::JavaScript => scripted::javascript(&project, &wit_dir, &output, chatter)?,
        Language::Python => scripted::python(&project, work.path(), &output, chatter)?,
        Language::Rust => unreachable!("built above"),
    }
    Ok(output)
}

/// Rust guests are ordinary crates: cargo builds the component directly.
fn rust(project: &Project, output: Option<&Path>, chatter: Chatter) -> anyhow::Result<PathBuf> {
    let tool = Tool {
        what: "cargo build",
        hint: "is Rust installed, with `rustup target add wasm32-wasip2`?",
    };
    let messages = tool.run(
        Command::new("cargo").current_dir(&project.dir).args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ]),
        chatter,
        true,
    )?;
    // The last artifact with a .wasm file is the component.
    let built = String::from_utf8_lossy(&messages)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| {
            message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .rfind(|file| file.extension().is_some_and(|e| e == "wasm"))
        .context("cargo built no .wasm file: is the crate a cdylib?")?;
    match output {
        Some(path) => {
            std::fs::copy(&built, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(path.to_path_buf())
        }
        None => Ok(built),
    }
}
