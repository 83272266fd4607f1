//! Hostile or damaged event input through `hunt`, `query` and `convert`:
//! deep nesting is one counted skip (never a stack overflow), duplicate
//! keys are a counted skip, damaged compressed input exits 2 after writing
//! what it held, a UTF-16 file is named as such, and a FIFO in a folder is
//! a counted skip naming it.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

const RULE: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

/// The seed fixture's first Elastic Defend event (it fires [`RULE`]).
fn event() -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/seed/defend.ndjson"))
        .expect("fixture")
        .lines()
        .next()
        .expect("a line")
        .to_string()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// `hunt` (default and `--no-prefilter`), `query` and `convert` over `file`.
fn all_commands(file: &Path) -> Vec<(&'static str, Output)> {
    let f = file.to_str().unwrap();
    let rule = repo().join(RULE);
    let rule = rule.to_str().unwrap();
    let cmds: [(&str, Vec<&str>); 4] = [
        (
            "hunt",
            vec!["hunt", "--rules", rule, "--format", "jsonl", f],
        ),
        (
            "hunt --no-prefilter",
            vec![
                "hunt",
                "--no-prefilter",
                "--rules",
                rule,
                "--format",
                "jsonl",
                f,
            ],
        ),
        (
            "query",
            vec![
                "query",
                "any where true",
                "--size",
                "1000",
                "--format",
                "jsonl",
                f,
            ],
        ),
        ("convert", vec!["convert", f]),
    ];
    cmds.into_iter()
        .map(|(name, args)| {
            let mut c = talon();
            c.args(args);
            (name, run(c))
        })
        .collect()
}

#[test]
fn deep_top_level_arrays_are_one_skip_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let e = event();
    let deep = format!(
        "{}\"sysctl net.ipv4.ip_forward -w\"{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let file = write(
        dir.path(),
        "deep.ndjson",
        format!("{e}\n{deep}\n{e}\n").as_bytes(),
    );
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 2, "{name}: {err}");
        assert!(err.contains("skipped 1: invalid-json 1"), "{name}: {err}");
        assert!(
            err.contains(&format!(
                "{}:2:128: invalid-json: recursion limit exceeded",
                file.display()
            )),
            "{name}: {err}"
        );
    }
}

#[test]
fn an_event_nested_too_deep_is_skipped_alike_with_or_without_prefilter() {
    let dir = tempfile::tempdir().unwrap();
    let e = event();
    let deep = format!(
        "{},\"x\":{}\"sysctl\"{}}}",
        e.trim_end().strip_suffix('}').unwrap(),
        "[".repeat(200),
        "]".repeat(200)
    );
    let file = write(
        dir.path(),
        "nest.ndjson",
        format!("{deep}\n{e}\n").as_bytes(),
    );
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 1, "{name}: {err}");
        assert!(err.contains("skipped 1: invalid-json 1"), "{name}: {err}");
        assert!(
            err.contains(&format!("{}:1:", file.display()))
                && err.contains("invalid-json: recursion limit exceeded"),
            "{name}: {err}"
        );
        assert!(!err.contains("cannot build alert"), "{name}: {err}");
    }
}

#[test]
fn duplicate_keys_are_a_counted_skip() {
    let dir = tempfile::tempdir().unwrap();
    let e = event();
    let dup = e.replacen(
        "\"name\":\"sysctl\"",
        "\"name\":\"sysctl\",\"name\":\"foo\"",
        1,
    );
    assert_ne!(dup, e);
    let file = write(dir.path(), "dup.ndjson", format!("{e}\n{dup}\n").as_bytes());
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 1, "{name}: {err}");
        assert!(err.contains("skipped 1: duplicate-key 1"), "{name}: {err}");
        assert!(
            err.contains(&format!("{}:2:", file.display()))
                && err.contains("duplicate-key: duplicate key `process.name`"),
            "{name}: {err}"
        );
    }
}

fn many_events(n: usize) -> String {
    let e = event();
    (0..n)
        .map(|i| e.replacen("def-sysctl-w-bash", &format!("ev-{i}-{:x}", i * 7919), 1) + "\n")
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn damaged_compressed_input_exits_2_after_writing_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let text = many_events(400);
    let gz = gzip(text.as_bytes());
    let zst = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let inputs = [
        ("flipped.gz", flipped),
        ("cut.gz", gz[..gz.len() / 2].to_vec()),
        ("cut.zst", zst[..zst.len() * 2 / 3].to_vec()),
    ];
    for (file_name, bytes) in inputs {
        let file = write(dir.path(), file_name, &bytes);
        for (name, out) in all_commands(&file) {
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{file_name} {name}: {err}");
            let written = jsonl(&out).len();
            assert!(
                written > 0 && written < 400,
                "{file_name} {name}: {written}"
            );
            assert!(err.contains("decompression 1"), "{file_name} {name}: {err}");
            assert!(
                err.contains(
                    "talon: error: 1 input could not be read to the end (unreadable or corrupt)"
                ),
                "{file_name} {name}: {err}"
            );
        }
    }
    // Intact, the same input exits 0 with every event.
    let file = write(dir.path(), "ok.gz", &gz);
    for (name, out) in all_commands(&file) {
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(jsonl(&out).len(), 400, "{name}");
    }
}

