//! The seed rule, "IPv4/IPv6 Forwarding Activity", end to end through
//! `talon hunt`, on realistic events covering every branch of its query
//! (tests/fixtures/seed, see its manifest.json and expected.json).
//!
//! Each fixture file runs against: the current rule and its older version
//! (from the corpus), the older version's documentation page (it must give
//! exactly its TOML twin's answers), and talon's bundled rule (same logic as
//! the current version). Plain, gzip, zstd and stdin inputs give the same
//! alerts.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/seed")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn manifest_index(file: &str) -> Option<String> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest");
    let m: Value = serde_json::from_str(&text).expect("manifest JSON");
    m["files"][file]["index"].as_str().map(str::to_string)
}

fn expected_ids(file: &str, version: &str) -> Vec<String> {
    expected()["files"][file][version]
        .as_array()
        .unwrap_or_else(|| panic!("expected.json has no {file}/{version}"))
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect()
}

const FILES: [&str; 5] = [
    "defend.ndjson",
    "endgame.ndjson",
    "sentinel_one.ndjson",
    "crowdstrike.ndjson",
    "search-response.json",
];

fn hunt(rule: &Path, events: &Path, index: Option<&str>) -> Vec<String> {
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(rule)
        .arg(events)
        .args(["--format", "jsonl", "-q"]);
    if let Some(i) = index {
        c.args(["--index", i]);
    }
    let out = run(c);
    assert!(out.status.success(), "talon hunt failed: {}", stderr(&out));
    event_ids(&jsonl(&out))
}

fn check_version(rule: &Path, version: &str) {
    for file in FILES {
        let index = manifest_index(file);
        let got = hunt(rule, &fixtures().join(file), index.as_deref());
        assert_eq!(
            got,
            expected_ids(file, version),
            "{} on {file}",
            rule.display()
        );
    }
}

#[test]
fn current_seed_rule_alerts_exactly_as_expected() {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    check_version(&c.join("detection-rules/seed-rule.toml"), "current");
}

#[test]
fn older_seed_rule_alerts_exactly_as_expected() {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    check_version(
        &c.join("detection-rules/seed-rule.fed7b216-2025-01-24.toml"),
        "2025-01-24",
    );
}

#[test]
fn documentation_page_runs_exactly_like_its_toml_twin() {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    check_version(&c.join("detection-rules/seed-rule-page.md"), "2025-01-24");
}

#[test]
fn bundled_rule_gives_the_current_versions_answers() {
    let rule = repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml");
    check_version(&rule, "current");
}

#[test]
fn gzip_zstd_and_stdin_give_the_same_alerts() {
    let rule = repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml");
    let plain = std::fs::read(fixtures().join("defend.ndjson")).expect("fixture");
    let want = expected_ids("defend.ndjson", "current");
    let dir = tempfile::tempdir().expect("tempdir");

    let gz_path = dir.path().join("events.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &plain).expect("gzip");
    std::fs::write(&gz_path, gz.finish().expect("gzip")).expect("write");
    assert_eq!(hunt(&rule, &gz_path, None), want, "gzip");

    // No extension at all: the format is found from the bytes.
    let zst_path = dir.path().join("events");
    std::fs::write(&zst_path, zstd::encode_all(&plain[..], 3).expect("zstd")).expect("write");
    assert_eq!(hunt(&rule, &zst_path, None), want, "zstd");

    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(&rule)
        .args(["-", "--format", "jsonl", "-q"]);
    let out = run_with_stdin(c, &plain);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(event_ids(&jsonl(&out)), want, "stdin");
}

#[test]
fn a_folder_is_walked_and_every_file_is_read() {
    let rule = repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).expect("mkdir");
    std::fs::copy(
        fixtures().join("defend.ndjson"),
        nested.join("defend.ndjson"),
    )
    .expect("copy");
    std::fs::copy(
        fixtures().join("sentinel_one.ndjson"),
        dir.path().join("s1.ndjson"),
    )
    .expect("copy");
    let mut want = expected_ids("defend.ndjson", "current");
    let s1 = expected_ids("sentinel_one.ndjson", "current");
    // Sorted walk: a/b/defend.ndjson comes before s1.ndjson.
    want.extend(s1);
    assert_eq!(hunt(&rule, dir.path(), None), want);
}

#[test]
fn alerts_carry_the_rule_and_kibana_fields() {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--rules")
        .arg(c.join("detection-rules/seed-rule.toml"))
        .arg(fixtures().join("defend.ndjson"))
        .args(["--format", "jsonl", "-q"]);
    let out = run(cmd);
    let alerts = jsonl(&out);
    let a = alerts.first().expect("at least one alert");
    assert_eq!(a["kibana.alert.rule.name"], "IPv4/IPv6 Forwarding Activity");
    assert_eq!(
        a["kibana.alert.rule.rule_id"],
        "5a138e2e-aec3-4240-9843-56825d0bc569"
    );
    assert_eq!(a["kibana.alert.severity"], "low");
    assert_eq!(a["kibana.alert.risk_score"], 21);
    assert_eq!(a["kibana.alert.rule.interval"], "5m");
    assert_eq!(a["kibana.alert.rule.from"], "now-9m");
    assert_eq!(a["kibana.alert.rule.max_signals"], 100);
    assert_eq!(a["kibana.alert.workflow_status"], "open");
    assert_eq!(field(a, "event.kind"), Some(&Value::from("signal")));
    assert_eq!(a["@timestamp"], "2026-12-01T00:00:00.000Z");
    let threat = &a["kibana.alert.rule.threat"][0];
    assert_eq!(threat["tactic"]["id"], "TA0011");
    let techniques: Vec<&str> = threat["technique"]
        .as_array()
        .expect("techniques")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(techniques, ["T1090", "T1572"]);
    assert_eq!(threat["technique"][0]["subtechnique"][0]["id"], "T1090.001");
    let reason = a["kibana.alert.reason"].as_str().expect("reason");
    assert!(
        reason.ends_with("created low alert IPv4/IPv6 Forwarding Activity."),
        "{reason}"
    );
    // The same run again gives the same alert ids: an event never yields
    // two different alerts.
    let again = jsonl(&run({
        let mut cmd = talon();
        cmd.arg("hunt")
            .arg("--rules")
            .arg(c.join("detection-rules/seed-rule.toml"))
            .arg(fixtures().join("defend.ndjson"))
            .args(["--format", "jsonl", "-q"]);
        cmd
    }));
    let ids = |v: &[Value]| {
        v.iter()
            .map(|a| a["kibana.alert.uuid"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&alerts), ids(&again));
    let mut unique = ids(&alerts);
    unique.sort_by_key(|v| v.to_string());
    unique.dedup();
    assert_eq!(
        unique.len(),
        alerts.len(),
        "alert uuids are unique per event"
    );
}
