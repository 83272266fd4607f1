//! Flattening: JSON documents land on dotted paths exactly as Elasticsearch
//! indexes them.

use talon_event::flatten::{flatten, FlattenError, Flattener, Projection};
use talon_event::mapping::Mapping;
use talon_event::{Fields, Value};

fn strs(v: &[&str]) -> Vec<Value> {
    v.iter().map(|s| Value::str(s)).collect()
}

fn sorted_fields(e: &talon_event::Event) -> Vec<(String, Vec<Value>)> {
    let mut f: Vec<(String, Vec<Value>)> =
        e.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect();
    f.sort_by(|a, b| a.0.cmp(&b.0));
    f
}

#[test]
fn dotted_nested_and_mixed_keys_are_the_same_event() {
    let docs = [
        r#"{"process":{"name":"bash","parent":{"name":"sshd","pid":7}},"event":{"action":"exec"}}"#,
        r#"{"process.name":"bash","process.parent.name":"sshd","process.parent.pid":7,"event.action":"exec"}"#,
        r#"{"process":{"parent.name":"sshd","name":"bash"},"process.parent":{"pid":7},"event":{"action":"exec"}}"#,
    ];
    let events: Vec<_> = docs.iter().map(|d| flatten(d).unwrap()).collect();
    let expected = vec![
        ("event.action".to_string(), strs(&["exec"])),
        ("process.name".to_string(), strs(&["bash"])),
        ("process.parent.name".to_string(), strs(&["sshd"])),
        ("process.parent.pid".to_string(), vec![Value::Int(7)]),
    ];
    for e in &events {
        assert_eq!(sorted_fields(e), expected);
    }
}

