//! The fields a sequence's events have in common, for its shell alert.
//!
//! Kibana builds the shell from the intersection of its building blocks
//! (`objectArrayIntersection` in `build_alert_group_from_sequence.ts`):
//!
//! - a field is kept when every document has it with the same value;
//! - two arrays keep the values they share (first array's order, no
//!   repeats), an array and a single value keep that value if the array
//!   holds it; an empty result is kept as `[]`;
//! - objects are compared field by field, and nested and dotted spellings
//!   of a field (`{"user": {"email": ..}}`, `{"user.email": ..}`) are the
//!   same field; a field spelled with the same top-level key everywhere
//!   keeps that spelling, otherwise it comes out nested.
//!
//! One difference: Kibana compares array elements that are objects by
//! reference (so they never match across documents); talon compares them by
//! value, which keeps an identical list of objects that Kibana would empty.

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

/// The intersection of all `docs` (the first document alone when there is
/// one, an empty map when there is none).
pub(crate) fn intersect_all(docs: &[Map<String, Value>]) -> Map<String, Value> {
    let Some((first, rest)) = docs.split_first() else {
        return Map::new();
    };
    let mut acc = first.clone();
    for doc in rest {
        acc = intersect(&acc, doc);
    }
    acc
}

/// One leaf of a document: the top-level key it sits under, the keys below
/// that, and its full dotted path (the identity used for matching).
struct Leaf<'a> {
    top: &'a str,
    nested: Vec<&'a str>,
    full: String,
    value: &'a Value,
}

fn intersect(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut in_b: FxHashMap<String, Leaf<'_>> = FxHashMap::default();
    for leaf in leaves(b) {
        in_b.entry(leaf.full.clone()).or_insert(leaf);
    }

    let mut out = Map::new();
    for leaf in leaves(a) {
        let Some(other) = in_b.get(&leaf.full) else {
            continue;
        };
        let Some(value) = intersect_values(leaf.value, other.value) else {
            continue;
        };
        if leaf.top == other.top {
            let mut path = vec![leaf.top];
            path.extend(leaf.nested.iter().copied());
            insert_path(&mut out, &path, value);
        } else {
            let path: Vec<&str> = leaf.full.split('.').collect();
            insert_path(&mut out, &path, value);
        }
    }
    out
}

fn leaves(doc: &Map<String, Value>) -> Vec<Leaf<'_>> {
    let mut out = Vec::with_capacity(doc.len() * 2);
    for (key, value) in doc {
        walk(key, Vec::new(), key.clone(), value, &mut out);
    }
    out
}

fn walk<'a>(
    top: &'a str,
    nested: Vec<&'a str>,
    full: String,
    value: &'a Value,
    out: &mut Vec<Leaf<'a>>,
) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let mut deeper = nested.clone();
                deeper.push(key);
                walk(top, deeper, format!("{full}.{key}"), inner, out);
            }
        }
        leaf => out.push(Leaf {
            top,
            nested,
            full,
            value: leaf,
        }),
    }
}

fn intersect_values(a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => Some(shared(x, y)),
        (Value::Array(x), single) => Some(shared(x, std::slice::from_ref(single))),
        (single, Value::Array(y)) => Some(shared(std::slice::from_ref(single), y)),
        _ => (a == b).then(|| a.clone()),
    }
}

/// lodash `intersection`: values of `x` also in `y`, first occurrence only.
fn shared(x: &[Value], y: &[Value]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for value in x {
        if y.contains(value) && !out.contains(value) {
            out.push(value.clone());
        }
    }
    Value::Array(out)
}

/// Puts `value` at `path`, creating objects on the way; a path blocked by a
/// non-object (two spellings of one field) keeps what was there first.
fn insert_path(out: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = out;
    for key in parents {
        let slot = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match slot {
            Value::Object(inner) => map = inner,
            _ => return,
        }
    }
    map.entry((*last).to_owned()).or_insert(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn meet(docs: Vec<Value>) -> Value {
        let docs: Vec<Map<String, Value>> = docs.into_iter().map(map).collect();
        Value::Object(intersect_all(&docs))
    }

    #[test]
    fn keeps_equal_fields_and_shared_array_values() {
        let out = meet(vec![
            json!({"host": {"name": "h", "ip": ["10.0.0.1", "10.0.0.2"]}, "pid": 1, "a": [1, 2]}),
            json!({"host": {"name": "h", "ip": "10.0.0.2"}, "pid": 2, "a": [3]}),
        ]);
        assert_eq!(
            out,
            json!({"host": {"name": "h", "ip": ["10.0.0.2"]}, "a": []})
        );
    }

    #[test]
    fn dotted_and_nested_spellings_meet_and_come_out_nested() {
        let out = meet(vec![
            json!({"user.email": "m@e.co", "kibana.alert.depth": 1}),
            json!({"user": {"email": "m@e.co"}, "kibana.alert.depth": 1}),
        ]);
        assert_eq!(
            out.to_string(),
            r#"{"user":{"email":"m@e.co"},"kibana.alert.depth":1}"#
        );
    }

    #[test]
    fn numbers_and_strings_differ_and_nulls_meet() {
        let out = meet(vec![
            json!({"a": 1, "b": 1, "c": null, "d": {"x": 1}}),
            json!({"a": 1, "b": "1", "c": null, "d": 5}),
            json!({"a": 1, "c": null}),
        ]);
        assert_eq!(out, json!({"a": 1, "c": null}));
    }

    #[test]
    fn nothing_in_common_is_an_empty_map() {
        assert_eq!(meet(vec![json!({"a": 1}), json!({"b": 1})]), json!({}));
        assert_eq!(meet(vec![]), json!({}));
    }
}
