//! One test per rule of Elasticsearch's sequence semantics, on small event
//! streams written out in full: maxspan, until, runs, missing events,
//! multi-valued and null join keys, result order and limits, the
//! re-ordering window and the caps on held state.

use std::sync::Arc;

use talon_engine::{
    ResultPosition, SequenceMatch, SequenceOptions, SequenceRunner, SequenceSearch, SequenceWarning,
};
use talon_eql::{compile_str, CompileOptions, CompiledQuery};
use talon_event::flatten::flatten;
use talon_event::mapping::Mapping;
use talon_event::{Event, Value};

/// An event `{"id": id, "@timestamp": ts_ms, "event": {"category": cat}}`
/// plus the extra JSON members in `rest` (without braces).
fn ev(id: i64, ts_ms: i64, cat: &str, rest: &str) -> Arc<Event> {
    let sep = if rest.is_empty() { "" } else { "," };
    let text =
        format!(r#"{{"id":{id},"@timestamp":{ts_ms},"event":{{"category":"{cat}"}}{sep}{rest}}}"#);
    let mut e = flatten(&text).expect("test event is JSON");
    e.seq = id as u64;
    Arc::new(e)
}

fn compile(query: &str, mapping: &Mapping) -> CompiledQuery {
    let opts = CompileOptions {
        mapping,
        ..CompileOptions::default()
    };
    compile_str(query, &opts).unwrap_or_else(|d| panic!("{query}: {d:?}"))
}

fn opts() -> SequenceOptions {
    SequenceOptions {
        size: 100,
        reorder_window_nanos: i64::MAX,
        ..SequenceOptions::default()
    }
}

fn ids(m: &SequenceMatch) -> Vec<i64> {
    m.events
        .iter()
        .map(|e| match e {
            Some(e) => e
                .first("id")
                .and_then(Value::as_f64)
                .map_or(-2, |f| f as i64),
            None => -1,
        })
        .collect()
}

fn keys(m: &SequenceMatch) -> Vec<String> {
    m.join_keys
        .iter()
        .map(|v| {
            if v.is_null() {
                "null".to_string()
            } else {
                v.to_string()
            }
        })
        .collect()
}

/// Runs a search and returns the id lists of the sequences.
fn search_with(query: &str, events: &[Arc<Event>], o: SequenceOptions) -> Vec<Vec<i64>> {
    let q = compile(query, &Mapping::default());
    let mut s = SequenceSearch::new(&q, &Mapping::default(), o).expect("sequence query");
    for e in events {
        s.push(e);
    }
    s.finish().sequences.iter().map(ids).collect()
}

fn search(query: &str, events: &[Arc<Event>]) -> Vec<Vec<i64>> {
    search_with(query, events, opts())
}

const AB: &str = "sequence with maxspan=1s [process where true] [network where true]";

#[test]
fn maxspan_is_inclusive_first_to_last() {
    let at = |t| vec![ev(1, 0, "process", ""), ev(2, t, "network", "")];
    assert_eq!(search(AB, &at(1000)), [[1, 2]]);
    assert!(search(AB, &at(1001)).is_empty());
    // Measured from the first event, not the previous one.
    let three =
        "sequence with maxspan=1s [process where true] [file where true] [network where true]";
    let events = [
        ev(1, 0, "process", ""),
        ev(2, 600, "file", ""),
        ev(3, 1200, "network", ""),
    ];
    assert!(search(three, &events).is_empty());
}

#[test]
fn maxspan_has_nanosecond_resolution_on_date_nanos() {
    let mapping = Mapping::from_es_json(
        r#"{"properties":{"@timestamp":{"type":"date_nanos"},"id":{"type":"long"},
            "event":{"properties":{"category":{"type":"keyword"}}}}}"#,
    )
    .expect("mapping");
    let q = compile(AB, &mapping);
    let run = |second: &str| {
        let mut s = SequenceSearch::new(&q, &mapping, opts()).expect("sequence");
        let a = r#"{"id":1,"@timestamp":"1970-01-01T00:00:00.000000000Z","event":{"category":"process"}}"#;
        let b = format!(r#"{{"id":2,"@timestamp":"{second}","event":{{"category":"network"}}}}"#);
        for (i, text) in [a.to_string(), b].iter().enumerate() {
            let mut e = flatten(text).expect("json");
            e.seq = i as u64;
            s.push(&Arc::new(e));
        }
        s.finish().sequences.len()
    };
    assert_eq!(run("1970-01-01T00:00:01.000000000Z"), 1);
    assert_eq!(run("1970-01-01T00:00:01.000000001Z"), 0);
}

