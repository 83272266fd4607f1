//! Rule exceptions: events that match an exception item of a rule do not
//! alert for that rule, as Kibana ANDs `NOT (item OR item ...)` into every
//! rule search.
//!
//! Where exceptions come from:
//! - Kibana exception-list exports (lists and items, NDJSON), attached to a
//!   rule by its `exceptions_list` references (`list_id` and
//!   `namespace_type`), exactly as Kibana looks them up;
//! - items given for a rule directly (`talon.toml`), by rule id or name
//!   glob;
//! - silencing: a whole rule (id or name glob) or a host (`host.name`
//!   glob, ASCII case-insensitive since host names are).
//!
//! Value lists (`list` entries) are read from files, one value per line.
//! As in Kibana, an item whose value list is not processable (missing, of
//! a type other than keyword / ip / ip_range, or larger than 65,536 items)
//! is not applied, and the rule gets the warning "The following exceptions
//! won't be applied to rule execution: <item names>".
//!
//! Model and parsing are in `exceptions/model.rs`, the meaning of each
//! entry in `exceptions/matching.rs`.

pub(crate) mod matching;
mod model;

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value as Json;
use talon_event::index::wildcard_match;
use talon_event::json_span::{descend, Step};
use talon_event::mapping::Mapping;
use talon_event::Event;
use talon_rules::Rule;

use matching::{compile_entries, ListSet, Lists, Test, Unprocessable};
pub use model::{
    parse_entries, parse_export_object, Entry, ExceptionError, ExceptionItem, ExceptionListInfo,
    ExportObject, Operator, DEFAULT_NAMESPACE,
};

use crate::select::name_matches;

/// Kibana's `MAXIMUM_SMALL_VALUE_LIST_SIZE`: larger lists are not used in
/// an EQL rule's exception filter.
pub const MAX_VALUE_LIST_SIZE: usize = 65_536;

/// Which rules a directly given item applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleTarget {
    RuleId(String),
    /// A name glob (`*`), ASCII case-insensitive.
    NameGlob(String),
}

impl RuleTarget {
    pub fn matches(&self, rule: &Rule) -> bool {
        match self {
            RuleTarget::RuleId(id) => id.trim() == rule.rule_id,
            RuleTarget::NameGlob(g) => name_matches(g, &rule.name),
        }
    }
}

/// Everything known about exceptions before rules are bound to them.
#[derive(Clone, Debug, Default)]
pub struct ExceptionSet {
    lists: Vec<ExceptionListInfo>,
    items: Vec<ExceptionItem>,
    value_lists: FxHashMap<String, Vec<String>>,
    targeted: Vec<(RuleTarget, ExceptionItem)>,
    silenced_rules: Vec<String>,
    silenced_hosts: Vec<String>,
}

