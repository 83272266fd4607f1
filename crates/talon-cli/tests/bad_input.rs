//! Hostile or damaged event input through `hunt`, `query` and `convert`:
//! deep nesting is one counted skip (never a stack overflow), duplicate
//! keys are a counted skip, damaged compressed input exits 2 after writing
//! what it held (the same issue from a file or from stdin), a UTF-16 file
//! is named as such, a FIFO or a symlink loop in a folder is a counted skip
//! naming it, a bad first line or array element loses only itself, and
//! control characters of the input reach the terminal escaped.

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

#[test]
fn zero_padding_after_gzip_is_ignored_as_gunzip_ignores_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = many_events(400);
    // Two members, then a block's worth of zeros (`dd`, tape, uploads).
    let (first, second) = text.split_at(text.len() / 2);
    let mut padded = gzip(first.as_bytes());
    padded.extend(gzip(second.as_bytes()));
    padded.extend([0u8; 512]);
    let file = write(dir.path(), "padded.gz", &padded);
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 400, "{name}");
        assert!(!err.contains("skipped"), "{name}: {err}");
    }
    // Data after the zeros is not padding: the input is corrupt.
    padded.extend(gzip(b"{}\n"));
    let file = write(dir.path(), "not-padding.gz", &padded);
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 400, "{name}");
        assert!(
            err.contains("decompression: gzip: data after 512 zero bytes following a gzip member"),
            "{name}: {err}"
        );
    }
}

/// An xz, bzip2 or zip file was read as text: one "not a JSON event file"
/// skip and exit 0 (nothing at all with `-q`), so a script saw no alerts
/// and no error. Its format is now named and the input is unreadable.
#[test]
fn an_input_in_a_compression_talon_does_not_read_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: [(&str, &[u8], &str); 3] = [
        (
            "ev.xz",
            b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F",
            "xz-compressed",
        ),
        ("ev.bz2", b"BZh91AY&SY\x12\x34", "bzip2-compressed"),
        ("ev.zip", b"PK\x03\x04\x14\x00\x00\x00", "a zip archive"),
    ];
    for (file_name, bytes, format) in inputs {
        let file = write(dir.path(), file_name, bytes);
        for (name, out) in all_commands(&file) {
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{file_name} {name}: {err}");
            assert!(
                err.contains(&format!(
                    "{}: unreadable: cannot open: {format}: talon reads plain, gzip and zstd \
                     input; unpack it first",
                    file.display()
                )),
                "{file_name} {name}: {err}"
            );
        }
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

/// With or without a byte-order mark (without one, a file of JSON gave
/// about one skip per line, and line 1 twice).
#[test]
fn a_utf16_file_is_named_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = many_events(4);
    for (mark, how) in [
        (&[0xff, 0xfe][..], "byte-order mark"),
        (
            &[][..],
            "no byte-order mark, but NUL bytes between its first characters",
        ),
    ] {
        let mut bytes = mark.to_vec();
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
                    "{}: encoding: file is UTF-16LE ({how}); convert it to UTF-8",
                    file.display()
                )),
                "{name}: {err}"
            );
            assert!(!err.contains("lines skipped"), "{name}: {err}");
        }
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

/// Runs `talon hunt` with `extra` flags over 8 MB of events and, once its
/// first alert is out (talon is reading; a full pipe then holds it
/// mid-file), cuts the file to `keep` bytes. Returns talon's exit status,
/// its stderr and the file's original length.
#[cfg(target_os = "linux")]
fn hunt_a_file_that_shrinks(
    extra: &[&str],
    keep: impl Fn(usize) -> u64,
) -> (Option<i32>, String, usize) {
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
        .args(extra)
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("talon starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("an alert");
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_len(keep(text.len())))
        .expect("truncate");
    let mut rest = Vec::new();
    let _ = stdout.read_to_end(&mut rest);
    let out = child.wait_with_output().expect("talon ends");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err, text.len())
}

/// A mapped file cut shorter by another process while talon reads it is
/// an error naming the file and the way out (`--no-mmap`), with exit 2,
/// not a silent death by SIGBUS. talon is held mid-file by not reading its
/// alerts (a full pipe blocks it) while the file is truncated.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_file_cut_shorter_while_read_is_an_error_naming_it() {
    let (code, err, _) = hunt_a_file_that_shrinks(&[], |_| 0);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("shrinks.ndjson: the file was cut shorter while talon read it")
            && err.contains("--no-mmap"),
        "{err}"
    );
}

