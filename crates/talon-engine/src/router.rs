//! Routing: which rules an event can reach, by the event's index and its
//! event category, decided before any rule is evaluated.
//!
//! Two cached probes per event:
//! 1. the index name → the rules whose index patterns match it (computed
//!    once per distinct index name);
//! 2. within that index, the event's category values → the rules whose
//!    query can accept that category (computed once per distinct set of
//!    category values).
//!
//! A rule `process where ...` only receives events whose category field
//! holds `process`; `any where` rules receive every event of their indices;
//! a sequence or sample receives the categories of all its terms (all
//! events if any term is `any`). Routing never changes a result, only what
//! gets evaluated: a rule is left out only when its category test is sure
//! to fail (see [`CategoryNeed`]), and the differential test in
//! `tests/routing.rs` checks that against evaluating everything.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use talon_event::{Binding, EventView, Value};

use crate::compile::CompiledRule;

/// Which event categories a rule can accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CategoryNeed {
    /// Every event (an `any` term, or a category test routing cannot read).
    All,
    /// Only events whose `field` holds one of `names` (exact, as the
    /// query's term test on the category field compares).
    OneOf { field: usize, names: Vec<Box<str>> },
}

/// The routes of one index name.
#[derive(Debug)]
struct IndexRoute {
    /// Rules whose index patterns match.
    rules: Arc<[usize]>,
    /// Whether any of them filters by category (else probe 2 is skipped).
    filtered: bool,
    /// Category key → the subset of `rules` that accepts it.
    by_category: FxHashMap<Box<str>, Arc<[usize]>>,
}

/// Where one event goes.
#[derive(Clone, Debug)]
pub struct Routed {
    /// The rules to evaluate, in rule order.
    pub rules: Arc<[usize]>,
    /// Whether some rule searches the event's index (so an empty `rules`
    /// means "no rule accepts its category", not "index not searched").
    pub index_searched: bool,
}

impl Routed {
    fn none() -> Routed {
        Routed {
            rules: Arc::from(Vec::new()),
            index_searched: false,
        }
    }
}

/// Caches, per index name and category values, the positions of the rules
/// an event reaches.
#[derive(Debug, Default)]
pub struct Router {
    by_index: FxHashMap<Arc<str>, IndexRoute>,
    /// Used for every event when index patterns are ignored.
    all: Option<IndexRoute>,
    all_indices: bool,
    needs: Vec<CategoryNeed>,
    /// The distinct category fields rules filter on (usually only
    /// `event.category`), indexed by [`CategoryNeed::OneOf::field`].
    fields: Vec<Box<str>>,
    /// Per category field: its number in the catalog events are read
    /// through ([`Router::bind_fields`]; none until then).
    bindings: Vec<Binding>,
    /// Reused to build the category key without allocating on a hit.
    key: String,
}

/// Separates values of one field and fields in a category key; neither
/// occurs in real category names, and a key is only compared with keys
/// built the same way.
const VALUE_SEP: char = '\u{1}';
const FIELD_SEP: char = '\u{2}';

impl Router {
    /// A router over `rules`; with `all_indices`, index patterns are
    /// ignored (categories still route).
    pub fn new(rules: &[CompiledRule], all_indices: bool) -> Router {
        let mut fields: Vec<Box<str>> = Vec::new();
        let needs = rules
            .iter()
            .map(|r| category_need(r, &mut fields))
            .collect();
        let mut router = Router {
            all_indices,
            needs,
            fields,
            ..Router::default()
        };
        if all_indices {
            let every: Arc<[usize]> = (0..rules.len()).collect();
            router.all = Some(router.index_route(every));
        }
        router
    }

    /// Numbers the category fields as `bind` says (the engine's field
    /// catalog), so that each event reads them by number.
    pub fn bind_fields(&mut self, bind: &dyn Fn(&str) -> Binding) {
        self.bindings = self.fields.iter().map(|f| bind(f)).collect();
    }

    /// Whether index patterns are ignored.
    pub fn all_indices(&self) -> bool {
        self.all_indices
    }

    /// What routing knows about each rule's categories (in rule order).
    pub fn needs(&self) -> &[CategoryNeed] {
        &self.needs
    }

    /// The distinct category fields rules filter on.
    pub fn category_fields(&self) -> &[Box<str>] {
        &self.fields
    }

    fn index_route(&self, rules: Arc<[usize]>) -> IndexRoute {
        let filtered = rules
            .iter()
            .any(|&i| matches!(self.needs.get(i), Some(CategoryNeed::OneOf { .. })));
        IndexRoute {
            rules,
            filtered,
            by_category: FxHashMap::default(),
        }
    }