impl ExceptionSet {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.targeted.is_empty()
            && self.silenced_rules.is_empty()
            && self.silenced_hosts.is_empty()
    }

    /// Adds the objects of an exception-list export (as kept in
    /// `LoadReport::exceptions`, or read from a file). Objects that are
    /// not understood are returned as errors; the others are kept.
    pub fn add_export_objects<'a>(
        &mut self,
        objects: impl IntoIterator<Item = (&'a Json, String)>,
    ) -> Vec<ExceptionError> {
        let mut errors = Vec::new();
        for (v, origin) in objects {
            match parse_export_object(v, &origin) {
                Ok(ExportObject::List(l)) => self.lists.push(l),
                Ok(ExportObject::Item(i)) => self.items.push(i),
                Ok(ExportObject::Other) => {}
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Adds one exception list or item of an export, `v`, which starts at
    /// byte `start` of the file's `text`; errors say where in `text` they
    /// are, as [`ExceptionSet::add_export_ndjson`]'s do.
    pub fn add_export_object_at(
        &mut self,
        v: &Json,
        file: &str,
        text: &str,
        start: usize,
    ) -> Vec<ExportFileError> {
        let start = floor_char_boundary(text, start.min(text.len()));
        // The errors go out as spans and details (`detail()`), so their
        // origin is never shown: the file alone, not a line counted from
        // the top for every object (quadratic over a large export).
        self.add_export_objects([(v, file.to_string())])
            .into_iter()
            .map(|e| {
                // The value the error is about, found by its path in the
                // object (not by its text, which may also be another
                // value's); the object's first byte when it has none.
                let span = path_span(text, start, e.at()).unwrap_or(start..start + 1);
                ExportFileError {
                    span,
                    message: e.detail(),
                }
            })
            .collect()
    }

    /// Adds an exception-list export in NDJSON; `file` names it in errors.
    /// Each error says where in `text` it is, for the caller to show the
    /// line and a caret: the place the JSON breaks, the value an entry
    /// cannot use (an unknown `type`), or else the start of the object.
    /// The objects without errors are kept.
    pub fn add_export_ndjson(&mut self, text: &str, file: &str) -> Vec<ExportFileError> {
        let mut errors = Vec::new();
        let mut start = text.len() - without_bom(text).len();
        for raw in without_bom(text).split_inclusive('\n') {
            let line_start = start;
            start += raw.len();
            let line = raw.trim_end_matches('\n').trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let object_at = line_start + (line.len() - line.trim_start().len());
            match serde_json::from_str::<Json>(line) {
                Ok(v) => errors.extend(self.add_export_object_at(&v, file, text, object_at)),
                Err(e) => {
                    // serde_json's column is the byte it stopped at; at the
                    // end of the line, the place after its last byte.
                    let at = match e.classify() {
                        serde_json::error::Category::Eof => line.len(),
                        _ => e.column().saturating_sub(1).min(line.len()),
                    };
                    let at = line_start + floor_char_boundary(line, at);
                    errors.push(ExportFileError {
                        span: at..at,
                        message: format!("invalid JSON: {}", json_message(&e)),
                    });
                }
            }
        }
        errors
    }

    /// Adds (or replaces) a value list's items.
    pub fn add_value_list(&mut self, id: &str, values: Vec<String>) {
        self.value_lists.insert(id.to_string(), values);
    }

    /// A value list file: one value per line, blank lines skipped (and a
    /// byte-order mark, which would otherwise be part of the first value).
    pub fn add_value_list_text(&mut self, id: &str, text: &str) {
        let values = without_bom(text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        self.add_value_list(id, values);
    }

    /// Adds an item for the rules `target` selects.
    pub fn add_rule_item(&mut self, target: RuleTarget, item: ExceptionItem) {
        self.targeted.push((target, item));
    }

    /// Silences a rule: a rule id, or a name glob.
    pub fn silence_rule(&mut self, rule: &str) {
        self.silenced_rules.push(rule.trim().to_string());
    }

    /// Silences every event whose `host.name` matches the glob.
    pub fn silence_host(&mut self, glob: &str) {
        self.silenced_hosts.push(glob.trim().to_ascii_lowercase());
    }

    /// How many exception items exports gave.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// The exception lists seen in exports.
    pub fn lists(&self) -> &[ExceptionListInfo] {
        &self.lists
    }

    /// What applies to none of `rules` (every rule that runs): silences
    /// naming no rule, `talon.toml` exceptions for no rule, exception
    /// lists no rule's `exceptions_list` names. Each is a warning: a
    /// misspelt id would otherwise silence or except nothing, silently.
    pub fn unused(&self, rules: &[&Rule]) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.silenced_rules {
            if !rules
                .iter()
                .any(|r| s == &r.rule_id || name_matches(s, &r.name))
            {
                out.push(format!(
                    "silence `{s}` names no rule that runs (by rule_id or name glob): it silences nothing"
                ));
            }
        }
        for (target, item) in &self.targeted {
            if !rules.iter().any(|r| target.matches(r)) {
                let (key, value) = match target {
                    RuleTarget::RuleId(id) => ("rule_id", id),
                    RuleTarget::NameGlob(g) => ("rule_name", g),
                };
                out.push(format!(
                    "exception `{}` ({key} = \"{value}\") applies to no rule that runs",
                    item.name
                ));
            }
        }
        let named: Vec<ListRef> = rules.iter().flat_map(|r| exception_refs(r)).collect();
        let mut lists: Vec<(&str, &str)> = self
            .lists
            .iter()
            .map(|l| (l.list_id.as_str(), l.namespace_type.as_str()))
            .chain(
                self.items
                    .iter()
                    .map(|i| (i.list_id.as_str(), i.namespace_type.as_str())),
            )
            .collect();
        lists.sort();
        lists.dedup();
        for (id, ns) in lists {
            if named
                .iter()
                .any(|r| r.list_id == id && r.namespace_type == ns)
            {
                continue;
            }
            let items = self
                .items
                .iter()
                .filter(|i| i.list_id == id && i.namespace_type == ns)
                .count();
            out.push(format!(
                "exception list `{id}` ({ns}) is named in no running rule's exceptions_list: \
                 its {items} item(s) apply to nothing"
            ));
        }
        out
    }

    /// Binds exceptions to rules (in the order given): the compiled items
    /// of each rule, and warnings for what cannot be applied.
    pub fn bind(&self, rules: &[&Rule], mapping: &Mapping) -> BoundExceptions {
        let mut warnings = Vec::new();
        let mut cache: FxHashMap<String, Arc<ListSet>> = FxHashMap::default();
        let mut per_rule = Vec::with_capacity(rules.len());
        for rule in rules {
            let silenced = self
                .silenced_rules
                .iter()
                .any(|s| s == &rule.rule_id || name_matches(s, &rule.name));
            let mut chosen: Vec<&ExceptionItem> = Vec::new();
            for r in exception_refs(rule) {
                let known = self
                    .lists
                    .iter()
                    .any(|l| l.list_id == r.list_id && l.namespace_type == r.namespace_type);
                let items: Vec<&ExceptionItem> = self
                    .items
                    .iter()
                    .filter(|i| i.list_id == r.list_id && i.namespace_type == r.namespace_type)
                    .collect();
                if !known && items.is_empty() {
                    warnings.push(format!(
                        "rule \"{}\": exception list `{}` ({}) is not loaded; pass its export with --exceptions",
                        rule.name, r.list_id, r.namespace_type
                    ));
                }
                chosen.extend(items);
            }
            chosen.extend(
                self.targeted
                    .iter()
                    .filter(|(t, _)| t.matches(rule))
                    .map(|(_, i)| i),
            );
            let mut items = Vec::with_capacity(chosen.len());
            let mut unapplied = Vec::new();
            for item in chosen {
                let mut lists = ListLookup {
                    set: self,
                    cache: &mut cache,
                };
                match compile_item(item, mapping, &mut lists) {
                    Ok(c) => items.push(c),
                    Err(why) => {
                        tracing::info!(
                            "rule \"{}\": exception item `{}` not applied: {why}",
                            rule.name,
                            item.item_id
                        );
                        unapplied.push((item.name.clone(), why.to_string()));
                    }
                }
            }
            if !unapplied.is_empty() {
                // Kibana's sentence, then why each item is left out.
                let names: Vec<&str> = unapplied.iter().map(|(n, _)| n.as_str()).collect();
                let why: Vec<String> = unapplied.iter().map(|(n, w)| format!("{n}: {w}")).collect();
                warnings.push(format!(
                    "rule \"{}\": The following exceptions won't be applied to rule execution: {} ({})",
                    rule.name,
                    names.join(", "),
                    why.join("; ")
                ));
            }
            per_rule.push(RuleExceptions { silenced, items });
        }
        let empty = self.silenced_hosts.is_empty()
            && per_rule.iter().all(|r| !r.silenced && r.items.is_empty());
        BoundExceptions {
            per_rule,
            hosts: self.silenced_hosts.clone(),
            warnings,
            empty,
        }
    }
}

/// A rule's `exceptions_list` reference.
struct ListRef {
    list_id: String,
    namespace_type: String,
}

/// The rule's `exceptions_list` (kept in `extra` by the loaders).
fn exception_refs(rule: &Rule) -> Vec<ListRef> {
    let Some(Json::Array(refs)) = rule.extra.get("exceptions_list") else {
        return Vec::new();
    };
    refs.iter()
        .filter_map(|r| {
            let list_id = r.get("list_id").and_then(Json::as_str)?;
            let ns = r
                .get("namespace_type")
                .and_then(Json::as_str)
                .unwrap_or(DEFAULT_NAMESPACE);
            Some(ListRef {
                list_id: list_id.to_string(),
                namespace_type: ns.to_string(),
            })
        })
        .collect()
}

struct ListLookup<'a> {
    set: &'a ExceptionSet,
    cache: &'a mut FxHashMap<String, Arc<ListSet>>,
}

impl Lists for ListLookup<'_> {
    fn list(&mut self, id: &str, list_type: &str) -> Result<Arc<ListSet>, Unprocessable> {
        let key = format!("{list_type}\u{0}{id}");
        if let Some(hit) = self.cache.get(&key) {
            return Ok(Arc::clone(hit));
        }
        let values = self
            .set
            .value_lists
            .get(id)
            .ok_or_else(|| Unprocessable::ListMissing(id.to_string()))?;
        if values.len() > MAX_VALUE_LIST_SIZE {
            return Err(Unprocessable::ListType(
                id.to_string(),
                format!("{} items, more than {MAX_VALUE_LIST_SIZE}", values.len()),
            ));
        }
        let set = ListSet::new(list_type, values).ok_or_else(|| {
            let why = format!("an exception cannot match a list of type `{list_type}`");
            Unprocessable::ListType(id.to_string(), why)
        })?;
        let set = Arc::new(set);
        self.cache.insert(key, Arc::clone(&set));
        Ok(set)
    }
}

