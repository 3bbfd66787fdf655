//! `molotov run loadtest.py`: a run given source builds it first, once per
//! distinct content, as a Molotov user runs a `.py` file in one command.
//!
//! The component is kept under the cache directory by a SHA-256 of the
//! project's sources in its language (names relative to the project, and
//! bytes), of the SDK it builds with (Python's, compiled into this binary;
//! the project's installed JS SDK), of the contract and of this binary's
//! version: an edit rebuilds, while an unchanged project starts at once
//! however it is named and whatever else (a run's `--json`) lands beside it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::compile::build;
use super::language::{Language, WIT};
use super::project::Project;
use super::scripted;
use super::tool::Chatter;

/// The files of each language a build reads: sources, manifests, lock files.
fn is_source(language: Language, name: &str) -> bool {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    match language {
        Language::Rust => matches!(extension, "rs" | "toml" | "wit") || name == "Cargo.lock",
        Language::Go => matches!(extension, "go" | "s" | "mod" | "sum" | "wit"),
        // Other JSON (a run's results, say) is data the scripts do not import;
        // .proto files and protosets are bundled for the gRPC client.
        Language::JavaScript => {
            matches!(
                extension,
                "js" | "mjs" | "cjs" | "proto" | "protoset" | "pb"
            ) || matches!(name, "package.json" | "package-lock.json")
        }
        Language::Python => matches!(extension, "py" | "pyi"),
    }
}

/// Directories that hold outputs, caches or installed packages, not sources
/// (a JS project's dependencies are pinned by its lock file, hashed instead).
const SKIPPED_DIRS: [&str; 5] = ["target", "node_modules", "__pycache__", "venv", "build"];

/// The components built from sources kept in the cache, in bytes, at most:
/// each edit of a script builds another (13 MB and more for JavaScript).
const MAX_BUILT_BYTES: u64 = 1 << 30;

/// More files than this is not a scenario project (a home directory?).
const MAX_FILES: usize = 20_000;

/// Whether `path` is source to build rather than a component to run.
pub fn is_project(path: &Path) -> bool {
    path.is_dir()
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "py" | "js" | "mjs"))
}

/// The component for `path`: `path` itself when it is one, else the cached
/// build of the project it names, built now if its sources changed.
/// How messages and reports name a project: a directory by its full path
/// (`.` says little), a file as the command line named it.
pub fn shown_name(path: &Path) -> PathBuf {
    match path.is_dir() {
        true => path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
        false => path.to_path_buf(),
    }
}

/// Says what it builds on stderr unless `quiet`.
pub fn component_for(
    path: &Path,
    cache_dir: Option<&Path>,
    chatter: Chatter,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    if !is_project(path) {
        return Ok(path.to_path_buf());
    }
    let project = Project::detect(path)?;
    let key = sources_hash(&project, path)?;
    let dir = match cache_dir {
        Some(dir) => dir.join("built"),
        // No cache: a directory of its own, kept for this run only.
        None => tempfile::tempdir()?.keep(),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the build cache {}", dir.display()))?;
    let component = dir.join(format!("{key}.wasm"));
    if component.is_file() {
        molotov_runtime::cache::mark_used(&component);
        return Ok(component);
    }
    if !quiet {
        eprintln!(
            "building {} (first run only: kept until its sources change)…",
            shown_name(path).display()
        );
    }
    // Built beside its final name, then renamed: a run interrupted during the
    // build, or `-p` children starting together, never see half a file.
    let partial = tempfile::NamedTempFile::new_in(&dir)?;
    build(path, Some(partial.path()), cache_dir, chatter)?;
    partial
        .persist(&component)
        .with_context(|| format!("cannot write {}", component.display()))?;
    molotov_runtime::cache::keep_within(&dir, "wasm", MAX_BUILT_BYTES);
    Ok(component)
}

fn sources_hash(project: &Project, path: &Path) -> anyhow::Result<String> {
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION"));
    hash.update(WIT);
    // The entry by its name in the project, not by how the command line named it.
    let entry = project.entry.as_deref().and_then(Path::file_name);
    hash.update(format!("{:?} {entry:?}", project.language));
    // The JS SDK's opt-in ahead-of-time build makes another component.
    if project.language == Language::JavaScript {
        hash.update(std::env::var("MOLOTOV_WEVAL").unwrap_or_default());
    }
    for sdk in scripted::sdk_sources(project) {
        hash.update((sdk.len() as u64).to_le_bytes());
        hash.update(sdk);
    }
    let mut files = 0;
    let walk = WalkDir::new(&project.dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0
                || !(name.starts_with('.')
                    || entry.file_type().is_dir() && SKIPPED_DIRS.contains(&name.as_ref()))
        });
    for entry in walk {
        let entry = entry.with_context(|| format!("cannot read {}", project.dir.display()))?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || !is_source(project.language, &name) {
            continue;
        }
        files += 1;
        anyhow::ensure!(
            files <= MAX_FILES,
            "{}: more than {MAX_FILES} source files: not a scenario project (build it with `molotov build`)",
            path.display()
        );
        let relative = entry
            .path()
            .strip_prefix(&project.dir)
            .unwrap_or(entry.path());
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    Ok(format!("{:x}", hash.finalize()))
}
