//! How many distinct names the run keeps, for requests and for custom
//! metrics: each name costs a histogram, a JSON entry and a summary row, and
//! a scenario with ids in its paths (`/users/{id}`) would make one per id.

use std::collections::HashSet;
use std::sync::RwLock;

/// Where the names past the limit are counted.
pub const OTHER: &str = "(other)";

/// The longest name kept, in bytes; a longer one is cut (at a character).
pub const MAX_NAME_BYTES: usize = 1024;

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The distinct names admitted so far, up to a limit, for every shard.
pub struct NameBudget {
    limit: usize,
    /// What the report says once names went to [`OTHER`].
    pub warning: String,
    admitted: RwLock<HashSet<String, foldhash::fast::RandomState>>,
}

impl NameBudget {
    /// At most `limit` names of `what` (`request`), raised with `flag`.
    pub fn new(limit: usize, what: &str, flag: &str) -> Self {
        Self {
            limit,
            warning: format!(
                "more than {limit} distinct {what} names: the rest are counted under {OTHER} \
                 (name them in the scenario, or raise {flag})"
            ),
            admitted: RwLock::default(),
        }
    }

    /// Whether `name` may have an entry of its own; else it is counted under
    /// [`OTHER`]. Asked only when a shard meets a name it does not hold.
    pub fn admit(&self, name: &str) -> bool {
        let admitted = self.admitted.read().unwrap_or_else(|e| e.into_inner());
        if admitted.contains(name) {
            return true;
        }
        if admitted.len() >= self.limit {
            return false;
        }
        drop(admitted);
        let mut admitted = self.admitted.write().unwrap_or_else(|e| e.into_inner());
        if admitted.len() >= self.limit {
            return admitted.contains(name);
        }
        admitted.insert(name.to_string());
        true
    }
}