/// Runs `cmd` (stdin closed), failing the test rather than hanging when it
/// has not ended within a minute: a FIFO opened by mistake blocks forever.
fn run_within_a_minute(mut cmd: std::process::Command) -> Output {
    use std::process::Stdio;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("talon starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => out.expect("talon runs"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("talon did not end within a minute (opened the FIFO?)");
        }
    }
}

#[test]
fn a_fifo_in_an_input_folder_is_a_counted_skip_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.ndjson", format!("{}\n", event()).as_bytes());
    let fifo = d.join("p");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let rule = repo().join(RULE);
    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--rules")
        .arg(&rule)
        .args(["--format", "jsonl"])
        .arg(d);
    let out = run_within_a_minute(cmd);
    let err = stderr(&out);
    // The file's event is read and alerts; the FIFO is named and counted
    // as a skipped input, which is no failure: the run exits 0.
    assert_eq!(jsonl(&out).len(), 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("talon: read 1 event from 2 inputs ("),
        "{err}"
    );
    assert!(lines.contains(&"talon: skipped 1: special-file 1"), "{err}");
    let named = format!(
        "talon:   {}: special-file: not a regular file (fifo); not read",
        fifo.display()
    );
    assert!(lines.contains(&named.as_str()), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn a_utf16_file_is_named_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = many_events(4);
    let mut bytes = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let file = write(dir.path(), "u16.ndjson", &bytes);
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert!(jsonl(&out).is_empty(), "{name}");
        assert!(err.contains("skipped 1: encoding 1\n"), "{name}: {err}");
        assert!(
            err.contains(&format!(
                "{}: encoding: file is UTF-16LE (byte-order mark); convert it to UTF-8",
                file.display()
            )),
            "{name}: {err}"
        );
        assert!(!err.contains("lines skipped"), "{name}: {err}");
    }
}

/// The alerts of a CRLF file (ids hashed from each event's text
/// included) are those of the same file with LF endings, with or without
/// the shortcuts: the `\r` is not part of the event.
#[test]
fn crlf_lines_alert_as_lf_lines_on_every_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lf = format!("{}\n{}\n", event(), event());
    let crlf = lf.replace('\n', "\r\n");
    let rule = repo().join(RULE);
    let hunt = |file: &Path, extra: &[&str]| {
        let mut cmd = talon();
        cmd.arg("hunt")
            .arg("--rules")
            .arg(&rule)
            .args(["--format", "jsonl", "-q"])
            .args(extra)
            .arg(file);
        let out = run(cmd);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let want = hunt(&write(dir.path(), "lf.ndjson", lf.as_bytes()), &[]);
    assert_eq!(want.lines().count(), 2, "{want}");
    let crlf = write(dir.path(), "crlf.ndjson", crlf.as_bytes());
    assert_eq!(hunt(&crlf, &[]), want, "CRLF, default");
    assert_eq!(
        hunt(&crlf, &["--no-prefilter"]),
        want,
        "CRLF, --no-prefilter"
    );
}

/// `--threads` beyond what could start is a usage error, not a crash.
#[test]
fn too_many_threads_is_a_usage_error() {
    for n in ["257", "100000", "99999999999"] {
        let mut cmd = talon();
        cmd.args(["hunt", "--threads", n, "-q"]);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--threads {n}: {err}");
        assert!(err.contains("at most 256"), "--threads {n}: {err}");
    }
}

/// A mapped file cut shorter by another process while talon reads it is
/// an error naming the file and the way out (`--no-mmap`), with exit 2,
/// not a silent death by SIGBUS. talon is held mid-file by not reading its
/// alerts (a full pipe blocks it) while the file is truncated.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_file_cut_shorter_while_read_is_an_error_naming_it() {
    use std::io::Read;
    use std::process::Stdio;

    let dir = tempfile::tempdir().expect("tempdir");
    let line = event();
    let mut text = String::new();
    while text.len() < 8 << 20 {
        text.push_str(&line);
        text.push('\n');
    }
    let file = write(dir.path(), "shrinks.ndjson", text.as_bytes());
    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--rules")
        .arg(repo().join(RULE))
        .args(["--threads", "1", "--format", "jsonl"])
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("talon starts");
    let mut stdout = child.stdout.take().expect("stdout");
    // The first alert is out: talon is reading the file, and will block
    // once the pipe is full.
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("an alert");
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_len(0))
        .expect("truncate");
    let mut rest = Vec::new();
    let _ = stdout.read_to_end(&mut rest);
    let out = child.wait_with_output().expect("talon ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("shrinks.ndjson: the file was cut shorter while talon read it")
            && err.contains("--no-mmap"),
        "{err}"
    );
}
