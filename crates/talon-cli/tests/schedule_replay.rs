//! `talon hunt --schedule` end to end, on the timeline of
//! `crates/talon-engine/tests/schedule.rs` (worked out there by hand): 250
//! matches over 30 minutes, a burst that exceeds max_signals in the run at
//! 10:20, ingest times that differ from @timestamp, events without one,
//! and one event far out of order (alerted: the replay takes input in
//! any order).

mod common;

use std::collections::BTreeSet;

use common::{field, jsonl, run, talon};

const RULE: &str = r#"[metadata]
creation_date = "2024/01/01"
maturity = "production"
updated_date = "2024/01/01"

[rule]
author = ["t"]
description = "d"
index = ["logs-*"]
language = "eql"
license = "Elastic License v2"
name = "Curl Activity"
risk_score = 21
rule_id = "0c0a1c2e-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
interval = "5m"
from = "now-6m"
timestamp_override = "event.ingested"
query = '''
process where process.name == "curl"
'''
"#;

/// 2024-05-01T10:00:00Z in milliseconds.
const BASE_MS: i64 = 1_714_557_600_000;

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(BASE_MS + ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn doc(id: &str, ts: i64, ingested: Option<i64>, name: &str) -> String {
    let ing = ingested
        .map(|i| format!(r#","ingested":"{}""#, iso(i)))
        .unwrap_or_default();
    format!(
        r#"{{"_index":"logs-test-default","_id":"{id}","_source":{{"@timestamp":"{}","event":{{"category":["process"]{ing}}},"process":{{"name":"{name}"}}}}}}"#,
        iso(ts)
    )
}

fn timeline() -> String {
    let mut rows: Vec<(i64, String)> = Vec::new();
    for i in 0..100i64 {
        let ts = i * 18_000;
        let ingested = match i {
            41 => Some(16 * 60_000 + 18_000),
            71 => Some(25 * 60_000 + 30_000),
            _ if i % 10 == 0 => None,
            _ => Some(ts + 30_000),
        };
        rows.push((ts, doc(&format!("s{i:02}"), ts, ingested, "curl")));
    }
    for j in 0..150i64 {
        let ts = 16 * 60_000 + 100 + 200 * j;
        rows.push((ts, doc(&format!("b{j:03}"), ts, Some(ts + 2_000), "curl")));
    }
    rows.push((
        7 * 60_000 + 1,
        doc("quiet", 7 * 60_000 + 1, Some(7 * 60_000 + 30_000), "ls"),
    ));
    rows.sort_by_key(|r| r.0);
    let mut text: String = rows.into_iter().map(|r| r.1 + "\n").collect();
    text.push_str(&doc("late", 5 * 60_000, Some(6 * 60_000), "curl"));
    text.push('\n');
    text
}

fn source_ids(alerts: &[serde_json::Value]) -> BTreeSet<String> {
    alerts
        .iter()
        .filter_map(|a| field(a, "kibana.alert.ancestors"))
        .filter_map(|anc| anc.get(0)?.get("id")?.as_str().map(str::to_string))
        .collect()
}

#[test]
fn schedule_replay_alerts_and_warns_as_kibana_would() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("curl.toml");
    let events = dir.path().join("events.ndjson");
    std::fs::write(&rule, RULE).expect("rule");
    std::fs::write(&events, timeline()).expect("events");

    let mut cmd = talon();
    cmd.args(["hunt", "--format", "jsonl", "--schedule", "--rules"])
        .arg(&rule)
        .arg(&events);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let alerts = jsonl(&out);
    assert_eq!(alerts.len(), 184, "{err}");
    let ids = source_ids(&alerts);
    assert_eq!(ids.len(), 184, "one alert per event");
    let mut expected: BTreeSet<String> = (0..100).map(|i| format!("s{i:02}")).collect();
    expected.extend((0..150).map(|j| format!("b{j:03}")));
    expected.insert("late".into());
    for gone in ["s41", "s49", "s51", "s52", "s53", "s54"] {
        expected.remove(gone);
    }
    for j in 0..=60 {
        expected.remove(&format!("b{j:03}"));
    }
    assert_eq!(ids, expected);

    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("talon: warning: "))
        .collect();
    assert_eq!(
        warnings,
        vec![
            "talon: warning: rule \"Curl Activity\", run at 2024-05-01T10:20:00.000Z (window 2024-05-01T10:14:00.000Z to \
             2024-05-01T10:20:00.000Z): This rule reached the maximum alert limit for the rule execution. Some alerts \
             were not created. (172 matches, max_signals 100)"
        ],
        "{err}"
    );
    assert!(
        err.contains(
            "talon: schedule: 8 runs, 184 matches alerted, 1 run reached max_signals (67 matches left out)\n"
        ),
        "{err}"
    );
    assert!(!err.contains("arrived after"), "{err}");

    // Without --schedule every match alerts, the late one included.
    let mut cmd = talon();
    cmd.args(["hunt", "--format", "jsonl", "--rules"])
        .arg(&rule)
        .arg(&events);
    let out = run(cmd);
    let all = jsonl(&out);
    assert_eq!(all.len(), 251);
    assert!(source_ids(&all).contains("late"));

    // The replay holds a match as a slim copy of its event and builds its
    // alert when a run returns it: the same alert, but for the run's
    // fields.
    let by_id: std::collections::HashMap<&str, &serde_json::Value> = all
        .iter()
        .map(|a| (a["kibana.alert.uuid"].as_str().unwrap_or_default(), a))
        .collect();
    for alert in &alerts {
        let id = alert["kibana.alert.uuid"].as_str().unwrap_or_default();
        let plain = by_id.get(id).expect("the plain hunt's alert");
        assert_eq!(without_run(alert), without_run(plain), "{id}");
    }
}

/// The replay takes matches from every thread, put back in input order:
/// over the timeline padded to several read batches (a batch is 512 KiB),
/// one thread and two give the same bytes, and the same answer as above.
#[test]
fn the_schedule_replay_is_the_same_on_one_thread_and_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("curl.toml");
    let events = dir.path().join("events.ndjson");
    std::fs::write(&rule, RULE).expect("rule");
    let pad = format!(r#""message":"{}","event":"#, "x".repeat(8 << 10));
    let padded = timeline().replace(r#""event":"#, &pad);
    assert!(padded.len() > 2 << 20, "{}", padded.len());
    std::fs::write(&events, padded).expect("events");
    let hunt = |threads: &str| {
        let mut cmd = talon();
        cmd.args([
            "hunt",
            "--format",
            "jsonl",
            "--schedule",
            "--threads",
            threads,
        ])
        .env("TALON_NOW", "2024-06-01T00:00:00Z")
        .arg("--rules")
        .arg(&rule)
        .arg(&events);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{err}");
        (out, err)
    };
    let (one, one_err) = hunt("1");
    let (two, two_err) = hunt("2");
    assert_eq!(jsonl(&one).len(), 184, "{one_err}");
    assert!(one.stdout == two.stdout, "{one_err}\n{two_err}");
    let schedule = |err: &str| {
        err.lines()
            .filter(|l| l.starts_with("talon: schedule:") || l.starts_with("talon: warning:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(schedule(&one_err).len(), 2, "{one_err}");
    assert_eq!(schedule(&one_err), schedule(&two_err));
}

/// An alert less the fields its run sets.
fn without_run(alert: &serde_json::Value) -> serde_json::Value {
    let mut alert = alert.clone();
    if let Some(doc) = alert.as_object_mut() {
        for key in [
            "@timestamp",
            "kibana.alert.rule.execution.timestamp",
            "kibana.alert.rule.execution.uuid",
            "kibana.alert.start",
            "kibana.alert.last_detected",
            "kibana.alert.intended_timestamp",
        ] {
            doc.remove(key);
        }
    }
    alert
}

/// `talon hunt --format jsonl --schedule` with the rule `rule` over the
/// event lines `text`: its output and stderr (it must exit 0).
fn replay(rule: &str, text: &str) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule_file = dir.path().join("curl.toml");
    let events = dir.path().join("events.ndjson");
    std::fs::write(&rule_file, rule).expect("rule");
    std::fs::write(&events, text).expect("events");
    let mut cmd = talon();
    cmd.args(["hunt", "--format", "jsonl", "--schedule", "--rules"])
        .arg(&rule_file)
        .arg(&events);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{err}");
    (out, err)
}

/// The tester's rule, run every 60,000 days and looking back as far: 1
/// run and "10 matches fell in no run's window", since the run of
/// 2134-04-11, whose successor would be past 2262, was never made (any
/// interval over 53,375 days). It is now made, as the last run.
#[test]
fn an_interval_of_60000_days_alerts_in_its_run_of_2134() {
    let rule = RULE
        .replace("interval = \"5m\"", "interval = \"60000d\"")
        .replace("from = \"now-6m\"", "from = \"now-60000d\"");
    let text: String = (0..10i64)
        .map(|i| doc(&format!("c{i}"), i * 60_000, None, "curl") + "\n")
        .collect();
    let (out, err) = replay(&rule, &text);
    let alerts = jsonl(&out);
    let want: BTreeSet<String> = (0..10).map(|i| format!("c{i}")).collect();
    assert_eq!(source_ids(&alerts), want, "{err}");
    assert!(
        err.contains(
            "talon: schedule: 2 runs, 10 matches alerted, 0 runs reached max_signals (0 matches left out)\n"
        ),
        "{err}"
    );
    assert!(!err.contains("no run's window"), "{err}");
}

/// A rule with `to = "now+1h"` over 10 events from 10:00:30 to 10:09:30:
/// "0 runs ... 10 matches fell in no run's window", where the same rule
/// without `to` alerted all 10. The first run was held to have a
/// predecessor whose window already reached the last event; it is now
/// made, and its window (09:54 to 11:00) holds every event. `to =
/// "now-1m"` takes a fourth run, at 10:15, to reach the last event.
#[test]
fn a_rule_whose_to_reaches_ahead_alerts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.ndjson");
    let text: String = (0..10i64)
        .map(|i| doc(&format!("c{i}"), 30_000 + i * 60_000, None, "curl") + "\n")
        .collect();
    std::fs::write(&events, text).expect("events");
    let want: BTreeSet<String> = (0..10).map(|i| format!("c{i}")).collect();
    for (to, runs) in [("now+1h", "1 run"), ("now-1m", "4 runs")] {
        let rule = dir.path().join("curl.toml");
        std::fs::write(
            &rule,
            RULE.replace(
                "from = \"now-6m\"",
                &format!("from = \"now-6m\"\nto = \"{to}\""),
            ),
        )
        .expect("rule");
        let mut cmd = talon();
        cmd.args(["hunt", "--format", "jsonl", "--schedule", "--rules"])
            .arg(&rule)
            .arg(&events);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{to}: {err}");
        let alerts = jsonl(&out);
        assert_eq!(alerts.len(), 10, "{to}: {err}");
        assert_eq!(source_ids(&alerts), want, "{to}: {err}");
        assert!(
            err.contains(&format!(
                "talon: schedule: {runs}, 10 matches alerted, 0 runs reached max_signals (0 matches left out)\n"
            )),
            "{to}: {err}"
        );
        assert!(!err.contains("no run's window"), "{to}: {err}");
    }
}

#[test]
fn a_bad_reorder_window_is_refused() {
    let mut cmd = talon();
    cmd.args(["hunt", "--schedule", "--reorder-window", "soon"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("invalid value 'soon' for '--reorder-window <DURATION>'"));
    // A window too long for nanosecond times says so, and its limit.
    let mut cmd = talon();
    cmd.args(["hunt", "--reorder-window", "106752d"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "invalid value '106752d' for '--reorder-window <DURATION>': too long: at most \
             106751d (times are held as nanoseconds)"
        ),
        "{err}"
    );
}

/// `talon hunt --schedule` with the bundled rules over `events`.
fn schedule_hunt(events: &std::path::Path) -> std::process::Command {
    let mut cmd = talon();
    cmd.current_dir(common::repo())
        .args([
            "hunt",
            "--rules",
            "rules/",
            "--schedule",
            "--format",
            "jsonl",
        ])
        .arg(events);
    cmd
}

/// An event dated at the very end of what nanosecond times hold (2262)
/// made the replay spin forever: the run after it could not be dated, so
/// the next run's time stopped moving. It is now counted as a match no
/// run searched, and the run ends.
#[test]
fn a_match_at_the_end_of_representable_time_ends_the_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("edge.ndjson");
    std::fs::write(
        &events,
        r#"{"@timestamp":"2262-04-11T23:47:16.854Z","event":{"category":"process","type":"start","action":"exec"},"host":{"os":{"type":"linux"}},"process":{"name":"sysctl","args":["sysctl","-w","net.ipv4.ip_forward=1"],"command_line":"sysctl -w net.ipv4.ip_forward=1","parent":{"executable":"/bin/bash","name":"bash"}},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}
"#,
    )
    .expect("write");
    let cmd = schedule_hunt(&events);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(run(cmd)));
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the replay ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(jsonl(&out).is_empty(), "{err}");
    assert!(
        err.contains("talon: schedule: 1 match fell in no run's window (not alerted)"),
        "{err}"
    );
}

/// One event dated years ahead in an index no rule searches made the
/// replay's time jump: every match after it arrived "later than the
/// reorder window allows", and nothing was alerted (exit 0). Only events
/// some rule searches move the replay's time.
#[test]
fn an_event_no_rule_searches_does_not_move_the_replays_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = sysctl_at(dir.path(), r#""2026-01-01T00:00:00Z""#);
    let sysctl = std::fs::read_to_string(&events).expect("read");
    let other = r#"{"@timestamp":"2030-06-01T00:00:00Z","event":{"category":["process"]},"data_stream":{"type":"logs","dataset":"some.other","namespace":"default"}}"#;
    std::fs::write(&events, format!("{other}\n{sysctl}")).expect("write");
    let cmd = schedule_hunt(&events);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(jsonl(&out).len(), 1, "{err}");
    assert!(!err.contains("later than"), "{err}");
}

/// A sysctl event the bundled forwarding rule matches, with `@timestamp`
/// written as `timestamp` (JSON text).
fn sysctl_at(dir: &std::path::Path, timestamp: &str) -> std::path::PathBuf {
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        format!(
            r#"{{"@timestamp":{timestamp},"event":{{"category":"process","type":"start","action":"exec"}},"host":{{"os":{{"type":"linux"}}}},"process":{{"name":"sysctl","args":["sysctl","-w","net.ipv4.ip_forward=1"],"command_line":"sysctl -w net.ipv4.ip_forward=1","parent":{{"executable":"/bin/bash","name":"bash"}}}},"data_stream":{{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}}}"#
        ) + "\n",
    )
    .expect("write");
    events
}

/// A numeric `@timestamp` beyond 2262 (epoch millis 1e300) was clamped to
/// 2262-04-11T23:47:16.854Z: --schedule alerted on it in a run dated then,
/// and alerts gave that invented time as kibana.alert.original_time. It is
/// now no usable timestamp, as the date string 9999-01-01 already was.
#[test]
fn an_out_of_range_numeric_timestamp_is_no_timestamp_like_an_out_of_range_string() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (timestamp, shown) in [
        ("1e300", "1e+300"),
        ("-1e300", "-1e+300"),
        (r#""9999-01-01T00:00:00Z""#, r#""9999-01-01T00:00:00Z""#),
    ] {
        let events = sysctl_at(dir.path(), timestamp);
        let hunt = |schedule: bool| {
            let mut cmd = talon();
            cmd.current_dir(common::repo())
                .args(["hunt", "--rules", "rules/", "--format", "jsonl"])
                .args(schedule.then_some("--schedule"))
                .arg(&events);
            run(cmd)
        };
        let out = hunt(true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{timestamp}: {err}");
        assert!(jsonl(&out).is_empty(), "{timestamp}: {err}");
        assert!(
            err.contains(&format!(
                "talon: schedule: 0 runs, 0 matches alerted, 0 runs reached max_signals (0 matches left out)\n\
                 talon: schedule: 1 match has an unusable timestamp (not alerted; first: {}:1: \
                 `@timestamp` is {shown})\n",
                events.display()
            )),
            "{timestamp}: {err}"
        );

        let out = hunt(false);
        let alerts = jsonl(&out);
        assert_eq!(alerts.len(), 1, "{timestamp}");
        assert_eq!(
            field(&alerts[0], "kibana.alert.original_time"),
            None,
            "{timestamp}"
        );
    }
}

/// `talon hunt --schedule` with a rule whose query is `sequence`, over
/// `docs` (one per line): the JSON alerts and stderr, checked to exit 0.
fn schedule_sequence(sequence: &str, docs: &[String]) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = RULE
        .replace("name = \"Curl Activity\"", "name = \"Curl then sh\"")
        .replace("process where process.name == \"curl\"", sequence)
        .replace("timestamp_override = \"event.ingested\"\n", "");
    std::fs::write(dir.path().join("seq.toml"), rule).unwrap();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, docs.join("\n") + "\n").unwrap();
    let mut cmd = talon();
    cmd.current_dir(dir.path())
        .args([
            "hunt",
            "--schedule",
            "--rules",
            "seq.toml",
            "--format",
            "jsonl",
        ])
        .arg(&file);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    (jsonl(&out), err)
}