#[test]
fn dotted_and_nested_values_of_one_path_accumulate() {
    // Elasticsearch indexes both; the field becomes multi-valued.
    let e = flatten(r#"{"a":{"b":1},"a.b":2}"#).unwrap();
    assert_eq!(e.values("a.b"), &[Value::Int(1), Value::Int(2)]);
}

#[test]
fn arrays_append_and_nested_arrays_flatten() {
    let e =
        flatten(r#"{"process":{"args":["sysctl","-w",["net.ipv4.ip_forward=1",["x"]]]}}"#).unwrap();
    assert_eq!(
        e.values("process.args"),
        strs(&["sysctl", "-w", "net.ipv4.ip_forward=1", "x"])
    );
}

#[test]
fn arrays_of_objects_recurse_with_the_same_prefix() {
    let e = flatten(r#"{"dns":{"answers":[{"ip":"1.1.1.1","ttl":5},{"ip":"8.8.8.8"},{"ttl":9}]}}"#)
        .unwrap();
    assert_eq!(e.values("dns.answers.ip"), strs(&["1.1.1.1", "8.8.8.8"]));
    assert_eq!(e.values("dns.answers.ttl"), &[Value::Int(5), Value::Int(9)]);
}

#[test]
fn multi_value_event_action_keeps_every_element() {
    // Bug report row 26: Defend >= 8.16 merges fork/exec/end into one event.
    let e =
        flatten(r#"{"event":{"action":["fork","exec","end"],"type":["start","end"]}}"#).unwrap();
    assert_eq!(e.values("event.action"), strs(&["fork", "exec", "end"]));
    assert_eq!(e.values("event.type"), strs(&["start", "end"]));
}

#[test]
fn nulls_and_empty_arrays_give_no_value() {
    let e =
        flatten(r#"{"a":null,"b":[],"c":[null,"x",null],"d":{},"e":{"f":null},"g":[[],[null]]}"#)
            .unwrap();
    assert!(e.values("a").is_empty());
    assert!(e.values("b").is_empty());
    assert_eq!(e.values("c"), strs(&["x"]));
    assert!(e.values("d").is_empty());
    assert!(e.values("e.f").is_empty());
    assert!(e.values("g").is_empty());
    assert_eq!(e.len(), 1);
}

#[test]
fn null_value_replaces_explicit_nulls_only() {
    let mapping = Mapping::from_es_json(
        r#"{"properties":{"opt":{"type":"keyword","null_value":"NULL"},"n":{"type":"long","null_value":-1}}}"#,
    )
    .unwrap();
    let f = Flattener::new().with_mapping(&mapping);
    let explicit = f.event(r#"{"opt":null,"n":null}"#).unwrap();
    assert_eq!(explicit.values("opt"), strs(&["NULL"]));
    assert_eq!(explicit.values("n"), &[Value::Int(-1)]);
    let in_array = f.event(r#"{"opt":["a",null]}"#).unwrap();
    assert_eq!(in_array.values("opt"), strs(&["a", "NULL"]));
    // Missing or an empty array is not an explicit null.
    let missing = f.event(r#"{"other":1,"n":[]}"#).unwrap();
    assert!(missing.values("opt").is_empty());
    assert!(missing.values("n").is_empty());
    let value = f.event(r#"{"opt":"v"}"#).unwrap();
    assert_eq!(value.values("opt"), strs(&["v"]));
}

#[test]
fn numbers_booleans_and_strings_keep_their_json_type() {
    let e = flatten(
        r#"{"i":42,"neg":-7,"big":9223372036854775807,"huge":9223372036854775808,"f":1.25,"e":1e3,"t":true,"s":"42"}"#,
    )
    .unwrap();
    assert_eq!(e.values("i"), &[Value::Int(42)]);
    assert_eq!(e.values("neg"), &[Value::Int(-7)]);
    assert_eq!(e.values("big"), &[Value::Int(i64::MAX)]);
    assert_eq!(e.values("huge"), &[Value::Float(9223372036854775808.0)]);
    assert_eq!(e.values("f"), &[Value::Float(1.25)]);
    assert_eq!(e.values("e"), &[Value::Float(1000.0)]);
    assert_eq!(e.values("t"), &[Value::Bool(true)]);
    assert_eq!(e.values("s"), strs(&["42"]));
}

#[test]
fn escaped_keys_and_strings_are_decoded() {
    let e = flatten(r#"{"pro\u0063ess":{"na\"me":"a\\b\n"}}"#).unwrap();
    assert_eq!(e.values("process.na\"me"), strs(&["a\\b\n"]));
}

#[test]
fn source_text_is_kept_verbatim() {
    let text = "{ \"a\" : 1 ,\n \"b\": [true] }";
    let e = flatten(text).unwrap();
    assert_eq!(e.source(), text);
}

#[test]
fn projection_keeps_listed_paths_and_everything_below_prefixes() {
    let doc = r#"{"process":{"name":"x","pid":1,"parent":{"name":"p","args":["a"]}},"host.os.type":"linux","user":{"name":"u"}}"#;
    let f = Flattener::new().with_projection(Projection::only(["process.parent", "host.os.type"]));
    let e = f.event(doc).unwrap();
    assert_eq!(
        sorted_fields(&e),
        vec![
            ("host.os.type".to_string(), strs(&["linux"])),
            ("process.parent.args".to_string(), strs(&["a"])),
            ("process.parent.name".to_string(), strs(&["p"])),
        ]
    );
    // The source still has everything.
    assert_eq!(e.source(), doc);
    let star = Flattener::new()
        .with_projection(Projection::only(["user.*"]))
        .event(doc)
        .unwrap();
    assert_eq!(
        sorted_fields(&star),
        vec![("user.name".to_string(), strs(&["u"]))]
    );
    assert!(Projection::default().is_all());
    assert!(Projection::only(["*"]).is_all());
}

#[test]
fn projection_does_not_keep_a_leaf_at_an_ancestor_path() {
    let f = Flattener::new().with_projection(Projection::only(["process.name"]));
    let e = f.event(r#"{"process":"flat","process.name":"x"}"#).unwrap();
    assert!(e.values("process").is_empty());
    assert_eq!(e.values("process.name"), strs(&["x"]));
}

#[test]
fn non_objects_and_malformed_json_are_errors() {
    assert!(matches!(flatten("[1,2]"), Err(FlattenError::NotAnObject)));
    assert!(matches!(flatten("\"s\""), Err(FlattenError::NotAnObject)));
    assert!(matches!(flatten("{\"a\":}"), Err(FlattenError::Json(_))));
    assert!(matches!(flatten("{\"a\":1} x"), Err(FlattenError::Json(_))));
    assert!(matches!(
        flatten("type=SYSCALL"),
        Err(FlattenError::Json(_))
    ));
    // Deep nesting hits serde_json's recursion limit instead of the stack.
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "1");
    assert!(matches!(flatten(&deep), Err(FlattenError::Json(_))));
}
