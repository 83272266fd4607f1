//! `talon query --tiebreaker-field` orders events at one time as
//! Elasticsearch sorts the tiebreaker, by the type `--mapping` gives it: a
//! `date` by its instant, an `ip` by its address, a `version` by
//! semantic-version precedence, and a multi-valued field by its least
//! value (its greatest when the search takes from the tail, as
//! Elasticsearch then sorts descending). Event queries and sequences agree.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const MAPPING: &str = r#"{"mappings":{"properties":{
    "@timestamp":{"type":"date"},
    "id":{"type":"keyword"},
    "host":{"properties":{"id":{"type":"keyword"}}},
    "event":{"properties":{"category":{"type":"keyword"}}},
    "t_date":{"type":"date"},
    "t_ip":{"type":"ip"},
    "t_version":{"type":"version"},
    "t_ips":{"type":"ip"}
}}}"#;

/// Events `a` to `d` at one time. Each tiebreaker's text order differs
/// from its order by value.
const EVENTS: &str = r#"
{"id":"a","@timestamp":"2024-05-01T00:00:00Z","event":{"category":"process"},"t_date":"2024-01-01T00:00:00Z","t_ip":"10.0.0.10","t_version":"1.10.0","t_ips":["10.0.0.20","10.0.0.3"]}
{"id":"b","@timestamp":"2024-05-01T00:00:00Z","event":{"category":"process"},"t_date":"2024-01-01T01:00:00+02:00","t_ip":"10.0.0.9","t_version":"1.9.0","t_ips":"10.0.0.5"}
{"id":"c","@timestamp":"2024-05-01T00:00:00Z","event":{"category":"process"},"t_date":"2024-01-01T00:00:00.5Z","t_ip":"::1","t_version":"1.10.0-rc.1","t_ips":["10.0.0.10","10.0.0.4"]}
{"id":"d","@timestamp":"2024-05-01T00:00:00Z","event":{"category":"process"},"t_date":"not a date","t_ip":"nope","t_version":"bad"}
"#;

/// A directory holding `MAPPING` and `events` (one JSON object a line).
fn files(events: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = dir.path().join("mapping.json");
    std::fs::write(&mapping, MAPPING).expect("write mapping");
    let data = dir.path().join("events.ndjson");
    let lines: String = events
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    std::fs::write(&data, lines).expect("write events");
    (dir, mapping, data)
}

