//! Regressions from a tester's report on rule and option validation: a
//! schedule value that cannot be read (`from = "yesterday"`), list fields
//! written as one string, unknown keys in rules and in `talon.toml`, the
//! place of an unclosed `(`, and a broken `--exceptions` file.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The tester's minimal rule, with `extra` lines added to `[rule]`.
fn rule_text(name: &str, rule_id: &str, extra: &str, query: &str) -> String {
    format!(
        "[metadata]\ncreation_date = \"2026/11/30\"\nmaturity = \"production\"\nupdated_date = \"2026/11/30\"\n\
         [rule]\nauthor = [\"me\"]\ndescription = \"test\"\n{extra}index = [\"logs-*\"]\nlanguage = \"eql\"\n\
         license = \"Apache-2.0\"\nname = \"{name}\"\nrisk_score = 21\nrule_id = \"{rule_id}\"\n\
         severity = \"low\"\ntype = \"eql\"\nquery = '''\n{query}\n'''\n"
    )
}

const SYSCTL: &str = "process where process.name == \"sysctl\"";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn demo_events() -> PathBuf {
    repo().join("demo/events.ndjson")
}

/// The good rule (`from = "now-9m"`) and one whose `from` cannot be read.
fn good_and_bad(dir: &Path) -> (PathBuf, PathBuf) {
    let good = rule_text(
        "Sysctl run",
        "11111111-1111-1111-1111-111111111111",
        "from = \"now-9m\"\n",
        SYSCTL,
    );
    let bad = rule_text(
        "Sysctl run yesterday",
        "22222222-2222-2222-2222-222222222222",
        "from = \"yesterday\"\n",
        SYSCTL,
    );
    (write(dir, "r.toml", &good), write(dir, "bad.toml", &bad))
}

const FROM_ERROR: &str = "bad.toml:8:8: error: cannot read from = \"yesterday\": expected now, \
    or now-N / now+N with s, m, h, d or w, like \"now-9m\"\n  |\n8 | from = \"yesterday\"\n  |        ^^^^^^^^^^^\n";

/// Runs talon with `args` in `dir`.
fn talon_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = talon();
    c.current_dir(dir).args(args);
    run(c)
}

