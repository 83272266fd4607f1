//! The bundled default (`talon hunt` with no arguments) and how the CLI
//! reports bad input: rule and mapping errors with file, line, column and
//! caret; bad event lines counted with their line; query errors with hints;
//! exit codes.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;

use common::*;
use serde_json::Value;

#[test]
fn bare_hunt_runs_the_bundled_rules_over_the_demo_events() {
    let mut c = talon();
    c.args(["hunt", "--format", "jsonl"]);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in jsonl(&out) {
        let rule = a["kibana.alert.rule.rule_id"]
            .as_str()
            .expect("rule_id")
            .to_string();
        let id = field(&a, "event.id")
            .and_then(Value::as_str)
            .expect("event.id")
            .to_string();
        got.entry(rule).or_default().push(id);
    }
    let text = std::fs::read_to_string(repo().join("demo/expected.json")).expect("expected");
    let want: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).expect("json");
    assert_eq!(got, want);
    let err = stderr(&out);
    // 120 lines: the 44 that hold some rule's literal are parsed, the
    // other 76 are counted without being parsed.
    assert!(
        err.contains("talon: read 44 events (and 76 more lines not parsed) from 1 input"),
        "{err}"
    );
    assert!(
        err.contains(
            "talon: 76 lines not parsed, so not checked for being JSON either: they hold no \
             text any loaded rule needs (--no-prefilter parses and checks every line)"
        ),
        "{err}"
    );
    assert!(
        err.contains("talon: 7 events matched, 7 alerts by 5 of 5 rules"),
        "{err}"
    );
}

#[test]
fn talon_without_a_command_prints_help() {
    let out = run(talon());
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("Usage: talon [OPTIONS] [COMMAND]"), "{s}");
    assert!(s.contains("hunt"), "{s}");
}

