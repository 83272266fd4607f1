//! A rule without `index` through `talon hunt` and `talon check`: with
//! no `data_view_id` either it searches Kibana's default index patterns
//! (`securitySolution:defaultIndex`), so an event of `logs-endpoint...`
//! alerts and one of an index outside them does not; with a data view,
//! whose patterns talon cannot know, it searches every event and says so
//! once, at the key. It used to search every event without a word.

mod common;

use std::path::Path;

use common::{event_ids, field, jsonl, run, stderr, talon};
use serde_json::{json, Value};

/// Two sysctl execs, one in Elastic Defend's process data stream, one in
/// an index no default pattern names.
const EVENTS: &str = concat!(
    r#"{"_index":".ds-logs-endpoint.events.process-default-2026.11.30-000001","_id":"a","_source":{"@timestamp":"2026-11-30T10:00:00Z","event":{"id":"in-defaults","category":["process"],"type":["start"]},"process":{"name":"sysctl","pid":1},"host":{"name":"web-01"}}}"#,
    "\n",
    r#"{"_index":"my-app-events","_id":"b","_source":{"@timestamp":"2026-11-30T10:01:00Z","event":{"id":"outside","category":["process"],"type":["start"]},"process":{"name":"sysctl","pid":2},"host":{"name":"web-02"}}}"#,
    "\n",
);

const TOML_RULE: &str = r#"[metadata]
creation_date = "2024/11/04"
maturity = "production"
updated_date = "2026/03/24"

[rule]
author = ["Elastic"]
description = "Forwarding switched on."
from = "now-9m"
language = "eql"
license = "Elastic License v2"
name = "Forwarding Switched On"
risk_score = 21
rule_id = "7d3e1a52-0000-4000-8000-00000000000b"
severity = "low"
type = "eql"
query = '''
process where process.name == "sysctl"
'''
"#;

/// A Kibana export line of the same rule with a data view and no `index`.
const EXPORT_RULE: &str = concat!(
    r#"{"rule_id":"7d3e1a52-0000-4000-8000-00000000000c","name":"Viewed Forwarding","type":"eql","language":"eql","query":"process where process.name == \"sysctl\"","risk_score":21,"severity":"low","description":"d","data_view_id":"security-solution-default"}"#,
    "\n",
    r#"{"exported_count":1,"exported_rules_count":1,"missing_rules":[],"missing_rules_count":0}"#,
    "\n",
);

fn hunt(dir: &Path, rules: &str) -> (Vec<Value>, String) {
    let mut cmd = talon();
    cmd.current_dir(dir).args([
        "hunt",
        "--rules",
        rules,
        "--format",
        "jsonl",
        "events.ndjson",
    ]);
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    (jsonl(&out), err)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("written");
    std::fs::write(dir.join("events.ndjson"), EVENTS).expect("events written");
}

#[test]
fn no_index_searches_the_default_patterns() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "rule.toml", TOML_RULE);
    let (alerts, err) = hunt(dir.path(), "rule.toml");
    assert_eq!(event_ids(&alerts), ["in-defaults"], "{err}");
    assert!(!err.contains("warning"), "{err}");
    // Kibana writes what the run searched; the rule has no `index` param.
    assert_eq!(
        field(&alerts[0], "kibana.alert.rule.indices"),
        Some(&json!(talon_rules::DEFAULT_INDEX_PATTERNS))
    );
    let params = field(&alerts[0], "kibana.alert.rule.parameters").expect("parameters");
    assert_eq!(params.get("index"), None);

    // An empty list is written: Kibana passes it on, every index.
    let empty = TOML_RULE.replace("language = \"eql\"\n", "index = []\nlanguage = \"eql\"\n");
    write(dir.path(), "rule.toml", &empty);
    let (alerts, err) = hunt(dir.path(), "rule.toml");
    assert_eq!(event_ids(&alerts), ["in-defaults", "outside"], "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn a_data_view_searches_every_event_with_one_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "export.ndjson", EXPORT_RULE);
    let warning = "export.ndjson:1:225: warning: rule \"Viewed Forwarding\": `data_view_id` is \
                   accepted but not applied: Kibana searches the data view's index patterns, \
                   which talon cannot know, so talon searches every event (write `index` to \
                   choose)\n";

    let (alerts, err) = hunt(dir.path(), "export.ndjson");
    assert_eq!(event_ids(&alerts), ["in-defaults", "outside"], "{err}");
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    assert_eq!(err.matches("warning").count(), 1, "{err}");

    // `check` says it too, and counts it.
    let mut cmd = talon();
    cmd.current_dir(dir.path()).args(["check", "export.ndjson"]);
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches(warning).count(), 1, "{err}");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("1 warning"), "{summary}");
}