#[test]
fn check_reports_an_unreadable_from_or_interval_at_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bad) = good_and_bad(dir.path());
    let out = talon_in(dir.path(), &["check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), FROM_ERROR);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 rule loaded from 1 file: 0 ok, 0 with query errors, 1 with schedule errors, \
         0 load errors, 0 warnings\n"
    );

    let text = std::fs::read_to_string(&bad)
        .unwrap()
        .replace("from = \"yesterday\"", "interval = \"5x\"");
    write(dir.path(), "bad.toml", &text);
    let out = talon_in(dir.path(), &["check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "bad.toml:8:12: error: cannot read interval = \"5x\": expected a number and s, m, h or d, \
         like \"5m\"\n  |\n8 | interval = \"5x\"\n  |            ^^^^\n"
    );

    // max_signals was already checked when loading: a rule that fails to
    // load, at its value.
    let text = text.replace("interval = \"5x\"", "max_signals = 0");
    write(dir.path(), "bad.toml", &text);
    let out = talon_in(dir.path(), &["check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "bad.toml:8:15: error: `max_signals` must be between 1 and 4294967295, not 0\n"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hunt_with_schedule_leaves_out_only_the_rule_it_cannot_replay() {
    let dir = tempfile::tempdir().unwrap();
    good_and_bad(dir.path());
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--all-indices", "--schedule"])
        .args(["--rules", "bad.toml", "--rules", "r.toml"])
        .arg(demo_events());
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.starts_with(&format!(
            "{FROM_ERROR}bad.toml: skipped rule \"Sysctl run yesterday\": its schedule cannot be replayed (--schedule)\n"
        )),
        "{err}"
    );
    assert!(
        err.contains("talon: rules: 1 running, 1 with errors, 0 not supported"),
        "{err}"
    );
    let alerts = jsonl(&out);
    assert!(!alerts.is_empty(), "{err}");
    assert!(alerts
        .iter()
        .all(|a| a["kibana.alert.rule.name"] == "Sysctl run"));

    // Without --schedule the value is not used: both rules run, and the
    // bad one is a warning at its value.
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--all-indices"])
        .args(["--rules", "bad.toml", "--rules", "r.toml"])
        .arg(demo_events());
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.starts_with(
            "bad.toml:8:8: warning: cannot read from = \"yesterday\": expected now, or now-N / now+N \
             with s, m, h, d or w, like \"now-9m\"; only --schedule reads it, so the rule runs without it\n  |\n\
             8 | from = \"yesterday\"\n  |        ^^^^^^^^^^^\n"
        ),
        "{err}"
    );
    let names: std::collections::BTreeSet<String> = jsonl(&out)
        .iter()
        .filter_map(|a| a["kibana.alert.rule.name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["Sysctl run", "Sysctl run yesterday"]
    );
}

#[test]
fn rule_show_says_the_schedule_cannot_be_replayed() {
    let dir = tempfile::tempdir().unwrap();
    good_and_bad(dir.path());
    let out = talon_in(dir.path(), &["rule", "show", "bad.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), FROM_ERROR.replacen("error:", "warning:", 1));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(
            "  schedule             every 5m, looking back to yesterday, at most 100 alerts a run \
             (unreadable: --schedule cannot replay it)\n"
        ),
        "{shown}"
    );
}

/// An empty `from` was shown as `looking back to , at most ...`; an empty
/// value is now named, as is an empty `interval`.
#[test]
fn rule_show_names_an_empty_schedule_value() {
    let dir = tempfile::tempdir().unwrap();
    let shown = |extra: &str| {
        write(
            dir.path(),
            "r.toml",
            &rule_text("Sysctl run", "1", extra, SYSCTL),
        );
        let out = talon_in(dir.path(), &["rule", "show", "r.toml"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with("  schedule "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        shown("from = \"\"\n"),
        "  schedule             every 5m, `from` is empty, at most 100 alerts a run \
         (unreadable: --schedule cannot replay it)"
    );
    assert_eq!(
        shown("interval = \" \"\nfrom = \"now-9m\"\n"),
        "  schedule             `interval` is empty, looking back to now-9m, at most 100 alerts a \
         run (unreadable: --schedule cannot replay it)"
    );
    assert_eq!(
        shown("interval = \"10m\"\n"),
        "  schedule             every 10m, looking back to now-6m, at most 100 alerts a run"
    );
    // A written `to` other than `now` ends the window early: shown (it was
    // left out), as is an empty one.
    assert_eq!(
        shown("from = \"now-10m\"\nto = \"now-1h+55m\"\n"),
        "  schedule             every 5m, looking back to now-10m, up to now-1h+55m, at most 100 \
         alerts a run"
    );
    assert_eq!(
        shown("to = \"now\"\n"),
        "  schedule             every 5m, looking back to now-6m, at most 100 alerts a run"
    );
    assert!(shown("to = \"\"\n").contains("`to` is empty"));
}

#[test]
fn list_fields_written_as_one_string_are_errors_and_unknown_keys_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let text = rule_text("Sysctl run", "1", "", SYSCTL)
        .replace("index = [\"logs-*\"]", "index = \"logs-*\"");
    write(dir.path(), "r.toml", &text);
    let out = talon_in(dir.path(), &["check", "r.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "r.toml:8:9: error: `index` must be a list of strings, found a string (write it as a list: \
         [\"logs-*\"])\n  |\n8 | index = \"logs-*\"\n  |         ^^^^^^^^\n"
    );

    let text = rule_text("Sysctl run", "1", "licence = \"x\"\n", SYSCTL);
    write(dir.path(), "r.toml", &text);
    let out = talon_in(dir.path(), &["check", "r.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "r.toml:8:1: warning: unknown key `licence` in [rule] (did you mean `license`?); talon \
         ignores it, and detection-rules refuses it\n  |\n8 | licence = \"x\"\n  | ^^^^^^^\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 rule loaded from 1 file: 1 ok, 0 with query errors, 0 load errors, 1 warning\n"
    );
}

#[test]
fn an_unclosed_paren_is_reported_at_the_end_of_the_query_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let text = rule_text(
        "Sysctl run",
        "1",
        "",
        "process where (process.name == \"a\"",
    );
    write(dir.path(), "r.toml", &text);
    let out = talon_in(dir.path(), &["check", "r.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "r.toml:17:35: error: expected `)`, found end of query\n   |\n\
         17 | process where (process.name == \"a\"\n   |                                   ^\n\
         r.toml:17:15: note: this `(` is never closed\n   |\n\
         17 | process where (process.name == \"a\"\n   |               ^\n"
    );

    // A documentation page: at the end of the query line, not under the
    // closing fence.
    let page = "# Sysctl run\n\ntest\n\n**Rule type**: eql\n\n**Rule indices**:\n\n* logs-*\n\n\
                **Severity**: low\n\n**Risk score**: 21\n\n## Rule query\n\n```js\n\
                process where (process.name == \"a\"\n```\n";
    write(dir.path(), "r.md", page);
    let out = talon_in(dir.path(), &["check", "r.md"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "r.md:18:35: error: expected `)`, found end of query\n   |\n\
             18 | process where (process.name == \"a\"\n   |                                   ^\n\
             r.md:18:15: note: this `(` is never closed\n"
        ),
        "{err}"
    );
}

#[test]
fn a_broken_exceptions_file_is_an_error_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "exc_bad.ndjson", "{\"list_id\":\"x\",\n");
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--exceptions", "exc_bad.ndjson"])
        .arg(demo_events());
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "talon: error: exc_bad.ndjson:1:16: invalid JSON: EOF while parsing a value\n  |\n\
         1 | {\"list_id\":\"x\",\n  |                ^\n"
    );
    assert!(out.stdout.is_empty());
    // A byte-order mark (a Windows editor) is not a column.
    write(
        dir.path(),
        "exc_bom.ndjson",
        "\u{feff}{\"list_id\":\"x\",\n",
    );
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--exceptions", "exc_bom.ndjson"])
        .arg(demo_events());
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("talon: error: exc_bom.ndjson:1:16: invalid JSON"),
        "{}",
        stderr(&out)
    );

    // An entry type talon does not know would drop the item, and with it
    // the alerts it suppresses: an error at the type.
    let item = "{\"item_id\":\"i\",\"list_id\":\"x\",\"entries\":[{\"field\":\"process.name\",\
                \"operator\":\"included\",\"type\":\"matchez\",\"value\":\"sysctl\"}]}\n";
    write(dir.path(), "exc_type.ndjson", item);
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--exceptions", "exc_type.ndjson"])
        .arg(demo_events());
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "talon: error: exc_type.ndjson:1:95: exception item `i`: entry on `process.name`: \
             unknown type `matchez` (expected match, match_any, wildcard, exists, list or nested)\n"
        ),
        "{err}"
    );
    // A long line is shown as a window around the value (`…` for the 14
    // characters left out before it), the caret under the type.
    assert!(
        err.ends_with(&format!(
            "\n1 | …{}\n  | {}^^^^^^^\n",
            &item[14..item.len() - 1],
            " ".repeat(81)
        )),
        "{err}"
    );
}

#[test]
fn unknown_sections_and_keys_of_talon_toml_are_warnings_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "talon.toml",
        "[silenc]\nrules = [\"x\"]\n\n[silence]\nhost = [\"a\"]\n\n[stream]\nbrokers = \"b\"\n",
    );
    // A top-level `x = 1` is a key, and was called a section.
    let text = std::fs::read_to_string(dir.path().join("talon.toml")).unwrap();
    write(dir.path(), "talon.toml", &format!("verbose = true\n{text}"));
    let mut c = talon();
    c.current_dir(dir.path()).arg("hunt").arg(demo_events());
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "talon.toml:1:1: warning: unknown top-level key `verbose`; it is ignored\n  |\n\
             1 | verbose = true\n  | ^^^^^^^\n\
             talon.toml:2:2: warning: unknown section `silenc` (did you mean `silence`?); it is ignored\n  |\n\
             2 | [silenc]\n  |  ^^^^^^\n\
             talon.toml:6:1: warning: unknown key `host` in [silence] (did you mean `hosts`?); it is ignored\n  |\n\
             6 | host = [\"a\"]\n  | ^^^^\n"
        ),
        "{err}"
    );
    assert!(!err.contains("stream"), "{err}");
}

