//! JSON Lines alerts written as bytes: the rule's fields serialized once
//! per builder, the event's part streamed from its source text.
//!
//! An event alert is the framework head, then the event's fields, then the
//! detection engine's alert fields ([`super`] has the order). Only seven of
//! those fields differ between two alerts of one rule (original time,
//! ancestors, reason, uuid, and the severity, risk score and rule name an
//! override may take from the event), so a [`Template`] holds everything
//! else as bytes and leaves a hole for each of the seven. The event's part
//! is written from its [`Tape`], cleaned as [`super::source`] cleans it.
//!
//! What makes splicing bytes equal to building the map is that no key is
//! written twice, which the template checks once, when it is made:
//!
//! - the head's keys are `kibana.*` (never copied from an event) or are
//!   overwritten by an alert field (`@timestamp` is the alert time), so the
//!   event's `@timestamp` is left out; a head key an alert field also
//!   writes keeps the head's place and takes the alert field's value, as
//!   the map's insert does (the rule name an override gives, the
//!   parameters whose severity mapping Kibana sorted);
//! - every alert field after the event's is `event.kind` (removed from the
//!   event) or a `kibana.*` key that is not an `original_event` or
//!   `original_data_stream` copy.
//!
//! Anything the template or the tape cannot vouch for (a rule whose fields
//! break those rules, an [`Unusual`] event, two copies landing on one key)
//! is written from the map, so the bytes are the same either way; the
//! differential tests hold the two paths to that.

use rustc_hash::FxHashSet;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::ids::Ancestor;
use super::source::{copy_destination, is_banned, is_copy_key};
use super::tape::{Kind, Tape, Unusual};
use crate::fields::{
    ALERT_ANCESTORS, ALERT_ORIGINAL_TIME, ALERT_REASON, ALERT_RISK_SCORE, ALERT_RULE_NAME,
    ALERT_SEVERITY, ALERT_UUID, EVENT_KIND,
};

/// The fields of one rule's alerts as bytes: the head, and an event
/// alert less its event (bytes, and holes).
#[derive(Clone, Debug)]
pub(crate) struct Template {
    /// `{` and the head's fields, without the closing brace; `None` for an
    /// empty head, after which the first field would need no comma.
    head: Option<Vec<u8>>,
    /// `None` when splicing would not give the map's bytes.
    event: Option<EventTemplate>,
}

#[derive(Clone, Debug)]
struct EventTemplate {
    /// `{` and the head's fields, each with the value the alert fields
    /// give it if they do.
    head: Vec<Part>,
    /// Head keys an event may also have (`@timestamp`): the head keeps
    /// their place and the alert their value, so the event's is dropped.
    head_event_keys: Vec<String>,
    /// What follows the event's fields, up to the closing brace.
    tail: Vec<Part>,
}

#[derive(Clone, Debug)]
enum Part {
    /// Fields of the rule and the run, each with its leading comma.
    Fixed(Vec<u8>),
    /// `,"<key>":` and what to write after it.
    Hole(Vec<u8>, Hole),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hole {
    /// Left out, key and all, when the event has no readable time.
    OriginalTime,
    Ancestors,
    Reason,
    Severity,
    RiskScore,
    RuleName,
    Uuid,
}

impl Hole {
    /// The hole an alert field of this key leaves, if it differs between
    /// alerts of one rule.
    fn of(key: &str) -> Option<Hole> {
        match key {
            ALERT_ORIGINAL_TIME => Some(Hole::OriginalTime),
            ALERT_ANCESTORS => Some(Hole::Ancestors),
            ALERT_REASON => Some(Hole::Reason),
            ALERT_SEVERITY => Some(Hole::Severity),
            ALERT_RISK_SCORE => Some(Hole::RiskScore),
            ALERT_RULE_NAME => Some(Hole::RuleName),
            ALERT_UUID => Some(Hole::Uuid),
            _ => None,
        }
    }
}

/// What an event alert has of its own.
pub(crate) struct EventParts<'a> {
    pub original_time: Option<&'a str>,
    /// The event, the alert's one ancestor.
    pub ancestor: &'a Ancestor,
    pub reason: &'a str,
    /// What the alert says of its rule, overrides applied.
    pub severity: &'a str,
    pub risk_score: &'a Number,
    pub rule_name: &'a str,
    pub uuid: &'a str,
}

