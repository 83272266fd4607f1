//! `severity_mapping`, `risk_score_mapping` and `rule_name_override` as the
//! loaders read them from every format, and `alert_suppression`: a
//! mapping Kibana would refuse is an error at its place in the file (the
//! entry, or the key in it), what talon keeps but does not apply is a note
//! on the rule, and a rule without these keys loads as before.

use std::path::Path;

use talon_rules::{load_str, LoadError, LoadErrorKind, RuleFormat, Severity};

const TOML_RULE: &str = "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"Mapped\"\n\
    rule_id = \"id-1\"\ntype = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\nseverity = \"low\"\n\
    query = 'process where true'\n";

/// Where each error is and what it says: `(line, column, message)`.
fn placed(errors: &[LoadError]) -> Vec<(usize, usize, &str)> {
    errors
        .iter()
        .map(|e| (e.line, e.column, e.message.as_str()))
        .collect()
}

#[test]
fn toml_mappings_are_read_typed_and_kept_as_written() {
    let text = format!(
        "{TOML_RULE}rule_name_override = \"message\"\n\n\
         [[rule.severity_mapping]]\nfield = \"event.severity\"\noperator = \"equals\"\n\
         value = \"99\"\nseverity = \"critical\"\n\n\
         [[rule.severity_mapping]]\nfield = \"event.severity\"\noperator = \"equals\"\n\
         value = \"21\"\nseverity = \"low\"\n\n\
         [[rule.risk_score_mapping]]\nfield = \"event.risk_score\"\noperator = \"equals\"\n\
         value = \"\"\n"
    );
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let rule = &rules[0];
    let o = rule.overrides();
    let severities: Vec<(&str, Severity)> = o
        .severity
        .iter()
        .map(|s| (s.value.as_str(), s.severity))
        .collect();
    assert_eq!(
        severities,
        [("99", Severity::Critical), ("21", Severity::Low)]
    );
    assert!(o.severity.iter().all(|s| s.field == "event.severity"));
    assert_eq!(o.risk_score_field.as_deref(), Some("event.risk_score"));
    assert_eq!(o.rule_name_field.as_deref(), Some("message"));
    // The alert's parameters copy what the file says, in its order.
    assert_eq!(rule.extra["severity_mapping"][0]["severity"], "critical");
    assert!(rule.unapplied.is_empty(), "{:?}", rule.unapplied);
}

