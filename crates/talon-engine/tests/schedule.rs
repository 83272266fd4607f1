//! Schedule replay on a data set with a known timeline.
//!
//! The rule: `process where process.name == "curl"`, interval 5m, from
//! now-6m (1m overlap), max_signals 100, timestamp_override event.ingested.
//! Runs are at 10:00, 10:05, ..., each searching [T-6m, T] by
//! event.ingested, or @timestamp for events without it.
//!
//! The events (all on 2024-05-01, in @timestamp order), 250 matches:
//! - steady `s00`..`s99`: @timestamp 10:00:00 + 18 s * i, ingested 30 s
//!   later, except every tenth (i % 10 == 0) which has no event.ingested;
//!   `s41` (10:12:18) was ingested at 10:16:18 and `s71` (10:21:18) at
//!   10:25:30;
//! - burst `b000`..`b149`: @timestamp 10:16:00.1 + 200 ms * j, ingested
//!   2 s later;
//! - plus one non-matching event, and `late` (@timestamp 10:05, ingested
//!   10:06) at the end of the input, far behind everything else.
//!
//! What Kibana would do, worked out by hand:
//! - the run at 10:15 ([10:09, 10:15]) returns s29..s48 without s41 (whose
//!   ingest time is 10:16:18), plus s50 (no ingest time, @timestamp 10:15:00,
//!   the window end is inclusive): 20 events, of which s29..s31 were
//!   alerted by the overlapping run at 10:10, so 17 new alerts;
//! - the run at 10:20 ([10:14, 10:20]) matches 172 events: s41, s45..s53,
//!   b000..b059, s54, b060..b149, s55..s65. It returns the 100 most recent
//!   by @timestamp (s55..s65 and b061..b149) and warns. The 72 it leaves
//!   out include s45..s48 and s50, alerted at 10:15, and 67 that no other
//!   run covers: s41, s49, s51, s52, s53, s54, b000..b060;
//! - s71 is alerted by the run at 10:30 ([10:24, 10:30]), not by the one
//!   at 10:25 its @timestamp would fall in;
//! - `late`, read last, is alerted by the run at 10:10 ([10:04, 10:10]),
//!   which its ingest time falls in: input order does not matter;
//! - the last run is at 10:35: the newest ingest time is 10:30:12 (s99).
//!
//! So 184 alerts, one warning.

use std::path::Path;

use talon_engine::schedule::{RuleSchedule, ScheduleOptions, ScheduleStats, Scheduled, Scheduler};
use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::flatten::flatten;
use talon_event::mapping::Mapping;
use talon_event::Event;
use talon_rules::{load_str, RuleFormat};

const RULE: &str = r#"[metadata]
creation_date = "2024/01/01"
maturity = "production"
updated_date = "2024/01/01"

[rule]
author = ["t"]
description = "d"
index = ["logs-*"]
language = "eql"
license = "Elastic License v2"
name = "Curl Activity"
risk_score = 21
rule_id = "0c0a1c2e-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
interval = "5m"
from = "now-6m"
timestamp_override = "event.ingested"
query = '''
process where process.name == "curl"
'''
"#;

/// 2024-05-01T10:00:00Z in seconds.
const BASE: i64 = 1_714_557_600;

fn iso(millis_after_base: i64) -> String {
    let nanos = (BASE * 1000 + millis_after_base) * 1_000_000;
    talon_event::time::format_millis(nanos)
}