/// A `[silence]` list written as one string was an error with no line.
#[test]
fn a_silence_key_that_is_not_a_list_is_shown_where_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "talon.toml", "[silence]\nrules = \"IPv4*\"\n");
    let mut c = talon();
    c.current_dir(dir.path()).arg("hunt").arg(demo_events());
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "talon: error: talon.toml:2:9: `silence.rules` must be a list of strings\n  |\n\
             2 | rules = \"IPv4*\"\n  |         ^^^^^^^\n"
        ),
        "{}",
        stderr(&out)
    );
}

/// An error inside a `[[exceptions]]` item of talon.toml named the file
/// and the item's number, but no line: it is now shown where it is
/// written, with a caret, as a `[silence]` value is: at the value the
/// error is about, else at the entry, else at the item's header.
#[test]
fn an_exceptions_error_is_shown_where_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hunt_with = |config: &str| {
        write(dir.path(), "talon.toml", config);
        let mut c = talon();
        c.current_dir(dir.path()).arg("hunt").arg(demo_events());
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        stderr(&out)
    };
    const GOOD: &str = "[[exceptions]]\nrule_id = \"x\"\n\
        entries = [{ field = \"a\", operator = \"is\", type = \"match\", value = \"b\" }]\n\n";

    let err = hunt_with(&format!(
        "{GOOD}[[exceptions]]\nrule_name = \"y*\"\nentries = [\n  \
         {{ field = \"a\", operator = \"is\", type = \"match\", value = \"b\" }},\n  \
         {{ field = \"c\", operator = \"is\", type = \"matches\", value = \"d\" }},\n]\n"
    ));
    assert_eq!(
        err,
        "talon: error: talon.toml:9:42: exception item `talon.toml#2`: entry on `c`: unknown type \
         `matches` (expected match, match_any, wildcard, exists, list or nested)\n  |\n\
         9 |   { field = \"c\", operator = \"is\", type = \"matches\", value = \"d\" },\n  \
         |                                          ^^^^^^^^^\n"
    );

    let err = hunt_with(&format!(
        "{GOOD}[[exceptions]]\nrule_name = \"y*\"\nentries = [{{ field = \"c\", operator = \"is\", type = \"match\" }}]\n"
    ));
    assert_eq!(
        err,
        "talon: error: talon.toml:7:12: exception item `talon.toml#2`: entry `match` on `c` needs \
         a `value` (a string; a number or true/false is read as its text)\n  |\n\
         7 | entries = [{ field = \"c\", operator = \"is\", type = \"match\" }]\n  \
         |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    );

    let err = hunt_with(&format!(
        "{GOOD}[[exceptions]]\nentries = [{{ field = \"c\", operator = \"is\", type = \"exists\" }}]\n"
    ));
    assert_eq!(
        err,
        "talon: error: talon.toml:5:1: [[exceptions]] #2: give exactly one of rule_id or \
         rule_name\n  |\n5 | [[exceptions]]\n  | ^^^^^^^^^^^^^^\n"
    );

    let err = hunt_with(&format!(
        "{GOOD}[[exceptions]]\nrule_id = \"y\"\nentries = \"c\"\n"
    ));
    assert_eq!(
        err,
        "talon: error: talon.toml:7:11: [[exceptions]] #2: `entries` must be an array of entry \
         tables\n  |\n7 | entries = \"c\"\n  |           ^^^\n"
    );

    let err = hunt_with(&format!("{GOOD}os_types = \"linux\"\n"));
    assert_eq!(
        err,
        "talon: error: talon.toml:5:12: [[exceptions]] #1: `os_types` must be a list of \
         strings\n  |\n5 | os_types = \"linux\"\n  |            ^^^^^^^\n"
    );
}