/// Stdin is read only when named: `talon hunt` with a pipe on stdin that
/// never closes (a CI step, `ssh`, a wrapper) runs its demo and ends,
/// saying stdin was not read; `-` reads the pipe.
#[test]
fn the_demo_ignores_an_open_stdin_pipe_and_dash_reads_it() {
    let mut child = talon()
        .args(["hunt", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("talon starts");
    // Held open, never written: the command must not wait for it.
    let _open = child.stdin.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("talon hunt waited on an open stdin pipe")
        .expect("output");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("hunting the bundled demo events (stdin is read only when named: `-`)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(jsonl(&out).len(), 7, "the demo's alerts");

    let mut c = talon();
    c.args(["query", "process where true", "--format", "jsonl"]);
    let out = run_with_stdin(c, b"{}\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no event files given (stdin is read only when named: pass `-`)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dash_hunts_piped_events_instead_of_the_demo() {
    let line = std::fs::read_to_string(repo().join("tests/fixtures/seed/defend.ndjson"))
        .expect("fixture")
        .lines()
        .next()
        .expect("a line")
        .to_string();
    let mut c = talon();
    c.args(["hunt", "--format", "jsonl", "-"]);
    let out = run_with_stdin(c, format!("{line}\n").as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("talon: read 1 event from 1 input"),
        "{}",
        stderr(&out)
    );
    assert_eq!(jsonl(&out).len(), 1);
}

#[test]
fn invalid_index_names_are_refused() {
    for (name, why) in [
        ("", "cannot be empty"),
        ("Logs-X", "lowercase"),
        ("a*b", "cannot contain `*`"),
    ] {
        let mut c = talon();
        c.args(["query", "any where true", "-", "--index", name]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        assert!(stderr(&out).contains(why), "{name:?}: {}", stderr(&out));
    }
}

#[test]
fn bad_event_lines_are_counted_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.ndjson");
    let good = r#"{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":"process"},"process":{"name":"sysctl"}}"#;
    std::fs::write(
        &path,
        format!("{good}\n{{not json\n{good}\n[1,2]\n\"text\"\n"),
    )
    .expect("write");
    let mut c = talon();
    c.args([
        "query",
        "process where process.name == \"sysctl\"",
        "--format",
        "jsonl",
    ])
    .arg(&path);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out).len(), 2);
    let err = stderr(&out);
    assert!(err.contains("talon: read 2 events from 1 input"), "{err}");
    assert!(
        err.contains("talon: skipped 4: invalid-json 1, not-an-object 3"),
        "{err}"
    );
    let shown = path.display().to_string();
    assert!(err.contains(&format!("{shown}:2:")), "line 2 named: {err}");
    assert!(err.contains(&format!("{shown}:4")), "line 4 named: {err}");
    assert!(err.contains(&format!("{shown}:5")), "line 5 named: {err}");
}

/// A plain hunt alerts on a matched event without a usable `@timestamp`
/// (none, not a date, out of range), and its alert has no
/// kibana.alert.original_time; the summary used to say nothing of them.
/// Now it counts them, those without the field apart from those holding
/// no date, and names the first of each (--schedule does not alert on
/// them, and says so).
#[test]
fn matched_events_without_a_usable_timestamp_are_counted_in_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sysctl = |timestamp: &str| {
        format!(
            r#"{{{timestamp}"event":{{"category":"process","type":"start","action":"exec"}},"host":{{"os":{{"type":"linux"}}}},"process":{{"name":"sysctl","args":["sysctl","-w","net.ipv4.ip_forward=1"],"command_line":"sysctl -w net.ipv4.ip_forward=1","parent":{{"executable":"/bin/bash","name":"bash"}}}},"data_stream":{{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}}}"#
        ) + "\n"
    };
    let dated = sysctl(r#""@timestamp":"2026-01-01T00:00:00Z","#);
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        [
            sysctl(""),
            dated.clone(),
            sysctl(r#""@timestamp":"yesterday","#),
            sysctl(r#""@timestamp":1e300,"#),
        ]
        .concat(),
    )
    .expect("write");
    let hunt = |args: &[&str]| {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--rules", "rules/"])
            .args(args)
            .arg(&events);
        run(c)
    };
    let out = hunt(&["--format", "jsonl"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let times: Vec<Option<String>> = jsonl(&out)
        .iter()
        .map(|a| {
            field(a, "kibana.alert.original_time")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let dated_time = Some("2026-01-01T00:00:00.000Z".to_string());
    assert_eq!(times, [None, dated_time, None, None], "{err}");
    let says = |err: &str, want: &str| assert!(err.contains(want), "{err}");
    // Each kind, with the first of it.
    let file = events.display();
    let untimed = format!(
        "talon: 2 matched events have an unusable `@timestamp` (first: {file}:3: \"yesterday\"): \
         their alerts have no kibana.alert.original_time\n\
         talon: 1 matched event has no `@timestamp` (first: {file}:1): its alerts have no \
         kibana.alert.original_time\n"
    );
    says(
        &err,
        &format!("talon: 4 events matched, 4 alerts by 1 of 5 rules\n{untimed}"),
    );
    // The same whatever the writer and the number of threads.
    let out = hunt(&["--format", "csv", "--threads", "3"]);
    says(&stderr(&out), &untimed);

    std::fs::write(&events, [dated.clone(), sysctl("")].concat()).expect("write");
    says(
        &stderr(&hunt(&["--format", "jsonl"])),
        &format!(
            "talon: 2 events matched, 2 alerts by 1 of 5 rules\n\
             talon: 1 matched event has no `@timestamp` (first: {file}:2): its alerts have no \
             kibana.alert.original_time\n"
        ),
    );
    std::fs::write(&events, dated).expect("write");
    let err = stderr(&hunt(&["--format", "jsonl"]));
    assert!(!err.contains("`@timestamp`"), "{err}");
}

#[test]
fn a_rule_with_a_query_error_is_reported_with_its_place_and_the_others_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = r#"[rule]
name = "Broken"
rule_id = "00000000-0000-0000-0000-000000000001"
type = "eql"
language = "eql"
risk_score = 21
severity = "low"
index = ["logs-*"]
query = '''
process where process.name == 'sysctl'
'''
"#;
    std::fs::write(dir.path().join("broken.toml"), bad).expect("write");
    let good = std::fs::read_to_string(
        repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml"),
    )
    .expect("bundled rule");
    std::fs::write(dir.path().join("good.toml"), good).expect("write");

    let mut c = talon();
    c.arg("check").arg(dir.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "check fails on an error");
    let err = stderr(&out);
    let file = dir.path().join("broken.toml").display().to_string();
    assert!(
        err.contains(&format!("{file}:10:31: error: ")),
        "file:line:col of the single-quoted string: {err}"
    );
    assert!(
        err.contains("10 | process where process.name == 'sysctl'"),
        "{err}"
    );
    assert!(err.contains("^^^^^^^^"), "caret under the span: {err}");
    assert!(err.contains("use double quotes: \"sysctl\""), "hint: {err}");
    let so = stdout(&out);
    assert!(
        so.contains("2 rules loaded from 2 files: 1 ok, 1 with query errors"),
        "{so}"
    );

    // hunt still runs the good rule.
    let mut c = talon();
    c.args(["hunt", "--format", "jsonl", "--rules"])
        .arg(dir.path())
        .arg(repo().join("tests/fixtures/seed/defend.ndjson"));
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(jsonl(&out).len(), 32);
    assert!(stderr(&out).contains(&format!("{file}:10:31: error: ")));
}

/// A detection-rules TOML rule laid out as the corpus's seed rule is
/// (`[metadata]`, `[rule]`, the query last, `[[rule.threat]]`), named
/// `name`, with `query` as its EQL.
fn seed_shaped_rule(name: &str, query: &str) -> String {
    format!(
        r#"[metadata]
creation_date = "2024/11/04"
integration = ["endpoint"]
maturity = "production"
updated_date = "2026/03/24"

[rule]
author = ["Elastic"]
description = """
Test rule: sysctl started on Linux.
"""
from = "now-9m"
index = ["logs-endpoint.events.process*"]
language = "eql"
license = "Elastic License v2"
name = "{name}"
risk_score = 21
rule_id = "5a138e2e-aec3-4240-9843-0000000dup01"
severity = "low"
tags = ["Domain: Endpoint", "OS: Linux"]
timestamp_override = "event.ingested"
type = "eql"
query = '''
{query}
'''

[[rule.threat]]
framework = "MITRE ATT&CK"

[rule.threat.tactic]
id = "TA0011"
name = "Command and Control"
reference = "https://attack.mitre.org/tactics/TA0011/"
"#
    )
}

#[test]
fn a_broken_first_copy_of_a_rule_id_does_not_keep_a_working_one_from_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    // Valid TOML whose query fails only when compiled; sorted first.
    let broken = rules.join("a_broken.toml");
    let working = rules.join("b_working.toml");
    std::fs::write(
        &broken,
        seed_shaped_rule("Broken copy", "process where process.name == = \"sysctl\""),
    )
    .expect("write");
    std::fs::write(
        &working,
        seed_shaped_rule(
            "Working copy",
            "process where host.os.type == \"linux\" and process.name == \"sysctl\"",
        ),
    )
    .expect("write");
    let (a, b) = (broken.display(), working.display());
    let duplicate = format!(
        "{b}:18:11: warning: duplicate rule_id `5a138e2e-aec3-4240-9843-0000000dup01`: \
         also loaded from {a}:18, which cannot run; this copy is used instead"
    );
    let query_error = format!("{a}:24:31: error: expected an expression, found `=`");
    // One Elastic Defend event of `sysctl` started on Linux.
    let fixture =
        std::fs::read_to_string(repo().join("tests/fixtures/seed/defend.ndjson")).expect("fixture");
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        format!("{}\n", fixture.lines().next().expect("a line")),
    )
    .expect("write");

    let mut c = talon();
    c.args(["hunt", "--format", "jsonl", "--rules"])
        .arg(&rules)
        .arg(&events);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let alerts = jsonl(&out);
    let names: Vec<&str> = alerts
        .iter()
        .map(|a| a["kibana.alert.rule.name"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(names, ["Working copy"], "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.contains(&duplicate.as_str()), "{err}");
    assert!(lines.contains(&query_error.as_str()), "{err}");
    assert!(
        lines.contains(&"24 | process where process.name == = \"sysctl\""),
        "{err}"
    );
    assert!(
        lines.contains(&"talon: rules: 1 running, 1 with errors, 0 not supported (-v lists them)"),
        "{err}"
    );

    let mut c = talon();
    c.arg("check").arg(&rules);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        stdout(&out),
        "2 rules loaded from 2 files: 1 ok, 1 with query errors, 0 load errors, 1 warning\n"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.contains(&duplicate.as_str()), "{err}");
    assert!(lines.contains(&query_error.as_str()), "{err}");

    // Named the other way round, the working copy holds the rule_id from
    // the start; the broken one is still said to be broken.
    let mut c = talon();
    c.arg("check").arg(&working).arg(&broken);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let ignored = format!(
        "{a}:18:11: error: duplicate rule_id `5a138e2e-aec3-4240-9843-0000000dup01`: \
         already loaded from {b}:18; this rule is ignored (it could not run anyway: its query \
         does not compile)"
    );
    assert!(err.lines().any(|l| l == ignored), "{err}");
}

#[test]
fn hunt_on_a_folder_without_rule_files_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "not a rule").expect("write");
    let d = dir.path().display();
    let mut c = talon();
    c.args(["hunt", "--rules"]).arg(dir.path()).arg("/dev/null");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "talon: error: no rule files found in {d} (rule files end in .toml, .ndjson, \
             .jsonl, .json, .md or .markdown); skipped {d}/notes.txt\n"
        )
    );
}

#[test]
fn a_toml_syntax_error_names_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.toml");
    std::fs::write(&path, "[rule]\nname = \"x\nrule_id = \"y\"\n").expect("write");
    let mut c = talon();
    c.arg("check").arg(&path);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
}

#[test]
fn query_errors_point_at_the_span_with_a_hint() {
    let mut c = talon();
    c.args([
        "query",
        "process where process.name == \"ba*\" and x = 1",
        "-",
    ]);
    let out = run_with_stdin(c, b"");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("<query>:1:43: error:"), "{err}");
    assert!(err.contains("use `==` to compare"), "{err}");
}

