//! Null semantics as Elasticsearch returns them (null-semantics.md cases
//! (a)-(e)), and the seed rule on events whose parent fields are missing.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;

fn proc_doc() -> serde_json::Value {
    json!({"event": {"category": "process"}, "process": {"name": "bash"}})
}

#[test]
fn a_not_like_keeps_events_without_the_field() {
    let q = r#"process where not process.parent.name like~ ("privsep-helper", "platform-python*")"#;
    assert!(m(q, proc_doc()));
    assert!(!m(
        q,
        json!({"event.category": "process", "process.parent.name": "Platform-Python3"})
    ));
    assert!(m(
        q,
        json!({"event.category": "process", "process.parent.name": "sshd"})
    ));
}

#[test]
fn b_not_or_with_mapped_optional_field() {
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("process.parent.name", "keyword"),
            ("process.parent.args", "keyword"),
        ],
        &[],
    );
    let q = r#"process where not (process.parent.name like~ "x" or ?process.parent.args in ("/a", "/b"))"#;
    assert!(mm(
        q,
        &map,
        json!({"event.category": "process", "process.parent.name": "bash"})
    ));
    assert!(!mm(
        q,
        &map,
        json!({"event.category": "process", "process.parent.name": "bash", "process.parent.args": ["/b"]})
    ));
}

#[test]
fn c_not_equals_keeps_events_without_the_field() {
    assert!(m(r#"process where process.parent.name != "x""#, proc_doc()));
    assert!(!m(
        r#"process where process.parent.name != "x""#,
        json!({"event.category": "process", "process.parent.name": "x"})
    ));
}

#[test]
fn d_not_range_keeps_events_without_the_field() {
    assert!(m("process where not (exit_code > -1)", proc_doc()));
    assert!(!m(
        "process where not (exit_code > -1)",
        json!({"event.category": "process", "exit_code": 0})
    ));
    assert!(m(
        "process where not (exit_code > -1)",
        json!({"event.category": "process", "exit_code": -5})
    ));
}

#[test]
fn e_unmapped_optional_field_folds_to_null() {
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("process.parent.name", "keyword"),
        ],
        &[],
    );
    let q = r#"process where not (process.parent.name like~ "x" or ?process.parent.args in ("/a", "/b"))"#;
    let c = qm_compile(q, &map);
    assert!(!c.never_matches());
    assert!(c.matches(&ev(
        json!({"event.category": "process", "process.parent.name": "bash"})
    )));
    assert!(!c.matches(&ev(
        json!({"event.category": "process", "process.parent.name": "X"})
    )));
    // `not null` alone folds to null: the query is empty.
    let c = qm_compile(r#"process where not ?process.parent.args in ("/a")"#, &map);
    assert!(c.never_matches());
    assert!(!c.matches(&ev(json!({"event.category": "process"}))));
    // `?inexistent == null` is true everywhere; `?inexistent` alone matches none.
    assert!(mm(
        "process where ?inexistent == null",
        &map,
        json!({"event.category": "process"})
    ));
    assert!(qm_compile("process where ?inexistent", &map).never_matches());
    assert!(qm_compile("process where ?inexistent == 123", &map).never_matches());
}

#[test]
fn null_literals_fold_in_and_or() {
    assert!(q("any where null").never_matches());
    assert!(q("any where false").never_matches());
    assert!(q("any where true and null").never_matches());
    assert!(!q("any where x == 1 or null").never_matches());
    assert!(m("any where x == 1 or null", json!({"x": 1})));
    assert!(q("any where x == 1 and null").never_matches());
    assert!(q("any where null in (1, 2)").never_matches());
    assert!(q("any where x in (null)").never_matches());
    // `null == null` is IS NULL of null: true.
    assert!(m("any where null == null", json!({})));
}

#[test]
fn scripts_propagate_null_inside_and_are_two_valued_outside() {
    // IS NULL of a comparison on a missing field is true.
    assert!(m("any where null == (exit_code > -1)", json!({})));
    assert!(!m(
        "any where null == (exit_code > -1)",
        json!({"exit_code": 3})
    ));
    // Functions propagate null.
    assert!(m("any where concat(a, null) == null", json!({"a": "x"})));
    // `not` of a script negates the whole (multi-value) script: a missing
    // field is kept, like must_not.
    assert!(m("any where not (length(user) == 1)", json!({})));
    assert!(!m("any where length(user) == 1", json!({})));
    assert!(m(
        "any where substring(command_line, 5) not in (\"a\")",
        json!({})
    ));
}

fn corpus_dir() -> Option<std::path::PathBuf> {
    let base = std::env::var("TALON_CORPORA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| "/work/shared/corpora".into());
    base.is_dir().then_some(base)
}

fn seed_query() -> Option<String> {
    let dir = corpus_dir()?;
    let text = std::fs::read_to_string(dir.join("detection-rules/seed-rule.toml")).ok()?;
    let doc: toml::Value = toml::from_str(&text).ok()?;
    doc.get("rule")?.get("query")?.as_str().map(str::to_string)
}

fn linux_exec(cmd: &str, name: &str, args: &[&str]) -> serde_json::Value {
    json!({
        "event": {"category": "process", "type": ["start"], "action": "exec"},
        "host": {"os": {"type": "linux"}},
        "process": {"name": name, "args": args, "command_line": cmd}
    })
}

#[test]
fn seed_rule_on_events_without_parent_fields() {
    let Some(query) = seed_query() else {
        println!("skipped: corpus not found");
        return;
    };
    let c = q(&query);
    assert!(c.warnings().is_empty());
    // `?process.parent.executable != null` is required: without a parent
    // executable nothing alerts, even a textbook forwarding command.
    let no_parent = linux_exec(
        "sysctl -w net.ipv4.ip_forward=1",
        "sysctl",
        &["sysctl", "-w", "net.ipv4.ip_forward=1"],
    );
    assert!(!c.matches(&ev(no_parent.clone())));
    // With a parent executable but no parent name/args: the exclusions
    // (`not (... like~ ... or ...)`) keep it, so it alerts.
    let mut with_parent = no_parent;
    with_parent["process"]["parent"] = json!({"executable": "/usr/bin/bash"});
    assert!(c.matches(&ev(with_parent.clone())));
    // An excluded parent name suppresses it.
    with_parent["process"]["parent"]["name"] = json!("privsep-helper");
    assert!(!c.matches(&ev(with_parent.clone())));
    with_parent["process"]["parent"]["name"] = json!("Platform-Python3.9");
    assert!(!c.matches(&ev(with_parent.clone())));
    with_parent["process"]["parent"]["name"] = json!("bash");
    assert!(c.matches(&ev(with_parent.clone())));
    // sshd parent executable is excluded.
    with_parent["process"]["parent"]["executable"] = json!("/usr/sbin/sshd");
    assert!(!c.matches(&ev(with_parent)));
    // The shell branch needs `process.args == "-c"` (any element) and `echo `.
    let mut sh = linux_exec(
        "bash -c echo 1 > /proc/sys/net/ipv4/ip_forward",
        "bash",
        &["bash", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
    );
    sh["process"]["parent"] = json!({"executable": "/usr/bin/python3", "name": "python3"});
    assert!(c.matches(&ev(sh.clone())));
    sh["process"]["args"] = json!(["bash", "-x"]);
    assert!(!c.matches(&ev(sh)));
}