/// The list's columns were 9 and 8 characters wide whatever they held, so
/// a `machine_learning` rule or a short rule id pushed its line along.
#[test]
fn rules_list_columns_are_as_wide_as_their_widest_value() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.toml",
        &rule_text("Sysctl run", "a-1", "", SYSCTL),
    );
    let ml = rule_text("Odd login", "long-rule-id-2", "", SYSCTL)
        .replace("type = \"eql\"", "type = \"machine_learning\"")
        .replace("severity = \"low\"", "severity = \"critical\"");
    write(dir.path(), "b.toml", &ml);
    let out = talon_in(dir.path(), &["rules", "a.toml", "b.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "a-1             eql              low      Sysctl run",
            "long-rule-id-2  machine_learning critical Odd login  [not run: talon rules --coverage says why]",
        ]
    );
}

/// `talon rules` listed a rule whose `from` cannot be read without a
/// word, while `check` reports it at its value and `hunt --schedule`
/// leaves it out. It now prints the error as `check` does (on stderr, as
/// it prints the rules that fail to load), and `--coverage` counts the
/// rule; the rule is still listed, as it loads and runs without
/// --schedule.
#[test]
fn rules_reports_an_unreadable_schedule_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    good_and_bad(dir.path());
    let out = talon_in(dir.path(), &["rules", "r.toml", "bad.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), FROM_ERROR);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "11111111-1111-1111-1111-111111111111  eql       low      Sysctl run\n\
         22222222-2222-2222-2222-222222222222  eql       low      Sysctl run yesterday\n"
    );

    let out = talon_in(dir.path(), &["rules", "--coverage", "r.toml", "bad.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), FROM_ERROR);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some(
            "2 rules: 2 can run, 0 cannot (0 of an unsupported type, 0 with query errors); \
             1 with schedule errors (not run by --schedule); 0 building blocks; \
             0 load errors"
        ),
        "{stdout}"
    );
}

