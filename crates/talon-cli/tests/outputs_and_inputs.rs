//! Regressions from a tester's report on outputs and inputs: a reader that
//! goes away after one line (every format, every command that streams),
//! an output naming one of the inputs, the same file reached twice (hard
//! and symbolic links), which inputs a run failed on, special files in
//! folders, the grammar of counts; and outputs named `.gz` or `.zst`.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The demo event the forwarding rule alerts on, `n` times: output enough
/// (in every format) to overflow a pipe.
fn many_matches(dir: &Path, n: usize) -> PathBuf {
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    // Line 23: `sysctl -w net.ipv4.ip_forward=1`, which the rule alerts on.
    let line = demo.lines().nth(22).expect("line 23");
    assert!(line.contains("sysctl -w net.ipv4.ip_forward=1"));
    let path = dir.join("many.ndjson");
    std::fs::write(&path, format!("{line}\n").repeat(n)).expect("write");
    path
}

/// Runs `talon ARGS`, reads one line of its stdout and closes the pipe, as
/// `| head -1` does; stderr is captured whole.
fn read_one_line(args: &[&str]) -> (Output, String) {
    let mut c = talon();
    c.current_dir(repo())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("talon starts");
    let mut first = String::new();
    {
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut first).expect("one line");
    }
    (child.wait_with_output().expect("talon runs"), first)
}

const CUT_SHORT_READING: &str = "talon: output cut short: its reader closed it (broken pipe), \
     so reading stopped early; the counts above cover only what was read until then";
const CUT_SHORT_WRITING: &str = "talon: output cut short: its reader closed it (broken pipe), \
     so not every result was written; the counts above cover the whole input";

