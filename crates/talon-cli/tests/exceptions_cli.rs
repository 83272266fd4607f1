//! Exceptions and silencing through `talon hunt`: Kibana exception-list
//! exports with value lists, `talon.toml`, and the silence flags, over the
//! bundled rules and demo events (7 alerts without exceptions: 3 by
//! "IPv4/IPv6 Forwarding Switched On via sysctl or procfs" on ops-jump-01,
//! web-prod-02 and net-gw-03, and 4 by other rules, all on web-prod-02).

mod common;

use std::path::Path;

use common::{field, jsonl, repo, run, talon};

fn hunt(dir: &Path, args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let mut cmd = talon();
    cmd.current_dir(dir)
        .args(["hunt", "--format", "jsonl"])
        .args(args);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    (jsonl(&out), err)
}

fn hosts(alerts: &[serde_json::Value]) -> Vec<String> {
    let mut h: Vec<String> = alerts
        .iter()
        .filter_map(|a| {
            field(a, "host.name")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    h.sort();
    h
}

#[test]
fn silence_flags_suppress_and_count_per_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (alerts, err) = hunt(dir.path(), &["--silence-host", "WEB-PROD-*"]);
    assert_eq!(hosts(&alerts), ["net-gw-03", "ops-jump-01"]);
    // Silences are named as such (a fresh user read "by exceptions" and
    // looked for an exception list).
    assert!(
        err.contains("talon: 5 matches suppressed by silences\n"),
        "{err}"
    );
    assert!(
        err.contains("talon:        1  suppressed  Cron File Written by an Unexpected Process\n"),
        "{err}"
    );
    assert!(
        err.contains(
            "talon:        1  suppressed  IPv4/IPv6 Forwarding Switched On via sysctl or procfs\n"
        ),
        "{err}"
    );

    let (alerts, err) = hunt(dir.path(), &["--silence-rule", "ipv4/ipv6 forwarding*"]);
    assert_eq!(alerts.len(), 4);
    assert!(
        err.contains(
            "talon:        3  suppressed  IPv4/IPv6 Forwarding Switched On via sysctl or procfs\n"
        ),
        "{err}"
    );

    let (alerts, _) = hunt(
        dir.path(),
        &["--silence-rule", "95719b51-e9e0-446d-8fe3-b0ab368dbd75"],
    );
    assert_eq!(alerts.len(), 4);
}

#[test]
fn talon_toml_exceptions_and_silence_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("talon.toml"),
        r#"
[stream]
brokers = "ignored by hunt"

[silence]
rules = ["Reverse Shell via*"]

[[exceptions]]
rule_name = "IPv4/IPv6 Forwarding*"
name = "the gateway forwards on purpose"
entries = [
  { field = "host.name", operator = "is one of", type = "match_any", value = ["net-gw-03", "other"] },
  { field = "user.name", operator = "included", type = "match", value = "root" },
]
"#,
    )
    .expect("write talon.toml");
    // ./talon.toml is read by default.
    let (alerts, err) = hunt(dir.path(), &[]);
    assert_eq!(alerts.len(), 5, "{err}");
    assert!(!hosts(&alerts).contains(&"net-gw-03".to_string()));
    // Each kind is counted as it applied (a second fresh user saw "by
    // exceptions or silences" when only the silences had applied).
    assert!(
        err.contains("talon: 2 matches suppressed by exceptions (1) and silences (1)\n"),
        "{err}"
    );
    let only_silences = std::fs::read_to_string(dir.path().join("talon.toml"))
        .unwrap()
        .replace("\"net-gw-03\", \"other\"", "\"nothing\"");
    std::fs::write(dir.path().join("talon.toml"), only_silences).unwrap();
    let (_, err) = hunt(dir.path(), &[]);
    assert!(
        err.contains("talon: 1 match suppressed by silences\n"),
        "{err}"
    );

    // --config names another file; a bad entry is an error naming it.
    let err = config_error(
        dir.path(),
        "bad.toml",
        "[[exceptions]]\nrule_id = \"x\"\nentries = [{ field = \"a\", operator = \"sometimes\", type = \"match\", value = \"b\" }]\n",
    );
    assert_eq!(
        err,
        "talon: error: bad.toml:3:38: exception item `bad.toml#1`: entry on `a`: unknown \
         operator `sometimes`\n  |\n\
         3 | entries = [{ field = \"a\", operator = \"sometimes\", type = \"match\", value = \"b\" }]\n  \
         |                                      ^^^^^^^^^^^\n"
    );

    // An entry without a value says what a value may be: a number was
    // taken as its text while the message asked for a string.
    let err = config_error(
        dir.path(),
        "novalue.toml",
        "[[exceptions]]\nrule_id = \"x\"\nentries = [{ field = \"a\", operator = \"included\", type = \"match\" }]\n",
    );
    assert!(
        err.contains(
            "entry `match` on `a` needs a `value` (a string; a number or true/false is read as its text)"
        ),
        "{err}"
    );

    // A rule_name that is not a string is called so, at its place (it was
    // "give exactly one of rule_id or rule_name").
    let err = config_error(
        dir.path(),
        "number.toml",
        "[[exceptions]]\nrule_name = 5\nentries = []\n",
    );
    assert_eq!(
        err,
        "talon: error: number.toml:2:13: [[exceptions]] #1: rule_name must be a string\n  |\n\
         2 | rule_name = 5\n  |             ^\n"
    );

    // A file that is not TOML is named at its place, as the entries are
    // (it was `bad.toml: invalid TOML` with the parser's own wording).
    let err = config_error(dir.path(), "broken.toml", "[silence]\nrules = \"x\n");
    assert_eq!(
        err,
        "talon: error: broken.toml:2:11: invalid TOML: invalid basic string\n  |\n\
         2 | rules = \"x\n  |           ^\n"
    );
    // As in a rule file, a multi-line string left open is shown where it
    // opens, not at the end of the file.
    let err = config_error(dir.path(), "open.toml", "[silence]\nrules = [\"\"\"x\n\n\n");
    assert!(
        err.starts_with(
            "talon: error: open.toml:2:10: invalid TOML: invalid multiline basic string: this \
             string is never closed (no \"\"\" after it)\n"
        ),
        "{err}"
    );
}

