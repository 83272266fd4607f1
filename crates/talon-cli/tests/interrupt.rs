//! Ctrl-C (SIGINT) and SIGTERM stop `hunt`, `query` and `convert` at the
//! next batch: what was read is answered, the output is finished whole (a
//! `.gz` file gets its trailer), the summary's last line says the run was
//! interrupted, and the status is the shell's for the signal. The input is
//! a pipe that never ends, so only the signal can stop the run.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

/// Bytes fed before the signal: several of `hunt`'s 512 KiB batches.
const FED_BEFORE_SIGNAL: usize = 4 << 20;

/// The demo event the forwarding rule alerts on.
fn matching_line() -> String {
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    let line = demo.lines().nth(22).expect("line 23").to_string();
    assert!(line.contains("sysctl -w net.ipv4.ip_forward=1"));
    line
}

/// Runs `talon ARGS` with [`matching_line`] fed to its stdin over and
/// over; once [`FED_BEFORE_SIGNAL`] bytes went in, sends it `signal`
/// (`-INT`, `-TERM`) and keeps feeding until it exits.
fn stop_mid_stream(args: &[&str], signal: &str) -> Output {
    stop_mid_feed(args, signal, None, matching_chunk())
}

/// [`matching_line`] 64 times.
fn matching_chunk() -> String {
    format!("{}\n", matching_line()).repeat(64)
}

/// [`stop_mid_stream`], feeding `chunk` over and over, and sending the
/// signal a second time `again` after the first when given.
fn stop_mid_feed(args: &[&str], signal: &str, again: Option<Duration>, chunk: String) -> Output {
    let mut child = talon()
        .current_dir(repo())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("talon starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let fed = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (fed, done) = (Arc::clone(&fed), Arc::clone(&done));
        std::thread::spawn(move || {
            // Ends when talon closes its stdin (it exited) or the test is
            // over.
            while !done.load(Ordering::Relaxed) && stdin.write_all(chunk.as_bytes()).is_ok() {
                fed.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        })
    };
    // Stdout and stderr are drained as the run goes, so talon never waits
    // on them.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(120);
    while fed.load(Ordering::Relaxed) < FED_BEFORE_SIGNAL {
        assert!(Instant::now() < deadline, "talon read too little");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let kill = || {
        let killed = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
    };
    kill();
    if let Some(after) = again {
        std::thread::sleep(after);
        kill();
    }
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "talon did not stop on {signal}");
        std::thread::sleep(Duration::from_millis(10));
    };
    done.store(true, Ordering::Relaxed);
    feeder.join().expect("feeder");
    Output {
        status,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

/// The number in `talon: read N events ...`, the summary's first line.
fn events_read(err: &str) -> u64 {
    let first = err.lines().next().unwrap_or_default();
    first
        .strip_prefix("talon: read ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no read count in {err}"))
}

const INTERRUPTED_BY_SIGINT: &str = "talon: interrupted by SIGINT (Ctrl-C): reading stopped \
     early; the counts above cover only what was read until then, and the output was finished \
     whole";

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("output"))
        .read_to_string(&mut text)
        .expect("a whole gzip file");
    text
}

#[test]
fn ctrl_c_stops_a_hunt_with_every_alert_found_written_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("alerts.jsonl.gz");
    let out_arg = out_path.to_str().expect("utf8");
    let out = stop_mid_stream(&["hunt", "--rules", FORWARDING, "-", "-o", out_arg], "-INT");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert_eq!(err.lines().last(), Some(INTERRUPTED_BY_SIGINT), "{err}");
    // Every event read matched, and each one's alert is in the file,
    // which decompresses to its end.
    let read = events_read(&err);
    assert!(read > 0, "{err}");
    let alerts = gunzip(&out_path);
    assert_eq!(alerts.lines().count() as u64, read, "{err}");
    assert!(
        err.contains(&format!(
            "talon: {read} events matched, {read} alerts by 1 of 1 rule"
        )),
        "{err}"
    );
    let first: serde_json::Value =
        serde_json::from_str(alerts.lines().next().expect("an alert")).expect("json");
    assert_eq!(
        field(&first, "kibana.alert.rule.name").and_then(|v| v.as_str()),
        Some("IPv4/IPv6 Forwarding Switched On via sysctl or procfs")
    );
}