/// [`schedule_sequence`] of `curl` then `sh`, one second apart: one
/// sequence match, three alerts.
fn curl_then_sh() -> (Vec<serde_json::Value>, String) {
    schedule_sequence(
        "sequence [process where process.name == \"curl\"] [process where process.name == \"sh\"]",
        &[doc("1", 1_000, None, "curl"), doc("2", 2_000, None, "sh")],
    )
}

/// A sequence match is several alerts (a shell and one per event): the
/// schedule line counts matches, as `max_signals` does, and says so; it
/// used to say "1 alert" beside "3 alerts by 1 of 1 rule".
#[test]
fn the_schedule_line_counts_matches_not_alerts() {
    let (alerts, err) = curl_then_sh();
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(err.contains("3 alerts by 1 of 1 rule"), "{err}");
    assert!(err.contains(", 1 match alerted, "), "{err}");
}

/// A sequence in time order is alerted however long after it the next
/// event comes: the sequence stage releases a match when a later event
/// pushes its last one out of the re-ordering window, and the replay's
/// clock used to have moved to that later event already, so the match was
/// counted late (a fresh user lost one with an event six minutes on, and
/// 48 of 199 in a steady stream).
#[test]
fn a_sequence_released_by_a_much_later_event_is_not_late() {
    let (alerts, err) = schedule_sequence(
        "sequence with maxspan=1m [process where process.name == \"curl\"] \
         [process where process.name == \"sh\"]",
        &[
            doc("1", 1_000, None, "curl"),
            doc("2", 2_000, None, "sh"),
            doc("3", 360_000, None, "ls"),
        ],
    );
    assert_eq!(alerts.len(), 3, "{err}");
    assert!(err.contains(", 1 match alerted, "), "{err}");
    assert!(!err.contains("later than the reorder window"), "{err}");
}