    /// The rules an event reaches. An event without an index reaches no
    /// rule unless every index is searched.
    pub fn route(&mut self, rules: &[CompiledRule], event: &dyn EventView) -> Routed {
        // Probe 1: the index.
        let route = if self.all_indices {
            match self.all.as_ref() {
                Some(r) => r,
                None => return Routed::none(),
            }
        } else {
            let Some(index) = event.index() else {
                return Routed::none();
            };
            if !self.by_index.contains_key(index) {
                let matched: Arc<[usize]> = rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.indices.matches(index))
                    .map(|(i, _)| i)
                    .collect();
                let built = self.index_route(matched);
                self.by_index.insert(Arc::clone(index), built);
            }
            match self.by_index.get(index) {
                Some(r) => r,
                None => return Routed::none(),
            }
        };
        let index_searched = !route.rules.is_empty();
        if !route.filtered || !index_searched {
            return Routed {
                rules: Arc::clone(&route.rules),
                index_searched,
            };
        }
        // Probe 2: the category values.
        self.key.clear();
        for (i, f) in self.fields.iter().enumerate() {
            let binding = self.bindings.get(i).copied().unwrap_or(Binding::NONE);
            for v in event.values_bound(f, binding) {
                match v {
                    Value::Str(s) => {
                        self.key.push_str(s.as_ref());
                        self.key.push(VALUE_SEP);
                    }
                    // A non-string category value: how the term test reads
                    // it is the evaluator's business, so route to all.
                    _ => {
                        return Routed {
                            rules: Arc::clone(&route.rules),
                            index_searched,
                        }
                    }
                }
            }
            self.key.push(FIELD_SEP);
        }
        if let Some(hit) = route.by_category.get(self.key.as_str()) {
            return Routed {
                rules: Arc::clone(hit),
                index_searched,
            };
        }
        let subset: Arc<[usize]> = route
            .rules
            .iter()
            .copied()
            .filter(|&i| accepts(self.needs.get(i), &self.fields, event))
            .collect();
        let key: Box<str> = self.key.as_str().into();
        let route = if self.all_indices {
            self.all.as_mut()
        } else {
            event.index().and_then(|ix| self.by_index.get_mut(ix))
        };
        if let Some(route) = route {
            route.by_category.insert(key, Arc::clone(&subset));
        }
        Routed {
            rules: subset,
            index_searched,
        }
    }
}

fn accepts(need: Option<&CategoryNeed>, fields: &[Box<str>], event: &dyn EventView) -> bool {
    match need {
        None | Some(CategoryNeed::All) => true,
        Some(CategoryNeed::OneOf { field, names }) => {
            let Some(path) = fields.get(*field) else {
                return true;
            };
            event
                .values(path)
                .iter()
                .any(|v| v.as_str().is_some_and(|s| names.iter().any(|n| &**n == s)))
        }
    }
}

/// What a compiled rule requires of the category field.
///
/// The category field is the rule's `event_category_override` or
/// `event.category`. The compiled query reads it after alias resolution;
/// when that resolved path is not the name itself (an alias in the
/// mapping) routing cannot be sure which field the test reads, so the rule
/// receives everything.
fn category_need(rule: &CompiledRule, fields: &mut Vec<Box<str>>) -> CategoryNeed {
    let field = rule
        .rule
        .event_category_override
        .as_deref()
        .unwrap_or("event.category");
    let names: Option<Vec<Box<str>>> = if let Some(plan) = rule.query.event_plan() {
        plan.category().map(|c| vec![c.into()])
    } else if let Some(seq) = rule.query.sequence() {
        let mut names: Vec<Box<str>> = Vec::new();
        let mut all = false;
        for t in seq.terms.iter().chain(seq.until.iter()) {
            match t.plan.category() {
                Some(c) => {
                    if !names.iter().any(|n| &**n == c) {
                        names.push(c.into());
                    }
                }
                None => all = true,
            }
        }
        (!all).then_some(names)
    } else {
        None
    };
    let Some(names) = names else {
        return CategoryNeed::All;
    };
    if !rule.query.referenced_fields().iter().any(|f| f == field) {
        return CategoryNeed::All;
    }
    let idx = match fields.iter().position(|f| &**f == field) {
        Some(i) => i,
        None => {
            fields.push(field.into());
            fields.len() - 1
        }
    };
    CategoryNeed::OneOf { field: idx, names }
}

/// Whether any of a set of rules searches an event's index, decided once
/// per index name: what a caller that splits rules between several engines
/// needs to count the events no rule searched.
#[derive(Debug, Default)]
pub struct IndexCensus {
    all_indices: bool,
    patterns: Vec<talon_event::index::IndexPatterns>,
    known: FxHashMap<Arc<str>, bool>,
}

impl IndexCensus {
    pub fn new<'r>(
        rules: impl IntoIterator<Item = &'r CompiledRule>,
        all_indices: bool,
    ) -> IndexCensus {
        IndexCensus {
            all_indices,
            patterns: rules.into_iter().map(|r| r.indices.clone()).collect(),
            known: FxHashMap::default(),
        }
    }

    /// Whether some rule searches the event's index (as [`Router::route`]
    /// decides it: with every index searched, any event is).
    pub fn searched(&mut self, event: &dyn EventView) -> bool {
        if self.all_indices {
            return !self.patterns.is_empty();
        }
        let Some(index) = event.index() else {
            return false;
        };
        if let Some(&hit) = self.known.get(index) {
            return hit;
        }
        let hit = self.patterns.iter().any(|p| p.matches(index));
        self.known.insert(Arc::clone(index), hit);
        hit
    }
}