#[test]
fn sigterm_stops_a_hunt_with_the_shells_status_for_it() {
    let out = stop_mid_stream(
        &["hunt", "--rules", FORWARDING, "-", "-o", "/dev/null"],
        "-TERM",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with("talon: interrupted by SIGTERM: reading stopped early")),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_query_and_convert_answering_over_what_was_read() {
    // query: the answer covers the events read before the signal;
    // convert: every event read is written. Each matches, one line each.
    let query = [
        "query",
        "process where process.name == \"sysctl\"",
        "-",
        "--size",
        "1000000",
        "--format",
        "jsonl",
    ];
    for args in [&query[..], &["convert", "-"]] {
        let out = stop_mid_stream(args, "-INT");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(130), "{args:?}: {err}");
        assert_eq!(
            err.lines().last(),
            Some(INTERRUPTED_BY_SIGINT),
            "{args:?}: {err}"
        );
        let read = events_read(&err);
        assert!(read > 0, "{args:?}: {err}");
        assert_eq!(stdout(&out).lines().count() as u64, read, "{args:?}: {err}");
    }

    // -q: the status alone.
    let out = stop_mid_stream(&["-q", "convert", "-"], "-INT");
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(stderr(&out), "");
}

#[test]
fn ctrl_c_stops_counting_an_input_that_is_not_json() {
    // Such an input is read to its end only to count its lines, in one
    // go: the signal stopped the count too, or an endless one
    // (`/dev/urandom`) held the run up until a second signal killed it
    // without a summary.
    let text = "this is a log line, not an event\n".repeat(1024);
    let hunt = ["hunt", "--rules", FORWARDING, "-", "-o", "/dev/null"];
    let query = ["query", "any where true", "-"];
    for args in [&hunt[..], &query, &["convert", "-"]] {
        let out = stop_mid_feed(args, "-INT", None, text.clone());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(130), "{args:?}: {err}");
        assert_eq!(
            err.lines().last(),
            Some(INTERRUPTED_BY_SIGINT),
            "{args:?}: {err}"
        );
        assert_eq!(events_read(&err), 0, "{args:?}: {err}");
        let issue = err
            .lines()
            .find(|l| l.starts_with("talon:   -:1: not-json: "))
            .unwrap_or_else(|| panic!("{args:?}: no not-json issue in {err}"));
        let skipped: u64 = issue
            .strip_prefix("talon:   -:1: not-json: not a JSON event file (")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{args:?}: no line count in {issue}"));
        assert!(
            skipped >= (FED_BEFORE_SIGNAL / text.len() * 1024) as u64 / 2,
            "{issue}"
        );
        assert!(
            issue.contains(&format!(
                "({skipped} lines skipped, then reading stopped before its end)"
            )),
            "{args:?}: {issue}"
        );
    }
}

#[test]
fn a_signal_sent_twice_at_once_stops_talon_as_one_does() {
    // `timeout` sends its signal to talon, then to talon's process group:
    // the copy that came after the first was handled ended talon at once,
    // without the summary or the end of its output.
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("alerts.jsonl.gz");
    let out_arg = out_path.to_str().expect("utf8");
    let hunt = ["hunt", "--rules", FORWARDING, "-", "-o", out_arg];
    let again = Some(Duration::from_millis(50));
    let out = stop_mid_feed(&hunt, "-TERM", again, matching_chunk());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with("talon: interrupted by SIGTERM: reading stopped early")),
        "{err}"
    );
    assert_eq!(gunzip(&out_path).lines().count() as u64, events_read(&err));
}

#[test]
fn a_second_signal_later_ends_talon_at_once() {
    // A read waiting on an idle pipe holds the first signal up; a second
    // one, past the time a repeated signal takes, ends talon.
    use std::os::unix::process::ExitStatusExt;
    let mut child = talon()
        .current_dir(repo())
        .args(["hunt", "--rules", FORWARDING, "-", "-o", "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("talon starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(matching_chunk().as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id().to_string();
    let kill = || {
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
    };
    kill();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the idle read holds the first signal up"
    );
    kill();
    let out = child.wait_with_output().expect("talon ends");
    drop(stdin);
    assert_eq!(out.status.signal(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}
