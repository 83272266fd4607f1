//! A Kibana rule export built from the seed TOML rule loads back to the same
//! rule; exception and summary lines are recognised; bad lines are errors.

mod common;

use std::path::Path;

use serde_json::{json, Value};
use talon_rules::{load_paths, load_str, LoadErrorKind, Rule, RuleFormat};

fn seed() -> Option<Rule> {
    let dir = common::detection_rules()?;
    let report = load_paths(&[dir.join("seed-rule.toml")]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.rules.into_iter().next()
}

/// The detection-engine API body of `r`: the typed fields present, plus
/// extra (Kibana has no `[metadata]`).
fn api_shape(r: &Rule) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    };
    put("rule_id", json!(r.rule_id));
    put("name", json!(r.name));
    put("description", json!(r.description));
    put("type", json!(r.rule_type));
    put("language", json!(r.language));
    put("query", json!(r.query));
    put("index", json!(r.index));
    put("severity", json!(r.severity));
    put("risk_score", json!(r.risk_score));
    put("interval", json!(r.interval));
    put("from", json!(r.from));
    put("to", json!(r.to));
    put("max_signals", json!(r.max_signals));
    put("timestamp_override", json!(r.timestamp_override));
    put("tags", json!(r.tags));
    put("threat", serde_json::to_value(&r.threat).unwrap());
    put("note", json!(r.note));
    put("setup", json!(r.setup));
    put("references", json!(r.references));
    put("false_positives", json!(r.false_positives));
    put("author", json!(r.author));
    put("license", json!(r.license));
    put("building_block_type", json!(r.building_block_type));
    put("version", json!(r.version));
    put("enabled", json!(r.enabled));
    for (k, v) in &r.extra {
        m.insert(k.clone(), v.clone());
    }
    m
}

#[test]
fn minimal_export_round_trips() {
    let Some(rule) = seed() else { return };
    let line = serde_json::to_string(&api_shape(&rule)).unwrap();
    let (rules, errors) = load_str(
        &format!("{line}\n"),
        Path::new("export.ndjson"),
        RuleFormat::KibanaNdjson,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules.len(), 1);
    // Only [metadata] is lost: the API body has no place for it.
    assert_eq!(common::differing_fields(&rule, &rules[0]), ["metadata"]);
    assert!(rules[0].metadata.is_empty());
    // The query maps into the JSON line, through the `\"` and `\n` escapes.
    let back = &rules[0];
    let q = back.query.as_deref().unwrap();
    let at = q.find("?process.parent.executable").unwrap();
    let f = back.origin.file_offset(at);
    assert_eq!(&back.origin.text[f..f + 26], "?process.parent.executable");
    let quote = q.find('"').unwrap();
    assert_eq!(
        &back.origin.text[back.origin.file_offset(quote)..][..2],
        "\\\""
    );
}