/// `talon hunt --config NAME` in `dir` with `NAME` holding `text`, which
/// must be refused (exit 2): its stderr.
fn config_error(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).expect("write the config");
    let mut cmd = talon();
    cmd.current_dir(dir).args(["hunt", "--config", name]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{name}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn kibana_export_with_value_list_binds_by_exceptions_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let original = std::fs::read_to_string(
        repo().join("rules/linux/privilege_escalation_setuid_setgid_bit_via_chmod.toml"),
    )
    .expect("bundled rule");
    let with_list = original.replacen(
        "[rule]\n",
        "[rule]\nexceptions_list = [{id = \"5e1f\", list_id = \"ops-fp\", namespace_type = \"single\", type = \"detection\"}]\n",
        1,
    );
    assert_ne!(with_list, original);
    std::fs::write(d.join("setuid.toml"), with_list).expect("write rule");
    std::fs::write(d.join("admins.txt"), "root\nadmin\n").expect("write value list");
    std::fs::write(
        d.join("exceptions.ndjson"),
        concat!(
            r#"{"list_id":"ops-fp","type":"detection","namespace_type":"single","name":"Ops false positives"}"#, "\n",
            r#"{"item_id":"admins-chmod","list_id":"ops-fp","namespace_type":"single","name":"admins may chmod","type":"simple","entries":[{"field":"user.name","operator":"included","type":"list","list":{"id":"admins","type":"keyword"}},{"field":"process.name","operator":"included","type":"match","value":"chmod"}]}"#, "\n",
            r#"{"item_id":"big","list_id":"ops-fp","namespace_type":"single","name":"text list","type":"simple","entries":[{"field":"process.name","operator":"included","type":"list","list":{"id":"names","type":"text"}}]}"#, "\n",
            r#"{"exported_exception_list_count":1,"exported_exception_list_item_count":2}"#, "\n",
        ),
    )
    .expect("write export");
    let demo = repo().join("demo/events.ndjson");
    let demo = demo.to_string_lossy();
    let (alerts, err) = hunt(d, &["--rules", "setuid.toml", &demo]);
    assert_eq!(alerts.len(), 1, "without the export the rule alerts: {err}");
    assert!(
        err.contains("exception list `ops-fp` (single) is not loaded"),
        "{err}"
    );

    let (alerts, err) = hunt(
        d,
        &[
            "--rules",
            "setuid.toml",
            "--exceptions",
            "exceptions.ndjson",
            "--value-list",
            "admins=admins.txt",
            &demo,
        ],
    );
    assert_eq!(alerts.len(), 0, "{err}");
    assert!(
        err.contains("talon: 1 match suppressed by exceptions\n"),
        "{err}"
    );
    assert!(
        err.contains("talon: warning: rule \"Setuid or Setgid Bit Set with chmod\": The following exceptions won't be applied to rule execution: text list"),
        "{err}"
    );

    // The value list decides: without root in it, the alert is back.
    std::fs::write(d.join("admins.txt"), "admin\n").expect("rewrite value list");
    let (alerts, _) = hunt(
        d,
        &[
            "--rules",
            "setuid.toml",
            "--exceptions",
            "exceptions.ndjson",
            "--value-list",
            "admins=admins.txt",
            &demo,
        ],
    );
    assert_eq!(alerts.len(), 1);

    // One list id given twice: the later file replaced the earlier without
    // a word (here `root` would have been dropped, and the alert let out).
    std::fs::write(d.join("more.txt"), "root\n").expect("write value list");
    let mut c = talon();
    c.current_dir(d).args([
        "hunt",
        "--rules",
        "setuid.toml",
        "--exceptions",
        "exceptions.ndjson",
        "--value-list",
        "admins=more.txt",
        "--value-list",
        " admins=admins.txt",
        &demo,
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "talon: error: --value-list admins is given twice (more.txt and admins.txt): a list \
         has one file; put all its values in one\n"
    );
    assert!(out.stdout.is_empty());

    // Without --value-list for `admins`, the item is not applied and the
    // alert goes out, as Kibana does; the warning said only the item's
    // name, not that a value list was missing.
    let (alerts, err) = hunt(
        d,
        &[
            "--rules",
            "setuid.toml",
            "--exceptions",
            "exceptions.ndjson",
            &demo,
        ],
    );
    assert_eq!(alerts.len(), 1, "{err}");
    assert!(
        err.contains(
            "The following exceptions won't be applied to rule execution: admins may chmod, \
             text list (admins may chmod: value list `admins` is not loaded (--value-list \
             admins=FILE); text list: value list `names` is not loaded (--value-list names=FILE))"
        ),
        "{err}"
    );
}

/// A silence, a `talon.toml` exception or an exception list that applies
/// to no rule that runs (a misspelt id, an export of lists no rule names,
/// a file that is no export at all) excepted nothing without a word.
/// Each is now a warning naming it; the alerts are the 7 of no exceptions.
#[test]
fn exceptions_and_silences_that_apply_to_nothing_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("talon.toml"),
        "[[exceptions]]\nrule_id = \"nope\"\nname = \"misspelt\"\nentries = [{ field = \"host.name\", operator = \"included\", type = \"match\", value = \"x\" }]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("lists.ndjson"),
        r#"{"list_id":"orphan","type":"detection","namespace_type":"single","name":"Orphan","description":"d"}
{"item_id":"i1","list_id":"orphan","namespace_type":"single","name":"one","type":"simple","entries":[{"field":"host.name","operator":"included","type":"match","value":"x"}]}
"#,
    )
    .expect("write");
    let demo = repo().join("demo/events.ndjson");
    let rules = repo().join("rules");
    let demo = demo.to_str().unwrap();
    let (alerts, err) = hunt(
        dir.path(),
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--silence-rule",
            "Nothing Like This*",
            "--exceptions",
            "lists.ndjson",
            "--exceptions",
            demo,
            demo,
        ],
    );
    assert_eq!(alerts.len(), 7, "{err}");
    for want in [
        "talon: warning: silence `Nothing Like This*` names no rule that runs (by rule_id or name glob): it silences nothing".to_string(),
        "talon: warning: exception `misspelt` (rule_id = \"nope\") applies to no rule that runs".to_string(),
        "talon: warning: exception list `orphan` (single) is named in no running rule's exceptions_list: its 1 item(s) apply to nothing".to_string(),
        format!("talon: warning: {demo} holds no exception list or item (objects with `list_id`, and `item_id` for items): it excepts nothing"),
    ] {
        assert!(err.contains(&want), "no `{want}` in:\n{err}");
    }
}

