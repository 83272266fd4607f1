//! Regressions from a fresh user's test: rule folders whose files hold no
//! rule, `rule show` on a query that does not parse, an export summary
//! counted against broken lines, mappings Elasticsearch refuses, what an
//! unknown field's hint says under `--schema`, and the name of a `--config`
//! file's exception items.

mod common;

use std::path::Path;

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn talon_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = talon();
    c.current_dir(dir).args(args);
    run(c)
}

/// A folder holding only an empty `.toml` used to be "0 rules loaded from 1
/// file: 0 ok, ..." and exit 0, and `rules` printed nothing: no rule was
/// found, and both say so and exit 1, naming the file and why.
#[test]
fn a_folder_of_one_empty_toml_holds_no_rule_and_says_so() {
    let dir = scratch();
    std::fs::create_dir(dir.path().join("e")).unwrap();
    std::fs::write(dir.path().join("e/empty.toml"), "").unwrap();
    let want = "talon: error: no rules found in e; skipped e/empty.toml (empty file: no [rule] \
                table in it)\n";
    for cmd in ["check", "rules"] {
        let out = talon_in(dir.path(), &[cmd, "e"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{cmd}");
        assert_eq!(stderr(&out), want, "{cmd}");
    }
    // Named directly, it is an error at its place.
    let out = talon_in(dir.path(), &["check", "e/empty.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "e/empty.toml: error: empty file: no [rule] table in it\n"
    );
}

/// Two empty `.toml` files and one holding only `[metadata]`: "from 3
/// files ... 1 failed", and the other two were unaccounted for. They are
/// named in the summary, and with no rule at all both commands exit 1.
#[test]
fn every_file_of_a_rule_folder_is_accounted_for_in_the_summary() {
    let dir = scratch();
    let e = dir.path().join("e");
    std::fs::create_dir(&e).unwrap();
    std::fs::write(e.join("a.toml"), "").unwrap();
    std::fs::write(e.join("b.toml"), "\n").unwrap();
    std::fs::write(e.join("m.toml"), "[metadata]\nmaturity = \"production\"\n").unwrap();
    let metadata_error =
        "e/m.toml:1:1: error: no [rule] table in this file\n  |\n1 | [metadata]\n  | ^^^^^^^^^^\n";

    let out = talon_in(dir.path(), &["check", "e"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "0 rules loaded from 3 files: 0 ok, 0 with query errors, 1 load error, 0 warnings\n  2 files skipped, holding no rule: e/a.toml (empty file: no \
         [rule] table in it), e/b.toml (empty file: no [rule] table in it)\n"
    );
    assert_eq!(stderr(&out), metadata_error);

    let out = talon_in(dir.path(), &["rules", "e"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("{metadata_error}talon: error: no rule loaded from e: 1 load error\n")
    );

    // Beside a rule, a file holding none is named, and is not an error.
    std::fs::remove_file(e.join("m.toml")).unwrap();
    let rule = std::fs::read_to_string(repo().join(FORWARDING)).unwrap();
    std::fs::write(e.join("r.toml"), rule).unwrap();
    let out = talon_in(dir.path(), &["check", "e"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "1 rule loaded from 3 files: 1 ok, 0 with query errors, 0 load errors, 0 warnings\n  2 files skipped, holding no rule: e/a.toml (empty file: no \
         [rule] table in it), e/b.toml (empty file: no [rule] table in it)\n"
    );
    let out = talon_in(dir.path(), &["rules", "e"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1);
}

/// `rule show` on a rule whose query does not parse printed it all and
/// exited 0 without a word about the error: it still shows the rule, then
/// the error with its caret, as `check` does, and exits 1.
#[test]
fn rule_show_reports_a_query_that_does_not_parse() {
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join(FORWARDING)).unwrap();
    let bad = text.replace("process.name == \"sysctl\"", "process.name == 'sysctl'");
    assert_ne!(bad, text);
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = talon_in(dir.path(), &["rule", "show", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("\n      (process.name == 'sysctl' and process.args like"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out),
        "bad.toml:95:22: error: single-quoted strings are not supported\n   |\n\
         95 |     (process.name == 'sysctl' and process.args like (\"*=*\", \"*-w*\", \"*--write*\")) or\n   \
         |                      ^^^^^^^^\n   = hint: use double quotes: \"sysctl\"\n"
    );
    // The rule as it is shows without a word, and exits 0.
    let out = talon_in(&repo(), &["rule", "show", FORWARDING]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}

/// A rule without `index` searches Kibana's default index patterns, one
/// with an empty (or blank) list every index; `rule show` printed an empty
/// `index` line, then said "every index" for both.
#[test]
fn rule_show_says_which_indices_a_rule_without_index_searches() {
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join(FORWARDING)).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("index = "))
        .expect("an index line");
    let defaults = "(none given: Kibana's default index patterns) apm-*-transaction*, \
                    auditbeat-*, endgame-*, filebeat-*, logs-*, packetbeat-*, traces-apm*, \
                    winlogbeat-*, -*elastic-cloud-logs-*";
    let every = "(no pattern given: every index is searched)";
    for (name, index, shown) in [
        ("none.toml", "", defaults),
        ("empty.toml", "index = []", every),
        ("blank.toml", "index = [\"\"]", every),
        (
            "view.toml",
            "data_view_id = \"dv-1\"",
            "(data view `dv-1`: its patterns are unknown, every index is searched)",
        ),
    ] {
        std::fs::write(dir.path().join(name), text.replace(line, index)).unwrap();
        let out = talon_in(dir.path(), &["rule", "show", name]);
        assert!(
            stdout(&out).contains(&format!("\n  index                {shown}\n")),
            "{name}: {}",
            stdout(&out)
        );
    }
    let out = talon_in(&repo(), &["rule", "show", FORWARDING]);
    assert!(
        stdout(&out).contains("\n  index                endgame-*, logs-crowdstrike.fdr*, "),
        "{}",
        stdout(&out)
    );
}

/// An export of 4 rule lines, one of them broken JSON, and a summary line
/// saying 5 were exported: the warning said the file "holds 3".
#[test]
fn an_export_summary_counts_broken_lines_apart_from_rules_read() {
    let dir = scratch();
    let rule = |i: u32| {
        format!(
            r#"{{"rule_id":"r{i}","name":"Rule {i}","type":"eql","language":"eql","query":"process where true","risk_score":21,"severity":"low","description":"d"}}"#
        )
    };
    let text = format!(
        "{}\n{}\n{{\"rule_id\":\"r3\",\"name\":\n{}\n{{\"exported_count\":5,\"exported_rules_count\":5,\"missing_rules\":[],\"missing_rules_count\":0}}\n",
        rule(1),
        rule(2),
        rule(4)
    );
    std::fs::write(dir.path().join("export.ndjson"), text).unwrap();
    let out = talon_in(dir.path(), &["check", "export.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let warning = err
        .lines()
        .find(|l| l.contains("warning:"))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        warning,
        "export.ndjson:5:1: warning: the export summary says 5 rule(s) were exported, but this \
         file holds 4 rule lines, of which 3 can be read (1 not valid JSON)"
    );
    assert!(
        err.starts_with("export.ndjson:3:23: error: invalid JSON: EOF while parsing a value"),
        "{err}"
    );
    assert_eq!(
        stdout(&out),
        "3 rules loaded from 1 file: 3 ok, 0 with query errors, 1 load error, 1 warning\n"
    );
}

/// Mappings Elasticsearch refuses were accepted, and then `x` was an
/// unknown field with the hint "did you mean `x`?". Each is now an error
/// naming the file and the field, exit 2, before anything is read.
#[test]
fn a_mapping_elasticsearch_refuses_is_a_usage_error() {
    let dir = scratch();
    let cases = [
        (
            r#"{"mappings":{"properties":{"x":{"type":"nonsense"}}}}"#,
            "field `x` has the type `nonsense`, which is not an Elasticsearch field type \
             (Elasticsearch refuses the mapping: no handler for type [nonsense] declared on \
             field [x])",
        ),
        (
            r#"{"mappings":{"properties":{"x":{"type":"alias","path":"nope"}}}}"#,
            "alias `x` has the path `nope`, which is not a field of this mapping; \
             Elasticsearch refuses an alias that does not refer to an existing field",
        ),
        (
            r#"{"mappings":{"properties":{"x":{"type":"alias","path":"y"},"y":{"type":"alias","path":"x"}}}}"#,
            "alias `x` has the path `y`, which is itself an alias (of `x`); Elasticsearch \
             refuses an alias of an alias",
        ),
    ];
    std::fs::write(dir.path().join("events.ndjson"), "{\"x\": 1}\n").unwrap();
    let rule = repo().join(FORWARDING).display().to_string();
    for (json, message) in cases {
        std::fs::write(dir.path().join("m.json"), json).unwrap();
        for args in [
            [
                "query",
                "process where x == 1",
                "events.ndjson",
                "--mapping",
                "m.json",
            ],
            ["check", "--mapping", "m.json", &rule, "-q"],
        ] {
            let out = talon_in(dir.path(), &args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "", "{args:?}");
            assert_eq!(
                stderr(&out),
                format!("talon: error: m.json: {message}\n"),
                "{args:?}"
            );
        }
    }
}

const ECS_FLAT: &str = "event.category:\n  flat_name: event.category\n  type: keyword\n\
    process.name:\n  flat_name: process.name\n  type: keyword\n";

/// Under `--schema`, an unknown field's hint spoke of "the mapping" and of
/// `GET <index>/_mapping`, and guessed nothing for a typo; a missing schema
/// file "cannot read mapping".
#[test]
fn an_unknown_field_under_a_schema_speaks_of_the_schema_and_guesses() {
    let dir = scratch();
    std::fs::write(dir.path().join("ecs_flat.yml"), ECS_FLAT).unwrap();
    std::fs::write(
        dir.path().join("r.toml"),
        "[rule]\nname = \"N\"\nrule_id = \"r1\"\ntype = \"eql\"\nlanguage = \"eql\"\n\
         risk_score = 21\nseverity = \"low\"\ndescription = \"d\"\n\
         query = 'process where process.nme == \"a\" or host.os.type == \"h\"'\n",
    )
    .unwrap();
    let out = talon_in(dir.path(), &["check", "--schema", "ecs_flat.yml", "r.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "r.toml:9:24: error: unknown field `process.nme`\n  |\n\
         9 | query = 'process where process.nme == \"a\" or host.os.type == \"h\"'\n  \
         |                        ^^^^^^^^^^^\n  = hint: did you mean `process.name`?\n\
         r.toml:9:46: error: unknown field `host.os.type`\n  |\n\
         9 | query = 'process where process.nme == \"a\" or host.os.type == \"h\"'\n  \
         |                                              ^^^^^^^^^^^^\n  \
         = hint: the schema does not have it: write `?host.os.type` if some events lack it, or \
         give a schema that defines it too (--schema can be repeated)\n"
    );

    let out = talon_in(dir.path(), &["check", "--schema", "nope.yml", "r.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "talon: error: nope.yml: cannot read schema: No such file or directory (os error 2)\n"
    );
}

/// `--config bad2.toml` with a bad `[[exceptions]]` entry named the item
/// `talon.toml#1`.
#[test]
fn a_config_files_exception_items_are_named_after_it() {
    let dir = scratch();
    std::fs::write(
        dir.path().join("bad2.toml"),
        "[[exceptions]]\nrule_id = \"x\"\n\
         entries = [{ field = \"a\", operator = \"included\", type = \"bogus\", value = \"b\" }]\n",
    )
    .unwrap();
    let out = talon_in(dir.path(), &["hunt", "--config", "bad2.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "talon: error: bad2.toml:3:57: exception item `bad2.toml#1`: entry on `a`: unknown type \
         `bogus` (expected match, match_any, wildcard, exists, list or nested)\n  |\n\
         3 | entries = [{ field = \"a\", operator = \"included\", type = \"bogus\", value = \"b\" }]\n  \
         |                                                         ^^^^^^^\n"
    );
}

/// `check` on a path that does not exist: its summary does not say "0
/// files" beside "1 file ... that failed to load"; the path is a load
/// error, named on stderr.
#[test]
fn a_missing_path_is_one_load_error_in_checks_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = talon_in(dir.path(), &["check", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "0 rules loaded from 0 files: 0 ok, 0 with query errors, 1 load error, 0 warnings\n"
    );
    assert_eq!(stderr(&out), "nope: error: no such file or directory\n");
}
