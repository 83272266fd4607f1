//! Kibana's overrides through `talon hunt` and `talon check`: a rule file
//! with `severity_mapping`, `risk_score_mapping` and `rule_name_override`
//! over events written here, and what `check` says of a mapping Kibana
//! would refuse and of `alert_suppression`, which talon accepts but does
//! not apply.

mod common;

use std::path::Path;

use common::{field, jsonl, run, stderr, stdout, talon};
use serde_json::Value;

/// A detection-rules TOML rule (severity `low`, risk score 21) whose
/// alerts take their severity from `event.severity`, their risk score from
/// `event.risk_score` and their rule name from `message`.
const RULE: &str = r#"[metadata]
creation_date = "2024/11/04"
maturity = "production"
updated_date = "2026/03/24"

[rule]
author = ["Elastic"]
description = "Forwarding switched on, with the sensor's own verdict."
from = "now-9m"
index = ["logs-endpoint.events.process*"]
language = "eql"
license = "Elastic License v2"
name = "Forwarding Switched On"
risk_score = 21
rule_id = "7d3e1a52-0000-4000-8000-00000000000a"
rule_name_override = "message"
severity = "low"
type = "eql"
query = '''
process where process.name == "sysctl"
'''

[[rule.risk_score_mapping]]
field = "event.risk_score"
operator = "equals"
value = ""

[[rule.severity_mapping]]
field = "event.severity"
operator = "equals"
value = "21"
severity = "low"

[[rule.severity_mapping]]
field = "event.severity"
operator = "equals"
value = "73"
severity = "high"

[[rule.severity_mapping]]
field = "event.severity"
operator = "equals"
value = "99"
severity = "critical"
"#;

/// Two sysctl execs: the first carries the sensor's severity, risk score
/// and message, the second none of them.
const EVENTS: &str = concat!(
    r#"{"@timestamp":"2026-11-30T10:00:00Z","event":{"category":["process"],"type":["start"],"severity":73,"risk_score":"88"},"message":"sysctl enabled IP forwarding","process":{"name":"sysctl","pid":1},"host":{"name":"web-01"}}"#,
    "\n",
    r#"{"@timestamp":"2026-11-30T10:01:00Z","event":{"category":["process"],"type":["start"]},"process":{"name":"sysctl","pid":2},"host":{"name":"web-02"}}"#,
    "\n",
);

/// Writes the rule (with `rule`'s text) and the events into `dir`.
fn write_files(dir: &Path, rule: &str) {
    std::fs::write(dir.join("rule.toml"), rule).expect("rule written");
    std::fs::write(dir.join("events.ndjson"), EVENTS).expect("events written");
}

/// `talon hunt` over the events with `format`; stdout and stderr.
fn hunt(dir: &Path, format: &str) -> (std::process::Output, String) {
    let mut cmd = talon();
    cmd.current_dir(dir).args([
        "hunt",
        "--rules",
        "rule.toml",
        "--all-indices",
        "--format",
        format,
        "events.ndjson",
    ]);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    (out, err)
}

/// `talon check rule.toml` in `dir`: its output and its stderr.
fn check(dir: &Path) -> (std::process::Output, String) {
    let mut cmd = talon();
    cmd.current_dir(dir).args(["check", "rule.toml"]);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, err)
}

/// Severity, risk score and rule name of an alert.
fn stated(alert: &Value) -> (Value, Value, Value) {
    let get = |path: &str| field(alert, path).cloned().unwrap_or(Value::Null);
    (
        get("kibana.alert.severity"),
        get("kibana.alert.risk_score"),
        get("kibana.alert.rule.name"),
    )
}

#[test]
fn hunt_applies_the_overrides_to_each_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), RULE);
    let (out, err) = hunt(dir.path(), "jsonl");
    let alerts = jsonl(&out);
    assert_eq!(alerts.len(), 2, "{err}");
    assert_eq!(
        stated(&alerts[0]),
        (
            "high".into(),
            88.into(),
            "sysctl enabled IP forwarding".into()
        )
    );
    assert_eq!(
        stated(&alerts[1]),
        ("low".into(), 21.into(), "Forwarding Switched On".into())
    );
    // The rule's own values stay in its parameters.
    let params = field(&alerts[0], "kibana.alert.rule.parameters").cloned();
    let params = params.unwrap_or(Value::Null);
    assert_eq!(
        (&params["severity"], &params["risk_score"]),
        (&Value::from("low"), &Value::from(21))
    );
    // The summary counts alerts by the rule, whatever name they show.
    assert!(
        err.contains("Forwarding Switched On"),
        "the summary names the rule: {err}"
    );
    assert!(!err.contains("warning"), "{err}");

    // The CSV sink writes the alert built as a map: the same values.
    let (out, _) = hunt(dir.path(), "csv");
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .map(|l| l.splitn(6, ',').take(5).collect())
        .collect();
    assert_eq!(
        rows[0][1..5],
        [
            "kibana.alert.rule.name",
            "kibana.alert.rule.rule_id",
            "kibana.alert.severity",
            "kibana.alert.risk_score"
        ]
    );
    assert_eq!(rows[1][1], "sysctl enabled IP forwarding");
    assert_eq!(rows[1][3..5], ["high", "88"]);
    assert_eq!(rows[2][1], "Forwarding Switched On");
    assert_eq!(rows[2][3..5], ["low", "21"]);
}

