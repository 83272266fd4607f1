//! Differential test of routing: the routed engine (index patterns and
//! event categories decided before evaluation) gives exactly the detections
//! of evaluating every rule on every event, over the bundled rules and demo
//! events, the seed fixtures and, when the corpora are present, every EQL
//! rule of detection-rules over the event corpora.

use std::path::{Path, PathBuf};

use talon_engine::{compile_rules, CategoryNeed, CompiledRule, Engine, EngineOptions, Router};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::Event;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpora() -> Option<PathBuf> {
    let p = match std::env::var_os("TALON_CORPORA") {
        Some(p) => PathBuf::from(p),
        None => repo().join("../shared/corpora"),
    };
    p.is_dir().then_some(p)
}

fn read_events(paths: &[PathBuf], index: Option<&str>) -> Vec<Event> {
    let args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut opts = ReadOptions::default();
    if let Some(ix) = index {
        opts = opts.with_index(ix);
    }
    let reader = EventReader::from_args(&args, opts).expect("inputs open");
    reader.filter_map(Result::ok).collect()
}

fn compile(paths: &[PathBuf]) -> Vec<CompiledRule> {
    let report = talon_rules::load_paths(paths);
    let (compiled, _) = compile_rules(report.rules, &Mapping::default());
    compiled
}

/// Synthetic events covering what routing looks at: several indices, one
/// or many categories, a non-string category, none at all.
fn synthetic() -> Vec<Event> {
    let indices = [
        "logs-endpoint.events.process-default",
        "logs-endpoint.events.network-default",
        "logs-endpoint.events.file-default",
        "winlogbeat-8.0",
        "auditbeat-8.0",
        "logs-system.auth-default",
    ];
    let categories = [
        r#""process""#,
        r#""network""#,
        r#""file""#,
        r#"["process","network"]"#,
        r#"["authentication","iam"]"#,
        "5",
        "null",
    ];
    let mut text = String::new();
    for ix in indices {
        for cat in categories {
            text.push_str(&format!(
                r#"{{"_index":"{ix}","_id":"{ix}-{cat}","_source":{{"@timestamp":"2024-01-01T00:00:00Z","event":{{"category":{cat},"type":["start"],"action":"exec"}},"process":{{"name":"sysctl","args":["sysctl","-w","net.ipv4.ip_forward=1"],"executable":"/usr/sbin/sysctl","parent":{{"name":"bash"}}}},"host":{{"os":{{"type":"linux"}}}}}}}}"#
            ));
            text.push('\n');
        }
    }
    let reader = EventReader::from_reader(
        "synthetic",
        std::io::Cursor::new(text.into_bytes()),
        ReadOptions::default(),
    );
    reader.filter_map(Result::ok).collect()
}

/// (event seq, rule position) of every detection, routed.
fn routed(
    rules: Vec<CompiledRule>,
    events: &[Event],
    all_indices: bool,
) -> (Vec<(u64, usize)>, u64, usize) {
    let (mut engine, _) = Engine::new(
        rules,
        &EngineOptions {
            all_indices,
            ..EngineOptions::default()
        },
    );
    let mut out = Vec::new();
    for e in events {
        engine.on_event(e, |d| out.push((d.event.seq, d.rule_index)));
    }
    let evaluated: u64 = engine.stats().rules.iter().map(|r| r.seen).sum();
    (out, evaluated, engine.rules().len())
}

/// The same, evaluating every runnable rule on every event (index patterns
/// checked directly unless `all_indices`).
fn brute_force(rules: Vec<CompiledRule>, events: &[Event], all_indices: bool) -> Vec<(u64, usize)> {
    let (engine, _) = Engine::new(
        rules,
        &EngineOptions {
            all_indices,
            ..EngineOptions::default()
        },
    );
    let mut out = Vec::new();
    for e in events {
        for (i, r) in engine.rules().iter().enumerate() {
            let index_ok =
                all_indices || e.index.as_deref().is_some_and(|ix| r.indices.matches(ix));
            if index_ok && r.query.matches(e) {
                out.push((e.seq, i));
            }
        }
    }
    out
}

fn assert_same(rule_paths: &[PathBuf], events: &[Event], all_indices: bool, what: &str) -> usize {
    let (got, evaluated, n_rules) = routed(compile(rule_paths), events, all_indices);
    let want = brute_force(compile(rule_paths), events, all_indices);
    assert_eq!(
        got, want,
        "{what}: routed detections differ from evaluating everything"
    );
    assert!(
        evaluated < (n_rules as u64) * (events.len() as u64) || n_rules <= 1,
        "{what}: routing evaluated {evaluated} of {} rule-event pairs",
        n_rules * events.len()
    );
    got.len()
}

