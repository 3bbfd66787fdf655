//! Building a project with its language's toolchain: Rust here, Go and the
//! scripted languages in modules of their own; the contract written beside
//! the sources for the toolchains that read it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::language::{Language, WIT};
use super::project::Project;
use super::tool::{Chatter, Tool};
use super::{go, scripted};

/// Under the cache directory: SpiderMonkey with the contract's bindings,
/// the same for every JavaScript build of one SDK (`engine-cache.mjs`).
const JS_ENGINE_CACHE: &str = "js-engine";

/// Builds the project at `path` and returns the component's path. What
/// every build of a language shares (JavaScript's engine) is kept under
/// `cache_dir` when there is one.
pub fn build(
    path: &Path,
    output: Option<&Path>,
    cache_dir: Option<&Path>,
    chatter: Chatter,
) -> anyhow::Result<PathBuf> {
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
        Language::JavaScript => {
            let engine_cache = cache_dir.map(|dir| dir.join(JS_ENGINE_CACHE));
            scripted::javascript(
                &project,
                &wit_dir,
                &output,
                engine_cache.as_deref(),
                chatter,
            )?
        }
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
