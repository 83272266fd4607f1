//! `talon check --mapping` / `--schema`: queries verified against the
//! fields given, each error at its span; the schema shapes accepted.

mod common;

use std::path::Path;

use common::{run, talon};

fn rule(dir: &Path, file: &str, query: &str) -> std::path::PathBuf {
    let text = format!(
        "[metadata]\ncreation_date = \"2024/01/01\"\nmaturity = \"production\"\nupdated_date = \"2024/01/01\"\n\n\
         [rule]\nauthor = [\"t\"]\ndescription = \"d\"\nindex = [\"logs-*\"]\nlanguage = \"eql\"\nlicense = \"Elastic License v2\"\n\
         name = \"{file}\"\nrisk_score = 21\nrule_id = \"{file}\"\nseverity = \"low\"\ntype = \"eql\"\nquery = '''\n{query}\n'''\n"
    );
    let p = dir.join(format!("{file}.toml"));
    std::fs::write(&p, text).expect("write rule");
    p
}

fn check(args: &[&std::ffi::OsStr]) -> (String, String, Option<i32>) {
    let mut cmd = talon();
    cmd.arg("check").args(args);
    let out = run(cmd);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

const ECS_FLAT: &str = "'@timestamp':\n  dashed_name: timestamp\n  type: date\nevent.category:\n  type: keyword\nprocess.name:\n  type: keyword\n  multi_fields:\n  - flat_name: process.name.text\n    name: text\n    type: match_only_text\nprocess.pid:\n  type: long\n";

#[test]
fn a_schema_makes_unknown_fields_errors_and_optional_fields_null() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let unknown = rule(d, "unknown", "process where process.nmae == \"curl\"");
    let optional = rule(
        d,
        "optional",
        "process where ?process.maybe == null and process.name == \"curl\"",
    );
    let schema = d.join("ecs_flat.yml");
    std::fs::write(&schema, ECS_FLAT).expect("write schema");

    // Without a schema both compile (no mapping: any field may exist).
    let (out, _, code) = check(&[unknown.as_os_str(), optional.as_os_str()]);
    assert!(
        out.starts_with("2 rules loaded from 2 files: 2 ok, 0 with query errors"),
        "{out}"
    );
    assert_eq!(code, Some(0));

    let (out, err, code) = check(&[
        unknown.as_os_str(),
        optional.as_os_str(),
        "--schema".as_ref(),
        schema.as_os_str(),
    ]);
    assert!(
        out.starts_with("2 rules loaded from 2 files: 1 ok, 1 with query errors"),
        "{out}"
    );
    assert!(
        err.contains("unknown.toml:18:15: error: unknown field `process.nmae`"),
        "{err}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn wrong_types_and_arity_are_rejected_at_their_span_with_a_mapping_or_any_schema_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let typed = rule(d, "typed", "process where process.pid : \"12*\"");
    let arity = rule(d, "arity", "process where length(process.name, 2) > 1");
    let number = rule(d, "number", "process where process.pid == \"abc\"");
    let mapping = d.join("mapping.json");
    std::fs::write(
        &mapping,
        r#"{"mappings":{"properties":{"@timestamp":{"type":"date"},"event":{"properties":{"category":{"type":"keyword"}}},"process":{"properties":{"name":{"type":"keyword"},"pid":{"type":"long"}}}}}}"#,
    )
    .expect("write mapping");
    let flat_json = d.join("fields.json");
    std::fs::write(&flat_json, r#"{"logs-x": {"@timestamp": "date", "event.category": "keyword", "process.name": "keyword", "process.pid": "long"}}"#)
        .expect("write json schema");
    let list = d.join("fields.txt");
    std::fs::write(&list, "# field type\n@timestamp\nevent.category keyword\nprocess.name keyword\nprocess.pid long\n").expect("write list");

    let expect_errors = |flag: &str, file: &Path| {
        let (out, err, code) = check(&[
            typed.as_os_str(),
            arity.as_os_str(),
            number.as_os_str(),
            flag.as_ref(),
            file.as_os_str(),
        ]);
        assert!(
            out.starts_with("3 rules loaded from 3 files: 0 ok, 3 with query errors"),
            "{flag} {}: {out}",
            file.display()
        );
        assert!(
            err.contains("typed.toml:18:15: error: first argument of [process.pid : \"12*\"] must be [string], found value [process.pid] type [long]"),
            "{err}"
        );
        assert!(err.contains("arity.toml:18:36: error: error building [length]: expects exactly one argument, found 2"), "{err}");
        assert!(
            err.contains("number.toml:18:30: error: failed to parse [abc] as a number"),
            "{err}"
        );
        assert_eq!(code, Some(1));
    };
    expect_errors("--mapping", &mapping);
    expect_errors("--schema", &mapping);
    expect_errors("--schema", &flat_json);
    expect_errors("--schema", &list);
}

#[test]
fn an_unreadable_schema_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "process.name keyword extra\n").expect("write");
    let (_, err, code) = check(&["--schema".as_ref(), bad.as_os_str()]);
    assert!(
        err.contains(&format!(
            "talon: error: {}: line 1: expected `field [type]`",
            bad.display()
        )),
        "{err}"
    );
    assert_eq!(err.matches("bad.txt").count(), 1, "named once: {err}");
    assert_eq!(code, Some(2));
}