/// NDJSON whose first two lines are both broken was read as one document
/// that never ends: every event lost in one `truncated` issue, exit 0.
/// The broken lines are two issues where they are; the rest is read.
#[test]
fn two_broken_first_lines_lose_only_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{{\"a\": 1\n{{\"b\": 2\n{}", many_events(30));
    let file = write(dir.path(), "two-bad.ndjson", text.as_bytes());
    for (name, out) in all_commands(&file) {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert_eq!(jsonl(&out).len(), 30, "{name}: {err}");
        if name == "hunt" {
            // The prefilter passes over the broken lines: they hold no
            // rule's literal.
            assert!(
                err.contains("talon: read 30 events (and 2 more lines not parsed)"),
                "{name}: {err}"
            );
            continue;
        }
        assert!(err.contains("skipped 2: invalid-json 2"), "{name}: {err}");
        for line in [1, 2] {
            assert!(
                err.contains(&format!(
                    "{}:{line}:7: invalid-json: EOF while parsing an object",
                    file.display()
                )),
                "{name}: {err}"
            );
        }
    }
}

/// The numbers of `talon: read N events (and U more lines not parsed, B
/// blank or comment lines)` and `talon: skipped K`, or 0.
fn read_counts(err: &str) -> (u64, u64, u64, u64) {
    let line = err
        .lines()
        .find(|l| l.starts_with("talon: read "))
        .unwrap_or_else(|| panic!("no read line in:\n{err}"));
    let number_before = |what: &str| -> u64 {
        let Some(end) = line.find(what) else { return 0 };
        let head = line[..end].trim_end();
        let start = head
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        head[start..].parse().expect("a count")
    };
    let skipped = err
        .lines()
        .find_map(|l| l.strip_prefix("talon: skipped "))
        .map_or(0, |rest| {
            rest.split(':').next().unwrap().parse().expect("skipped")
        });
    (
        number_before(" event"),
        number_before(" more line"),
        number_before(" blank or comment line"),
        skipped,
    )
}

/// Blank, whitespace-only and `//` comment lines are one count of their
/// own in the summary, the same with the prefilter on or off, mapped or
/// read, on 1 or 3 threads, before the first event too, so that events,
/// lines not parsed, blank or comment lines and skipped lines add up to
/// the input's lines. (Comments were never counted, blank lines only as
/// "not parsed" and only with the prefilter after the first event, and a
/// comment holding a rule's literal disappeared from every count.)
#[test]
fn every_line_is_in_the_summary_counts_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let events = many_events(400);
    let mut text = String::from("\n// leading comment\n   \n");
    let (mut lines, mut blank) = (3u64, 3u64);
    for (i, e) in events.lines().enumerate() {
        text.push_str(e);
        text.push('\n');
        lines += 1;
        let extra = match i % 5 {
            0 => "// plain comment",
            1 => "// comment net.ipv4.ip_forward",
            2 => "",
            3 => " \t\r",
            _ => continue,
        };
        text.push_str(extra);
        text.push('\n');
        lines += 1;
        blank += 1;
    }
    text.push_str("{\"process\":{\"name\":\"ls\"}}\n{\"broken\": \"net.ipv4.ip_forward\"\n");
    lines += 2;
    let file = write(dir.path(), "counted.ndjson", text.as_bytes());
    assert!(text.len() > 1 << 20, "large enough to be mapped");
    let rule = repo().join(RULE);
    for extra in [
        &[][..],
        &["--no-prefilter"],
        &["--no-mmap"],
        &["--threads", "1"],
        &["--threads", "3"],
        &["--no-prefilter", "--no-mmap", "--threads", "3"],
    ] {
        let mut c = talon();
        c.args(["hunt", "--format", "jsonl", "--rules"])
            .arg(&rule)
            .args(extra)
            .arg(&file);
        let out = run(c);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {err}");
        assert_eq!(jsonl(&out).len(), 400, "{extra:?}: {err}");
        let (read, unparsed, blanks, skipped) = read_counts(&err);
        assert_eq!(blanks, blank, "{extra:?}: {err}");
        assert_eq!(
            read + unparsed + blanks + skipped,
            lines,
            "{extra:?}: {err}"
        );
        let want = match extra.contains(&"--no-prefilter") {
            true => (401, 0, 1),
            false => (400, 1, 1),
        };
        assert_eq!((read, unparsed, skipped), want, "{extra:?}: {err}");
    }
}