#[test]
fn a_date_field_keeps_milliseconds() {
    // 1000.9 ms is stored as 1000 ms by a `date` field: within 1s.
    let events = [
        ev(1, 0, "process", ""),
        Arc::new({
            let mut e = flatten(r#"{"id":2,"@timestamp":"1970-01-01T00:00:01.000900Z","event":{"category":"network"}}"#)
                .expect("json");
            e.seq = 2;
            e
        }),
    ];
    assert_eq!(search(AB, &events), [[1, 2]]);
}

#[test]
fn the_newest_pending_sequence_replaces_older_ones() {
    // Each stage holds one sequence per key: a2 replaces a1; b3 takes a2
    // on, so b4 finds nothing to advance and (2, 3) waits for c6.
    let q = "sequence by user [a where true] [b where true] [c where true]";
    let u = |id, cat: &str| ev(id, id, cat, r#""user":"root""#);
    let events = [
        u(1, "a"),
        u(2, "a"),
        u(3, "b"),
        u(4, "b"),
        u(5, "a"),
        u(6, "c"),
        u(7, "b"),
        u(8, "c"),
    ];
    assert_eq!(search(q, &events), [vec![2, 3, 6], vec![5, 7, 8]]);
}

#[test]
fn one_event_fills_one_stage_but_joins_several_sequences() {
    let q = "sequence [process where true] [process where true]";
    assert!(search(q, &[ev(1, 1, "process", "")]).is_empty());
    let events: Vec<_> = (1..=3).map(|i| ev(i, i, "process", "")).collect();
    assert_eq!(search(q, &events), [[1, 2], [2, 3]]);
}

#[test]
fn until_kills_sequences_of_its_key() {
    let q = r#"sequence by host [process where true] [network where true] until [file where true]"#;
    let h = |id, ts, cat: &str, host: &str| ev(id, ts, cat, &format!(r#""host":"{host}""#));
    // Between the first and second event: killed.
    assert!(search(
        q,
        &[
            h(1, 1, "process", "a"),
            h(2, 2, "file", "a"),
            h(3, 3, "network", "a")
        ]
    )
    .is_empty());
    // Another key's until changes nothing; one before the start neither.
    let events = [
        h(1, 1, "file", "a"),
        h(2, 2, "process", "a"),
        h(3, 3, "file", "b"),
        h(4, 4, "network", "a"),
    ];
    assert_eq!(search(q, &events), [[2, 4]]);
    // After the sequence completed: ignored.
    assert_eq!(
        search(
            q,
            &[
                h(1, 1, "process", "a"),
                h(2, 2, "network", "a"),
                h(3, 3, "file", "a")
            ]
        ),
        [[1, 2]]
    );
}

#[test]
fn an_until_event_that_is_also_matched_kills_unless_it_completes() {
    // As test_extra's sequenceWithOptionalFieldsAndUntil_1/_2.
    let q = |stop| {
        format!(
            "sequence [process where true] [file where true] with runs=2 until [file where tag == \"{stop}\"]"
        )
    };
    let events = [
        ev(1, 1, "process", ""),
        ev(2, 2, "file", r#""tag":"x""#),
        ev(3, 3, "file", r#""tag":"y""#),
    ];
    assert!(search(&q("x"), &events).is_empty());
    assert_eq!(search(&q("y"), &events), [[1, 2, 3]]);
}

#[test]
fn runs_repeat_a_term() {
    let q = "sequence [process where true] [file where true] with runs=3";
    let mut events = vec![ev(1, 1, "process", "")];
    events.extend((2..=3).map(|i| ev(i, i, "file", "")));
    assert!(search(q, &events).is_empty());
    events.push(ev(4, 4, "file", ""));
    assert_eq!(search(q, &events), [[1, 2, 3, 4]]);
}

const MIDDLE: &str = r#"sequence with maxspan=1s [a where true] ![m where true] [b where true]"#;

#[test]
fn a_middle_missing_event_discards_strictly_between() {
    assert!(search(
        MIDDLE,
        &[ev(1, 0, "a", ""), ev(2, 5, "m", ""), ev(3, 10, "b", "")]
    )
    .is_empty());
    // Same timestamp as a neighbour is not between.
    assert_eq!(
        search(
            MIDDLE,
            &[ev(1, 5, "a", ""), ev(2, 5, "m", ""), ev(3, 10, "b", "")]
        ),
        [[1, -1, 3]]
    );
    assert_eq!(
        search(
            MIDDLE,
            &[ev(1, 0, "a", ""), ev(2, 10, "b", ""), ev(3, 20, "m", "")]
        ),
        [[1, -1, 2]]
    );
}

#[test]
fn a_discarded_candidate_is_not_replaced() {
    // a1 a2 m b: the candidate is (a2, b), which m discards; (a1, b) is
    // never a candidate because a2 replaced a1.
    let events = [
        ev(1, 0, "a", ""),
        ev(2, 5, "a", ""),
        ev(3, 6, "m", ""),
        ev(4, 10, "b", ""),
    ];
    assert!(search(MIDDLE, &events).is_empty());
}

#[test]
fn leading_missing_events_look_back_maxspan_from_the_last_event() {
    let q = "sequence with maxspan=10ms ![m where true] [a where true] [b where true]";
    assert_eq!(
        search(
            q,
            &[ev(1, 0, "m", ""), ev(2, 12, "a", ""), ev(3, 20, "b", "")]
        ),
        [[-1, 2, 3]]
    );
    // 10 >= 20 - 10: inside the window.
    assert!(search(
        q,
        &[ev(1, 10, "m", ""), ev(2, 12, "a", ""), ev(3, 20, "b", "")]
    )
    .is_empty());
    // After the first positive event it is not leading.
    assert_eq!(
        search(
            q,
            &[ev(1, 12, "a", ""), ev(2, 13, "m", ""), ev(3, 20, "b", "")]
        ),
        [[-1, 1, 3]]
    );
}

#[test]
fn trailing_missing_events_look_forward_maxspan_from_the_first_event() {
    let q = "sequence with maxspan=10ms [a where true] [b where true] ![m where true]";
    assert!(search(
        q,
        &[ev(1, 0, "a", ""), ev(2, 5, "b", ""), ev(3, 10, "m", "")]
    )
    .is_empty());
    assert_eq!(
        search(
            q,
            &[ev(1, 0, "a", ""), ev(2, 5, "b", ""), ev(3, 11, "m", "")]
        ),
        [[1, 2, -1]]
    );
    assert_eq!(
        search(q, &[ev(1, 0, "a", ""), ev(2, 5, "b", "")]),
        [[1, 2, -1]]
    );
}

#[test]
fn leading_and_trailing_need_a_free_window() {
    let q = "sequence with maxspan=10ms ![m where true] [a where true] ![m where true]";
    let run = |lead, trail| {
        search(
            q,
            &[
                ev(1, lead, "m", ""),
                ev(2, 5, "a", ""),
                ev(3, trail, "m", ""),
            ],
        )
    };
    // Both found: kept only when they are more than maxspan apart.
    assert_eq!(run(0, 11), [[-1, 2, -1]]);
    assert!(run(0, 10).is_empty());
    // No trailing event within maxspan of the first: kept.
    assert_eq!(run(0, 16), [[-1, 2, -1]]);
}

#[test]
fn a_trailing_candidate_is_emitted_once_time_has_passed() {
    let q = compile(
        "sequence with maxspan=10ms [a where true] ![m where true]",
        &Mapping::default(),
    );
    let o = SequenceOptions {
        reorder_window_nanos: 0,
        ..SequenceOptions::default()
    };
    let mut r = SequenceRunner::new(&q, &Mapping::default(), o).expect("sequence");
    let mut got = Vec::new();
    for e in [ev(1, 0, "a", ""), ev(2, 5, "x", ""), ev(3, 10, "x", "")] {
        r.push(&e, &mut |m| got.push(ids(&m)));
    }
    assert!(got.is_empty(), "a trailing event could still come at 10 ms");
    r.push(&ev(4, 11, "x", ""), &mut |m| got.push(ids(&m)));
    r.push(&ev(5, 12, "x", ""), &mut |m| got.push(ids(&m)));
    assert_eq!(got, [[1, -1]]);
    let stats = r.finish(&mut |m| got.push(ids(&m)));
    assert_eq!((got.len(), stats.matches), (1, 1));
}

#[test]
fn runs_on_a_missing_term_give_as_many_placeholders() {
    let q = "sequence with maxspan=1s [a where true] ![m where true] with runs=2 [b where true]";
    assert_eq!(
        search(q, &[ev(1, 0, "a", ""), ev(2, 5, "b", "")]),
        [[1, -1, -1, 2]]
    );
}

#[test]
fn missing_terms_join_on_their_own_keys() {
    let q =
        "sequence with maxspan=1s [a where true] by k1 ![m where true] by k2 [b where true] by k1";
    let events = [
        ev(1, 0, "a", r#""k1":"x""#),
        ev(2, 1, "m", r#""k2":"y""#),
        ev(3, 2, "b", r#""k1":"x""#),
        ev(4, 3, "a", r#""k1":"y""#),
        ev(5, 4, "m", r#""k2":"y""#),
        ev(6, 5, "b", r#""k1":"y""#),
    ];
    assert_eq!(search(q, &events), [[1, -1, 3]]);
}

#[test]
fn multi_valued_keys_give_one_sequence_per_combination() {
    let q = compile(
        "sequence by tags, items [a where true] [b where true]",
        &Mapping::default(),
    );
    let events = [
        ev(1, 1, "a", r#""tags":["t2","t1","t2"],"items":["i1"]"#),
        ev(2, 2, "b", r#""tags":["t1","t2",null],"items":["i1","i9"]"#),
    ];
    let mut s = SequenceSearch::new(&q, &Mapping::default(), opts()).expect("sequence");
    for e in &events {
        s.push(e);
    }
    let r = s.finish();
    // Ties on the last and first event are ordered by key.
    let got: Vec<_> = r.sequences.iter().map(|m| (ids(m), keys(m))).collect();
    assert_eq!(
        got,
        [
            (vec![1, 2], vec!["t1".to_string(), "i1".into()]),
            (vec![1, 2], vec!["t2".into(), "i1".into()])
        ]
    );
}

#[test]
fn null_keys_only_for_optional_fields_and_join_only_with_null() {
    let events = [
        ev(1, 1, "a", ""),
        ev(2, 2, "b", ""),
        ev(3, 3, "a", r#""k":"v""#),
        ev(4, 4, "b", ""),
    ];
    assert!(search("sequence by k [a where true] [b where true]", &events).is_empty());
    assert_eq!(
        search("sequence by ?k [a where true] [b where true]", &events),
        [[1, 2]]
    );
    // `[null]` is a null key too.
    let nulls = [ev(1, 1, "a", r#""k":[null]"#), ev(2, 2, "b", "")];
    assert_eq!(
        search("sequence by ?k [a where true] [b where true]", &nulls),
        [[1, 2]]
    );
}

#[test]
fn join_keys_match_by_position_across_field_names() {
    let q = "sequence [process where true] by pid [process where true] by ppid";
    let events = [
        ev(1, 1, "process", r#""pid":7"#),
        ev(2, 2, "process", r#""pid":8,"ppid":7"#),
    ];
    assert_eq!(search(q, &events), [[1, 2]]);
}

fn five() -> Vec<Arc<Event>> {
    // Five disjoint sequences (1,2), (3,4), ... (9,10).
    (1..=10)
        .map(|i| ev(i, i, if i % 2 == 1 { "process" } else { "network" }, ""))
        .collect()
}

#[test]
fn size_and_result_position() {
    let tail = SequenceOptions { size: 2, ..opts() };
    assert_eq!(search_with(AB, &five(), tail), [[7, 8], [9, 10]]);
    let head = SequenceOptions {
        size: 2,
        result_position: ResultPosition::Head,
        ..opts()
    };
    assert_eq!(search_with(AB, &five(), head), [[1, 2], [3, 4]]);
}

#[test]
fn head_and_tail_pipes() {
    assert_eq!(search(&format!("{AB} | head 2"), &five()), [[1, 2], [3, 4]]);
    assert_eq!(
        search(&format!("{AB} | tail 2"), &five()),
        [[7, 8], [9, 10]]
    );
    assert_eq!(
        search(&format!("{AB} | head 4 | tail 2"), &five()),
        [[5, 6], [7, 8]]
    );
    // `size` is a limit of the first pipe's kind under it (Elasticsearch's
    // LogicalPlanBuilder), so `result_position` does not turn `head 3` with
    // size 1 into its last sequence (this gave [[5, 6]]).
    let small = SequenceOptions { size: 1, ..opts() };
    assert_eq!(
        search_with(&format!("{AB} | head 3"), &five(), small),
        [[1, 2]]
    );
    let small_head = SequenceOptions {
        size: 1,
        result_position: ResultPosition::Head,
        ..opts()
    };
    assert_eq!(
        search_with(&format!("{AB} | tail 3"), &five(), small_head),
        [[9, 10]]
    );
    // Later pipes narrow what `size` kept: the last of the first 3.
    let three = SequenceOptions { size: 3, ..opts() };
    assert_eq!(
        search_with(&format!("{AB} | head 4 | tail 1"), &five(), three),
        [[5, 6]]
    );
}

#[test]
fn results_are_ordered_by_the_last_event() {
    let q = "sequence by k [a where true] [b where true]";
    let events = [
        ev(1, 1, "a", r#""k":"x""#),
        ev(2, 2, "a", r#""k":"y""#),
        ev(3, 3, "b", r#""k":"y""#),
        ev(4, 4, "b", r#""k":"x""#),
    ];
    assert_eq!(search(q, &events), [[2, 3], [1, 4]]);
}

#[test]
fn input_out_of_order_is_reordered_within_the_window() {
    let shuffled = [
        ev(2, 2000, "network", ""),
        ev(1, 1500, "process", ""),
        ev(3, 9000, "process", ""),
    ];
    let within = SequenceOptions {
        reorder_window_nanos: 1_000_000_000,
        ..opts()
    };
    assert_eq!(search_with(AB, &shuffled, within), [[1, 2]]);
}

#[test]
fn events_beyond_the_window_are_counted_and_reported() {
    let q = compile(AB, &Mapping::default());
    let o = SequenceOptions {
        reorder_window_nanos: 1_000_000_000,
        name: Some("demo rule".into()),
        ..opts()
    };
    let mut r = SequenceRunner::new(&q, &Mapping::default(), o).expect("sequence");
    let mut got = Vec::new();
    for e in [
        ev(1, 5000, "network", ""),
        ev(2, 9000, "network", ""),
        ev(3, 1000, "process", ""),
    ] {
        r.push(&e, &mut |m| got.push(ids(&m)));
    }
    let stats = r.finish(&mut |m| got.push(ids(&m)));
    assert!(got.is_empty());
    assert_eq!(stats.late_events, 1);
    let w = stats
        .warnings
        .iter()
        .find(|w| matches!(w, SequenceWarning::LateEvents { .. }))
        .expect("warning");
    assert!(
        w.to_string().starts_with("demo rule: 1 matching event"),
        "{w}"
    );
}

#[test]
fn the_pending_cap_evicts_the_oldest_and_warns_with_the_name() {
    let q = compile(
        "sequence by k [a where true] [b where true]",
        &Mapping::default(),
    );
    let o = SequenceOptions {
        max_pending_total: 100,
        name: Some("no maxspan".into()),
        ..opts()
    };
    let mut r = SequenceRunner::new(&q, &Mapping::default(), o).expect("sequence");
    let mut got = Vec::new();
    for i in 0..1000 {
        r.push(&ev(i, i, "a", &format!(r#""k":"{i}""#)), &mut |m| {
            got.push(ids(&m))
        });
    }
    // The newest key is still in flight, the oldest was evicted.
    r.push(&ev(1000, 1000, "b", r#""k":"999""#), &mut |m| {
        got.push(ids(&m))
    });
    r.push(&ev(1001, 1001, "b", r#""k":"0""#), &mut |m| {
        got.push(ids(&m))
    });
    let stats = r.finish(&mut |m| got.push(ids(&m)));
    assert_eq!(got, [[999, 1000]]);
    assert!(stats.peak_held <= 101, "held {}", stats.peak_held);
    assert!(stats.evicted >= 900);
    let w = stats
        .warnings
        .iter()
        .find(|w| matches!(w, SequenceWarning::Evicted { .. }))
        .expect("warning");
    assert!(w.to_string().starts_with("no maxspan: "), "{w}");
}

#[test]
fn maxspan_expires_state_without_the_cap() {
    let q = compile(
        "sequence by k with maxspan=10ms [a where true] [b where true]",
        &Mapping::default(),
    );
    let mut r = SequenceRunner::new(
        &q,
        &Mapping::default(),
        SequenceOptions {
            reorder_window_nanos: 0,
            ..opts()
        },
    )
    .expect("sequence");
    for i in 0..10_000 {
        r.push(&ev(i, i, "a", &format!(r#""k":"{i}""#)), &mut |_| {});
    }
    let stats = r.finish(&mut |_| {});
    assert_eq!(stats.evicted, 0);
    assert!(stats.peak_held < 100, "held {}", stats.peak_held);
}

#[test]
fn events_without_a_timestamp_are_counted() {
    let q = compile(AB, &Mapping::default());
    let mut r = SequenceRunner::new(&q, &Mapping::default(), opts()).expect("sequence");
    let mut e = flatten(r#"{"id":1,"event":{"category":"process"}}"#).expect("json");
    e.seq = 1;
    r.push(&Arc::new(e), &mut |_| {});
    let stats = r.finish(&mut |_| {});
    assert_eq!(stats.untimed.total(), 1);
    assert!(matches!(
        &stats.warnings[0],
        SequenceWarning::WithoutTimestamp { untimed, .. } if untimed.total() == 1
    ));
}

#[test]
fn event_queries_are_refused() {
    let q = compile("process where true", &Mapping::default());
    assert!(SequenceRunner::new(&q, &Mapping::default(), opts()).is_err());
}

/// Elasticsearch shares a term's `and` parts that read a join key with the
/// other terms, the key replaced by theirs (`PropagateJoinKeyConstraints`).
/// A part that also reads another field then holds for the other term's
/// event too; with several key values, a test on the key keeps out an
/// event one of whose values fails it.
#[test]
fn a_condition_on_a_join_key_holds_in_every_term() {
    let events = [
        ev(1, 1_000, "process", r#""u":"root","parent":"cron""#),
        ev(2, 2_000, "network", r#""u":"root","parent":"sshd""#),
        ev(3, 3_000, "process", r#""u":["alice","admin"]"#),
        ev(4, 4_000, "network", r#""u":["alice","admin"]"#),
        ev(5, 5_000, "process", r#""u":"bob""#),
        ev(6, 6_000, "network", r#""u":["bob","admin"]"#),
    ];
    // Event 2 fails `not (u == "root" and parent == "sshd")`.
    assert_eq!(
        search(
            r#"sequence by u [process where not (u == "root" and parent == "sshd")] [network where true]"#,
            &events
        ),
        [vec![3, 4], vec![3, 4], vec![5, 6]]
    );
    // Event 6 holds `admin`: `u != "admin"` keeps it out of term 2, and
    // event 3 out of term 1.
    assert_eq!(
        search(
            r#"sequence by u [process where u != "admin"] [network where true]"#,
            &events
        ),
        [vec![1, 2]]
    );
    // With an `or` the part stays in its own term (5 pairs with 6 on `bob`).
    assert_eq!(
        search(
            r#"sequence by u [process where u != "admin" or parent == "x"] [network where true]"#,
            &events
        ),
        [vec![1, 2], vec![5, 6]]
    );
    // Keys are matched by position: term 2's key `who` gets term 1's test.
    let renamed = [
        ev(1, 1_000, "process", r#""u":"root""#),
        ev(2, 2_000, "network", r#""who":"root","parent":"sshd""#),
        ev(3, 3_000, "process", r#""u":"eve""#),
        ev(4, 4_000, "network", r#""who":"eve","parent":"sshd""#),
    ];
    assert_eq!(
        search(
            r#"sequence [process where not (u == "root" and true)] by u [network where parent == "sshd"] by who"#,
            &renamed
        ),
        [vec![3, 4]]
    );
}

/// Two events at one time, ordered only by the tiebreaker `seq`, given
/// in the reverse of that order: `b` (the larger `seq`) first.
fn tie_ordered(a_seq: &str, b_seq: &str) -> Vec<Arc<Event>> {
    // Input order (`Event::seq`) is the reverse of the ids.
    let mk = |id: i64, cat: &str, seq: &str| {
        let text =
            format!(r#"{{"id":{id},"@timestamp":0,"seq":{seq},"event":{{"category":"{cat}"}}}}"#);
        let mut e = flatten(&text).expect("json");
        e.seq = 2 - id as u64;
        Arc::new(e)
    };
    vec![mk(2, "network", b_seq), mk(1, "process", a_seq)]
}

#[test]
fn a_long_tiebreaker_orders_exactly_past_two_to_the_53() {
    // 2^53 + 1 and 2^53 are one double apart from nothing: as doubles
    // they tie, and input order (network first) would decide.
    let o = SequenceOptions {
        tiebreaker_field: Some("seq".into()),
        ..opts()
    };
    let events = tie_ordered("9007199254740992", "9007199254740993");
    assert_eq!(search_with(AB, &events, o), [[1, 2]]);
}

#[test]
fn a_keyword_tiebreaker_orders_as_text() {
    // Mapped as keyword, "10" sorts before "9", as Elasticsearch sorts
    // the field (and as an event query orders them).
    let mapping = Mapping::from_es_json(
        r#"{"properties":{"@timestamp":{"type":"date"},"id":{"type":"long"},
            "seq":{"type":"keyword"},
            "event":{"properties":{"category":{"type":"keyword"}}}}}"#,
    )
    .expect("mapping");
    let q = compile(AB, &mapping);
    let o = SequenceOptions {
        tiebreaker_field: Some("seq".into()),
        ..opts()
    };
    let run = |events: &[Arc<Event>]| {
        let mut s = SequenceSearch::new(&q, &mapping, o.clone()).expect("sequence");
        for e in events {
            s.push(e);
        }
        s.finish().sequences.iter().map(ids).collect::<Vec<_>>()
    };
    // process "10", network "9": process sorts first.
    assert_eq!(run(&tie_ordered(r#""10""#, r#""9""#)), [[1, 2]]);
    // process "9", network "10": network sorts first, no sequence.
    assert!(run(&tie_ordered(r#""9""#, r#""10""#)).is_empty());
}

#[test]
fn unmapped_numeric_keys_join_and_sort_as_numbers() {
    // An unmapped field written 2.5, 1, 3, 10 and 1.0: Elasticsearch
    // indexes one numeric type for it, so 1.0 is the key 1, and samples
    // come back in numeric order (1, 2.5, 3, 10), not integers first.
    let events: Vec<Arc<Event>> = ["2.5", "1", "3", "2.5", "1.0", "3", "10", "10", "1.0"]
        .iter()
        .enumerate()
        .map(|(i, k)| ev(i as i64 + 1, i as i64, "process", &format!(r#""k":{k}"#)))
        .collect();
    let q = compile(
        "sample by k [process where true] [process where true]",
        &Mapping::default(),
    );
    let mut s = SequenceSearch::new(&q, &Mapping::default(), opts()).expect("sample");
    for e in &events {
        s.push(e);
    }
    let got: Vec<(Vec<String>, Vec<i64>)> = s
        .finish()
        .sequences
        .iter()
        .map(|m| (keys(m), ids(m)))
        .collect();
    let want: Vec<(Vec<String>, Vec<i64>)> = vec![
        (vec!["1".into()], vec![2, 5]),
        (vec!["2.5".into()], vec![1, 4]),
        (vec!["3".into()], vec![3, 6]),
        (vec!["10".into()], vec![7, 8]),
    ];
    assert_eq!(got, want);
    // A sequence joins 1 with 1.0 as well.
    let seq = "sequence by k [process where id == 2] [process where id == 5]";
    assert_eq!(search(seq, &events), [[2, 5]]);
}

#[test]
fn key_tuples_past_the_cap_are_counted_and_the_first_such_event_named() {
    let q = compile(
        "sequence by a, b [a where true] [b where true]",
        &Mapping::default(),
    );
    let o = SequenceOptions {
        name: Some("wide keys".into()),
        ..opts()
    };
    let mut r = SequenceRunner::new(&q, &Mapping::default(), o).expect("sequence");
    // 70 x 70 = 4,900 combinations of the two join keys, past 4,096.
    let many: Vec<String> = (0..70).map(|i| i.to_string()).collect();
    let list = many.join(",");
    for (id, line) in [(1, 7), (2, 8)] {
        let mut e = (*ev(id, id, "a", &format!(r#""a":[{list}],"b":[{list}]"#))).clone();
        e.origin = talon_event::Origin {
            file: Arc::from("wide.ndjson"),
            line,
        };
        r.push(&Arc::new(e), &mut |_| {});
    }
    let stats = r.finish(&mut |_| {});
    assert_eq!(stats.key_tuples_capped, 2);
    let w = stats
        .warnings
        .iter()
        .find(|w| matches!(w, SequenceWarning::KeyTuplesCapped { .. }))
        .expect("warning");
    assert_eq!(
        w.to_string(),
        "wide keys: 2 event(s) had more than 4096 join-key combinations; the rest were \
         ignored (the first: wide.ndjson:7)"
    );
}
