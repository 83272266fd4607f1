//! From an event's source text to the event part of an alert document.
//!
//! This is Kibana's `traverseAndMutateDoc` step, applied once per event:
//!
//! - top-level `kibana*`, `signal*` and `threshold_result*` fields are
//!   removed, since the alert writes its own and an alert on an alert must
//!   not inherit the older alert's fields;
//! - empty arrays and objects are removed at any depth (after cleaning
//!   their contents), as Kibana does;
//! - every `event.*` field is copied to `kibana.alert.original_event.*` and
//!   every `data_stream.*` field to `kibana.alert.original_data_stream.*`,
//!   flattened to dotted keys and appended after the event's own fields;
//! - `event.kind` is removed (nested or dotted), because the alert sets
//!   `event.kind: "signal"` as a dotted key of its own.
//!
//! Everything else keeps the key order and nesting the event had.
//!
//! TODO: drop the fields Kibana drops as conflicting with ECS
//! (`computeIsEcsCompliant`: `event.action.keyword`, a non-numeric
//! `process.pid`, ...); talon keeps them.

use serde_json::{Map, Value};
use talon_event::{time, Event};

use crate::error::AlertError;
use crate::fields;
use crate::path::lookup;

/// Top-level names whose fields are never copied from an event.
const BANNED_ROOTS: [&str; 3] = ["kibana", "signal", "threshold_result"];

/// Event namespaces that are also kept under an alert namespace, because the
/// alert overwrites part of them (`event.kind`) or ECS maps them differently.
const COPIED_ROOTS: [(&str, &str); 2] = [
    ("event", fields::ALERT_ORIGINAL_EVENT),
    ("data_stream", fields::ALERT_ORIGINAL_DATA_STREAM),
];

/// Whether a top-level event key is one an alert never copies: its first
/// dotted segment is a [`BANNED_ROOTS`] name.
pub(crate) fn is_banned(key: &str) -> bool {
    BANNED_ROOTS.contains(&root(key))
}

/// Where a top-level event key is also copied to (flattened), when it is
/// under one of the [`COPIED_ROOTS`], as the alert namespace and the rest
/// of the key: `event.action` -> (`kibana.alert.original_event`,
/// `.action`).
pub(crate) fn copy_destination(key: &str) -> Option<(&'static str, &str)> {
    let root = root(key);
    let (_, alert_root) = COPIED_ROOTS.iter().find(|(r, _)| *r == root)?;
    Some((alert_root, &key[root.len()..]))
}

/// Whether `key` could be a copy [`copy_destination`] makes.
pub(crate) fn is_copy_key(key: &str) -> bool {
    COPIED_ROOTS
        .iter()
        .any(|(_, alert_root)| key.starts_with(alert_root))
}

/// The first dotted segment of a key.
fn root(key: &str) -> &str {
    key.split_once('.').map_or(key, |(root, _)| root)
}

/// Parses the event's source text into a JSON object.
pub(crate) fn parse_source(event: &Event) -> Result<Map<String, Value>, AlertError> {
    let value: Value =
        serde_json::from_str(event.source()).map_err(|source| AlertError::SourceNotJson {
            origin: event.origin.clone(),
            source,
        })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(AlertError::SourceNotObject {
            origin: event.origin.clone(),
            found: json_type(&other),
        }),
    }
}

/// The event fields of an alert, cleaned and with their copies appended.
pub(crate) fn alert_body(source: Map<String, Value>) -> Map<String, Value> {
    let mut body = Map::with_capacity(source.len() + 8);
    let mut copies: Vec<(String, Value)> = Vec::new();

    for (key, value) in source {
        if is_banned(&key) {
            continue;
        }
        let Some(value) = clean(value) else { continue };
        if let Some((alert_root, rest)) = copy_destination(&key) {
            flatten_into(format!("{alert_root}{rest}"), &value, &mut copies);
        }
        body.insert(key, value);
    }

    for (key, value) in copies {
        body.insert(key, value);
    }
    remove_event_kind(&mut body);
    body
}

