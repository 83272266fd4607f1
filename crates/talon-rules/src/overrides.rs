//! Kibana's overrides: `severity_mapping`, `risk_score_mapping` and
//! `rule_name_override` let an alert take its severity, risk score or rule
//! name from the event it is made from.
//!
//! The values stay in `Rule::extra` as the file wrote them, since alerts
//! copy them into `kibana.alert.rule.parameters`. This module checks their
//! shape when a rule loads, as Kibana's rule schema does (a mapping Kibana
//! would refuse is an error at its place in the file), and reads them
//! typed for whoever builds alerts ([`Rule::overrides`]); applying them to
//! an event is talon-alert's business.
//!
//! A mapping is a list of tables, each naming an event `field`. A severity
//! entry also gives the `value` that field must have (a string, as Kibana
//! stores it) and the `severity` the alert then gets; of a risk score
//! mapping, Kibana reads only the first entry's field, whose value is the
//! risk score, so the later entries are kept and noted as not applied. An
//! `operator`, when given, must be `equals`, the only one Kibana has
//! (detection-rules lets a file leave it out).
//!
//! [`Rule::overrides`]: crate::Rule::overrides

use serde_json::{Map, Value};

use crate::fields::{type_name, FieldError, Step};

const SEVERITY_MAPPING: &str = "severity_mapping";
const RISK_SCORE_MAPPING: &str = "risk_score_mapping";
const RULE_NAME_OVERRIDE: &str = "rule_name_override";

/// What a rule's alerts take from their event rather than from the rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `severity_mapping`, in the rule's order.
    pub severity: Vec<SeverityOverride>,
    /// The field of the first `risk_score_mapping` entry.
    pub risk_score_field: Option<String>,
    /// `rule_name_override`: the field the alert's rule name is read from.
    pub rule_name_field: Option<String>,
}

impl Overrides {
    /// Whether the rule overrides nothing.
    pub fn is_empty(&self) -> bool {
        self.severity.is_empty()
            && self.risk_score_field.is_none()
            && self.rule_name_field.is_none()
    }
}

/// One `severity_mapping` entry: an event whose `field` has `value` gets
/// `severity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityOverride {
    pub field: String,
    pub value: String,
    pub severity: Severity,
}

/// Kibana's four severities, in increasing order (what a rule's
/// `severity` and its mapping's entries name, and what rule selection
/// compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// `low`, `medium`, `high` or `critical`, written as Kibana's schema
    /// takes them (lower case).
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overrides in `fields` (a rule's fields, or its `extra`), the
/// problems Kibana would refuse the rule for, and notes on what is kept
/// but not applied. What is not well formed is left out of the overrides.
pub(crate) fn read(fields: &Map<String, Value>) -> (Overrides, Vec<FieldError>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut notes = Vec::new();

    let mut severity = Vec::new();
    for (i, entry) in tables(fields, SEVERITY_MAPPING, &mut errors) {
        let mut entry = Entry {
            key: SEVERITY_MAPPING,
            index: i,
            table: entry,
            errors: &mut errors,
        };
        if let Some(parsed) = entry.severity_override() {
            severity.push(parsed);
        }
    }

    let mut risk_score_field = None;
    let risk_entries = tables(fields, RISK_SCORE_MAPPING, &mut errors);
    for &(i, entry) in &risk_entries {
        let mut entry = Entry {
            key: RISK_SCORE_MAPPING,
            index: i,
            table: entry,
            errors: &mut errors,
        };
        let field = entry.risk_score_field();
        if i == 0 {
            risk_score_field = field;
        }
    }
    if let Some(len) = fields
        .get(RISK_SCORE_MAPPING)
        .and_then(Value::as_array)
        .map(Vec::len)
        .filter(|&len| len > 1)
    {
        let items = match len {
            2 => "item 2 is".to_string(),
            _ => format!("items 2 to {len} are"),
        };
        let note = FieldError::invalid(
            RISK_SCORE_MAPPING,
            format!(
                "only the first `{RISK_SCORE_MAPPING}` item is read, as Kibana reads it; \
                 {items} not applied"
            ),
        );
        notes.push(note.at(vec![Step::Item(1)]));
    }

    let rule_name_field = rule_name_override(fields, &mut errors);
    let overrides = Overrides {
        severity,
        risk_score_field,
        rule_name_field,
    };
    (overrides, errors, notes)
}

/// The tables of the list at `key`, each with its place in the list; an
/// error for a value that is not a list, and for each item that is not a
/// table.
fn tables<'a>(
    fields: &'a Map<String, Value>,
    key: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(usize, &'a Map<String, Value>)> {
    let items = match fields.get(key) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            errors.push(FieldError::invalid(
                key,
                format!(
                    "`{key}` must be a list of tables, found {}",
                    type_name(other)
                ),
            ));
            return Vec::new();
        }
    };
    let mut found = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Object(table) => found.push((i, table)),
            other => errors.push(
                FieldError::invalid(
                    key,
                    format!(
                        "`{key}` item {} must be a table, found {}",
                        i + 1,
                        type_name(other)
                    ),
                )
                .at(vec![Step::Item(i)]),
            ),
        }
    }
    found
}

