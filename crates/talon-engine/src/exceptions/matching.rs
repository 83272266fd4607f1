//! Exception entries compiled into tests on an event, with the meaning of
//! the Elasticsearch query Kibana builds for each (`buildExceptionFilter`):
//!
//! - `match` is a `match_phrase` on the field: on a keyword an exact,
//!   case-sensitive value; on an `ip` field an address or CIDR block; on a
//!   number, boolean or date field the value parsed as one. Any value of a
//!   multi-valued field may match;
//! - `match_any` is a `should` of those phrases;
//! - `wildcard` is a `wildcard` query: Lucene syntax (`*`, `?`, `\`
//!   escapes), case-sensitive;
//! - `exists` is an `exists` query (an object field exists when any field
//!   below it has a value);
//! - `list` is a `terms` query with the value list's items (`ip_range`
//!   items may be `a-b` ranges or CIDR blocks);
//! - `nested` is a `nested` query: all its entries hold on one and the same
//!   object of the nested array (read from the event's source document);
//! - `excluded` wraps any of them in `must_not`, so "is not" also holds
//!   when the field is missing;
//! - an item's `os_types` add "`host.os.type` or `host.os.name.caseless`
//!   is one of them" to the item.

use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::Value as Json;
use talon_eql::eval::ip::{parse_cidr, parse_ip, to_u128, IpRange};
use talon_eql::eval::wildcard::{CaseMode, Wildcard};
use talon_event::mapping::{FieldType, Mapping};
use talon_event::{time::parse_str_nanos, Event, EventView, Fields, Value};

use super::model::{Entry, Operator};

/// A value list's items, ready to test.
#[derive(Debug)]
pub(crate) enum ListSet {
    Keyword(FxHashSet<String>),
    Ip(Vec<IpRange>),
}

impl ListSet {
    /// Builds the set for a list of `list_type`; `None` when Kibana cannot
    /// use such a list in an EQL rule's filter (only keyword, ip and
    /// ip_range lists are processable).
    pub(crate) fn new(list_type: &str, values: &[String]) -> Option<ListSet> {
        match list_type {
            "keyword" => Some(ListSet::Keyword(values.iter().cloned().collect())),
            "ip" | "ip_range" => {
                let mut ranges = Vec::with_capacity(values.len());
                for v in values {
                    if let Some(r) = ip_range_item(v) {
                        ranges.push(r);
                    }
                }
                Some(ListSet::Ip(ranges))
            }
            _ => None,
        }
    }
}

/// `a-b`, `addr/prefix` or one address.
fn ip_range_item(v: &str) -> Option<IpRange> {
    let v = v.trim();
    if let Some((a, b)) = v.split_once('-') {
        let lo = to_u128(parse_ip(a.trim())?);
        let hi = to_u128(parse_ip(b.trim())?);
        return (lo <= hi).then_some(IpRange { lo, hi });
    }
    parse_cidr(v)
}

/// How the values of a `match` compare, by the field's type.
#[derive(Debug)]
pub(crate) enum Cmp {
    Str(Vec<String>),
    Ip(Vec<IpRange>),
    Num(Vec<f64>),
    Bool(Vec<bool>),
    Date(Vec<i64>),
    /// The value cannot be read as the field's type: Elasticsearch would
    /// fail the query; here it never matches.
    Never,
}

/// The field an entry tests, and what of it Elasticsearch indexed.
#[derive(Debug)]
pub(crate) struct At {
    field: Box<str>,
    /// The mapping's `ignore_above` for a keyword field: a longer string
    /// is not indexed, so no query matches it and it does not make the
    /// field exist, in exceptions as in rule filters.
    ignore_above: Option<u32>,
}

impl At {
    /// The field's values as Elasticsearch indexed them.
    fn values<'e>(&self, event: &'e Event) -> impl Iterator<Item = &'e Value> + use<'e, '_> {
        let max = self.ignore_above;
        event
            .values(&self.field)
            .iter()
            .filter(move |v| indexed(max, v))
    }

    fn exists(&self, event: &Event) -> bool {
        match self.ignore_above {
            None => exists(event, &self.field),
            Some(_) => self.values(event).next().is_some() || event.has_values_below(&self.field),
        }
    }
}

/// Whether a keyword field with `ignore_above` indexed `v`: not a string
/// longer than that, counted in UTF-16 units as Elasticsearch counts.
pub(crate) fn indexed(ignore_above: Option<u32>, v: &Value) -> bool {
    match (ignore_above, v) {
        (Some(max), Value::Str(s)) => s.encode_utf16().count() <= max as usize,
        _ => true,
    }
}