impl Template {
    /// The template for alerts whose head is `head` and whose alert fields,
    /// written into an empty map with placeholder values, are `fields`.
    pub fn new(head: &Map<String, Value>, fields: &Map<String, Value>) -> Template {
        let mut bytes = Vec::with_capacity(4096);
        push_json(&mut bytes, head);
        let head_bytes = (!head.is_empty() && bytes.pop() == Some(b'}')).then_some(bytes);
        let event = head_bytes
            .as_ref()
            .and_then(|_| EventTemplate::new(head, fields));
        Template {
            head: head_bytes,
            event,
        }
    }

    /// Whether event alerts can be spliced (see the module comment).
    pub fn splices_events(&self) -> bool {
        self.event.is_some()
    }

    /// The head as bytes: `{` and its fields, not closed.
    pub fn head(&self) -> Option<&[u8]> {
        self.head.as_deref()
    }

    /// Appends the JSON Lines line of the alert for the event read into
    /// `tape`. On [`Unusual`], `out` may hold part of a line: the caller
    /// cuts it back.
    pub fn write_event(
        &self,
        tape: &Tape<'_>,
        parts: &EventParts<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Unusual> {
        let Some(event) = &self.event else {
            return Err(Unusual);
        };
        out.reserve(tape.source().len() * 2 + event.len());
        for part in &event.head {
            part.write(parts, out);
        }
        write_event_fields(tape, &event.head_event_keys, out)?;
        for part in &event.tail {
            part.write(parts, out);
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

impl Part {
    /// Appends the part; a hole, filled from `parts`.
    fn write(&self, parts: &EventParts<'_>, out: &mut Vec<u8>) {
        let (name, hole) = match self {
            Part::Fixed(bytes) => return out.extend_from_slice(bytes),
            Part::Hole(name, hole) => (name, *hole),
        };
        if hole == Hole::OriginalTime && parts.original_time.is_none() {
            return;
        }
        out.extend_from_slice(name);
        match hole {
            Hole::OriginalTime => push_json(out, &parts.original_time),
            Hole::Ancestors => push_json(out, std::slice::from_ref(parts.ancestor)),
            Hole::Reason => push_json(out, parts.reason),
            Hole::Severity => push_json(out, parts.severity),
            Hole::RiskScore => push_json(out, parts.risk_score),
            Hole::RuleName => push_json(out, parts.rule_name),
            Hole::Uuid => push_json(out, parts.uuid),
        }
    }

    /// Its length, with a guess for a hole.
    fn len(&self) -> usize {
        match self {
            Part::Fixed(bytes) => bytes.len(),
            Part::Hole(name, _) => name.len() + 160,
        }
    }
}

impl EventTemplate {
    /// `None` when a key could be written twice (see the module comment).
    fn new(head: &Map<String, Value>, fields: &Map<String, Value>) -> Option<EventTemplate> {
        let mut head_event_keys = Vec::new();
        for key in head.keys() {
            if is_copy_key(key) {
                return None;
            }
            if !is_banned(key) {
                // The event's value would win unless an alert field
                // overwrites it.
                fields.get(key)?;
                head_event_keys.push(key.clone());
            }
        }

        // The head in its order, with the values the alert fields give.
        let mut head_parts = Parts::new(b"{");
        for (i, (key, value)) in head.iter().enumerate() {
            let value = fields.get(key).unwrap_or(value);
            head_parts.field(key, value, i > 0);
        }

        let mut tail = Parts::new(b"");
        for (key, value) in fields {
            if head.contains_key(key) {
                continue;
            }
            let after_event = key == EVENT_KIND || (is_banned(key) && !is_copy_key(key));
            if !after_event {
                return None;
            }
            tail.field(key, value, true);
        }
        Some(EventTemplate {
            head: head_parts.finish(),
            head_event_keys,
            tail: tail.finish(),
        })
    }

    /// The template's length, with a guess for each hole.
    fn len(&self) -> usize {
        self.head.iter().chain(&self.tail).map(Part::len).sum()
    }
}

/// Fields written as bytes, a hole left for each whose value differs
/// between alerts ([`Hole::of`]).
struct Parts {
    parts: Vec<Part>,
    fixed: Vec<u8>,
}

impl Parts {
    fn new(start: &[u8]) -> Parts {
        let mut fixed = Vec::with_capacity(8192);
        fixed.extend_from_slice(start);
        Parts {
            parts: Vec::new(),
            fixed,
        }
    }

    /// Appends `"key":value`, after a comma when `comma`.
    fn field(&mut self, key: &str, value: &Value, comma: bool) {
        let mut name = Vec::with_capacity(key.len() + 4);
        if comma {
            name.push(b',');
        }
        push_json(&mut name, key);
        name.push(b':');
        match Hole::of(key) {
            Some(hole) => {
                if !self.fixed.is_empty() {
                    self.parts
                        .push(Part::Fixed(std::mem::take(&mut self.fixed)));
                }
                self.parts.push(Part::Hole(name, hole));
            }
            None => {
                self.fixed.extend_from_slice(&name);
                push_json(&mut self.fixed, value);
            }
        }
    }

    fn finish(mut self) -> Vec<Part> {
        if !self.fixed.is_empty() {
            self.parts.push(Part::Fixed(self.fixed));
        }
        self.parts
    }
}

/// The event's fields as [`super::source::alert_body`] makes them, each
/// with a leading comma: banned roots and emptied values left out,
/// `event.kind` removed, `event.*` and `data_stream.*` copied after.
fn write_event_fields(
    tape: &Tape<'_>,
    head_event_keys: &[String],
    out: &mut Vec<u8>,
) -> Result<(), Unusual> {
    let mut copies: Vec<(&'static str, &str, usize)> = Vec::new();
    for (key_node, value) in tape.members(0) {
        let key = tape.key(key_node);
        if is_banned(key) || !tape.is_live(value) {
            continue;
        }
        if let Some((alert_root, rest)) = copy_destination(key) {
            copies.push((alert_root, rest, value));
        }
        if key == EVENT_KIND || head_event_keys.iter().any(|k| k == key) {
            continue;
        }
        out.push(b',');
        out.extend_from_slice(tape.text(key_node).as_bytes());
        out.push(b':');
        if key == "event" && tape.kind(value) == Kind::Object {
            tape.write_object(value, Some("kind"), out)?;
        } else {
            tape.write(value, out)?;
        }
    }

    let mut name = String::with_capacity(64);
    let mut names = Vec::new();
    for (alert_root, rest, value) in copies {
        name.clear();
        name.push_str(alert_root);
        name.push_str(rest);
        write_copy(tape, &mut name, value, out, &mut names)?;
    }
    if repeats(out, &names) {
        // Two spellings of one field (`event.code` and `{"event":
        // {"code"}}`) copy to one key; the map keeps the later value at
        // the earlier place.
        return Err(Unusual);
    }
    Ok(())
}

/// `flattenWithPrefix` as bytes: objects become dotted names, anything
/// else is written under `name`. Records where in `out` each name went.
fn write_copy(
    tape: &Tape<'_>,
    name: &mut String,
    node: usize,
    out: &mut Vec<u8>,
    names: &mut Vec<(usize, usize)>,
) -> Result<(), Unusual> {
    if tape.kind(node) != Kind::Object {
        // Names are made of keys without escapes, so they need none.
        out.extend_from_slice(b",\"");
        names.push((out.len(), name.len()));
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        return tape.write(node, out);
    }
    for (key, value) in tape.members(node) {
        if !tape.is_live(value) {
            continue;
        }
        let len = name.len();
        name.push('.');
        name.push_str(tape.key(key));
        write_copy(tape, name, value, out, names)?;
        name.truncate(len);
    }
    Ok(())
}

/// Whether two of the `(start, len)` names written in `out` are the same.
fn repeats(out: &[u8], names: &[(usize, usize)]) -> bool {
    let text = |&(start, len): &(usize, usize)| &out[start..start + len];
    if names.len() <= 32 {
        return names
            .iter()
            .enumerate()
            .any(|(i, a)| names[i + 1..].iter().any(|b| text(a) == text(b)));
    }
    let mut seen = FxHashSet::default();
    !names.iter().all(|name| seen.insert(text(name)))
}

/// Writes the fields of `rest` after a head written as `head_bytes`, as
/// serializing `head` extended by `rest` writes them; `false` (nothing
/// written) when `rest` gives a head key another value, which only the map
/// can place.
pub(crate) fn write_after_head(
    head: &Map<String, Value>,
    head_bytes: &[u8],
    rest: &Map<String, Value>,
    out: &mut Vec<u8>,
) -> bool {
    let same_head = rest
        .iter()
        .all(|(key, value)| !matches!(head.get(key), Some(h) if h != value));
    if !same_head {
        return false;
    }
    out.extend_from_slice(head_bytes);
    for (key, value) in rest {
        if !head.contains_key(key) {
            push_field_name(out, key);
            push_json(out, value);
        }
    }
    out.extend_from_slice(b"}\n");
    true
}

/// `,"<key>":`
fn push_field_name(out: &mut Vec<u8>, key: &str) {
    out.push(b',');
    push_json(out, key);
    out.push(b':');
}

/// Appends `value` as compact JSON.
pub(crate) fn push_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing JSON values into a Vec cannot fail: every map key is a string
    // and a Vec takes every byte.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    //! Which documents take the spliced path. That the bytes are the map
    //! path's is `tests/jsonl_fast_path.rs`'s job; this pins that the
    //! shortcut is taken where it should be, so those tests test it.

    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;
    use talon_event::Event;
    use talon_rules::{Rule, RuleFormat};

    use super::*;
    use crate::{AlertBuilder, AlertContext};

    const RULE: &str = r#"
[metadata]
creation_date = "2024/11/04"
updated_date = "2026/03/24"

[rule]
author = ["Elastic"]
description = "Test rule."
from = "now-9m"
index = ["logs-*"]
language = "eql"
license = "Elastic License v2"
name = "Test Rule"
note = "Triage: look at the parent process."
risk_score = 21
rule_id = "00000000-0000-4000-8000-000000000001"
severity = "low"
tags = ["OS: Linux"]
type = "eql"
query = 'process where process.name == "x"'
"#;

    fn rule() -> Rule {
        let (rules, errors) = talon_rules::load_str(RULE, Path::new("test.toml"), RuleFormat::Toml);
        assert!(errors.is_empty(), "{errors:?}");
        rules
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no rule"))
    }

    fn spliced(builder: &AlertBuilder<'_>, text: &str) -> bool {
        let event = Event::new(Default::default(), Arc::from(text));
        builder.fast_event_jsonl(&event, &mut Vec::new()).is_some()
    }

    #[test]
    fn usual_documents_are_spliced() {
        let rule = rule();
        let builder = AlertBuilder::new(&rule, &AlertContext::new(Default::default()));
        assert!(
            builder.template().event.is_some(),
            "the template refused the rule"
        );
        for text in [
            r#"{"@timestamp":"2024-01-01T00:00:00Z","event":{"kind":"event","category":["process"]},"process":{"name":"x","pid":1}}"#,
            r#"{"event.kind":"x","event.code":"1","data_stream":{"type":"logs"},"host.name":"h"}"#,
            r#"{"kibana":{"a":1},"signal":2,"a":[],"b":{"c":{}},"n":[1.0,1e5,-0,18446744073709551616]}"#,
            r#"{"m":"tab\t \"q\" \\ \/ \u00e9 \ud83d\ude00","event":{"kind":{}}}"#,
            r#"{}"#,
        ] {
            assert!(spliced(&builder, text), "{text}");
        }
    }

    #[test]
    fn a_rule_with_overrides_is_spliced_too() {
        let text = format!(
            "{RULE}rule_name_override = \"message\"\n\
             [[rule.severity_mapping]]\nfield = \"a\"\nvalue = \"x\"\nseverity = \"high\"\n\
             [[rule.severity_mapping]]\nfield = \"a\"\nvalue = \"y\"\nseverity = \"low\"\n\
             [[rule.risk_score_mapping]]\nfield = \"r\"\n"
        );
        let (rules, errors) =
            talon_rules::load_str(&text, Path::new("test.toml"), RuleFormat::Toml);
        assert!(errors.is_empty(), "{errors:?}");
        let rule = &rules[0];
        let builder = AlertBuilder::new(rule, &AlertContext::new(Default::default()));
        for text in [
            r#"{"a":"x","r":"42","message":"named"}"#,
            r#"{"a":["y","x"],"r":[1,2],"message":["not","a","name"]}"#,
            r#"{}"#,
        ] {
            assert!(spliced(&builder, text), "{text}");
        }
    }

    #[test]
    fn unusual_documents_take_the_map() {
        let rule = rule();
        let builder = AlertBuilder::new(&rule, &AlertContext::new(Default::default()));
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"a":1,"b":1,"a":2}}"#,
            r#"{"k\u0065y":1}"#,
            r#"{"event":{"code":1},"event.code":2}"#,
            r#"{"a":1e400}"#,
            r#"{"a":"\ud800"}"#,
            r#"[1]"#,
            r#"{"a":1} 2"#,
        ] {
            assert!(!spliced(&builder, text), "{text}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(120), "]".repeat(120));
        assert!(!spliced(&builder, &deep));
    }

    fn map(value: serde_json::Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_template_refuses_what_would_write_a_key_twice() {
        let head = map(json!({"kibana.version": "9", "@timestamp": "now"}));
        let fields = |extra: Value| {
            let mut fields = map(json!({"@timestamp": "now", "event.kind": "signal"}));
            fields.extend(map(extra));
            fields
        };
        let accepts = |head: &Map<String, Value>, fields: &Map<String, Value>| {
            Template::new(head, fields).event.is_some()
        };
        assert!(accepts(&head, &fields(json!({"kibana.alert.uuid": ""}))));
        // A head key an event may have that no alert field overwrites.
        let mut with_host = head.clone();
        with_host.insert("host.name".into(), json!("h"));
        assert!(!accepts(&with_host, &fields(json!({}))));
        // Alert fields an event may also have, or its copies may make.
        assert!(!accepts(&head, &fields(json!({"host.name": "h"}))));
        let copy = json!({"kibana.alert.original_event.action": "x"});
        assert!(!accepts(&head, &fields(copy)));
        // An empty head leaves no bytes to splice after.
        assert!(Template::new(&Map::new(), &fields(json!({})))
            .head()
            .is_none());
    }

    #[test]
    fn a_head_key_an_alert_field_writes_keeps_its_place_and_takes_the_value() {
        let head =
            map(json!({"kibana.version": "9", "kibana.alert.rule.name": "r", "@timestamp": "now"}));
        let fields =
            map(json!({"@timestamp": "now", "event.kind": "signal", "kibana.version": "8"}));
        let template = Template::new(&head, &fields);
        let Some(event) = template.event else {
            panic!("the template refused the fields");
        };
        let shown: Vec<String> = event
            .head
            .iter()
            .map(|part| match part {
                Part::Fixed(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                Part::Hole(name, hole) => format!("{}<{hole:?}>", String::from_utf8_lossy(name)),
            })
            .collect();
        assert_eq!(
            shown,
            [
                r#"{"kibana.version":"8""#,
                r#","kibana.alert.rule.name":<RuleName>"#,
                r#","@timestamp":"now""#
            ]
        );
    }

    #[test]
    fn a_rest_that_changes_the_head_is_left_to_the_map() {
        let head = map(json!({"kibana.version": "9", "@timestamp": "now"}));
        let bytes = br#"{"kibana.version":"9","@timestamp":"now""#;
        let mut out = Vec::new();
        let same = map(json!({"@timestamp": "now", "a": 1}));
        assert!(write_after_head(&head, bytes, &same, &mut out));
        let mut expected = br#"{"kibana.version":"9","@timestamp":"now","a":1}"#.to_vec();
        expected.push(b'\n');
        assert_eq!(out, expected);
        let mut out = Vec::new();
        let changed = map(json!({"@timestamp": "then"}));
        assert!(!write_after_head(&head, bytes, &changed, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn many_keys_are_checked_for_repeats_too() {
        let rule = rule();
        let builder = AlertBuilder::new(&rule, &AlertContext::new(Default::default()));
        let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let distinct = format!("{{{}}}", keys.join(","));
        assert!(spliced(&builder, &distinct));
        let repeated = format!("{{{},\"k7\":0}}", keys.join(","));
        assert!(!spliced(&builder, &repeated));
    }
}