fn compile_item(
    item: &ExceptionItem,
    mapping: &Mapping,
    lists: &mut ListLookup<'_>,
) -> Result<CompiledItem, Unprocessable> {
    let tests = compile_entries(&item.entries, None, mapping, lists)?;
    Ok(CompiledItem {
        list_id: item.list_id.clone(),
        item_id: item.item_id.clone(),
        name: item.name.clone(),
        tests,
        os_types: item.os_types.clone(),
    })
}

/// One item ready to test.
#[derive(Debug)]
struct CompiledItem {
    list_id: String,
    item_id: String,
    name: String,
    tests: Vec<Test>,
    os_types: Vec<String>,
}

impl CompiledItem {
    fn matches(&self, event: &Event) -> bool {
        if !self.os_types.is_empty() && !os_matches(&self.os_types, event) {
            return false;
        }
        self.tests.iter().all(|t| t.matches(event))
    }
}

/// Kibana's `transformOsType`: `host.os.type` is one of the types, or
/// `host.os.name.caseless` is (a lowercase-normalized keyword in the
/// Endpoint mapping, so compared without ASCII case).
fn os_matches(os: &[String], event: &Event) -> bool {
    use talon_event::Fields;
    let typed = event
        .values("host.os.type")
        .iter()
        .any(|v| v.as_str().is_some_and(|s| os.iter().any(|o| o == s)));
    typed
        || event.values("host.os.name.caseless").iter().any(|v| {
            v.as_str()
                .is_some_and(|s| os.iter().any(|o| o.eq_ignore_ascii_case(s)))
        })
}