/// A Kibana API rule (one NDJSON line) alerting on `chmod`, naming the
/// exception list `my-ex`.
const CHMOD_RULE: &str = r#"{"rule_id":"7a1e0000-0000-4000-8000-000000000001","name":"chmod seen","description":"d","type":"eql","language":"eql","query":"process where process.name == \"chmod\"","risk_score":21,"severity":"low","index":["logs-*"],"exceptions_list":[{"id":"e1","list_id":"my-ex","namespace_type":"single","type":"detection"}]}"#;

/// `events.ndjson` in `d`: a `chmod` on host `a` and one on host `b`.
fn write_chmod_events(d: &Path) {
    let events = ["a", "b"]
        .map(|h| {
            format!(
                r#"{{"@timestamp":"2026-01-01T00:00:00Z","event":{{"category":["process"]}},"host":{{"name":"{h}"}},"process":{{"name":"chmod"}},"data_stream":{{"type":"logs","dataset":"x","namespace":"default"}}}}"#
            )
        })
        .join("\n");
    std::fs::write(d.join("events.ndjson"), events).expect("write events");
}

/// The exception items a Kibana rule export carries are held to what an
/// `--exceptions` file is: one that cannot be used is an error at its
/// value (`hunt` stops, exit 2; `check` counts it, exit 1). Before, it was
/// a warning without a place, and the rule alerted on what it excepts.
#[test]
fn an_unusable_exception_in_a_rule_export_is_an_error_at_its_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let export = |entry_type: &str| {
        [
            CHMOD_RULE.to_string(),
            r#"{"list_id":"my-ex","type":"detection","namespace_type":"single","name":"mine","description":"d"}"#.to_string(),
            format!(
                r#"{{"item_id":"it1","list_id":"my-ex","namespace_type":"single","name":"not on a","type":"simple","entries":[{{"field":"host.name","operator":"included","type":"{entry_type}","value":"a"}}]}}"#
            ),
        ]
        .join("\n")
    };
    write_chmod_events(d);

    std::fs::write(d.join("good.ndjson"), export("match")).expect("write export");
    let (alerts, err) = hunt(d, &["--rules", "good.ndjson", "events.ndjson"]);
    assert_eq!(hosts(&alerts), ["b"], "{err}");
    assert!(
        err.contains("talon: 1 match suppressed by exceptions\n"),
        "{err}"
    );

    std::fs::write(d.join("bad.ndjson"), export("matchy")).expect("write export");
    let line3 = export("matchy").lines().nth(2).expect("line 3").to_string();
    let column = line3.find("matchy").expect("value") + 1;
    let message = format!(
        "talon: error: bad.ndjson:3:{column}: exception item `it1`: entry on `host.name`: \
         unknown type `matchy` (expected match, match_any, wildcard, exists, list or nested)\n"
    );
    let mut c = talon();
    c.current_dir(d).args([
        "hunt",
        "--format",
        "jsonl",
        "--rules",
        "bad.ndjson",
        "events.ndjson",
    ]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "no alert without its exception");
    assert!(err.starts_with(&message), "{err}");
    assert!(err.contains("^^^^^^"), "a caret under the value: {err}");

    let mut c = talon();
    c.current_dir(d).args(["check", "bad.ndjson"]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with(&message), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("1 rule loaded from 1 file: 1 ok, 0 with query errors, 1 load error, 0 warnings")
    );
}

