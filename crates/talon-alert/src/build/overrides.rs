//! Severity, risk score and rule name taken from the event, as Kibana's
//! detection engine takes them for the alert of a single event: the
//! rule's `severity_mapping`, `risk_score_mapping` and `rule_name_override`
//! (Kibana's `buildSeverityFromMapping`, `buildRiskScoreFromMapping` and
//! `buildRuleNameFromMapping`, called by `transformHitToAlert`).
//!
//! Only `kibana.alert.severity`, `kibana.alert.risk_score`,
//! `kibana.alert.rule.name` and the reason sentence change; the rule's
//! parameters and `kibana.alert.rule.severity` / `risk_score` keep the
//! rule's own values. The alerts of a sequence (shell and building blocks)
//! take none of these: Kibana builds them without overrides.
//!
//! Kibana's rules, kept on purpose so that an alert says what Kibana's
//! would for the same event:
//!
//! - A field is read from the event's source, whichever way it spells the
//!   path ([`crate::lookup`]); a list is a multi-valued field, whose items
//!   are read one level deep.
//! - Severity: an entry matches when any value of its field, as text,
//!   equals its `value` (case-sensitive). Only strings and whole numbers
//!   take part, a number as its decimal text (`21` and `21.0` both match
//!   `"21"`; `21.5`, `true`, null or an object never match). The ECS field
//!   `event.severity` is a number instead: there the entry's value is read
//!   as JavaScript's `Math.floor(Number(value))` and only the event's whole
//!   numbers match it, not its strings. Of the matching entries the
//!   highest severity wins, whatever their order.
//! - Risk score: only the first entry's field is read. Each of its values
//!   that is a number, or a string JavaScript's `Number()` reads as one
//!   (`" 42 "`, `"4.2e1"`, `"0x2a"`; an empty string is 0), and lies from 0
//!   to 100 counts; the largest wins. Anything else keeps the rule's.
//! - Rule name: the field's value when it is a string (an empty one
//!   included); a list, a number or a missing field keeps the rule's name.
//! - An entry's `operator` is not read: `equals` is the only one.

use serde_json::{Number, Value};
use talon_rules::{Overrides, Rule, Severity};

/// `event.severity`: ECS's numeric severity, which Kibana compares as a
/// number.
const ECS_SEVERITY: &str = "event.severity";

/// The largest integer a JavaScript number holds exactly
/// (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What an alert says of its rule where the event may speak instead.
#[derive(Clone, Debug)]
pub(crate) struct Stated<'r> {
    pub severity: &'r str,
    pub risk_score: Number,
    /// The rule name the event gives, when the rule takes it from there.
    pub name: Option<String>,
    rule_name: &'r str,
}

impl<'r> Stated<'r> {
    /// The rule's own severity, risk score and name.
    pub fn rule_own(rule: &'r Rule) -> Stated<'r> {
        Stated {
            severity: &rule.severity,
            risk_score: Number::from(rule.risk_score),
            name: None,
            rule_name: &rule.name,
        }
    }

    /// The rule name the alert gives: the event's, else the rule's.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.rule_name)
    }
}

/// Applies one rule's overrides (read once, when the builder is made).
#[derive(Clone, Debug)]
pub(crate) struct Applier {
    overrides: Overrides,
}

impl Applier {
    pub fn new(rule: &Rule) -> Applier {
        Applier {
            overrides: rule.overrides(),
        }
    }

    /// What the alert of `rule` for one event says: `field` gives the value
    /// of a field of the event's source, by dotted path. Reads only the
    /// fields the overrides name.
    pub fn stated<'r>(
        &self,
        rule: &'r Rule,
        mut field: impl FnMut(&str) -> Option<Value>,
    ) -> Stated<'r> {
        let mut stated = Stated::rule_own(rule);
        if self.overrides.is_empty() {
            return stated;
        }
        if let Some(severity) = self.severity(&mut field) {
            stated.severity = severity.as_str();
        }
        if let Some(score) = self.risk_score(&mut field) {
            stated.risk_score = score;
        }
        if let Some(name_field) = &self.overrides.rule_name_field {
            if let Some(Value::String(name)) = field(name_field) {
                stated.name = Some(name);
            }
        }
        stated
    }

    /// The highest severity of the entries the event matches.
    fn severity(&self, field: &mut impl FnMut(&str) -> Option<Value>) -> Option<Severity> {
        let mut best: Option<Severity> = None;
        for entry in &self.overrides.severity {
            // An entry no higher than one already matched changes nothing.
            if best.is_some_and(|b| entry.severity <= b) {
                continue;
            }
            let Some(value) = field(&entry.field) else {
                continue;
            };
            if matches_severity_value(&entry.field, &entry.value, &value) {
                best = Some(entry.severity);
            }
        }
        best
    }

    /// The largest risk score the first entry's field holds.
    fn risk_score(&self, field: &mut impl FnMut(&str) -> Option<Value>) -> Option<Number> {
        let value = field(self.overrides.risk_score_field.as_deref()?)?;
        let best = values(&value)
            .filter_map(risk_score_of)
            .fold(None, |best: Option<f64>, x| {
                Some(best.map_or(x, |b| b.max(x)))
            })?;
        Some(js_number_json(best))
    }
}

