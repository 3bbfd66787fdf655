//! Variables shared by every worker of the run (`set_var`/`get_var`), held
//! by the host since every instance has its own memory, within a byte budget
//! so that a guest cannot fill the host's memory through them.

use std::collections::HashMap;
use std::sync::Mutex;

/// The run's shared variables.
pub struct SharedVars {
    limit_bytes: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    vars: HashMap<String, String>,
    /// Keys and values, in bytes.
    bytes: usize,
}

/// Setting a variable would pass the run's budget for them.
#[derive(Debug, thiserror::Error)]
#[error("shared variables over their limit of {limit_mib} MiB (--max-vars)")]
pub struct VarsLimitExceeded {
    pub limit_mib: usize,
}

impl SharedVars {
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            limit_bytes,
            held: Mutex::default(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.held().vars.get(key).cloned()
    }

    /// Every variable, to hand them to another process of the run.
    pub fn all(&self) -> Vec<(String, String)> {
        let held = self.held();
        (held.vars.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Sets `key`, unless the variables would then take more than the limit.
    pub fn set(&self, key: String, value: String) -> Result<(), VarsLimitExceeded> {
        let mut held = self.held();
        let replaced = held.vars.get(&key).map_or(0, |old| key.len() + old.len());
        let bytes = held.bytes - replaced + key.len() + value.len();
        if bytes > self.limit_bytes {
            return Err(VarsLimitExceeded {
                limit_mib: self.limit_bytes >> 20,
            });
        }
        held.bytes = bytes;
        held.vars.insert(key, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_stay_within_their_budget_and_replacing_frees_room() {
        let vars = SharedVars::new(1 << 20);
        let half = "x".repeat(1 << 19);
        vars.set("a".into(), half.clone()).unwrap();
        assert!(vars.set("b".into(), half.clone()).is_err());
        vars.set("a".into(), "small".into()).unwrap();
        vars.set("b".into(), half).unwrap();
        assert_eq!(vars.get("a").as_deref(), Some("small"));
    }
}
