//! Regressions from a tester's report: rule files with a bad language and
//! folders without rule files, option validation, the same input given
//! twice, what the summary says about unparsed lines, and a closed or
//! broken output.

mod common;

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn check_reports_a_bad_eql_language_at_its_place_and_fails() {
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join(FORWARDING)).expect("rule");
    let bad = text.replace("language = \"eql\"", "language = \"kuery\"");
    assert_ne!(bad, text);
    let path = dir.path().join("bad_language.toml");
    std::fs::write(&path, bad).unwrap();

    let mut c = talon();
    c.arg("check").arg(&path);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let want = format!(
        "{}:22:12: error: an `eql` rule's language must be `eql`, not `kuery`",
        path.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("^^^^^^^"), "{err}");
    assert!(!err.contains("not supported yet"), "{err}");
}

#[test]
fn check_and_rules_say_when_a_folder_holds_no_rule_files() {
    let dir = scratch();
    std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
    let mut c = talon();
    c.arg("check").arg(dir.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "talon: error: no rule files found in {}",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(err.contains("notes.txt"), "{err}");

    let empty = scratch();
    let mut c = talon();
    c.arg("rules").arg(empty.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "talon: error: no rule files found in {}",
            empty.path().display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn zero_threads_and_zero_pending_sequences_are_refused() {
    for (flag, want) in [
        (
            "--threads",
            "invalid value '0' for '--threads <N>': must be at least 1 (leave --threads out to use every core)",
        ),
        (
            "--max-pending-sequences",
            "invalid value '0' for '--max-pending-sequences <N>': must be at least 1",
        ),
    ] {
        let mut c = talon();
        c.current_dir(repo()).args(["hunt", "--format", "jsonl", flag, "0"]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{flag}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_zero_reorder_window_is_accepted() {
    for w in ["0s", "0m"] {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--format", "jsonl", "--reorder-window", w]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(0), "{w}: {}", stderr(&out));
        assert_eq!(jsonl(&out).len(), 7, "{w}");
        let mut c = talon();
        c.current_dir(repo()).args([
            "hunt",
            "--format",
            "jsonl",
            "--schedule",
            "--reorder-window",
            w,
        ]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(0), "{w}: {}", stderr(&out));
    }
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--reorder-window", "soon"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'soon' for '--reorder-window <DURATION>': expected a duration like 0s, 30s, 5m, 1h or 1d"),
        "{}",
        stderr(&out)
    );
}

/// `hunt --help` offered `--format es`, which only `talon query` writes:
/// hunt refused it only once running, after loading the rules and
/// creating (so emptying) the `--output` file. It is now refused with the
/// other argument errors, before anything is opened, and not offered.
#[test]
fn hunt_refuses_format_es_while_parsing_its_arguments() {
    let dir = scratch();
    let kept = dir.path().join("alerts.jsonl");
    std::fs::write(&kept, "{\"kept\":true}\n").unwrap();
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--format", "es", "--output"])
        .arg(&kept);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: invalid value 'es' for '--format <FORMAT>'\n  \
         [possible values: jsonl, csv, table]\n\n  \
         tip: `--format es` is only for `talon query`\n\n\
         For more information, try '--help'.\n"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "{\"kept\":true}\n");

    let help = |command: &str| {
        let mut c = talon();
        c.args([command, "--help"]);
        stdout(&run(c))
    };
    let hunt = help("hunt");
    assert!(
        hunt.contains("          - table: A readable table\n\n  -o, --output <FILE>"),
        "{hunt}"
    );
    assert!(!hunt.contains("- es:"), "{hunt}");
    let query = help("query");
    assert!(
        query.contains("          - es:    The body of Elasticsearch's EQL search API response\n"),
        "{query}"
    );
}

/// `talon ARGS` with stdout a pipe whose reading end is already closed
/// (what `| head` leaves once it has exited), stderr captured.
fn with_stdout_broken(args: &[&str]) -> std::process::Output {
    use std::process::Stdio;
    let mut c = talon();
    c.current_dir(repo())
        .args(args)
        .stdin(Stdio::null())
        .stdout(broken_pipe())
        .stderr(Stdio::piped());
    c.output().expect("talon runs")
}

#[test]
fn a_broken_pipe_stops_the_hunt_quietly_and_says_so() {
    for format in ["jsonl", "table", "csv"] {
        let out = with_stdout_broken(&["hunt", "--format", format]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(141), "{format}: {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert!(
            err.contains("talon: output cut short: its reader closed it (broken pipe)"),
            "{format}: {err}"
        );
    }
    // -q: no summary, no note, the same status.
    let out = with_stdout_broken(&["hunt", "-q", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_broken_pipe_on_stdout_and_stderr_does_not_panic() {
    // `talon hunt 2>&1 | head`: the summary goes to the closed pipe too.
    let out = std::process::Command::new("bash")
        .current_dir(repo())
        .env("TALON_NOW", "2026-12-01T00:00:00Z")
        .arg("-c")
        .arg("\"$0\" hunt --format jsonl 2>&1 | head -c 10 >/dev/null; echo \"status ${PIPESTATUS[0]}\"")
        .arg(env!("CARGO_BIN_EXE_talon"))
        .output()
        .expect("bash");
    assert_eq!(stdout(&out).trim(), "status 141", "{}", stderr(&out));
}

#[test]
fn other_commands_stop_quietly_on_a_broken_pipe() {
    for args in [
        &["query", "process where true", "demo/events.ndjson"][..],
        &["rules", "rules/"][..],
        &["convert", "demo/events.ndjson"][..],
    ] {
        let out = with_stdout_broken(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `talon ARGS` run from the repository with a standard stream closed by
/// `redirect` (`>&-`, `<&-`), as a shell closes it.
fn with_closed(redirect: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .current_dir(repo())
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\" {redirect}"))
        .arg(env!("CARGO_BIN_EXE_talon"))
        .args(args)
        .output()
        .expect("sh")
}

/// `synth`, `rules`, `rule show` and `check` print their answer on stdout:
/// with stdout closed they said nothing and exited 0.
#[test]
fn every_command_that_prints_refuses_a_closed_stdout() {
    let rule = "rules/linux/command_and_control_ip_forwarding_enabled.toml";
    for (args, what) in [
        (vec!["synth", rule], "the events made"),
        (vec!["rules", "rules/"], "the rule list"),
        (vec!["rule", "show", rule], "the rule text"),
        (vec!["check", "rules/"], "the check summary"),
        (vec!["convert", "demo/events.ndjson"], "the events"),
        (
            vec!["query", "process where true", "demo/events.ndjson"],
            "the results",
        ),
    ] {
        let out = with_closed(">&-", &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "talon: error: standard output is closed, so {what} would be lost"
            )),
            "{args:?}: {err}"
        );
    }
}

/// From a fresh user: `-` with stdin closed (`<&-`) read as an empty
/// input and exited 0, as if the events held nothing.
#[test]
fn every_command_reading_stdin_refuses_a_closed_stdin() {
    let rule = "rules/linux/command_and_control_ip_forwarding_enabled.toml";
    for args in [
        vec!["hunt", "--rules", rule, "-"],
        vec!["query", "process where true", "-"],
        vec!["convert", "-"],
        vec!["hunt", "--rules", rule, "demo/events.ndjson", "-"],
    ] {
        let out = with_closed("<&-", &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err,
            "talon: error: `-` names standard input, but it is closed (`<&-`): there are no \
             events to read\n",
            "{args:?}"
        );
    }
    // An explicit /dev/null is an empty input, read as one.
    let mut c = talon();
    c.current_dir(repo())
        .args(["query", "process where true", "-"])
        .stdin(std::process::Stdio::null());
    let out = c.output().expect("talon runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("talon: read 0 events from 1 input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_stdout_is_an_output_error_not_a_success() {
    let out = std::process::Command::new("sh")
        .current_dir(repo())
        .env("TALON_NOW", "2026-12-01T00:00:00Z")
        .arg("-c")
        .arg("exec \"$0\" hunt --format jsonl >&-")
        .arg(env!("CARGO_BIN_EXE_talon"))
        .output()
        .expect("sh");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("talon: error: standard output is closed, so the alerts would be lost"),
        "{err}"
    );
    assert!(!err.contains("7 alerts"), "{err}");
    // An explicit /dev/null is a choice, not a closed stream.
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--format", "jsonl"])
        .stdout(std::process::Stdio::null());
    let out = c.output().expect("talon runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("7 alerts"), "{}", stderr(&out));
}

#[test]
fn an_input_given_twice_is_read_once_with_a_warning() {
    for extra in [
        &["demo/events.ndjson"][..],
        &["demo/./events.ndjson", "demo/"][..],
    ] {
        let mut c = talon();
        c.current_dir(repo()).args([
            "hunt",
            "--format",
            "jsonl",
            "--rules",
            "rules/",
            "--threads",
            "2",
            "demo/events.ndjson",
        ]);
        c.args(extra);
        let out = run(c);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let alerts = jsonl(&out);
        assert_eq!(alerts.len(), 7, "{extra:?}: {err}");
        let ids: std::collections::BTreeSet<&str> = alerts
            .iter()
            .map(|a| a["kibana.alert.uuid"].as_str().expect("uuid"))
            .collect();
        assert_eq!(ids.len(), 7);
        let warning = format!(
            "talon: warning: {} was given more than once; it is read once",
            extra[0]
        );
        assert_eq!(err.matches(&warning).count(), 1, "{err}");
    }
    // Stdin named twice is read once too, and said so (it was silent).
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--format", "jsonl", "--rules", "rules/", "-", "-"]);
    let demo = std::fs::read(repo().join("demo/events.ndjson")).expect("demo");
    let out = run_with_stdin(c, &demo);
    let err = stderr(&out);
    assert_eq!(jsonl(&out).len(), 7, "{err}");
    assert!(
        err.contains("talon: warning: - (stdin) was given more than once; it is read once"),
        "{err}"
    );
    // Stdin redirected from a file also named is that file (`- f < f`):
    // read once, whichever comes first, where it gave every alert twice.
    let demo = "demo/events.ndjson";
    for (inputs, warning) in [
        (
            ["-", demo],
            format!(
                "{demo} is the same file as - (stdin is redirected from it); it is read once, as -"
            ),
        ),
        (
            [demo, "-"],
            format!(
                "- (stdin) is the same file as {demo} (stdin is redirected from it); it is read \
                 once, as {demo}"
            ),
        ),
    ] {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--format", "jsonl", "--rules", "rules/"])
            .args(inputs)
            .stdin(std::fs::File::open(repo().join(demo)).expect("demo"));
        let out = c.output().expect("talon runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(jsonl(&out).len(), 7, "{inputs:?}: {err}");
        assert!(
            err.contains(&format!("talon: warning: {warning}\n")),
            "{err}"
        );
        assert!(err.contains(" from 1 input "), "{inputs:?}: {err}");
    }
}

/// `talon hunt --no-prefilter` with the bundled rules over `path`.
fn unfiltered_hunt(path: &std::path::Path) -> std::process::Command {
    let mut c = talon();
    c.current_dir(repo())
        .args([
            "hunt",
            "--format",
            "jsonl",
            "--rules",
            "rules/",
            "--no-prefilter",
        ])
        .arg(path);
    c
}

#[test]
fn without_the_prefilter_every_line_is_read_and_checked() {
    let dir = scratch();
    let mut text = std::fs::read_to_string(repo().join("demo/events.ndjson")).expect("demo");
    text.push_str("{\"not json\n");
    let path = dir.path().join("events.ndjson");
    std::fs::write(&path, text).unwrap();
    let line = 121;

    // Default: the broken line holds no rule's literal, so it is not parsed.
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--format", "jsonl", "--rules", "rules/"])
        .arg(&path);
    let out = run(c);
    let err = stderr(&out);
    assert!(
        err.contains("talon: read 44 events (and 77 more lines not parsed) from 1 input"),
        "{err}"
    );
    assert!(!err.contains("invalid-json"), "{err}");

    let out = run(unfiltered_hunt(&path));
    let err = stderr(&out);
    assert!(err.contains("talon: read 120 events from 1 input"), "{err}");
    assert!(!err.contains("not parsed"), "{err}");
    assert!(
        err.contains(&format!(
            "{}:{line}:10: invalid-json: EOF while parsing a string",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(jsonl(&out).len(), 7);
}

/// `-vvv` says what each rule is evaluated on (its witness probes), as
/// the README promises: the bundled IP forwarding rule only on
/// events whose `process.name` is `sysctl` or whose arguments hold `-c`,
/// and whose command line fits too (its two most selective witnesses: the
/// OS and event type are left to evaluation).
#[test]
fn very_verbose_lists_what_each_rule_is_evaluated_on() {
    let rule = repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml");
    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--rules")
        .arg(&rule)
        .arg(repo().join("demo/events.ndjson"))
        .args(["-vvv", "--output", "/dev/null"]);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("witness: `IPv4/IPv6 Forwarding Switched On via sysctl or procfs`"))
        .unwrap_or_else(|| panic!("no witness line in:\n{err}"));
    assert!(
        line.ends_with(
            r#"where (process.args == "-c" | process.name == "sysctl") and (process.command_line like "*/proc/sys/net/ipv4/ip_forward*" | process.command_line like "*/proc/sys/net/ipv6/conf/all/forwarding*" | process.command_line like "*net.ipv4.ip_forward*" | process.command_line like "*net.ipv6.conf.all.forwarding*")"#
        ),
        "{line}"
    );
}

const DOWNLOAD_NO_SCAN: &str = r#"[rule]
name = "Download, no scan, execute"
rule_id = "11111111-2222-3333-4444-555555555556"
type = "eql"
language = "eql"
risk_score = 47
severity = "medium"
index = ["logs-endpoint.events.*"]
query = '''
sequence by host.id with maxspan=10m
  [network where process.name == "curl"]
  ![process where process.name : "clamscan"]
  [process where process.parent.name == "curl" and process.command_line like~ "*TMP*"]
until [process where process.name == "shutdown"]
'''
"#;

/// An event rule whose first witness has 25 probes.
fn many_tools() -> String {
    let names: Vec<String> = (0..25).map(|i| format!("\"tool{i:02}\"")).collect();
    format!(
        "[rule]\nname = \"Many tools\"\nrule_id = \"11111111-2222-3333-4444-555555555557\"\n\
         type = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\nseverity = \"low\"\n\
         index = [\"logs-endpoint.events.*\"]\nquery = '''\nprocess where process.name in ({}) \
         and process.args like \"*--now*\"\n'''\n",
        names.join(", ")
    )
}

/// `hunt` with `extra` flags and the two rules above over a curl download
/// and the shell it starts: the `-vv`/`-vvv` log lines.
fn verbose_lines(extra: &[&str]) -> Vec<String> {
    let dir = scratch();
    let seq = dir.path().join("seq.toml");
    std::fs::write(&seq, DOWNLOAD_NO_SCAN).unwrap();
    let many = dir.path().join("many.toml");
    std::fs::write(&many, many_tools()).unwrap();
    let event = |cat: &str, minute: u8, process: &str| {
        format!(
            r#"{{"@timestamp":"2026-01-01T00:0{minute}:00Z","event":{{"category":["{cat}"]}},"host":{{"id":"h1"}},"data_stream":{{"type":"logs","dataset":"endpoint.events.{cat}","namespace":"default"}},"process":{process}}}"#
        )
    };
    let text = [
        event("network", 1, r#"{"name":"curl"}"#),
        event(
            "process",
            2,
            r#"{"name":"sh","command_line":"sh /tmp/x","parent":{"name":"curl"}}"#,
        ),
    ]
    .join("\n");
    let events = dir.path().join("e.ndjson");
    std::fs::write(&events, text).unwrap();
    let mut cmd = talon();
    cmd.arg("hunt")
        .arg("--rules")
        .arg(&seq)
        .arg("--rules")
        .arg(&many)
        .arg(&events)
        .args(["--output", "/dev/null"])
        .args(extra);
    let out = run(cmd);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    err.lines()
        .filter(|l| l.starts_with("DEBUG") || l.starts_with("TRACE"))
        .map(str::to_string)
        .collect()
}

/// `-vvv` names a sequence rule's terms as its query has them (a missing
/// event, the until term), lists at most 20 probes per witness, writes
/// case-sensitive and case-insensitive tests apart (`like`, `like~`), and
/// counts the times a rule or its terms were evaluated (not events: 2 were
/// read), each noun agreeing with its number.
#[test]
fn very_verbose_names_terms_cuts_long_witnesses_and_counts_times() {
    let tools: Vec<String> = (0..20)
        .map(|i| format!("process.name == \"tool{i:02}\""))
        .collect();
    assert_eq!(
        verbose_lines(&["-vvv"]),
        [
            format!(
                "TRACE witness: `Many tools` is evaluated on events where ({} | … and 5 more) \
                 and (process.args like \"*--now*\")",
                tools.join(" | ")
            ),
            "TRACE witness: `Download, no scan, execute (term 1)` is evaluated on events where \
             (process.name == \"curl\")"
                .to_string(),
            "TRACE witness: `Download, no scan, execute (missing event 2)` is evaluated on \
             events where (process.name ==~ \"clamscan\")"
                .to_string(),
            "TRACE witness: `Download, no scan, execute (term 3)` is evaluated on events where \
             (process.parent.name == \"curl\") and (process.command_line like~ \"*tmp*\")"
                .to_string(),
            "TRACE witness: `Download, no scan, execute (until)` is evaluated on events where \
             (process.name == \"shutdown\")"
                .to_string(),
            "DEBUG event rules reached 1 time, evaluated 0 times over 2 events".to_string(),
            "DEBUG sequence rules reached 2 times, their terms evaluated 2 times, filled 2 times"
                .to_string(),
            "DEBUG sequence rule evaluated         2 times (2 filled): Download, no scan, execute"
                .to_string(),
        ]
    );
}

/// Without the witness index (`--no-prefilter`) there are no probes to
/// list: `-vv` says once that every routed rule is evaluated, and `-v`
/// has no witness index line.
#[test]
fn without_the_witness_index_no_probes_are_listed() {
    assert_eq!(
        verbose_lines(&["-vvv", "--no-prefilter"]),
        [
            "DEBUG witness index off (--no-prefilter): every rule and sequence term is \
             evaluated on every event routed to it",
            "DEBUG event rules reached 1 time, evaluated 1 time over 2 events",
            "DEBUG sequence rules reached 2 times, their terms evaluated 2 times, filled 2 times",
            "DEBUG event rule evaluated         1 time (0 matched): Many tools",
            "DEBUG sequence rule evaluated         2 times (2 filled): Download, no scan, execute",
        ]
    );
    let mut cmd = talon();
    cmd.args(["hunt", "-v", "--no-prefilter", "--output", "/dev/null"]);
    let err = stderr(&run(cmd));
    assert!(!err.contains("witness index"), "{err}");
    let mut cmd = talon();
    cmd.args(["hunt", "-v", "--output", "/dev/null"]);
    let err = stderr(&run(cmd));
    assert!(
        err.contains(" INFO witness index: 5 of 5 rules and sequence terms have probes\n"),
        "{err}"
    );
}

/// `-v` ends each input with its own counts, also for NDJSON read in
/// chunks by other threads (it said "0 events" for those).
#[test]
fn verbose_per_input_counts_are_the_inputs_own() {
    for extra in [
        &["--threads", "1"][..],
        &["--threads", "2"],
        &["--no-prefilter"],
    ] {
        let mut cmd = talon();
        cmd.arg("hunt")
            .arg(repo().join("demo/events.ndjson"))
            .arg(repo().join("tests/fixtures/seed/defend.ndjson"))
            .args(["-v", "--output", "/dev/null"])
            .args(extra);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let (demo, defend) = match extra {
            ["--no-prefilter"] => ("120 events, 0 skipped", "73 events, 0 skipped"),
            _ => (
                "44 events (76 more lines not parsed), 0 skipped",
                "69 events (4 more lines not parsed), 0 skipped",
            ),
        };
        for (file, want) in [("demo/events.ndjson", demo), ("seed/defend.ndjson", defend)] {
            assert!(
                err.lines()
                    .any(|l| l.contains(&format!("{file}: {want}, "))),
                "{extra:?}: no `{file}: {want}` in:\n{err}"
            );
        }
    }
}

/// `talon check` counts the warnings it prints, loading's included (an
/// export whose summary line promises more rules than it holds).
#[test]
fn check_counts_load_warnings_it_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = r#"{"rule_id":"r1","name":"One","type":"eql","language":"eql","query":"process where true","risk_score":21,"severity":"low","description":"d"}"#;
    let summary = r#"{"exported_count":2,"exported_rules_count":2,"missing_rules":[],"missing_rules_count":0}"#;
    let file = dir.path().join("export.ndjson");
    std::fs::write(&file, format!("{rule}\n{summary}\n")).expect("write");
    let mut cmd = talon();
    cmd.arg("check").arg(&file);
    let out = run(cmd);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains("warning: the export summary says 2 rule(s) were exported"),
        "{stderr}"
    );
    assert!(stdout.ends_with(", 1 warning\n"), "{stdout}\n{stderr}");
}

/// An empty folder of events said only "read 0 events from 0 inputs".
#[test]
fn an_empty_events_folder_is_named_in_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--rules", "rules/", "--format", "jsonl"])
        .arg(dir.path());
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "talon: warning: no event files found in {}",
            dir.path().display()
        )),
        "{err}"
    );
}

/// A top-level `_index` beside an event's fields (not a search hit) is
/// not read as its index; the summary said "no _index", which the line
/// plainly had. It now says which `_index` is read, and that this one is
/// not.
#[test]
fn an_event_without_an_index_is_told_which_index_fields_are_read() {
    let dir = scratch();
    let path = dir.path().join("idx.ndjson");
    std::fs::write(
        &path,
        "{\"_index\":\"logs-x\",\"event\":{\"category\":[\"process\"]},\"process\":{\"name\":\"a\"},\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let out = run(unfiltered_hunt(&path));
    let err = stderr(&out);
    assert!(
        err.contains(
            "talon: 1 event without an index (neither a search hit's `_index` nor \
             data_stream.type, .dataset and .namespace; a top-level `_index` beside the \
             event's fields is not read): no rule searched them; use --index NAME or \
             --all-indices"
        ),
        "{err}"
    );
}

/// `rule show FILE` on a file whose rule does not load says so after its
/// load errors; it used to add "no rule with id or name FILE (looked in
/// the bundled rules ...)", which is untrue: the file was found and read.
#[test]
fn rule_show_on_a_file_that_does_not_load_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[rule]\nname = \"x\"\n").expect("write");
    let mut c = talon();
    c.args(["rule", "show"]).arg(&bad);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.ends_with(&format!(
            "talon: error: no rule loaded from {} (1 load error)\n",
            bad.display()
        )),
        "{err}"
    );
    assert!(!err.contains("no rule with id or name"), "{err}");
}

/// The help's examples named a rule the bundled set does not hold (`hunt
/// --silence-rule` then silenced nothing) and rule folders (`../rules/`,
/// `../detection-rules/rules`) that are nowhere beside a checkout. A
/// silenced rule must be bundled, and a folder given must be the shared
/// corpus beside the checkout.
#[test]
fn help_examples_name_bundled_rules_and_existing_folders() {
    let mut c = talon();
    c.arg("rules");
    let bundled = stdout(&run(c));
    for cmd in ["hunt", "synth", "rules", "rule show", "query", "check"] {
        let mut c = talon();
        c.args(cmd.split(' ')).arg("--help");
        let help = stdout(&run(c));
        for line in help
            .lines()
            .filter(|l| l.trim_start().starts_with("talon "))
        {
            if let Some((_, rest)) = line.split_once("--silence-rule '") {
                let name = rest.split('\'').next().unwrap_or_default();
                assert!(bundled.contains(name), "{cmd}: {line}\n{bundled}");
            }
            for word in line.split_whitespace().filter(|w| w.starts_with("../")) {
                assert!(word.starts_with("../shared/corpora/"), "{cmd}: {line}");
                if let Some(corpora) = corpora() {
                    let rest = word.trim_start_matches("../shared/corpora/");
                    assert!(corpora.join(rest).exists(), "{cmd}: {line}");
                }
            }
        }
    }
}

/// A negative number was taken for an option of its own, and clap advised
/// `-- -1`, which would have made `-1` an event file. The value is now
/// read, and refused for what it is.
#[test]
fn negative_numbers_are_refused_as_values() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["hunt", "--threads", "-1"],
            "invalid value '-1' for '--threads <N>': cannot be negative",
        ),
        (
            &["hunt", "--reorder-window", "-5m"],
            "invalid value '-5m' for '--reorder-window <DURATION>': cannot be negative",
        ),
        (
            &["hunt", "--max-pending-sequences", "-3"],
            "invalid value '-3' for '--max-pending-sequences <N>': cannot be negative",
        ),
        (
            &["query", "any where true", "--size", "-1"],
            "invalid value '-1' for '--size <SIZE>': cannot be negative",
        ),
        (
            &[
                "query",
                "sample by host.id [any where true]",
                "--max-samples-per-key",
                "-2",
            ],
            "invalid value '-2' for '--max-samples-per-key <MAX_SAMPLES_PER_KEY>': cannot be negative",
        ),
    ];
    let cases = cases.into_iter().chain([
        (
            &["hunt", "--threads", "99999999999999999999"][..],
            "invalid value '99999999999999999999' for '--threads <N>': at most 256",
        ),
        (
            &["hunt", "--max-pending-sequences", "x"],
            "invalid value 'x' for '--max-pending-sequences <N>': expected a whole number",
        ),
    ]);
    for (args, want) in cases {
        let mut c = talon();
        c.args(args).arg(repo().join("demo/events.ndjson"));
        let out = run(c);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("tip:"), "{args:?}: {err}");
    }
}