/// `talon rules` listed rules none of which can run (all of a type talon
/// does not run, or with query errors) and exited 0, as if `hunt` would
/// run them. It still lists them, then ends as `hunt` does over the same
/// rules: its error, word for word, and exit 2. One rule that runs is
/// enough for success.
#[test]
fn rules_fails_as_hunt_does_when_no_rule_listed_can_run() {
    let dir = tempfile::tempdir().unwrap();
    let ml = rule_text("Odd login", "ml-1", "", SYSCTL)
        .replace("type = \"eql\"", "type = \"machine_learning\"");
    write(dir.path(), "ml.toml", &ml);
    write(
        dir.path(),
        "broken.toml",
        &rule_text("Broken", "broken-1", "", "process where process.name =="),
    );
    const NONE_RUN: &str =
        "talon: error: no rule can run (0 failed to load, 1 with errors, 1 not supported)\n";

    let out = talon_in(dir.path(), &["rules", "ml.toml", "broken.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err, NONE_RUN);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ml-1      machine_learning low      Odd login  [not run: talon rules --coverage says why]\n\
         broken-1  eql              low      Broken  [query error: see talon check]\n"
    );

    let out = talon_in(
        dir.path(),
        &["rules", "--coverage", "ml.toml", "broken.toml"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err, NONE_RUN);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some(
            "2 rules: 0 can run, 2 cannot (1 of an unsupported type, 1 with query errors); \
             0 building blocks; 0 load errors"
        ),
        "{stdout}"
    );

    // `hunt` over the same rules: the same last line, the same exit code.
    let mut c = talon();
    c.current_dir(dir.path())
        .args(["hunt", "--rules", "ml.toml", "--rules", "broken.toml"])
        .arg(demo_events());
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.ends_with(NONE_RUN), "{err}");

    // With one rule that runs, the list succeeds.
    write(
        dir.path(),
        "a.toml",
        &rule_text("Sysctl run", "a-1", "", SYSCTL),
    );
    let out = talon_in(dir.path(), &["rules", "ml.toml", "broken.toml", "a.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

/// `interval = " 5m"` and `from = "now-9m "` were read as if the spaces
/// were not there; Kibana refuses them. Each is a schedule error at its
/// value, as an unreadable value is, in `check` and `rules` alike.
#[test]
fn a_schedule_value_with_spaces_around_it_is_an_error_at_the_value() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spaced.toml",
        &rule_text(
            "Spaced",
            "spaced-1",
            "interval = \" 5m\"\nfrom = \"now-9m \"\n",
            SYSCTL,
        ),
    );
    const ERRORS: &str = "spaced.toml:8:12: error: cannot read interval = \" 5m\": whitespace \
        before or after the value, which Kibana refuses\n  |\n8 | interval = \" 5m\"\n  \
        |            ^^^^^\n\
        spaced.toml:9:8: error: cannot read from = \"now-9m \": whitespace before or after the \
        value, which Kibana refuses\n  |\n9 | from = \"now-9m \"\n  |        ^^^^^^^^^\n";
    let out = talon_in(dir.path(), &["check", "spaced.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), ERRORS);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 rule loaded from 1 file: 0 ok, 0 with query errors, 1 with schedule errors, \
         0 load errors, 0 warnings\n"
    );
    let out = talon_in(dir.path(), &["rules", "spaced.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), ERRORS);
}

/// A rule's `exceptions_list` entry with a `namespace_type` Kibana does
/// not have (`global`) loaded, and its list was then looked up in a
/// namespace that cannot exist. It is an error at the value; the rule
/// does not load.
#[test]
fn an_exceptions_list_namespace_type_other_than_single_or_agnostic_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let line = "exceptions_list = [{id = \"e1\", list_id = \"l1\", namespace_type = \"global\", \
                type = \"detection\"}]\n";
    write(
        dir.path(),
        "ns.toml",
        &rule_text("Namespaced", "ns-1", line, SYSCTL),
    );
    let column = line.find("\"global\"").unwrap() + 1;
    let out = talon_in(dir.path(), &["check", "ns.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!(
            "ns.toml:8:{column}: error: `exceptions_list` item 1: unknown `namespace_type` \
             \"global\" (expected single or agnostic)\n  |\n8 | {}  | {}^^^^^^^^\n",
            line,
            " ".repeat(column - 1)
        )),
        "{err}"
    );
    // `agnostic` and `single` load.
    for ns in ["agnostic", "single"] {
        write(
            dir.path(),
            "ns.toml",
            &rule_text("Namespaced", "ns-1", &line.replace("global", ns), SYSCTL),
        );
        let out = talon_in(dir.path(), &["check", "ns.toml"]);
        assert_eq!(out.status.code(), Some(0), "{ns}: {}", stderr(&out));
    }
}

/// A misspelt key in a `threat` entry (`refrence` in a technique) was
/// dropped in silence, while one in `[rule]` is a warning. It is the same
/// warning now, at the key, with the key it is closest to.
#[test]
fn an_unknown_key_in_a_threat_entry_is_a_warning_at_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let threat = "\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n\
                  [[rule.threat.technique]]\nid = \"T1090\"\nname = \"Proxy\"\n\
                  refrence = \"https://attack.mitre.org/techniques/T1090/\"\n\
                  [rule.threat.tactic]\nid = \"TA0011\"\nname = \"Command and Control\"\n\
                  reference = \"https://attack.mitre.org/tactics/TA0011/\"\n";
    let text = format!("{}{threat}", rule_text("Threatened", "t-1", "", SYSCTL));
    write(dir.path(), "t.toml", &text);
    let line = text
        .lines()
        .position(|l| l.starts_with("refrence"))
        .unwrap()
        + 1;
    let out = talon_in(dir.path(), &["check", "t.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err,
        format!(
            "t.toml:{line}:1: warning: unknown key `refrence` in [[rule.threat.technique]] (did \
             you mean `reference`?); talon ignores it, and detection-rules refuses it\n   |\n\
             {line} | refrence = \"https://attack.mitre.org/techniques/T1090/\"\n   | ^^^^^^^^\n"
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 rule loaded from 1 file: 1 ok, 0 with query errors, 0 load errors, 1 warning\n"
    );
}
