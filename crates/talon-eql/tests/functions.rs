//! The 16 EQL functions (eql-semantics.md section 6) with their edge cases,
//! folded at compile time (literal arguments) and evaluated on events.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;

/// A condition over literals only folds to a constant: true matches every
/// event, false compiles to a plan that never matches.
fn holds(cond: &str) -> bool {
    let c = q(&format!("any where {cond}"));
    let r = c.matches(&ev(json!({})));
    assert_eq!(
        r,
        !c.never_matches(),
        "{cond}: folding and matching disagree"
    );
    r
}

#[test]
fn add_subtract_multiply() {
    assert!(holds("add(2, 3) == 5"));
    assert!(holds("add(-2, 0.5) == -1.5"));
    assert!(holds("subtract(-2, 4) == -6"));
    assert!(holds("subtract(-2, -4) == 2"));
    assert!(holds("multiply(6, 5) == 30"));
    assert!(m(
        "any where add(serial_event_id, 0) == 1 and add(0, 1) == serial_event_id",
        json!({"serial_event_id": 1})
    ));
    assert!(m(
        "any where subtract(serial_event_id, -5) == 6",
        json!({"serial_event_id": 1})
    ));
    assert!(m(
        "any where multiply(6, serial_event_id) == 30",
        json!({"serial_event_id": 5})
    ));
    assert!(err("any where add(1) == 1").contains("expects exactly two arguments"));
    assert!(err(r#"any where add(x, "a") == 1"#).contains("must be [numeric]"));
}

#[test]
fn divide_integer_and_float() {
    assert!(holds("divide(4, 3) == 1"));
    assert!(holds("divide(30, 4.0) == 7.5"));
    assert!(holds("divide(-7, 2) == -3"));
    assert!(m(
        "any where divide(serial_event_id, 2) == 41",
        json!({"serial_event_id": 83})
    ));
    assert!(err("any where divide(x, 0) == 1").contains("division by zero"));
    assert!(err("any where divide(1, 0) == 1").contains("by zero"));
    // A null divisor is null, not an error.
    assert!(!m("any where divide(x, y) == 1", json!({"x": 1})));
    // A zero divisor from the data fails that evaluation (no match).
    assert!(!m("any where divide(x, y) == 1", json!({"x": 1, "y": 0})));
    assert!(holds("divide(1.0, 0) > 1000"));
}

#[test]
fn modulo_takes_the_sign_of_the_dividend() {
    assert!(holds("modulo(10, -6) == 4"));
    assert!(holds("modulo(-10, -6) == -4"));
    assert!(holds("modulo(-10, 6) == -4"));
    assert!(holds("modulo(10, 0.5) == 0"));
    assert!(holds("10 % 3 == 1"));
    assert!(m(
        "process where modulo(11, 10) == serial_event_id",
        json!({"event.category": "process", "serial_event_id": 1})
    ));
}

#[test]
fn between_first_greedy_and_not_found() {
    let p = json!({"path": "C:\\Windows\\System32\\cmd.exe"});
    assert!(m(
        r#"any where between(path, "\\", "\\", false) == "Windows""#,
        p.clone()
    ));
    assert!(m(
        r#"any where between(path, "\\", "\\", true) == "Windows\\System32""#,
        p.clone()
    ));
    assert!(m(
        r#"any where between(path, "\\", "\\") == "Windows""#,
        p.clone()
    ));
    assert!(m(r#"any where between(path, "zz", "\\") == """#, p.clone()));
    assert!(m(r#"any where between(path, "\\", "zz") == """#, p));
    assert!(holds(r#"between("", "a", "b") == """#));
    // An empty delimiter returns the source.
    assert!(holds(r#"between("abc", "", "c") == "abc""#));
    // between~ matches case-insensitively and returns the original case.
    assert!(m(
        r#"any where between~(n, "s", "E") : "yst""#,
        json!({"n": "System"})
    ));
    assert!(m(
        r#"any where between~(n, "s", "E") == "yst""#,
        json!({"n": "System"})
    ));
    assert!(!m(
        r#"any where between(n, "s", "E") == "yst""#,
        json!({"n": "System"})
    ));
    assert!(m(
        r#"any where between(n, "S", "e", true) : "ystem Idle Proc""#,
        json!({"n": "System Idle Process"})
    ));
    assert!(err(r#"any where between(n, "a") == "x""#).contains("three or four arguments"));
    assert!(err(r#"any where between(n, "a", "b", "yes") == "x""#).contains("must be [boolean]"));
}

#[test]
fn cidr_match_ipv4_ipv6_and_host_bits() {
    let d = json!({"source.ip": "10.6.48.157"});
    assert!(m(
        r#"network where cidrMatch(source.ip, "10.6.48.157/8")"#,
        with_cat(&d, "network")
    ));
    assert!(!m(
        r#"network where cidrMatch(source.ip, "192.168.0.0/16")"#,
        with_cat(&d, "network")
    ));
    assert!(m(
        r#"network where cidrMatch(source.ip, "192.168.0.0/16", "10.6.48.157/8")"#,
        with_cat(&d, "network")
    ));
    assert!(m(
        r#"network where cidrMatch(source.ip, "0.0.0.0/0")"#,
        with_cat(&d, "network")
    ));
    assert!(m(
        r#"any where cidrMatch(destination.ip, "2001:db8::/32")"#,
        json!({"destination.ip": "2001:db8::5"})
    ));
    assert!(!m(
        r#"any where cidrMatch(destination.ip, "2001:db8::/32")"#,
        json!({"destination.ip": "2001:db9::5"})
    ));
    assert!(m(
        r#"any where not cidrMatch(destination.ip, "127.0.0.0/8", "::1/128")"#,
        json!({"destination.ip": "8.8.8.8"})
    ));
    assert!(!m(
        r#"any where not cidrMatch(destination.ip, "127.0.0.0/8", "::1/128")"#,
        json!({"destination.ip": "::1"})
    ));
    // In a script: string(cidrMatch(..)) : "true".
    assert!(m(
        r#"any where string(cidrMatch(source.ip, "10.6.48.157/8")) : "true""#,
        d.clone()
    ));
    // A null block gives null.
    assert!(!m(
        r#"any where cidrMatch(source.ip, null) == null and false"#,
        d
    ));
    assert!(err(r#"any where cidrMatch(source.ip, "10.0.0.0/33")"#).contains("invalid CIDR"));
    let map = mapping(&[("name", "keyword")], &[]);
    assert!(err_m(r#"any where cidrMatch(name, "10.0.0.0/8")"#, &map).contains("must be [ip]"));
    assert!(err(r#"any where cidrMatch(source.ip, other)"#).contains("must be a constant"));
}

fn with_cat(d: &serde_json::Value, cat: &str) -> serde_json::Value {
    let mut d = d.clone();
    d["event.category"] = json!(cat);
    d
}

#[test]
fn concat_stringifies_and_propagates_null() {
    let d = json!({"serial_event_id": 5, "process_name": "wininit.exe", "opcode": 3});
    assert!(m(
        r#"any where concat(serial_event_id, ":", process_name, opcode) : "5:wininit.exe3""#,
        d.clone()
    ));
    assert!(m(
        r#"any where concat(serial_event_id, "::", process_name, "::", opcode) : "5::wininit.exe::3""#,
        d.clone()
    ));
    assert!(m(r#"any where concat(serial_event_id) : "5""#, d.clone()));
    assert!(holds(r#"concat(42.5, true) == "42.5true""#));
    assert!(holds(r#"concat("a", null) == null"#));
    assert!(m(
        "any where concat(process_name, missing) == null",
        d.clone()
    ));
    assert!(m("any where concat(process_name, opcode) != null", d));
    assert!(err("any where concat() == \"\"").contains("at least one argument"));
}

#[test]
fn ends_with_and_starts_with() {
    let f = json!({"file_name": "explorer.exe"});
    assert!(m(
        r#"any where endsWith(file_name, "lorer.exe")"#,
        f.clone()
    ));
    assert!(!m(
        r#"any where endsWith(file_name, "LORER.exe")"#,
        f.clone()
    ));
    assert!(m(
        r#"any where endsWith~(file_name, "loREr.exe")"#,
        f.clone()
    ));
    assert!(m(
        r#"any where startsWith(file_name, "explorer.")"#,
        f.clone()
    ));
    assert!(m(
        r#"any where startsWith~(file_name, "expLORER.ExE")"#,
        f.clone()
    ));
    // Either argument can be the field.
    assert!(m(
        r#"any where startsWith("explorer.exeaaaa", file_name)"#,
        f.clone()
    ));
    assert!(holds(r#"startsWith~("explorer.exeaAAAA", "EXPLORER.exe")"#));
    assert!(holds(r#"endsWith("", "")"#));
    assert!(holds(r#"startsWith("", "")"#));
    // `startsWith` on a field is a prefix query: `*` is literal there.
    assert!(!m(r#"any where startsWith(file_name, "exp*")"#, f));
}

#[test]
fn ends_with_on_a_field_is_a_lucene_wildcard_query() {
    // Elasticsearch pastes the argument into a wildcard query unescaped:
    // `\` escapes the next character, `*` and `?` are wildcards.
    let d = json!({"process.executable": "C:\\Windows\\xcmd.exe"});
    assert!(m(
        r#"any where endsWith(process.executable, "\\cmd.exe")"#,
        d.clone()
    ));
    assert!(!m(
        r#"any where endsWith(process.executable, "\\\\cmd.exe")"#,
        d.clone()
    ));
    assert!(m(
        r#"any where endsWith(process.executable, "?cmd.exe")"#,
        d.clone()
    ));
    // In a script (not a plain field) the same call is literal.
    assert!(!m(
        r#"any where endsWith(string(process.executable), "?cmd.exe")"#,
        d
    ));
}

#[test]
fn index_of_rules() {
    let f = json!({"file_name": "explorer.exe"});
    assert!(m(
        r#"any where indexOf(file_name, "plorer.", 0) == 2"#,
        f.clone()
    ));
    assert!(m(
        r#"any where indexOf(file_name, "plorer.", 2) == 2"#,
        f.clone()
    ));
    assert!(m(
        r#"any where indexOf(file_name, "plorer.", 4) == null"#,
        f.clone()
    ));
    assert!(m(
        r#"any where indexOf~(file_name, "PLORE") == 2"#,
        f.clone()
    ));
    assert!(m(
        r#"any where indexOf(file_name, "plore", 100) == null"#,
        f.clone()
    ));
    assert!(m(
        r#"any where indexOf(file_name, "explorer.", -5) == 0"#,
        f.clone()
    ));
    assert!(m(r#"any where indexOf(file_name, "", 3) == 3"#, f));
    assert!(holds(r#"indexOf("subdomain.example.com", ".", 10) == 17"#));
    assert!(holds(r#"indexOf("abc", "") == 0"#));
    assert!(holds(r#"indexOf("abc", "z") == null"#));
    assert!(err(r#"any where indexOf(f, "a", "b") == 1"#).contains("must be [integer]"));
}

#[test]
fn length_counts_utf16_units() {
    assert!(holds(r#"length("") == 0"#));
    assert!(holds(r#"length("abc") == 3"#));
    assert!(holds(r#"length("😀") == 2"#));
    assert!(m(
        r#"any where length(between(n, "g", "e")) > 0"#,
        json!({"n": "regsvr32.exe"})
    ));
    assert!(!m("any where length(x) > 0", json!({})));
}

#[test]
fn number_parsing_rules() {
    assert!(holds(r#"number("5") == 5"#));
    assert!(holds(r#"number("-32.5") == -32.5"#));
    assert!(holds(r#"number("0x32", 16) == 50"#));
    assert!(holds(r#"number("32", 16) == 50"#));
    assert!(holds(r#"number("0x32", null) == 50"#));
    assert!(holds(r#"number("0x32") == 50"#));
    assert!(holds(r#"number("+7") == 7"#));
    assert!(holds(r#"number(" 5 ") == 5"#));
    assert!(holds(r#"number("1e3") == 1000"#));
    assert!(holds(r#"number("11", 2) == 3"#));
    assert!(holds(r#"number(null) == null"#));
    assert!(err(r#"any where number("") == 1"#).contains("Unable to convert"));
    assert!(err(r#"any where number("abc") == 1"#).contains("Unable to convert"));
    assert!(err(r#"any where number("12", 99) == 1"#).contains("Unable to convert"));
    assert!(m(
        "any where number(string(serial_event_id), 16) == 17",
        json!({"serial_event_id": 11})
    ));
    assert!(m(
        r#"any where number(string(serial_event_id), 13) == number("31", 13)"#,
        json!({"serial_event_id": 31})
    ));
    assert!(m(
        r#"process where serial_event_id == number("0x32", 16)"#,
        json!({"event.category": "process", "serial_event_id": 50})
    ));
}

#[test]
fn string_converts_any_value() {
    assert!(holds(r#"string(42.5) == "42.5""#));
    assert!(holds(r#"string(true) == "true""#));
    assert!(holds(r#"string(7) == "7""#));
    assert!(holds(r#"string(1e7) == "1.0E7""#));
    assert!(holds("string(null) == null"));
    assert!(m(
        r#"any where string(serial_event_id) : "1""#,
        json!({"serial_event_id": 1})
    ));
    assert!(m(
        r#"any where string(serial_event_id) like ("1*")"#,
        json!({"serial_event_id": 12})
    ));
    assert!(!m(
        r#"any where string(serial_event_id) in~ ("1*")"#,
        json!({"serial_event_id": 12})
    ));
}

#[test]
fn string_contains_rules() {
    assert!(holds(
        r#"stringContains("ABCDEFGHIexplorer.exeJKLMNOP", "explorer.exe")"#
    ));
    assert!(!holds(r#"stringContains("", "")"#));
    assert!(!holds(r#"stringContains("abc", "")"#));
    assert!(holds(r#"stringContains~("Regsvr32.exe /s", "regsvr32")"#));
    assert!(m(
        r#"any where stringContains("ABCDEFGHIexplorer.exeJKLMNOP", file_name)"#,
        json!({"file_name": "explorer.exe"})
    ));
    assert!(m(
        r#"any where stringContains(cmd, "net.ipv4")"#,
        json!({"cmd": "sysctl -w net.ipv4.ip_forward=1"})
    ));
    assert!(!m(
        r#"any where stringContains(cmd, "NET.IPV4")"#,
        json!({"cmd": "sysctl -w net.ipv4.ip_forward=1"})
    ));
    assert!(m(
        r#"any where stringContains~(cmd, "NET.IPV4")"#,
        json!({"cmd": "sysctl -w net.ipv4.ip_forward=1"})
    ));
    // On a field it is a `*sub*` wildcard query, so an empty substring
    // matches every value there.
    assert!(m(
        r#"any where stringContains(cmd, "")"#,
        json!({"cmd": "x"})
    ));
}

#[test]
fn substring_slices_like_python() {
    let f = json!({"file_name": "explorer.exe"});
    assert!(m(
        r#"any where substring(file_name, -4) : ".exe""#,
        f.clone()
    ));
    assert!(m(
        r#"any where substring(file_name, -4, -1) : ".ex""#,
        f.clone()
    ));
    assert!(m(
        r#"any where substring(file_name, 0, 4) : "expl""#,
        f.clone()
    ));
    assert!(m(
        r#"any where substring(file_name, 1, 3) == "xp""#,
        f.clone()
    ));
    assert!(m(
        r#"any where substring(file_name, 5, 2) == """#,
        f.clone()
    ));
    assert!(m(r#"any where substring(file_name, 40) == """#, f.clone()));
    assert!(m(
        r#"any where substring(file_name, 2, 100) == "plorer.exe""#,
        f
    ));
    assert!(holds(r#"substring("abc", -10) == "abc""#));
    assert!(err(r#"any where substring(f) == "x""#).contains("two or three arguments"));
}

#[test]
fn function_names_are_case_insensitive() {
    assert!(holds(r#"CONCAT("a", "b") == "ab""#));
    assert!(holds(r#"endswith("ab", "b")"#));
    assert!(holds(r#"EndsWith("ab", "b")"#));
    assert!(err("any where arrayContains(x, 1)").contains("unknown function"));
    assert!(err("any where wildcard(x, \"a*\")").contains("unknown function"));
}