/// The fresh user's rule: `evil` processes, looking back 9 minutes every
/// 5, by `event.ingested`.
const EVIL: &str = r#"[rule]
author = ["t"]
description = "d"
index = ["logs-*"]
language = "eql"
name = "Evil"
risk_score = 21
rule_id = "0c0a1c2e-0000-4000-8000-0000000000ee"
severity = "low"
type = "eql"
interval = "5m"
from = "now-9m"
max_signals = 100
timestamp_override = "event.ingested"
query = '''
process where process.name == "evil"
'''
"#;

/// An `evil` process `pid`, at `ts` and ingested at `ingested`.
fn evil(pid: u32, ts: &str, ingested: &str) -> String {
    format!(
        r#"{{"@timestamp":"2026-11-30T{ts}Z","event":{{"category":["process"],"ingested":"2026-11-30T{ingested}Z"}},"process":{{"name":"evil","pid":{pid}}},"data_stream":{{"type":"logs","dataset":"x","namespace":"default"}}}}"#
    )
}

/// The user's input, sorted by @timestamp, where only pid 2 was ingested
/// late (at 12:00).
fn late_ingested() -> Vec<String> {
    vec![
        evil(1, "10:00:00", "10:00:01"),
        evil(2, "10:01:00", "12:00:00"),
        evil(3, "10:02:00", "10:02:01"),
        evil(4, "10:03:00", "10:03:01"),
    ]
}