/// One table of a mapping list, read with its errors noted at their place.
struct Entry<'a, 'e> {
    key: &'static str,
    index: usize,
    table: &'a Map<String, Value>,
    errors: &'e mut Vec<FieldError>,
}

impl Entry<'_, '_> {
    /// A `severity_mapping` entry: `field`, `value`, `severity`, and
    /// `operator` if given. Every problem is noted, not only the first.
    fn severity_override(&mut self) -> Option<SeverityOverride> {
        let field = self.field();
        let operator = self.operator();
        let value = self.value(true);
        let severity = self.severity();
        match (field, operator, value, severity) {
            (Some(field), true, Some(value), Some(severity)) => Some(SeverityOverride {
                field,
                value,
                severity,
            }),
            _ => None,
        }
    }

    /// The field of a `risk_score_mapping` entry, whose `value`, `operator`
    /// and `risk_score` are checked too, though Kibana reads none of them.
    fn risk_score_field(&mut self) -> Option<String> {
        let field = self.field();
        let operator = self.operator();
        self.value(false);
        self.risk_score();
        field.filter(|_| operator)
    }

    fn error(&mut self, member: Option<&str>, message: String) {
        let mut steps = vec![Step::Item(self.index)];
        steps.extend(member.map(|m| Step::Key(m.to_string())));
        let error = FieldError::invalid(self.key, message).at(steps);
        self.errors.push(error);
    }

    /// `item N` for messages.
    fn item(&self) -> String {
        format!("`{}` item {}", self.key, self.index + 1)
    }

    fn field(&mut self) -> Option<String> {
        let item = self.item();
        match self.table.get("field") {
            Some(Value::String(f)) if !f.trim().is_empty() => Some(f.clone()),
            None | Some(Value::Null) => {
                let why = format!("{item} has no `field`: name the event field to read");
                self.error(None, why);
                None
            }
            Some(Value::String(_)) => {
                let why = format!("{item}: `field` must name an event field, not be empty");
                self.error(Some("field"), why);
                None
            }
            Some(other) => {
                let why = format!(
                    "{item}: `field` must be a string, found {}",
                    type_name(other)
                );
                self.error(Some("field"), why);
                None
            }
        }
    }

    /// Whether the operator, if any, is `equals`.
    fn operator(&mut self) -> bool {
        let item = self.item();
        let found = match self.table.get("operator") {
            None | Some(Value::Null) => return true,
            Some(Value::String(op)) if op == "equals" => return true,
            Some(Value::String(op)) => format!("`{op}`"),
            Some(other) => type_name(other).to_string(),
        };
        let why =
            format!("{item}: `operator` must be `equals`, the only one Kibana has, not {found}");
        self.error(Some("operator"), why);
        false
    }