/// The values of a field: the items of a list, or the value itself.
fn values(value: &Value) -> impl Iterator<Item = &Value> {
    match value {
        Value::Array(items) => items.iter(),
        other => std::slice::from_ref(other).iter(),
    }
}

/// Whether a field's value matches a severity entry's `value` (see the
/// module comment).
fn matches_severity_value(field: &str, wanted: &str, value: &Value) -> bool {
    if field == ECS_SEVERITY {
        let wanted = js_number(wanted).floor();
        return values(value).any(|v| match v {
            Value::Number(n) => safe_integer(n) == Some(wanted),
            _ => false,
        });
    }
    values(value).any(|v| match v {
        Value::String(s) => s == wanted,
        Value::Number(n) => safe_integer(n).is_some_and(|x| (x as i64).to_string() == wanted),
        _ => false,
    })
}

/// The number, when JavaScript's `Number.isSafeInteger` holds for it
/// (JSON numbers are doubles there: `21.0` is the integer 21).
fn safe_integer(n: &Number) -> Option<f64> {
    let x = n.as_f64()?;
    (x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER).then_some(x)
}

/// A value that can be a risk score: a number from 0 to 100, or a string
/// that reads as one.
fn risk_score_of(value: &Value) -> Option<f64> {
    let x = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => js_number(s),
        _ => return None,
    };
    (x.is_finite() && (0.0..=100.0).contains(&x)).then_some(x)
}

/// A number as `JSON.stringify` writes it: a whole one without a
/// fraction (`42`, not `42.0`), `-0` as `0`. (A fraction below 0.0001 is
/// written in exponent form, `1e-6`, where JavaScript writes `0.000001`:
/// the same number, as serde_json writes every number talon copies.)
fn js_number_json(x: f64) -> Number {
    if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER {
        // Whole and within i64: the cast is exact.
        Number::from(x as i64)
    } else {
        Number::from_f64(x).unwrap_or_else(|| Number::from(0))
    }
}

/// JavaScript's `Number(text)`: NaN for what it does not read. Blank text
/// is 0; around the number, JavaScript's white space is allowed; `0x`,
/// `0o` and `0b` prefixes read unsigned integers; otherwise a decimal
/// literal, `Infinity` included.
fn js_number(text: &str) -> f64 {
    let t = text.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return f64::NAN;
        }
        let digit = |c: char| f64::from(c.to_digit(radix).unwrap_or(0));
        return digits
            .chars()
            .fold(0.0, |n, c| n * f64::from(radix) + digit(c));
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    // Rust reads the decimal literals JavaScript reads, and also `inf`,
    // `nan` and `infinity` in any case, which JavaScript does not.
    if t.bytes()
        .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E'))
    {
        return f64::NAN;
    }
    t.parse().unwrap_or(f64::NAN)
}