#[test]
fn check_points_at_a_mapping_kibana_would_refuse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = RULE.replacen("severity = \"high\"", "severity = \"severe\"", 1);
    write_files(dir.path(), &broken);
    let (out, err) = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(
            "rule.toml:38:12: error: `severity_mapping` item 2: `severity` must be one of low, \
             medium, high, critical, not `severe`\n"
        ),
        "{err}"
    );
    assert!(err.contains("38 | severity = \"severe\"\n"), "{err}");
}

#[test]
fn alert_suppression_is_accepted_with_one_warning_per_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suppressed = format!(
        "{RULE}\n[rule.alert_suppression]\ngroup_by = [\"host.name\"]\n\
         missing_fields_strategy = \"suppress\"\n\n[rule.alert_suppression.duration]\n\
         unit = \"h\"\nvalue = 1\n"
    );
    write_files(dir.path(), &suppressed);
    let warning = "rule.toml:46:1: warning: rule \"Forwarding Switched On\": `alert_suppression` \
                   is accepted but not applied: talon writes an alert for every match, without \
                   grouping them by `group_by` or suppressing repeats within `duration`\n";

    let (out, err) = check(dir.path());
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("1 ok") && summary.contains("1 warning"),
        "{summary}"
    );

    // hunt says it once, not once per alert, and still alerts on both.
    let (out, err) = hunt(dir.path(), "jsonl");
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert_eq!(jsonl(&out).len(), 2);
}

#[test]
fn a_sequence_rule_keeps_its_own_values_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sequence = RULE.replace(
        "process where process.name == \"sysctl\"\n",
        "sequence [process where process.pid == 1] [process where process.pid == 2]\n",
    );
    write_files(dir.path(), &sequence);
    let (out, err) = hunt(dir.path(), "jsonl");
    let alerts = jsonl(&out);
    assert_eq!(alerts.len(), 3, "{err}");
    for alert in &alerts {
        assert_eq!(
            stated(alert),
            ("low".into(), 21.into(), "Forwarding Switched On".into())
        );
    }
    // Each at its place, with a caret (a fresh user found the file named
    // alone, which does not find the rule in an export of hundreds).
    for (at, key) in [
        ("rule.toml:16:22", "rule_name_override"),
        ("rule.toml:23:1", "risk_score_mapping"),
        ("rule.toml:28:1", "severity_mapping"),
    ] {
        assert!(
            err.contains(&format!(
                "{at}: warning: rule \"Forwarding Switched On\": `{key}` is accepted but not \
                 applied: the alerts of a sequence keep the rule's severity, risk score and \
                 name, as in Kibana\n"
            )),
            "{err}"
        );
    }
    assert!(
        err.contains("16 | rule_name_override = \"message\"\n   |                      ^^^^^^^^^"),
        "{err}"
    );
}

#[test]
fn rule_show_lists_the_overrides() {
    // Found by a fresh user: `rule show` named timestamp_override but
    // not what an event may say in the rule's place.
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), RULE);
    let mut cmd = talon();
    cmd.current_dir(dir.path())
        .args(["rule", "show", "rule.toml"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("_mapping") || l.contains("rule_name_override"))
        .map(str::trim)
        .collect();
    let squeezed: Vec<String> = rows
        .iter()
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        squeezed,
        [
            "severity_mapping low when event.severity is \"21\"",
            "severity_mapping high when event.severity is \"73\"",
            "severity_mapping critical when event.severity is \"99\"",
            "risk_score_mapping from event.risk_score",
            "rule_name_override from message",
        ],
        "{text}"
    );
}

/// A rule's `filters` (a Kibana rule export's, or `[[rule.filters]]` in
/// TOML) are ANDed with the query by Kibana, a `negate` one as must_not.
/// talon used to accept them without applying them (with a warning, once
/// per rule): this filter leaves out web-01, yet both events alerted. Now
/// it applies: web-02 alone alerts, and nothing is said; a disabled
/// filter (Kibana ignores it) leaves both alerting.
#[test]
fn filters_apply_and_a_disabled_one_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let filtered = format!(
        "{RULE}\n[[rule.filters]]\n[rule.filters.meta]\nnegate = true\ndisabled = false\n\
         key = \"host.name\"\n[rule.filters.query.match_phrase]\n\"host.name\" = \"web-01\"\n"
    );
    write_files(dir.path(), &filtered);

    let (out, err) = check(dir.path());
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("filter"), "{err}");

    let (out, err) = hunt(dir.path(), "jsonl");
    assert!(!err.contains("filter"), "{err}");
    let hosts: Vec<Value> = jsonl(&out)
        .iter()
        .map(|a| field(a, "host.name").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(hosts, [Value::from("web-02")]);

    // Disabled, or none: every match alerts.
    for unfiltered in [
        filtered.replace("disabled = false", "disabled = true"),
        RULE.replace(
            "[[rule.risk_score_mapping]]",
            "filters = []\n\n[[rule.risk_score_mapping]]",
        ),
    ] {
        write_files(dir.path(), &unfiltered);
        let (_, err) = check(dir.path());
        assert!(!err.contains("filters"), "{err}");
        let (out, _) = hunt(dir.path(), "jsonl");
        assert_eq!(jsonl(&out).len(), 2);
    }
}
