//! The JSON Lines writers of `AlertBuilder` against the plain path: for
//! every event, rule and run below, `write_event_alert_jsonl` appends the
//! bytes `JsonLinesSink` writes for `event_alert`, and
//! `write_sequence_alerts_jsonl` those it writes for `sequence_alerts`,
//! with the same summaries and the same errors.
//!
//! The events are chosen to break a writer that splices bytes: dotted and
//! nested spellings of one field, keys the alert also writes, empty arrays
//! and objects at every depth, escapes and numbers `serde_json` rewrites,
//! repeated keys, invalid documents. A seeded generator adds thousands
//! more, and the shared corpora (when present) add every prebuilt rule.

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use serde_json::json;
use talon_alert::write::JsonLinesSink;
use talon_alert::{AlertBuilder, AlertContext, AlertSink, AlertSummary};
use talon_event::read::{EventReader, ReadOptions};
use talon_event::{Event, Origin};
use talon_rules::Rule;

/// Documents written by hand, one per line of JSON text.
const VARIED: &[&str] = &[
    // The seed event, as the readers see it.
    r#"{"@timestamp":"2025-02-03T04:01:02.345Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec"},"host":{"name":"web-01","os":{"type":"linux"}},"process":{"name":"sysctl","command_line":"sysctl -w net.ipv4.ip_forward=1","args":["sysctl","-w","net.ipv4.ip_forward=1"],"pid":48213,"parent":{"name":"bash","pid":48190}},"user":{"name":"root","id":"0"}}"#,
    // Whitespace everywhere JSON allows it.
    " \t{ \"@timestamp\" : \"2025-02-03T04:01:02Z\" ,\n \"event\" : { \"kind\" : \"event\" , \"code\" : [ 1 , 2 ] } , \"host.name\" : \"h\" } \r\n",
    // Dotted, nested and mixed spellings of the reason's fields.
    r#"{"event.category":"network","source.ip":"10.0.0.1","source":{"port":"443"},"destination":{"ip":["8.8.8.8","-"],"port":53},"user.name":["root","admin"],"host":{"name":"-"},"process.parent":{"name":"sshd"},"process":{"parent.name":"init","name":""}}"#,
    r#"{"process":{"name":"a"},"process.name":"b","host":{"name":{"x":1}},"user":{"name":[[],"u",{"a":1},null,true,2.50]}}"#,
    r#"{"file.name":"null","event":{"category":[]},"host.name":["-"]}"#,
    // event.kind nested, dotted, alone, empty, in an array.
    r#"{"event":{"kind":"alert"}}"#,
    r#"{"event.kind":"alert","event.code":"4688","event":{"action":"x"}}"#,
    r#"{"event":{"kind":{}}}"#,
    r#"{"event":{"kind":[],"code":1}}"#,
    r#"{"event":[{"kind":"x"}],"data_stream":"x"}"#,
    r#"{"event":"scalar","data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}"#,
    r#"{"event":{"a":{"b":{"c":[1,{"d":[]}]}},"a.b":{"d":2}},"data_stream.dataset":"x"}"#,
    // Two spellings that copy to one kibana.alert.original_event key.
    r#"{"event":{"code":"1"},"event.code":"2"}"#,
    r#"{"event":{"a.b":1,"a":{"b":2}}}"#,
    r#"{"data_stream":{"type":"logs"},"data_stream.type":"metrics"}"#,
    // Fields an alert writes itself, and their look-alikes.
    r#"{"kibana":{"alert":{"severity":"critical"}},"kibana.alert.rule.name":"forged","signal":{"rule":{"id":"x"}},"signal.status":"open","threshold_result":{"count":3},"threshold_result.terms":[],"kibanana":"kept","signals":"kept","kibana_x":1}"#,
    r#"{"@timestamp":{},"kibana.version":"1","kibana.space_ids":["x"],"kibana.alert.uuid":"forged","event.kind":"signal"}"#,
    r#"{"@timestamp.nested":"kept","@timestamp":[],"kibana.alert.original_time":"x","kibana.alert.original_event.action":"forged"}"#,
    // Empty arrays and objects at every depth.
    r#"{"a":[],"b":{},"c":[[]],"d":[{}],"e":{"f":{}},"g":[[],[[]],{"h":[]}],"i":[1,[],2],"j":{"k":[],"l":1},"m":""}"#,
    r#"{}"#,
    r#"{"kibana":1}"#,
    r#"{"event":{}}"#,
    // Escapes serde_json keeps, and those it rewrites.
    r#"{"message":"tab\tnewline\nquote\"backslash\\ bell\b feed\f return\r","path":"C:\\Windows\\System32\\cmd.exe"}"#,
    r#"{"message":"slash\/ e\u00e9 control\u001f\u001F del\u007f bs\u0008 quote\u0022 backslash\u005c emoji\ud83d\ude00 nul\u0000"}"#,
    r#"{"process":{"name":"caf\u00e9","args":["\/bin\/sh","-c"]},"user":{"name":"\u00fc"}}"#,
    "{\"text\":\"raw UTF-8: é 日本語 😀 \u{7f}\",\"日本\":{\"名前\":\"値\"}}",
    // Numbers serde_json keeps, and those it rewrites.
    r#"{"n":[0,-0,1,-1,1.0,-0.0,1e5,1E5,1e-7,0.1,2.50,1.5e300,100000000000000000000.0]}"#,
    r#"{"big":[9223372036854775807,9223372036854775808,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,123456789012345678901234567890]}"#,
    r#"{"@timestamp":1714557600000,"process":{"pid":1.0,"parent":{"pid":-0}}}"#,
    r#"{"@timestamp":1714557600000.5}"#,
    r#"{"@timestamp":"1714557600000"}"#,
    r#"{"@timestamp":["2024-05-01T10:00:00Z"]}"#,
    r#"{"@timestamp":"yesterday","x":null,"y":true,"z":false}"#,
    // Repeated keys: serde_json keeps the last value at the first place.
    r#"{"a":1,"b":2,"a":3}"#,
    r#"{"a":1,"b":2,"a":{}}"#,
    r#"{"host":{"name":"a","name":"b"},"event":{"kind":"x","kind":"y"}}"#,
    r#"{"@timestamp":"2024-01-01T00:00:00Z","@timestamp":"2024-06-01T00:00:00Z"}"#,
    // Keys written with escapes.
    r#"{"k\u0065y":1,"key":2}"#,
    r#"{"a\"b":1,"ev\u0065nt":{"kind":"x"}}"#,
    // Odd but valid keys.
    r#"{"":1,".":2,"a.":3,".b":4,"event.":5,"event..x":6,"data_stream.":{"":7}}"#,
    // Not alerts: not JSON, not an object, out of range, lone surrogate.
    r#"{"a": "#,
    r#"[1,2]"#,
    r#""text""#,
    r#"{"a":1} x"#,
    r#"{"a":1e400}"#,
    r#"{"kibana":{"x":1e400}}"#,
    r#"{"a":"\ud800"}"#,
    r#"{"signal":"\udc00x"}"#,
    r#"{"a":01}"#,
    r#"{"a":1.}"#,
    r#"{"a":"tab	raw"}"#,
    r#"{"a":tru}"#,
    r#"{"a":1,}"#,
    "\u{feff}{\"a\":1}",
];

