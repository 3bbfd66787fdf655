//! Cranelift's incremental cache on disk: each compiled function stored by
//! a hash of what it was compiled from, so that a component sharing most of
//! its code with one compiled before compiles only what is new. Every
//! JavaScript component carries the same SpiderMonkey and every Python one
//! the same CPython: a new script then compiles in seconds, not tens of them.
//!
//! Entries live under `<cache dir>/functions/`, written atomically; an entry
//! that cannot be read or written is a miss, never an error.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::CacheStore;

#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
    /// Names temporary files apart: compilation runs on many threads.
    writes: AtomicU64,
}

impl FunctionCache {
    /// The cache kept in `cache_dir`.
    pub fn in_dir(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("functions"),
            writes: AtomicU64::new(0),
        }
    }

    /// An entry's file: two levels, so that no directory holds too many.
    fn path(&self, key: &[u8]) -> PathBuf {
        let name: String = Sha256::digest(key)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(&name[..2]).join(&name[2..])
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        std::fs::read(self.path(key)).ok().map(Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let path = self.path(key);
        let Some(dir) = path.parent() else {
            return false;
        };
        let write = self.writes.fetch_add(1, Ordering::Relaxed);
        let temporary = dir.join(format!(".{}-{write}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&temporary, value))
            .and_then(|()| std::fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_read_back_and_a_missing_one_is_a_miss() {
        let dir = std::env::temp_dir().join(format!("molotov-fn-cache-{}", std::process::id()));
        let cache = FunctionCache::in_dir(&dir);
        assert!(cache.get(b"key").is_none());
        assert!(cache.insert(b"key", b"compiled".to_vec()));
        assert_eq!(cache.get(b"key").as_deref(), Some(&b"compiled"[..]));
        assert!(cache.get(b"other").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