/// The exceptions of one rule.
#[derive(Debug, Default)]
pub struct RuleExceptions {
    silenced: bool,
    items: Vec<CompiledItem>,
}

impl RuleExceptions {
    pub fn is_silenced(&self) -> bool {
        self.silenced
    }

    pub fn item_count(&self) -> usize {
        self.items.len()
    }
}

/// Why a match was suppressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suppression<'a> {
    RuleSilenced,
    HostSilenced {
        glob: &'a str,
    },
    Item {
        list_id: &'a str,
        item_id: &'a str,
        name: &'a str,
    },
}

impl Suppression<'_> {
    /// A silence (`[silence]`, `--silence-*`) rather than an exception item.
    pub fn is_silence(&self) -> bool {
        !matches!(self, Suppression::Item { .. })
    }
}

/// Exceptions bound to rules, by rule position.
#[derive(Debug)]
pub struct BoundExceptions {
    per_rule: Vec<RuleExceptions>,
    hosts: Vec<String>,
    /// What cannot be applied, one line each, naming the rule.
    pub warnings: Vec<String>,
    /// Nothing can ever be suppressed (known once: asked per event).
    empty: bool,
}

impl Default for BoundExceptions {
    /// No exceptions: nothing is suppressed.
    fn default() -> Self {
        BoundExceptions {
            per_rule: Vec::new(),
            hosts: Vec::new(),
            warnings: Vec::new(),
            empty: true,
        }
    }
}

