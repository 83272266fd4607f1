//! `severity_mapping`, `risk_score_mapping` and `rule_name_override` on
//! real values, as Kibana applies them to the alert of a single event:
//! every case is built twice, as a map (`event_alert`) and as a JSON Lines
//! line spliced from the event's text (`write_event_alert_jsonl`), and the
//! two must be the same bytes.
//!
//! The rule is the seed rule (severity `low`, risk score 21) with the
//! overrides added as a rule file would carry them.

mod common;

use common::*;
use serde_json::{json, Map, Value as Json};
use talon_alert::write::JsonLinesSink;
use talon_alert::{build_sequence_alerts, AlertBuilder, AlertSink};
use talon_event::Event;
use talon_rules::Rule;

/// The seed rule with `extra` added to its fields.
fn rule_with(extra: Json) -> Rule {
    let mut rule = seed_rule();
    if let Json::Object(map) = extra {
        rule.extra.extend(map);
    }
    rule
}

/// The Elastic Endpoint rules' mapping: ECS `event.severity` 21, 47, 73
/// and 99 give low, medium, high and critical.
fn endpoint_mapping() -> Json {
    let entry = |value: &str, severity: &str| json!({"field": "event.severity", "operator": "equals", "value": value, "severity": severity});
    json!([
        entry("21", "low"),
        entry("47", "medium"),
        entry("73", "high"),
        entry("99", "critical")
    ])
}

/// The sysctl event with `changes` merged into its document.
fn sysctl_with(changes: Json) -> Event {
    let mut doc = sysctl_json();
    if let (Json::Object(doc), Json::Object(changes)) = (&mut doc, changes) {
        for (key, value) in changes {
            match (doc.get_mut(&key), value) {
                (Some(Json::Object(inner)), Json::Object(more)) => inner.extend(more),
                (_, value) => {
                    doc.insert(key, value);
                }
            }
        }
    }
    event(&doc, Some(INDEX), Some("sysctl-1"), 1)
}