fn ctx() -> AlertContext {
    common::ctx()
}

/// The rules the documents are alerted by: the seed rule and variants
/// that change the fields around the event's, or take some from it.
fn rules() -> Vec<Rule> {
    let seed = seed_rule();

    let mut building_block = seed.clone();
    building_block.building_block_type = Some("default".into());

    let mut export = seed.clone();
    let extra = json!({
        "id": "3f2a9c4e-0000-4000-8000-000000000001",
        "revision": 4,
        "meta": {"from": "1m", "kibana_siem_app_url": "https://kibana", "nested": {"a": [1, {}], "b": {}}},
        "namespace": "soc",
        "exceptions_list": [{"id": "x", "list_id": "y", "type": "detection", "namespace_type": "single"}],
        "rule_name_override": "process.name",
        "timeline_id": "t-1",
        "timeline_title": "Generic Process Timeline",
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_by": "elastic",
        "immutable": false,
        "investigation_fields": {"field_names": ["host.name"]}
    });
    if let serde_json::Value::Object(map) = extra {
        export.extra = map;
    }
    export.metadata = serde_json::Map::new();

    let mut odd = seed.clone();
    odd.name = "Quote \" backslash \\ newline \n é 日本 \u{1f}".into();
    odd.severity = "critical".into();
    odd.risk_score = 99;
    odd.note = None;
    odd.license = None;
    odd.tags = vec![];
    odd.threat = vec![];
    odd.rule_type = "query".into();
    odd.language = None;
    odd.index = vec![];
    odd.timestamp_override = None;

    // Every override, on fields the documents spell in many ways, with
    // a severity mapping out of order (Kibana sorts it in the alert).
    let mut overridden = seed.clone();
    let extra = json!({
        "severity_mapping": [
            {"field": "process.name", "operator": "equals", "value": "sysctl", "severity": "critical"},
            {"field": "event.code", "operator": "equals", "value": "1", "severity": "medium"},
            {"field": "event.severity", "operator": "equals", "value": "1", "severity": "high"},
            {"field": "user.name", "operator": "equals", "value": "root", "severity": "low"}
        ],
        "risk_score_mapping": [{"field": "n", "operator": "equals", "value": ""}],
        "rule_name_override": "message"
    });
    if let serde_json::Value::Object(map) = extra {
        overridden.extra = map;
    }

    vec![seed, building_block, export, odd, overridden]
}

