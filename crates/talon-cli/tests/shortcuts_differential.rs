//! The shortcuts of `talon hunt` (the literal prefilter that skips rules
//! per event, the line filter that skips parsing, the projection that
//! keeps only the fields rules read, rules shared between threads) pinned
//! against the plain path (`--no-prefilter`, `--threads 1`) on generated
//! data: every prebuilt EQL rule's
//! synthesized positives and near-misses (a near-miss often differs from
//! a positive by exactly the literal a needle is made of), plus copies of
//! them written with the JSON escapes that hide a needle from a byte
//! search (`\/` for `/`, `\u0061` for `a`).
//!
//! Reads `$TALON_CORPORA` (default `../shared/corpora`); prints "skipped:
//! ..." when it is absent.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use talon_engine::{compile_rule, CompiledRule, Engine, EngineOptions};
use talon_eql::QueryKind;
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_synth::{synthesize, SynthOptions};

fn rules_dir() -> Option<PathBuf> {
    let dir = corpora()?.join("detection-rules/rules");
    dir.is_dir().then_some(dir)
}

/// Every EQL rule of the corpus, compiled as `talon hunt` compiles it.
fn compiled(dir: &Path) -> Vec<CompiledRule> {
    let report = talon_rules::load_paths(&[dir.to_path_buf()]);
    report
        .rules
        .into_iter()
        .filter(|r| r.rule_type == "eql")
        .filter_map(|r| compile_rule(r, &Mapping::default()).ok())
        .collect()
}

/// Re-writes JSON text with every `/` inside a string as `\/` and every
/// `a` inside a string as `\u0061`: the same document, other bytes.
fn escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let (mut in_str, mut esc) = (false, false);
    for c in json.chars() {
        if !in_str {
            in_str = c == '"';
            out.push(c);
            continue;
        }
        if esc {
            esc = false;
            out.push(c);
            continue;
        }
        match c {
            '\\' => {
                esc = true;
                out.push(c);
            }
            '"' => {
                in_str = false;
                out.push(c);
            }
            '/' => out.push_str("\\/"),
            'a' => out.push_str("\\u0061"),
            c => out.push(c),
        }
    }
    out
}

/// The synthesized documents of every rule (positives, then near-misses),
/// each also in its escaped form every third document, as NDJSON lines
/// grouped per rule.
fn documents(rules: &[CompiledRule]) -> Vec<Vec<String>> {
    let opts = SynthOptions {
        seed: 7,
        ..SynthOptions::default()
    };
    rules
        .iter()
        .map(|r| {
            let Ok(s) = synthesize(&r.rule, &r.query, &opts) else {
                return Vec::new();
            };
            let docs = s
                .positives
                .iter()
                .chain(s.near_misses.iter().map(|(_, d)| d));
            let mut lines = Vec::new();
            for (i, d) in docs.enumerate() {
                let text = d.to_string();
                if i % 3 == 0 {
                    lines.push(escaped(&text));
                }
                lines.push(text);
            }
            lines
        })
        .collect()
}

/// The detections of one event rule over `text`: (line, rule) pairs, read
/// with the options `talon hunt` would use.
fn detections(rule: &CompiledRule, text: &str, shortcuts: bool) -> (Vec<u64>, u64) {
    let opts = EngineOptions {
        all_indices: true,
        no_prefilter: !shortcuts,
        ..EngineOptions::default()
    };
    let (mut engine, _) = Engine::new(vec![rule.clone()], &opts);
    let mut read = ReadOptions::default();
    if shortcuts {
        let prefilter = talon_engine::prefilter::Prefilter::new(std::slice::from_ref(rule), &[]);
        if let Some(f) = prefilter.and_then(|p| Arc::new(p).line_filter()) {
            read = read.with_line_filter(f);
        }
        read = read.with_projection(talon_event::flatten::Projection::only(engine.fields_read()));
    }
    let reader = EventReader::from_reader(
        "synth.ndjson",
        std::io::Cursor::new(text.as_bytes().to_vec()),
        read,
    );
    let mut lines = Vec::new();
    let mut reader = reader;
    for item in reader.by_ref() {
        let Ok(event) = item else { continue };
        let event = Arc::new(event);
        engine.on_shared_event(&event, |d| lines.push(d.event.origin.line), |_| {});
    }
    (lines, reader.stats().unparsed)
}