/// A saved-objects export holds its exception items as `{"type":
/// "exception-list", "attributes": {...}}`. They were dropped without a
/// word, good or bad: the good one suppressed nothing, the bad one was no
/// error. Now they apply, and a bad one is the same error at its value.
#[test]
fn exceptions_in_saved_object_form_apply_and_their_errors_are_placed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let rule = CHMOD_RULE;
    let list = r#"{"type":"exception-list","id":"x","attributes":{"list_id":"my-ex","list_type":"list","type":"detection","name":"mine","description":"d"}}"#;
    let item = |entry_type: &str| {
        format!(
            r#"{{"type":"exception-list","id":"y","attributes":{{"item_id":"it1","list_id":"my-ex","list_type":"item","name":"not on a","type":"simple","entries":[{{"field":"host.name","operator":"included","type":"{entry_type}","value":"a"}}]}}}}"#
        )
    };
    write_chmod_events(d);
    std::fs::write(
        d.join("good.ndjson"),
        [rule, list, &item("match")].join("\n"),
    )
    .expect("write export");
    let (alerts, err) = hunt(d, &["--rules", "good.ndjson", "events.ndjson"]);
    assert_eq!(hosts(&alerts), ["b"], "{err}");
    assert!(
        err.contains("talon: 1 match suppressed by exceptions\n"),
        "{err}"
    );

    let bad = [rule, list, &item("matchy")].join("\n");
    std::fs::write(d.join("bad.ndjson"), &bad).expect("write export");
    let line3 = bad.lines().nth(2).expect("line 3");
    let column = line3.find("matchy").expect("value") + 1;
    let mut c = talon();
    c.current_dir(d).args(["check", "bad.ndjson"]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!(
            "talon: error: bad.ndjson:3:{column}: exception item `it1`: entry on `host.name`: unknown type `matchy`"
        )),
        "{err}"
    );
}

