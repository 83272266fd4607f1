//! A rule's `filters` compiled against a mapping and tested on events:
//! which events each query shape passes on keyword, text, number, date,
//! ip and boolean fields, as Elasticsearch answers the search Kibana
//! builds; `negate` and `disabled`; and where a value Elasticsearch would
//! refuse is reported.

use std::path::Path;

use talon_engine::{compile_rule, CompiledRule, RuleProblem};
use talon_event::flatten::flatten;
use talon_event::mapping::Mapping;
use talon_rules::{load_str, RuleFormat};

/// A Kibana export line of an EQL rule with these `filters` (JSON).
fn export(filters: &str) -> String {
    format!(
        r#"{{"rule_id":"f-1","name":"filtered","type":"eql","language":"eql","query":"any where true","risk_score":21,"severity":"low","index":["logs-*"],"filters":{filters}}}"#
    )
}

fn compiled(filters: &str, mapping: &Mapping) -> Result<CompiledRule, RuleProblem> {
    let text = export(filters);
    let (mut rules, errors) = load_str(&text, Path::new("rule.ndjson"), RuleFormat::KibanaNdjson);
    assert!(errors.is_empty(), "{errors:?}");
    compile_rule(rules.remove(0), mapping)
}

/// The events (each with an `event.id`) the filters let through.
fn passing(filters: &str, mapping: &Mapping, events: &[&str]) -> Vec<String> {
    let rule = match compiled(filters, mapping) {
        Ok(r) => r,
        Err(p) => panic!("{}", p.render()),
    };
    events
        .iter()
        .map(|e| flatten(e).expect("event JSON"))
        .filter(|e| rule.filters.matches(e))
        .map(|e| e.first_str("event.id").unwrap_or("?").to_string())
        .collect()
}

/// The warnings (rule notes) compiling the rule left, as printed.
fn notes(filters: &str, mapping: &Mapping) -> Vec<String> {
    let rule = compiled(filters, mapping).map_err(|p| p.render()).unwrap();
    rule.rule
        .unapplied
        .iter()
        .map(|n| n.as_warning().to_string())
        .collect()
}

const MAPPING: &str = r#"{"mappings":{"properties":{
  "event":{"properties":{"id":{"type":"keyword"}}},
  "host":{"properties":{"name":{"type":"keyword","ignore_above":8}}},
  "message":{"type":"text"},
  "user":{"properties":{"name":{"type":"keyword"}}},
  "process":{"properties":{"pid":{"type":"long"},"name":{"type":"keyword"},"command_line":{"type":"wildcard"}}},
  "@timestamp":{"type":"date"},
  "source":{"properties":{"ip":{"type":"ip"}}},
  "labels":{"properties":{"trusted":{"type":"boolean"}}}
}}}"#;

fn mapping() -> Mapping {
    Mapping::from_es_json(MAPPING).expect("mapping")
}

const HOSTS: &[&str] = &[
    r#"{"event":{"id":"a"},"host":{"name":"web-01"},"user":{"name":"root"}}"#,
    r#"{"event":{"id":"b"},"host":{"name":"WEB-01"},"user":{"name":"alice"}}"#,
    r#"{"event":{"id":"c"},"host":{"name":["db-01","web-02"]}}"#,
    r#"{"event":{"id":"d"},"user":{"name":"root"}}"#,
    r#"{"event":{"id":"e"},"host":{"name":"a-very-long-name"}}"#,
];