/// A default build has no `stream`; clap said "unrecognized subcommand",
/// which reads as a typo. It now says how to build it.
#[cfg(not(feature = "kafka"))]
#[test]
fn stream_without_kafka_says_how_to_build_it() {
    for args in [
        &["stream"][..],
        &["stream", "--help"],
        &["stream", "--brokers", "x"],
    ] {
        let mut c = talon();
        c.args(args);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            "talon: error: this talon was built without Kafka: `talon stream` needs \
             `cargo build --release --features kafka` (see the README)\n",
            "{args:?}"
        );
    }
}

/// From a fresh user: at `--max-pending-sequences 1` the eviction was
/// reported twice, once as a log line with `name=… cap=1` fields and once
/// in the run's warnings. It is now reported once, in the warnings.
#[test]
fn an_eviction_at_the_cap_is_reported_once() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("seq.toml"),
        r#"[rule]
name = "A then B"
rule_id = "11111111-2222-3333-4444-555555555558"
type = "eql"
language = "eql"
risk_score = 21
severity = "low"
query = '''
sequence by host.id [process where process.name == "a"] [process where process.name == "b"]
'''
"#,
    )
    .unwrap();
    let events: String = ["h1", "h2", "h3"]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!(
                "{{\"@timestamp\":\"2026-01-01T00:00:0{i}Z\",\"event\":{{\"category\":\"process\"}},\
                 \"host\":{{\"id\":\"{h}\"}},\"process\":{{\"name\":\"a\"}}}}\n"
            )
        })
        .collect();
    std::fs::write(d.join("ev.ndjson"), events).unwrap();
    let mut c = talon();
    c.current_dir(d).args([
        "hunt",
        "--rules",
        "seq.toml",
        "ev.ndjson",
        "--all-indices",
        "--max-pending-sequences",
        "1",
        "--format",
        "jsonl",
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("evict")).collect();
    assert_eq!(
        lines,
        [
            "talon: warning: A then B: 2 in-flight sequence(s) evicted at the cap of 1; \
          results may miss matches (add a maxspan or raise the cap)"
        ],
        "{err}"
    );
}

