//! A line longer than `--max-line` (256 MiB unless given) is one
//! `too-long` issue with its file and line, and the events around it are
//! read, whichever way the input is read: a mapped file, a file read
//! through a buffer (`--no-mmap`), stdin; with the line filter or without
//! (`--no-prefilter`); by `hunt`, `query` and `convert`. Held whole, a
//! 400 MB line cost 1.3-1.8 GB of memory, so an endless one ended the
//! process. The tests use a cap of 64 KiB, so that their lines are small.

mod common;

use std::path::Path;

use common::*;

const MAX_LINE_BYTES: usize = 64 << 10;
const CAP: [&str; 2] = ["--max-line", "64K"];

const RULE: &str = r#"[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/01"

[rule]
author = ["t"]
description = "d"
from = "now-9m"
index = ["logs-*"]
language = "eql"
license = "Elastic License v2"
name = "Curl run"
risk_score = 21
rule_id = "00000000-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
query = '''
process where process.name == "curl"
'''
"#;

fn curl(id: &str) -> String {
    format!(
        "{{\"@timestamp\":\"2026-01-01T00:00:0{id}Z\",\"event\":{{\"category\":\"process\"}},\
         \"process\":{{\"name\":\"curl\",\"pid\":{id}}}}}\n"
    )
}

/// A curl event line of `len` bytes with pid `pid`: the line filter
/// picks it.
fn long_event(len: usize, pid: u8) -> Vec<u8> {
    let head = format!(
        "{{\"@timestamp\":\"2026-01-01T00:00:0{pid}Z\",\"event\":{{\"category\":\"process\"}},\
         \"process\":{{\"name\":\"curl\",\"pid\":{pid}}},\"message\":\""
    );
    let mut line = head.into_bytes();
    line.resize(len - 2, b'a');
    line.extend_from_slice(b"\"}");
    line
}

/// Line 1: an event; 2: a line one byte past the cap; 3: blank; 4: an
/// event; 5: an event of exactly the cap (read); 6: a line past the cap
/// without a newline, last.
fn input() -> Vec<u8> {
    let mut text = curl("1").into_bytes();
    text.extend_from_slice(&long_event(MAX_LINE_BYTES + 1, 2));
    text.extend_from_slice(b"\n\n");
    text.extend_from_slice(curl("4").as_bytes());
    text.extend_from_slice(&long_event(MAX_LINE_BYTES, 5));
    text.push(b'\n');
    text.extend_from_slice(&long_event(MAX_LINE_BYTES + 7, 6));
    text
}

fn pids(out: &std::process::Output) -> Vec<i64> {
    jsonl(out)
        .iter()
        .map(|doc| {
            field(doc, "process.pid")
                .and_then(serde_json::Value::as_i64)
                .expect("a pid")
        })
        .collect()
}

fn assert_read_around_long_lines(out: &std::process::Output, name: &str) {
    let err = stderr(out);
    assert!(out.status.success(), "{err}");
    assert_eq!(pids(out), [1, 4, 5], "{err}");
    for (line, len) in [(2, MAX_LINE_BYTES + 1), (6, MAX_LINE_BYTES + 7)] {
        let want = format!(
            "{name}:{line}: too-long: line of {len} bytes is longer than the 64 KiB talon \
             reads of one line (--max-line); skipped"
        );
        assert!(err.contains(&want), "no `{want}` in:\n{err}");
    }
    assert!(err.contains("too-long 2"), "{err}");
    assert!(err.contains("read 3 events"), "{err}");
}

fn hunt(dir: &Path, extra: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut c = talon();
    c.current_dir(dir)
        .args([
            "hunt",
            "--rules",
            "rule.toml",
            "--all-indices",
            "--format",
            "jsonl",
        ])
        .args(CAP)
        .args(extra);
    on_events(c, stdin)
}

/// Runs `c` over `events.ndjson`, or over `stdin` given as `-`.
fn on_events(mut c: std::process::Command, stdin: Option<&[u8]>) -> std::process::Output {
    match stdin {
        Some(bytes) => {
            c.arg("-");
            run_with_stdin(c, bytes)
        }
        None => {
            c.arg("events.ndjson");
            run(c)
        }
    }
}

#[test]
fn hunt_reads_around_lines_too_long_to_hold_however_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.toml"), RULE).unwrap();
    let text = input();
    std::fs::write(dir.path().join("events.ndjson"), &text).unwrap();
    for extra in [
        &[][..],
        &["--no-mmap"],
        &["--no-prefilter"],
        &["--no-mmap", "--no-prefilter"],
    ] {
        let out = hunt(dir.path(), extra, None);
        assert_read_around_long_lines(&out, "events.ndjson");
    }
    for extra in [&[][..], &["--no-prefilter"]] {
        let out = hunt(dir.path(), extra, Some(&text));
        assert_read_around_long_lines(&out, "-");
    }
}

#[test]
fn query_reads_around_lines_too_long_to_hold() {
    let dir = tempfile::tempdir().unwrap();
    let text = input();
    std::fs::write(dir.path().join("events.ndjson"), &text).unwrap();
    let query = |extra: &[&str], stdin: Option<&[u8]>| {
        let mut c = talon();
        c.current_dir(dir.path())
            .args(["query", "process where true", "--format", "jsonl"])
            .args(CAP)
            .args(extra);
        on_events(c, stdin)
    };
    assert_read_around_long_lines(&query(&[], None), "events.ndjson");
    assert_read_around_long_lines(&query(&["--no-mmap"], None), "events.ndjson");
    assert_read_around_long_lines(&query(&[], Some(&text)), "-");
}

#[test]
fn convert_reads_around_lines_too_long_to_hold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.ndjson"), input()).unwrap();
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["convert", "events.ndjson"])
        .args(CAP);
    let out = run(c);
    assert_read_around_long_lines(&out, "events.ndjson");
}

#[test]
fn the_default_cap_reads_a_line_over_64_kib_and_bad_caps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.ndjson"), input()).unwrap();
    let mut c = talon();
    c.current_dir(dir.path()).args([
        "query",
        "process where true",
        "--format",
        "jsonl",
        "events.ndjson",
    ]);
    let out = run(c);
    assert_eq!(pids(&out), [1, 2, 4, 5, 6], "{}", stderr(&out));
    for (bad, why) in [
        ("0", "must be at least 1"),
        ("12X", "expected bytes, or a number with K, M or G"),
        ("M", "expected a whole number"),
        ("-5M", "unexpected argument '-5'"),
        ("99999999999G", "at most 64G"),
        // Found by a tester: the largest integer wrapped a reader's limit
        // to 0, and every input read as empty, silently.
        ("18446744073709551615", "at most 64G"),
        ("65G", "at most 64G"),
    ] {
        let mut c = talon();
        c.args([
            "query",
            "any where true",
            "--max-line",
            bad,
            "events.ndjson",
        ]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains(why), "{bad}: {}", stderr(&out));
    }
}