/// `talon hunt --schedule` with [`EVIL`] over `lines`, plus `args`:
/// stdout, stderr (checked to exit 0).
fn hunt_evil(lines: &[String], args: &[&str]) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("ov.toml");
    let events = dir.path().join("late.ndjson");
    std::fs::write(&rule, EVIL).expect("rule");
    std::fs::write(&events, lines.join("\n") + "\n").expect("events");
    let mut cmd = talon();
    cmd.env("TALON_NOW", "2026-12-01T00:00:00Z")
        .args(["hunt", "--format", "jsonl", "--schedule", "--rules"])
        .arg(&rule)
        .args(args)
        .arg(&events);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    (out, err)
}

fn pids(alerts: &[serde_json::Value]) -> Vec<u64> {
    let mut pids: Vec<u64> = alerts
        .iter()
        .filter_map(|a| field(a, "process.pid")?.as_u64())
        .collect();
    pids.sort_unstable();
    pids
}

/// A fresh user's input sorted by @timestamp, with one event (pid 2)
/// ingested two hours late: the rule reads `event.ingested`, that event
/// moved the replay's time to 12:00, and pids 3 and 4 "arrived later than
/// the reorder window allows": 2 alerts of 4. Kibana alerts all four, pid
/// 2 from its run at 12:00. The replay now holds the matches to the end
/// of input, so their order does not matter, nor does the thread count.
#[test]
fn one_event_ingested_late_drops_no_on_time_match() {
    let (out, err) = hunt_evil(&late_ingested(), &[]);
    assert_eq!(pids(&jsonl(&out)), vec![1, 2, 3, 4], "{err}");
    assert!(
        err.contains(
            "talon: schedule: 25 runs, 4 matches alerted, 0 runs reached max_signals (0 matches left out)\n"
        ),
        "{err}"
    );
    assert!(!err.contains("arrived"), "{err}");

    for threads in ["1", "2", "4"] {
        let (again, _) = hunt_evil(&late_ingested(), &["--threads", threads]);
        assert_eq!(again.stdout, out.stdout, "--threads {threads}");
    }
    let mut reversed = late_ingested();
    reversed.reverse();
    let (backwards, err) = hunt_evil(&reversed, &[]);
    assert_eq!(pids(&jsonl(&backwards)), vec![1, 2, 3, 4], "{err}");
}

