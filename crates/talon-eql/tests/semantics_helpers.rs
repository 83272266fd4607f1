//! Test helpers shared by the semantics, functions and bug-report suites
//! (included with `#[path]`): events from JSON, mappings from a short
//! list, and compile-and-match shorthands that report errors readably.
#![allow(dead_code)]

use rustc_hash::FxHashMap;
use serde_json::Value as J;
use talon_eql::{compile_str, CompileOptions, CompiledQuery};
use talon_event::mapping::{FieldMapping, FieldType, Mapping};
use talon_event::{Event, Value};

/// Flattens a JSON document into an event the way the readers do: nested
/// objects and dotted keys land on the same path, arrays append, nulls drop.
pub fn ev(doc: J) -> Event {
    let mut e = Event::default();
    flatten(&mut e, "", &doc);
    e
}

fn flatten(e: &mut Event, prefix: &str, v: &J) {
    match v {
        J::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(e, &p, v);
            }
        }
        J::Array(items) => {
            for i in items {
                flatten(e, prefix, i);
            }
        }
        J::Null => {}
        J::Bool(b) => e.push(prefix, Value::Bool(*b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => e.push(prefix, Value::Int(i)),
            None => e.push(prefix, Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        J::String(s) => e.push(prefix, Value::str(s)),
    }
}

/// An explicit mapping from (path, es type) pairs and (alias, target) pairs.
pub fn mapping(fields: &[(&str, &str)], aliases: &[(&str, &str)]) -> Mapping {
    let mut f = FxHashMap::default();
    for (p, t) in fields {
        f.insert(
            p.to_string(),
            FieldMapping {
                ty: FieldType::from_es_name(t),
                null_value: None,
            },
        );
    }
    let mut a = FxHashMap::default();
    for (x, y) in aliases {
        a.insert(x.to_string(), y.to_string());
    }
    Mapping::from_parts(f, a)
}

/// Compiles with no mapping; panics with the diagnostics on failure.
pub fn q(query: &str) -> CompiledQuery {
    qm_compile(query, &Mapping::default())
}

pub fn qm_compile(query: &str, m: &Mapping) -> CompiledQuery {
    let opts = CompileOptions {
        mapping: m,
        ..CompileOptions::default()
    };
    match compile_str(query, &opts) {
        Ok(c) => c,
        Err(ds) => panic!(
            "{query}: {}",
            ds.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// Does `query` (no mapping) match `doc`?
pub fn m(query: &str, doc: J) -> bool {
    q(query).matches(&ev(doc))
}

/// Does `query` under mapping `map` match `doc`?
pub fn mm(query: &str, map: &Mapping, doc: J) -> bool {
    qm_compile(query, map).matches(&ev(doc))
}

/// The first error message of a query that must fail to compile.
pub fn err(query: &str) -> String {
    err_m(query, &Mapping::default())
}

pub fn err_m(query: &str, map: &Mapping) -> String {
    let opts = CompileOptions {
        mapping: map,
        ..CompileOptions::default()
    };
    match compile_str(query, &opts) {
        Ok(_) => panic!("{query}: expected a compile error"),
        Err(ds) => ds.first().map(|d| d.message.clone()).unwrap_or_default(),
    }
}

/// The span (start, end) of the first error.
pub fn err_span(query: &str) -> (u32, u32) {
    match compile_str(query, &CompileOptions::default()) {
        Ok(_) => panic!("{query}: expected a compile error"),
        Err(ds) => ds
            .first()
            .map(|d| (d.span.start, d.span.end))
            .unwrap_or((0, 0)),
    }
}
