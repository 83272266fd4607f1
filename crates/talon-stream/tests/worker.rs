//! Workers on threads of the test against a real broker: every alert the
//! rules give arrives, malformed messages become dead letters, pending
//! sequences survive a hand-over, and a restart re-delivers nothing.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::broker::Broker;
use support::scenario::{self, Record};
use support::{settings, spawn_worker, wait_for, wait_until, StopOnDrop};
use talon_stream::http::MetricsServer;
use talon_stream::Metrics;

const TOPIC: &str = "ecs";

fn send_all(broker: &Broker, records: &[Record]) {
    let p = broker.producer();
    for r in records {
        p.send(TOPIC, &r.key, r.payload.as_bytes(), r.partition);
    }
    p.flush();
}

/// Alert uuid → how many times it arrived.
fn alerts(broker: &Broker) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (_, key, _) in broker.read_all("talon-alerts") {
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

fn scrape(addr: std::net::SocketAddr) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to metrics");
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut page = String::new();
    s.read_to_string(&mut page).expect("response");
    page
}

fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn one_worker_gives_every_alert_and_dead_letters_the_malformed() {
    let Some(broker) = Broker::start("one_worker") else {
        return;
    };
    broker.create_worker_topics(TOPIC, 4);
    let rules = tempfile::tempdir().expect("tempdir");
    scenario::write_rules(rules.path());
    let sc = scenario::build(600, 12, 5, 4, rules.path());
    assert!(
        sc.event_alerts > 10 && sc.sequence_alerts > 10,
        "{} {}",
        sc.event_alerts,
        sc.sequence_alerts
    );

    let metrics = Arc::new(Metrics::default());
    let server = MetricsServer::start("127.0.0.1:0".parse().expect("addr"), metrics.clone())
        .expect("metrics");
    let stop = Arc::new(AtomicBool::new(false));
    let _guard = StopOnDrop(stop.clone());
    let worker = spawn_worker(
        settings(&broker, "g1", TOPIC),
        rules.path(),
        stop.clone(),
        metrics.clone(),
    );

    send_all(&broker, &sc.events);
    let p = broker.producer();
    p.send(TOPIC, "h1", b"{\"event\": nope}", Some(0));
    p.send(TOPIC, "h1", b"[1, 2]", Some(1));
    p.send(TOPIC, "h1", b"", Some(2));
    p.flush();
    wait_for("the group to catch up", Duration::from_secs(60), || {
        broker.group_caught_up("g1", TOPIC) && broker.group_caught_up("g1", "talon-repartition")
    });
    send_all(&broker, &sc.ticks);
    wait_until("every expected alert", Duration::from_secs(60), || {
        let got = alerts(&broker);
        let missing: Vec<&String> = sc
            .expected
            .iter()
            .filter(|id| !got.contains_key(*id))
            .collect();
        match missing.len() {
            0 => Ok(()),
            n => Err(format!(
                "({} of {} arrived, {n} missing)",
                got.len(),
                sc.expected.len()
            )),
        }
    });

    let got = alerts(&broker);
    let ids: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(
        ids, sc.expected,
        "alert ids differ from a single in-order run"
    );
    let letters = broker.read_all("talon-dead-letters");
    let reasons: Vec<String> = letters
        .iter()
        .map(|(_, _, v)| {
            let doc: serde_json::Value = serde_json::from_str(v).expect("dead letter is JSON");
            format!(
                "{}@{}: {}",
                doc["partition"],
                doc["offset"],
                doc["reason"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let mut reasons = reasons;
    reasons.sort();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with("0@")
            && reasons[0].ends_with("payload is not JSON: expected ident at line 1 column 12"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("1@") && reasons[1].ends_with("payload is JSON but not an object"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("2@")
            && reasons[2].ends_with("empty message: expected one JSON event"),
        "{reasons:?}"
    );

    let total = (sc.events.len() + sc.ticks.len() + 3) as f64;
    wait_for(
        "the metrics to count every event and ack",
        Duration::from_secs(10),
        || {
            let page = scrape(server.addr());
            metric(&page, "talon_stream_events_total").is_some_and(|n| n >= total)
                && metric(&page, "talon_stream_alerts_acked_total")
                    == metric(&page, "talon_stream_alerts_produced_total")
        },
    );
    let page = scrape(server.addr());
    assert_eq!(
        metric(&page, "talon_stream_dead_letters_total"),
        Some(3.0),
        "{page}"
    );
    let produced = metric(&page, "talon_stream_alerts_produced_total");
    assert!(produced >= Some(sc.expected.len() as f64), "{page}");
    assert_eq!(
        metric(&page, "talon_stream_alerts_acked_total"),
        produced,
        "{page}"
    );
    assert_eq!(
        metric(&page, "talon_stream_errors_total"),
        Some(0.0),
        "{page}"
    );
    let gauge = |name: &str| metric(&page, name);
    assert_eq!(
        gauge("talon_stream_sequence_late_events"),
        Some(0.0),
        "{page}"
    );
    assert_eq!(gauge("talon_stream_sequence_evicted"), Some(0.0), "{page}");
    // Both sequence rules still wait on the tick events (keys nobody
    // completes), so their states keep events.
    assert!(
        gauge("talon_stream_sequence_events_kept") > Some(0.0),
        "{page}"
    );

    stop.store(true, Ordering::Relaxed);
    let summary = worker
        .join()
        .expect("worker thread")
        .expect("worker result");
    assert_eq!(summary.dead_letters, 3);
    assert!(broker.group_caught_up("g1", TOPIC));
    drop(server);
}

#[test]
fn pending_sequences_survive_a_hand_over_and_a_restart_redelivers_nothing() {
    let Some(broker) = Broker::start("hand_over") else {
        return;
    };
    broker.create_worker_topics(TOPIC, 4);
    let rules = tempfile::tempdir().expect("tempdir");
    scenario::write_rules(rules.path());
    let ev = |id: u32, ts: &str, cat: &str, action: &str, host: &str, user: &str| {
        Record {
        key: host.into(),
        payload: format!(
            "{{\"@timestamp\":\"2026-12-01T01:00:{ts}Z\",\"event\":{{\"id\":\"x{id}\",\"category\":[\"{cat}\"],\
             \"action\":\"{action}\"}},\"host\":{{\"id\":\"{host}\"}},\"user\":{{\"name\":\"{user}\"}}}}"
        ),
        partition: None,
    }
    };

    // First owner: sees the first half of two sequences, then stops.
    let stop = Arc::new(AtomicBool::new(false));
    let _first_guard = StopOnDrop(stop.clone());
    let first = spawn_worker(
        settings(&broker, "g2", TOPIC),
        rules.path(),
        stop.clone(),
        Arc::new(Metrics::default()),
    );
    send_all(
        &broker,
        &[
            ev(1, "01", "process", "a", "hostA", "bob"),
            ev(2, "02", "authentication", "login", "hostB", "alice"),
        ],
    );
    wait_for(
        "the first owner to checkpoint and commit",
        Duration::from_secs(60),
        || broker.group_caught_up("g2", TOPIC) && broker.group_caught_up("g2", "talon-repartition"),
    );
    stop.store(true, Ordering::Relaxed);
    first.join().expect("thread").expect("first owner");
    assert_eq!(
        broker.count("talon-alerts"),
        0,
        "no sequence is complete yet"
    );
    assert!(
        broker.count("talon-changelog") > 0,
        "the pending state was checkpointed"
    );

    // Second owner: restores the state, sees the second halves.
    let stop = Arc::new(AtomicBool::new(false));
    let _second_guard = StopOnDrop(stop.clone());
    let second = spawn_worker(
        settings(&broker, "g2", TOPIC),
        rules.path(),
        stop.clone(),
        Arc::new(Metrics::default()),
    );
    send_all(
        &broker,
        &[
            ev(3, "03", "process", "b", "hostA", "bob"),
            ev(4, "04", "process", "sudo", "hostC", "alice"),
        ],
    );
    wait_for(
        "the second owner to catch up",
        Duration::from_secs(60),
        || broker.group_caught_up("g2", TOPIC) && broker.group_caught_up("g2", "talon-repartition"),
    );
    let sc = scenario::build(0, 1, 1, 4, rules.path());
    send_all(&broker, &sc.ticks);
    wait_for("both sequences' alerts", Duration::from_secs(60), || {
        broker.count("talon-alerts") >= 6
    });
    let got = alerts(&broker);
    let rules_hit: BTreeSet<String> = broker
        .read_all("talon-alerts")
        .iter()
        .filter_map(|(_, _, v)| {
            let doc: serde_json::Value = serde_json::from_str(v).ok()?;
            doc["kibana.alert.rule.name"].as_str().map(str::to_owned)
        })
        .collect();
    assert_eq!(
        got.len(),
        6,
        "a shell and two building blocks per sequence: {got:?}"
    );
    assert_eq!(
        rules_hit,
        BTreeSet::from([
            "A Then B On A Host".to_owned(),
            "Login Then Sudo".to_owned()
        ])
    );
    wait_for(
        "the second owner's commits",
        Duration::from_secs(30),
        || broker.group_caught_up("g2", TOPIC) && broker.group_caught_up("g2", "talon-repartition"),
    );
    stop.store(true, Ordering::Relaxed);
    second.join().expect("thread").expect("second owner");

    // A graceful restart: the new owner is given every partition and reads
    // nothing, because everything was committed on the way out.
    let metrics = Arc::new(Metrics::default());
    let stop = Arc::new(AtomicBool::new(false));
    let _third_guard = StopOnDrop(stop.clone());
    let mut s = settings(&broker, "g2", TOPIC);
    s.client_properties
        .push(("statistics.interval.ms".into(), "300".into()));
    let third = spawn_worker(s, rules.path(), stop.clone(), metrics.clone());
    wait_for(
        "the restarted worker to own and read up to the end of every partition",
        Duration::from_secs(60),
        || {
            let lag = metrics.lag();
            metrics.assigned_partitions.load(Ordering::Relaxed) == 8
                && lag.len() == 8
                && lag.values().all(|&l| l == 0)
        },
    );
    let before = broker.count("talon-alerts");
    stop.store(true, Ordering::Relaxed);
    let summary = third.join().expect("thread").expect("restarted worker");
    assert_eq!(summary.events, 0, "a graceful restart re-delivers nothing");
    assert_eq!(broker.count("talon-alerts"), before);
}