    /// The value to compare with: a string, which a severity entry must
    /// have.
    fn value(&mut self, required: bool) -> Option<String> {
        let item = self.item();
        match self.table.get("value") {
            Some(Value::String(v)) => Some(v.clone()),
            None | Some(Value::Null) => {
                if required {
                    let why = format!(
                        "{item} has no `value`: the value of its field that gives this severity"
                    );
                    self.error(None, why);
                }
                None
            }
            Some(other) => {
                let hint = match other {
                    Value::Number(n) => format!(" (write it in quotes: \"{n}\")"),
                    Value::Bool(b) => format!(" (write it in quotes: \"{b}\")"),
                    _ => String::new(),
                };
                let why = format!(
                    "{item}: `value` must be a string, found {}{hint}",
                    type_name(other)
                );
                self.error(Some("value"), why);
                None
            }
        }
    }

    fn severity(&mut self) -> Option<Severity> {
        let item = self.item();
        let why = match self.table.get("severity") {
            Some(Value::String(s)) => match Severity::parse(s) {
                Some(severity) => return Some(severity),
                None => format!(
                    "{item}: `severity` must be one of low, medium, high, critical, not `{s}`"
                ),
            },
            None | Some(Value::Null) => {
                let why = format!("{item} has no `severity`: the severity its value gives");
                self.error(None, why);
                return None;
            }
            Some(other) => format!(
                "{item}: `severity` must be one of low, medium, high, critical, found {}",
                type_name(other)
            ),
        };
        self.error(Some("severity"), why);
        None
    }

    /// A risk score entry's own `risk_score`, if given: a number from 0 to
    /// 100, as the rule's.
    fn risk_score(&mut self) {
        let item = self.item();
        let why = match self.table.get("risk_score") {
            None | Some(Value::Null) => return,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if (0.0..=100.0).contains(&x) => return,
                _ => format!("{item}: `risk_score` must be between 0 and 100, not {n}"),
            },
            Some(other) => format!(
                "{item}: `risk_score` must be a number, found {}",
                type_name(other)
            ),
        };
        self.error(Some("risk_score"), why);
    }
}