/// One compiled entry.
#[derive(Debug)]
pub(crate) enum Test {
    Match {
        at: At,
        op: Operator,
        cmp: Cmp,
    },
    Wildcard {
        at: At,
        op: Operator,
        pattern: Wildcard,
    },
    Exists {
        at: At,
        op: Operator,
    },
    List {
        at: At,
        op: Operator,
        set: Arc<ListSet>,
    },
    Nested {
        path: Box<str>,
        tests: Vec<Test>,
    },
}

/// Something an entry needs that is not there (a value list).
#[derive(Debug)]
pub(crate) enum Unprocessable {
    ListMissing(String),
    ListType(String, String),
}

impl std::fmt::Display for Unprocessable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unprocessable::ListMissing(id) => write!(
                f,
                "value list `{id}` is not loaded (--value-list {id}=FILE)"
            ),
            Unprocessable::ListType(id, why) => {
                write!(f, "value list `{id}` cannot be used ({why})")
            }
        }
    }
}

/// Looks up value lists by id.
pub(crate) trait Lists {
    fn list(&mut self, id: &str, list_type: &str) -> Result<Arc<ListSet>, Unprocessable>;
}

pub(crate) fn compile_entries(
    entries: &[Entry],
    parent: Option<&str>,
    mapping: &Mapping,
    lists: &mut dyn Lists,
) -> Result<Vec<Test>, Unprocessable> {
    entries
        .iter()
        .map(|e| compile_entry(e, parent, mapping, lists))
        .collect()
}

fn compile_entry(
    e: &Entry,
    parent: Option<&str>,
    mapping: &Mapping,
    lists: &mut dyn Lists,
) -> Result<Test, Unprocessable> {
    // Inside a nested entry, fields are relative to the nested object; the
    // mapping knows them by their full path.
    let full = |f: &str| match parent {
        Some(p) => format!("{p}.{f}"),
        None => f.to_string(),
    };
    let ty = |f: &str| mapping.field_type(&full(f));
    let at = |f: &str| At {
        field: f.into(),
        ignore_above: mapping.ignore_above(&full(f)),
    };
    // TODO: `is` and `is one of` are `match_phrase` queries in Kibana, which
    // rule filters read by the field's type (a `text` field's words, a
    // date's every instant); here a text field compares whole and a date
    // as one instant.
    Ok(match e {
        Entry::Match { field, op, value } => Test::Match {
            cmp: cmp_for(ty(field), std::slice::from_ref(value)),
            at: at(field),
            op: *op,
        },
        Entry::MatchAny { field, op, values } => Test::Match {
            cmp: cmp_for(ty(field), values),
            at: at(field),
            op: *op,
        },
        Entry::Wildcard { field, op, value } => Test::Wildcard {
            pattern: Wildcard::lucene(value, CaseMode::Sensitive),
            at: at(field),
            op: *op,
        },
        Entry::Exists { field, op } => Test::Exists {
            at: at(field),
            op: *op,
        },
        Entry::List {
            field,
            op,
            list_id,
            list_type,
        } => Test::List {
            set: lists.list(list_id, list_type)?,
            at: at(field),
            op: *op,
        },
        Entry::Nested { field, entries } => Test::Nested {
            tests: compile_entries(entries, Some(field), mapping, lists)?,
            path: field.as_str().into(),
        },
    })
}

fn cmp_for(ty: Option<FieldType>, values: &[String]) -> Cmp {
    let all = |f: &dyn Fn(&str) -> Option<()>| values.iter().all(|v| f(v).is_some());
    match ty {
        Some(FieldType::Ip) => {
            let r: Vec<IpRange> = values.iter().filter_map(|v| parse_cidr(v.trim())).collect();
            if r.is_empty() {
                Cmp::Never
            } else {
                Cmp::Ip(r)
            }
        }
        Some(t) if t.is_numeric() => {
            if !all(&|v| v.trim().parse::<f64>().ok().map(|_| ())) {
                return Cmp::Never;
            }
            Cmp::Num(
                values
                    .iter()
                    .filter_map(|v| v.trim().parse().ok())
                    .collect(),
            )
        }
        Some(FieldType::Boolean) => {
            let b: Vec<bool> = values
                .iter()
                .filter_map(|v| match v.trim() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                })
                .collect();
            if b.is_empty() {
                Cmp::Never
            } else {
                Cmp::Bool(b)
            }
        }
        Some(t) if t.is_date() => {
            let d: Vec<i64> = values
                .iter()
                .filter_map(|v| parse_str_nanos(v.trim()))
                .collect();
            if d.is_empty() {
                Cmp::Never
            } else {
                Cmp::Date(d)
            }
        }
        _ => Cmp::Str(values.to_vec()),
    }
}

/// A scalar as a keyword field indexes it (JSON numbers and booleans as
/// their text). Rule filters compare keywords the same way.
pub(crate) fn keyword_text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::Str(s) => Some(std::borrow::Cow::Borrowed(s.as_ref())),
        Value::Int(i) => Some(std::borrow::Cow::Owned(i.to_string())),
        Value::Float(f) => Some(std::borrow::Cow::Owned(f.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        })),
        Value::Null => None,
    }
}

