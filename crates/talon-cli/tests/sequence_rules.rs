//! Every prebuilt sequence, sample and missing-event rule, end to end:
//! `talon synth` writes an event stream for the rule, and `talon hunt` over
//! it must raise exactly one sequence alert (one shell alert plus a
//! building block per event, all in one `kibana.alert.group.id`).

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn sequence_rules(corpora: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in walk(&corpora.join("detection-rules/rules")) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let rule = doc.get("rule");
        if rule
            .and_then(|r| r.get("language"))
            .and_then(|l| l.as_str())
            != Some("eql")
        {
            continue;
        }
        let q = rule
            .and_then(|r| r.get("query"))
            .and_then(|q| q.as_str())
            .unwrap_or("");
        let q = strip_comments(q);
        if q.starts_with("sequence") || q.starts_with("sample") {
            out.push(entry);
        }
    }
    out.sort();
    out
}

/// The query without leading whitespace and comments.
fn strip_comments(mut q: &str) -> &str {
    loop {
        q = q.trim_start();
        if let Some(rest) = q.strip_prefix("//") {
            q = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(rest) = q.strip_prefix("/*") {
            q = rest.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            return q;
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    out
}

/// Prebuilt sequence rules that no events can fire, in Elasticsearch as
/// in talon: a condition on a join key is shared with the other terms
/// (Elasticsearch's `PropagateJoinKeyConstraints`), and in these the first
/// term's `not startswith~(winlog.computer_name, substring(user.name, 0,
/// -1))` meets the second's `startswith~(...)` of the same key.
const NEVER_FIRE: &[&str] = &[
    "windows/credential_access_dollar_account_relay_kerberos.toml",
    "windows/credential_access_dollar_account_relay_ntlm.toml",
];

#[test]
fn every_prebuilt_sequence_and_sample_rule_fires_once_on_its_synthesized_stream() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    let rules = sequence_rules(&corpora);
    assert_eq!(rules.len(), 201, "198 sequences and 3 samples");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let stream = dir.path().join(format!("{i}.ndjson"));
        let mut synth = talon();
        synth
            .arg("synth")
            .arg(rule)
            .args(["-q", "--output"])
            .arg(&stream);
        let out = run(synth);
        let never = NEVER_FIRE.iter().any(|n| rule.ends_with(n));
        if never {
            // Synth must say so, not make a stream.
            let err = stderr(&out);
            if out.status.success() || !err.contains("talon found no event that makes it fire") {
                failures.push(format!(
                    "{}: Elasticsearch never fires it, but synth said: {err}",
                    rule.display()
                ));
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!(
                "{}: synth failed: {}",
                rule.display(),
                stderr(&out)
            ));
            continue;
        }
        let mut hunt = talon();
        hunt.arg("hunt")
            .arg("--rules")
            .arg(rule)
            .arg(&stream)
            .args(["--format", "jsonl", "-q"]);
        let out = run(hunt);
        let alerts = jsonl(&out);
        let shells: Vec<&Value> =
            // The shell alert is the one without a place in the group
            // (building blocks carry `kibana.alert.group.index`); a
            // building-block rule's shell is itself a building block.
            alerts.iter().filter(|a| a.get("kibana.alert.group.index").is_none()).collect();
        let groups: std::collections::BTreeSet<String> = alerts
            .iter()
            .filter_map(|a| {
                a.get("kibana.alert.group.id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        if shells.len() != 1 || groups.len() != 1 || alerts.len() < 2 {
            failures.push(format!(
                "{}: {} alerts, {} shells, {} groups; stderr: {}",
                rule.display(),
                alerts.len(),
                shells.len(),
                groups.len(),
                stderr(&out)
            ));
        }
    }
    println!(
        "{}/{} sequence and sample rules fire exactly once",
        rules.len() - failures.len(),
        rules.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} rules misbehaved (listed above)",
        failures.len()
    );
}

const DOWNLOAD_EXEC: &str = r#"[rule]
name = "Download then execute"
rule_id = "11111111-2222-3333-4444-555555555555"
type = "eql"
language = "eql"
risk_score = 47
severity = "medium"
index = ["logs-endpoint.events.*"]
query = '''
sequence by host.id with maxspan=10m
  [network where process.name == "curl"]
  [process where process.parent.name == "curl"]
'''
"#;

fn ev(ts: &str, cat: &str, body: &str) -> String {
    format!(
        r#"{{"@timestamp":"{ts}","event":{{"category":["{cat}"]}},"host":{{"id":"h1"}},"data_stream":{{"type":"logs","dataset":"endpoint.events.{cat}","namespace":"default"}},{body}}}"#
    )
}

/// The rule's two events, a minute apart, in order.
fn curl_then_shell() -> [String; 2] {
    [
        ev(
            "2026-01-01T00:01:00Z",
            "network",
            r#""process":{"name":"curl"}"#,
        ),
        ev(
            "2026-01-01T00:02:00Z",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
    ]
}

/// `talon hunt --format jsonl` with the TOML `rule` over `events` (one
/// per line) and `args`, which must succeed: the alerts and stderr.
fn hunt_rule(rule: &str, events: &[String], args: &[&str]) -> (Vec<Value>, String) {
    let out = hunt_output(rule, events, &[&["--format", "jsonl"], args].concat());
    (jsonl(&out), stderr(&out))
}

/// `talon hunt` with the TOML `rule` over `events` (one per line, in
/// `e.ndjson`) and `args`, which must succeed.
fn hunt_output(rule: &str, events: &[String], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("r.toml");
    std::fs::write(&rule_file, rule).expect("write");
    let data = dir.path().join("e.ndjson");
    std::fs::write(&data, events.join("\n")).expect("write");
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(&rule_file)
        .arg(&data)
        .args(args);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// A sequence rule's event without `@timestamp` is named by its file and
/// line. The JSON alert path copied events with line 0, so the warning
/// said `e.ndjson:0` unless `--no-prefilter` was given.
#[test]
fn an_untimed_sequence_event_is_named_by_its_line_in_every_mode() {
    let [network, _] = curl_then_shell();
    let untimed = r#"{"event":{"category":["process"]},"host":{"id":"h1"},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"},"process":{"name":"sh","parent":{"name":"curl"}}}"#;
    let events = [network, untimed.to_owned()];
    for args in [&[][..], &["--threads", "2"], &["--no-prefilter"]] {
        let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &events, args);
        assert!(alerts.is_empty(), "{args:?}: {alerts:?}");
        assert!(
            err.contains(
                "talon: warning: Download then execute: 1 event(s) without a usable timestamp \
                 were not matched (1 without `@timestamp`, first: "
            ),
            "{args:?}: {err}"
        );
        assert!(err.contains("/e.ndjson:2)\n"), "{args:?}: {err}");
    }
}

/// Two events that share both values of a multi-valued `by` field make
/// two sequences (one per join key, as Elasticsearch answers), whose
/// alerts have the same ids: they depend on the events and the rule only.
/// Both groups were written, so six alerts held three ids; Kibana keeps
/// one document per id.
#[test]
fn sequences_of_the_same_events_on_a_multi_valued_key_are_alerted_once() {
    let rule = DOWNLOAD_EXEC.replace("sequence by host.id", "sequence by user.name");
    let events = curl_then_shell().map(|e| e.replacen('{', r#"{"user":{"name":["a","b"]},"#, 1));
    for args in [&[][..], &["--threads", "2"]] {
        let (alerts, err) = hunt_rule(&rule, &events, args);
        let mut ids: Vec<&str> = alerts
            .iter()
            .filter_map(|a| a["kibana.alert.uuid"].as_str())
            .collect();
        assert_eq!(ids.len(), 3, "{args:?}: {err}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 3, "{args:?}: {err}");
        assert!(
            err.contains("talon: 0 events matched, 2 sequences, 3 alerts by 1 of 1 rule"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("talon: 1 sequence(s) held the same events as one alerted before"),
            "{args:?}: {err}"
        );
    }
    // The table and CSV writers take alerts as documents, by another path.
    let out = hunt_output(&rule, &events, &["--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}\n{}", stderr(&out));
}

fn hunt_seq(events: &[String], window: &str) -> (usize, String) {
    let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, events, &["--reorder-window", window]);
    let shells = alerts
        .iter()
        .filter(|a| a.get("kibana.alert.group.index").is_none())
        .count();
    (shells, err)
}

#[test]
fn out_of_order_input_is_reordered_within_the_window_and_late_events_are_reported() {
    // The process start is written before the network event it follows.
    let events = [
        ev(
            "2026-01-01T00:02:00Z",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
        ev(
            "2026-01-01T00:01:00Z",
            "network",
            r#""process":{"name":"curl"}"#,
        ),
    ];
    let (shells, err) = hunt_seq(&events, "5m");
    assert_eq!(shells, 1, "{err}");
    assert!(
        err.contains("talon: 0 events matched, 1 sequence, 3 alerts by 1 of 1 rule"),
        "{err}"
    );

    // With a 10 s window the network event is too late to be matched in
    // order: no alert, and a warning that names the rule and the count.
    let (shells, err) = hunt_seq(&events, "10s");
    assert_eq!(shells, 0, "{err}");
    assert!(
        err.contains(
            "talon: warning: Download then execute: 1 matching event(s) arrived more than 10s out of order \
             and were not matched (the first, "
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "e.ndjson:2, was 1m behind the newest time read before it); the newest time read was \
             2026-01-01T00:02:00.000Z: an event dated far ahead of the others, or inputs read one \
             after another whose times overlap, make the rest late; sort the input, or give \
             --reorder-window 1m to take them all"
        ),
        "{err}"
    );
}

/// A late event that fills only the `until` term (or a missing one) was
/// handed to the rule as a stand-in without its place, so the warning
/// named it `:0`; it names its file and line, as for any other term.
#[test]
fn a_late_until_event_is_named_by_its_file_and_line() {
    let rule = DOWNLOAD_EXEC.replace(
        "[process where process.parent.name == \"curl\"]\n",
        "[process where process.parent.name == \"curl\"]\nuntil [process where process.name == \"logout\"]\n",
    );
    assert!(rule.contains("until"), "{rule}");
    let [network, shell] = curl_then_shell();
    let logout = ev(
        "2026-01-01T00:00:30Z",
        "process",
        r#""process":{"name":"logout"}"#,
    );
    let (alerts, err) = hunt_rule(
        &rule,
        &[network, shell, logout],
        &["--reorder-window", "10s"],
    );
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(
        err.contains(
            "1 matching event(s) arrived more than 10s out of order and were not matched \
             (the first, "
        ),
        "{err}"
    );
    assert!(
        err.contains("e.ndjson:3, was 1m30s behind the newest time read before it)"),
        "{err}"
    );
}

/// One event dated years ahead, in an index the rule does not search,
/// moved the rule's clock: every event after it was late, and the
/// sequence was lost. Only events a sequence rule searches move its time.
#[test]
fn an_event_no_sequence_rule_searches_does_not_move_their_time() {
    let other = r#"{"@timestamp":"2030-06-01T00:00:00Z","event":{"category":["process"]},"data_stream":{"type":"logs","dataset":"some.other","namespace":"default"}}"#;
    let [download, run] = curl_then_shell();
    let events = [other.to_string(), download, run];
    let (shells, err) = hunt_seq(&events, "5m");
    assert_eq!(shells, 1, "{err}");
    assert!(!err.contains("out of order"), "{err}");
}

#[test]
fn exceptions_keep_excepted_events_out_of_a_rules_sequences() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("r.toml");
    std::fs::write(&rule, DOWNLOAD_EXEC).expect("write");
    let events = [
        ev(
            "2026-01-01T00:01:00Z",
            "network",
            r#""process":{"name":"curl"},"user":{"name":"ci"}"#,
        ),
        ev(
            "2026-01-01T00:02:00Z",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
    ];
    let data = dir.path().join("e.ndjson");
    std::fs::write(&data, events.join("\n")).expect("write");
    let config = dir.path().join("talon.toml");
    std::fs::write(
        &config,
        r#"[[exceptions]]
rule_id = "11111111-2222-3333-4444-555555555555"
entries = [ { field = "user.name", operator = "included", type = "match", value = "ci" } ]
"#,
    )
    .expect("write");
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(&rule)
        .arg(&data)
        .args(["--format", "jsonl", "--config"])
        .arg(&config);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        jsonl(&out).is_empty(),
        "the excepted network event cannot start the sequence"
    );
    assert!(
        stderr(&out).contains("talon: 1 match suppressed by exceptions\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn schedule_replay_returns_a_sequence_only_from_a_run_whose_window_holds_it_whole() {
    // The rule runs every 5m over now-6m (the defaults); maxspan is 10m.
    let inside = curl_then_shell();
    let spread = [
        ev(
            "2026-01-01T00:00:30Z",
            "network",
            r#""process":{"name":"curl"}"#,
        ),
        ev(
            "2026-01-01T00:08:00Z",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("r.toml");
    std::fs::write(&rule, DOWNLOAD_EXEC).expect("write");
    let run_with = |events: &[String], schedule: bool| {
        let data = dir.path().join("e.ndjson");
        std::fs::write(&data, events.join("\n")).expect("write");
        let mut c = talon();
        c.arg("hunt")
            .arg("--rules")
            .arg(&rule)
            .arg(&data)
            .args(["--format", "jsonl", "-q"]);
        if schedule {
            c.arg("--schedule");
        }
        let out = run(c);
        assert!(out.status.success(), "{}", stderr(&out));
        jsonl(&out)
            .iter()
            .filter(|a| a.get("kibana.alert.group.index").is_none())
            .count()
    };
    assert_eq!(
        run_with(&inside, true),
        1,
        "one run holds both events: one group, not one per overlapping run"
    );
    assert_eq!(
        run_with(&spread, false),
        1,
        "without --schedule every sequence alerts"
    );
    assert_eq!(
        run_with(&spread, true),
        0,
        "7.5 minutes apart: no 6-minute window holds both"
    );
}

/// Events that only fill a missing term are handed to the rule without a
/// copy of their fields (their time and keys decide); the sequences they
/// leave standing still show their own events whole.
#[test]
fn a_sequence_shows_its_own_events_around_events_that_only_fill_a_missing_term() {
    let rule = r#"[rule]
name = "A then C without B"
rule_id = "11111111-2222-3333-4444-666666666666"
type = "eql"
language = "eql"
risk_score = 47
severity = "medium"
index = ["logs-endpoint.events.*"]
query = '''
sequence by host.id with maxspan=10m
  [process where event.action == "a"]
  ![process where event.action == "b"]
  [process where event.action == "c"]
'''
"#;
    let e = |minute: u32, action: &str, id: &str, host: &str| {
        format!(
            r#"{{"@timestamp":"2026-01-01T00:0{minute}:00Z","event":{{"category":["process"],"action":"{action}","id":"{id}"}},"host":{{"id":"{host}"}},"process":{{"name":"p-{id}"}},"data_stream":{{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}}}"#
        )
    };
    // h1: a, c with b only on other hosts: one sequence. h3: b between a
    // and c: none.
    let events = [
        e(1, "b", "e1", "h2"),
        e(2, "a", "e2", "h1"),
        e(2, "a", "e3", "h3"),
        e(3, "b", "e4", "h2"),
        e(4, "b", "e5", "h3"),
        e(5, "c", "e6", "h1"),
        e(6, "c", "e7", "h3"),
    ];
    for threads in ["1", "2"] {
        let (alerts, _) = hunt_rule(rule, &events, &["--threads", threads]);
        let blocks: Vec<(String, String, String)> = alerts
            .iter()
            .filter(|a| a["kibana.alert.building_block_type"] == "default")
            .map(|a| {
                (
                    a["kibana.alert.original_event.id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    a["host"]["id"].as_str().unwrap_or("").to_string(),
                    a["process"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let want = [("e2", "h1", "p-e2"), ("e6", "h1", "p-e6")]
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(blocks, want, "--threads {threads}: {alerts:?}");
        assert_eq!(
            alerts.len(),
            3,
            "--threads {threads}: one shell, two blocks"
        );
    }
}

#[test]
fn the_summary_counts_samples_as_samples() {
    // Found by a fresh user: a sample rule's finds were called sequences.
    let sample = DOWNLOAD_EXEC.replace("sequence by host.id with maxspan=10m", "sample by host.id");
    let (alerts, err) = hunt_rule(&sample, &curl_then_shell(), &[]);
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(
        err.contains("talon: 0 events matched, 1 sample, 3 alerts by 1 of 1 rule"),
        "{err}"
    );
    // Both kinds loaded: each is counted apart.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("seq.toml"), DOWNLOAD_EXEC).expect("write");
    let other = sample.replace("11111111-2222", "99999999-2222");
    std::fs::write(dir.path().join("sample.toml"), other).expect("write");
    let data = dir.path().join("e.ndjson");
    std::fs::write(&data, curl_then_shell().join("\n")).expect("write");
    let out = hunt_folder(dir.path(), &data, &[]);
    assert!(
        stderr(&out)
            .contains("talon: 0 events matched, 1 sequence, 1 sample, 6 alerts by 2 of 2 rules"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn files_read_one_after_another_are_named_with_the_window_that_takes_them() {
    // Found by a fresh user: two hosts' exports, each sorted, each with a
    // sequence at 00:30; the second file's events are late once the first
    // has been read to 00:59, and the warning blamed "an event dated far
    // ahead" without saying which window would do.
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("r.toml");
    std::fs::write(&rule, DOWNLOAD_EXEC).expect("write");
    for host in ["a", "b"] {
        let mut lines = Vec::new();
        for m in [0, 29, 30, 59] {
            let ts = format!("2026-01-01T00:{m:02}:00Z");
            let event = match m {
                29 => ev(&ts, "network", r#""process":{"name":"curl"}"#),
                30 => ev(
                    &ts,
                    "process",
                    r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
                ),
                _ => ev(&ts, "process", r#""process":{"name":"ls"}"#),
            };
            lines.push(event.replace(r#""id":"h1""#, &format!(r#""id":"{host}""#)));
        }
        std::fs::write(dir.path().join(format!("{host}.ndjson")), lines.join("\n")).expect("write");
    }
    let hunt = |window: &str| {
        let mut c = talon();
        c.current_dir(dir.path())
            .args([
                "hunt",
                "--rules",
                "r.toml",
                "a.ndjson",
                "b.ndjson",
                "-o",
                "/dev/null",
            ])
            .args(["--reorder-window", window]);
        stderr(&run(c))
    };
    let err = hunt("5m");
    assert!(err.contains("1 sequence, 3 alerts"), "{err}");
    assert!(
        err.contains(
            "2 matching event(s) arrived more than 5m out of order and were not matched (the \
             first, b.ndjson:2, was 30m behind the newest time read before it)"
        ),
        "{err}"
    );
    assert!(
        err.contains("give --reorder-window 30m to take them all"),
        "{err}"
    );
    // The window it names does take them.
    let err = hunt("30m");
    assert!(err.contains("2 sequences, 6 alerts"), "{err}");
    assert!(!err.contains("out of order"), "{err}");
}

#[test]
fn events_without_a_join_key_are_counted_and_the_key_named() {
    // Found by a fresh user: auditd events normalized without `host.id`
    // never joined a `sequence by host.id` rule, and nothing said why.
    let events: Vec<String> = curl_then_shell()
        .iter()
        .map(|e| without_host_id(e))
        .collect();
    let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &events, &[]);
    assert!(alerts.is_empty(), "{err}");
    assert!(
        err.contains(
            "talon: warning: Download then execute: events match its term 1 but have no value \
             for the join key `host.id` (first: "
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "e.ndjson:1), and none that has one does, so the rule cannot fire; check that the \
             source writes it"
        ),
        "{err}"
    );
    // When some events have the key, the others are left unjoined, as
    // Elasticsearch leaves them, without a warning.
    let mut mixed = curl_then_shell().to_vec();
    mixed.extend(events.iter().cloned());
    let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &mixed, &[]);
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(!err.contains("join key"), "{err}");
    // Found by the next fresh user: one term's key missing on every event
    // that matches it (the first term fills with its key, the second
    // never can) is just as fatal, and is named by its term.
    let per_term = DOWNLOAD_EXEC.replace(
        "sequence by host.id with maxspan=10m\n  [network where process.name == \"curl\"]\n  [process where process.parent.name == \"curl\"]",
        // (Term 1's key is not a field its condition reads: a condition on
        // a key is shared with the other terms, as Elasticsearch shares it.)
        "sequence with maxspan=10m\n  [network where process.name == \"curl\"] by host.id\n  [process where process.parent.name == \"curl\"] by process.parent.entity_id",
    );
    assert_ne!(per_term, DOWNLOAD_EXEC);
    let (alerts, err) = hunt_rule(&per_term, &curl_then_shell(), &[]);
    assert!(alerts.is_empty(), "{err}");
    assert!(
        err.contains(
            "events match its term 2 but have no value for the join key \
             `process.parent.entity_id` (first: "
        ),
        "{err}"
    );
    assert!(
        err.contains("e.ndjson:2), and none that has one does"),
        "{err}"
    );
    // With the key, no such warning.
    let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &curl_then_shell(), &[]);
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(!err.contains("join key"), "{err}");
}

/// An event the rule's filters leave out is no event for its sequence:
/// it fills no term and settles none. It used to settle the term it
/// matched but for its key, so the next keyless event, which the filters
/// keep, was not looked at and the rule's "cannot fire" warning was lost.
#[test]
fn an_event_the_filters_leave_out_does_not_hide_a_missing_key() {
    let rule = format!(
        "{DOWNLOAD_EXEC}\n[[rule.filters]]\nquery = {{ term = {{ \"user.name\" = \"alice\" }} }}\n"
    )
    .replace("[rule]\n", "");
    let rule = format!("[rule]\n{rule}");
    let [network, shell] = curl_then_shell();
    let as_user = |e: &str, user: &str| {
        without_host_id(e).replace(
            r#""process":"#,
            &format!(r#""user":{{"name":"{user}"}},"process":"#),
        )
    };
    let events = [
        as_user(&network, "bob"),
        as_user(&network, "alice"),
        as_user(&shell, "alice"),
    ];
    let (alerts, err) = hunt_rule(&rule, &events, &[]);
    assert!(alerts.is_empty(), "{err}");
    assert!(
        err.contains(
            "events match its term 1 but have no value for the join key `host.id` (first: "
        ),
        "{err}"
    );
    assert!(
        err.contains("e.ndjson:2), and none that has one does"),
        "{err}"
    );
}

/// Which event a "cannot fire" warning names is the first in input order
/// whatever the thread count. Each thread stopped looking once any thread
/// had seen such an event, so the second thread, starting on the next
/// batch while the first parsed half a megabyte, often named its own.
#[test]
fn the_event_named_for_a_missing_key_is_the_same_on_one_thread_and_two() {
    let [network, _] = curl_then_shell();
    let keyless = without_host_id(&network);
    let pad = format!(r#""message":"{}","process":"#, "x".repeat(4000));
    let filler = ev("2026-01-01T00:00:30Z", "file", r#""file":{"name":"a"}"#)
        .replace(r#""file":"#, &pad.replace("process", "file"));
    // Three batches of 512 KiB: the keyless events end the first and
    // start the second.
    let per_batch = (512 << 10) / filler.len();
    let mut events: Vec<String> = vec![filler.clone(); per_batch - 2];
    events.push(keyless.clone());
    events.extend(std::iter::repeat_n(keyless.clone(), 3));
    events.extend(std::iter::repeat_n(filler, per_batch * 2));
    let first = per_batch - 1;
    for threads in ["1", "2"] {
        let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &events, &["--threads", threads]);
        assert!(alerts.is_empty(), "{err}");
        assert!(
            err.contains(&format!("e.ndjson:{first}), and none that has one does")),
            "--threads {threads}: {err}"
        );
    }
}

/// An event the rule's exceptions (here a silence) leave out is no event
/// for its sequences: it does not stop the "cannot fire" warning from
/// naming the first keyless event the rule keeps, and, filling no term,
/// it is no suppressed match. Each thread stopped looking at keyless
/// events once it had seen one, excepted or not: one thread gave no
/// warning at all, and the suppressed count grew with the thread count.
#[test]
fn an_excepted_keyless_event_hides_no_warning_on_any_thread_count() {
    let [network, _] = curl_then_shell();
    let keyless = without_host_id(&network);
    let quiet = keyless.replace("web01", "quiet01");
    let pad = format!(r#""message":"{}","process":"#, "x".repeat(4000));
    let filler = ev("2026-01-01T00:00:30Z", "file", r#""file":{"name":"a"}"#)
        .replace(r#""file":"#, &pad.replace("process", "file"));
    // Four batches of 512 KiB, each led by an excepted keyless event and
    // a kept one.
    let per_batch = (512 << 10) / filler.len();
    let mut events: Vec<String> = Vec::new();
    for _ in 0..4 {
        events.push(quiet.clone());
        events.push(keyless.clone());
        events.extend(std::iter::repeat_n(filler.clone(), per_batch));
    }
    for threads in ["1", "2", "3"] {
        let args = ["--threads", threads, "--silence-host", "quiet*"];
        let (alerts, err) = hunt_rule(DOWNLOAD_EXEC, &events, &args);
        assert!(alerts.is_empty(), "{err}");
        assert!(
            err.contains("e.ndjson:2), and none that has one does"),
            "--threads {threads}: {err}"
        );
        assert!(!err.contains("suppressed"), "--threads {threads}: {err}");
    }
}

#[test]
fn csv_and_table_tell_a_sequences_shell_from_its_building_blocks() {
    // Found by a fresh user: a sequence read as three alike alerts.
    let out = hunt_output(DOWNLOAD_EXEC, &curl_then_shell(), &["--format", "csv"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (id, index) = (at("kibana.alert.group.id"), at("kibana.alert.group.index"));
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let groups: Vec<&str> = rows.iter().map(|r| &r[id]).collect();
    assert_eq!(groups.len(), 3, "{text}");
    assert!(
        !groups[0].is_empty() && groups.iter().all(|g| *g == groups[0]),
        "{text}"
    );
    let places: Vec<&str> = rows.iter().map(|r| &r[index]).collect();
    assert_eq!(places, ["", "0", "1"], "{text}");

    let out = hunt_output(DOWNLOAD_EXEC, &curl_then_shell(), &["--format", "table"]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let rule_cells: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("2026-"))
        .map(|l| {
            l.split("  ")
                .filter(|c| !c.is_empty())
                .nth(2)
                .unwrap_or("")
                .trim()
        })
        .collect();
    assert_eq!(
        rule_cells,
        [
            "[seq] Download then execute",
            "#1 Download then execute",
            "#2 Download then execute"
        ],
        "{table}"
    );
    // A sample's shell says so.
    let sample = DOWNLOAD_EXEC.replace("sequence by host.id with maxspan=10m", "sample by host.id");
    let out = hunt_output(&sample, &curl_then_shell(), &["--format", "table"]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("  [sample] Download then execu"), "{table}");
}

#[test]
fn rules_that_cannot_fire_for_one_missing_key_are_one_line() {
    // A source without `host.id` and every rule loaded: one warning per
    // rule buried the summary. Past three, one line per key says how
    // many rules, and -v names each.
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..4 {
        let rule = DOWNLOAD_EXEC
            .replace("11111111-2222", &format!("1111111{i}-2222"))
            .replace(
                "Download then execute",
                &format!("Download then execute {i}"),
            );
        std::fs::write(dir.path().join(format!("r{i}.toml")), rule).expect("write");
    }
    let events: Vec<String> = curl_then_shell()
        .iter()
        .map(|e| without_host_id(e))
        .collect();
    let data = dir.path().join("e.ndjson");
    std::fs::write(&data, events.join("\n")).expect("write");
    let hunt = |verbose: bool| {
        let args: &[&str] = if verbose { &["-v"] } else { &[] };
        stderr(&hunt_folder(dir.path(), &data, args))
    };
    let err = hunt(false);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("join key")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(
            "talon: warning: 4 sequence rules cannot fire: events match one of their terms but \
             have no value for the join key `host.id` (e.g. "
        ),
        "{err}"
    );
    let err = hunt(true);
    for i in 0..4 {
        assert!(
            err.contains(&format!(
                "Download then execute {i}: events match its term 1"
            )),
            "{err}"
        );
    }
}

/// An event of [`ev`] whose host has a name and no `host.id`, the key
/// [`DOWNLOAD_EXEC`] joins by.
fn without_host_id(event: &str) -> String {
    event.replace(r#""host":{"id":"h1"}"#, r#""host":{"name":"web01"}"#)
}

/// `talon hunt --rules DIR DATA -o /dev/null` plus `args`.
fn hunt_folder(
    dir: &std::path::Path,
    data: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(dir)
        .arg(data)
        .args(["-o", "/dev/null"])
        .args(args);
    run(c)
}

/// An event with thousands of values for the `by` field gives a sequence
/// per value, all of the same events. Each repeat's alerts (which hold
/// those events, with all their values) were built before their id was
/// found written: 2,000 values took 48 s in a release build, 4,096 more
/// than 200 s. The id is now checked first, and this runs in a moment.
#[test]
fn thousands_of_sequences_of_the_same_events_cost_one_alert_group() {
    let rule = DOWNLOAD_EXEC.replace("sequence by host.id", "sequence by user.name");
    let names: Vec<String> = (0..2000).map(|i| format!("\"u{i}\"")).collect();
    let field = format!(r#"{{"user":{{"name":[{}]}},"#, names.join(","));
    let events = curl_then_shell().map(|e| e.replacen('{', &field, 1));
    let (alerts, err) = hunt_rule(&rule, &events, &[]);
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(
        err.contains("talon: 0 events matched, 2000 sequences, 3 alerts by 1 of 1 rule"),
        "{err}"
    );
    assert!(
        err.contains("talon: 1999 sequence(s) held the same events as one alerted before"),
        "{err}"
    );
}
