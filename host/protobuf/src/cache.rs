//! The run's compiled schemas, by content: workers that load the same files
//! (every instance of a component does) share one compilation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::schema::Schema;

/// Compiled schemas by the hash of what they were built from.
#[derive(Debug, Default)]
pub struct SchemaCache {
    schemas: Mutex<HashMap<[u8; 32], Arc<Schema>>>,
}

impl SchemaCache {
    /// Schemas kept at most; past it the cache starts over, so a guest that
    /// builds ever new ones holds no more than this many in the host.
    pub const CAPACITY: usize = 64;

    /// [`Schema::compile`], once per distinct input.
    pub fn compile(
        &self,
        sources: &[(String, String)],
        files: &[String],
    ) -> Result<Arc<Schema>, String> {
        let mut key = Sha256::new();
        for (path, text) in sources {
            key.update(b"source\0");
            key.update((path.len() as u64).to_le_bytes());
            key.update(path);
            key.update((text.len() as u64).to_le_bytes());
            key.update(text);
        }
        for file in files {
            key.update(b"file\0");
            key.update((file.len() as u64).to_le_bytes());
            key.update(file);
        }
        self.get_or_build(key.finalize().into(), || Schema::compile(sources, files))
    }

    /// [`Schema::from_descriptor_set`], once per distinct set.
    pub fn from_descriptor_set(&self, set: &[u8]) -> Result<Arc<Schema>, String> {
        let mut key = Sha256::new();
        key.update(b"descriptor-set\0");
        key.update(set);
        self.get_or_build(key.finalize().into(), || Schema::from_descriptor_set(set))
    }

    fn get_or_build(
        &self,
        key: [u8; 32],
        build: impl FnOnce() -> Result<Schema, String>,
    ) -> Result<Arc<Schema>, String> {
        if let Some(schema) = self.lock().get(&key) {
            return Ok(Arc::clone(schema));
        }
        // Built outside the lock: other workers' lookups do not wait on it.
        let schema = Arc::new(build()?);
        let mut schemas = self.lock();
        if schemas.len() >= Self::CAPACITY {
            schemas.clear();
        }
        schemas.insert(key, Arc::clone(&schema));
        Ok(schema)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Schema>>> {
        self.schemas
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::GREETER;

    #[test]
    fn the_cache_compiles_each_input_once() {
        let cache = SchemaCache::default();
        let sources = [("hello.proto".to_owned(), GREETER.to_owned())];
        let files = ["hello.proto".to_owned()];
        let first = cache.compile(&sources, &files).unwrap();
        let second = cache.compile(&sources, &files).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
    }
}