/// The same with `--no-mmap`: the file is read, not mapped, so talon goes
/// on to its summary; where the file now ends is reported as the input
/// cut short (exit 2), not as a line of invalid JSON with exit 0.
#[cfg(target_os = "linux")]
#[test]
fn a_read_file_cut_shorter_while_read_is_an_input_cut_short() {
    // Cut in the middle of a line.
    let (code, err, len) = hunt_a_file_that_shrinks(&["--no-mmap"], |len| (len / 2) as u64 + 7);
    assert_eq!(code, Some(2), "{err}");
    let want = format!(
        ": unreadable: the file was cut shorter while talon read it ({} bytes when opened, {} \
         now); this line and any after it were not read",
        len,
        len / 2 + 7
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("skipped 1: unreadable 1"), "{err}");
    assert!(!err.contains("invalid-json"), "{err}");
    assert!(
        err.contains("talon: error: 1 input could not be read to the end"),
        "{err}"
    );
}

/// Sorted `event.id`s of the alerts on stdout.
fn sorted_ids(out: &Output) -> Vec<String> {
    let mut ids = event_ids(&jsonl(out));
    ids.sort();
    ids
}

/// `tail -c +100 demo/events.ndjson`: the first line is the end of an
/// event. The whole file was one `not-json` issue (`not a JSON event file
/// (120 lines skipped)`), exit 0 and no alert. Now that line is one line
/// skipped (an issue at line 1, or not parsed when the prefilter passes
/// over it), and the 119 others alert as they do without it.
#[test]
fn a_file_cut_at_its_front_loses_only_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read(repo().join("demo/events.ndjson")).expect("demo events");
    let cut = write(dir.path(), "cutfront.ndjson", &demo[99..]);
    let first_end = demo.iter().position(|b| *b == b'\n').expect("a line");
    let rest = write(dir.path(), "rest.ndjson", &demo[first_end + 1..]);
    let hunt = |file: &Path, extra: &[&str]| {
        let mut c = talon();
        c.args(["hunt", "--format", "jsonl", "--rules"])
            .arg(repo().join("rules"))
            .args(extra)
            .arg(file);
        run(c)
    };
    for extra in [&[][..], &["--no-prefilter"]] {
        let want = hunt(&rest, extra);
        let got = hunt(&cut, extra);
        let err = stderr(&got);
        assert_eq!(got.status.code(), Some(0), "{extra:?}: {err}");
        assert!(!jsonl(&want).is_empty());
        assert_eq!(sorted_ids(&got), sorted_ids(&want), "{extra:?}: {err}");
        let (read, unparsed, blank, skipped) = read_counts(&err);
        assert_eq!(read + unparsed + blank + skipped, 120, "{extra:?}: {err}");
        assert!(!err.contains("not a JSON event file"), "{extra:?}: {err}");
    }
    let err = stderr(&hunt(&cut, &["--no-prefilter"]));
    assert_eq!(read_counts(&err), (119, 0, 0, 1), "{err}");
    assert!(err.contains("talon: skipped 1: not-json 1"), "{err}");
    let first = String::from_utf8_lossy(&demo[99..first_end]);
    let issue = format!(
        "{}:1:1: not-json: not JSON: {}…\n",
        cut.display(),
        first.chars().take(40).collect::<String>()
    );
    assert!(err.contains(&issue), "want {issue:?} in:\n{err}");
}