/// A namespace Kibana does not have (`"global"`) on a rule export's
/// exception list, or on its rule's `exceptions_list` entry, was taken as
/// written, and the list then bound to nothing. Each is an error at the
/// value: the list's in `check` (exit 1) and `hunt` (exit 2), as other
/// unusable exceptions are; the rule's is a load error of the rule.
#[test]
fn a_namespace_type_other_than_single_or_agnostic_is_an_error_at_its_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_chmod_events(d);
    let list = r#"{"list_id":"my-ex","type":"detection","namespace_type":"global","name":"mine","description":"d"}"#;
    let export = [CHMOD_RULE, list].join("\n");
    std::fs::write(d.join("bad.ndjson"), &export).expect("write export");
    let column = list.find("global").expect("value") + 1;
    let message = format!(
        "talon: error: bad.ndjson:2:{column}: exception list `my-ex`: unknown `namespace_type` \
         \"global\" (expected single or agnostic)\n  |\n2 | {list}\n  | {}^^^^^^\n",
        " ".repeat(column - 1)
    );
    let mut c = talon();
    c.current_dir(d).args(["check", "bad.ndjson"]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err, message);

    let mut c = talon();
    c.current_dir(d).args([
        "hunt",
        "--format",
        "jsonl",
        "--rules",
        "bad.ndjson",
        "events.ndjson",
    ]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with(&message), "{err}");
    assert!(out.stdout.is_empty());

    // On the rule's own reference: the rule does not load.
    let rule = CHMOD_RULE.replace(
        r#""namespace_type":"single""#,
        r#""namespace_type":"global""#,
    );
    std::fs::write(d.join("bad-ref.ndjson"), &rule).expect("write export");
    let column = rule.find("\"global\"").expect("value") + 1;
    let mut c = talon();
    c.current_dir(d).args(["check", "bad-ref.ndjson"]);
    let out = run(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!(
            "bad-ref.ndjson:1:{column}: error: `exceptions_list` item 1: unknown \
             `namespace_type` \"global\" (expected single or agnostic)\n"
        )),
        "{err}"
    );
}
