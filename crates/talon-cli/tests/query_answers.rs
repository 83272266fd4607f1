//! `talon query` gives the answers of Elasticsearch's EQL search API over
//! the demo events (120 events, 106 `sequence by host.id` of two process
//! events): which results `--size` and `--result-position` keep beside
//! `head` and `tail` pipes, the `--format es` body's total and `_index`,
//! errors that quote what the user wrote, and empty field names refused.

mod common;

use common::*;
use serde_json::Value;

const DEMO: &str = "demo/events.ndjson";
const PAIRS: &str = "sequence by host.id [process where true] [process where true]";

/// The `--format es` body of a query over the demo events.
fn es(query: &str, extra: &[&str]) -> Value {
    let mut c = talon();
    c.args(["query", query, "--format", "es", "-q"])
        .args(extra)
        .arg(repo().join(DEMO));
    let out = run(c);
    assert!(
        out.status.success(),
        "{query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the body is JSON")
}

fn event_id(hit: &Value) -> String {
    hit["_source"]["event"]["id"]
        .as_str()
        .expect("every demo event has an event.id")
        .to_string()
}

/// The `event.id`s of the events returned, in order.
fn events(query: &str, extra: &[&str]) -> Vec<String> {
    let body = es(query, extra);
    body["hits"]["events"]
        .as_array()
        .expect("hits.events")
        .iter()
        .map(event_id)
        .collect()
}

/// The `event.id`s of each sequence returned, in order.
fn sequences(query: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let body = es(query, extra);
    body["hits"]["sequences"]
        .as_array()
        .expect("hits.sequences")
        .iter()
        .map(|s| {
            s["events"]
                .as_array()
                .expect("sequence events")
                .iter()
                .map(event_id)
                .collect()
        })
        .collect()
}

/// Every demo event, in Elasticsearch's order.
fn all_events() -> Vec<String> {
    let all = events("any where true", &["--size", "1000"]);
    assert_eq!(all.len(), 120);
    all
}

/// `--size` is a limit of the first pipe's kind under that pipe
/// (Elasticsearch's LogicalPlanBuilder.visitStatement): `head 100` with
/// size 3 is the first 3, not the last 3 of the first 100 (events 98–100).
#[test]
fn size_under_a_head_pipe_keeps_the_first_events() {
    let all = all_events();
    assert_eq!(
        events("any where true | head 100", &["--size", "3"]),
        all[..3]
    );
    assert_eq!(
        events(
            "any where true | head 100",
            &["--size", "3", "--result-position", "head"]
        ),
        all[..3]
    );
}

/// And `tail 100` with size 3 is the last 3 even with `--result-position
/// head`, not the first 3 of the last 100 (events 21–23).
#[test]
fn size_under_a_tail_pipe_keeps_the_last_events() {
    let all = all_events();
    assert_eq!(
        events(
            "any where true | tail 100",
            &["--size", "3", "--result-position", "head"]
        ),
        all[117..]
    );
    assert_eq!(
        events("any where true | tail 100", &["--size", "3"]),
        all[117..]
    );
}

/// The same for sequences: `head 50` with size 2 is sequences 1–2, not
/// 49–50.
#[test]
fn size_under_a_head_pipe_keeps_the_first_sequences() {
    let all = sequences(PAIRS, &["--size", "1000", "--result-position", "head"]);
    assert_eq!(all.len(), 106);
    let got = sequences(&format!("{PAIRS} | head 50"), &["--size", "2"]);
    assert_eq!(got, all[..2]);
    let got = sequences(
        &format!("{PAIRS} | tail 50"),
        &["--size", "2", "--result-position", "head"],
    );
    assert_eq!(got, all[104..]);
}

/// Later pipes narrow what `--size` kept: `head 10 | tail 3` with size 5 is
/// the last 3 of the first 5.
#[test]
fn later_pipes_apply_to_what_size_kept() {
    let all = all_events();
    assert_eq!(
        events("any where true | head 10 | tail 3", &["--size", "5"]),
        all[2..5]
    );
    assert_eq!(
        events("any where true | head 10 | tail 3", &["--size", "50"]),
        all[7..10]
    );
}