/// A JSON array with one element missing its `}`: it was reported as
/// `truncated: array never closed` at the `[` (the array is closed), and
/// the element after the broken one was lost.
#[test]
fn an_array_element_missing_its_brace_is_one_issue_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[\n  {\"a\":1},\n  {\"b\":2,\n  {\"c\":3}\n]\n";
    let file = write(dir.path(), "arr_bad.json", text.as_bytes());
    let mut c = talon();
    c.arg("convert").arg(&file);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let docs = jsonl(&out);
    let keys: Vec<bool> = docs.iter().map(|d| d.get("c").is_some()).collect();
    assert_eq!(keys, [false, true], "{err}");
    assert!(err.contains("talon: skipped 1: invalid-json 1"), "{err}");
    let issue = format!(
        "{}:3:3: invalid-json: document never closed: line 4 starts a new one at column 3 \
         (10 bytes skipped)",
        file.display()
    );
    assert!(err.contains(&issue), "{err}");
    assert!(!err.contains("truncated"), "{err}");
}

/// A cut gzip piped to `talon hunt -` was `unreadable: read error: ...`,
/// the same file named `decompression: gzip: ...`. Both are now the same
/// decompression issue, at the same line, with the same alerts and exit 2.
#[test]
fn a_cut_gzip_on_stdin_is_the_same_decompression_issue_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(many_events(400).as_bytes());
    let cut = &gz[..gz.len() / 2];
    let file = write(dir.path(), "cut.gz", cut);
    let hunt = |input: &str| {
        let mut c = talon();
        c.args(["hunt", "--format", "jsonl", "--rules"])
            .arg(repo().join(RULE))
            .arg(input);
        c
    };
    let named = run(hunt(file.to_str().unwrap()));
    let piped = run_with_stdin(hunt("-"), cut);
    // The issue line and the count of issues by reason, the input's name
    // as stdin's.
    let decompression = |out: &Output, name: &str| -> Vec<String> {
        stderr(out)
            .lines()
            .filter(|l| l.contains("decompression"))
            .map(|l| l.replace(name, "-"))
            .collect()
    };
    let from_file = decompression(&named, file.to_str().unwrap());
    let from_stdin = decompression(&piped, "\0");
    assert_eq!(from_file.len(), 2, "{}", stderr(&named));
    assert_eq!(from_file[0], "talon: skipped 1: decompression 1");
    assert!(
        from_file[1].starts_with("talon:   -:") && from_file[1].contains(": decompression: gzip: "),
        "{from_file:?}"
    );
    assert_eq!(from_stdin, from_file, "{}", stderr(&piped));
    assert_eq!(piped.status.code(), Some(2));
    assert_eq!(named.status.code(), Some(2));
    assert_eq!(jsonl(&piped).len(), jsonl(&named).len());
    assert!(
        stderr(&piped).contains(
            "talon: error: 1 input could not be read to the end (unreadable or corrupt): -;"
        ),
        "{}",
        stderr(&piped)
    );
}

/// A symbolic link loop in an input folder, reached twice (once more
/// through a link to its folder): it failed the run (exit 2, `could not be
/// read to the end`) and was named twice. It is one counted skip, named
/// once with the other way to it, and the run exits 0.
#[test]
fn a_symlink_loop_in_a_folder_is_one_counted_skip_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("evdir/sub")).unwrap();
    write(&d.join("evdir/sub"), "a.ndjson", many_events(3).as_bytes());
    std::os::unix::fs::symlink("..", d.join("evdir/sub/loop")).unwrap();
    std::os::unix::fs::symlink(d.join("evdir/sub"), d.join("evdir/sub2")).unwrap();
    let mut c = talon();
    c.current_dir(d)
        .args(["hunt", "--format", "jsonl", "--rules"])
        .arg(repo().join(RULE))
        .arg("evdir");
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // evdir/sub2/a.ndjson is the same file: read once.
    assert_eq!(jsonl(&out).len(), 3, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.contains(&"talon: skipped 1: link-loop 1"), "{err}");
    assert!(
        lines.contains(
            &"talon:   evdir/sub/loop: link-loop: symbolic link loop (points back to evdir); \
              not followed; also reached as evdir/sub2/loop"
        ),
        "{err}"
    );
    assert!(!err.contains("could not be read"), "{err}");
    assert!(!err.contains("error"), "{err}");
}

/// A line whose text serde rejects (a number out of range) in a field no
/// rule reads is refused when read, as a read of every field refuses it,
/// and named by its line and column. It used to be read as an event that
/// matched and could then not become an alert. A `\u` escape of half a
/// surrogate pair is not such text: Elasticsearch indexes it (as U+FFFD),
/// so the line is an event, read or skipped field alike.
#[test]
fn a_line_serde_rejects_in_an_unread_field_is_refused_where_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    let line = demo.lines().nth(22).expect("line 23").trim_end();
    let body = line.strip_suffix('}').expect("an object");
    let text = format!("{body},\"zz\":1e999}}\n{body},\"zz\":\"\\ud800\"}}\n");
    let file = write(dir.path(), "bad2.ndjson", text.as_bytes());
    for mode in [None, Some("--no-prefilter")] {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--rules", "rules/", "--format", "jsonl"])
            .args(mode)
            .arg(&file);
        let out = run(c);
        let err = stderr(&out);
        let f = file.display();
        // serde_json's column: the number's last digit.
        let col = body.len() + ",\"zz\":1e999".len();
        assert!(
            err.contains("talon: skipped 1: invalid-json 1\n"),
            "{mode:?}: {err}"
        );
        assert!(
            err.contains(&format!(
                "talon:   {f}:1:{col}: invalid-json: number out of range"
            )),
            "{mode:?}: {err}"
        );
        assert!(
            !err.contains(&format!("talon:   {f}:2:")),
            "{mode:?}: {err}"
        );
        assert!(!err.contains("could not be built"), "{mode:?}: {err}");
        assert_eq!(jsonl(&out).len(), 1, "{mode:?}: line 2 alerts: {err}");
    }
}