#[test]
fn routed_equals_brute_force_on_demo_and_fixtures() {
    let rules = vec![repo().join("rules")];
    let demo = read_events(&[repo().join("demo/events.ndjson")], None);
    let n = assert_same(&rules, &demo, false, "demo");
    // The demo is built so that the bundled rules alert on it.
    assert!(n > 0, "demo gives detections");
    assert_same(&rules, &demo, true, "demo, all indices");

    let seed = repo().join("tests/fixtures/seed");
    let mut fixtures = Vec::new();
    for f in [
        "defend.ndjson",
        "endgame.ndjson",
        "crowdstrike.ndjson",
        "sentinel_one.ndjson",
        "search-response.json",
    ] {
        fixtures.extend(read_events(&[seed.join(f)], None));
    }
    assert_same(&rules, &fixtures, false, "seed fixtures");
    assert_same(&rules, &fixtures, true, "seed fixtures, all indices");
    assert_same(&rules, &synthetic(), false, "synthetic");
}

#[test]
fn routed_equals_brute_force_for_every_corpus_rule() {
    let Some(c) = corpora() else {
        eprintln!("skipped: no corpora (set TALON_CORPORA)");
        return;
    };
    let rules = vec![c.join("detection-rules/rules")];
    if !rules[0].is_dir() {
        eprintln!("skipped: {} is absent", rules[0].display());
        return;
    }
    let mut events = synthetic();
    events.extend(read_events(&[repo().join("demo/events.ndjson")], None));
    events.extend(read_events(
        &[repo().join("tests/fixtures/seed/defend.ndjson")],
        None,
    ));
    let defend = c.join("events/elastic_defend");
    for f in [
        "ecs-rfc0030-real-linux-exec-event.json",
        "endpoint-package-process-sample_event.json",
        "kibana-cypress-linux_process-data.json",
    ] {
        events.extend(read_events(
            &[defend.join(f)],
            Some("logs-endpoint.events.process-default"),
        ));
    }
    // Endgame's EQL test data has many categories (in `event_type`).
    events.extend(read_events(
        &[c.join("events/endgame/eql-test_data.json")],
        Some("logs-endgame-default"),
    ));
    // Renumber so (seq, rule) pairs are unique across inputs.
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    assert_same(&rules, &events, false, "corpus rules");
    let n = assert_same(&rules, &events, true, "corpus rules, all indices");
    assert!(n > 0, "the corpus rules detect something in the fixtures");
}

#[test]
fn category_needs_follow_the_query() {
    let dir = std::env::temp_dir().join(format!("talon-routing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rule = |name: &str, query: &str, extra: &str| {
        format!(
            "[metadata]\ncreation_date = \"2024/01/01\"\nmaturity = \"production\"\nupdated_date = \"2024/01/01\"\n\n\
             [rule]\nauthor = [\"t\"]\ndescription = \"d\"\nindex = [\"logs-*\"]\nlanguage = \"eql\"\nlicense = \"Elastic License v2\"\n\
             name = \"{name}\"\nrisk_score = 21\nrule_id = \"{name}\"\nseverity = \"low\"\ntype = \"eql\"\n{extra}query = '''\n{query}\n'''\n"
        )
    };
    let files = [
        ("a", "process where process.name == \"x\"", ""),
        ("b", "any where process.name == \"x\"", ""),
        (
            "c",
            "sequence by host.id [process where true] [network where true]",
            "",
        ),
        ("d", "sequence [process where true] [any where true]", ""),
        (
            "e",
            "file where true",
            "event_category_override = \"event.type\"\n",
        ),
    ];
    for (name, q, extra) in files {
        std::fs::write(dir.join(format!("{name}.toml")), rule(name, q, extra)).expect("write rule");
    }
    let mut compiled = compile(std::slice::from_ref(&dir));
    compiled.sort_by(|x, y| x.rule.rule_id.cmp(&y.rule.rule_id));
    let router = Router::new(&compiled, false);
    let fields: Vec<&str> = router.category_fields().iter().map(|f| &**f).collect();
    assert_eq!(fields, ["event.category", "event.type"]);
    let one = |field: usize, names: &[&str]| CategoryNeed::OneOf {
        field,
        names: names.iter().map(|n| Box::<str>::from(*n)).collect(),
    };
    assert_eq!(
        router.needs(),
        &[
            one(0, &["process"]),
            CategoryNeed::All,
            one(0, &["process", "network"]),
            CategoryNeed::All,
            one(1, &["file"]),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