/// JavaScript's white space and line terminators, which `Number()` trims.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Kibana sorts the rule's `severity_mapping` by severity (low first,
/// ties in the rule's order) in place, before it matches the first event
/// of a run against it; the alerts of single events then show the sorted
/// list in `kibana.alert.rule.parameters` and
/// `kibana.alert.rule.severity_mapping`. `None` when that changes nothing
/// (the list is in order already, or has an entry of no known severity,
/// which a loaded rule cannot have).
pub(crate) fn sorted_severity_mapping(rule: &Rule) -> Option<Value> {
    let entries = rule.extra.get("severity_mapping")?.as_array()?;
    let rank = |entry: &Value| {
        let severity = entry.get("severity")?.as_str()?;
        Severity::parse(severity)
    };
    let ranks: Vec<Severity> = entries.iter().map(rank).collect::<Option<_>>()?;
    if ranks.windows(2).all(|w| w[0] <= w[1]) {
        return None;
    }
    let mut sorted: Vec<(Severity, &Value)> = ranks.into_iter().zip(entries).collect();
    // A stable sort, as JavaScript's.
    sorted.sort_by_key(|(rank, _)| *rank);
    Some(Value::Array(
        sorted.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

/// The rule's parameters with `severity_mapping` replaced by `sorted`.
pub(crate) fn with_severity_mapping(parameters: &Value, sorted: &Value) -> Value {
    let mut parameters = parameters.clone();
    if let Some(map) = parameters.as_object_mut() {
        map.insert("severity_mapping".into(), sorted.clone());
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    #[test]
    fn strings_are_read_as_javascripts_number_reads_them() {
        let cases: &[(&str, f64)] = &[
            ("42", 42.0),
            (" 42\n", 42.0),
            ("\u{a0}\u{feff}7\u{3000}", 7.0),
            ("4.2e1", 42.0),
            ("+.5", 0.5),
            ("5.", 5.0),
            ("0x2a", 42.0),
            ("0B101", 5.0),
            ("0o17", 15.0),
            ("", 0.0),
            ("  ", 0.0),
            ("-0", -0.0),
            ("Infinity", f64::INFINITY),
        ];
        for (text, want) in cases {
            assert_eq!(js_number(text), *want, "{text:?}");
        }
        for text in [
            "42px", "0x", "-0x10", "inf", "NaN", "infinity", "1_000", "1e", ".", "\u{85}1", "1,5",
        ] {
            assert!(js_number(text).is_nan(), "{text:?}");
        }
    }

    #[test]
    fn only_strings_and_safe_integers_match_a_value_as_text() {
        let f = "event.custom_severity";
        assert!(matches_severity_value(f, "21", &json!(21)));
        assert!(matches_severity_value(f, "21", &json!(21.0)));
        assert!(matches_severity_value(f, "21", &json!("21")));
        assert!(matches_severity_value(f, "0", &json!(-0.0)));
        assert!(matches_severity_value(f, "b", &json!(["a", "b"])));
        assert!(!matches_severity_value(f, "21", &json!(" 21")));
        assert!(!matches_severity_value(f, "21.5", &json!(21.5)));
        assert!(!matches_severity_value(f, "true", &json!(true)));
        assert!(!matches_severity_value(f, "High", &json!("high")));
        assert!(!matches_severity_value(f, "b", &json!([["b"]])));
        assert!(!matches_severity_value(
            f,
            "9007199254740993",
            &json!(9_007_199_254_740_993_u64)
        ));
    }

    #[test]
    fn event_severity_is_compared_as_a_number() {
        let f = ECS_SEVERITY;
        assert!(matches_severity_value(f, "73", &json!(73)));
        assert!(matches_severity_value(f, "73.9", &json!(73)));
        assert!(matches_severity_value(f, " 73 ", &json!([21, 73.0])));
        assert!(matches_severity_value(f, "", &json!(0)));
        assert!(!matches_severity_value(f, "73", &json!("73")));
        assert!(!matches_severity_value(f, "high", &json!(73)));
    }

    #[test]
    fn risk_scores_are_numbers_from_0_to_100() {
        let of = |v: Value| risk_score_of(&v);
        assert_eq!(of(json!(42)), Some(42.0));
        assert_eq!(of(json!(12.5)), Some(12.5));
        assert_eq!(of(json!("42")), Some(42.0));
        assert_eq!(of(json!("")), Some(0.0));
        assert_eq!(of(json!(100)), Some(100.0));
        assert_eq!(of(json!(101)), None);
        assert_eq!(of(json!(-1)), None);
        assert_eq!(of(json!("101")), None);
        assert_eq!(of(json!("high")), None);
        assert_eq!(of(json!(true)), None);
        assert_eq!(of(json!(null)), None);
        assert_eq!(js_number_json(42.0).to_string(), "42");
        assert_eq!(js_number_json(-0.0).to_string(), "0");
        assert_eq!(js_number_json(12.5).to_string(), "12.5");
        assert_eq!(js_number_json(0.1 + 0.2).to_string(), "0.30000000000000004");
    }

    #[test]
    fn the_mapping_is_sorted_by_severity_stably_only_when_out_of_order() {
        let mut rule = talon_rules::load_str(
            "[rule]\nname = \"n\"\nrule_id = \"r\"\ntype = \"eql\"\nrisk_score = 1\n\
             severity = \"low\"\nquery = 'any where true'\n",
            std::path::Path::new("r.toml"),
            talon_rules::RuleFormat::Toml,
        )
        .0
        .remove(0);
        let entry = |v: &str, s: &str| json!({"field": "f", "value": v, "severity": s});
        let mapping = json!([
            entry("1", "high"),
            entry("2", "low"),
            entry("3", "high"),
            entry("4", "medium")
        ]);
        rule.extra.insert("severity_mapping".into(), mapping);
        let sorted = sorted_severity_mapping(&rule).unwrap_or_default();
        let order: Vec<&str> = sorted
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["value"].as_str())
            .collect();
        assert_eq!(order, ["2", "4", "1", "3"]);
        rule.extra.insert("severity_mapping".into(), sorted);
        assert_eq!(sorted_severity_mapping(&rule), None);
        let map: Map<String, Value> = Map::new();
        assert_eq!(
            with_severity_mapping(&Value::Object(map), &json!([])),
            json!({"severity_mapping": []})
        );
    }
}