/// Holding one match at a time, the late-ingested pid 2 is ahead of the
/// others and still alerted; read backwards, pid 1 comes after pid 4 went
/// to its runs: it is late, and both the early and the late are said.
#[test]
fn past_max_held_matches_a_match_behind_is_counted_late() {
    let (out, err) = hunt_evil(&late_ingested(), &["--max-held-matches", "1"]);
    assert_eq!(pids(&jsonl(&out)), vec![1, 2, 3, 4], "{err}");
    assert!(!err.contains("arrived"), "{err}");

    let mut reversed = late_ingested();
    reversed.reverse();
    let (out, err) = hunt_evil(&reversed, &["--max-held-matches", "1"]);
    assert_eq!(pids(&jsonl(&out)), vec![2, 3, 4], "{err}");
    assert!(
        err.contains(
            "talon: schedule: 2 matches went to their runs before the end of input \
             (--max-held-matches 1 reached)\n\
             talon: schedule: 1 match arrived after newer ones had gone to their runs (not \
             alerted; raise --max-held-matches, or sort the input by the rules' time field)\n"
        ),
        "{err}"
    );

    // One match early is said in the singular (a fresh user's find).
    let two = vec![
        evil(4, "10:03:00", "10:03:01"),
        evil(3, "10:02:00", "10:02:01"),
    ];
    let (_, err) = hunt_evil(&two, &["--max-held-matches", "1"]);
    assert!(
        err.contains(
            "talon: schedule: 1 match went to its runs before the end of input \
             (--max-held-matches 1 reached)\n"
        ),
        "{err}"
    );

    let mut cmd = talon();
    cmd.args(["hunt", "--schedule", "--max-held-matches", "0"]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be at least 1"));
}

/// Every alert of a replay shared one `kibana.alert.rule.execution.uuid`,
/// and its `@timestamp`, execution time and intended time were the wall
/// clock's. Each run Kibana makes has its own execution uuid and dates
/// its alerts: the run at 10:05 alerts pids 1, 3 and 4, the run at 12:00
/// pid 2, and the alerts say so.
#[test]
fn each_replayed_run_dates_its_alerts_and_has_its_own_execution() {
    let (out, err) = hunt_evil(&late_ingested(), &[]);
    let alerts = jsonl(&out);
    let text = |a: &serde_json::Value, key: &str| {
        field(a, key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut by_pid: Vec<(u64, String, String)> = alerts
        .iter()
        .map(|a| {
            for key in [
                "kibana.alert.rule.execution.timestamp",
                "kibana.alert.intended_timestamp",
                "kibana.alert.start",
                "kibana.alert.last_detected",
            ] {
                assert_eq!(text(a, key), text(a, "@timestamp"), "{key}");
            }
            let pid = field(a, "process.pid")
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            (
                pid,
                text(a, "@timestamp"),
                text(a, "kibana.alert.rule.execution.uuid"),
            )
        })
        .collect();
    by_pid.sort();
    let runs: Vec<(u64, &str)> = by_pid.iter().map(|(p, t, _)| (*p, t.as_str())).collect();
    assert_eq!(
        runs,
        vec![
            (1, "2026-11-30T10:05:00.000Z"),
            (2, "2026-11-30T12:00:00.000Z"),
            (3, "2026-11-30T10:05:00.000Z"),
            (4, "2026-11-30T10:05:00.000Z"),
        ],
        "{err}"
    );
    let execution = |pid: usize| by_pid[pid - 1].2.clone();
    assert_eq!(execution(1), execution(3));
    assert_eq!(execution(1), execution(4));
    assert_ne!(execution(1), execution(2));
    // Derived from the rule and the run's time, so every replay gives the
    // same: the uuid5 of "<rule uuid>@<run time>" in talon's namespace.
    assert_eq!(execution(1), "b5171ace-9b54-57bd-a51c-f729355d6af9");
    assert_eq!(execution(2), "537827f8-82d7-5178-bd53-ceb465518644");
    // What the rule says about itself is not the run's.
    assert_eq!(
        text(&alerts[0], "kibana.alert.rule.created_at"),
        "2026-12-01T00:00:00.000Z"
    );

    // Without --schedule, one run at the time talon ran (TALON_NOW here).
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("ov.toml");
    let events = dir.path().join("late.ndjson");
    std::fs::write(&rule, EVIL).expect("rule");
    std::fs::write(&events, late_ingested().join("\n") + "\n").expect("events");
    let mut cmd = talon();
    cmd.env("TALON_NOW", "2026-12-01T00:00:00Z")
        .args(["hunt", "--format", "jsonl", "--rules"])
        .arg(&rule)
        .arg(&events);
    let plain = jsonl(&run(cmd));
    assert_eq!(plain.len(), 4);
    for a in &plain {
        assert_eq!(text(a, "@timestamp"), "2026-12-01T00:00:00.000Z");
        assert_eq!(
            text(a, "kibana.alert.rule.execution.uuid"),
            text(&plain[0], "kibana.alert.rule.execution.uuid")
        );
    }
}

/// A sequence's shell and building blocks are dated by the run that
/// returns the sequence, with its execution uuid.
#[test]
fn a_sequences_alerts_carry_the_run_that_returned_it() {
    let (alerts, err) = curl_then_sh();
    assert_eq!(alerts.len(), 3, "{err}");
    for a in &alerts {
        // Runs every 5 minutes from 10:00; the 10:00 run's window ends
        // before the events, the 10:05 run holds both.
        assert_eq!(
            field(a, "@timestamp").and_then(|v| v.as_str()),
            Some("2024-05-01T10:05:00.000Z"),
            "{err}"
        );
        assert_eq!(
            field(a, "kibana.alert.rule.execution.uuid"),
            field(&alerts[0], "kibana.alert.rule.execution.uuid")
        );
    }
}

/// Found by a fresh user: one event of 1700 beside one of today, with a
/// 5m interval, made 30,744,576 runs that stopped in 1992 (292 years of
/// nanoseconds from the first), and today's event "fell in no run's
/// window". The run after a long stretch of empty ones is dated wide.
#[test]
fn an_event_three_centuries_early_loses_no_other_match() {
    // 1700-01-01T00:00:00Z in milliseconds.
    let old_ms = -8_520_336_000_000i64;
    let text = doc("old", old_ms - BASE_MS, None, "curl")
        + "\n"
        + &doc("today", 60_000, None, "curl")
        + "\n";
    let (out, err) = replay(RULE, &text);
    let want: BTreeSet<String> = ["old", "today"].iter().map(|s| s.to_string()).collect();
    assert_eq!(source_ids(&jsonl(&out)), want, "{err}");
    assert!(!err.contains("no run's window"), "{err}");
}