/// Every event rule of the corpus and their documents (see [`documents`]);
/// `None`, having said "skipped", without the corpus.
fn event_rules_and_documents() -> Option<(Vec<CompiledRule>, Vec<Vec<String>>)> {
    let Some(dir) = rules_dir() else {
        eprintln!("skipped: detection-rules corpus not found (set TALON_CORPORA)");
        return None;
    };
    let rules: Vec<CompiledRule> = compiled(&dir)
        .into_iter()
        .filter(|r| r.kind() == QueryKind::Event)
        .collect();
    let docs = documents(&rules);
    Some((rules, docs))
}

#[test]
fn every_event_rule_matches_the_same_lines_with_and_without_shortcuts() {
    let Some((rules, docs)) = event_rules_and_documents() else {
        return;
    };
    // Each rule over its own documents and its neighbours' (near-misses
    // of similar rules share most of their text).
    let (mut compared, mut filtered_lines, mut fired) = (0, 0u64, 0usize);
    for (i, rule) in rules.iter().enumerate() {
        let mut text = String::new();
        for group in docs.iter().skip(i.saturating_sub(1)).take(3) {
            for line in group {
                text.push_str(line);
                text.push('\n');
            }
        }
        if text.is_empty() {
            continue;
        }
        let (plain, _) = detections(rule, &text, false);
        let (fast, unparsed) = detections(rule, &text, true);
        assert_eq!(
            plain, fast,
            "`{}`: lines matched differ with the prefilter, line filter and projection",
            rule.rule.name
        );
        compared += 1;
        filtered_lines += unparsed;
        fired += usize::from(!plain.is_empty());
    }
    eprintln!(
        "{compared} event rules compared; {fired} fired; {filtered_lines} lines skipped unparsed"
    );
    // The comparison means something: most rules fire on their positives,
    // and the line filter did skip lines.
    assert!(compared > 800, "{compared}");
    assert!(fired > 700, "{fired}");
    assert!(filtered_lines > 1000, "{filtered_lines}");
}

/// Every prebuilt rule's documents in one file; the rules folder.
fn all_rules_input(tmp: &Path) -> Option<(PathBuf, PathBuf)> {
    let dir = rules_dir()?;
    let rules = compiled(&dir);
    let events = tmp.join("synth.ndjson");
    let mut text = String::new();
    for group in documents(&rules) {
        for line in group {
            text.push_str(&line);
            text.push('\n');
        }
    }
    std::fs::write(&events, text).expect("write events");
    Some((dir, events))
}

fn hunt_all(dir: &Path, events: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(dir)
        .arg(events)
        .args(["--format", "jsonl"])
        .args(extra);
    let out = run(c);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// The summary without its timing.
fn summary(out: &std::process::Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("talon:"))
        .map(|l| match l.find(") in ") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn a_hunt_with_every_prebuilt_rule_writes_the_same_alerts_with_and_without_shortcuts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some((dir, events)) = all_rules_input(tmp.path()) else {
        eprintln!("skipped: detection-rules corpus not found (set TALON_CORPORA)");
        return;
    };
    let plain = hunt_all(&dir, &events, &["--no-prefilter", "--threads", "1"]);
    let fast = hunt_all(&dir, &events, &["--threads", "1"]);
    let alerts = jsonl(&plain).len();
    assert!(alerts > 1000, "{alerts} alerts");
    assert!(
        plain.stdout == fast.stdout,
        "alerts differ with the shortcuts ({} vs {} alerts)",
        alerts,
        jsonl(&fast).len()
    );
    assert_eq!(summary(&plain), summary(&fast));
}

#[test]
fn threads_change_nothing_but_the_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some((dir, events)) = all_rules_input(tmp.path()) else {
        eprintln!("skipped: detection-rules corpus not found (set TALON_CORPORA)");
        return;
    };
    let one = hunt_all(&dir, &events, &["--threads", "1"]);
    let three = hunt_all(&dir, &events, &["--threads", "3"]);
    assert!(jsonl(&one).len() > 1000);
    assert!(
        one.stdout == three.stdout,
        "alerts differ with 3 threads ({} vs {} alerts)",
        jsonl(&one).len(),
        jsonl(&three).len()
    );
    // Events read, matched, per-rule alert counts, sequences: the same.
    assert_eq!(summary(&one), summary(&three));
}

