//! The on-disk cache of compiled components, so a second run starts in milliseconds.
//!
//! The key is a SHA-256 of the component's bytes and of the engine's
//! compatibility hash (wasmtime version, target, compilation settings), so a
//! changed component or engine never reuses a stale artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

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
    Ok(component)
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
    dir.join(format!("{name}.cwasm"))
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