impl BoundExceptions {
    /// True when nothing can ever be suppressed.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    pub fn rule(&self, rule_index: usize) -> Option<&RuleExceptions> {
        self.per_rule.get(rule_index)
    }

    /// Whether the rule's match on this event is suppressed, and why (the
    /// first reason found: rule silenced, host silenced, then items in
    /// order).
    pub fn check(&self, rule_index: usize, event: &Event) -> Option<Suppression<'_>> {
        use talon_event::Fields;
        let rule = self.per_rule.get(rule_index)?;
        if rule.silenced {
            return Some(Suppression::RuleSilenced);
        }
        if !self.hosts.is_empty() {
            for v in event.values("host.name") {
                if let Some(name) = v.as_str() {
                    let lower = name.to_ascii_lowercase();
                    if let Some(g) = self.hosts.iter().find(|g| wildcard_match(g, &lower)) {
                        return Some(Suppression::HostSilenced { glob: g });
                    }
                }
            }
        }
        rule.items
            .iter()
            .find(|i| i.matches(event))
            .map(|i| Suppression::Item {
                list_id: &i.list_id,
                item_id: &i.item_id,
                name: &i.name,
            })
    }
}

/// A problem in an exception-list export file (see
/// [`ExceptionSet::add_export_ndjson`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFileError {
    /// The bytes of the file text it is about (empty at a place where the
    /// JSON breaks).
    pub span: std::ops::Range<usize>,
    /// What is wrong, without the file and place (`invalid JSON: EOF while
    /// parsing a value`, ``exception item `a`: entry on `x`: unknown type
    /// `matchez` (...)``).
    pub message: String,
}

/// The span of the value `path` leads to below the value at `start` of
/// `text`, as deep as the text follows it; a string without its quotes.
/// `None` when not even its first step is there.
fn path_span(text: &str, start: usize, path: &[Step]) -> Option<std::ops::Range<usize>> {
    let span = descend(text, start..start, path);
    if span.is_empty() {
        return None;
    }
    let quoted = span.len() >= 2 && text.get(span.clone()).is_some_and(|t| t.starts_with('"'));
    Some(match quoted {
        true => span.start + 1..span.end - 1,
        false => span,
    })
}

/// serde_json's message without its ` at line L column C`: the caller
/// gives the place itself, once.
fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) if e.line() != 0 => s[..i].to_string(),
        _ => s,
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` without a leading UTF-8 byte-order mark (Windows editors write
/// one; it is no part of the first line's content).
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