#[test]
fn a_malformed_toml_mapping_is_an_error_at_the_entry_or_key() {
    let text = format!(
        "{TOML_RULE}\n\
         [[rule.severity_mapping]]\nfield = \"event.severity\"\noperator = \"equals\"\n\
         value = \"99\"\nseverity = \"urgent\"\n\n\
         [[rule.severity_mapping]]\noperator = \"equals\"\nvalue = \"21\"\nseverity = \"low\"\n"
    );
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(rules.is_empty());
    assert!(errors.iter().all(|e| e.kind == LoadErrorKind::InvalidField));
    assert_eq!(
        placed(&errors),
        [
            (
                17,
                12,
                "`severity_mapping` item 1: `severity` must be one of low, medium, high, \
                 critical, not `urgent`"
            ),
            (
                19,
                1,
                "`severity_mapping` item 2 has no `field`: name the event field to read"
            ),
        ]
    );
    assert_eq!(
        errors[0].to_string(),
        "r.toml:17:12: error: `severity_mapping` item 1: `severity` must be one of low, \
         medium, high, critical, not `urgent`\n   |\n17 | severity = \"urgent\"\n   |            ^^^^^^^^"
    );

    // An inline array of inline tables is followed as deep.
    let text = format!(
        "{TOML_RULE}severity_mapping = [{{field = \"a\", value = 7, severity = \"low\"}}]\n"
    );
    let (_, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    let at = text.find("7,").unwrap_or_default();
    assert_eq!(
        placed(&errors),
        [(
            12,
            at - text[..at].rfind('\n').unwrap_or_default(),
            "`severity_mapping` item 1: `value` must be a string, found a number (write it \
             in quotes: \"7\")"
        )]
    );

    // Not a list at all.
    let text = format!("{TOML_RULE}severity_mapping = \"event.severity\"\n");
    let (_, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert_eq!(
        placed(&errors),
        [(
            12,
            20,
            "`severity_mapping` must be a list of tables, found a string"
        )]
    );
}

#[test]
fn kibana_exports_are_checked_in_both_shapes() {
    let api = r#"{"rule_id":"r1","name":"n","type":"eql","language":"eql","risk_score":21,"severity":"low","query":"any where true","severity_mapping":[{"field":"a","operator":"equals","value":"x","severity":"high"},{"field":"a","operator":"is","value":"y","severity":"low"}],"rule_name_override":7}"#;
    let (rules, errors) = load_str(api, Path::new("e.ndjson"), RuleFormat::KibanaNdjson);
    assert!(rules.is_empty());
    let column_of = |needle: &str| api.find(needle).map(|i| i + 1).unwrap_or_default();
    assert_eq!(
        placed(&errors),
        [
            (
                1,
                column_of(r#""is""#),
                "`severity_mapping` item 2: `operator` must be `equals`, the only one Kibana \
                 has, not `is`"
            ),
            (
                1,
                column_of("7}"),
                "`rule_name_override` must be a string naming an event field, found a number"
            ),
        ]
    );

    // A saved object holds the params in camelCase; its mappings are read
    // as the API's.
    let saved = r#"{"attributes":{"name":"n","alertTypeId":"siem.eqlRule","params":{"ruleId":"r9","type":"eql","language":"eql","riskScore":47,"severity":"medium","query":"any where true","riskScoreMapping":[{"field":"event.risk_score","operator":"equals","value":""}],"severityMapping":[{"field":"event.severity","operator":"equals","value":"73","severity":"loud"}]}},"id":"abc","type":"alert","references":[]}"#;
    let (_, errors) = load_str(saved, Path::new("e.ndjson"), RuleFormat::KibanaNdjson);
    assert_eq!(
        placed(&errors),
        [(
            1,
            saved.find(r#""loud""#).map(|i| i + 1).unwrap_or_default(),
            "`severity_mapping` item 1: `severity` must be one of low, medium, high, \
             critical, not `loud`"
        )]
    );
    let fixed = saved.replace("loud", "high");
    let (rules, errors) = load_str(&fixed, Path::new("e.ndjson"), RuleFormat::KibanaNdjson);
    assert!(errors.is_empty(), "{errors:?}");
    let o = rules[0].overrides();
    assert_eq!(o.severity[0].severity, Severity::High);
    assert_eq!(o.risk_score_field.as_deref(), Some("event.risk_score"));
}

#[test]
fn a_rule_page_overrides_its_rule_name() {
    let page = "# Some Rule\n\nDoes things.\n\n**Rule type**: eql\n\n**Severity**: high\n\n\
        **Risk score**: 73\n\n**Rule name override**: message\n\n\
        ## Rule query\n\n```js\nany where true\n```\n";
    let (rules, errors) = load_str(page, Path::new("p.md"), RuleFormat::Markdown);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rules[0].overrides().rule_name_field.as_deref(),
        Some("message")
    );
}

#[test]
fn alert_suppression_and_later_risk_score_entries_are_noted_not_errors() {
    let text = format!(
        "{TOML_RULE}\n[rule.alert_suppression]\ngroup_by = [\"host.name\"]\n\
         missing_fields_strategy = \"suppress\"\n\n[rule.alert_suppression.duration]\n\
         unit = \"h\"\nvalue = 1\n\n\
         [[rule.risk_score_mapping]]\nfield = \"a\"\n\n[[rule.risk_score_mapping]]\nfield = \"b\"\n"
    );
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let notes: Vec<String> = rules[0]
        .unapplied
        .iter()
        .map(|n| n.as_warning().to_string())
        .collect();
    assert_eq!(
        notes,
        [
            "r.toml:13:1: warning: rule \"Mapped\": `alert_suppression` is accepted but not \
             applied: talon writes an alert for every match, without grouping them by \
             `group_by` or suppressing repeats within `duration`\n   |\n13 | [rule.alert_suppression]\n   | ^^^^^^^^^^^^^^^^^^^^^^^^",
            "r.toml:24:1: warning: rule \"Mapped\": only the first `risk_score_mapping` item is \
             read, as Kibana reads it; item 2 is not applied\n   |\n24 | [[rule.risk_score_mapping]]\n   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        ]
    );
    // A rule without them has none.
    let (rules, _) = load_str(TOML_RULE, Path::new("r.toml"), RuleFormat::Toml);
    assert!(rules[0].unapplied.is_empty());
    assert!(rules[0].overrides().is_empty());
}

#[test]
fn a_max_signals_above_kibanas_per_run_limit_is_noted() {
    let text = TOML_RULE.replace("risk_score = 21", "risk_score = 21\nmax_signals = 5000");
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let notes: Vec<String> = rules[0]
        .unapplied
        .iter()
        .map(|n| n.message.clone())
        .collect();
    assert_eq!(
        notes,
        [
            "rule \"Mapped\": `max_signals` is 5000, above the 1000 alerts Kibana writes per rule \
          run (xpack.alerting.rules.run.alerts.max): with --schedule, as in Kibana, a run \
          writes 1000 at most"
        ]
    );
    assert_eq!(rules[0].alerts_per_run(), 1000);
    // At the limit, nothing to say.
    let text = TOML_RULE.replace("risk_score = 21", "risk_score = 21\nmax_signals = 1000");
    let (rules, _) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(rules[0].unapplied.is_empty(), "{:?}", rules[0].unapplied);
    assert_eq!(rules[0].alerts_per_run(), 1000);
}