/// Runs in several spaces and versions, since both are in the fields.
fn contexts() -> Vec<AlertContext> {
    vec![
        ctx(),
        ctx()
            .with_space("soc \"team\"")
            .with_kibana_version("8.17.1"),
    ]
}

/// One event per document, made twice: as a reader makes it (flattened
/// fields, an index derived from `data_stream`), and as the engine may
/// hand it over (no fields, only the source text).
fn events_of(texts: &[&str]) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let line = i as u64 + 1;
        let mut bare = Event::new(Default::default(), Arc::from(*text));
        bare.origin = Origin {
            file: Arc::from("varied.ndjson"),
            line,
        };
        bare.index = (i % 3 != 0).then(|| Arc::from(INDEX));
        bare.id = (i % 2 == 0).then(|| Arc::from(format!("doc-{i}").as_str()));
        events.push(bare);
        if !text.contains('\n') {
            events.extend(read_ndjson(text));
        }
    }
    events
}

fn read_ndjson(text: &str) -> Vec<Event> {
    let bytes = format!("{text}\n").into_bytes();
    EventReader::from_reader("read.ndjson", Cursor::new(bytes), ReadOptions::default())
        .read_all()
        .0
}

/// What the plain path writes for one event: the sink's line and the
/// alert's summary, or the error's text.
fn plain_event(
    builder: &AlertBuilder<'_>,
    event: &Event,
) -> Result<(Vec<u8>, AlertSummary), String> {
    let alert = builder.event_alert(event).map_err(|e| e.to_string())?;
    let mut line = Vec::new();
    let mut sink = JsonLinesSink::new(&mut line);
    sink.write(&alert).map_err(|e| e.to_string())?;
    sink.finish().map_err(|e| e.to_string())?;
    drop(sink);
    let summary = AlertSummary {
        uuid: alert.uuid().to_owned(),
        building_block: alert.is_building_block(),
    };
    Ok((line, summary))
}

