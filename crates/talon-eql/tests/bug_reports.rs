//! The event-query rows of docs/bug-reports.md (1-8, 10-16, 18-21, 26, 27,
//! 29, 31), each with the answer the maintainers settled on for
//! Elasticsearch.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;
use talon_eql::{compile_str, CompileOptions};

fn proc(fields: serde_json::Value) -> serde_json::Value {
    let mut d = fields;
    d["event.category"] = json!("process");
    d
}

#[test]
fn row01_equals_is_exact_and_case_sensitive() {
    assert!(!m(
        r#"process where process.name == "A""#,
        proc(json!({"process.name": "a"}))
    ));
    // `"ab" in ("a*")`: no wildcards in `in`; folds to false.
    assert!(q(r#"any where "ab" in ("a*")"#).never_matches());
}

#[test]
fn row02_colon_folds_case() {
    assert!(m(
        r#"process where process.name : "BASH""#,
        proc(json!({"process.name": "bash"}))
    ));
    assert!(!m(
        r#"process where process.name == "BASH""#,
        proc(json!({"process.name": "bash"}))
    ));
}

#[test]
fn row03_like_and_like_tilde() {
    let d = proc(json!({"process.command_line": "sysctl -w net.ipv4.ip_forward=1"}));
    assert!(!m(
        r#"process where process.command_line like "*NET.IPV4*""#,
        d.clone()
    ));
    assert!(m(
        r#"process where process.command_line like~ "*NET.IPV4*""#,
        d.clone()
    ));
    // A list is an OR of the patterns.
    let list = m(
        r#"process where process.command_line like ("a*", "sys*")"#,
        d.clone(),
    );
    let or = m(
        r#"process where process.command_line like "a*" or process.command_line like "sys*""#,
        d,
    );
    assert!(list && or);
}

#[test]
fn row04_in_tilde_is_membership_not_patterns() {
    assert!(!m(
        r#"process where process.name in~ ("explorer*")"#,
        proc(json!({"process.name": "explorer.exe"}))
    ));
    assert!(m(
        r#"process where process.name in~ ("EXPLORER.EXE")"#,
        proc(json!({"process.name": "explorer.exe"}))
    ));
}

#[test]
fn row05_question_mark_is_exactly_one_character() {
    assert!(m(r#"any where f : "a?c""#, json!({"f": "abc"})));
    assert!(!m(r#"any where f : "a?c""#, json!({"f": "ac"})));
    assert!(m(r#"any where f like "a?c""#, json!({"f": "abc"})));
    assert!(!m(r#"any where f like "a?c""#, json!({"f": "ac"})));
}

#[test]
fn row06_equals_star_matches_only_a_literal_star() {
    assert!(!m(
        r#"process where process.name == "*""#,
        proc(json!({"process.name": "bash"}))
    ));
    assert!(m(
        r#"process where process.name == "*""#,
        proc(json!({"process.name": "*"}))
    ));
}

#[test]
fn row07_equals_with_a_pattern_never_fires() {
    let d = json!({"event.category": "file", "file.path": "/Library/Application Support/com.apple.TCC/TCC.db"});
    let c = q(r#"file where file.path == "*TCC.db""#);
    assert!(!c.matches(&ev(d.clone())));
    assert_eq!(c.warnings().len(), 1);
    assert!(m(r#"file where file.path like "*TCC.db""#, d));
}

#[test]
fn row08_field_queries_match_any_array_element() {
    let d = proc(json!({"process.args": ["sysctl", "-w", "x=1"]}));
    // startsWith on a field is a prefix query: any element.
    assert!(m(
        r#"process where startsWith(process.args, "-w")"#,
        d.clone()
    ));
    assert!(m(r#"process where process.args == "-w""#, d.clone()));
    assert!(m(r#"process where process.args in ("x=1")"#, d.clone()));
    assert!(m(r#"process where process.args like "x=*""#, d));
    let sh = proc(json!({"process.args": ["bash", "-c", "echo 1"]}));
    assert!(m(r#"process where process.args == "-c""#, sh));
}

#[test]
fn row10_unmapped_optional_field_is_null_not_an_error() {
    let map = mapping(
        &[("event.category", "keyword"), ("process.name", "keyword")],
        &[],
    );
    let c = qm_compile("process where ?process.parent.executable != null", &map);
    assert!(c.never_matches());
    assert!(!c.matches(&ev(proc(json!({"process.name": "x"})))));
}

#[test]
fn row11_optional_marks_fields_some_sources_lack() {
    let map = mapping(
        &[("event.category", "keyword"), ("process.name", "keyword")],
        &[],
    );
    let plain = r#"process where process.name == "x" and process.parent.args == "/x""#;
    assert_eq!(err_m(plain, &map), "unknown field `process.parent.args`");
    let optional = r#"process where process.name == "x" and ?process.parent.args == "/x""#;
    assert!(qm_compile(optional, &map).never_matches());
    // `null == "/x"` is IS NULL of "/x" (false), so its negation keeps all.
    let excluded = r#"process where process.name == "x" and not ?process.parent.args == "/x""#;
    assert!(mm(excluded, &map, proc(json!({"process.name": "x"}))));
}

#[test]
fn row12_not_like_keeps_events_missing_the_field() {
    // Elasticsearch (must_not), not py-eql's three-valued logic.
    assert!(m(
        r#"process where not process.parent.name like~ "privsep-helper""#,
        proc(json!({}))
    ));
}

#[test]
fn row13_negations_need_an_explicit_presence_guard() {
    let q1 = r#"process where not process.parent.executable like~ "*\\services.exe""#;
    assert!(m(q1, proc(json!({}))));
    let q2 = r#"process where not process.parent.executable like~ "*\\services.exe" and process.parent.executable != null"#;
    assert!(!m(q2, proc(json!({}))));
    assert!(m(
        q2,
        proc(json!({"process.parent.executable": "C:\\x\\cmd.exe"}))
    ));
    assert!(!m(
        q2,
        proc(json!({"process.parent.executable": "C:\\Windows\\SERVICES.exe"}))
    ));
}

#[test]
fn row14_string_ranges_are_case_sensitive() {
    assert!(!m(r#"any where x < "B""#, json!({"x": "a"})));
    assert!(m(r#"any where x > "B""#, json!({"x": "a"})));
    assert!(!holds_literal(r#""a" < "B""#));
}

fn holds_literal(cond: &str) -> bool {
    !q(&format!("any where {cond}")).never_matches()
}

#[test]
fn row15_unicode_escapes() {
    assert!(m(
        r#"process where process.name == "\u{41}BC""#,
        proc(json!({"process.name": "ABC"}))
    ));
    assert!(compile_str(
        r#"process where process.name == "\uABC""#,
        &CompileOptions::default()
    )
    .is_err());
}

#[test]
fn row16_raw_strings_and_single_quotes() {
    assert!(m(
        r#"process where process.executable == """C:\Windows\x.exe""""#,
        proc(json!({"process.executable": "C:\\Windows\\x.exe"}))
    ));
    match compile_str(
        "process where process.name == 'bash'",
        &CompileOptions::default(),
    ) {
        Ok(_) => panic!("single quotes must be rejected"),
        Err(ds) => assert!(ds[0]
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("double quotes")),
    }
}

#[test]
fn row18_backtick_quoted_fields() {
    assert!(m(
        r#"any where `my``identifier` == "v""#,
        json!({"my`identifier": "v"})
    ));
    assert!(m(r#"any where `my-field` == 1"#, json!({"my-field": 1})));
}

#[test]
fn row19_dotted_categories_need_quoting() {
    assert!(compile_str(
        "system.cpu where cpu.cores == 16",
        &CompileOptions::default()
    )
    .is_err());
    assert!(m(
        "`system.cpu` where cpu.cores == 16",
        json!({"event.category": "system.cpu", "cpu.cores": 16})
    ));
}

#[test]
fn row20_cidr_match_equals_true() {
    let d = json!({"event.category": "network", "source.address": "192.168.152.12"});
    assert!(m(
        r#"network where cidrMatch(source.address, "192.168.0.0/16") == true"#,
        d.clone()
    ));
    assert!(m(
        r#"network where cidrMatch(source.address, "192.168.0.0/16")"#,
        d
    ));
}

#[test]
fn row21_cidr_lists_use_cidr_match_not_in() {
    let q = r#"network where not cidrMatch(destination.ip, "127.0.0.0/8", "::1/128")"#;
    assert!(m(
        q,
        json!({"event.category": "network", "destination.ip": "10.1.1.1"})
    ));
    assert!(!m(
        q,
        json!({"event.category": "network", "destination.ip": "127.0.0.1"})
    ));
    assert!(!m(
        q,
        json!({"event.category": "network", "destination.ip": "::1"})
    ));
    // `in` with strings on an ip field is rejected by the verifier.
    assert!(err(r#"network where destination.ip in ("10.0.0.0/8")"#).contains("must be [ip]"));
}

#[test]
fn row26_merged_events_with_array_actions() {
    let d = proc(json!({"event.action": ["fork", "exec", "end"], "event.type": ["start", "end"]}));
    assert!(m(
        r#"process where event.action in ("exec", "start", "exec_event")"#,
        d.clone()
    ));
    assert!(!m(r#"process where event.action != "fork""#, d.clone()));
    assert!(m(r#"process where event.type == "start""#, d));
}

#[test]
fn row27_endgame_action_names() {
    let d = proc(json!({"event.action": "exec_event", "event.type": ["start"]}));
    assert!(!m(r#"process where event.action == "exec""#, d.clone()));
    assert!(m(
        r#"process where event.action in ("exec", "exec_event")"#,
        d.clone()
    ));
    assert!(m(r#"process where event.type == "start""#, d));
}

#[test]
fn row29_regex_shorthand_classes() {
    // Lucene 9 (Elasticsearch 8+) knows \w \d \s as ASCII classes.
    let q = r#"process where process.executable regex~ """C:\\Users\\\w+\\.*""""#;
    assert!(m(
        q,
        proc(json!({"process.executable": "C:\\Users\\bob\\x.exe"}))
    ));
    assert!(m(
        q,
        proc(json!({"process.executable": "c:\\users\\Bob_2\\x.exe"}))
    ));
    assert!(!m(
        q,
        proc(json!({"process.executable": "C:\\Users\\b-b\\x.exe"}))
    ));
    // The explicit class the maintainers advise works the same.
    let explicit = r#"process where process.executable regex~ """C:\\Users\\[a-zA-Z0-9_]+\\.*""""#;
    assert!(m(
        explicit,
        proc(json!({"process.executable": "C:\\Users\\bob\\x.exe"}))
    ));
}

fn seed_query() -> Option<String> {
    let base = std::env::var("TALON_CORPORA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| "/work/shared/corpora".into());
    let text = std::fs::read_to_string(base.join("detection-rules/seed-rule.toml")).ok()?;
    let doc: toml::Value = toml::from_str(&text).ok()?;
    doc.get("rule")?.get("query")?.as_str().map(str::to_string)
}

#[test]
fn row31_ip_forwarding_rule_exclusions() {
    let Some(query) = seed_query() else {
        println!("skipped: corpus not found");
        return;
    };
    let c = q(&query);
    let base = |cmd: &str, name: &str, args: serde_json::Value, parent: serde_json::Value| {
        ev(json!({
            "event": {"category": "process", "type": "start", "action": "exec"},
            "host.os.type": "linux",
            "process": {"name": name, "args": args, "command_line": cmd, "parent": parent}
        }))
    };
    let excluded = base(
        "sysctl -w net.ipv4.ip_forward=1",
        "sysctl",
        json!(["sysctl", "-w", "net.ipv4.ip_forward=1"]),
        json!({"name": "privsep-helper", "executable": "/usr/libexec/privsep-helper"}),
    );
    assert!(!c.matches(&excluded));
    let alert = base(
        "bash -c \"echo 1 > /proc/sys/net/ipv4/ip_forward\"",
        "bash",
        json!(["bash", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]),
        json!({"name": "python3", "executable": "/usr/bin/python3"}),
    );
    assert!(c.matches(&alert));
    // Endgame's action name is accepted too.
    let endgame = ev(json!({
        "event": {"category": "process", "type": "start", "action": "exec_event"},
        "host.os.type": "linux",
        "process": {"name": "sysctl", "args": ["sysctl", "--write", "net.ipv6.conf.all.forwarding=1"],
                    "command_line": "sysctl --write net.ipv6.conf.all.forwarding=1",
                    "parent": {"executable": "/bin/bash", "name": "bash"}}
    }));
    assert!(c.matches(&endgame));
}

/// A long `in` list with repeats: every listed name matches and others do
/// not (the list's strings are now deduplicated by hashing; pairwise it
/// took seconds at tens of thousands of names).
#[test]
fn long_in_lists_with_repeats_match_each_listed_value() {
    let names: Vec<String> = (0..30_000)
        .map(|i| format!("\"n{}\"", i % 20_000))
        .collect();
    let query = format!("process where process.name in ({})", names.join(", "));
    for (name, want) in [
        ("n0", true),
        ("n19999", true),
        ("n12345", true),
        ("n20000", false),
    ] {
        assert_eq!(
            m(&query, proc(json!({ "process.name": name }))),
            want,
            "{name}"
        );
    }
    let mixed = r#"process where process.pid in (1, 2, 1, 3)"#;
    assert!(m(mixed, proc(json!({"process.pid": 3}))));
    assert!(!m(mixed, proc(json!({"process.pid": 4}))));
}