#[test]
fn equality_with_a_star_warns_did_you_mean_like() {
    let mut c = talon();
    c.args([
        "query",
        "process where process.name == \"ba*\"",
        "-",
        "--format",
        "jsonl",
    ]);
    let out = run_with_stdin(
        c,
        b"{\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"bash\"}}\n",
    );
    assert!(out.status.success());
    assert!(jsonl(&out).is_empty(), "== never expands *");
    let err = stderr(&out);
    assert!(err.contains("warning:"), "{err}");
    assert!(err.contains("like"), "{err}");
}

#[test]
fn a_missing_event_file_is_an_error_naming_it() {
    let mut c = talon();
    c.args(["hunt", "/nonexistent/events.ndjson"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/events.ndjson"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rule_show_renders_metadata_mitre_query_and_guide() {
    let mut c = talon();
    c.args(["rule", "show", "95719b51-e9e0-446d-8fe3-b0ab368dbd75"]);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.starts_with("IPv4/IPv6 Forwarding Switched On via sysctl or procfs\n"),
        "{s}"
    );
    assert!(
        s.contains("  severity             low (risk score 21)"),
        "{s}"
    );
    assert!(
        s.contains("every 5m, looking back to now-9m, at most 100 alerts a run"),
        "{s}"
    );
    assert!(
        s.contains("  TA0011 Command and Control (MITRE ATT&CK)"),
        "{s}"
    );
    assert!(s.contains("      T1090.001 Internal Proxy"), "{s}");
    assert!(s.contains("Investigation guide"), "{s}");
    assert!(
        s.contains("Query\n  process where host.os.type == \"linux\""),
        "{s}"
    );
}

#[test]
fn query_es_format_is_the_eql_search_response_body() {
    let mut c = talon();
    c.args([
        "query",
        "process where process.name == \"sysctl\" | head 2",
        "--format",
        "es",
        "-q",
    ])
    .arg(repo().join("tests/fixtures/seed/search-response.json"));
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    let body: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(body["is_partial"], false);
    assert_eq!(body["timed_out"], false);
    let events = body["hits"]["events"].as_array().expect("events");
    assert!(!events.is_empty());
    assert_eq!(
        events[0]["_index"],
        ".ds-logs-endpoint.events.process-default-2026.11.30-000001"
    );
    assert!(events[0]["_id"].is_string());
    assert!(events[0]["_source"]["process"].is_object());
    assert_eq!(body["hits"]["total"]["relation"], "eq");
}

#[test]
fn a_field_missing_from_the_mapping_is_an_error_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = dir.path().join("m.json");
    std::fs::write(
        &mapping,
        r#"{"properties":{"process":{"properties":{"name":{"type":"keyword"}}}}}"#,
    )
    .expect("write");
    let mut c = talon();
    c.args(["query", "process where key_path : \"x\"", "-", "--mapping"])
        .arg(&mapping);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("<query>:1:15: error: unknown field `key_path`"),
        "{err}"
    );
    assert!(
        err.contains("write `?key_path` if some events lack it"),
        "{err}"
    );
}

