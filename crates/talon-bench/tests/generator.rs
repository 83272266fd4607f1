//! The generator's promise, checked against the real engine: a file made
//! with `--matches N` makes the seed rule alert exactly N times, and none
//! of the near misses alert. Also: the same seed gives the same bytes, and
//! every line is JSON that talon reads without a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};

fn seed_rule() -> Option<PathBuf> {
    common::corpus_path("detection-rules/seed-rule.toml")
}

/// Runs the seed rule over `file` in-process, as `talon hunt` does, and
/// returns (alerts, events read, lines skipped).
fn hunt(rule: &Path, file: &Path) -> (u64, u64, u64) {
    let report = talon_rules::load_paths(&[rule.to_path_buf()]);
    assert!(
        report.errors.is_empty(),
        "seed rule failed to load: {:?}",
        report.errors
    );
    let (compiled, problems) = compile_rules(report.rules, &Mapping::default());
    assert!(
        problems.is_empty(),
        "seed rule failed to compile: {problems:?}"
    );
    let (mut engine, unsupported) = Engine::new(compiled, &EngineOptions::default());
    assert!(unsupported.is_empty());

    let mut reader = EventReader::from_args(&[file.display().to_string()], ReadOptions::default())
        .expect("generated file opens");
    let mut alerts = 0u64;
    for event in reader.by_ref().filter_map(Result::ok) {
        engine.on_event(&event, |_| alerts += 1);
    }
    let stats = reader.stats();
    (alerts, stats.events, stats.issue_count())
}

/// Runs the generator binary; returns its `key: value` report.
fn generate(out: &Path, args: &[&str]) -> Vec<(String, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_talon-bench-gen"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("talon-bench-gen runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(report: &[(String, String)], key: &str) -> u64 {
    report
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{key}` in the generator's report: {report:?}"))
}

#[test]
fn seed_rule_alerts_exactly_on_the_true_matches() {
    let Some(rule) = seed_rule() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let report = generate(
        &file,
        &[
            "--size",
            "2MB",
            "--seed",
            "42",
            "--matches",
            "60",
            "--near-misses",
            "120",
        ],
    );

    let (matches, events) = (field(&report, "matches"), field(&report, "events"));
    assert_eq!(matches, 60);
    assert_eq!(field(&report, "near_misses"), 120);
    assert_eq!(
        field(&report, "bytes"),
        std::fs::metadata(&file).unwrap().len()
    );

    let (alerts, read, skipped) = hunt(&rule, &file);
    assert_eq!(skipped, 0, "every generated line must be a readable event");
    assert_eq!(read, events);
    assert_eq!(
        alerts, matches,
        "the seed rule must alert on exactly the true matches"
    );
}

#[test]
fn other_seeds_and_no_matches_hold_too() {
    let Some(rule) = seed_rule() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (seed, matches, misses) in [("7", "0", "200"), ("2024", "33", "33")] {
        let file = dir.path().join(format!("events-{seed}.ndjson"));
        let args = [
            "--size",
            "600KB",
            "--seed",
            seed,
            "--matches",
            matches,
            "--near-misses",
            misses,
        ];
        let report = generate(&file, &args);
        let (alerts, _, skipped) = hunt(&rule, &file);
        assert_eq!(skipped, 0);
        assert_eq!(alerts, field(&report, "matches"), "seed {seed}");
    }
}

#[test]
fn same_seed_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    generate(&a, &["--size", "300KB", "--seed", "5"]);
    generate(&b, &["--size", "300KB", "--seed", "5"]);
    generate(&c, &["--size", "300KB", "--seed", "6"]);
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
}

#[test]
fn bad_size_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_talon-bench-gen"))
        .args(["--size", "lots", "--out"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a size"));
}