#[test]
fn every_format_of_every_command_ends_the_same_way_on_a_broken_pipe() {
    let dir = scratch();
    let events = many_matches(dir.path(), 2000);
    let events = events.to_str().expect("utf8");
    let mut runs: Vec<(Vec<&str>, &str)> = Vec::new();
    for format in ["jsonl", "csv", "table"] {
        runs.push((
            vec!["hunt", "--rules", FORWARDING, events, "--format", format],
            CUT_SHORT_READING,
        ));
    }
    for format in ["jsonl", "csv", "table", "es"] {
        runs.push((
            vec![
                "query",
                "process where true",
                events,
                "--size",
                "100000",
                "--format",
                format,
            ],
            CUT_SHORT_WRITING,
        ));
    }
    runs.push((vec!["convert", events], CUT_SHORT_READING));
    for (args, note) in runs {
        let (out, first) = read_one_line(&args);
        let err = stderr(&out);
        assert!(!first.is_empty(), "{args:?}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        // The summary, then the note as its last line.
        assert!(err.starts_with("talon: read "), "{args:?}: {err}");
        assert_eq!(err.lines().last(), Some(note), "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn synth_ends_like_the_others_on_a_broken_pipe() {
    let mut c = talon();
    c.current_dir(repo())
        .args(["synth", "rules/"])
        .stdin(Stdio::null())
        .stdout(broken_pipe())
        .stderr(Stdio::piped());
    let out = c.output().expect("talon runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "talon: output cut short: its reader closed it (broken pipe), so talon stopped, \
             and not every event the lines above count was written"
        ),
        "{err}"
    );
    // -q: nothing at all on stderr, the same status.
    let mut c = talon();
    c.current_dir(repo())
        .args(["-q", "synth", "rules/"])
        .stdin(Stdio::null())
        .stdout(broken_pipe())
        .stderr(Stdio::piped());
    let out = c.output().expect("talon runs");
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(stderr(&out), "");
}

/// The stderr line refusing `--output OUT` over the input `IN`.
fn refused(out: &str, input: Option<&str>) -> String {
    let which = match input {
        None => format!("--output {out} is also an input"),
        Some(input) => format!("--output {out} is the input {input} (the same file)"),
    };
    format!(
        "talon: error: {which}: writing it would destroy the input before it is read; \
         nothing was written (give another --output)\n"
    )
}

#[test]
fn an_output_that_is_one_of_the_inputs_is_refused_before_it_is_opened() {
    let dir = scratch();
    let d = dir.path();
    let demo = std::fs::read(repo().join("demo/events.ndjson")).expect("demo");
    std::fs::write(d.join("events.ndjson"), &demo).unwrap();
    std::fs::hard_link(d.join("events.ndjson"), d.join("hard.ndjson")).unwrap();
    std::os::unix::fs::symlink("events.ndjson", d.join("sym.ndjson")).unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::hard_link(d.join("events.ndjson"), d.join("folder/inside.ndjson")).unwrap();
    std::fs::copy(repo().join(FORWARDING), d.join("rule.toml")).unwrap();
    let rule = std::fs::read(d.join("rule.toml")).unwrap();

    let hunt = |events: &str, output: &str| {
        let mut c = talon();
        c.current_dir(d).args([
            "hunt",
            "--rules",
            "rule.toml",
            events,
            "--format",
            "csv",
            "-o",
            output,
        ]);
        run(c)
    };
    let cases: [(&str, &str, Option<&str>); 6] = [
        ("events.ndjson", "events.ndjson", None),
        ("events.ndjson", "./events.ndjson", Some("events.ndjson")),
        ("events.ndjson", "hard.ndjson", Some("events.ndjson")),
        ("events.ndjson", "sym.ndjson", Some("events.ndjson")),
        // Found inside a folder given.
        ("folder", "events.ndjson", Some("folder/inside.ndjson")),
        // The rules are inputs too.
        ("events.ndjson", "rule.toml", None),
    ];
    for (events, output, input) in cases {
        let out = hunt(events, output);
        assert_eq!(out.status.code(), Some(2), "{events} -o {output}");
        assert_eq!(stderr(&out), refused(output, input), "{events} -o {output}");
        assert!(out.stdout.is_empty());
        assert_eq!(std::fs::read(d.join("events.ndjson")).unwrap(), demo);
        assert_eq!(std::fs::read(d.join("rule.toml")).unwrap(), rule);
    }

    let mut c = talon();
    c.current_dir(d)
        .args(["convert", "events.ndjson", "-o", "events.ndjson"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), refused("events.ndjson", None));
    let mut c = talon();
    c.current_dir(d).args([
        "query",
        "any where true",
        "events.ndjson",
        "-o",
        "hard.ndjson",
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), refused("hard.ndjson", Some("events.ndjson")));
    let mut c = talon();
    c.current_dir(d)
        .args(["synth", "rule.toml", "-o", "rule.toml"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), refused("rule.toml", None));
    assert_eq!(std::fs::read(d.join("events.ndjson")).unwrap(), demo);
    assert_eq!(std::fs::read(d.join("rule.toml")).unwrap(), rule);

    // Another file is written as before.
    let out = hunt("events.ndjson", "alerts.csv");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = std::fs::read_to_string(d.join("alerts.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

/// `talon hunt - -o /dev/stdin < f` truncated `f` and read nothing (exit
/// 0): the file on stdin is an input like a named one.
#[test]
fn an_output_that_is_the_file_on_stdin_is_refused() {
    let dir = scratch();
    let events = dir.path().join("ev.ndjson");
    std::fs::copy(repo().join("demo/events.ndjson"), &events).expect("copy");
    let size = std::fs::metadata(&events).expect("meta").len();
    for (cmd, out) in [
        (&["hunt", "--rules", "rules/"][..], "/dev/stdin"),
        (&["convert"][..], "/proc/self/fd/0"),
        (&["query", "process where true"][..], "/dev/stdin"),
    ] {
        let mut c = talon();
        c.current_dir(repo())
            .args(cmd)
            .args(["-", "-o", out])
            .stdin(std::fs::File::open(&events).expect("open"));
        let o = c.output().expect("talon runs");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains(&format!(
                "talon: error: --output {out} is the file on standard input (the input `-`)"
            )),
            "{cmd:?}: {err}"
        );
        assert_eq!(
            std::fs::metadata(&events).expect("meta").len(),
            size,
            "{cmd:?}"
        );
    }
}

#[test]
fn a_file_reached_twice_through_a_link_is_read_once_with_a_warning_naming_both() {
    let dir = scratch();
    let d = dir.path();
    many_matches(d, 1);
    std::fs::hard_link(d.join("many.ndjson"), d.join("hard.ndjson")).unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::hard_link(d.join("many.ndjson"), d.join("folder/inside.ndjson")).unwrap();
    std::fs::create_dir(d.join("linked")).unwrap();
    std::fs::copy(d.join("many.ndjson"), d.join("linked/mix.ndjson")).unwrap();
    std::os::unix::fs::symlink("mix.ndjson", d.join("linked/link.ndjson")).unwrap();
    let rule = repo().join(FORWARDING);
    let rule = rule.to_str().expect("utf8");
    let cases: [(&[&str], &str); 3] = [
        (
            &["many.ndjson", "hard.ndjson"],
            "talon: warning: hard.ndjson is the same file as many.ndjson (hard.ndjson is a hard \
             link to many.ndjson); it is read once, as many.ndjson",
        ),
        (
            &["many.ndjson", "folder"],
            "talon: warning: folder/inside.ndjson is the same file as many.ndjson \
             (folder/inside.ndjson is a hard link to many.ndjson); it is read once, as \
             many.ndjson",
        ),
        // Only the folder is given: the link inside it comes first.
        (
            &["linked"],
            "talon: warning: linked/mix.ndjson is the same file as linked/link.ndjson \
             (linked/link.ndjson is a symbolic link to linked/mix.ndjson); it is read once, \
             as linked/link.ndjson",
        ),
    ];
    for threads in ["1", "2"] {
        for (inputs, warning) in cases {
            let mut c = talon();
            c.current_dir(d).args([
                "hunt",
                "--rules",
                rule,
                "--format",
                "jsonl",
                "--threads",
                threads,
            ]);
            c.args(inputs);
            let out = run(c);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(0), "{inputs:?}: {err}");
            assert_eq!(jsonl(&out).len(), 1, "{inputs:?}: {err}");
            assert_eq!(err.lines().next(), Some(warning), "{inputs:?}: {err}");
            assert_eq!(err.matches("warning:").count(), 1, "{inputs:?}: {err}");
            assert!(
                err.contains("talon: read 1 event from 1 input "),
                "{inputs:?}: {err}"
            );
        }
    }
}

/// `text` gzipped and cut in half: a stream that ends early.
fn cut_gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let mut bytes = gz.finish().unwrap();
    bytes.truncate(bytes.len() / 2);
    bytes
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
}

#[test]
fn a_special_file_in_a_folder_is_a_counted_skip_not_a_failure() {
    let dir = scratch();
    let d = dir.path();
    let events = many_matches(d, 1);
    std::fs::create_dir(d.join("folder")).unwrap();
    std::fs::rename(&events, d.join("folder/a.ndjson")).unwrap();
    mkfifo(&d.join("folder/p"));
    std::os::unix::fs::symlink("/dev/null", d.join("folder/null")).unwrap();
    let rule = repo().join(FORWARDING);
    let hunt = |extra: &[&str]| {
        let mut c = talon();
        c.current_dir(d)
            .args(["hunt", "--format", "jsonl", "--rules"])
            .arg(&rule)
            .arg("folder")
            .args(extra);
        run(c)
    };
    let out = hunt(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(jsonl(&out).len(), 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[1], "talon: skipped 2: special-file 2", "{err}");
    assert_eq!(
        lines[2],
        "talon:   folder/null: special-file: not a regular file (character device); not read"
    );
    assert_eq!(
        lines[3],
        "talon:   folder/p: special-file: not a regular file (fifo); not read"
    );
    assert!(!err.contains("error"), "{err}");

    // Beside an input cut short, only that one fails the run, and the
    // line saying so is in good English.
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).unwrap();
    std::fs::write(d.join("cut.ndjson.gz"), cut_gzip(&demo.repeat(20))).unwrap();
    let out = hunt(&["cut.ndjson.gz"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "talon: error: 1 input could not be read to the end (unreadable or corrupt): \
             cut.ndjson.gz; what was read before is in the output and the counts"
        ),
        "{err}"
    );
    std::fs::write(d.join("cut2.ndjson.gz"), cut_gzip(&demo.repeat(20))).unwrap();
    let out = hunt(&["cut.ndjson.gz", "cut2.ndjson.gz"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "talon: error: 2 inputs could not be read to the end (unreadable or corrupt): \
             cut.ndjson.gz, cut2.ndjson.gz; what was read before is in the output and the \
             counts"
        ),
        "{err}"
    );
}

/// The summary without its timing, which varies from run to run.
fn untimed(err: &str) -> String {
    err.lines()
        .map(|l| match l.rfind(") in ") {
            Some(at) if l.starts_with("talon: read ") => &l[..at + 1],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_summary_lists_issues_in_input_order_and_names_every_input_cut_short() {
    let dir = scratch();
    let d = dir.path();
    // 30 lines that are not JSON, then a gzip stream cut short.
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("{{\"broken\": {i},}}\n"));
    }
    std::fs::write(d.join("a.ndjson"), text).unwrap();
    let demo = std::fs::read_to_string(repo().join("demo/events.ndjson")).unwrap();
    std::fs::write(d.join("b.ndjson.gz"), cut_gzip(&demo.repeat(20))).unwrap();
    let rule = repo().join(FORWARDING);
    let hunt = |threads: &str, extra: &[&str]| {
        let mut c = talon();
        c.current_dir(d)
            .args(["hunt", "--no-prefilter", "--format", "jsonl", "--rules"])
            .arg(&rule)
            .args(["a.ndjson", "b.ndjson.gz", "--threads", threads])
            .args(extra);
        run(c)
    };
    let one = hunt("1", &[]);
    let err = stderr(&one);
    assert_eq!(one.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    // b's last line, cut by the failure, is not parsed: the failure is
    // its one issue.
    assert_eq!(
        lines[1],
        "talon: skipped 31: invalid-json 30, decompression 1"
    );
    assert_eq!(
        lines[2],
        "talon:   a.ndjson:1:14: invalid-json: trailing comma"
    );
    assert_eq!(
        lines[21],
        "talon:   a.ndjson:20:15: invalid-json: trailing comma"
    );
    assert_eq!(lines[22], "talon:   ... and 11 more (-vv lists every one)");
    assert_eq!(
        lines.last(),
        Some(
            &"talon: error: 1 input could not be read to the end (unreadable or corrupt): \
              b.ndjson.gz; what was read before is in the output and the counts"
        ),
        "{err}"
    );
    // The same, in the same order, whatever the thread count.
    for threads in ["2", "3"] {
        let out = hunt(threads, &[]);
        assert_eq!(untimed(&stderr(&out)), untimed(&err), "--threads {threads}");
        assert_eq!(out.stdout, one.stdout, "--threads {threads}");
    }
    // -vv lists every issue, in input order: a's lines, then b's failure.
    for threads in ["1", "2"] {
        let out = hunt(threads, &["-vv"]);
        let log = stderr(&out);
        let issues: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(": invalid-json: ") || l.contains(": decompression: "))
            .filter(|l| !l.starts_with("talon:"))
            .collect();
        assert_eq!(issues.len(), 31, "{log}");
        assert!(issues[29].ends_with(" a.ndjson:30:15: invalid-json: trailing comma"));
        assert!(issues[30].contains(" b.ndjson.gz:"), "{}", issues[30]);
        assert!(
            issues[30].contains(": decompression: gzip: "),
            "{}",
            issues[30]
        );
    }

    // Few enough issues to list them all: in input order whatever the
    // thread count, the failure last (it was first with 2 threads: items
    // were counted as read, line chunks once parsed).
    let five: String = (0..5).map(|i| format!("{{\"broken\": {i},}}\n")).collect();
    std::fs::write(d.join("five.ndjson"), five).unwrap();
    for threads in ["1", "2", "3"] {
        let mut c = talon();
        c.current_dir(d)
            .args(["hunt", "--no-prefilter", "--format", "jsonl", "--rules"])
            .arg(&rule)
            .args(["five.ndjson", "b.ndjson.gz", "--threads", threads]);
        let out = run(c);
        let err = stderr(&out);
        let listed: Vec<&str> = err
            .lines()
            .filter_map(|l| l.strip_prefix("talon:   "))
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            listed,
            [
                "five.ndjson",
                "five.ndjson",
                "five.ndjson",
                "five.ndjson",
                "five.ndjson",
                "b.ndjson.gz"
            ],
            "--threads {threads}: {err}"
        );
        let last = err
            .lines()
            .rfind(|l| l.starts_with("talon:   b.ndjson.gz:"));
        assert!(
            last.is_some_and(|l| l.contains(": decompression: gzip: ")),
            "--threads {threads}: {err}"
        );
    }

    // Many inputs cut short: the first few named, and how many more.
    let mut args = vec!["query", "any where true"];
    let names: Vec<String> = (1..=7).map(|i| format!("cut{i}.gz")).collect();
    for n in &names {
        std::fs::write(d.join(n), cut_gzip(&demo)).unwrap();
        args.push(n);
    }
    let mut c = talon();
    c.current_dir(d).args(&args);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "talon: error: 7 inputs could not be read to the end (unreadable or corrupt): \
             cut1.gz, cut2.gz, cut3.gz, cut4.gz, cut5.gz and 2 more; what was read before is \
             in the output and the counts"
        ),
        "{err}"
    );
}