/// What Kibana actually writes: defaults filled in, server fields added, an
/// exception list with an item, and the summary line.
#[test]
fn full_export_file_with_exceptions_and_summary() {
    let Some(rule) = seed() else { return };
    let mut body = api_shape(&rule);
    for (k, v) in [
        ("id", json!("8f2c1a40-0000-4000-8000-000000000001")),
        ("created_at", json!("2026-03-24T10:00:00.000Z")),
        ("updated_at", json!("2026-03-24T10:00:00.000Z")),
        ("created_by", json!("elastic")),
        ("updated_by", json!("elastic")),
        ("immutable", json!(true)),
        (
            "rule_source",
            json!({"type": "external", "is_customized": false}),
        ),
        ("revision", json!(0)),
        ("interval", json!("5m")),
        ("to", json!("now")),
        ("max_signals", json!(100)),
        ("version", json!(108)),
        ("enabled", json!(false)),
        ("setup", json!("")),
        (
            "related_integrations",
            json!([{"package": "endpoint", "version": "^9.0.0"}]),
        ),
        ("required_fields", json!([])),
        ("actions", json!([])),
        (
            "exceptions_list",
            json!([{"id": "e1", "list_id": "seed-exceptions", "namespace_type": "single", "type": "detection"}]),
        ),
    ] {
        body.insert(k.to_string(), v);
    }
    let list = json!({"id": "e1", "list_id": "seed-exceptions", "name": "Seed exceptions", "namespace_type": "single",
        "type": "detection", "description": "d", "tags": [], "os_types": [], "immutable": false, "version": 1});
    let item = json!({"item_id": "i1", "list_id": "seed-exceptions", "namespace_type": "single", "type": "simple",
        "name": "sshd", "entries": [{"field": "process.parent.executable", "operator": "included", "type": "match", "value": "/usr/sbin/sshd"}]});
    let summary = json!({"exported_count": 3, "exported_rules_count": 1, "missing_rules": [], "missing_rules_count": 0,
        "exported_exception_list_count": 1, "exported_exception_list_item_count": 1,
        "missing_exception_list_item_count": 0, "missing_exception_list_items": [], "missing_exception_lists": [],
        "missing_exception_lists_count": 0, "exported_action_connector_count": 0});
    let text = [Value::Object(body), list, item, summary]
        .iter()
        .map(|v| v.to_string() + "\n")
        .collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules_export.ndjson");
    std::fs::write(&path, &text).unwrap();

    let report = load_paths(&[dir.path().to_path_buf()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.rules.len(), 1);
    assert_eq!(report.skipped.export_summaries, 1);
    assert_eq!(report.skipped.exception_objects, 2);
    assert_eq!(report.exceptions.len(), 2);
    assert_eq!(report.exceptions[0].value["list_id"], "seed-exceptions");
    assert_eq!(
        report.exceptions[1].value["entries"][0]["value"],
        "/usr/sbin/sshd"
    );
    let back = &report.rules[0];
    assert_eq!(
        common::differing_fields(&rule, back),
        [
            "interval",
            "to",
            "max_signals",
            "setup",
            "version",
            "enabled",
            "extra",
            "metadata"
        ]
    );
    // ... and they differ only by Kibana's explicit defaults.
    assert_eq!(back.interval_or_default(), rule.interval_or_default());
    assert_eq!(back.max_signals_or_default(), rule.max_signals_or_default());
    assert_eq!(back.to.as_deref(), Some("now"));
    assert_eq!(back.setup.as_deref(), Some(""));
    assert_eq!((back.version, back.enabled), (Some(108), Some(false)));
    assert_eq!(back.extra["id"], "8f2c1a40-0000-4000-8000-000000000001");
    assert_eq!(
        back.extra["exceptions_list"][0]["list_id"],
        "seed-exceptions"
    );
    assert_eq!(back.extra.len(), 12);
}

#[test]
fn bad_lines_are_errors_but_do_not_stop_the_file() {
    let good = r#"{"rule_id":"a","name":"A","type":"eql","language":"eql","risk_score":21,"severity":"low","query":"any where true"}"#;
    let text = format!(
        "{good}\n{{\"rule_id\": \"b\",, }}\n\n[1]\n{}\n",
        good.replace("\"a\"", "\"c\"")
    );
    let (rules, errors) = load_str(&text, Path::new("x.ndjson"), RuleFormat::KibanaNdjson);
    assert_eq!(
        rules.iter().map(|r| r.rule_id.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        (errors[0].kind, errors[0].line, errors[0].column),
        (LoadErrorKind::Syntax, 2, 17)
    );
    assert!(errors[0]
        .to_string()
        .starts_with("x.ndjson:2:17: error: invalid JSON"));
    assert_eq!(
        (errors[1].kind, errors[1].line, errors[1].column),
        (LoadErrorKind::UnrecognizedObject, 4, 1)
    );
}

#[test]
fn duplicate_rule_id_in_one_export() {
    let good = r#"{"rule_id":"a","name":"A","type":"eql","language":"eql","risk_score":21,"severity":"low","query":"any where true"}"#;
    let (rules, errors) = load_str(
        &format!("{good}\n{good}\n"),
        Path::new("d.ndjson"),
        RuleFormat::KibanaNdjson,
    );
    assert_eq!(rules.len(), 1);
    assert_eq!(errors[0].kind, LoadErrorKind::DuplicateRuleId);
    assert_eq!((errors[0].line, errors[0].column), (2, 12));
    // An export holds many rules: the first copy is named by its line.
    assert_eq!(
        errors[0].message,
        "duplicate rule_id `a`: already loaded from d.ndjson:1; this rule is ignored"
    );
}

#[test]
fn new_terms_api_shape_reads_through_the_accessors() {
    let line = r#"{"rule_id":"n","name":"N","type":"new_terms","language":"kuery","risk_score":21,"severity":"low","query":"x:1","new_terms_fields":["user.name","host.name"],"history_window_start":"now-10d"}"#;
    let (rules, errors) = load_str(line, Path::new("n.ndjson"), RuleFormat::KibanaNdjson);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules[0].new_terms_fields(), ["user.name", "host.name"]);
    assert_eq!(rules[0].history_window_start(), Some("now-10d"));
}

/// An event file given as rules used to give one error per event (a demo
/// file: 120 errors); now the first three say it looks like an event, and
/// one more counts the rest from where they start.
#[test]
fn an_event_file_given_as_rules_is_said_once_with_the_rest_counted() {
    let events: String = (0..6)
        .map(|i| {
            format!(
                "{{\"@timestamp\":\"2026-01-01T00:00:0{i}Z\",\"event\":{{\"kind\":\"event\"}}}}\n"
            )
        })
        .collect();
    let (rules, errors) = load_str(&events, Path::new("ev.ndjson"), RuleFormat::KibanaNdjson);
    assert!(rules.is_empty());
    let got: Vec<(usize, usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.message.as_str()))
        .collect();
    let event = "JSON object is not a rule, an exception list or item, or an export summary; it \
                 looks like an event (it has `@timestamp`): events are read from the inputs, not \
                 from --rules";
    assert_eq!(
        got,
        [
            (1, 1, event),
            (2, 1, event),
            (3, 1, event),
            (
                4,
                1,
                "3 more JSON objects from here on are not rules either"
            ),
        ]
    );
    assert!(errors
        .iter()
        .all(|e| e.kind == LoadErrorKind::UnrecognizedObject));

    // An object that looks like nothing known gets no event hint, and one
    // past the three shown is "1 more".
    let text = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n";
    let (_, errors) = load_str(text, Path::new("x.ndjson"), RuleFormat::KibanaNdjson);
    assert_eq!(
        errors[0].message,
        "JSON object is not a rule, an exception list or item, or an export summary"
    );
    assert_eq!(
        (errors[3].line, errors[3].message.as_str()),
        (4, "1 more JSON object from here on is not a rule either")
    );
}