/// Unchanged: no pipe takes `--size` from the `--result-position` end, and
/// a pipe smaller than `--size` decides alone.
#[test]
fn without_a_pipe_the_result_position_decides() {
    let all = all_events();
    assert_eq!(events("any where true", &["--size", "3"]), all[117..]);
    assert_eq!(
        events(
            "any where true",
            &["--size", "3", "--result-position", "head"]
        ),
        all[..3]
    );
    assert_eq!(events("any where true", &[]), all[110..]);
    assert_eq!(
        events(
            "any where true | head 2",
            &["--size", "10", "--result-position", "tail"]
        ),
        all[..2]
    );
    assert_eq!(
        events(
            "any where true | tail 2",
            &["--size", "10", "--result-position", "head"]
        ),
        all[118..]
    );
    let all_pairs = sequences(PAIRS, &["--size", "1000"]);
    assert_eq!(sequences(PAIRS, &["--size", "2"]), all_pairs[104..]);
    assert_eq!(
        sequences(PAIRS, &["--size", "2", "--result-position", "head"]),
        all_pairs[..2]
    );
}

/// `hits.total` is the number of results returned, as Elasticsearch sets it
/// (`new TotalHits(values.size(), EQUAL_TO)`), not the matches before the
/// pipes and `--size` (this said 12 with 2 events, 106 with 10 sequences).
#[test]
fn the_total_counts_the_results_returned() {
    let body = es(
        "process where process.args : \"*ip_forward*\" | tail 2",
        &[],
    );
    assert_eq!(body["hits"]["events"].as_array().expect("events").len(), 2);
    assert_eq!(
        body["hits"]["total"],
        serde_json::json!({"value": 2, "relation": "eq"})
    );
    let body = es(PAIRS, &[]);
    assert_eq!(
        body["hits"]["sequences"]
            .as_array()
            .expect("sequences")
            .len(),
        10
    );
    assert_eq!(
        body["hits"]["total"],
        serde_json::json!({"value": 10, "relation": "eq"})
    );
    let body = es("process where process.name == \"no such process\"", &[]);
    assert_eq!(
        body["hits"]["total"],
        serde_json::json!({"value": 0, "relation": "eq"})
    );
    // The summary still counts every match.
    let mut c = talon();
    c.args([
        "query",
        "process where process.args : \"*ip_forward*\" | tail 2",
    ])
    .args(["--format", "es"])
    .arg(repo().join(DEMO));
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("talon: 12 events matched, 2 returned (--size 10)"),
        "{err}"
    );
}

/// Elasticsearch never answers `"_index": null`: an event whose index is
/// unknown (no `_index`, no `data_stream`, no `--index`) has no `_index`.
#[test]
fn a_hit_of_no_known_index_has_no_index_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            r#"{"@timestamp":"2026-11-30T14:00:00Z","event":{"category":"process"},"host":{"id":"h"}}"#,
            "\n",
            r#"{"@timestamp":"2026-11-30T14:00:01Z","event":{"category":"process"},"host":{"id":"h"}}"#,
            "\n",
        ),
    )
    .expect("write");
    let hits = |query: &str, extra: &[&str]| -> Vec<Value> {
        let mut c = talon();
        c.args(["query", query, "--format", "es", "-q"])
            .args(extra)
            .arg(&events);
        let out = run(c);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let body: Value = serde_json::from_slice(&out.stdout).expect("json");
        let hits = &body["hits"];
        match hits["events"].as_array() {
            Some(events) => events.clone(),
            None => hits["sequences"][0]["events"]
                .as_array()
                .expect("sequence events")
                .clone(),
        }
    };
    let sequence = "sequence by host.id [process where true] [process where true]";
    for query in ["process where true", sequence] {
        let got = hits(query, &[]);
        assert_eq!(got.len(), 2, "{query}");
        for hit in &got {
            let keys: Vec<&str> = hit
                .as_object()
                .expect("hit")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["_id", "_source"], "{query}: {hit}");
        }
        let got = hits(query, &["--index", "logs-test"]);
        assert_eq!(got[0]["_index"], "logs-test", "{query}");
    }
}