/// From a fresh user: `check` with no argument said "5 rules loaded from
/// 1 file" for the bundled rules, which are five files; and `hunt` over a
/// rule file that is missing said "1 loaded with errors" when nothing had
/// loaded.
#[test]
fn load_counts_name_the_bundled_files_and_what_failed_to_load() {
    let files = walkdir_tomls(&repo().join("rules"));
    let mut c = talon();
    c.arg("check");
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line = stdout(&out);
    assert!(
        line.contains(&format!("loaded from {files} files: ")),
        "{files} files: {line}"
    );

    let dir = scratch();
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--rules", "nope.toml", "--all-indices"])
        .arg(repo().join("demo/events.ndjson"));
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.ends_with(
            "talon: error: no rule can run (1 failed to load, 0 with errors, 0 not supported)\n"
        ),
        "{err}"
    );
}

/// The `.toml` files under `dir`, at any depth.
fn walkdir_tomls(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += walkdir_tomls(&path);
        } else if path.extension().is_some_and(|e| e == "toml") {
            n += 1;
        }
    }
    n
}

/// From a fresh user: `talon hunt --output demo/events.ndjson` in the
/// repository overwrote the demo events, which were the input (read from
/// the binary's copy). An output holding the bundled demo is refused.
#[test]
fn the_bundled_demo_is_not_written_over() {
    let dir = scratch();
    let d = dir.path();
    let demo = std::fs::read(repo().join("demo/events.ndjson")).expect("demo events");
    std::fs::write(d.join("events.ndjson"), &demo).unwrap();
    let mut c = talon();
    c.current_dir(d).args(["hunt", "--output", "events.ndjson"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "talon: error: --output events.ndjson holds the bundled demo events, the input: \
         writing it would destroy that copy of them; nothing was written (give another \
         --output)\n"
    );
    assert_eq!(std::fs::read(d.join("events.ndjson")).unwrap(), demo);
    // Any other file is written as before.
    std::fs::write(d.join("other.ndjson"), "x\n").unwrap();
    let mut c = talon();
    c.current_dir(d)
        .args(["hunt", "--output", "other.ndjson", "-q"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read_to_string(d.join("other.ndjson"))
        .unwrap()
        .contains("kibana.alert.uuid"));
}

/// From a fresh user (and the last closing note): `talon rules` listed a
/// rule whose query does not compile like any other, so the list passed
/// for what `hunt` runs. Rules that will not run are now marked.
#[test]
fn the_rule_list_marks_rules_that_will_not_run() {
    let dir = scratch();
    let d = dir.path();
    let text = std::fs::read_to_string(repo().join(FORWARDING)).expect("rule");
    std::fs::write(d.join("a_good.toml"), &text).unwrap();
    let broken = text
        .replace("process.name == \"sysctl\"", "process.name === \"sysctl\"")
        .replace(
            "95719b51-e9e0-446d-8fe3-b0ab368dbd75",
            "95719b51-e9e0-446d-8fe3-b0ab368dbd76",
        );
    assert_ne!(broken, text);
    std::fs::write(d.join("b_broken.toml"), broken).unwrap();
    let threshold = text
        .replace("type = \"eql\"", "type = \"threshold\"")
        .replace(
            "95719b51-e9e0-446d-8fe3-b0ab368dbd75",
            "95719b51-e9e0-446d-8fe3-b0ab368dbd77",
        );
    std::fs::write(d.join("c_threshold.toml"), threshold).unwrap();
    let mut c = talon();
    c.arg("rules").arg(d);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let marks: Vec<String> = stdout(&out)
        .lines()
        .map(|l| match l.split_once("  [") {
            Some((_, m)) => format!("[{m}"),
            None => String::new(),
        })
        .collect();
    assert_eq!(
        marks,
        [
            "",
            "[query error: see talon check]",
            "[not run: talon rules --coverage says why]"
        ]
    );
}