/// What the JSON Lines writer appends after `PREFIX`; on an error, also
/// checks that it appended nothing.
fn fast_event(
    builder: &AlertBuilder<'_>,
    event: &Event,
) -> Result<(Vec<u8>, AlertSummary), String> {
    const PREFIX: &[u8] = b"earlier line\n";
    let mut out = PREFIX.to_vec();
    match builder.write_event_alert_jsonl(event, &mut out) {
        Ok(summary) => Ok((out.split_off(PREFIX.len()), summary)),
        Err(e) => {
            assert_eq!(out, PREFIX, "an error appended bytes");
            Err(e.to_string())
        }
    }
}

/// Where two byte strings first differ, with some context, for a failure
/// message that can be read.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let around = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(60)..(at + 60).min(s.len())]).into_owned()
    };
    format!(
        "at byte {at}:\n  plain: {}\n  fast:  {}",
        around(a),
        around(b)
    )
}

fn assert_same_event(builder: &AlertBuilder<'_>, event: &Event) {
    let plain = plain_event(builder, event);
    let fast = fast_event(builder, event);
    match (&plain, &fast) {
        (Ok((p, ps)), Ok((f, fs))) => {
            assert!(
                p == f,
                "{}:{} differs {}",
                event.origin.file,
                event.origin.line,
                first_difference(p, f)
            );
            assert_eq!(ps, fs, "summary of {}", event.source());
        }
        _ => assert_eq!(plain, fast, "source {}", event.source()),
    }
}

#[test]
fn event_alerts_are_the_plain_paths_bytes_on_varied_documents() {
    let events = events_of(VARIED);
    assert!(events.len() > VARIED.len() + 20, "the reader read too few");
    for ctx in contexts() {
        for rule in rules() {
            for builder in builders(&rule, &ctx) {
                for event in &events {
                    assert_same_event(&builder, event);
                }
            }
        }
    }
}

/// The builder of `rule` in the run `ctx` describes, and the builder of a
/// replayed run at another time (`talon hunt --schedule`).
fn builders<'r>(rule: &'r Rule, ctx: &AlertContext) -> [AlertBuilder<'r>; 2] {
    let plain = AlertBuilder::new(rule, ctx);
    let replayed = plain.for_run(ctx.now - chrono::Duration::minutes(5));
    [plain, replayed]
}

#[test]
fn event_alerts_are_the_plain_paths_bytes_on_generated_documents() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let texts: Vec<String> = (0..3000).map(|_| random_document(&mut rng)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let events = events_of(&refs);
    let rules = rules();
    let ctx = ctx();
    let builders: Vec<AlertBuilder<'_>> =
        rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
    let mut alerted = 0;
    for (i, event) in events.iter().enumerate() {
        let builder = &builders[i % builders.len()];
        assert_same_event(builder, event);
        alerted += usize::from(plain_event(builder, event).is_ok());
    }
    // The generator must mostly make documents that alert, or it tests
    // only the error path.
    assert!(alerted * 2 > events.len(), "{alerted} of {}", events.len());
}

#[test]
fn sequence_alerts_are_the_plain_paths_bytes() {
    let events = events_of(VARIED);
    let ctx = ctx();
    for rule in rules() {
        for builder in builders(&rule, &ctx) {
            for (i, window) in events.windows(3).enumerate() {
                let group: Vec<&Event> = match i % 3 {
                    0 => vec![&window[0]],
                    1 => vec![&window[0], &window[1]],
                    _ => window.iter().collect(),
                };
                assert_same_sequence(&builder, &group);
            }
            assert_same_sequence(&builder, &[]);
        }
    }
}

fn assert_same_sequence(builder: &AlertBuilder<'_>, events: &[&Event]) {
    let plain = builder
        .sequence_alerts(events)
        .map_err(|e| e.to_string())
        .map(|alerts| {
            let mut lines = Vec::new();
            let mut sink = JsonLinesSink::new(&mut lines);
            for alert in &alerts {
                let _ = sink.write(alert);
            }
            let _ = sink.finish();
            drop(sink);
            let summaries: Vec<AlertSummary> = alerts
                .iter()
                .map(|a| AlertSummary {
                    uuid: a.uuid().to_owned(),
                    building_block: a.is_building_block(),
                })
                .collect();
            (lines, summaries)
        });
    let mut out = b"before\n".to_vec();
    let fast = builder
        .write_sequence_alerts_jsonl(events, &mut out)
        .map_err(|e| e.to_string());
    let fast = fast.map(|summaries| (out.split_off(7), summaries));
    if fast.is_err() {
        assert_eq!(out, b"before\n");
    }
    match (&plain, &fast) {
        (Ok((p, _)), Ok((f, _))) if p != f => panic!("sequence differs {}", first_difference(p, f)),
        _ => assert_eq!(plain, fast),
    }
}

