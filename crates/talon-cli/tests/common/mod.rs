//! Helpers shared by the CLI integration tests: where the corpora and the
//! repository files are, and running the real `talon` binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The shared corpora (`$TALON_CORPORA` or `../shared/corpora` beside the
/// checkout), if present.
pub fn corpora() -> Option<PathBuf> {
    let p = match std::env::var_os("TALON_CORPORA") {
        Some(p) => PathBuf::from(p),
        None => repo().join("../shared/corpora"),
    };
    p.is_dir().then_some(p)
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A `talon` command with a pinned alert time and no colour.
pub fn talon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_talon"));
    c.env("TALON_NOW", "2026-12-01T00:00:00Z")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120");
    c
}

/// Runs a command and returns its output (stdin closed).
pub fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("talon runs")
}

/// Runs a command with `input` on stdin.
pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("talon starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("talon runs");
    let _ = writer.join();
    out
}

/// The JSON Lines on stdout.
pub fn jsonl(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("stdout line is JSON"))
        .collect()
}

/// A field of a JSON document by dotted path, whether the document nests
/// it (`{"event":{"id":..}}`), spells it flat (`{"event.id":..}`) or mixes
/// both, as ECS documents and alerts do.
pub fn field<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = doc.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let mut end = path.len();
    while let Some(dot) = path[..end].rfind('.') {
        if let Some(inner) = obj.get(&path[..dot]) {
            if let Some(v) = field(inner, &path[dot + 1..]) {
                return Some(v);
            }
        }
        end = dot;
    }
    None
}

/// `event.id` of each alert, in output order.
pub fn event_ids(alerts: &[Value]) -> Vec<String> {
    alerts
        .iter()
        .map(|a| {
            field(a, "event.id")
                .and_then(Value::as_str)
                .unwrap_or("<no event.id>")
                .to_string()
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The writing end of a pipe whose reading end is closed already, for a
/// child's stdout: its first write fails with a broken pipe, whenever it
/// comes (closing the reading end after the child starts races with a
/// child that writes everything at once). The reading end belonged to a
/// `true` that has exited.
pub fn broken_pipe() -> std::process::Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true starts");
    let writer = reader.stdin.take().expect("pipe");
    reader.wait().expect("true ends");
    Stdio::from(writer)
}
