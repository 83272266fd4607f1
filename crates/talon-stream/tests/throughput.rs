//! Throughput of 1, 2 and 3 workers in one group on one machine, against
//! nisshi on loopback. Ignored by default (it takes a minute or two); run:
//!
//! ```sh
//! NISSHI=.tools/bin/nisshi cargo test --release -p talon-stream --test throughput \
//!     -- --ignored --nocapture
//! ```
//!
//! The events are produced once; each worker count then reads all of them
//! as a new group, with the shipped commit and checkpoint intervals. The
//! rate is taken between 10% and 90% of the messages read (group joins and
//! the tail are not counted), all workers together, and given as events
//! of the event topic per second.
//! `TALON_BENCH_EVENTS` sets the event count (default 300 000),
//! `TALON_BENCH_NOISE` the percent of events no rule uses (default 0).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::broker::Broker;
use support::{scenario, settings, spawn_worker, wait_for, StopOnDrop};
use talon_stream::Metrics;

const TOPIC: &str = "ecs";

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
fn events_per_second_with_one_two_and_three_workers() {
    let Some(broker) = Broker::start("throughput") else {
        return;
    };
    broker.create_worker_topics(TOPIC, 4);
    let rules = tempfile::tempdir().expect("tempdir");
    scenario::write_rules(rules.path());
    let n: u64 = std::env::var("TALON_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    // `TALON_BENCH_NOISE`: percent of events no rule uses (default 0: the
    // alert-heavy mix of the correctness tests, ~0.6 alerts per event).
    let noise: u64 = std::env::var("TALON_BENCH_NOISE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let sc = scenario::build_mix(n, 400, 250, 4, noise, rules.path());
    eprintln!(
        "mix: {noise}% noise, {} alerts expected ({} event-rule, {} sequence-rule)",
        sc.expected.len(),
        sc.event_alerts,
        sc.sequence_alerts
    );
    let p = broker.producer();
    let produced = Instant::now();
    for r in &sc.events {
        p.send(TOPIC, &r.key, r.payload.as_bytes(), r.partition);
    }
    p.flush();
    eprintln!(
        "produced {n} events ({} bytes each on average) in {:.1}s",
        sc.events.iter().map(|r| r.payload.len()).sum::<usize>() / sc.events.len().max(1),
        produced.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    // The first pass over freshly produced events runs against a broker
    // still settling them; a 1-worker pass is measured again at the end.
    for (pass, workers) in [1, 2, 3, 1].into_iter().enumerate() {
        let group = format!("bench-{pass}-{workers}");
        // Each pass forwards to and checkpoints in topics of its own, so it
        // never reads an earlier pass's copies.
        let (repartition, changelog) = (format!("repartition-{pass}"), format!("changelog-{pass}"));
        broker.create_topic(&repartition, 4, &[]);
        broker.create_topic(&changelog, 4, &["cleanup.policy=compact"]);
        let metrics: Vec<Arc<Metrics>> =
            (0..workers).map(|_| Arc::new(Metrics::default())).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let _guard = StopOnDrop(stop.clone());
        let threads: Vec<_> = metrics
            .iter()
            .map(|m| {
                // The shipped defaults, not the tests' short intervals.
                let mut s = settings(&broker, &group, TOPIC);
                s.commit_interval = Duration::from_millis(500);
                s.checkpoint_interval = Duration::from_millis(1000);
                s.client_properties
                    .retain(|(k, _)| !k.starts_with("session.") && !k.starts_with("heartbeat."));
                s.repartition_topic = repartition.clone();
                s.changelog_topic = changelog.clone();
                spawn_worker(s, rules.path(), stop.clone(), m.clone())
            })
            .collect();
        let sum = |f: fn(&Metrics) -> u64| metrics.iter().map(|m| f(m)).sum::<u64>();
        let read = || sum(|m| m.events.load(Ordering::Relaxed));
        let forwarded = || sum(|m| m.repartitioned.load(Ordering::Relaxed));
        // Done when every event and every copy forwarded to the repartition
        // topic has been read; re-deliveries after a rebalance count as work.
        let mut samples = vec![(Instant::now(), 0u64)];
        let deadline = Instant::now() + Duration::from_secs(900);
        while read() < n + forwarded() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            samples.push((Instant::now(), read()));
        }
        let total = read();
        assert!(total >= n, "timed out: {total} of {n} events read");
        // The rate between 10% and 90% of the work: no group join, no tail.
        let at = |share: f64| {
            let goal = (total as f64 * share) as u64;
            samples
                .iter()
                .find(|(_, c)| *c >= goal)
                .copied()
                .unwrap_or((Instant::now(), total))
        };
        let ((t1, c1), (t2, c2)) = (at(0.1), at(0.9));
        let secs = t2.duration_since(t1).as_secs_f64().max(1e-3);
        let messages_rate = (c2 - c1) as f64 / secs;
        let rate = messages_rate * n as f64 / total as f64;
        wait_for("the commits", Duration::from_secs(120), || {
            broker.group_caught_up(&group, TOPIC) && broker.group_caught_up(&group, &repartition)
        });
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().expect("worker thread").expect("worker");
        }
        eprintln!(
            "{workers} worker(s): {rate:.0} events/s ({messages_rate:.0} messages/s; {total} messages \
             read for {n} events, {} forwarded)",
            forwarded()
        );
        rows.push((workers, rate));
    }
    eprintln!("workers  events/s");
    for (w, r) in &rows {
        eprintln!("{w:>7}  {r:>8.0}");
    }
    assert!(rows.iter().all(|(_, r)| *r > 0.0));
}