fn doc(id: &str, ts_ms: i64, ingested_ms: Option<i64>, name: &str) -> String {
    let ingested = match ingested_ms {
        Some(i) => format!(r#","ingested":"{}""#, iso(i)),
        None => String::new(),
    };
    format!(
        r#"{{"_index":"logs-test-default","_id":"{id}","_source":{{"@timestamp":"{}","event":{{"category":["process"]{ingested}}},"process":{{"name":"{name}"}}}}}}"#,
        iso(ts_ms)
    )
}

/// The data set, as NDJSON lines in input order.
pub fn timeline() -> Vec<String> {
    let mut rows: Vec<(i64, String)> = Vec::new();
    for i in 0..100i64 {
        let ts = i * 18_000;
        let ingested = match i {
            41 => Some(16 * 60_000 + 18_000),
            71 => Some(25 * 60_000 + 30_000),
            _ if i % 10 == 0 => None,
            _ => Some(ts + 30_000),
        };
        rows.push((ts, doc(&format!("s{i:02}"), ts, ingested, "curl")));
    }
    for j in 0..150i64 {
        let ts = 16 * 60_000 + 100 + 200 * j;
        rows.push((ts, doc(&format!("b{j:03}"), ts, Some(ts + 2_000), "curl")));
    }
    rows.push((
        7 * 60_000 + 1,
        doc("quiet", 7 * 60_000 + 1, Some(7 * 60_000 + 30_000), "ls"),
    ));
    rows.sort_by_key(|r| r.0);
    let mut lines: Vec<String> = rows.into_iter().map(|r| r.1).collect();
    lines.push(doc("late", 5 * 60_000, Some(6 * 60_000), "curl"));
    lines
}

fn events() -> Vec<Event> {
    parse(&timeline())
}

/// NDJSON lines as events, numbered in input order.
fn parse(lines: &[String]) -> Vec<Event> {
    lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let mut e = flatten(&v["_source"].to_string()).expect("event");
            e.index = Some("logs-test-default".into());
            e.id = v["_id"].as_str().map(Into::into);
            e.seq = n as u64;
            e
        })
        .collect()
}

/// Replays the curl rule over `events`: (alert payload, run time) pairs,
/// warnings, counts, matches.
fn replay(events: Vec<Event>) -> (Vec<(String, String)>, Vec<String>, ScheduleStats, usize) {
    replay_rule(RULE, events)
}

/// [`replay`] with the rule `rule` (TOML).
fn replay_rule(
    rule: &str,
    events: Vec<Event>,
) -> (Vec<(String, String)>, Vec<String>, ScheduleStats, usize) {
    replay_with(rule, events, ScheduleOptions::default())
}

/// [`replay_rule`] with `opts`.
fn replay_with(
    rule: &str,
    events: Vec<Event>,
    opts: ScheduleOptions,
) -> (Vec<(String, String)>, Vec<String>, ScheduleStats, usize) {
    let (rules, _) = load_str(rule, Path::new("curl.toml"), RuleFormat::Toml);
    let sched = RuleSchedule::from_rule(&rules[0]).expect("schedule");
    let (compiled, problems) = compile_rules(rules.clone(), &Mapping::default());
    assert!(problems.is_empty());
    let (mut engine, _) = Engine::new(compiled, &EngineOptions::default());
    let mut scheduler: Scheduler<String> =
        Scheduler::new(vec![(rules[0].name.clone(), sched)], opts);

    let mut alerts: Vec<(String, String)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut take = |s: Scheduled<String>| match s {
        Scheduled::Alert { run, payload, .. } => {
            alerts.push((payload, talon_event::time::format_millis(run.at)))
        }
        Scheduled::Truncated(t) => warnings.push(t.to_string()),
    };
    let mut matches = 0;
    for e in events {
        scheduler.observe(&e);
        let mut hits = Vec::new();
        engine.on_event(&e, |d| hits.push(d.rule_index));
        for rule_index in hits {
            matches += 1;
            let id = e.id.as_deref().unwrap_or_default().to_string();
            scheduler.offer(rule_index, &e, id.clone(), id);
        }
        scheduler.advance(&mut take);
    }
    let stats = scheduler.finish(&mut take);
    (alerts, warnings, stats, matches)
}