/// Half a surrogate pair written as a `\u` escape, in a field a rule reads:
/// the event is read, with U+FFFD in its place, as Elasticsearch indexes
/// it, and still matches. Refusing the line let anyone who writes one
/// string of an event hide it from every rule.
#[test]
fn half_a_surrogate_pair_does_not_hide_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    let line = demo.lines().nth(22).expect("line 23").trim_end();
    let cmd = "sysctl -w net.ipv4.ip_forward=1";
    assert!(
        line.contains(&format!("\"command_line\":\"{cmd}\"")),
        "{line}"
    );
    let text = line.replacen(
        &format!("\"command_line\":\"{cmd}\""),
        &format!("\"command_line\":\"{cmd} \\udc00\""),
        1,
    );
    let file = write(dir.path(), "half.ndjson", text.as_bytes());
    for mode in [None, Some("--no-prefilter")] {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--rules", RULE, "--format", "jsonl"])
            .args(mode)
            .arg(&file);
        let out = run(c);
        let err = stderr(&out);
        assert!(!err.contains("skipped"), "{mode:?}: {err}");
        let alerts = jsonl(&out);
        assert_eq!(alerts.len(), 1, "{mode:?}: {err}");
        assert_eq!(
            alerts[0]["process"]["command_line"],
            format!("{cmd} \u{fffd}"),
            "{mode:?}"
        );
    }
}

/// Control characters of the input (a line that is not JSON, a file name
/// met in a folder, a rule's name) are shown escaped in the summary and in
/// the rule listing: raw, an ESC sequence retitles or clears the terminal,
/// and a NUL or a newline breaks the line. Other text (`é`) is kept.
#[test]
fn control_characters_of_the_input_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    std::fs::create_dir(&events).unwrap();
    let text = format!("{}\nx\x1b]0;PWNED\x07\x1b[2Jhello\ny\0z\n", event());
    write(&events, "a\x1b[31mb\t.ndjson", text.as_bytes());
    let rule = std::fs::read_to_string(repo().join(RULE)).expect("rule");
    let renamed = rule.replacen(
        "name = \"IPv4/IPv6 Forwarding Switched On via sysctl or procfs\"",
        r#"name = "Forwarding\u001b]0;PWNED\u0007 on\nsé""#,
        1,
    );
    assert_ne!(renamed, rule);
    let rule = write(dir.path(), "renamed.toml", renamed.as_bytes());

    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--no-prefilter")
        .arg("--rules")
        .arg(&rule)
        .args(["--format", "jsonl"])
        .arg(&events);
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(jsonl(&out).len(), 1, "{err}");
    let file = format!(r"{}/a\x1b[31mb\x09.ndjson", events.display());
    let lines: Vec<&str> = err.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "talon: skipped 2: not-json 2".to_string(),
            format!(r"talon:   {file}:2:1: not-json: not JSON: x\x1b]0;PWNED\x07\x1b[2Jhello"),
            format!(r"talon:   {file}:3:1: not-json: not JSON: y\x00z"),
            "talon: 1 event matched, 1 alert by 1 of 1 rule".to_string(),
            r"talon:        1  Forwarding\x1b]0;PWNED\x07 on\x0asé [low]".to_string(),
        ],
        "{err}"
    );

    let mut cmd = talon();
    cmd.arg("rules").arg(&rule);
    let out = run(cmd);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "95719b51-e9e0-446d-8fe3-b0ab368dbd75  eql       low      \
         Forwarding\\x1b]0;PWNED\\x07 on\\x0asé\n",
        "{}",
        stderr(&out)
    );
}
