//! Operators, literals, case rules, types, optional fields and
//! multi-valued fields (eql-semantics.md sections 2, 3, 5, 7, 8, 9), each
//! asserting the match Elasticsearch gives.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;

// ---- 2. literals ----------------------------------------------------------

#[test]
fn string_escapes_and_unicode() {
    assert!(m(r#"any where x == "\u{41}BC""#, json!({"x": "ABC"})));
    assert!(m(r#"any where x == "a\tb""#, json!({"x": "a\tb"})));
    assert!(m(
        r#"any where x == "say \"hi\"""#,
        json!({"x": "say \"hi\""})
    ));
    assert!(m(
        r#"any where x == "C:\\Windows""#,
        json!({"x": "C:\\Windows"})
    ));
    assert!(m(r#"any where x == "\u{200f}""#, json!({"x": "\u{200f}"})));
}

#[test]
fn raw_strings_take_backslashes_literally() {
    assert!(m(
        r#"any where x == """C:\Windows\x.exe""""#,
        json!({"x": "C:\\Windows\\x.exe"})
    ));
    assert!(m(
        r#"any where x regex """C:\\Users\\[a-z]+""""#,
        json!({"x": "C:\\Users\\bob"})
    ));
}

#[test]
fn numbers_and_booleans() {
    assert!(m("any where x == 1.5", json!({"x": 1.5})));
    assert!(m("any where x == 1e3", json!({"x": 1000})));
    assert!(m("any where x == -2", json!({"x": -2})));
    assert!(m("any where flag == true", json!({"flag": true})));
    assert!(!m("any where flag == true", json!({"flag": false})));
    assert!(m("any where flag", json!({"flag": true})));
}

#[test]
fn wildcard_backslashes_are_literal_after_unescaping() {
    let q = r#"registry where key_path : "*\\MACHINE\\SAM\\SAM\\*\\Account\\Us*ers\\00*03E9\\F""#;
    let doc = json!({"event.category": "registry", "key_path": "\\REGISTRY\\MACHINE\\SAM\\SAM\\DOMAINS\\Account\\Users\\000003E9\\F"});
    assert!(m(q, doc));
}

// ---- 3. operators ---------------------------------------------------------

#[test]
fn equality_is_exact_case_sensitive_and_literal() {
    assert!(m(r#"any where x == "bash""#, json!({"x": "bash"})));
    assert!(!m(r#"any where x == "BASH""#, json!({"x": "bash"})));
    assert!(!m(r#"any where x == "ba*""#, json!({"x": "bash"})));
    assert!(m(r#"any where x == "ba*""#, json!({"x": "ba*"})));
    assert!(m(r#"any where x != "zsh""#, json!({"x": "bash"})));
    assert!(!m(r#"any where x != "bash""#, json!({"x": "bash"})));
}

#[test]
fn equals_with_a_star_warns() {
    let c = q(r#"file where file.path == "*TCC.db""#);
    assert_eq!(c.warnings().len(), 1);
    assert_eq!(
        c.warnings()[0].hint.as_deref(),
        Some("did you mean `like` (or `:` to also ignore case)?")
    );
    assert!(q(r#"file where file.path like "*TCC.db""#)
        .warnings()
        .is_empty());
}

#[test]
fn ranges_on_numbers_and_strings() {
    assert!(m("any where n < 4.5", json!({"n": 4})));
    assert!(!m("any where n < 4.5", json!({"n": 5})));
    assert!(m("any where n >= 3.1", json!({"n": 4})));
    assert!(m("any where n <= 8 and n > 7", json!({"n": 8})));
    assert!(m(
        r#"any where s >= "System" and s <= "System Idle Process""#,
        json!({"s": "System"})
    ));
    assert!(!m(
        r#"any where s > "System" and s < "System Idle Process""#,
        json!({"s": "System Idle Process"})
    ));
    // "S" (0x53) < "s" (0x73): case-sensitive byte order.
    assert!(!m(
        r#"any where s >= "system idle process""#,
        json!({"s": "System Idle Process"})
    ));
    assert!(m(r#"any where s < "s""#, json!({"s": "S"})));
}

#[test]
fn literal_on_the_left_is_swapped() {
    assert!(m("any where 0 <= exit_code", json!({"exit_code": 0})));
    assert!(!m("any where 0 <= exit_code", json!({})));
    assert!(m("any where -1 < exit_code", json!({"exit_code": 0})));
    assert!(m("any where 5 == n", json!({"n": 5})));
}

#[test]
fn colon_is_case_insensitive_with_wildcards() {
    assert!(m(r#"any where x : "BASH""#, json!({"x": "bash"})));
    assert!(m(r#"any where x : "b*""#, json!({"x": "Bash"})));
    assert!(m(r#"any where x : "a?c""#, json!({"x": "ABC"})));
    assert!(!m(r#"any where x : "a?c""#, json!({"x": "ac"})));
    assert!(m(r#"any where x : ("zsh", "ba*")"#, json!({"x": "BASH"})));
    assert!(!m(r#"any where x : ("zsh", "ksh")"#, json!({"x": "bash"})));
    assert!(m(
        r#"any where x : "%*%*""#,
        json!({"x": "%SystemRoot%\\x"})
    ));
}

#[test]
fn like_is_case_sensitive_like_tilde_is_not() {
    let doc = json!({"c": "sysctl -w net.ipv4.ip_forward=1"});
    assert!(!m(r#"any where c like "*NET.IPV4*""#, doc.clone()));
    assert!(m(r#"any where c like~ "*NET.IPV4*""#, doc.clone()));
    assert!(m(r#"any where c like ("x*", "*ip_forward*")"#, doc.clone()));
    assert!(m(
        r#"any where c like "sysctl -w net.ipv4.ip_forward=?""#,
        doc.clone()
    ));
    assert!(!m(r#"any where c like "*\\*""#, doc));
    // `%` and `_` are literal.
    assert!(!m(
        r#"any where c like "sys_tl%""#,
        json!({"c": "sysctl x"})
    ));
    assert!(m(r#"any where c like "*""#, json!({"c": ""})));
    assert!(!m(r#"any where c like "*""#, json!({})));
}

#[test]
fn regex_is_anchored_lucene_syntax() {
    let doc = json!({"c": "C:\\Windows\\system32\\net1  localgroup administrators"});
    assert!(m(
        r#"any where c regex """.*?net1[ ]+localgroup.*?""""#,
        doc.clone()
    ));
    assert!(!m(r#"any where c regex "net1""#, doc.clone()));
    assert!(m(r#"any where c regex~ """.*NET1.*""""#, doc.clone()));
    assert!(!m(r#"any where c regex """.*NET1.*""""#, doc.clone()));
    assert!(m(
        r#"any where c regex (".*?net[1]?  localgroup.*?", ".*? myappserver.py .*?")"#,
        doc.clone()
    ));
    // Lucene's `^` is an ordinary character.
    assert!(!m(r#"any where c regex "^C:.*""#, doc.clone()));
    // Predefined classes (Lucene 9, Elasticsearch 8+).
    assert!(m(r#"any where c regex """.*net1\s+\w{4,15}\s+.*""""#, doc));
    // Optional operators are on: `@` any string, `<n-m>` intervals, `&`, `~`.
    assert!(m(
        r#"any where v regex "user@""#,
        json!({"v": "user-anything"})
    ));
    assert!(m(
        r#"any where v regex "port<1-1024>""#,
        json!({"v": "port443"})
    ));
    assert!(m(r#"any where v regex "@&~(abc.*)""#, json!({"v": "xyz"})));
    assert!(!m(
        r#"any where v regex "@&~(abc.*)""#,
        json!({"v": "abcd"})
    ));
}

#[test]
fn in_is_exact_membership() {
    assert!(m(r#"any where x in ("a", "b")"#, json!({"x": "b"})));
    assert!(!m(r#"any where x in ("a", "b")"#, json!({"x": "B"})));
    assert!(m(r#"any where x not in ("a", "b")"#, json!({"x": "c"})));
    assert!(m(r#"any where x not in ("a", "b")"#, json!({})));
    assert!(m("any where opcode in (0, 1, 2)", json!({"opcode": 2})));
    assert!(!m(
        "any where opcode not in (0, 1, 2)",
        json!({"opcode": 2})
    ));
}

#[test]
fn in_tilde_folds_case_but_not_wildcards() {
    assert!(m(
        r#"any where x in~ ("WININIT.exe", "lsass.exe")"#,
        json!({"x": "wininit.EXE"})
    ));
    assert!(!m(r#"any where x in~ ("1*")"#, json!({"x": "10"})));
    assert!(m(r#"any where x in~ ("1*")"#, json!({"x": "1*"})));
    assert!(!m(r#"any where x in~ ("ÄBC")"#, json!({"x": "äbc"})));
    assert!(!m(r#"any where x : "ÄB*""#, json!({"x": "äbc"})));
    assert!(!m(r#"any where x like~ "\u{212A}*""#, json!({"x": "kill"})));
    assert!(m(r#"any where x : "ÄB*""#, json!({"x": "Äbc"})));
    assert!(!m(r#"any where x not in~ ("BASH")"#, json!({"x": "bash"})));
}

#[test]
fn boolean_logic() {
    let doc = json!({"a": 1, "b": 2});
    assert!(m("any where a == 1 and b == 2", doc.clone()));
    assert!(!m("any where a == 1 and b == 3", doc.clone()));
    assert!(m("any where a == 5 or b == 2", doc.clone()));
    assert!(m("any where not a == 5", doc.clone()));
    assert!(m("any where not (a == 1 and b == 3)", doc));
}

#[test]
fn arithmetic_operators() {
    let d = json!({"serial_event_id": 82});
    assert!(m("any where serial_event_id - 1 == 81", d.clone()));
    assert!(m("any where serial_event_id + 1 == 83", d.clone()));
    assert!(m("any where serial_event_id * 2 == 164", d.clone()));
    assert!(m("any where serial_event_id / 2 == 41", d.clone()));
    assert!(m(
        "any where serial_event_id / 2 == 41",
        json!({"serial_event_id": 83})
    ));
    assert!(!m(
        "any where serial_event_id / 2.0 == 41",
        json!({"serial_event_id": 83})
    ));
    assert!(m("any where serial_event_id % 40 == 2", d.clone()));
    assert!(m("any where -serial_event_id + 100 == 18", d.clone()));
    assert!(m(
        "any where 66.0 / serial_event_id == 1",
        json!({"serial_event_id": 66})
    ));
    assert!(m(
        "any where serial_event_id + ((1 + 3) * 2 / (3 - 1)) * 2 == 54",
        json!({"serial_event_id": 46})
    ));
}

#[test]
fn field_to_field_comparisons_are_rejected() {
    assert!(err("process where process.name == process.parent.name")
        .contains("Comparisons against fields"));
    assert!(
        err(r#"process where process_name in (parent_process_name, "System")"#)
            .contains("Comparisons against variables")
    );
    assert!(err("process where length(a) == length(b)").contains("Comparisons against fields"));
    // Two unmapped optional fields fold to null == null: true.
    let map = mapping(&[("event.category", "keyword")], &[]);
    assert!(mm("any where ?x == ?y", &map, json!({})));
}

#[test]
fn syntax_errors_come_from_the_parser() {
    assert!(compile_fails("any where a < b <= c"));
    assert!(compile_fails("any where a = 1"));
    assert!(compile_fails("any where x == 'bash'"));
}

fn compile_fails(q: &str) -> bool {
    talon_eql::compile_str(q, &talon_eql::CompileOptions::default()).is_err()
}

// ---- 5. case sensitivity --------------------------------------------------

#[test]
fn category_is_exact() {
    assert!(m(
        "REQUEST where true",
        json!({"event.category": "REQUEST"})
    ));
    assert!(!m(
        "request where true",
        json!({"event.category": "REQUEST"})
    ));
    assert!(m("any where true", json!({})));
    assert!(!m("process where true", json!({})));
    // Any value of a multi-valued category.
    assert!(m(
        "network where true",
        json!({"event.category": ["process", "network"]})
    ));
}

#[test]
fn category_through_an_alias() {
    let map = mapping(
        &[("event_type", "keyword")],
        &[("event.category", "event_type")],
    );
    assert!(mm(
        "process where true",
        &map,
        json!({"event_type": "process"})
    ));
    assert!(!mm(
        "file where true",
        &map,
        json!({"event_type": "process"})
    ));
    let c = qm_compile("process where true", &map);
    assert_eq!(c.referenced_fields(), vec!["event_type".to_string()]);
}

#[test]
fn tilde_only_on_case_aware_functions() {
    assert!(m(
        r#"any where startsWith~(f, "EXPL")"#,
        json!({"f": "explorer.exe"})
    ));
    assert!(!m(
        r#"any where startsWith(f, "EXPL")"#,
        json!({"f": "explorer.exe"})
    ));
    assert!(err(r#"any where length~(f) == 3"#).contains("does not support case-insensitive"));
    assert!(
        err(r#"any where concat~(f, "x") == "a""#).contains("does not support case-insensitive")
    );
}

// ---- 7. types ---------------------------------------------------------------

#[test]
fn integer_arithmetic_stays_integral() {
    assert!(m("any where n / 3 == 1", json!({"n": 4})));
    assert!(m("any where n * 2 == 8", json!({"n": 4})));
    assert!(err("any where 2147483647 + 1 > 0").contains("overflow"));
    assert!(m("any where n + 1 > 0", json!({"n": 2147483647})));
}

#[test]
fn strings_and_numbers_do_not_convert_in_scripts() {
    // A script comparing a number with a string is null: no match.
    assert!(!m(r#"any where length(x) == "3""#, json!({"x": "abc"})));
    assert!(m("any where number(x) == 3", json!({"x": "3"})));
    assert!(m(r#"any where string(n) == "3""#, json!({"n": 3})));
}

#[test]
fn typed_fields_read_values_the_way_the_mapping_indexes_them() {
    let map = mapping(&[("pid", "long"), ("name", "keyword")], &[]);
    // A long field holding a numeric string compares as a number.
    assert!(mm("any where pid == 4720", &map, json!({"pid": "4720"})));
    assert!(mm("any where pid > 100", &map, json!({"pid": "4720"})));
    // A keyword field holding a number compares as its text.
    assert!(mm(r#"any where name == "5""#, &map, json!({"name": 5})));
    assert!(mm("any where name == 5", &map, json!({"name": "5"})));
    assert!(mm(r#"any where name < "6""#, &map, json!({"name": 5})));
}

#[test]
fn date_fields_compare_as_instants() {
    let d = json!({"@timestamp": "2017-08-30T20:47:33.250Z"});
    assert!(m(
        r#"any where @timestamp == "2017-08-30T20:47:33Z""#,
        d.clone()
    ));
    assert!(m(
        r#"any where @timestamp <= "2017-08-30T20:47:33Z""#,
        d.clone()
    ));
    assert!(!m(
        r#"any where @timestamp < "2017-08-30T20:47:33Z""#,
        d.clone()
    ));
    assert!(!m(
        r#"any where @timestamp > "2017-08-30T20:47:33Z""#,
        d.clone()
    ));
    assert!(m(
        r#"any where @timestamp > "2017-08-30T20:47:32Z""#,
        d.clone()
    ));
    assert!(m(r#"any where @timestamp == "2017-08-30""#, d.clone()));
    assert!(m("any where @timestamp == 1504126053250", d.clone()));
    assert!(m("any where @timestamp > 1504126053249", d.clone()));
    assert!(m(
        r#"any where @timestamp < "2017-08-30T22:47:34+02:00""#,
        d
    ));
    assert!(err(r#"any where @timestamp == "yesterday""#).contains("failed to parse date"));
}

#[test]
fn date_nanos_fields_keep_nanoseconds() {
    let map = mapping(&[("@timestamp", "date_nanos")], &[]);
    let d = json!({"@timestamp": "1974-03-03T02:22:54.294365140Z"});
    assert!(mm(
        r#"any where @timestamp == "1974-03-03T02:22:54.294365140Z""#,
        &map,
        d.clone()
    ));
    assert!(!mm(
        r#"any where @timestamp == "1974-03-03T02:22:54.294365141Z""#,
        &map,
        d.clone()
    ));
    assert!(mm(
        r#"any where @timestamp > "1974-03-03T02:22:54.294209140Z""#,
        &map,
        d
    ));
    // A millisecond date field drops the sub-millisecond part.
    let ms = mapping(&[("@timestamp", "date")], &[]);
    assert!(mm(
        r#"any where @timestamp == "1974-03-03T02:22:54.294Z""#,
        &ms,
        json!({"@timestamp": "1974-03-03T02:22:54.294365140Z"})
    ));
}

#[test]
fn ip_fields_compare_as_addresses() {
    let d = json!({"source.ip": "10.6.48.157"});
    assert!(m(r#"any where source.ip == "10.6.48.157""#, d.clone()));
    assert!(m(r#"any where source.ip == "10.0.0.0/8""#, d.clone()));
    assert!(!m(r#"any where source.ip == "192.168.0.0/16""#, d.clone()));
    assert!(m(r#"any where source.ip > "10.6.48.100""#, d.clone()));
    assert!(m(r#"any where source.ip != "127.0.0.1""#, d));
    assert!(m(
        r#"any where source.ip == "::1""#,
        json!({"source.ip": "0:0:0:0:0:0:0:1"})
    ));
    assert!(err(r#"any where source.ip == "not-an-ip""#).contains("not an IP"));
}

#[test]
fn version_fields_use_semver_order() {
    let map = mapping(&[("version", "version")], &[]);
    assert!(mm(
        r#"any where version > "1.5.0""#,
        &map,
        json!({"version": "1.11.3"})
    ));
    assert!(mm(
        r#"any where version < "1.5.0""#,
        &map,
        json!({"version": "1.2.4-SNAPSHOT"})
    ));
    assert!(!mm(
        r#"any where version < "1.5.0""#,
        &map,
        json!({"version": "bad"})
    ));
    assert!(mm(
        r#"any where version == "bad""#,
        &map,
        json!({"version": "bad"})
    ));
    assert!(mm(
        r#"any where CONCAT(version, "") == "1.2.4""#,
        &map,
        json!({"version": "1.2.4"})
    ));
}

#[test]
fn booleans_compare_with_true() {
    assert!(m(
        r#"any where cidrMatch(source.ip, "10.0.0.0/8") == true"#,
        json!({"source.ip": "10.1.2.3"})
    ));
    assert!(m(
        r#"any where cidrMatch(source.ip, "10.0.0.0/8") == false"#,
        json!({"source.ip": "11.1.2.3"})
    ));
    assert!(m(
        r#"any where cidrMatch(source.ip, "10.0.0.0/8") != true"#,
        json!({"source.ip": "11.1.2.3"})
    ));
    assert!(
        err(r#"any where cidrMatch(source.ip, "10.0.0.0/8") : true"#).contains("must be [string]")
    );
}

// ---- 8. optional fields -------------------------------------------------------

#[test]
fn optional_fields_with_an_explicit_mapping() {
    let map = mapping(
        &[("event.category", "keyword"), ("mapped_only", "keyword")],
        &[],
    );
    assert!(mm("any where ?inexistent_field == null", &map, json!({})));
    assert!(!mm("any where ?inexistent_field", &map, json!({})));
    // A mapped optional field is a real field; a document without it gives null.
    assert!(mm("any where ?mapped_only == null", &map, json!({})));
    assert!(!mm("any where ?mapped_only == 123", &map, json!({})));
    assert!(mm(
        r#"any where ?mapped_only == "v""#,
        &map,
        json!({"mapped_only": "v"})
    ));
    // Unmapped plain fields are errors.
    assert_eq!(
        err_m("any where inexistent_field == 1", &map),
        "unknown field `inexistent_field`"
    );
    // `?` on one mention makes the name optional everywhere.
    assert!(mm("any where ?zz == null and zz == null", &map, json!({})));
}

#[test]
fn optional_fields_without_a_mapping_are_ordinary() {
    assert!(m("any where ?x == 1", json!({"x": 1})));
    assert!(!m("any where ?x == 1", json!({})));
    assert!(m("any where ?x == null", json!({})));
    assert!(m("any where anything_at_all == null", json!({})));
}

// ---- 9. multi-valued fields -------------------------------------------------

#[test]
fn any_value_matches() {
    assert!(m(
        "any where transID == 1234",
        json!({"transID": [1234, 599999]})
    ));
    assert!(m(
        r#"any where process.args == "-c""#,
        json!({"process.args": ["bash", "-c", "echo"]})
    ));
    assert!(m(
        r#"any where process.args like "*-w*""#,
        json!({"process.args": ["sysctl", "-w"]})
    ));
    assert!(m(
        r#"any where event.action in ("exec", "start")"#,
        json!({"event.action": ["fork", "exec", "end"]})
    ));
}

#[test]
fn negations_fail_when_any_value_equals() {
    let d = json!({"event.action": ["fork", "exec", "end"]});
    assert!(!m(r#"any where event.action != "fork""#, d.clone()));
    assert!(!m(
        r#"any where event.action not in ("fork", "x")"#,
        d.clone()
    ));
    assert!(m(r#"any where event.action != "clone""#, d));
}

#[test]
fn scripts_try_every_value() {
    // Elasticsearch rewrites scripts to iterate every value of each field
    // occurrence (multiValueDocValues): true if some value satisfies it.
    assert!(m(
        "any where length(args) == 2",
        json!({"args": ["abc", "xy"]})
    ));
    assert!(!m(
        "any where not (length(args) == 2)",
        json!({"args": ["abc", "xy"]})
    ));
    assert!(m(
        "any where length(args) > 2 and length(args) < 3",
        json!({"args": ["abc", "x"]})
    ));
}

#[test]
fn scripts_try_every_value_of_a_long_array() {
    // multiValueDocValues iterates all of a field's doc values, however
    // many: a value past the 4096th, or behind thousands of repeats
    // (doc values hold each keyword once), still decides the match.
    let mut padded: Vec<String> = (0..5000).map(|i| format!("a{i}")).collect();
    padded.push("x".repeat(50));
    assert!(m(
        "any where length(process.args) > 40",
        json!({ "process.args": padded })
    ));
    let mut repeated = vec!["a".to_string(); 5000];
    repeated.push("x".repeat(50));
    assert!(m(
        "any where length(process.args) > 40",
        json!({ "process.args": repeated.clone() })
    ));
    // Two occurrences of the field: every pair of its (distinct) values.
    let mut two = vec!["a".to_string(); 3000];
    two.push("x".to_string());
    assert!(m(
        r#"any where concat(process.args, process.args) == "ax""#,
        json!({ "process.args": two })
    ));
}

#[test]
fn long_in_lists_behave_like_short_ones() {
    let list: Vec<String> = (0..20).map(|i| format!("\"name{i}\"")).collect();
    let q_cs = format!("any where x in ({}, \"Ünïcode\")", list.join(", "));
    let q_ci = format!("any where x in~ ({}, \"Ünïcode\")", list.join(", "));
    assert!(m(&q_cs, json!({"x": "name7"})));
    assert!(!m(&q_cs, json!({"x": "NAME7"})));
    assert!(m(&q_ci, json!({"x": "NAME7"})));
    // Only ASCII letters fold, as in Elasticsearch's case-insensitive
    // term queries.
    assert!(m(&q_ci, json!({"x": "ÜNïCODE"})));
    assert!(!m(&q_ci, json!({"x": "üNÏCODE"})));
    assert!(!m(&q_ci, json!({"x": "name77"})));
    assert!(m(&q_cs, json!({"x": ["a", "name19"]})));
}