/// `rule_name_override`: a string naming the event field that holds the
/// alert's rule name. An empty (or blank) one is no override: Kibana takes
/// it, and finds no field by it.
fn rule_name_override(fields: &Map<String, Value>, errors: &mut Vec<FieldError>) -> Option<String> {
    const KEY: &str = RULE_NAME_OVERRIDE;
    let why = match fields.get(KEY) {
        None | Some(Value::Null) => return None,
        Some(Value::String(f)) => return (!f.trim().is_empty()).then(|| f.clone()),
        Some(other) => format!(
            "`{KEY}` must be a string naming an event field, found {}",
            type_name(other)
        ),
    };
    errors.push(FieldError::invalid(KEY, why));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The messages of `v`'s errors, each with where below its key it is.
    fn problems(v: Value) -> Vec<(String, Vec<Step>)> {
        read(&fields(v))
            .1
            .into_iter()
            .map(|e| (e.message, e.within))
            .collect()
    }

    #[test]
    fn well_formed_overrides_are_read_in_order() {
        let (o, errors, notes) = read(&fields(json!({
            "severity_mapping": [
                {"field": "event.severity", "operator": "equals", "value": "73", "severity": "high"},
                {"field": "event.severity", "value": "21", "severity": "low"}
            ],
            "risk_score_mapping": [{"field": "event.risk_score", "operator": "equals", "value": ""}],
            "rule_name_override": "message"
        })));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(notes.is_empty(), "{notes:?}");
        let severities: Vec<(&str, &str, Severity)> = o
            .severity
            .iter()
            .map(|s| (s.field.as_str(), s.value.as_str(), s.severity))
            .collect();
        assert_eq!(
            severities,
            [
                ("event.severity", "73", Severity::High),
                ("event.severity", "21", Severity::Low)
            ]
        );
        assert_eq!(o.risk_score_field.as_deref(), Some("event.risk_score"));
        assert_eq!(o.rule_name_field.as_deref(), Some("message"));
        assert!(read(&Map::new()).0.is_empty());
    }

    #[test]
    fn every_malformed_entry_is_an_error_at_its_place() {
        let item = |i| vec![Step::Item(i)];
        let member = |i, k: &str| vec![Step::Item(i), Step::Key(k.to_string())];
        assert_eq!(
            problems(json!({"severity_mapping": [
                {"field": "a", "value": "1", "severity": "urgent"},
                "b",
                {"value": 1, "severity": "low", "operator": "contains"},
                {"field": "", "severity": 3}
            ]})),
            // Items that are not tables first; the loader sorts errors by
            // their place in the file.
            [
                (
                    "`severity_mapping` item 2 must be a table, found a string".to_string(),
                    item(1)
                ),
                (
                    "`severity_mapping` item 1: `severity` must be one of low, medium, high, \
                     critical, not `urgent`"
                        .to_string(),
                    member(0, "severity")
                ),
                (
                    "`severity_mapping` item 3 has no `field`: name the event field to read"
                        .to_string(),
                    item(2)
                ),
                (
                    "`severity_mapping` item 3: `operator` must be `equals`, the only one \
                     Kibana has, not `contains`"
                        .to_string(),
                    member(2, "operator")
                ),
                (
                    "`severity_mapping` item 3: `value` must be a string, found a number \
                     (write it in quotes: \"1\")"
                        .to_string(),
                    member(2, "value")
                ),
                (
                    "`severity_mapping` item 4: `field` must name an event field, not be empty"
                        .to_string(),
                    member(3, "field")
                ),
                (
                    "`severity_mapping` item 4 has no `value`: the value of its field that \
                     gives this severity"
                        .to_string(),
                    item(3)
                ),
                (
                    "`severity_mapping` item 4: `severity` must be one of low, medium, high, \
                     critical, found a number"
                        .to_string(),
                    member(3, "severity")
                ),
            ]
        );
    }

    #[test]
    fn a_mapping_that_is_not_a_list_and_a_name_field_that_is_no_name_are_errors() {
        assert_eq!(
            problems(json!({"severity_mapping": {"field": "a"}, "risk_score_mapping": "x"})),
            [
                (
                    "`severity_mapping` must be a list of tables, found a table".to_string(),
                    vec![]
                ),
                (
                    "`risk_score_mapping` must be a list of tables, found a string".to_string(),
                    vec![]
                ),
            ]
        );
        assert_eq!(
            problems(json!({"rule_name_override": ["message"]})),
            [(
                "`rule_name_override` must be a string naming an event field, found an array"
                    .to_string(),
                vec![]
            )]
        );
        // Found by a fresh user: Kibana takes an empty override (and finds
        // no field by it), so it is no override, not an error.
        assert_eq!(problems(json!({"rule_name_override": ""})), []);
        assert_eq!(problems(json!({"rule_name_override": " "})), []);
    }

    #[test]
    fn risk_score_entries_after_the_first_are_noted_not_read() {
        let (o, errors, notes) = read(&fields(json!({"risk_score_mapping": [
            {"field": "a", "operator": "equals", "value": "", "risk_score": 50},
            {"field": "b", "operator": "equals", "value": ""},
            {"field": "c"}
        ]})));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(o.risk_score_field.as_deref(), Some("a"));
        let notes: Vec<(&str, &[Step])> = notes
            .iter()
            .map(|n| (n.message.as_str(), n.within.as_slice()))
            .collect();
        assert_eq!(
            notes,
            [(
                "only the first `risk_score_mapping` item is read, as Kibana reads it; \
                 items 2 to 3 are not applied",
                &[Step::Item(1)][..]
            )]
        );
        assert_eq!(
            problems(json!({"risk_score_mapping": [{"field": "a", "risk_score": 101}]})),
            [(
                "`risk_score_mapping` item 1: `risk_score` must be between 0 and 100, not 101"
                    .to_string(),
                vec![Step::Item(0), Step::Key("risk_score".into())]
            )]
        );
    }
}
