//! The protobuf runtime a Python project's generated modules (`*_pb2.py`)
//! import: the pure-Python implementation of the `protobuf` package that the
//! `python3` on PATH has, copied into the build (its C extension cannot run
//! in the sandbox; without it protobuf uses its Python code).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use walkdir::WalkDir;

/// Directories of the package that a client does not import.
const SKIPPED: [&str; 3] = ["__pycache__", "pyext", "testdata"];

/// Whether a Python source under `dir` imports protobuf.
pub fn imported_under(dir: &Path) -> bool {
    WalkDir::new(dir)
        .max_depth(4)
        .into_iter()
        .filter_entry(|e| {
            !e.file_name().to_string_lossy().starts_with('.') && e.file_name() != "node_modules"
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "py"))
        .any(|e| {
            std::fs::read_to_string(e.path()).is_ok_and(|source| {
                source.contains("from google.protobuf") || source.contains("import google.protobuf")
            })
        })
}

/// Copies `google/protobuf`'s Python sources under `into` (a directory for
/// componentize-py's path), from `python3`'s installed package.
pub fn copy_into(into: &Path, importer: &Path) -> anyhow::Result<()> {
    let package = installed_package().with_context(|| {
        format!(
            "{}: imports google.protobuf (generated *_pb2 modules): install protobuf for the python3 on PATH \
             (`pip install protobuf`): molotov bundles its Python implementation",
            importer.display()
        )
    })?;
    let target = into.join("google").join("protobuf");
    for entry in WalkDir::new(&package)
        .into_iter()
        .filter_entry(|e| !SKIPPED.contains(&e.file_name().to_string_lossy().as_ref()))
    {
        let entry = entry?;
        let relative = entry.path().strip_prefix(&package)?;
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(target.join(relative))?;
        } else if entry.path().extension().is_some_and(|x| x == "py") {
            std::fs::copy(entry.path(), target.join(relative))
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Where `python3` has `google/protobuf`.
fn installed_package() -> anyhow::Result<PathBuf> {
    let found = Command::new("python3")
        .args([
            "-c",
            "import google.protobuf, os; print(os.path.dirname(google.protobuf.__file__))",
        ])
        .output()
        .context("cannot run python3")?;
    if !found.status.success() {
        bail!("python3 has no google.protobuf");
    }
    let path = PathBuf::from(String::from_utf8(found.stdout)?.trim());
    if !path.join("message.py").is_file() {
        bail!("{}: not a protobuf package", path.display());
    }
    Ok(path)
}
