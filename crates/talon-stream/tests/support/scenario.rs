//! A test scenario: three rules (an event rule, a sequence joined on the
//! partitioning field, a sequence joined on another field), a stream of
//! ECS events keyed by `host.id`, and the alert ids a single process
//! computes for that stream: what the workers together must produce.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use talon_alert::{AlertBuilder, AlertContext};
use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::flatten::Flattener;
use talon_event::mapping::Mapping;
use talon_event::{Event, Origin};
use talon_stream::decode::Decoder;
use talon_stream::SequenceHit;

pub const INDEX: &str = "logs-talon.stream-test";

const EVENT_RULE: &str = r#"[metadata]
creation_date = "2026/12/01"
maturity = "production"
updated_date = "2026/12/01"

[rule]
author = ["talon"]
description = "An evil process ran."
index = ["logs-talon.*"]
language = "eql"
license = "Apache-2.0"
name = "Evil Process"
risk_score = 47
rule_id = "9d3c1a6e-0000-4000-8000-000000000001"
severity = "medium"
type = "eql"
query = '''
process where event.action == "exec" and process.name == "evil"
'''
"#;

const HOST_SEQUENCE: &str = r#"[metadata]
creation_date = "2026/12/01"
maturity = "production"
updated_date = "2026/12/01"

[rule]
author = ["talon"]
description = "a then b on one host."
index = ["logs-talon.*"]
language = "eql"
license = "Apache-2.0"
name = "A Then B On A Host"
risk_score = 47
rule_id = "9d3c1a6e-0000-4000-8000-000000000002"
severity = "medium"
type = "eql"
query = '''
sequence by host.id with maxspan=30s
  [process where event.action == "a"]
  [process where event.action == "b"]
'''
"#;

const USER_SEQUENCE: &str = r#"[metadata]
creation_date = "2026/12/01"
maturity = "production"
updated_date = "2026/12/01"

[rule]
author = ["talon"]
description = "A login, then sudo by the same user, on any host."
index = ["logs-talon.*"]
language = "eql"
license = "Apache-2.0"
name = "Login Then Sudo"
risk_score = 73
rule_id = "9d3c1a6e-0000-4000-8000-000000000003"
severity = "high"
type = "eql"
query = '''
sequence by user.name
  [authentication where event.action == "login"]
  [process where event.action == "sudo"]
'''
"#;

/// Writes the three rules into `dir`.
pub fn write_rules(dir: &Path) {
    std::fs::write(dir.join("event.toml"), EVENT_RULE).expect("rule");
    std::fs::write(dir.join("host_sequence.toml"), HOST_SEQUENCE).expect("rule");
    std::fs::write(dir.join("user_sequence.toml"), USER_SEQUENCE).expect("rule");
}

/// One record to produce: key, payload, and a partition when the test
/// picks it.
#[derive(Clone, Debug)]
pub struct Record {
    pub key: String,
    pub payload: String,
    pub partition: Option<i32>,
}

pub struct Scenario {
    pub events: Vec<Record>,
    /// Sent once the workers have caught up on `events`: every partition's
    /// event time jumps an hour, so each sequence runner releases what its
    /// re-ordering window still holds.
    pub ticks: Vec<Record>,
    /// `kibana.alert.uuid` of every alert the stream must give.
    pub expected: BTreeSet<String>,
    pub event_alerts: usize,
    pub sequence_alerts: usize,
}

fn event(
    step: u64,
    ts_micros: u64,
    action: &str,
    category: &str,
    host: &str,
    user: &str,
    name: &str,
) -> String {
    let secs = ts_micros / 1_000_000;
    let micros = ts_micros % 1_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    format!(
        "{{\"@timestamp\":\"2026-12-01T{h:02}:{m:02}:{s:02}.{micros:06}Z\",\
         \"event\":{{\"id\":\"e{step}\",\"category\":[\"{category}\"],\"action\":\"{action}\"}},\
         \"host\":{{\"id\":\"{host}\"}},\"user\":{{\"name\":\"{user}\"}},\
         \"process\":{{\"name\":\"{name}\"}}}}"
    )
}

/// `steps` events over `hosts` hosts and `users` users (each user logs in
/// on one host and runs sudo on others), 1 ms apart, then ticks for
/// `partitions` partitions. Timestamps are distinct at the resolution of
/// a date field: events of one millisecond from different partitions have
/// no order a stream could agree on with a single sorted pass.
pub fn build(steps: u64, hosts: u64, users: u64, partitions: i32, rules_dir: &Path) -> Scenario {
    build_mix(steps, hosts, users, partitions, 0, rules_dir)
}

