//! A scenario project: its language, its directory and entry file, as told
//! by the files it has.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::foreign;
use super::language::Language;

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
        foreign::refuse(project.language, project.entry.as_deref())?;
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
    pub(super) fn default_output(&self) -> anyhow::Result<PathBuf> {
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