#[test]
fn one_builder_serves_several_threads() {
    fn is_sync<T: Sync + Send>(_: &T) {}
    let events = events_of(&VARIED[..20]);
    let rule = seed_rule();
    let ctx = ctx();
    let builder = AlertBuilder::new(&rule, &ctx);
    is_sync(&builder);
    let write_all = || {
        let mut out = Vec::new();
        for event in &events {
            let _ = builder.write_event_alert_jsonl(event, &mut out);
        }
        out
    };
    // Both threads start before the rule's fields exist, so they race to
    // make them.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(write_all);
        let b = s.spawn(write_all);
        (a.join(), b.join())
    });
    let serial = {
        let fresh = AlertBuilder::new(&rule, &ctx);
        let mut out = Vec::new();
        for event in &events {
            if let Ok((line, _)) = plain_event(&fresh, event) {
                out.extend(line);
            }
        }
        out
    };
    assert!(a.as_ref().is_ok_and(|a| *a == serial));
    assert!(b.as_ref().is_ok_and(|b| *b == serial));
}

/// Every prebuilt rule of the shared corpora, each over a few of the
/// fixture and corpus events, and a few sequences.
#[test]
fn prebuilt_rules_over_corpus_events_give_the_plain_paths_bytes() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: shared corpora not found (set TALON_CORPORA)");
        return;
    };
    let rules_dir = corpora.join("detection-rules/rules");
    let report = talon_rules::load_paths(std::slice::from_ref(&rules_dir));
    assert!(
        report.rules.len() > 500,
        "{}: too few rules",
        rules_dir.display()
    );

    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut inputs: Vec<String> = vec![
        workspace.join("tests/fixtures/seed").display().to_string(),
        workspace.join("demo/events.ndjson").display().to_string(),
        corpora.join("events/elastic_defend").display().to_string(),
        corpora
            .join("events/endgame/eql-test_data.json")
            .display()
            .to_string(),
        corpora.join("events/auditbeat_ecs").display().to_string(),
    ];
    // More events for a longer run: TALON_ALERT_DIFF_EVENTS=a.ndjson:b.ndjson
    if let Some(more) = std::env::var_os("TALON_ALERT_DIFF_EVENTS") {
        inputs.extend(std::env::split_paths(&more).map(|p| p.display().to_string()));
    }
    let reader = EventReader::from_args(&inputs, ReadOptions::default());
    let events = match reader {
        Ok(reader) => reader.read_all().0,
        Err(e) => panic!("reading the corpus events: {e}"),
    };
    assert!(
        events.len() > 100,
        "too few corpus events: {}",
        events.len()
    );

    let per_rule = std::env::var("TALON_ALERT_DIFF_PER_RULE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3usize);
    let ctx = ctx();
    let mut at = 0;
    for (r, rule) in report.rules.iter().enumerate() {
        let builder = AlertBuilder::new(rule, &ctx);
        for _ in 0..per_rule {
            assert_same_event(&builder, &events[at % events.len()]);
            at += 1;
        }
        if r % 16 == 0 {
            let group: Vec<&Event> = (0..3).map(|k| &events[(at + k) % events.len()]).collect();
            assert_same_sequence(&builder, &group);
        }
    }
}

fn corpora() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("TALON_CORPORA").map(PathBuf::from),
        Some(manifest.join("../../../shared/corpora")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("detection-rules/rules").is_dir())
}

