//! Alerts made by a replayed run (`AlertBuilder::for_run`, as `talon hunt
//! --schedule` builds them): the run's time and its own execution uuid,
//! everything else as the plain builder writes it.
//!
//! Expected execution uuids were computed outside talon (Python's
//! `uuid5`) from the formula in `build/ids.rs`.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::{Map, Value};
use talon_alert::{Alert, AlertBuilder};

/// The fields a run dates.
const RUN_TIMES: [&str; 5] = [
    "@timestamp",
    "kibana.alert.rule.execution.timestamp",
    "kibana.alert.start",
    "kibana.alert.last_detected",
    "kibana.alert.intended_timestamp",
];
const EXECUTION_UUID: &str = "kibana.alert.rule.execution.uuid";

/// The seed rule's runs at 04:00 and 04:05 (its interval is 5m).
const AT_0400: &str = "2025-02-03T04:00:00.000Z";
const AT_0405: &str = "2025-02-03T04:05:00.000Z";
const EXECUTION_0400: &str = "50811568-5883-512f-9635-d386c7eb89d7";
const EXECUTION_0405: &str = "3619eb8a-2f3f-500a-8bf1-3363577cfee6";

fn at(iso: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(iso)
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

fn built(result: Result<Alert, talon_alert::AlertError>) -> Alert {
    result.unwrap_or_else(|e| panic!("building an alert failed: {e}"))
}

fn str_of<'a>(alert: &'a Alert, key: &str) -> &'a str {
    alert.get_str(key).unwrap_or_default()
}

/// The document less the fields a run sets.
fn without_run(alert: &Alert) -> Map<String, Value> {
    let mut doc = alert.doc().clone();
    for key in RUN_TIMES.iter().chain([&EXECUTION_UUID]) {
        doc.shift_remove(*key);
    }
    doc
}

#[test]
fn a_runs_alerts_carry_its_time_and_its_own_execution_uuid() {
    let rule = seed_rule();
    let plain = AlertBuilder::new(&rule, &ctx());
    let run_0400 = plain.for_run(at(AT_0400));
    let run_0405 = plain.for_run(at(AT_0405));

    let sysctl = built(run_0400.event_alert(&sysctl_event()));
    let echo = built(run_0400.event_alert(&echo_event()));
    let later = built(run_0405.event_alert(&sysctl_event()));
    for key in RUN_TIMES {
        assert_eq!(str_of(&sysctl, key), AT_0400, "{key}");
        assert_eq!(str_of(&echo, key), AT_0400, "{key}");
        assert_eq!(str_of(&later, key), AT_0405, "{key}");
    }
    // One uuid per run, shared by its alerts, another for the next run.
    assert_eq!(str_of(&sysctl, EXECUTION_UUID), EXECUTION_0400);
    assert_eq!(str_of(&echo, EXECUTION_UUID), EXECUTION_0400);
    assert_eq!(str_of(&later, EXECUTION_UUID), EXECUTION_0405);

    // The rest is the plain alert's: the alert id, the rule's dates.
    let now = built(plain.event_alert(&sysctl_event()));
    assert_eq!(str_of(&now, "@timestamp"), NOW);
    assert_eq!(without_run(&sysctl), without_run(&now));
    assert_eq!(without_run(&later), without_run(&now));
    assert_eq!(
        str_of(&sysctl, "kibana.alert.rule.created_at"),
        "2024-11-04T00:00:00.000Z"
    );

    // A sequence's shell and building blocks all carry the run.
    let events = [sysctl_event(), echo_event()];
    let refs: Vec<&talon_event::Event> = events.iter().collect();
    let group = run_0405.sequence_alerts(&refs).expect("sequence alerts");
    assert_eq!(group.len(), 3);
    for alert in &group {
        assert_eq!(str_of(alert, "@timestamp"), AT_0405);
        assert_eq!(str_of(alert, EXECUTION_UUID), EXECUTION_0405);
    }
}

/// The plain builder is the run at the context's time: nothing changes
/// for `talon hunt` without `--schedule`, byte for byte, on either path.
#[test]
fn the_run_at_the_contexts_time_is_the_plain_builder() {
    let rule = seed_rule();
    let plain = AlertBuilder::new(&rule, &ctx());
    let same = plain.for_run(ctx().now);
    for event in [sysctl_event(), echo_event()] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        plain
            .write_event_alert_jsonl(&event, &mut a)
            .expect("plain");
        same.write_event_alert_jsonl(&event, &mut b).expect("run");
        assert_eq!(a, b);
        let plain_doc = built(plain.event_alert(&event));
        assert_eq!(plain_doc, built(same.event_alert(&event)));
        assert_eq!(
            str_of(&plain_doc, EXECUTION_UUID),
            "126ef10b-c8bc-579a-86f9-ed602e34121e"
        );
    }
}

/// The replay holds a match by its alert id and builds the alert only when
/// a run returns it: the id known beforehand must be the alert's.
#[test]
fn alert_ids_are_known_before_the_alerts_are_built() {
    let rule = seed_rule();
    let builder = AlertBuilder::new(&rule, &ctx());
    for event in [sysctl_event(), echo_event()] {
        let alert = built(builder.event_alert(&event));
        assert_eq!(builder.event_alert_uuid(&event), alert.uuid());
    }
    let events = [sysctl_event(), echo_event()];
    let refs: Vec<&talon_event::Event> = events.iter().collect();
    for n in 1..=2 {
        let group = builder.sequence_alerts(&refs[..n]).expect("sequence");
        assert_eq!(
            builder.sequence_alert_uuid(&refs[..n]).as_deref(),
            Some(group[0].uuid())
        );
    }
    assert_eq!(builder.sequence_alert_uuid(&[]), None);
}
