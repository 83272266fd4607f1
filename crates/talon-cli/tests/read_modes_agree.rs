//! Regressions from a fresh user's report: `talon hunt` gives the same
//! alerts and counts whether it reads only the fields its rules need (the
//! default) or every field (`--no-prefilter`), for lines whose `{` comes
//! after whitespace and for lines that hold, in a field no rule reads, a
//! number out of an `f64`'s range (refused) or an unpaired surrogate
//! escape (read as U+FFFD, as Elasticsearch indexes it).

mod common;

use std::path::Path;

use common::*;

const RULE: &str = r#"[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/01"

[rule]
author = ["t"]
description = "d"
from = "now-9m"
index = ["logs-*"]
language = "eql"
license = "Elastic License v2"
name = "Curl run"
risk_score = 21
rule_id = "00000000-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
query = '''
process where process.name like "curl"
'''
"#;

/// A curl event, with `extra` members appended at its top level.
fn curl(extra: &str) -> String {
    format!(
        "{{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{{\"category\":\"process\"}},\
         \"process\":{{\"name\":\"curl\"}}{extra}}}"
    )
}

/// `talon hunt` over `events` in `dir`, default or with `--no-prefilter`:
/// the alerts' uuids and the summary's lines.
fn hunt(dir: &Path, full: bool) -> (Vec<String>, String) {
    let mut c = talon();
    c.current_dir(dir).args([
        "hunt",
        "--rules",
        "rule.toml",
        "events.ndjson",
        "--all-indices",
        "--format",
        "jsonl",
    ]);
    if full {
        c.arg("--no-prefilter");
    }
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uuids = jsonl(&out)
        .iter()
        .map(|a| field(a, "kibana.alert.uuid").expect("uuid").to_string())
        .collect();
    (uuids, stderr(&out))
}

#[test]
fn reading_only_the_fields_rules_need_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rule.toml"), RULE).unwrap();
    let lines = [
        curl(""),
        format!("  \t{}", curl(",\"n\":1")),
        curl(",\"zz\":1e999"),
        curl(",\"zz\":[-1E400]"),
        curl(",\"zz\":\"\\udc00x\""),
        curl(",\"zz\":{\"\\ud800\":1}"),
        curl(",\"ok\":[1e300,\"\\ud83d\\ude00\"]"),
    ];
    std::fs::write(d.join("events.ndjson"), lines.join("\n") + "\n").unwrap();

    let (fast, fast_summary) = hunt(d, false);
    let (full, full_summary) = hunt(d, true);
    assert_eq!(fast, full, "the same alerts, ids included");
    assert_eq!(fast.len(), 5, "{fast_summary}");
    for summary in [&fast_summary, &full_summary] {
        assert!(
            summary.contains("read 5 events") && summary.contains("skipped 2: invalid-json 2\n"),
            "{summary}"
        );
        assert!(summary.contains("invalid-json"), "{summary}");
    }
    assert!(
        !fast_summary.contains("could not be built"),
        "{fast_summary}"
    );
}