/// xorshift64*: a small seeded generator, so every run tests the same
/// documents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Keys that collide with what an alert writes, spell one field several
/// ways, or repeat.
const KEYS: &[&str] = &[
    "@timestamp",
    "@timestamp",
    "event",
    "event",
    "event.kind",
    "kind",
    "event.category",
    "category",
    "event.code",
    "code",
    "data_stream",
    "data_stream.type",
    "type",
    "kibana",
    "kibana.alert.rule.name",
    "kibanax",
    "signal",
    "signal.rule",
    "threshold_result",
    "host",
    "host.name",
    "name",
    "process",
    "process.name",
    "process.parent",
    "process.parent.name",
    "parent",
    "parent.name",
    "user",
    "user.name",
    "source",
    "source.ip",
    "ip",
    "source.port",
    "port",
    "destination",
    "destination.ip",
    "file.name",
    "file",
    "a",
    "a.b",
    "b",
    "x.y.z",
    "é",
    "日本",
    "",
    ".",
    "k\\u0065y",
    "q\\\"k",
];

/// Strings as JSON text, with and without escapes to rewrite.
const STRINGS: &[&str] = &[
    "\"\"",
    "\"-\"",
    "\"null\"",
    "\"process\"",
    "\"web-01\"",
    "\"root\"",
    "\"10.0.0.1\"",
    "\"443\"",
    "\"a\\nb\"",
    "\"tab\\t\"",
    "\"q\\\"\"",
    "\"back\\\\slash\"",
    "\"\\/\"",
    "\"\\u00e9\"",
    "\"\\u001f\"",
    "\"\\ud83d\\ude00\"",
    "\"日本語\"",
    "\"😀\"",
    "\"2024-05-01T10:00:00Z\"",
    "\"1714557600000\"",
    "\"not a date\"",
    "\"\\u0041BC\"",
];

/// Numbers as JSON text, including those serde_json writes differently.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "1.0",
    "-0.0",
    "1e5",
    "1E5",
    "1e-7",
    "0.1",
    "2.50",
    "1.5e300",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1714557600000",
    "1714557600000.5",
    "48213",
];

const SPACES: &[&str] = &["", "", "", "", " ", "\n", "\t", " \r\n "];

fn random_document(rng: &mut Rng) -> String {
    let mut out = String::new();
    out.push_str(rng.pick(SPACES));
    random_object(rng, 0, &mut out);
    out.push_str(rng.pick(SPACES));
    // A rare invalid document keeps the error path in the mix.
    if rng.below(200) == 0 {
        out.push_str(if rng.below(2) == 0 {
            "x"
        } else {
            "\"\\ud800\""
        });
    }
    out
}

fn random_object(rng: &mut Rng, depth: usize, out: &mut String) {
    out.push('{');
    let members = if depth == 0 {
        1 + rng.below(10)
    } else {
        rng.below(5)
    };
    for i in 0..members {
        if i > 0 {
            out.push(',');
        }
        out.push_str(rng.pick(SPACES));
        out.push('"');
        out.push_str(rng.pick(KEYS));
        out.push('"');
        out.push_str(rng.pick(SPACES));
        out.push(':');
        random_value(rng, depth + 1, out);
    }
    out.push('}');
}

fn random_value(rng: &mut Rng, depth: usize, out: &mut String) {
    out.push_str(rng.pick(SPACES));
    let shallow = depth < 4;
    match rng.below(if shallow { 10 } else { 6 }) {
        0..=2 => out.push_str(rng.pick(STRINGS)),
        3 => out.push_str(rng.pick(NUMBERS)),
        4 => out.push_str(rng.pick(&["true", "false", "null"])),
        5 => out.push_str(rng.pick(&["[]", "{}", "[[]]", "[{}]", "{\"a\":[]}"])),
        6 | 7 => random_object(rng, depth, out),
        _ => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                random_value(rng, depth + 1, out);
            }
            out.push(']');
        }
    }
    out.push_str(rng.pick(SPACES));
}