#[test]
fn a_mapping_json_error_names_line_and_column_and_shows_a_caret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = dir.path().join("m.json");
    std::fs::write(&mapping, "{\n  \"a\": ,\n}").expect("write");
    let schema = dir.path().join("s.json");
    // serde_json says column 0 for an error at the start of a line.
    std::fs::write(&schema, "{\n  \"a\": 1,\n").expect("write");
    let m = mapping.display();
    let s = schema.display();

    let mut c = talon();
    c.args(["hunt", "--mapping"]).arg(&mapping).arg("-");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "talon: error: {m}:2:8: invalid mapping JSON: expected value\n  |\n\
             2 |   \"a\": ,\n  |        ^\n"
        )
    );

    let mut c = talon();
    c.args(["check", "--schema"])
        .arg(&schema)
        .arg(repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml"));
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "talon: error: {s}:3:1: invalid schema JSON: \
             EOF while parsing a value\n  |\n3 | \n  | ^\n"
        )
    );
}

#[test]
fn a_mapping_with_a_byte_order_mark_loads_and_its_columns_ignore_the_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        "\u{feff}{\"properties\":{\"process\":{\"properties\":{\"pid\":{\"type\":\"long\"}}}}}",
    )
    .expect("write");
    let mut c = talon();
    c.args([
        "query",
        "process where process.pid == 7",
        "-",
        "--format",
        "jsonl",
        "-q",
        "--mapping",
    ])
    .arg(&good);
    let out = run_with_stdin(
        c,
        b"{\"id\":1,\"process\":{\"pid\":\"7\"},\"event\":{\"category\":\"process\"}}\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids: Vec<i64> = jsonl(&out)
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, [1]);

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "\u{feff}{ ,}").expect("write");
    let b = bad.display();
    let mut c = talon();
    c.args(["hunt", "--mapping"]).arg(&bad).arg("-");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "talon: error: {b}:1:3: invalid mapping JSON: key must be a string\n  |\n\
             1 | {{ ,}}\n  |   ^\n"
        )
    );
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_at_its_first_bad_byte() {
    // Mapping, schema, exception list, value list and talon.toml: each
    // named only "stream did not contain valid UTF-8", not where.
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let rule = repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml");
    // The file, how it is given, what it is, and where its bad byte is:
    // line, column, and that line as shown (the byte as U+FFFD).
    let cases = [
        (
            write(
                "m.json",
                b"{\n  \"properties\": {\"h\xffst\": {\"type\": \"keyword\"}}}",
            ),
            "hunt",
            "--mapping",
            "mapping",
            2,
            20,
            "  \"properties\": {\"h\u{fffd}st\": {\"type\": \"keyword\"}}}",
        ),
        (
            write("s.txt", b"process.name keyword\nhost.n\xe9me keyword\n"),
            "check",
            "--schema",
            "schema",
            2,
            7,
            "host.n\u{fffd}me keyword",
        ),
        (
            write("e.ndjson", b"{\"list_id\":\"l\",\"name\":\"caf\xe9\"}\n"),
            "hunt",
            "--exceptions",
            "exception list export",
            1,
            27,
            "{\"list_id\":\"l\",\"name\":\"caf\u{fffd}\"}",
        ),
        (
            write("admins.txt", b"root\nadm\xc3\n"),
            "hunt",
            "--value-list",
            "value list",
            2,
            4,
            "adm\u{fffd}",
        ),
        (
            write("talon.toml", b"[silence]\nhosts = [\"web-\xff\"]\n"),
            "hunt",
            "--config",
            "config file",
            2,
            15,
            "hosts = [\"web-\u{fffd}\"]",
        ),
    ];
    for (path, command, flag, what, line, column, text) in cases {
        let mut c = talon();
        c.args([command, flag]);
        match flag {
            "--value-list" => c.arg(format!("admins={}", path.display())),
            _ => c.arg(&path),
        };
        match command {
            "check" => c.arg(&rule),
            _ => c.arg("--rules").arg(&rule).arg("-"),
        };
        let out = run_with_stdin(c, b"");
        let byte = std::fs::read(&path)
            .expect("read")
            .into_iter()
            .find(|b| *b >= 0x80)
            .expect("a byte past ASCII");
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "talon: error: {}:{line}:{column}: the {what} is not valid UTF-8 here \
                 (byte 0x{byte:02x})\n  |\n{line} | {text}\n  | {}^\n",
                path.display(),
                " ".repeat(column - 1)
            ),
            "{what}"
        );
    }
}

#[test]
fn multi_valued_timestamps_sort_by_their_smallest_value() {
    let events = [
        r#"{"id":1,"@timestamp":"2026-01-01T00:00:05Z","event":{"category":"process"}}"#,
        r#"{"id":2,"@timestamp":["2026-01-01T00:00:09Z","2026-01-01T00:00:01Z"],"event":{"category":"process"}}"#,
    ];
    let mut c = talon();
    c.args([
        "query",
        "process where true",
        "-",
        "--format",
        "jsonl",
        "-q",
    ]);
    let out = run_with_stdin(c, format!("{}\n{}\n", events[0], events[1]).as_bytes());
    let ids: Vec<i64> = jsonl(&out)
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, [2, 1]);
}
