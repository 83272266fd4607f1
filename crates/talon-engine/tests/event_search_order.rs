//! The order of an event query's answer (`talon query`), as Elasticsearch's
//! EQL search API orders it: by the timestamp as the field stores it, then
//! the tiebreaker, then index order. A `date` field keeps milliseconds, so
//! events less than a millisecond apart tie and keep their input order; a
//! `date_nanos` field keeps nanoseconds; a mapped `format` reads the dates.

use talon_engine::{ResultPosition, Search, SearchOptions};
use talon_eql::{compile_str, CompileOptions};
use talon_event::flatten::flatten;
use talon_event::mapping::Mapping;
use talon_event::Value;

/// The ids `any where true` returns over `docs` (JSON objects without
/// braces, each given `"id": i + 1`, in that input order).
fn answer(mapping: &Mapping, opts: SearchOptions, docs: &[String]) -> Vec<i64> {
    let compile = CompileOptions {
        mapping,
        ..CompileOptions::default()
    };
    let q = compile_str("any where true", &compile).expect("query");
    let mut s = Search::new(&q, mapping, opts);
    for (i, doc) in docs.iter().enumerate() {
        let mut e = flatten(&format!(r#"{{"id":{},{doc}}}"#, i + 1)).expect("json");
        e.seq = i as u64;
        s.push(e);
    }
    s.finish()
        .events
        .iter()
        .map(|e| {
            e.first("id")
                .and_then(Value::as_f64)
                .map_or(0, |f| f as i64)
        })
        .collect()
}

/// The ids `any where true` returns over `times` (event `i + 1` at
/// `times[i]`, in that input order).
fn order(mapping: &Mapping, times: &[&str], position: ResultPosition) -> Vec<i64> {
    let opts = SearchOptions {
        result_position: position,
        ..SearchOptions::default()
    };
    let docs: Vec<String> = times
        .iter()
        .map(|t| format!(r#""@timestamp":"{t}""#))
        .collect();
    answer(mapping, opts, &docs)
}

const SUB_MS: [&str; 3] = [
    "2024-01-01T00:00:01.0009Z",
    "2024-01-01T00:00:01.0001Z",
    "2024-01-01T00:00:01.000Z",
];

#[test]
fn a_date_field_orders_by_milliseconds_then_input_order() {
    // All three are 00:00:01.000 in a `date` field (the ECS type of
    // @timestamp, and what an unmapped date becomes): a tie, kept in index
    // order whichever end `size` takes from.
    for position in [ResultPosition::Head, ResultPosition::Tail] {
        assert_eq!(order(&Mapping::default(), &SUB_MS, position), [1, 2, 3]);
    }
    let date =
        Mapping::from_es_json(r#"{"properties":{"@timestamp":{"type":"date"}}}"#).expect("mapping");
    assert_eq!(order(&date, &SUB_MS, ResultPosition::Tail), [1, 2, 3]);
}

#[test]
fn a_date_nanos_field_orders_by_nanoseconds() {
    let nanos = Mapping::from_es_json(r#"{"properties":{"@timestamp":{"type":"date_nanos"}}}"#)
        .expect("mapping");
    assert_eq!(order(&nanos, &SUB_MS, ResultPosition::Tail), [3, 2, 1]);
}

#[test]
fn a_mapped_date_format_reads_the_dates() {
    let dmy = Mapping::from_es_json(
        r#"{"properties":{"@timestamp":{"type":"date","format":"dd-MM-yyyy HH:mm:ss"}}}"#,
    )
    .expect("mapping");
    let times = ["02-01-2024 00:00:00", "01-01-2024 00:00:00"];
    assert_eq!(order(&dmy, &times, ResultPosition::Tail), [2, 1]);
}

/// The ids `any where true` returns over events at one instant whose
/// tiebreaker `seq` holds the JSON values `ties`, in that input order.
fn tie_order(mapping: &Mapping, ties: &[&str]) -> Vec<i64> {
    let opts = SearchOptions {
        tiebreaker_field: Some("seq".into()),
        ..SearchOptions::default()
    };
    let docs: Vec<String> = ties
        .iter()
        .map(|tie| format!(r#""@timestamp":"2024-01-01T00:00:01Z","seq":{tie}"#))
        .collect();
    answer(mapping, opts, &docs)
}

#[test]
fn a_long_tiebreaker_orders_exactly_past_two_to_the_53() {
    // 2^53 + 1 and 2^53 are one double: compared as doubles they tie and
    // input order puts the larger first.
    let ties = ["9007199254740993", "9007199254740992"];
    assert_eq!(tie_order(&Mapping::default(), &ties), [2, 1]);
}

#[test]
fn a_keyword_tiebreaker_orders_as_text() {
    let keyword =
        Mapping::from_es_json(r#"{"properties":{"seq":{"type":"keyword"}}}"#).expect("mapping");
    // As text "10" < "9"; as numbers 9 < 10.
    assert_eq!(tie_order(&keyword, &[r#""9""#, r#""10""#]), [2, 1]);
    assert_eq!(
        tie_order(&Mapping::default(), &[r#""9""#, r#""10""#]),
        [1, 2]
    );
    // A missing tiebreaker sorts last.
    assert_eq!(
        tie_order(&Mapping::default(), &["null", "3", "1"]),
        [3, 2, 1]
    );
}

#[test]
fn longs_and_doubles_of_one_tiebreaker_order_consistently() {
    // "…993.0" is the double 2^53; "…993" the long 2^53 + 1. Converting
    // the long to a double made it tie with the doubles and sort above
    // the long 2^53 at once.
    let ties = [
        "9007199254740993",
        "9007199254740993.0",
        "9007199254740992",
        "9007199254740992.0",
    ];
    assert_eq!(tie_order(&Mapping::default(), &ties), [2, 3, 4, 1]);
}

/// The ids over events at one instant whose tiebreaker `seq` (mapped as
/// `ty`) holds the JSON values `ties`, taking from `position`.
fn typed_tie_order(ty: &str, ties: &[&str], position: ResultPosition) -> Vec<i64> {
    let mapping = Mapping::from_es_json(&format!(
        r#"{{"properties":{{"@timestamp":{{"type":"date"}},"seq":{{"type":"{ty}"}}}}}}"#
    ))
    .expect("mapping");
    let opts = SearchOptions {
        tiebreaker_field: Some("seq".into()),
        result_position: position,
        ..SearchOptions::default()
    };
    let docs: Vec<String> = ties
        .iter()
        .map(|tie| format!(r#""@timestamp":"2024-01-01T00:00:01Z","seq":{tie}"#))
        .collect();
    answer(&mapping, opts, &docs)
}

#[test]
fn dates_addresses_and_versions_order_by_value_not_text() {
    let tail = ResultPosition::Tail;
    // Half a second later, though "...00Z" sorts after "...00.5Z" as text;
    // 01:00+02:00 is the day before; a date the field cannot read is missing.
    let dates = [
        r#""2024-01-01T00:00:00Z""#,
        r#""2024-01-01T00:00:00.5Z""#,
        r#""2024-01-01T01:00:00+02:00""#,
        r#""not a date""#,
    ];
    assert_eq!(typed_tie_order("date", &dates, tail), [3, 1, 2, 4]);
    let addrs = [r#""10.0.0.10""#, r#""10.0.0.9""#, r#""nope""#, r#""::1""#];
    assert_eq!(typed_tie_order("ip", &addrs, tail), [4, 2, 1, 3]);
    // An invalid version sorts after the valid ones.
    let versions = [r#""bad""#, r#""1.10.0""#, r#""1.10.0-rc.1""#, r#""1.9.0""#];
    assert_eq!(typed_tie_order("version", &versions, tail), [4, 3, 2, 1]);
}

#[test]
fn a_multi_valued_tiebreaker_sorts_by_its_least_value_or_from_the_tail_its_greatest() {
    // Least: 3, 5, 4; greatest: 20, 5, 10; first: "10.0.0.20", "10.0.0.5",
    // "10.0.0.10".
    let addrs = [
        r#"["10.0.0.20","10.0.0.3"]"#,
        r#"["10.0.0.5"]"#,
        r#"["10.0.0.10",null,"10.0.0.4"]"#,
    ];
    assert_eq!(
        typed_tie_order("ip", &addrs, ResultPosition::Head),
        [1, 3, 2]
    );
    assert_eq!(
        typed_tie_order("ip", &addrs, ResultPosition::Tail),
        [2, 3, 1]
    );
    // So does a long of no mapping's: 1 of [9, 1] before 5.
    assert_eq!(
        answer(
            &Mapping::default(),
            SearchOptions {
                tiebreaker_field: Some("seq".into()),
                result_position: ResultPosition::Head,
                ..SearchOptions::default()
            },
            &[
                r#""@timestamp":"2024-01-01T00:00:01Z","seq":5"#.to_string(),
                r#""@timestamp":"2024-01-01T00:00:01Z","seq":[9,1]"#.to_string(),
            ],
        ),
        [2, 1]
    );
}