/// A query's errors quote the user's own text: the digits typed, not the
/// double they read as (`1e20`), and a caret under the whole malformed
/// number (`1.2.3` was `1.2` then "found `0.3`" under `.3`).
#[test]
fn query_errors_quote_the_numbers_as_written() {
    let error = |query: &str| {
        let mut c = talon();
        c.args(["query", query]).arg(repo().join(DEMO));
        let out = run(c);
        assert_eq!(out.status.code(), Some(1), "{query}");
        stderr(&out)
    };
    assert_eq!(
        error("any where true | head 99999999999999999999"),
        "<query>:1:23: error: pipe `head` expects a non-negative integer, \
         found `99999999999999999999`\n  |\n\
         1 | any where true | head 99999999999999999999\n  \
         |                       ^^^^^^^^^^^^^^^^^^^^\n"
    );
    assert_eq!(
        error("process where process.pid > 1.2.3"),
        "<query>:1:29: error: malformed number `1.2.3`\n  |\n\
         1 | process where process.pid > 1.2.3\n  \
         |                             ^^^^^\n  \
         = hint: if this is an address or a version, quote it: \"1.2.3\"\n"
    );
}

/// An empty field name is refused before anything is read, exit 2 like
/// other bad options, as Elasticsearch refuses the request ("... field is
/// null or empty"); `--timestamp-field ''` ran and said "1 matched events
/// have no `` and sort last".
#[test]
fn empty_field_names_are_refused() {
    for flag in [
        "--timestamp-field",
        "--tiebreaker-field",
        "--event-category-field",
    ] {
        for value in ["", "  "] {
            let mut c = talon();
            c.args(["query", "any where true | head 1", flag, value])
                .arg(repo().join(DEMO));
            let out = run(c);
            assert_eq!(out.status.code(), Some(2), "{flag} {value:?}");
            assert_eq!(
                stderr(&out),
                format!(
                    "error: invalid value '{value}' for '{flag} <FIELD>': \
                     a field name cannot be empty\n\n\
                     For more information, try '--help'.\n"
                ),
                "{flag} {value:?}"
            );
            assert!(out.stdout.is_empty(), "{flag} {value:?}");
        }
    }
    // A named field is still taken.
    let body = es(
        "any where true | head 1",
        &[
            "--timestamp-field",
            "event.created",
            "--tiebreaker-field",
            "event.sequence",
        ],
    );
    assert_eq!(body["hits"]["events"].as_array().map(Vec::len), Some(1));
}

const PROCESS_PAIRS: &str = "sequence [process where true] [process where true]";

/// `talon query PROCESS_PAIRS --format jsonl` over `lines` in a file of its
/// own, which must succeed: stdout, stderr and the file's path.
fn pairs_over(lines: &str) -> (String, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, lines).expect("write");
    let mut c = talon();
    c.args(["query", PROCESS_PAIRS, "--format", "jsonl"])
        .arg(&file);
    let out = run(c);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (stdout, stderr, file.display().to_string())
}

/// A process event named `name` at `time`.
fn process_at(time: &str, name: &str) -> String {
    format!(
        "{{\"@timestamp\":\"{time}\",\"event\":{{\"category\":\"process\"}},\"process\":{{\"name\":\"{name}\"}}}}\n"
    )
}

/// An event dated at the first nanosecond an `i64` holds stood for "before
/// any event" in the sequence state, and a sequence went back in time
/// (2026, then 1677). That instant is now a date out of range: the event
/// is counted as untimed and no sequence is made of it.
#[test]
fn the_first_representable_nanosecond_makes_no_sequence_go_backwards() {
    let lines = process_at("2026-01-01T00:00:01Z", "new")
        + &process_at("1677-09-21T00:12:43.145224192Z", "old");
    let (stdout, stderr, _) = pairs_over(&lines);
    assert_eq!(stdout, "", "{stderr}");
    assert!(
        stderr.contains("1 event(s) without a usable timestamp were not matched"),
        "{stderr}"
    );
}