/// Whether one value of a field is one of `cmp`'s (rule filters' `term`
/// on keyword, numeric, boolean and `ip` fields reads the same way).
pub(crate) fn value_matches(cmp: &Cmp, v: &Value) -> bool {
    match cmp {
        Cmp::Never => false,
        Cmp::Str(want) => keyword_text(v).is_some_and(|s| want.iter().any(|w| *w == *s)),
        Cmp::Ip(ranges) => v
            .as_str()
            .and_then(|s| parse_ip(s.trim()))
            .is_some_and(|a| ranges.iter().any(|r| r.contains(to_u128(a)))),
        Cmp::Num(want) => {
            let n = match v {
                Value::Int(i) => Some(*i as f64),
                Value::Float(f) => Some(*f),
                Value::Str(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            n.is_some_and(|n| want.contains(&n))
        }
        Cmp::Bool(want) => {
            let b = match v {
                Value::Bool(b) => Some(*b),
                Value::Str(s) if &**s == "true" => Some(true),
                Value::Str(s) if &**s == "false" => Some(false),
                _ => None,
            };
            b.is_some_and(|b| want.contains(&b))
        }
        Cmp::Date(want) => talon_event::time::parse_nanos(v).is_some_and(|n| want.contains(&n)),
    }
}

fn apply(op: Operator, included: bool) -> bool {
    match op {
        Operator::Included => included,
        Operator::Excluded => !included,
    }
}

/// Whether a field, or any field below it (an object), has a value: an
/// `exists` query (rule filters' too).
pub(crate) fn exists(event: &dyn EventView, field: &str) -> bool {
    !event.values(field).is_empty() || event.has_values_below(field)
}

impl Test {
    pub(crate) fn matches(&self, event: &Event) -> bool {
        match self {
            Test::Match { at, op, cmp } => {
                apply(*op, at.values(event).any(|v| value_matches(cmp, v)))
            }
            Test::Wildcard { at, op, pattern } => apply(
                *op,
                at.values(event)
                    .any(|v| keyword_text(v).is_some_and(|s| pattern.matches(&s))),
            ),
            Test::Exists { at, op } => apply(*op, at.exists(event)),
            Test::List { at, op, set } => {
                let hit = at.values(event).any(|v| match &**set {
                    ListSet::Keyword(items) => {
                        keyword_text(v).is_some_and(|s| items.contains(s.as_ref()))
                    }
                    ListSet::Ip(ranges) => v
                        .as_str()
                        .and_then(|s| parse_ip(s.trim()))
                        .is_some_and(|a| ranges.iter().any(|r| r.contains(to_u128(a)))),
                });
                apply(*op, hit)
            }
            Test::Nested { path, tests } => nested_objects(event, path)
                .iter()
                .any(|obj| tests.iter().all(|t| t.matches(obj))),
        }
    }
}

/// The objects at `path` in the event's source, each as an event of its
/// own (fields relative to the object). Dotted keys and nesting are both
/// followed, arrays at any level contribute each element.
fn nested_objects(event: &Event, path: &str) -> Vec<Event> {
    let Ok(doc) = serde_json::from_str::<Json>(event.source()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    collect_at(&doc, path, &mut found);
    found
        .into_iter()
        .filter(|v| v.is_object())
        .filter_map(|v| talon_event::flatten::flatten(&v.to_string()).ok())
        .collect()
}

/// The objects at `path` below `v`, as Elasticsearch makes nested
/// documents of them. Dotted keys stand for the objects they name, as
/// Elasticsearch expands them: `{"a.b": {"c": ..}}` and `{"a": {"b.c":
/// ..}}` both reach `a.b.c`, and a key below the path (`"a.b.c": 1` for
/// the path `a.b`) is an object `{"c": 1}` of its own: each dotted key is
/// expanded alone, so two of them are two nested documents, not one.
fn collect_at(v: &Json, path: &str, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) => {
            for i in items {
                collect_at(i, path, out);
            }
        }
        Json::Object(obj) => {
            if path.is_empty() {
                out.push(v.clone());
                return;
            }
            for (key, child) in obj {
                let rest = path.strip_prefix(key.as_str());
                let below = key.strip_prefix(path).and_then(|r| r.strip_prefix('.'));
                match (rest, below) {
                    (Some(""), _) => collect_at(child, "", out),
                    (Some(rest), _) if rest.starts_with('.') => collect_at(child, &rest[1..], out),
                    (_, Some(below)) => {
                        let mut one = serde_json::Map::new();
                        one.insert(below.to_string(), child.clone());
                        out.push(Json::Object(one));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
