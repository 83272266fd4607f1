//! Hand-written rules whose generated events are known exactly: values
//! built from terms, wildcards, regexes, cidr blocks and scripts, arrays
//! for several positive tests on one field, near-miss labels, the index
//! shapes, unsatisfiable queries with their reason, seeds, and streams for
//! sequences.

use std::path::Path;

use serde_json::{json, Value};
use talon_engine::compile_rule;
use talon_event::mapping::Mapping;
use talon_rules::{load_str, Rule, RuleFormat};
use talon_synth::{synthesize, synthesize_sequence, SynthError, SynthOptions, Synthesis};

fn rule(query: &str, index: &[&str], tags: &[&str]) -> Rule {
    let doc = json!({
        "rule_id": "00000000-0000-0000-0000-000000000001",
        "name": "test rule",
        "description": "test",
        "type": "eql",
        "language": "eql",
        "query": query,
        "index": index,
        "tags": tags,
        "risk_score": 21,
        "severity": "low",
    });
    let (mut rules, errors) = load_str(
        &doc.to_string(),
        Path::new("test.ndjson"),
        RuleFormat::KibanaNdjson,
    );
    assert!(errors.is_empty(), "{errors:?}");
    rules.pop().expect("one rule")
}

fn synth_with(query: &str, index: &[&str], opts: &SynthOptions) -> Synthesis {
    let r = rule(query, index, &["OS: Linux"]);
    let c = compile_rule(r, &Mapping::default()).expect("compiles");
    synthesize(&c.rule, &c.query, opts).expect("synthesizes")
}

fn synth(query: &str) -> Synthesis {
    synth_with(query, &["logs-endpoint.events.*"], &SynthOptions::default())
}

/// A field of a generated document (nested or hit-wrapped).
fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc.get("_source").unwrap_or(doc);
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn labels(s: &Synthesis) -> Vec<&str> {
    s.near_misses.iter().map(|(l, _)| l.as_str()).collect()
}

#[test]
fn terms_and_wildcards_become_values_and_each_condition_is_flipped() {
    let s = synth(
        r#"process where process.name == "sysctl" and process.command_line like "*net.ipv4.ip_forward*""#,
    );
    assert_eq!(s.unsatisfiable, None);
    let p = &s.positives[0];
    assert_eq!(get(p, "process.name"), Some(&json!("sysctl")));
    assert_eq!(
        get(p, "process.command_line"),
        Some(&json!("net.ipv4.ip_forward"))
    );
    assert_eq!(get(p, "event.category"), Some(&json!(["process"])));
    assert_eq!(get(p, "talon.synth.expect"), Some(&json!("alert")));
    assert_eq!(
        get(p, "data_stream.dataset"),
        Some(&json!("endpoint.events.process"))
    );
    assert_eq!(get(p, "host.os.type"), Some(&json!("linux")));
    assert_eq!(
        labels(&s),
        vec![
            "event.category == \"process\"",
            "process.name == \"sysctl\"",
            "process.command_line like \"*net.ipv4.ip_forward*\"",
        ]
    );
    // One value changed per near-miss, the rest as in the positive.
    let (_, m) = &s.near_misses[1];
    assert_eq!(get(m, "process.name"), Some(&json!("sysctlx")));
    assert_eq!(
        get(m, "process.command_line"),
        get(p, "process.command_line")
    );
    assert_eq!(get(m, "talon.synth.expect"), Some(&json!("no-alert")));
    assert_eq!(
        get(m, "talon.synth.flipped"),
        Some(&json!("process.name == \"sysctl\""))
    );
}

