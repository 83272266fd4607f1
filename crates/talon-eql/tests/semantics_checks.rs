//! What the checker rejects (with the span of the offender), what it
//! warns about, the combined pipe limits, referenced fields, and the
//! compiled plans of sequences and samples.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;
use talon_eql::{Limit, QueryKind, ResultPosition};

fn span_text(query: &str) -> String {
    let (a, b) = err_span(query);
    query
        .get(a as usize..b as usize)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn unknown_fields_point_at_the_field() {
    let map = mapping(
        &[("event.category", "keyword"), ("process.name", "keyword")],
        &[],
    );
    let query = "process where process.nmae == \"x\"";
    let opts = talon_eql::CompileOptions {
        mapping: &map,
        ..Default::default()
    };
    match talon_eql::compile_str(query, &opts) {
        Ok(_) => panic!("must fail"),
        Err(ds) => {
            assert_eq!(ds[0].message, "unknown field `process.nmae`");
            assert_eq!(&query[ds[0].span.range()], "process.nmae");
        }
    }
    // Every error is reported, not only the first.
    match talon_eql::compile_str("process where a == 1 and b == 2", &opts) {
        Ok(_) => panic!("must fail"),
        Err(ds) => assert_eq!(ds.len(), 2),
    }
}

/// The hint of the first error of `query` against `map`.
fn hint(query: &str, map: &talon_event::mapping::Mapping) -> Option<String> {
    let opts = talon_eql::CompileOptions {
        mapping: map,
        ..Default::default()
    };
    match talon_eql::compile_str(query, &opts) {
        Ok(_) => panic!("{query}: must fail"),
        Err(ds) => ds[0].hint.clone(),
    }
}

/// "did you mean" guesses a name a typo away, and never the name typed (an
/// alias whose path is missing used to be offered as a guess for itself);
/// the hint for a field nothing resembles names what the user gave: a
/// mapping, a schema, or both.
#[test]
fn unknown_field_hints_guess_near_names_and_name_the_mapping_or_schema() {
    use talon_event::mapping::Mapping;
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("process.name", "keyword"),
            ("process.parent.name", "keyword"),
        ],
        &[("x", "nope")],
    );
    let guess = |s: &str| Some(format!("did you mean `{s}`?"));
    assert_eq!(
        hint(r#"process where process.nme == "a""#, &map),
        guess("process.name")
    );
    assert_eq!(
        hint(r#"process where Process.Name == "a""#, &map),
        guess("process.name")
    );
    assert_eq!(
        hint(r#"process where a.name == "a""#, &map),
        guess("process.name")
    );
    // Among names with the same last part, the nearest: `host.name` was
    // offered for `proc.name`, first by name.
    let hosts = mapping(
        &[("host.name", "keyword"), ("process.name", "keyword")],
        &[],
    );
    assert_eq!(
        hint(r#"process where proc.name == "a""#, &hosts),
        guess("process.name")
    );
    // A short last part at another depth is no guess: `event.type` was
    // offered for `host.os.type` (a fresh user's report). A long one is.
    let types = mapping(
        &[
            ("event.type", "keyword"),
            ("file.pe.original_file_name", "keyword"),
        ],
        &[],
    );
    assert_eq!(
        hint(r#"process where host.os.type == "a""#, &types),
        Some(
            "the mapping does not have it: write `?host.os.type` if some events lack it, or \
             use the mapping GET <index>/_mapping returns (it includes dynamically mapped fields)"
                .to_string()
        )
    );
    assert_eq!(
        hint(
            r#"process where process.pe.original_file_name == "a""#,
            &types
        ),
        guess("file.pe.original_file_name")
    );
    let mapping_hint = |f: &str| {
        Some(format!(
            "the mapping does not have it: write `?{f}` if some events lack it, or use the \
             mapping GET <index>/_mapping returns (it includes dynamically mapped fields)"
        ))
    };
    assert_eq!(hint("process where x == 1", &map), mapping_hint("x"));
    // Too short to guess from: `y` is one edit from `x`, and means nothing.
    assert_eq!(hint("process where y == 1", &map), mapping_hint("y"));

    let (schema, _) =
        Mapping::from_schema_str("event.category\nprocess.name\n", "fields.txt").unwrap();
    assert_eq!(
        hint(r#"process where process.nmae == "a""#, &schema),
        guess("process.name")
    );
    assert_eq!(
        hint(r#"process where host.os.type == "a""#, &schema),
        Some(
            "the schema does not have it: write `?host.os.type` if some events lack it, or \
             give a schema that defines it too (--schema can be repeated)"
                .to_string()
        )
    );
    let (both, _) = Mapping::merged([mapping(&[("user.id", "keyword")], &[]), schema]);
    assert_eq!(
        hint(r#"process where host.os.type == "a""#, &both),
        Some(
            "neither the mapping nor the schema has it: write `?host.os.type` if some events \
             lack it, or use the mapping GET <index>/_mapping returns (it includes dynamically \
             mapped fields)"
                .to_string()
        )
    );
}

#[test]
fn type_errors_point_at_the_argument() {
    let map = mapping(
        &[
            ("n", "long"),
            ("s", "keyword"),
            ("t", "text"),
            ("event.category", "keyword"),
        ],
        &[],
    );
    assert!(err_m(r#"any where n : "1""#, &map).contains("must be [string]"));
    assert!(err_m(r#"any where n like "1*""#, &map).contains("must be [string]"));
    assert!(err_m(r#"any where n regex "1.*""#, &map).contains("must be [string]"));
    assert!(err_m(r#"any where s + 1 == 2"#, &map).contains("must be [numeric]"));
    assert!(err_m(r#"any where length(n) == 1"#, &map).contains("must be [string]"));
    assert!(err_m(r#"any where n in ("a", "b")"#, &map).contains("must be [long]"));
    assert!(err_m(r#"any where s in (1, 2)"#, &map).contains("must be [keyword]"));
    assert!(err_m(r#"any where t == "x""#, &map).contains("type text"));
    assert!(err_m(r#"any where s"#, &map).contains("needs to be boolean"));
    assert!(err_m(r#"any where s and n == 1"#, &map).contains("must be [boolean]"));
    assert!(err_m(r#"any where n == "abc""#, &map).contains("failed to parse"));
    assert_eq!(span_text(r#"any where length(1) == 1"#), "1");
    assert_eq!(span_text(r#"any where x regex "a(b""#), "\"a(b\"");
    assert_eq!(
        span_text(r#"any where cidrMatch(source.ip, "1.2.3.4/99")"#),
        "\"1.2.3.4/99\""
    );
    assert_eq!(span_text(r#"any where divide(x, 0) == 1"#), "0");
    assert_eq!(
        span_text(r#"any where x == number("abc")"#),
        "number(\"abc\")"
    );
    assert_eq!(span_text(r#"any where startsWith(x, "a", "b")"#), "\"b\"");
}

#[test]
fn in_list_wildcards_warn() {
    let c = q(r#"any where x in ("a*", "b")"#);
    assert_eq!(c.warnings().len(), 1);
    assert!(q(r#"any where x in ("a", "b")"#).warnings().is_empty());
}

#[test]
fn pipes_combine() {
    assert_eq!(q("any where true").limit(), Limit::None);
    assert_eq!(q("any where true | head 5").limit(), Limit::Head(5));
    assert_eq!(q("any where true | tail 3").limit(), Limit::Tail(3));
    assert_eq!(
        q("any where true | head 5 | head 3").limit(),
        Limit::Head(3)
    );
    assert_eq!(
        q("any where true | tail 5 | tail 7").limit(),
        Limit::Tail(5)
    );
    assert_eq!(
        q("any where true | head 4 | tail 2").limit(),
        Limit::HeadThenTail { head: 4, tail: 2 }
    );
    assert_eq!(
        q("any where true | tail 10 | head 7").limit(),
        Limit::TailThenHead { tail: 10, head: 7 }
    );
    assert_eq!(
        q("any where true | head 2 | tail 5").limit(),
        Limit::Head(2)
    );
    assert_eq!(
        q("any where true | head 10 | tail 5 | head 2").limit(),
        Limit::HeadThenTail { head: 7, tail: 2 }
    );
    let mut v: Vec<u32> = (1..=10).collect();
    Limit::HeadThenTail { head: 4, tail: 2 }.apply(&mut v);
    assert_eq!(v, vec![3, 4]);
    let mut v: Vec<u32> = (1..=10).collect();
    Limit::TailThenHead { tail: 2, head: 1 }.apply(&mut v);
    assert_eq!(v, vec![9]);
}

/// A request's `size` goes under the first pipe, as a limit of that pipe's
/// kind (Elasticsearch's LogicalPlanBuilder.visitStatement), and
/// `result_position` only picks the end when there is no pipe.
#[test]
fn size_is_a_limit_under_the_first_pipe() {
    use ResultPosition::{Head, Tail};
    let window = |query: &str, size: u64, position| q(query).window(size, position);
    // No pipe: `size` from the end `result_position` names.
    assert_eq!(window("any where true", 3, Tail), Limit::Tail(3));
    assert_eq!(window("any where true", 3, Head), Limit::Head(3));
    // The same direction: the smaller count, whatever the position.
    assert_eq!(window("any where true | head 100", 3, Tail), Limit::Head(3));
    assert_eq!(window("any where true | head 2", 10, Tail), Limit::Head(2));
    assert_eq!(window("any where true | tail 100", 3, Head), Limit::Tail(3));
    assert_eq!(window("any where true | tail 2", 10, Head), Limit::Tail(2));
    // Later pipes narrow what `size` kept: the last 3 of the first 5.
    assert_eq!(
        window("any where true | head 10 | tail 3", 5, Tail),
        Limit::HeadThenTail { head: 5, tail: 3 }
    );
    assert_eq!(
        window("any where true | tail 10 | head 3", 5, Head),
        Limit::TailThenHead { tail: 5, head: 3 }
    );
    // A later pipe larger than `size` changes nothing.
    assert_eq!(
        window("any where true | head 10 | tail 7", 5, Tail),
        Limit::Head(5)
    );
    // `size` larger than the pipes: the pipes alone.
    assert_eq!(
        window("any where true | head 10 | tail 3", 50, Head),
        Limit::HeadThenTail { head: 10, tail: 3 }
    );
    assert_eq!(window("any where true | head 5", 0, Tail), Limit::Head(0));
    let mut v: Vec<u32> = (1..=120).collect();
    window("any where true | head 100", 3, Tail).apply(&mut v);
    assert_eq!(v, vec![1, 2, 3]);
    let mut v: Vec<u32> = (1..=120).collect();
    window("any where true | tail 100", 3, Head).apply(&mut v);
    assert_eq!(v, vec![118, 119, 120]);
}

#[test]
fn referenced_fields_after_alias_resolution() {
    let map = mapping(
        &[
            ("event_type", "keyword"),
            ("pname", "keyword"),
            ("pid", "long"),
        ],
        &[("event.category", "event_type"), ("process.name", "pname")],
    );
    let c = qm_compile(
        r#"process where process.name == "x" and length(pname) > pid"#
            .replace("> pid", "> 1 and pid > 0")
            .as_str(),
        &map,
    );
    assert_eq!(
        c.referenced_fields(),
        vec![
            "event_type".to_string(),
            "pname".to_string(),
            "pid".to_string()
        ]
    );
    assert!(q("any where true").referenced_fields().is_empty());
}

#[test]
fn never_matches_for_folded_conditions() {
    assert!(q("process where false").never_matches());
    assert!(q("process where 1 == 2").never_matches());
    assert!(!q("process where 1 == 1").never_matches());
    assert!(q("process where 1 == 1").matches(&ev(json!({"event.category": "process"}))));
    assert!(
        q(r#"any where concat("a", "b") == "ab" and x == 1 and startsWith("ab", "b")"#)
            .never_matches()
    );
}

#[test]
fn sequences_compile_every_term() {
    let c = q(r#"sequence by user.name with maxspan=5m
        [process where process.name == "a"] by process.pid
        [file where true] by process.pid with runs=2
        ![network where true] by process.pid
        until [process where event.type == "end"] by process.pid"#);
    assert_eq!(c.kind(), QueryKind::Sequence);
    assert!(!c.matches(&ev(
        json!({"event.category": "process", "process.name": "a"})
    )));
    let s = match c.sequence() {
        Some(s) => s,
        None => panic!("no sequence plan"),
    };
    assert_eq!(s.maxspan_nanos, Some(300_000_000_000));
    assert_eq!(s.terms.len(), 3);
    assert_eq!(s.terms[1].runs, 2);
    assert!(s.terms[2].missing);
    assert!(s.until.is_some());
    let keys: Vec<Option<&str>> = s.terms[0].keys.iter().map(|k| k.path.as_deref()).collect();
    assert_eq!(keys, vec![Some("user.name"), Some("process.pid")]);
    // Mandatory keys are required by each term.
    let e = ev(
        json!({"event.category": "process", "process.name": "a", "user.name": "u", "process.pid": 1}),
    );
    assert!(s.terms[0].matches(&e));
    let no_key = ev(json!({"event.category": "process", "process.name": "a", "process.pid": 1}));
    assert!(!s.terms[0].matches(&no_key));
}

#[test]
fn optional_and_missing_join_keys() {
    let map = mapping(&[("event.category", "keyword"), ("transID", "long")], &[]);
    let c = qm_compile(
        "sequence by ?x, transID [ERROR where true] by ?x [OPTIONAL where true] by ?y",
        &map,
    );
    let s = match c.sequence() {
        Some(s) => s,
        None => panic!("no sequence plan"),
    };
    assert_eq!(s.terms[0].keys[0].path, None);
    assert!(s.terms[0].keys[0].optional);
    assert_eq!(s.terms[0].keys[1].path.as_deref(), Some("transID"));
    // The optional key does not make the event required to have it.
    assert!(s.terms[0].matches(&ev(json!({"event.category": "ERROR", "transID": 5}))));
}

#[test]
fn sequence_errors() {
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("a", "long"),
            ("b", "keyword"),
        ],
        &[],
    );
    assert!(err_m(
        "sequence [process where true] by a [process where true] by b",
        &map
    )
    .contains("incompatible"));
    assert!(
        err_m("sequence [process where c == 1] [process where true]", &map)
            .contains("unknown field")
    );
    assert!(
        err("sequence [process where true] by length(a) [process where true] by a")
            .contains("join keys must be fields")
    );
}

#[test]
fn samples_compile() {
    let c = q("sample by host [any where uptime > 0] by os [any where port > 100] by op_sys");
    assert_eq!(c.kind(), QueryKind::Sample);
    let s = match c.sequence() {
        Some(s) => s,
        None => panic!("no sample plan"),
    };
    assert_eq!(s.terms.len(), 2);
    assert_eq!(s.terms[1].keys[1].path.as_deref(), Some("op_sys"));
    assert!(s.terms[0].matches(&ev(json!({"host": "h", "os": "linux", "uptime": 5}))));
}

#[test]
fn legacy_queries_elasticsearch_rejects() {
    // Commented-out upstream tests that ES refuses.
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("serial_event_id", "long"),
            ("process_name", "keyword"),
            ("parent_process_name", "keyword"),
        ],
        &[],
    );
    assert!(err_m("process where missing_field != null", &map).contains("unknown field"));
    assert!(err_m(
        "process where serial_event_id < 5 and process_name <= parent_process_name",
        &map
    )
    .contains("Comparisons against fields"));
    assert!(err_m(
        "process where modulo(11, add(serial_event_id, 1)) == serial_event_id",
        &map
    )
    .contains("Comparisons against fields"));
    assert!(
        err("network where safe(divide(process_name, process_name))").contains("unknown function")
    );
    assert!(
        err("registry where arrayContains(bytes_written_string_list, \"missing\", \"en-US\")")
            .contains("unknown function")
    );
}

/// A key condition shared with the other terms (as Elasticsearch's
/// `PropagateJoinKeyConstraints` shares it) is checked where it is
/// written: keys of incompatible types give the key types' error, not one
/// about a field the term does not write (the other term's key put in the
/// condition), and a condition's own error is reported once, at its place.
#[test]
fn shared_key_conditions_report_the_query_as_written() {
    let map = mapping(
        &[
            ("event.category", "keyword"),
            ("host.ip", "ip"),
            ("host.name", "keyword"),
            ("n", "long"),
        ],
        &[],
    );
    let opts = talon_eql::CompileOptions {
        mapping: &map,
        ..Default::default()
    };
    let errors = |query: &str| -> Vec<(String, String)> {
        match talon_eql::compile_str(query, &opts) {
            Ok(_) => panic!("must fail: {query}"),
            Err(ds) => ds
                .iter()
                .map(|d| (d.message.clone(), query[d.span.range()].to_string()))
                .collect(),
        }
    };
    for (kind, what) in [("sequence", "Sequence"), ("sample", "Sample")] {
        let query = format!(
            r#"{kind} [process where cidrmatch(host.ip, "10.0.0.0/8")] by host.ip [process where true] by host.name"#
        );
        assert_eq!(
            errors(&query),
            [(
                format!("{what} key [host.name] type [keyword] is incompatible with key [host.ip] type [ip]"),
                "host.name".to_string()
            )]
        );
    }
    // The condition's own error, once, at the field it reads.
    assert_eq!(
        errors(
            r#"sequence by host.name [process where host.name + 1 > 2] [process where true] [process where true]"#
        ),
        [(
            "first argument of [host.name + 1] must be [numeric], found value [host.name] type [keyword]"
                .to_string(),
            "host.name".to_string()
        )]
    );
}