#[test]
fn the_seed_rule_alone_skips_lines_and_alerts_the_same() {
    let Some(corpora) = corpora() else {
        eprintln!("skipped: corpora not found (set TALON_CORPORA)");
        return;
    };
    let seed = corpora.join("detection-rules/seed-rule.toml");
    let rule = talon_rules::load_paths(std::slice::from_ref(&seed))
        .rules
        .remove(0);
    let rule = compile_rule(rule, &Mapping::default()).expect("seed rule compiles");
    let tmp = tempfile::tempdir().expect("tempdir");
    let events = tmp.path().join("mixed.ndjson");
    // The seed rule's own documents among the demo events.
    let mut text = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    for line in documents(std::slice::from_ref(&rule)).concat() {
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(&events, text).expect("write events");
    let hunt = |extra: &[&str]| {
        let mut c = talon();
        c.arg("hunt")
            .arg("--rules")
            .arg(&seed)
            .arg(&events)
            .args(["--format", "jsonl", "--all-indices"])
            .args(extra);
        run(c)
    };
    let (plain, fast) = (hunt(&["--no-prefilter"]), hunt(&[]));
    assert!(plain.status.success() && fast.status.success());
    assert!(jsonl(&plain).len() >= 2, "{}", stderr(&plain));
    assert!(plain.stdout == fast.stdout, "alerts differ");
    assert!(
        stderr(&fast).contains("lines not parsed"),
        "{}",
        stderr(&fast)
    );
}

/// Quoted needles (`"value"`, `"prefix`, `suffix"`) must not hide events
/// whose field holds the value as a JSON scalar, or in another case where
/// the test folds case: each rule alerts on exactly the events it alerts
/// on without the shortcuts.
#[test]
fn quoted_needles_keep_scalars_and_folded_cases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    let queries = [
        ("bool", r#"any where flag == "true""#),
        ("number", r#"any where pid == " 4""#),
        ("folded", r#"any where name : "CURL""#),
        ("prefix", r#"any where path like "/tmp/*""#),
        ("suffix", r#"any where path like~ "*.SH""#),
    ];
    for (i, (name, q)) in queries.iter().enumerate() {
        let toml = format!(
            "[rule]\nname = \"{name}\"\nrule_id = \"00000000-0000-0000-0000-00000000000{i}\"\n\
             type = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\nseverity = \"low\"\n\
             index = [\"logs-*\"]\nquery = '''\n{q}\n'''\n"
        );
        std::fs::write(rules.join(format!("{name}.toml")), toml).expect("write rule");
    }
    let events = [
        r#"{"event":{"id":"b1"},"flag":true}"#,
        r#"{"event":{"id":"b2"},"flag":"TRUE"}"#,
        r#"{"event":{"id":"n1"},"pid":4}"#,
        r#"{"event":{"id":"n2"},"pid":"4"}"#,
        r#"{"event":{"id":"f1"},"name":"curl"}"#,
        r#"{"event":{"id":"f2"},"name":"xcurl"}"#,
        r#"{"event":{"id":"p1"},"path":"/tmp/a.sh"}"#,
        r#"{"event":{"id":"p2"},"path":"/var/tmp/a"}"#,
        r#"{"event":{"id":"s1"},"path":"/opt/B.Sh"}"#,
        r#"{"event":{"id":"s2"},"path":"/opt/b.sh.bak"}"#,
    ];
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events.join("\n") + "\n").expect("write events");
    let hunt = |extra: &[&str]| {
        let mut c = talon();
        c.env("TALON_NOW", "2026-01-01T00:00:00Z")
            .args(["hunt", "--format", "jsonl", "--index", "logs-test"])
            .args(extra)
            .arg("--rules")
            .arg(&rules)
            .arg(&file);
        let out = run(c);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut found: Vec<(String, String)> = jsonl(&out)
            .iter()
            .map(|a| {
                let rule = field(a, "kibana.alert.rule.name").and_then(|v| v.as_str());
                let id = field(a, "event.id").and_then(|v| v.as_str());
                (
                    rule.unwrap_or("?").to_string(),
                    id.unwrap_or("?").to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let expected: Vec<(String, String)> = [
        ("bool", "b1"),
        ("folded", "f1"),
        ("number", "n1"),
        ("prefix", "p1"),
        ("suffix", "p1"),
        ("suffix", "s1"),
    ]
    .iter()
    .map(|(r, e)| (r.to_string(), e.to_string()))
    .collect();
    assert_eq!(hunt(&["--no-prefilter"]), expected, "plain evaluation");
    assert_eq!(hunt(&[]), expected, "with the prefilter and line filter");
}

/// The engine evaluates each rule's tests in an order of its own (the
/// likeliest to fail first, `order_for_speed`) and reads fields by number
/// (`bind_fields`): every event rule answers exactly as its plan compiled
/// in the written order does, on its own and its neighbours' positives and
/// near-misses.
#[test]
fn reordered_and_bound_plans_answer_as_written_ones() {
    let Some((rules, docs)) = event_rules_and_documents() else {
        return;
    };
    let fields = talon_engine::fields_read(&rules);
    let catalog = talon_event::catalog::FieldCatalog::new(&fields);
    let scanner = talon_event::scan::Scanner::new(catalog.clone());
    let mut raw = talon_event::scan::RawDoc::new();
    let (mut compared, mut matched, mut scanned) = (0usize, 0usize, 0usize);
    for (i, rule) in rules.iter().enumerate() {
        let mut fast = rule.query.clone();
        fast.bind_fields(&|p| catalog.bind(p));
        fast.order_for_speed();
        for group in docs.iter().skip(i.saturating_sub(1)).take(3) {
            for line in group {
                let Ok(event) = talon_event::flatten::flatten(line) else {
                    continue;
                };
                let want = rule.query.matches(&event);
                assert_eq!(fast.matches(&event), want, "{}: {line}", rule.rule.name);
                // Read as `talon hunt` reads plain lines: fields by number.
                if let Ok(record) = scanner.read(line.as_bytes(), &mut raw) {
                    assert_eq!(
                        fast.matches(&record),
                        want,
                        "{} (scanned): {line}",
                        rule.rule.name
                    );
                    scanned += 1;
                }
                compared += 1;
                matched += usize::from(want);
            }
        }
    }
    assert!(
        compared > 10_000 && matched > 1_000 && scanned > compared / 2,
        "{compared} compared, {matched} matched, {scanned} scanned"
    );
}

/// With every event rule loaded in one engine, a test written the same
/// way in many rules is evaluated once per event and its answer reused
/// (the engine's leaf memo), a wildcard or regex test's answer for a
/// string met before is recalled rather than tested again (over these
/// thousands of events, in one engine), and exact values on one field
/// inside an `or` are looked up in one hashed set, and the witness index
/// recalls what a field's fragments found in a value met before: every
/// rule still matches exactly the
/// events its own plan, alone and in the written order, matches.
#[test]
fn rules_sharing_tests_in_one_engine_answer_as_each_alone() {
    let Some((rules, docs)) = event_rules_and_documents() else {
        return;
    };
    let opts = EngineOptions {
        all_indices: true,
        ..EngineOptions::default()
    };
    let (mut engine, _) = Engine::new(rules.clone(), &opts);
    let (mut events, mut found) = (0usize, 0usize);
    for line in docs.iter().flatten() {
        let Ok(event) = talon_event::flatten::flatten(line) else {
            continue;
        };
        let mut want: Vec<&str> = rules
            .iter()
            .filter(|r| r.query.matches(&event))
            .map(|r| r.rule.rule_id.as_str())
            .collect();
        let event = Arc::new(event);
        let mut got: Vec<&str> = Vec::new();
        engine.on_shared_event(
            &event,
            |d| got.push(rules[d.rule_index].rule.rule_id.as_str()),
            |_| {},
        );
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{line}");
        events += 1;
        found += want.len();
    }
    assert!(
        events > 10_000 && found > 1_000,
        "{events} events, {found} detections"
    );
}