#[test]
fn keyword_queries_match_the_value_exactly() {
    for m in [Mapping::default(), mapping()] {
        let p = |f: &str| passing(f, &m, HOSTS);
        assert_eq!(
            p(r#"[{"query":{"match_phrase":{"host.name":"web-01"}}}]"#),
            ["a"]
        );
        assert_eq!(
            p(r#"[{"query":{"match":{"host.name":{"query":"web-01"}}}}]"#),
            ["a"]
        );
        assert_eq!(
            p(r#"[{"query":{"term":{"host.name":{"value":"web-01"}}}}]"#),
            ["a"]
        );
        assert_eq!(
            p(r#"[{"query":{"term":{"host.name":{"value":"web-01","case_insensitive":true}}}}]"#),
            ["a", "b"]
        );
        // Any value of a multi-valued field.
        assert_eq!(
            p(r#"[{"query":{"terms":{"host.name":["db-01","x"]}}}]"#),
            ["c"]
        );
        assert_eq!(
            p(r#"[{"query":{"terms":{"host.name":[]}}}]"#),
            Vec::<String>::new()
        );
        assert_eq!(
            p(
                r#"[{"query":{"wildcard":{"host.name":{"value":"WEB-0?","case_insensitive":true}}}}]"#
            ),
            ["a", "b", "c"]
        );
        assert_eq!(
            p(r#"[{"query":{"wildcard":{"host.name":"web-*"}}}]"#),
            ["a", "c"]
        );
        assert_eq!(
            p(r#"[{"query":{"prefix":{"host.name":{"value":"db"}}}}]"#),
            ["c"]
        );
        assert_eq!(
            p(r#"[{"query":{"range":{"host.name":{"gte":"db","lt":"web-01"}}}}]"#),
            ["c"]
        );
    }
}

#[test]
fn negate_keeps_events_lacking_the_field_and_disabled_filters_are_left_out() {
    let m = Mapping::default();
    let p = |f: &str| passing(f, &m, HOSTS);
    assert_eq!(
        p(r#"[{"meta":{"negate":true},"query":{"match_phrase":{"host.name":"web-01"}}}]"#),
        ["b", "c", "d", "e"]
    );
    assert_eq!(
        p(
            r#"[{"meta":{"negate":true,"disabled":true},"query":{"match_phrase":{"host.name":"web-01"}}}]"#
        ),
        ["a", "b", "c", "d", "e"]
    );
    // Two filters are ANDed.
    assert_eq!(
        p(
            r#"[{"query":{"match_phrase":{"user.name":"root"}}},{"meta":{"negate":true},"exists":{"field":"host.name"}}]"#
        ),
        ["d"]
    );
    // A `negate` that is not a boolean: Kibana applies the filter neither
    // way, and so does talon, with a warning.
    let odd = r#"[{"meta":{"negate":"true"},"query":{"match_phrase":{"host.name":"web-01"}}}]"#;
    assert_eq!(p(odd), ["a", "b", "c", "d", "e"]);
    let (rules, _) = load_str(
        &export(odd),
        Path::new("r.ndjson"),
        RuleFormat::KibanaNdjson,
    );
    assert_eq!(rules[0].unapplied.len(), 1);
    assert!(rules[0].unapplied[0]
        .message
        .contains("filter 1 is not applied: its `meta.negate` is a string"));
}

#[test]
fn ignore_above_leaves_long_keywords_unindexed() {
    // `host.name` has `ignore_above: 8` in the mapping: `a-very-long-name`
    // is kept in the source but not indexed.
    let m = mapping();
    let p = |f: &str| passing(f, &m, HOSTS);
    assert_eq!(
        p(r#"[{"query":{"exists":{"field":"host.name"}}}]"#),
        ["a", "b", "c"]
    );
    assert_eq!(
        p(r#"[{"query":{"wildcard":{"host.name":"a-*"}}}]"#),
        Vec::<String>::new()
    );
    // Without the mapping it is an ordinary value.
    let d = Mapping::default();
    assert_eq!(
        passing(r#"[{"query":{"wildcard":{"host.name":"a-*"}}}]"#, &d, HOSTS),
        ["e"]
    );
}

const MESSAGES: &[&str] = &[
    r#"{"event":{"id":"a"},"message":"Failed password for root from 10.0.0.1"}"#,
    r#"{"event":{"id":"b"},"message":"password for ROOT failed"}"#,
    r#"{"event":{"id":"c"},"message":["root login","password changed"]}"#,
    r#"{"event":{"id":"d"}}"#,
];

#[test]
fn text_fields_are_searched_by_their_words() {
    let m = mapping();
    let p = |f: &str| passing(f, &m, MESSAGES);
    // The words in order, in one value.
    assert_eq!(
        p(r#"[{"query":{"match_phrase":{"message":"Password for root"}}}]"#),
        ["a", "b"]
    );
    assert_eq!(
        p(r#"[{"query":{"match_phrase":{"message":"root password"}}}]"#),
        Vec::<String>::new()
    );
    // Any word, or every word (across the values).
    assert_eq!(
        p(r#"[{"query":{"match":{"message":"login failed"}}}]"#),
        ["a", "b", "c"]
    );
    assert_eq!(
        p(r#"[{"query":{"match":{"message":{"query":"root password","operator":"and"}}}}]"#),
        ["a", "b", "c"]
    );
    assert_eq!(
        p(r#"[{"query":{"match":{"message":{"query":"root changed","operator":"AND"}}}}]"#),
        ["c"]
    );
    // A term is one indexed (lower-case) word.
    assert_eq!(
        p(r#"[{"query":{"term":{"message":"root"}}}]"#),
        ["a", "b", "c"]
    );
    assert_eq!(
        p(r#"[{"query":{"term":{"message":"ROOT"}}}]"#),
        Vec::<String>::new()
    );
    assert_eq!(
        p(r#"[{"query":{"term":{"message":{"value":"10.0.0.1"}}}}]"#),
        ["a"]
    );
    // Patterns apply to words, lower-cased as the words are.
    assert_eq!(
        p(r#"[{"query":{"wildcard":{"message":"FAIL*"}}}]"#),
        ["a", "b"]
    );
    assert_eq!(p(r#"[{"query":{"prefix":{"message":"chan"}}}]"#), ["c"]);
    // A simple query_string is a match on the field.
    assert_eq!(
        p(r#"[{"query":{"query_string":{"query":"message:changed"}}}]"#),
        ["c"]
    );
    assert_eq!(
        p(r#"[{"query":{"query_string":{"query":"message:\"root login\""}}}]"#),
        ["c"]
    );
    // Without a mapping, `message` is a keyword: the whole value.
    let d = Mapping::default();
    assert_eq!(
        passing(
            r#"[{"query":{"match_phrase":{"message":"root login"}}}]"#,
            &d,
            MESSAGES
        ),
        ["c"]
    );
}

const PROCESSES: &[&str] = &[
    r#"{"event":{"id":"a"},"@timestamp":"2024-05-01T10:00:00Z","process":{"pid":150,"name":"sysctl"},"source":{"ip":"10.1.2.3"},"labels":{"trusted":true}}"#,
    r#"{"event":{"id":"b"},"@timestamp":"2024-05-01T23:59:59.999Z","process":{"pid":"99","name":"bash"},"source":{"ip":"192.168.0.9"},"labels":{"trusted":"false"}}"#,
    r#"{"event":{"id":"c"},"@timestamp":"2024-05-02T00:00:00Z","process":{"pid":100},"source":{"ip":"::1"}}"#,
    r#"{"event":{"id":"d"},"@timestamp":1714521600000}"#,
];

#[test]
fn numbers_dates_addresses_and_booleans_compare_as_their_types() {
    let m = mapping();
    let p = |f: &str| passing(f, &m, PROCESSES);
    // Numbers: a string of one too, on either side.
    assert_eq!(p(r#"[{"query":{"term":{"process.pid":"150"}}}]"#), ["a"]);
    assert_eq!(
        p(r#"[{"query":{"match_phrase":{"process.pid":99}}}]"#),
        ["b"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"process.pid":{"gte":99,"lt":"150"}}}}]"#),
        ["b", "c"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"process.pid":{"gt":99,"lte":150}}}}]"#),
        ["a", "c"]
    );
    // Dates: a day is every instant of it; `gt` a day starts after it.
    assert_eq!(
        p(r#"[{"query":{"term":{"@timestamp":"2024-05-01"}}}]"#),
        ["a", "b", "d"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"@timestamp":{"gt":"2024-05-01"}}}}]"#),
        ["c"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"@timestamp":{"lte":"2024-05-01"}}}}]"#),
        ["a", "b", "d"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"@timestamp":{"gte":"2024-05-01T10:00","lt":"2024-05-02"}}}}]"#),
        ["a", "b"]
    );
    assert_eq!(
        p(
            r#"[{"query":{"range":{"@timestamp":{"gte":"2024-05-01T12:00:00","time_zone":"+02:00","lt":1714608000000}}}}]"#
        ),
        ["a", "b"]
    );
    // Addresses: a CIDR block, or an address range.
    assert_eq!(
        p(r#"[{"query":{"term":{"source.ip":"10.0.0.0/8"}}}]"#),
        ["a"]
    );
    assert_eq!(
        p(r#"[{"query":{"range":{"source.ip":{"gte":"10.0.0.0","lte":"192.168.0.9"}}}}]"#),
        ["a", "b"]
    );
    // Booleans, written either way.
    assert_eq!(
        p(r#"[{"query":{"match_phrase":{"labels.trusted":"true"}}}]"#),
        ["a"]
    );
    assert_eq!(p(r#"[{"query":{"term":{"labels.trusted":false}}}]"#), ["b"]);
    // Without a mapping, ECS's types: `process.pid` is a long, `@timestamp`
    // a date; other fields compare as their values.
    let d = Mapping::default();
    assert_eq!(
        passing(
            r#"[{"query":{"range":{"process.pid":{"gte":"100"}}}}]"#,
            &d,
            PROCESSES
        ),
        ["a", "c"]
    );
}

#[test]
fn bool_queries_combine_as_elasticsearch_combines_them() {
    let m = mapping();
    let p = |f: &str| passing(f, &m, PROCESSES);
    let q = |body: &str| format!(r#"[{{"query":{{"bool":{body}}}}}]"#);
    // Kibana's phrases filter: a should of phrases, one at least.
    assert_eq!(
        p(&q(
            r#"{"should":[{"match_phrase":{"process.name":"bash"}},{"match_phrase":{"process.pid":100}}],"minimum_should_match":1}"#
        )),
        ["b", "c"]
    );
    // Two of three.
    assert_eq!(
        p(&q(
            r#"{"should":[{"exists":{"field":"process.name"}},{"range":{"process.pid":{"gte":100}}},{"term":{"labels.trusted":true}}],"minimum_should_match":2}"#
        )),
        ["a"]
    );
    // must, filter and must_not; a should beside them is optional.
    assert_eq!(
        p(&q(
            r#"{"must":{"exists":{"field":"process.pid"}},"filter":[{"range":{"process.pid":{"lt":150}}}],"must_not":[{"match_phrase":{"process.name":"bash"}}],"should":[{"match_all":{}}]}"#
        )),
        ["c"]
    );
    // Only must_not: everything else.
    assert_eq!(
        p(&q(r#"{"must_not":{"exists":{"field":"process"}}}"#)),
        ["d"]
    );
    // An empty bool is every event.
    assert_eq!(p(&q("{}")), ["a", "b", "c", "d"]);
    // A combined filter, OR: either sub-filter (the second negated).
    let combined = r#"[{"meta":{"type":"combined","relation":"OR","params":[
        {"query":{"match_phrase":{"process.name":"sysctl"}}},
        {"meta":{"negate":true},"query":{"exists":{"field":"process.pid"}}}
    ]},"query":{}}]"#;
    assert_eq!(p(combined), ["a", "d"]);
    let and = combined.replace("\"OR\"", "\"AND\"");
    assert_eq!(p(&and), Vec::<String>::new());
}

#[test]
fn a_field_the_mapping_lacks_matches_nothing_with_a_warning() {
    let m = mapping();
    let f = r#"[{"query":{"match_phrase":{"proces.name":"bash"}}}]"#;
    assert_eq!(passing(f, &m, PROCESSES), Vec::<String>::new());
    let n = notes(f, &m);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0].starts_with("rule.ndjson:1:"), "{n:?}");
    assert!(
        n[0].contains("filter 1: `proces.name` is not in the mapping"),
        "{n:?}"
    );
    let negated = r#"[{"meta":{"negate":true},"query":{"match_phrase":{"proces.name":"bash"}}}]"#;
    assert_eq!(passing(negated, &m, PROCESSES), ["a", "b", "c", "d"]);
    // An object is mapped: exists looks below it.
    assert_eq!(
        passing(
            r#"[{"query":{"exists":{"field":"process"}}}]"#,
            &m,
            PROCESSES
        ),
        ["a", "b", "c"]
    );
}

#[test]
fn values_elasticsearch_refuses_are_errors_at_the_value() {
    let m = mapping();
    let error = |f: &str| match compiled(f, &m) {
        Err(p @ RuleProblem::Filter { .. }) => p.render(),
        Err(p) => panic!("another problem: {}", p.render()),
        Ok(_) => panic!("compiled: {f}"),
    };
    let text = error(r#"[{"query":{"range":{"process.pid":{"gte":"abc"}}}}]"#);
    let line = export(r#"[{"query":{"range":{"process.pid":{"gte":"abc"}}}}]"#);
    let col = line.find("\"abc\"").unwrap() + 1;
    assert!(
        text.starts_with(&format!(
            "rule.ndjson:1:{col}: error: filter 1: `process.pid` is a long field and the bound \"abc\" is not a number"
        )),
        "{text}"
    );
    assert!(text.contains("^^^^^"), "{text}");
    assert!(
        error(r#"[{"query":{"term":{"source.ip":"not-an-ip"}}}]"#).contains("is not an IP address")
    );
    assert!(error(r#"[{"query":{"term":{"@timestamp":"yesterday"}}}]"#).contains("is not a date"));
    assert!(error(r#"[{"query":{"wildcard":{"process.pid":"1*"}}}]"#)
        .contains("runs `wildcard` queries on keyword and text fields only"));
    // `lenient` matches nothing instead.
    assert_eq!(
        passing(
            r#"[{"query":{"match":{"process.pid":{"query":"abc","lenient":true}}}}]"#,
            &m,
            PROCESSES
        ),
        Vec::<String>::new()
    );
}

#[test]
fn date_math_leaves_the_filter_not_applied_with_a_warning() {
    let m = mapping();
    let f = r#"[{"query":{"range":{"@timestamp":{"gte":"now-1d/d"}}}},{"query":{"exists":{"field":"process.name"}}}]"#;
    // The first filter is left out, the second still applies.
    assert_eq!(passing(f, &m, PROCESSES), ["a", "b"]);
    let n = notes(f, &m);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].contains("filter 1 is accepted but not applied: \"now-1d/d\" is date math"),
        "{n:?}"
    );
}
