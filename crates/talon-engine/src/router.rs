//! Routing: which rules an event can reach, by the event's index.
//!
//! Index patterns are matched once per distinct index name and the answer
//! is cached, so the cost per event is one hash probe however many rules
//! are loaded.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::compile::CompiledRule;

/// Caches, per index name, the positions of the rules whose index patterns
/// match it.
#[derive(Debug, Default)]
pub struct Router {
    by_index: FxHashMap<Arc<str>, Arc<[usize]>>,
    all: Arc<[usize]>,
    all_indices: bool,
}

impl Router {
    /// A router over `rules`; with `all_indices`, every rule sees every event.
    pub fn new(rules: &[CompiledRule], all_indices: bool) -> Router {
        Router {
            by_index: FxHashMap::default(),
            all: (0..rules.len()).collect(),
            all_indices,
        }
    }

    /// The rules an event with this index reaches. An event without an
    /// index reaches no rule unless every index is searched.
    pub fn route(&mut self, rules: &[CompiledRule], index: Option<&Arc<str>>) -> Arc<[usize]> {
        if self.all_indices {
            return Arc::clone(&self.all);
        }
        let Some(index) = index else {
            return Arc::from(Vec::new());
        };
        if let Some(hit) = self.by_index.get(index) {
            return Arc::clone(hit);
        }
        let matched: Arc<[usize]> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.indices.matches(index))
            .map(|(i, _)| i)
            .collect();
        self.by_index.insert(Arc::clone(index), Arc::clone(&matched));
        matched
    }
}