/// As [`build`], with `noise` percent of the events replaced by events no
/// rule uses (a realistic stream alerts on very few events).
pub fn build_mix(
    steps: u64,
    hosts: u64,
    users: u64,
    partitions: i32,
    noise: u64,
    rules_dir: &Path,
) -> Scenario {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let base = 3_600_000_000u64;
    let mut events = Vec::new();
    for step in 0..steps {
        let r = next();
        let host = format!("h{}", r % hosts);
        let user = format!("u{}", (r >> 16) % users);
        let ts = base + step * 1000;
        let kind = if (r >> 8) % 100 < noise {
            19
        } else {
            (r >> 32) % 20
        };
        let (action, category, name) = match kind {
            0 | 1 => ("exec", "process", "evil"),
            2..=5 => ("a", "process", "x"),
            6..=9 => ("b", "process", "y"),
            10..=12 => ("login", "authentication", "sshd"),
            13..=15 => ("sudo", "process", "sudo"),
            _ => ("exec", "process", "ls"),
        };
        let payload = event(step, ts, action, category, &host, &user, name);
        events.push(Record {
            key: host,
            payload,
            partition: None,
        });
    }
    let tick_ts = base + steps * 1000 + 3_600_000_000;
    let mut ticks = Vec::new();
    for p in 0..partitions {
        let host = format!("tick-{p}");
        let payload = event(
            steps + p as u64,
            tick_ts,
            "a",
            "process",
            &host,
            "tick",
            "x",
        );
        ticks.push(Record {
            key: host,
            payload,
            partition: Some(p),
        });
    }
    // Logins of 64 new users: their keys reach every repartition partition.
    for i in 0..64u64 {
        let step = steps + partitions as u64 + i;
        let payload = event(
            step,
            tick_ts,
            "login",
            "authentication",
            "tick-host",
            &format!("tick-u{i}"),
            "sshd",
        );
        ticks.push(Record {
            key: "tick-host".into(),
            payload,
            partition: None,
        });
    }
    let (expected, event_alerts, sequence_alerts) = expected_alerts(&events, &ticks, rules_dir);
    Scenario {
        events,
        ticks,
        expected,
        event_alerts,
        sequence_alerts,
    }
}

/// The decoder the workers use in these tests.
pub fn decoder() -> Decoder {
    Decoder::new(Flattener::default(), Some(INDEX))
}

/// What one process, seeing the whole stream in order, alerts on.
fn expected_alerts(
    events: &[Record],
    ticks: &[Record],
    rules_dir: &Path,
) -> (BTreeSet<String>, usize, usize) {
    let report = talon_rules::load_paths(&[rules_dir.to_path_buf()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (compiled, problems) = compile_rules(report.rules, &Mapping::default());
    assert!(problems.is_empty(), "{problems:?}");
    let ctx = AlertContext::new(chrono::Utc::now());
    let factory =
        talon_stream::runner::factory(&Mapping::default(), std::time::Duration::from_secs(60))
            .expect("sequence runner");
    let (mut event_rules, mut sequences) = (Vec::new(), Vec::new());
    for r in compiled {
        if r.kind() == talon_eql::QueryKind::Event {
            event_rules.push(r);
        } else {
            let m = factory.matcher(sequences.len(), &r).expect("matcher");
            sequences.push((r, m));
        }
    }
    let (mut engine, _) = Engine::new(event_rules, &EngineOptions::default());
    let rules: Vec<_> = engine.rules().iter().map(|r| r.rule.clone()).collect();
    let builders: Vec<_> = rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
    let seq_rules: Vec<_> = sequences.iter().map(|(r, _)| r.rule.clone()).collect();
    let seq_builders: Vec<_> = seq_rules
        .iter()
        .map(|r| AlertBuilder::new(r, &ctx))
        .collect();
    let d = decoder();
    let mut out = BTreeSet::new();
    let (mut n_event, mut n_seq) = (0, 0);
    for (i, rec) in events.iter().chain(ticks).enumerate() {
        let mut e: Event = d
            .event(Some(rec.payload.as_bytes()), Origin::default())
            .expect("event");
        e.seq = i as u64;
        engine.on_event(&e, |det| {
            let a = builders[det.rule_index]
                .event_alert(det.event)
                .expect("alert");
            out.insert(a.uuid().to_owned());
            n_event += 1;
        });
        let e = Arc::new(e);
        for (i, (_, m)) in sequences.iter_mut().enumerate() {
            let mut hits: Vec<SequenceHit> = Vec::new();
            m.on_event(&e, &mut |h| hits.push(h));
            for h in hits {
                let evs: Vec<&Event> = h.events.iter().map(|e| &**e).collect();
                for a in seq_builders[i]
                    .sequence_alerts(&evs)
                    .expect("sequence alerts")
                {
                    out.insert(a.uuid().to_owned());
                    n_seq += 1;
                }
            }
        }
    }
    (out, n_event, n_seq)
}
