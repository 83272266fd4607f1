//! The alert reason (`kibana.alert.reason`): the one-line sentence Kibana
//! shows for every alert, worded exactly as Kibana words it.
//!
//! Kibana's detection engine (`rule_types/utils/reason_formatters.ts`,
//! `buildReasonMessageUtil`) fills one ICU message for every rule type:
//!
//! ```text
//! {category }event[ with][ process P,][ parent process PP,][ file F,]
//! [ source IP][:PORT,][ destination IP][:PORT,][ by USER][ on HOST] created SEV alert NAME.
//! ```
//!
//! from ten fields of the event: `event.category`, `process.name`,
//! `process.parent.name`, `file.name`, `source.ip`, `source.port`,
//! `destination.ip`, `destination.port`, `user.name`, `host.name`. "with"
//! appears when any field other than the category, user and host is shown.
//!
//! A field is shown only when Kibana's value test lets it through, and that
//! test has quirks this module keeps on purpose, so a talon reason equals a
//! Kibana reason for the same event:
//!
//! - a string is shown unless it is empty or `-`;
//! - an array is shown (joined with `", "`) unless it is empty or `["-"]`;
//! - a number, boolean or object is **not** shown, because the test asks
//!   for a `length`: a numeric `source.port` (the ECS type) never appears,
//!   a string `"443"` does;
//! - a value whose text is `null` is dropped by the ICU `select`.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::path::lookup;

/// The reason sentence for an alert of rule `name` with `severity`, from the
/// fields of `doc` (the event, or the fields common to a sequence).
pub fn reason_message(name: &str, severity: &str, doc: &Map<String, Value>) -> String {
    reason_with(name, severity, |path| template_value(lookup(doc, path)))
}

/// [`reason_message`] with the fields' texts ([`template_value`] of the
/// value at a dotted path) from `field`, for documents that are not maps.
pub(crate) fn reason_with(
    name: &str,
    severity: &str,
    mut field: impl FnMut(&str) -> Option<String>,
) -> String {
    let category = field("event.category");
    let process = field("process.name");
    let parent = field("process.parent.name");
    let file = field("file.name");
    let source_ip = field("source.ip");
    let source_port = field("source.port");
    let destination_ip = field("destination.ip");
    let destination_port = field("destination.port");
    let user = field("user.name");
    let host = field("host.name");

    // Kibana decides "with" from the values before the ICU select drops a
    // literal "null", so a process named "null" still brings the "with".
    let of_interest = [&process, &parent, &file, &source_ip, &source_port];
    let has_interest = of_interest.iter().any(|v| v.is_some())
        || destination_ip.is_some()
        || destination_port.is_some();

    let mut out = String::with_capacity(96 + name.len());
    if let Some(c) = shown(&category) {
        out.push_str(c);
        out.push(' ');
    }
    out.push_str("event");
    if has_interest {
        out.push_str(" with");
    }
    // Writing into a String cannot fail; the results are ignored for that.
    if let Some(p) = shown(&process) {
        let _ = write!(out, " process {p},");
    }
    if let Some(p) = shown(&parent) {
        let _ = write!(out, " parent process {p},");
    }
    if let Some(f) = shown(&file) {
        let _ = write!(out, " file {f},");
    }
    if let Some(ip) = shown(&source_ip) {
        let _ = write!(out, " source {ip}");
    }
    if let Some(port) = shown(&source_port) {
        let _ = write!(out, ":{port},");
    }
    if let Some(ip) = shown(&destination_ip) {
        let _ = write!(out, " destination {ip}");
    }
    if let Some(port) = shown(&destination_port) {
        let _ = write!(out, ":{port},");
    }
    if let Some(u) = shown(&user) {
        let _ = write!(out, " by {u}");
    }
    if let Some(h) = shown(&host) {
        let _ = write!(out, " on {h}");
    }
    let _ = write!(out, " created {severity} alert {name}.");
    out
}

/// Kibana's `getFieldTemplateValue`: the text of a field, or `None` when the
/// reason leaves it out (see the module comment for the rules).
pub(crate) fn template_value(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => shown_string(s).then(|| s.clone()),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) if items.len() == 1 && items[0] == "-" => None,
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(js_text).collect();
            Some(texts.join(", "))
        }
        // No `length`: JavaScript's test rejects the value.
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Object(_) => None,
    }
}

/// [`template_value`] of a value the caller owns, which a string is
/// moved out of rather than copied.
pub(crate) fn template_text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) => shown_string(&s).then_some(s),
        other => template_value(Some(&other)),
    }
}

/// Whether Kibana's value test lets a string through.
fn shown_string(s: &str) -> bool {
    !s.is_empty() && s != "-"
}

/// What the ICU `select` prints: nothing for a missing value and for the
/// text `null`, which selects the message's `null` branch.
fn shown(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| *text != "null")
}

/// How JavaScript's `Array.prototype.join` renders one element.
fn js_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js_number(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(js_text).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// A JSON number as JavaScript prints it: `3` for `3.0`.
fn js_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() < 1e21 => format!("{x:.0}"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(doc: Value) -> String {
        let doc = match doc {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        reason_message("Rule X", "high", &doc)
    }

    #[test]
    fn a_process_event_names_process_parent_user_and_host() {
        let r = reason(json!({
            "event": {"category": ["process"]},
            "process": {"name": "sysctl", "parent": {"name": "bash"}},
            "user": {"name": "root"},
            "host": {"name": "web-01"}
        }));
        assert_eq!(
            r,
            "process event with process sysctl, parent process bash, by root on web-01 \
             created high alert Rule X."
        );
    }

    #[test]
    fn an_event_with_no_reason_fields_says_only_event() {
        assert_eq!(
            reason(json!({"message": "hi"})),
            "event created high alert Rule X."
        );
    }

    #[test]
    fn user_and_host_alone_bring_no_with() {
        let r = reason(json!({"user.name": "alice", "host.name": "h1"}));
        assert_eq!(r, "event by alice on h1 created high alert Rule X.");
    }

    #[test]
    fn numeric_ports_are_left_out_as_kibana_does() {
        let r = reason(json!({
            "event.category": "network",
            "source": {"ip": "10.0.0.1", "port": 52000},
            "destination": {"ip": "8.8.8.8", "port": "53"}
        }));
        assert_eq!(
            r,
            "network event with source 10.0.0.1 destination 8.8.8.8:53, created high alert Rule X."
        );
    }

    #[test]
    fn arrays_are_joined_and_dashes_or_empties_dropped() {
        let r = reason(json!({
            "event": {"category": ["process", "network"]},
            "file": {"name": "-"},
            "process": {"name": ""},
            "user": {"name": ["root", "admin"]},
            "host": {"name": ["-"]}
        }));
        assert_eq!(
            r,
            "process, network event by root, admin created high alert Rule X."
        );
    }

    #[test]
    fn a_literal_null_text_is_dropped_but_still_brings_with() {
        let r = reason(json!({"process": {"name": "null"}}));
        assert_eq!(r, "event with created high alert Rule X.");
    }

    #[test]
    fn array_elements_print_as_javascript_prints_them() {
        let r = reason(json!({"host": {"name": [1, 2.0, 2.5, true, null]}}));
        assert_eq!(r, "event on 1, 2, 2.5, true,  created high alert Rule X.");
    }
}