#[test]
fn several_positive_tests_on_one_field_use_an_array() {
    let s = synth(r#"process where process.args == "-c" and process.args like "*-w*""#);
    assert_eq!(
        get(&s.positives[0], "process.args"),
        Some(&json!(["-c", "-w"]))
    );
    let s = synth(r#"process where process.name == "a" and process.name == "b""#);
    assert_eq!(
        get(&s.positives[0], "process.name"),
        Some(&json!(["a", "b"]))
    );
}

#[test]
fn one_positive_per_branch_of_a_top_level_or() {
    let s = synth(
        r#"process where process.name == "a" and (process.args == "-x" or process.parent.name == "p")"#,
    );
    assert_eq!(s.positives.len(), 2);
    assert_eq!(get(&s.positives[0], "process.args"), Some(&json!(["-x"])));
    assert_eq!(
        get(&s.positives[1], "process.parent.name"),
        Some(&json!("p"))
    );
    assert_eq!(get(&s.positives[1], "process.args"), None);
}

#[test]
fn exclusions_are_flipped_one_by_one() {
    let s = synth(
        r#"process where process.name == "a" and not (process.parent.name == "sshd" or ?user.name in ("root", "admin"))"#,
    );
    assert_eq!(
        labels(&s),
        vec![
            "event.category == \"process\"",
            "process.name == \"a\"",
            "not process.parent.name == \"sshd\"",
            "not ?user.name in (\"root\", \"admin\")",
        ]
    );
    assert_eq!(
        get(&s.near_misses[2].1, "process.parent.name"),
        Some(&json!("sshd"))
    );
    assert_eq!(get(&s.near_misses[3].1, "user.name"), Some(&json!("root")));
    // The positive leaves excluded fields out.
    assert_eq!(get(&s.positives[0], "process.parent.name"), None);
}

#[test]
fn a_regex_class_without_a_preferred_letter_offers_each_member() {
    // `[bc]` holds none of the preferred letters: every variant used to
    // take `b`, so ruling out "abd" left no candidate and the rule was
    // called one that cannot fire.
    let s = synth(r#"process where process.name regex "a[bc]+d" and process.name != "abd""#);
    assert_eq!(s.unsatisfiable, None);
    assert_eq!(get(&s.positives[0], "process.name"), Some(&json!("acd")));
}

#[test]
fn regexes_cidr_blocks_ranges_and_scripts() {
    let s = synth(r#"file where file.name regex "[a-z]{3}[0-9]\\.tmp""#);
    assert_eq!(get(&s.positives[0], "file.name"), Some(&json!("aaa0.tmp")));

    let s = synth(
        r#"network where cidrMatch(destination.ip, "10.0.0.0/8") and destination.ip != "10.0.0.1""#,
    );
    assert_eq!(
        get(&s.positives[0], "destination.ip"),
        Some(&json!("10.20.30.40"))
    );

    let s = synth(r#"network where destination.port > 1024 and destination.port != 1025"#);
    assert_eq!(get(&s.positives[0], "destination.port"), Some(&json!(1026)));

    let s = synth(
        r#"process where length(process.command_line) > 20 and process.command_line : "*-enc*""#,
    );
    let line = get(&s.positives[0], "process.command_line")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(line.len() > 20 && line.contains("-enc"), "{line}");
    assert!(s.unflippable.is_empty(), "{:?}", s.unflippable);
    assert_eq!(s.near_misses.len(), 3);
}

#[test]
fn unsatisfiable_queries_say_why() {
    let s = synth(r#"process where process.name == "a" and process.name != "a""#);
    let why = s.unsatisfiable.expect("unsatisfiable");
    assert!(why.contains("process.name"), "{why}");
    assert!(s.positives.is_empty() && s.near_misses.is_empty());

    let s = synth(r#"process where process.name == "a" and not process.name : "A""#);
    assert!(s.unsatisfiable.is_some(), "{:?}", s.positives);

    // Any value may pass each test: satisfiable with two values.
    let s = synth(r#"process where process.name == "a" and length(process.name) > 3"#);
    assert_eq!(
        get(&s.positives[0], "process.name"),
        Some(&json!(["a", "aaaa"]))
    );

    let s = synth("process where false");
    assert!(s.unsatisfiable.expect("folds").contains("folds to false"));
}

#[test]
fn conditions_implied_by_others_are_reported_not_flipped() {
    let s = synth(r#"dns where dns.question.name != null and dns.question.name : "ip-api.com""#);
    assert_eq!(s.unflippable.len(), 1);
    assert_eq!(s.unflippable[0].0, "dns.question.name != null");
    assert_eq!(
        labels(&s),
        vec![
            "event.category == \"dns\"",
            "dns.question.name : \"ip-api.com\""
        ]
    );
}

#[test]
fn the_index_comes_from_the_patterns() {
    let opts = SynthOptions::default();
    let s = synth_with(
        r#"process where true"#,
        &["winlogbeat-*", "logs-windows.sysmon_operational-*"],
        &opts,
    );
    assert_eq!(
        get(&s.positives[0], "data_stream.dataset"),
        Some(&json!("windows.sysmon_operational"))
    );
    let s = synth_with(r#"process where true"#, &["winlogbeat-*"], &opts);
    assert_eq!(
        s.positives[0].get("_index"),
        Some(&json!("winlogbeat-synth"))
    );
    let r = rule("process where true", &["-logs-*"], &[]);
    let c = compile_rule(r, &Mapping::default()).expect("compiles");
    assert!(matches!(
        synthesize(&c.rule, &c.query, &opts),
        Err(SynthError::NoIndex(_))
    ));
}

#[test]
fn the_seed_varies_the_events_and_nothing_else_does() {
    let q = r#"process where process.name == "a" and process.parent.executable != null"#;
    let a = synth_with(
        q,
        &["logs-*"],
        &SynthOptions {
            seed: 3,
            ..SynthOptions::default()
        },
    );
    let b = synth_with(
        q,
        &["logs-*"],
        &SynthOptions {
            seed: 3,
            ..SynthOptions::default()
        },
    );
    let c = synth_with(
        q,
        &["logs-*"],
        &SynthOptions {
            seed: 4,
            ..SynthOptions::default()
        },
    );
    assert_eq!(a.positives, b.positives);
    assert_eq!(a.near_misses, b.near_misses);
    assert_ne!(a.positives, c.positives);
}

#[test]
fn a_sequence_stream_shares_keys_repeats_runs_and_fits_maxspan() {
    let r = rule(
        r#"sequence by host.id with maxspan=2s
             [process where process.name == "curl"] by process.entity_id with runs=2
             [network where destination.port == 4444] by process.entity_id
           until [process where event.type == "end"] by process.entity_id"#,
        &["logs-endpoint.events.*"],
        &["OS: Linux"],
    );
    let c = compile_rule(r, &Mapping::default()).expect("compiles");
    let stream = synthesize_sequence(&c.rule, &c.query, &SynthOptions::default()).expect("stream");
    assert_eq!(stream.len(), 3);
    let host: Vec<_> = stream.iter().map(|d| get(d, "host.id")).collect();
    assert!(
        host[0].is_some() && host.iter().all(|h| *h == host[0]),
        "{host:?}"
    );
    let entity: Vec<_> = stream.iter().map(|d| get(d, "process.entity_id")).collect();
    assert!(entity.iter().all(|e| *e == entity[0]), "{entity:?}");
    let times: Vec<&str> = stream
        .iter()
        .filter_map(|d| get(d, "@timestamp").and_then(Value::as_str))
        .collect();
    assert_eq!(
        times,
        vec![
            "2025-01-01T00:00:00.000Z",
            "2025-01-01T00:00:00.666Z",
            "2025-01-01T00:00:01.332Z"
        ]
    );
    let terms: Vec<_> = stream
        .iter()
        .map(|d| get(d, "talon.synth.term").cloned())
        .collect();
    assert_eq!(terms, vec![Some(json!(0)), Some(json!(0)), Some(json!(1))]);
    assert_eq!(get(&stream[2], "destination.port"), Some(&json!(4444)));
    assert_eq!(get(&stream[0], "event.type"), None);
    let e = rule("process where true", &["logs-*"], &[]);
    let ec = compile_rule(e, &Mapping::default()).expect("compiles");
    assert!(matches!(
        synthesize_sequence(&ec.rule, &ec.query, &SynthOptions::default()),
        Err(SynthError::NotASequence)
    ));
}