#[test]
fn replay_gives_kibanas_alerts_and_warnings() {
    let (rules, errors) = load_str(RULE, Path::new("curl.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let sched = RuleSchedule::from_rule(&rules[0]).expect("schedule");
    assert_eq!(sched.interval, 300_000_000_000);
    assert_eq!(sched.from, -360_000_000_000);
    assert_eq!(sched.max_signals, 100);
    assert_eq!(sched.primary, "event.ingested");
    assert_eq!(sched.secondary.as_deref(), Some("@timestamp"));
    let (alerts, warnings, stats, matches) = replay(events());
    assert_eq!(matches, 251);

    assert_eq!(
        warnings,
        vec![
            "rule \"Curl Activity\", run at 2024-05-01T10:20:00.000Z (window 2024-05-01T10:14:00.000Z to \
             2024-05-01T10:20:00.000Z): This rule reached the maximum alert limit for the rule execution. \
             Some alerts were not created. (172 matches, max_signals 100)"
                .to_string()
        ]
    );

    let mut expected: Vec<String> = (0..100).map(|i| format!("s{i:02}")).collect();
    expected.extend((0..150).map(|j| format!("b{j:03}")));
    expected.push("late".into());
    let never: Vec<String> = ["s41", "s49", "s51", "s52", "s53", "s54"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..=60).map(|j| format!("b{j:03}")))
        .collect();
    expected.retain(|id| !never.contains(id));
    let mut got: Vec<String> = alerts.iter().map(|a| a.0.clone()).collect();
    got.sort();
    expected.sort();
    assert_eq!(got.len(), 184);
    assert_eq!(got, expected);

    let run_of = |id: &str| alerts.iter().find(|a| a.0 == id).map(|a| a.1.clone());
    assert_eq!(run_of("s71").as_deref(), Some("2024-05-01T10:30:00.000Z"));
    assert_eq!(run_of("s50").as_deref(), Some("2024-05-01T10:15:00.000Z"));
    assert_eq!(run_of("s29").as_deref(), Some("2024-05-01T10:10:00.000Z"));
    assert_eq!(run_of("b061").as_deref(), Some("2024-05-01T10:20:00.000Z"));
    assert_eq!(run_of("s00").as_deref(), Some("2024-05-01T10:00:00.000Z"));
    assert_eq!(run_of("s99").as_deref(), Some("2024-05-01T10:35:00.000Z"));
    assert_eq!(run_of("late").as_deref(), Some("2024-05-01T10:10:00.000Z"));
    // The 10:15 run alerts exactly s32..s48 minus s41, plus s50.
    let mut at_1015: Vec<String> = alerts
        .iter()
        .filter(|a| a.1 == "2024-05-01T10:15:00.000Z")
        .map(|a| a.0.clone())
        .collect();
    at_1015.sort();
    let mut want_1015: Vec<String> = (32..=48)
        .filter(|i| *i != 41)
        .map(|i| format!("s{i:02}"))
        .collect();
    want_1015.push("s50".into());
    assert_eq!(at_1015, want_1015);

    assert_eq!(stats.runs, 8);
    assert_eq!(stats.truncated_runs, 1);
    assert_eq!(stats.alerts, 184);
    assert_eq!(stats.late, 0);
    assert_eq!(stats.released_early, 0);
    assert_eq!(stats.dropped_by_max_signals, 67);
    assert_eq!(stats.unsearched, 0);
    // Returned again by an overlapping run after their alert.
    assert!(stats.already_alerted > 0);
    assert_eq!(stats.untimed.total(), 0);
}

/// Alerts as (payload, run time), sorted: what a replay alerts, whatever
/// the order it wrote them in.
fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// The runs started at the first event read, not the earliest: input that
/// began with 10:06 and went back to 10:00 lost the runs at 10:00 and
/// 10:05, and every match before 10:06 "fell in no run's window". Then
/// input out of order by more than the reorder window lost its late
/// matches. The replay now takes input in any order: reversed, or with a
/// stretch moved to the front, it alerts what the sorted input does, from
/// the same runs.
#[test]
fn input_in_any_order_replays_as_if_sorted() {
    let (want, want_warnings, want_stats, _) = replay(events());
    assert_eq!(want.len(), 184);
    // s20 (10:06:00) and the next five are read first, then s00..s19.
    let mut moved = timeline();
    let head: Vec<String> = moved.drain(20..26).collect();
    moved.splice(0..0, head);
    let mut reversed = timeline();
    reversed.reverse();
    for lines in [moved, reversed] {
        let (got, warnings, stats, _) = replay(parse(&lines));
        assert_eq!(sorted(got), sorted(want.clone()));
        assert_eq!(warnings, want_warnings);
        assert_eq!(stats, want_stats);
    }
}

/// A fresh user's input, sorted by `@timestamp`, where one event (c2) was
/// ingested two hours late: the rule reads `event.ingested`, and that one
/// event moved the replay's time to 12:00, so c3 and c4 "arrived later
/// than the reorder window allows" and only c1 and c2 were alerted.
/// Kibana alerts all four: c2 from its run at 12:00.
#[test]
fn one_event_ingested_late_moves_no_other_match() {
    let minute = 60_000;
    let lines = vec![
        doc("c1", 0, Some(1_000), "curl"),
        doc("c2", minute, Some(120 * minute), "curl"),
        doc("c3", 2 * minute, Some(2 * minute + 1_000), "curl"),
        doc("c4", 3 * minute, Some(3 * minute + 1_000), "curl"),
    ];
    let (alerts, warnings, stats, _) = replay(parse(&lines));
    assert!(warnings.is_empty(), "{warnings:?}");
    let at = |hhmm: &str| format!("2024-05-01T{hhmm}:00.000Z");
    assert_eq!(
        sorted(alerts),
        vec![
            ("c1".to_string(), at("10:05")),
            ("c2".to_string(), at("12:00")),
            ("c3".to_string(), at("10:05")),
            ("c4".to_string(), at("10:05")),
        ]
    );
    assert_eq!((stats.alerts, stats.late, stats.unsearched), (4, 0, 0));
    // Every 5 minutes from 10:00 to 12:00.
    assert_eq!(stats.runs, 25);
}

/// With fewer matches held than the input has, the oldest are handed to
/// their runs early: input in the order of the rule's window time still
/// replays exactly, and a match behind what was handed over is late,
/// counted, not alerted, never lost without a word.
#[test]
fn past_the_cap_on_held_matches_the_oldest_go_first_and_late_ones_are_counted() {
    let capped = |n: usize| ScheduleOptions {
        max_held_matches: n,
    };
    let (want, want_warnings, want_stats, _) = replay(events());

    // The timeline sorted by ingest time (the rule's window time): exact
    // even when one match is held at a time.
    let mut by_window: Vec<(i64, String)> = timeline()
        .into_iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l).expect("json");
            let src = &v["_source"];
            let t = src["event"]["ingested"]
                .as_str()
                .or(src["@timestamp"].as_str())
                .and_then(talon_event::time::parse_str_nanos)
                .expect("time");
            (t, l)
        })
        .collect();
    by_window.sort_by_key(|r| r.0);
    let lines: Vec<String> = by_window.into_iter().map(|r| r.1).collect();
    let (got, warnings, stats, _) = replay_with(RULE, parse(&lines), capped(1));
    assert_eq!(sorted(got), sorted(want.clone()));
    assert_eq!(warnings, want_warnings);
    assert_eq!((stats.late, stats.released_early), (0, 250));

    // Sorted by @timestamp, each burst event is ingested before the steady
    // one read just ahead of it, and `late` is read last: with one match
    // held, those are late. Every match is accounted for.
    let (got, _, stats, matches) = replay_with(RULE, events(), capped(1));
    assert!(stats.late > 0, "{stats:?}");
    assert!(!got.iter().any(|a| a.0 == "late"));
    let accounted = stats.alerts
        + stats.late
        + stats.dropped_by_max_signals
        + stats.unsearched
        + stats.untimed.total();
    // Returned by a run after another had alerted it: counted once, as
    // alerted.
    assert_eq!(accounted as usize, matches, "{stats:?}");
    assert_eq!(
        stats.released_early as usize,
        matches - 1 - stats.late as usize
    );

    // Each burst event is read after at most three matches ingested later
    // (s41, s52 and s53 for b000): held three, only `late`, read after
    // everything, is late.
    let (got, _, stats, _) = replay_with(RULE, events(), capped(3));
    let mut without_late = want.clone();
    without_late.retain(|a| a.0 != "late");
    assert_eq!(sorted(got), sorted(without_late));
    assert_eq!((stats.late, stats.alerts), (1, want_stats.alerts - 1));
    // Held 249 (of 251), the two oldest go early, `late` is not behind
    // them.
    let (got, _, stats, _) = replay_with(RULE, events(), capped(249));
    assert_eq!(sorted(got), sorted(want));
    assert_eq!((stats.late, stats.released_early), (0, 2));
}