/// The alert `rule` gives `event`, as a document, after checking that the
/// map path and the JSON Lines path write the same bytes for it.
fn alert(rule: &Rule, event: &Event) -> Map<String, Json> {
    let builder = AlertBuilder::new(rule, &ctx());
    let built = builder
        .event_alert(event)
        .unwrap_or_else(|e| panic!("no alert: {e}"));
    let mut plain = Vec::new();
    let mut sink = JsonLinesSink::new(&mut plain);
    sink.write(&built).unwrap_or_else(|e| panic!("{e}"));
    sink.finish().unwrap_or_else(|e| panic!("{e}"));
    drop(sink);
    let mut fast = Vec::new();
    builder
        .write_event_alert_jsonl(event, &mut fast)
        .unwrap_or_else(|e| panic!("no line: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&plain),
        String::from_utf8_lossy(&fast),
        "the two paths differ"
    );
    built.into_doc()
}

/// Severity, risk score and rule name of an alert.
fn stated(doc: &Map<String, Json>) -> (Json, Json, Json) {
    let get = |key: &str| doc.get(key).cloned().unwrap_or(Json::Null);
    (
        get("kibana.alert.severity"),
        get("kibana.alert.risk_score"),
        get("kibana.alert.rule.name"),
    )
}

fn rule_own() -> (Json, Json, Json) {
    (json!("low"), json!(21), json!(RULE_NAME))
}

#[test]
fn a_matching_severity_mapping_gives_the_mapped_severity() {
    let rule = rule_with(json!({"severity_mapping": endpoint_mapping()}));
    let doc = alert(&rule, &sysctl_with(json!({"event": {"severity": 73}})));
    assert_eq!(doc["kibana.alert.severity"], "high");
    // The reason names the severity the alert has, as Kibana's does.
    let reason = doc["kibana.alert.reason"].as_str().unwrap_or_default();
    assert!(
        reason.ends_with(&format!("created high alert {RULE_NAME}.")),
        "{reason}"
    );
    // The rule's own values stay in its fields and parameters.
    assert_eq!(doc["kibana.alert.rule.severity"], "low");
    assert_eq!(doc["kibana.alert.rule.parameters"]["severity"], "low");
    assert_eq!(
        doc["kibana.alert.rule.parameters"]["severity_mapping"],
        endpoint_mapping()
    );
    assert_eq!(doc["kibana.alert.risk_score"], 21);
}

#[test]
fn a_severity_mapping_no_value_matches_keeps_the_rule_severity() {
    let rule = rule_with(json!({"severity_mapping": endpoint_mapping()}));
    for changes in [
        json!({"event": {"severity": 50}}),
        // ECS's event.severity is a number: its text does not match.
        json!({"event": {"severity": "73"}}),
        json!({}),
    ] {
        let doc = alert(&rule, &sysctl_with(changes.clone()));
        assert_eq!(stated(&doc), rule_own(), "{changes}");
    }
}

#[test]
fn a_multi_valued_field_matches_when_any_value_does_and_the_highest_wins() {
    let entry = |value: &str, severity: &str| json!({"field": "process.args", "operator": "equals", "value": value, "severity": severity});
    // Listed highest first: the order does not decide, the severity does.
    let mapping = json!([
        entry("--force", "critical"),
        entry("-w", "medium"),
        entry("sysctl", "high"),
        entry("-q", "low")
    ]);
    let rule = rule_with(json!({"severity_mapping": mapping}));
    let doc = alert(&rule, &sysctl_event());
    assert_eq!(doc["kibana.alert.severity"], "high");
    // Kibana sorts the mapping by severity before it matches, in place, so
    // the alert's parameters show it sorted.
    let shown: Vec<&str> = doc["kibana.alert.rule.severity_mapping"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["value"].as_str())
        .collect();
    assert_eq!(shown, ["-q", "-w", "sysctl", "--force"]);
    assert_eq!(
        doc["kibana.alert.rule.parameters"]["severity_mapping"],
        doc["kibana.alert.rule.severity_mapping"]
    );
}

#[test]
fn a_risk_score_mapping_reads_a_number_or_a_numeric_string() {
    let rule = rule_with(json!({"risk_score_mapping": [
        {"field": "event.risk_score", "operator": "equals", "value": ""}
    ]}));
    let cases = [
        (json!(88), json!(88)),
        (json!("64"), json!(64)),
        (json!(" 12.5 "), json!(12.5)),
        (json!(47.0), json!(47)),
        // The largest of several values that can be risk scores.
        (json!([30, "not a score", "75", 101]), json!(75)),
        // Out of 0..=100, or no number: the rule's.
        (json!(250), json!(21)),
        (json!("high"), json!(21)),
        (json!(true), json!(21)),
    ];
    for (value, want) in cases {
        let event = sysctl_with(json!({"event": {"risk_score": value.clone()}}));
        let doc = alert(&rule, &event);
        assert_eq!(doc["kibana.alert.risk_score"], want, "{value}");
        assert_eq!(doc["kibana.alert.rule.risk_score"], 21);
        assert_eq!(doc["kibana.alert.rule.parameters"]["risk_score"], 21);
        assert_eq!(doc["kibana.alert.severity"], "low");
    }
}

#[test]
fn a_rule_name_override_takes_the_fields_string() {
    let rule = rule_with(json!({"rule_name_override": "message"}));
    let event = sysctl_with(json!({"message": "IP forwarding enabled on web-01"}));
    let doc = alert(&rule, &event);
    assert_eq!(
        doc["kibana.alert.rule.name"],
        "IP forwarding enabled on web-01"
    );
    let reason = doc["kibana.alert.reason"].as_str().unwrap_or_default();
    assert!(
        reason.ends_with("created low alert IP forwarding enabled on web-01."),
        "{reason}"
    );
    // The head's place is kept: the key comes where the rule name does.
    let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
    let name_at = keys.iter().position(|k| *k == "kibana.alert.rule.name");
    let producer_at = keys.iter().position(|k| *k == "kibana.alert.rule.producer");
    assert_eq!(name_at.map(|i| i + 1), producer_at);
    assert_eq!(
        doc["kibana.alert.rule.parameters"]["rule_name_override"],
        "message"
    );
}

#[test]
fn a_rule_name_override_without_a_string_keeps_the_rule_name() {
    let rule = rule_with(json!({"rule_name_override": "message"}));
    for changes in [
        json!({}),
        json!({"message": ["a", "b"]}),
        json!({"message": 42}),
        json!({"message": null}),
    ] {
        let doc = alert(&rule, &sysctl_with(changes.clone()));
        assert_eq!(doc["kibana.alert.rule.name"], RULE_NAME, "{changes}");
    }
    // An empty string is a string: Kibana takes it.
    let doc = alert(&rule, &sysctl_with(json!({"message": ""})));
    assert_eq!(doc["kibana.alert.rule.name"], "");
}

#[test]
fn all_three_together_and_dotted_spellings() {
    let rule = rule_with(json!({
        "severity_mapping": endpoint_mapping(),
        "risk_score_mapping": [{"field": "event.risk_score", "operator": "equals", "value": ""}],
        "rule_name_override": "rule.name"
    }));
    let mut doc = sysctl_json();
    doc["event.severity"] = json!(99);
    doc["event.risk_score"] = json!(99);
    doc["rule.name"] = json!("Sensor: IP forwarding");
    let event = event(&doc, Some(INDEX), Some("sysctl-1"), 1);
    let alert = alert(&rule, &event);
    assert_eq!(
        stated(&alert),
        (json!("critical"), json!(99), json!("Sensor: IP forwarding"))
    );
}

#[test]
fn a_sequences_alerts_keep_the_rules_own_values() {
    let rule = rule_with(json!({
        "severity_mapping": endpoint_mapping(),
        "risk_score_mapping": [{"field": "event.risk_score", "operator": "equals", "value": ""}],
        "rule_name_override": "message"
    }));
    let first = sysctl_with(json!({"event": {"severity": 99, "risk_score": 99}, "message": "m"}));
    let second = sysctl_with(json!({"event": {"severity": 99, "risk_score": 99}, "message": "m"}));
    let alerts =
        build_sequence_alerts(&rule, &[&first, &second], &ctx()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alerts.len(), 3);
    for a in &alerts {
        assert_eq!(stated(a.doc()), rule_own());
    }
}