#[test]
fn counts_of_one_are_singular_in_summaries() {
    let dir = scratch();
    let d = dir.path();
    many_matches(d, 1);
    // One rule that fails to load beside one that loads.
    std::fs::copy(repo().join(FORWARDING), d.join("good.toml")).unwrap();
    std::fs::write(d.join("bad.toml"), "[rule\n").unwrap();
    let mut c = talon();
    c.current_dir(d).args(["check", "good.toml", "bad.toml"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "1 rule loaded from 2 files: 1 ok, 0 with query errors, 1 load error, 0 warnings\n"
    );
    let mut c = talon();
    c.current_dir(d).args(["check", "good.toml"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "1 rule loaded from 1 file: 1 ok, 0 with query errors, 0 load errors, 0 warnings\n"
    );
    let mut c = talon();
    c.current_dir(d).args(["rules", "--coverage", "good.toml"]);
    let out = run(c);
    assert_eq!(
        stdout(&out).lines().next(),
        Some(
            "1 rule: 1 can run, 0 cannot (0 of an unsupported type, 0 with query errors); \
             0 building blocks; 0 load errors"
        ),
        "{}",
        stderr(&out)
    );
    // One match suppressed by an exception.
    let mut c = talon();
    c.current_dir(d).args([
        "hunt",
        "--rules",
        "good.toml",
        "many.ndjson",
        "--format",
        "jsonl",
        "--silence-host",
        "*",
    ]);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(jsonl(&out).is_empty(), "{err}");
    assert!(
        err.contains("\ntalon: 1 match suppressed by silences\n"),
        "{err}"
    );
    // `rule show`: a rule that alerts at most once a run.
    let text = std::fs::read_to_string(d.join("good.toml")).unwrap();
    assert!(text.contains("\nmax_signals = 100\n"));
    let text = text.replacen("\nmax_signals = 100\n", "\nmax_signals = 1\n", 1);
    std::fs::write(d.join("once.toml"), text).unwrap();
    let mut c = talon();
    c.current_dir(d).args(["rule", "show", "once.toml"]);
    let out = run(c);
    assert!(
        stdout(&out).contains(", at most 1 alert a run\n"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Runs `talon ARGS` in the repository with `TALON_NOW` pinned (alerts
/// carry the run's time) and returns its output.
fn run_pinned(args: &[&str]) -> Output {
    let mut c = talon();
    c.current_dir(repo())
        .env("TALON_NOW", "2026-12-05T00:00:00Z")
        .args(args);
    run(c)
}

#[test]
fn an_output_named_gz_or_zst_is_compressed_and_keeps_its_format() {
    use std::io::Read;
    let dir = scratch();
    let events = many_matches(dir.path(), 3);
    let events = events.to_str().expect("utf8");
    let hunt = |output: &Path, format: Option<&str>| {
        let mut args = vec!["hunt", "--rules", FORWARDING, events, "-o"];
        args.push(output.to_str().expect("utf8"));
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let out = run_pinned(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        std::fs::read(output).expect("output written")
    };
    let gunzip = |bytes: &[u8]| {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut text)
            .expect("a gzip file");
        text
    };

    let plain = hunt(&dir.path().join("alerts.jsonl"), None);
    assert_eq!(plain.iter().filter(|b| **b == b'\n').count(), 3);
    let gz = hunt(&dir.path().join("alerts.jsonl.gz"), None);
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    assert_eq!(gunzip(&gz), plain);
    let zst = hunt(&dir.path().join("alerts.jsonl.ZST"), None);
    assert_eq!(zstd::decode_all(&zst[..]).expect("a zstd file"), plain);

    // `.csv.gz` is CSV (the format comes from the name before the codec).
    let csv = hunt(&dir.path().join("alerts.csv"), None);
    assert!(csv.starts_with(b"@timestamp,kibana.alert.rule.name,"));
    assert_eq!(gunzip(&hunt(&dir.path().join("alerts.csv.gz"), None)), csv);
    // A name that is only the extension ends `.gz` too (`-o $NAME.gz` with
    // NAME empty): it was written as plain text that `zcat` refuses.
    assert_eq!(gunzip(&hunt(&dir.path().join(".gz"), None)), plain);
    assert_eq!(gunzip(&hunt(&dir.path().join(".csv.gz"), None)), csv);
    let zst = hunt(&dir.path().join(".zst"), None);
    assert_eq!(zstd::decode_all(&zst[..]).expect("a zstd file"), plain);

    // No alert: still a gzip file, of nothing.
    let quiet = dir.path().join("none.ndjson");
    std::fs::write(
        &quiet,
        "{\"@timestamp\":\"2026-12-05T00:00:00Z\",\"event\":{\"category\":\"process\"}}\n",
    )
    .expect("write");
    let output = dir.path().join("none.jsonl.gz");
    let out = run_pinned(&[
        "hunt",
        "--rules",
        FORWARDING,
        quiet.to_str().expect("utf8"),
        "-o",
        output.to_str().expect("utf8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(gunzip(&std::fs::read(&output).expect("written")).is_empty());

    // talon reads what it wrote: `convert` to `.zst`, then `query` it.
    let converted = dir.path().join("events.ndjson.zst");
    let out = run_pinned(&["convert", events, "-o", converted.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_pinned(&[
        "query",
        "process where process.name == \"sysctl\"",
        converted.to_str().expect("utf8"),
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

/// From a fresh user: `convert -o x.csv` wrote JSON lines into a file
/// named CSV, without a word. `convert` and `synth` write JSON lines only:
/// a `.csv` name (compressed or not, any case) is refused before any file
/// is made.
#[test]
fn commands_that_write_json_lines_refuse_an_output_named_csv() {
    let dir = scratch();
    let rule = FORWARDING;
    for name in ["events.csv", "events.CSV.gz", "events.csv.zst"] {
        let out_path = dir.path().join(name);
        let out_arg = out_path.to_str().expect("utf8");
        for (args, command) in [
            (
                vec!["convert", "demo/events.ndjson", "-o", out_arg],
                "convert",
            ),
            (vec!["synth", rule, "-o", out_arg], "synth"),
        ] {
            let mut c = talon();
            c.current_dir(repo()).args(&args);
            let out = run(c);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert_eq!(
                stderr(&out),
                format!(
                    "talon: error: `{command}` writes events as JSON lines, not CSV: name the \
                     output .ndjson or .jsonl (compressed: .ndjson.gz, .ndjson.zst)\n"
                ),
                "{args:?}"
            );
            assert!(!out_path.exists(), "{args:?}");
        }
    }
    // A JSON lines name is written as ever.
    let ok = dir.path().join("events.ndjson.gz");
    let mut c = talon();
    c.current_dir(repo())
        .args(["convert", "demo/events.ndjson", "-q", "-o"])
        .arg(&ok);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(ok.exists());
}

/// A command line `=cmd|' /C calc'!A0` in an event went into the CSV as
/// it was, and a spreadsheet opening the file ran it. Text cells that
/// start with `=`, `+`, `-`, `@`, tab or carriage return are led by `'`
/// (OWASP's advice), in `hunt`'s CSV and `query`'s alike; numbers are not
/// (a negative one is no formula), nor is text that only holds such a
/// character further in.
#[test]
fn csv_cells_a_spreadsheet_would_run_as_a_formula_are_quoted() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("r.toml"),
        "[metadata]\ncreation_date = \"2026/11/30\"\nmaturity = \"production\"\n\
         updated_date = \"2026/11/30\"\n[rule]\nauthor = [\"me\"]\ndescription = \"test\"\n\
         index = [\"logs-*\"]\nlanguage = \"eql\"\nlicense = \"Apache-2.0\"\nname = \"Calc\"\n\
         risk_score = 21\nrule_id = \"11111111-1111-1111-1111-111111111111\"\n\
         severity = \"low\"\ntype = \"eql\"\nquery = 'process where process.parent.name == \"x=y\"'\n",
    )
    .expect("write rule");
    let event = r#"{"@timestamp":"2026-12-04T23:59:00Z","event":{"category":["process"],"type":["start"]},"host":{"name":"@h"},"user":{"name":-5},"process":{"name":"+cmd","command_line":"=cmd|' /C calc'!A0","parent":{"name":"x=y"}},"data_stream":{"type":"logs","dataset":"x","namespace":"default"}}"#;
    std::fs::write(d.join("=e.ndjson"), format!("{event}\n")).expect("write events");

    let mut c = talon();
    c.current_dir(d)
        .env("TALON_NOW", "2026-12-05T00:00:00Z")
        .args([
            "-q",
            "hunt",
            "--format",
            "csv",
            "--rules",
            "r.toml",
            "=e.ndjson",
        ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = stdout(&out);
    let row = csv.lines().nth(1).unwrap_or_default();
    let cells: Vec<&str> = row.splitn(13, ',').collect();
    assert_eq!(
        cells[..11],
        [
            "2026-12-05T00:00:00.000Z",
            "Calc",
            "11111111-1111-1111-1111-111111111111",
            "low",
            "21",
            "'@h",
            "-5",
            "'+cmd",
            "'=cmd|' /C calc'!A0",
            "x=y",
            "2026-12-04T23:59:00.000Z",
        ],
        "{csv}"
    );
    assert!(row.ends_with(",,,'=e.ndjson:1"), "{row}");

    let mut c = talon();
    c.current_dir(d).args([
        "-q",
        "query",
        "--format",
        "csv",
        "process where true",
        "=e.ndjson",
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "@timestamp,event.category,host.name,user.name,process.name,process.command_line,source\n\
         2026-12-04T23:59:00.000Z,process,'@h,-5,'+cmd,'=cmd|' /C calc'!A0,'=e.ndjson:1\n"
    );
}