/// An event dated 1970 (a broken agent's clock) before the timeline: the
/// replay's first run is then at the epoch, and the 5.7 million empty
/// runs up to the timeline were made one by one. They are now counted,
/// not made; what the timeline's runs alert is unchanged.
#[test]
fn empty_runs_are_counted_without_being_made() {
    let (_, want_warnings, want, _) = replay(events());
    let mut early =
        flatten(r#"{"@timestamp":"1970-01-01T00:00:00Z","process":{"name":"ls"}}"#).expect("event");
    early.index = Some("logs-test-default".into());
    let mut with_early = vec![early];
    with_early.extend(events().into_iter().map(|mut e| {
        e.seq += 1;
        e
    }));
    let (alerts, warnings, stats, matches) = replay(with_early);
    assert_eq!(matches, 251);
    assert_eq!(alerts.len(), 184);
    assert_eq!(warnings, want_warnings);
    // Every 5 minutes from the epoch to 2024-05-01T10:00, then the 8.
    assert_eq!(stats.runs, BASE as u64 / 300 + 8);
    assert_eq!(
        (
            stats.alerts,
            stats.truncated_runs,
            stats.late,
            stats.dropped_by_max_signals
        ),
        (
            want.alerts,
            want.truncated_runs,
            want.late,
            want.dropped_by_max_signals
        )
    );
}

/// A rule run every 60,000 days, looking back as far: its runs are at the
/// epoch and at 2134-04-11, and the one after would be past 2262, where
/// nanosecond times end. The run of 2134 was never made, since the one
/// after it could not be dated, so every match fell in no run's window
/// (any interval over 53,375 days). It is now made, as the last run.
#[test]
fn a_run_whose_successor_cannot_be_dated_is_made_as_the_last() {
    let rule = RULE
        .replace("interval = \"5m\"", "interval = \"60000d\"")
        .replace("from = \"now-6m\"", "from = \"now-60000d\"");
    let (alerts, warnings, stats, matches) = replay_rule(&rule, events());
    assert_eq!(matches, 251);
    // One run searches the whole timeline: the 100 most recent of its 251
    // matches are alerted.
    assert_eq!(
        warnings,
        vec![
            "rule \"Curl Activity\", run at 2134-04-11T00:00:00.000Z (window 1970-01-01T00:00:00.000Z to \
             2134-04-11T00:00:00.000Z): This rule reached the maximum alert limit for the rule execution. \
             Some alerts were not created. (251 matches, max_signals 100)"
                .to_string()
        ]
    );
    assert_eq!(alerts.len(), 100);
    assert!(alerts.iter().all(|a| a.1 == "2134-04-11T00:00:00.000Z"));
    assert_eq!(
        (
            stats.runs,
            stats.alerts,
            stats.truncated_runs,
            stats.dropped_by_max_signals,
            stats.unsearched,
            stats.late
        ),
        (2, 100, 1, 151, 0, 0)
    );
}

/// The curl rule with `to` set to each value (`None`: unset, `now`), over
/// 10 events a minute apart from 10:00:30 to 10:09:30 (no ingest time, so
/// @timestamp is the window time): alerts by run time, and the counts.
fn replay_to(to: Option<&str>) -> (Vec<(String, String)>, ScheduleStats) {
    let rule = match to {
        Some(to) => RULE.replace(
            "from = \"now-6m\"",
            &format!("from = \"now-6m\"\nto = \"{to}\""),
        ),
        None => RULE.to_string(),
    };
    let lines: Vec<String> = (0..10i64)
        .map(|i| doc(&format!("c{i}"), 30_000 + i * 60_000, None, "curl"))
        .collect();
    let (mut alerts, warnings, stats, matches) = replay_rule(&rule, parse(&lines));
    assert_eq!(matches, 10);
    assert!(warnings.is_empty(), "{warnings:?}");
    alerts.sort();
    (alerts, stats)
}

/// `c0`..`c9` (see [`replay_to`]), each with the run that alerts it: the
/// run at 10:`mm` for `runs[i]`.
fn alerted_by(runs: [&str; 10]) -> Vec<(String, String)> {
    runs.iter()
        .enumerate()
        .map(|(i, mm)| (format!("c{i}"), format!("2024-05-01T10:{mm}:00.000Z")))
        .collect()
}

/// `to = "now+1h"` reaches past the last event from the first run on: the
/// replay stopped before a run whose predecessor's window end was at or
/// past the last event, and the first run, which has no predecessor, was
/// treated as if the run before it had been made. So no run at all, and
/// all 10 matches "fell in no run's window". The first run ([09:54,
/// 11:00]) is now made, and is the last.
#[test]
fn a_to_ahead_of_the_run_still_makes_the_first_run() {
    let (alerts, stats) = replay_to(Some("now+1h"));
    assert_eq!(alerts, alerted_by(["00"; 10]));
    assert_eq!((stats.runs, stats.alerts, stats.unsearched), (1, 10, 0));

    // Unset, runs at 10:00 (empty), 10:05 and 10:10.
    let (alerts, stats) = replay_to(None);
    let mut want = ["05"; 10];
    want[5..].fill("10");
    assert_eq!(alerts, alerted_by(want));
    assert_eq!((stats.runs, stats.alerts, stats.unsearched), (3, 10, 0));
}

/// `to = "now-1m"`: each run's window ends a minute before the run, so it
/// takes one more run to reach the last event: 10:00 ([09:54, 09:59],
/// empty), 10:05 ([09:59, 10:04]: c0..c3), 10:10 ([10:04, 10:09]:
/// c4..c8) and 10:15 ([10:09, 10:14]: c9).
#[test]
fn a_to_behind_the_run_takes_one_more_run() {
    let (alerts, stats) = replay_to(Some("now-1m"));
    let mut want = ["05"; 10];
    want[4..9].fill("10");
    want[9] = "15";
    assert_eq!(alerts, alerted_by(want));
    assert_eq!((stats.runs, stats.alerts, stats.unsearched), (4, 10, 0));
}

#[test]
fn schedule_fields_are_parsed_or_refused() {
    use talon_engine::schedule::{parse_interval, parse_now_offset};
    assert_eq!(parse_interval("5m"), Some(300_000_000_000));
    assert_eq!(parse_interval("1h"), Some(3_600_000_000_000));
    assert_eq!(parse_interval("30s"), Some(30_000_000_000));
    assert_eq!(parse_interval("0m"), None);
    assert_eq!(parse_interval("5 minutes"), None);
    assert_eq!(parse_now_offset("now-9m"), Some(-540_000_000_000));
    assert_eq!(parse_now_offset("now-7205m"), Some(-432_300_000_000_000));
    assert_eq!(parse_now_offset("now"), Some(0));
    assert_eq!(parse_now_offset("now-1M"), None);
    assert_eq!(parse_now_offset("now-1d/d"), None);
    // Date math chains steps, as Kibana's `from` may.
    assert_eq!(parse_now_offset("now-1h+5m"), Some(-3_300_000_000_000));
    assert_eq!(parse_now_offset("now+1d-1d-30s"), Some(-30_000_000_000));
    assert_eq!(parse_now_offset("now-1h+"), None);
    assert_eq!(parse_now_offset("now-1h5m"), None);
    assert_eq!(parse_now_offset("now--1h"), None);
    assert_eq!(parse_now_offset("now-1h+1M"), None);
    // A step without a number is one unit; milliseconds are a unit.
    assert_eq!(parse_now_offset("now-h"), Some(-3_600_000_000_000));
    assert_eq!(parse_now_offset("now-5m+500ms"), Some(-299_500_000_000));
    assert_eq!(parse_now_offset("now-"), None);
    assert_eq!(parse_now_offset("now-hh"), None);
}

/// Kibana's runs go on after the last event. With `max_signals = 1`, the
/// run at 10:05 ([09:59, 10:05] by event.ingested) holds `early` (ingested
/// 10:04, @timestamp 10:01) and `recent` (ingested 10:02, @timestamp 10:03)
/// and returns the most recent by @timestamp, `recent`. The run at 10:10
/// ([10:04, 10:10]) holds only `early`, and alerts it. The replay stopped
/// at 10:05, the first run whose window reached the last event, so
/// `early` was left out, though a later input event would have brought
/// the 10:10 run and its alert.
#[test]
fn a_match_left_out_by_max_signals_is_alerted_by_a_run_after_the_last_event() {
    let minute = 60_000;
    let rule = RULE.replace("from = \"now-6m\"", "from = \"now-6m\"\nmax_signals = 1");
    let lines = vec![
        doc("early", minute, Some(4 * minute), "curl"),
        doc("recent", 3 * minute, Some(2 * minute), "curl"),
    ];
    let (alerts, warnings, stats, matches) = replay_rule(&rule, parse(&lines));
    assert_eq!(matches, 2);
    assert_eq!(
        sorted(alerts),
        vec![
            ("early".to_string(), "2024-05-01T10:10:00.000Z".to_string()),
            ("recent".to_string(), "2024-05-01T10:05:00.000Z".to_string()),
        ]
    );
    // Both runs that return a match reach max_signals.
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(
        (stats.runs, stats.alerts, stats.dropped_by_max_signals),
        (3, 2, 0)
    );
}

/// `timestamp_override_fallback_disabled = true` (a Kibana rule
/// parameter) turns off `buildTimeRangeFilter`'s fallback: a document
/// without `event.ingested` is in no run's window, whatever its
/// `@timestamp`. Replay read it by `@timestamp` all the same and alerted it.
#[test]
fn a_disabled_fallback_leaves_out_events_without_the_override() {
    let minute = 60_000;
    let lines = vec![
        doc("ingested", minute, Some(minute + 1_000), "curl"),
        doc("no-ingest", 2 * minute, None, "curl"),
    ];
    let rule = RULE.replace(
        "timestamp_override = \"event.ingested\"",
        "timestamp_override = \"event.ingested\"\ntimestamp_override_fallback_disabled = true",
    );
    let (rules, _) = load_str(&rule, Path::new("curl.toml"), RuleFormat::Toml);
    let sched = RuleSchedule::from_rule(&rules[0]).expect("schedule");
    assert_eq!(sched.primary, "event.ingested");
    assert_eq!(sched.secondary, None);
    let (alerts, _, stats, matches) = replay_rule(&rule, parse(&lines));
    assert_eq!(matches, 2);
    assert_eq!(
        alerts,
        vec![(
            "ingested".to_string(),
            "2024-05-01T10:05:00.000Z".to_string()
        )]
    );
    assert_eq!(stats.untimed.total(), 1);

    // false, as Kibana's exports write it, keeps the fallback.
    let rule = rule.replace("fallback_disabled = true", "fallback_disabled = false");
    let (alerts, _, _, _) = replay_rule(&rule, parse(&lines));
    assert_eq!(alerts.len(), 2);
}

/// Found by a tester: a rule with `max_signals = 5000` wrote 1,500 alerts
/// in one run, where Kibana's alerting writes 1,000 at most per run (and
/// warns on the rule). The run now stops at 1,000 and says it reached its
/// limit.
#[test]
fn a_run_writes_no_more_than_kibanas_alerting_allows() {
    let rule = RULE.replace("interval = \"5m\"", "interval = \"5m\"\nmax_signals = 5000");
    let (rules, _) = load_str(&rule, Path::new("curl.toml"), RuleFormat::Toml);
    assert_eq!(rules[0].max_signals, Some(5000));
    let sched = RuleSchedule::from_rule(&rules[0]).expect("schedule");
    assert_eq!(sched.max_signals, 1000);
    // 1,500 matches inside the window of the run at 10:05.
    let lines: Vec<String> = (0..1500i64)
        .map(|i| {
            doc(
                &format!("m{i:04}"),
                60_000 + i * 100,
                Some(60_000 + i * 100),
                "curl",
            )
        })
        .collect();
    let (alerts, warnings, stats, matches) = replay_rule(&rule, parse(&lines));
    assert_eq!(matches, 1500);
    assert_eq!(alerts.len(), 1000);
    assert_eq!(stats.dropped_by_max_signals, 500);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("max_signals 1000"), "{warnings:?}");
}