/// `talon query` orders the whole input, yet an event dated more than 292
/// years before one read earlier was late ("arrived more than 106751d out
/// of order ... (--reorder-window)", a flag `query` does not take): its
/// window was the largest nanosecond span, not unbounded.
#[test]
fn events_centuries_out_of_order_are_still_ordered_by_query() {
    let lines =
        process_at("2026-01-01T00:00:01Z", "new") + &process_at("1678-01-01T00:00:00Z", "old");
    let (stdout, stderr, _) = pairs_over(&lines);
    let seq: Value = serde_json::from_str(&stdout).expect("one sequence");
    let names: Vec<&str> = seq["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["process"]["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["old", "new"], "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// A sequence's events without a usable time were only counted; they are
/// now told apart (missing or no date) with the first of each, as the
/// event search's summary does.
#[test]
fn a_sequence_names_the_first_event_without_a_usable_time_of_each_kind() {
    let (_, stderr, f) = pairs_over(
        "{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{\"category\":\"process\"}}\n\
         {\"event\":{\"category\":\"process\"}}\n\
         {\"@timestamp\":\"garbage\",\"event\":{\"category\":\"process\"}}\n\
         {\"@timestamp\":{\"a\":1},\"event\":{\"category\":\"process\"}}\n",
    );
    assert!(
        stderr.contains(&format!(
            "talon: warning: query: 3 event(s) without a usable timestamp were not matched \
             (1 without `@timestamp`, first: {f}:2; 2 with one that is no date, first: \
             {f}:3: \"garbage\")"
        )),
        "{stderr}"
    );
}

/// From a fresh user: `--format es` and `jsonl` wrote each document
/// through a `serde_json::Value`, so an integer past 64 bits came out a
/// float (`123456789012345678901234567890` as `1.2345678901234568e+29`),
/// `1e2` as `100.0` and `-0` as `-0.0`; Elasticsearch returns `_source`
/// as it was indexed. A pretty-printed document is still one JSONL line.
#[test]
fn documents_come_back_as_they_were_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.json");
    let doc = |name: &str, at: &str| {
        format!(
            r#"{{"@timestamp":"2024-01-01T00:00:0{at}Z","event":{{"category":"process"}},"process":{{"name":"{name}","n":123456789012345678901234567890,"e":1e2,"z":-0,"x":1.50}}}}"#
        )
    };
    // A pretty-printed document, then one on a line of its own.
    let pretty = doc("a", "0").replace(",\"", ",\n  \"");
    std::fs::write(&events, format!("{pretty}\n{}\n", doc("b", "1"))).expect("write");
    let out_of = |query: &str, format: &str| -> String {
        let mut c = talon();
        c.args(["query", query, "--format", format, "-q"])
            .arg(&events);
        let out = run(c);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let events_query = "process where true";
    let pairs = "sequence [process where true] [process where true]";
    assert_eq!(
        out_of(events_query, "jsonl"),
        format!("{}\n{}\n", doc("a", "0"), doc("b", "1"))
    );
    for query in [events_query, pairs] {
        let body = out_of(query, "es");
        for name in ["a", "b"] {
            let source = format!(
                r#""_source": {}"#,
                doc(name, if name == "a" { "0" } else { "1" })
            );
            assert!(body.contains(&source), "{query}: {source} not in {body}");
        }
        assert!(!body.contains("e+29"), "{body}");
        let _: Value = serde_json::from_str(&body).expect("the body is JSON");
    }
    let line = out_of(pairs, "jsonl");
    assert_eq!(
        line,
        format!(
            "{{\"sequence\":1,\"join_keys\":[],\"events\":[{},{}]}}\n",
            doc("a", "0"),
            doc("b", "1")
        )
    );
}