/// The event's `@timestamp` as Kibana writes `kibana.alert.original_time`
/// (UTC, millisecond precision), if it has a readable one.
///
/// The flattened event is asked first, so a reader that derived
/// `@timestamp` for a document lacking one is honoured; the source is the
/// fallback for events built without flattening.
pub(crate) fn original_time(event: &Event, source: &Map<String, Value>) -> Option<String> {
    original_time_with(event, || {
        lookup(source, fields::TIMESTAMP).and_then(source_nanos)
    })
}

/// [`original_time`], with the source's `@timestamp` read by `from_source`
/// (only called when the flattened event has none).
pub(crate) fn original_time_with(
    event: &Event,
    from_source: impl FnOnce() -> Option<i64>,
) -> Option<String> {
    let nanos = match event.first(fields::TIMESTAMP) {
        Some(value) => time::parse_nanos(value),
        None => from_source(),
    }?;
    Some(time::format_millis(nanos))
}

/// A source `@timestamp` as nanoseconds: a date string, or epoch millis.
pub(crate) fn source_nanos(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => time::parse_str_nanos(s),
        Value::Number(n) => match n.as_i64() {
            Some(ms) => ms.checked_mul(1_000_000),
            None => n.as_f64().and_then(time::float_millis_nanos),
        },
        _ => None,
    }
}

/// Removes empty arrays and objects (after cleaning what they hold);
/// `None` when nothing is left of the value.
fn clean(value: Value) -> Option<Value> {
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.into_iter().filter_map(clean).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        Value::Object(map) => {
            let mut kept = Map::with_capacity(map.len());
            for (key, value) in map {
                if let Some(value) = clean(value) {
                    kept.insert(key, value);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other),
    }
}

/// `flattenWithPrefix`: objects become dotted keys, anything else (arrays
/// included) is a leaf.
pub(crate) fn flatten_into(prefix: String, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                flatten_into(format!("{prefix}.{key}"), inner, out);
            }
        }
        leaf => out.push((prefix, leaf.clone())),
    }
}

/// Drops the event's own `event.kind`, however it is spelled. An `event`
/// object left empty stays, as it does in Kibana (it unsets the key).
fn remove_event_kind(body: &mut Map<String, Value>) {
    body.shift_remove(fields::EVENT_KIND);
    if let Some(Value::Object(event)) = body.get_mut("event") {
        event.shift_remove("kind");
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(alert_body(map)),
            other => other,
        }
    }

    #[test]
    fn event_fields_are_copied_and_event_kind_dropped() {
        let out = body(json!({
            "@timestamp": "2024-01-01T00:00:00Z",
            "event": {"kind": "event", "action": "exec", "category": ["process"]},
            "data_stream.dataset": "endpoint.events.process",
            "host": {"name": "h"}
        }));
        let expected = json!({
            "@timestamp": "2024-01-01T00:00:00Z",
            "event": {"action": "exec", "category": ["process"]},
            "data_stream.dataset": "endpoint.events.process",
            "host": {"name": "h"},
            "kibana.alert.original_event.kind": "event",
            "kibana.alert.original_event.action": "exec",
            "kibana.alert.original_event.category": ["process"],
            "kibana.alert.original_data_stream.dataset": "endpoint.events.process"
        });
        assert_eq!(out, expected);
        assert_eq!(out.to_string(), expected.to_string(), "key order");
    }

    #[test]
    fn alert_fields_and_empties_are_removed() {
        let out = body(json!({
            "kibana.alert.rule.name": "old",
            "kibana": {"space_ids": ["x"]},
            "signal": {"rule": {}},
            "tags": [],
            "labels": {"a": {}, "b": [[], "x"]},
            "event.kind": "alert",
            "event.code": "1"
        }));
        let expected = json!({
            "labels": {"b": ["x"]},
            "event.code": "1",
            "kibana.alert.original_event.kind": "alert",
            "kibana.alert.original_event.code": "1"
        });
        assert_eq!(out.to_string(), expected.to_string());
    }
}
