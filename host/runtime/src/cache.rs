//! The on-disk cache of compiled components, so a second run starts in milliseconds.
//!
//! The key is a SHA-256 of the component's bytes and of the engine's
//! compatibility hash (wasmtime version, target, compilation settings), so a
//! changed component or engine never reuses a stale artifact. Each edit of a
//! script makes another entry (tens of MB for JavaScript or Python): the
//! least recently used go once the entries pass [`MAX_COMPILED_BYTES`].

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The compiled components kept, in bytes, at most.
pub const MAX_COMPILED_BYTES: u64 = 4 << 30;
const COMPILED: &str = "cwasm";

/// Compiles `bytes`, or loads the compiled artifact from `cache_dir`.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = cache_dir else {
        return Component::new(engine, bytes);
    };
    let path = entry(engine, bytes, dir);
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of an engine
        // with the same compatibility hash (it is part of the file name), in a
        // cache directory the operator owns.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            mark_used(&path);
            return Ok(component);
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Err(error) = store(&component, &path) {
        eprintln!(
            "warning: cannot write the compile cache {}: {error}",
            path.display()
        );
    }
    keep_within(dir, COMPILED, MAX_COMPILED_BYTES);
    Ok(component)
}

/// Marks a cache entry as just used, for [`keep_within`] (its modification
/// time: access times are often not kept).
pub fn mark_used(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Removes the least recently used files ending in `.{extension}` directly
/// under `dir` until they hold at most `max_bytes` (the newest is always
/// kept). Best effort: a cache that cannot be trimmed still works.
pub fn keep_within(dir: &Path, extension: &str, max_bytes: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|e| e == extension))
        .filter_map(|entry| {
            let metadata = entry.metadata().ok()?;
            Some((metadata.modified().ok()?, metadata.len(), entry.path()))
        })
        .collect();
    files.sort();
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    for (_, len, path) in files.iter().rev().skip(1).rev() {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(path).is_ok() {
            total -= len;
        }
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/molotov` or `~/.cache/molotov`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("molotov"))
}

fn entry(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let digest = Sha256::new()
        .chain_update(bytes)
        .chain_update(engine_hash.finish().to_le_bytes())
        .chain_update(env!("CARGO_PKG_VERSION"))
        .finalize();
    let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{name}.{COMPILED}"))
}

/// Writes atomically: a concurrent run sees the whole file or none.
fn store(component: &Component, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{}.tmp", std::process::id()));
    std::fs::write(&temporary, component.serialize()?)?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entries_go_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let at = |seconds| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        for (name, used) in [("old", 1), ("older", 0), ("recent", 3), ("newest", 4)] {
            let path = dir.path().join(format!("{name}.cwasm"));
            std::fs::write(&path, [0u8; 100]).unwrap();
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(at(used)).unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), [0u8; 1000]).unwrap();
        keep_within(dir.path(), "cwasm", 250);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["newest.cwasm", "other.txt", "recent.cwasm"]);
        // The newest stays even when it alone is over the limit.
        keep_within(dir.path(), "cwasm", 10);
        assert!(dir.path().join("newest.cwasm").exists());
        assert!(!dir.path().join("recent.cwasm").exists());
    }
}