/// The `--format es` body of `query` over `data`.
fn es(query: &str, mapping: &Path, data: &Path, extra: &[&str]) -> Value {
    let mut c = talon();
    c.args(["query", query, "--format", "es", "-q", "--mapping"])
        .arg(mapping)
        .args(extra)
        .arg(data);
    let out = run(c);
    assert!(out.status.success(), "{query}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("the body is JSON")
}

fn id(hit: &Value) -> String {
    hit["_source"]["id"].as_str().expect("an id").to_string()
}

/// The ids `any where true` returns, ordered by the tiebreaker `field`.
fn event_ids(field: &str, position: &str) -> Vec<String> {
    let (_dir, mapping, data) = files(EVENTS);
    let args = [
        "--tiebreaker-field",
        field,
        "--result-position",
        position,
        "--size",
        "100",
    ];
    let body = es("any where true", &mapping, &data, &args);
    body["hits"]["events"]
        .as_array()
        .expect("hits.events")
        .iter()
        .map(id)
        .collect()
}

#[test]
fn event_query_orders_typed_tiebreakers_by_value() {
    for position in ["head", "tail"] {
        // Text: c "…00.5Z", a "…00Z", b "…01:00+02:00". In time b is the
        // day before, c half a second after a; d cannot be read: missing.
        assert_eq!(event_ids("t_date", position), ["b", "a", "c", "d"]);
        // Text: a "10.0.0.10", b "10.0.0.9", c "::1". As addresses ::1
        // comes first (IPv4 sorts as ::ffff:a.b.c.d); d is no address.
        assert_eq!(event_ids("t_ip", position), ["c", "b", "a", "d"]);
        // Text: a "1.10.0", c "1.10.0-rc.1", b "1.9.0"; an invalid version
        // sorts after every valid one.
        assert_eq!(event_ids("t_version", position), ["b", "c", "a", "d"]);
    }
}

#[test]
fn event_query_orders_a_multi_valued_tiebreaker_by_least_or_greatest() {
    // First values as text: c "10.0.0.10", a "10.0.0.20", b "10.0.0.5".
    // Least: a .3, c .4, b .5; d has none and sorts last.
    assert_eq!(event_ids("t_ips", "head"), ["a", "c", "b", "d"]);
    // From the tail Elasticsearch sorts descending, by the greatest:
    // b .5, c .10, a .20.
    assert_eq!(event_ids("t_ips", "tail"), ["b", "c", "a", "d"]);
}

/// Pairs of a process and a network event at one time on one host: the
/// process event is listed last, so only the tiebreaker puts it first.
const PAIRS: &str = r#"
{"id":"n1","@timestamp":"2024-05-01T00:00:01Z","host":{"id":"h1"},"event":{"category":"network"},"t_date":"2024-01-01T00:00:00Z","t_ip":"10.0.0.10","t_version":"1.10.0","t_ips":"10.0.0.2"}
{"id":"p1","@timestamp":"2024-05-01T00:00:01Z","host":{"id":"h1"},"event":{"category":"process"},"t_date":"2024-01-01T01:00:00+02:00","t_ip":"10.0.0.9","t_version":"1.9.0","t_ips":["10.0.0.50","10.0.0.1"]}
{"id":"n2","@timestamp":"2024-05-01T00:00:02Z","host":{"id":"h2"},"event":{"category":"network"},"t_date":"2024-01-01T00:00:00.5Z","t_ip":"10.0.0.1","t_version":"2.0.0","t_ips":"10.0.0.2"}
{"id":"p2","@timestamp":"2024-05-01T00:00:02Z","host":{"id":"h2"},"event":{"category":"process"},"t_date":"2024-01-01T00:00:00Z","t_ip":"::1","t_version":"2.0.0-alpha","t_ips":["10.0.0.3","10.0.0.1"]}
"#;

/// The ids of each sequence `process` then `network` by host, ordered by
/// the tiebreaker `field`.
fn sequence_ids(field: &str) -> Vec<Vec<String>> {
    let (_dir, mapping, data) = files(PAIRS);
    let query = "sequence by host.id [process where true] [network where true]";
    sequences_of(&es(query, &mapping, &data, &["--tiebreaker-field", field]))
}

/// The ids of each sequence of an `--format es` body.
fn sequences_of(body: &Value) -> Vec<Vec<String>> {
    body["hits"]["sequences"]
        .as_array()
        .expect("hits.sequences")
        .iter()
        .map(|s| {
            s["events"]
                .as_array()
                .expect("sequence events")
                .iter()
                .map(id)
                .collect()
        })
        .collect()
}

#[test]
fn sequences_order_typed_tiebreakers_by_value() {
    // Each process event sorts before its network event by value, after
    // it by text ("10.0.0.10" < "10.0.0.9"; "2024-01-01T00:00:00.5Z" <
    // "2024-01-01T00:00:00Z"; "1.10.0" < "1.9.0"; "2.0.0" < "2.0.0-alpha").
    for field in ["t_date", "t_ip", "t_version"] {
        assert_eq!(sequence_ids(field), [["p1", "n1"], ["p2", "n2"]], "{field}");
    }
}

#[test]
fn sequences_order_a_multi_valued_tiebreaker_by_its_least_value() {
    // p1's least .1 is before n1's .2 (its first, .50, is after); p2's
    // least .1 is before n2's .2, its first (.3) after.
    assert_eq!(sequence_ids("t_ips"), [["p1", "n1"], ["p2", "n2"]]);
}

/// From a fresh user: an event with two `@timestamp` values sorted by the
/// earlier in an event query and by the first in a sequence, so the two
/// disagreed on the same events. Both now read the earliest, as an
/// ascending Elasticsearch sort does.
#[test]
fn event_queries_and_sequences_order_a_multi_valued_timestamp_alike() {
    let (_dir, mapping, data) = files(
        r#"
{"id":"a","@timestamp":"2024-05-01T00:00:01Z","event":{"category":"process"}}
{"id":"multi","@timestamp":["2024-05-01T00:00:05Z","2020-01-01T00:00:00Z"],"event":{"category":"process"}}
{"id":"b","@timestamp":"2024-05-01T00:00:03Z","event":{"category":"process"}}
"#,
    );
    let body = es("process where true", &mapping, &data, &[]);
    let events: Vec<String> = body["hits"]["events"]
        .as_array()
        .expect("hits.events")
        .iter()
        .map(id)
        .collect();
    assert_eq!(events, ["multi", "a", "b"]);
    let body = es(
        "sequence [process where true] [process where true]",
        &mapping,
        &data,
        &[],
    );
    assert_eq!(sequences_of(&body), [["multi", "a"], ["a", "b"]]);
}
