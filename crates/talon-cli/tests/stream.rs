//! `talon stream` as a consumer group: three worker processes over a
//! 4-partition topic on a real broker (nisshi, on loopback), one killed
//! with SIGKILL mid-stream. Every alert a single in-order run gives must
//! arrive (event and sequence rules alike); duplicates are counted and
//! reported. Then a graceful restart must re-deliver nothing.
//!
//! Built only with `--features kafka`; without nisshi the broker tests say
//! `skipped:` and pass.

#![cfg(feature = "kafka")]

#[path = "../../talon-stream/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::broker::Broker;
use support::scenario::{self, Record};
use support::{wait_for, wait_until, wait_while_progressing};

const TOPIC: &str = "ecs";
const BIN: &str = env!("CARGO_BIN_EXE_talon");

/// One `talon stream` process and its metrics endpoint.
struct Worker {
    child: Child,
    metrics: SocketAddr,
    name: String,
    /// Its stderr, kept when a test fails and removed when it passes.
    log: std::path::PathBuf,
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

impl Worker {
    fn start(broker: &Broker, rules: &Path, group: &str, name: &str) -> Worker {
        let metrics = free_addr();
        let log = std::env::temp_dir().join(format!("talon-stream-{name}-{}.log", broker.port));
        let out = std::fs::File::create(&log).expect("worker log");
        let child = Command::new(BIN)
            .args([
                "stream",
                "--brokers",
                &broker.addr(),
                "--group",
                group,
                "--topic",
                TOPIC,
            ])
            .arg("--rules")
            .arg(rules)
            .args([
                "--index",
                scenario::INDEX,
                "--metrics",
                &metrics.to_string(),
            ])
            .args([
                "--commit-interval-ms",
                "200",
                "--checkpoint-interval-ms",
                "300",
            ])
            // The group notices a dead member after the session timeout.
            .args([
                "-X",
                "session.timeout.ms=6000",
                "-X",
                "heartbeat.interval.ms=500",
            ])
            .args([
                "-X",
                "statistics.interval.ms=500",
                "-vv",
                "-X",
                "debug=consumer,fetch,cgrp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("start talon stream");
        Worker {
            child,
            metrics,
            name: name.into(),
            log,
        }
    }

    fn scrape(&self) -> Option<String> {
        let mut s = TcpStream::connect(self.metrics).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").ok()?;
        let mut page = String::new();
        s.read_to_string(&mut page).ok()?;
        Some(page)
    }

    fn metric(&self, name: &str) -> Option<f64> {
        let page = self.scrape()?;
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// Lag per partition this worker reports (librdkafka's statistics).
    fn lag(&self) -> BTreeMap<String, i64> {
        let Some(page) = self.scrape() else {
            return BTreeMap::new();
        };
        page.lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("talon_stream_consumer_lag{")?;
                let (labels, value) = rest.split_once("} ")?;
                Some((labels.to_owned(), value.parse().ok()?))
            })
            .collect()
    }

    /// SIGTERM, then the exit status (within 60 s).
    fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        false
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        if failing {
            // Before it is killed: where the worker stands.
            if let Some(page) = self.scrape() {
                let counts: Vec<&str> = page
                    .lines()
                    .filter(|l| l.starts_with("talon_stream_") && !l.contains('{'))
                    .collect();
                eprintln!("--- metrics of {}: {}", self.name, counts.join(", "));
            }
        }
        // A test that failed half-way leaves no process behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let refused = log.matches("offset commit failed").count();
        if refused > 0 {
            eprintln!("{}: {refused} refused commits, sent again", self.name);
        }
        if failing {
            // CI shows only the test's output: the worker's last words.
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            eprintln!(
                "--- last lines of {} ({}):\n{}",
                self.name,
                self.log.display(),
                tail.join("\n")
            );
        } else {
            // A passing test leaves no log behind in the temporary folder.
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn assigned(workers: &[Worker]) -> f64 {
    workers
        .iter()
        .filter_map(|w| w.metric("talon_stream_assigned_partitions"))
        .sum()
}

fn alert_counts(broker: &Broker) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (_, key, _) in broker.read_all("talon-alerts") {
        *seen.entry(key).or_insert(0) += 1;
    }
    seen
}

fn send(broker: &Broker, records: &[Record]) {
    let p = broker.producer();
    for r in records {
        p.send(TOPIC, &r.key, r.payload.as_bytes(), r.partition);
    }
    p.flush();
}

/// The highest offset each partition's checkpoints on the changelog cover.
fn latest_checkpoints(broker: &Broker) -> String {
    let mut through: BTreeMap<String, i64> = BTreeMap::new();
    for (_, key, value) in broker.read_all("talon-changelog") {
        let t = serde_json::from_str::<serde_json::Value>(&value)
            .ok()
            .and_then(|v| v["through"].as_i64())
            .unwrap_or(-1);
        let e = through.entry(key).or_insert(t);
        *e = (*e).max(t);
    }
    through
        .iter()
        .map(|(k, t)| format!("{k} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Err` names the partitions whose committed position is short of the end.
fn caught_up(broker: &Broker, group: &str) -> Result<(), String> {
    let mut behind = broker.group_behind(group, TOPIC);
    behind.extend(broker.group_behind(group, "talon-repartition"));
    if behind.is_empty() {
        Ok(())
    } else {
        Err(format!("(behind: {})", behind.join(", ")))
    }
}

#[test]
fn three_workers_lose_no_alert_when_one_is_killed_and_a_graceful_restart_redelivers_nothing() {
    let Some(broker) = Broker::start("cluster") else {
        return;
    };
    broker.create_worker_topics(TOPIC, 4);
    let rules = tempfile::tempdir().expect("tempdir");
    scenario::write_rules(rules.path());
    let sc = scenario::build(6000, 40, 25, 4, rules.path());
    let group = "talon-cluster";

    let mut workers: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&broker, rules.path(), group, &format!("w{i}")))
        .collect();
    wait_for(
        "3 workers to share 8 partitions",
        Duration::from_secs(60),
        || {
            workers
                .iter()
                .all(|w| w.metric("talon_stream_assigned_partitions").is_some())
                && assigned(&workers) == 8.0
        },
    );

    // Produce at a steady pace, so the kill lands mid-stream.
    let (first, rest) = sc.events.split_at(2000);
    send(&broker, first);
    wait_for("alerts to flow", Duration::from_secs(60), || {
        broker.count("talon-alerts") > 50
    });
    let victim = workers.remove(1);
    let mut victim = victim;
    victim.child.kill().expect("SIGKILL");
    let _ = victim.child.wait();
    let killed_at = Instant::now();
    eprintln!(
        "{} killed with SIGKILL after {} alerts",
        victim.name,
        broker.count("talon-alerts")
    );
    for chunk in rest.chunks(500) {
        send(&broker, chunk);
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for(
        "the 2 survivors to take over all 8 partitions",
        Duration::from_secs(60),
        || assigned(&workers) == 8.0,
    );
    let takeover = killed_at.elapsed();

    wait_until("the group to catch up", Duration::from_secs(120), || {
        caught_up(&broker, group)
    });
    send(&broker, &sc.ticks);
    let explain = || {
        format!(
            "\nthe topics: {}\n{}\nthe latest checkpoints: {}",
            broker.readable(TOPIC),
            broker.readable("talon-repartition"),
            latest_checkpoints(&broker)
        )
    };
    // What the workers have done and had acknowledged so far.
    let progress = |workers: &[Worker]| -> i64 {
        let counters = [
            "talon_stream_events_total",
            "talon_stream_alerts_acked_total",
            "talon_stream_checkpoints_total",
            "talon_stream_commits_total",
        ];
        workers
            .iter()
            .flat_map(|w| counters.iter().filter_map(|c| w.metric(c)))
            .sum::<f64>() as i64
    };
    wait_while_progressing(
        "every expected alert",
        Duration::from_secs(60),
        Duration::from_secs(300),
        || {
            let got = alert_counts(&broker);
            let missing = sc
                .expected
                .iter()
                .filter(|id| !got.contains_key(*id))
                .count();
            if missing == 0 {
                Ok(())
            } else {
                Err(format!(
                    "({missing} of {} still missing)",
                    sc.expected.len()
                ))
            }
        },
        || progress(&workers) + broker.count("talon-alerts"),
        explain,
    );

    let got = alert_counts(&broker);
    let unexpected: Vec<&String> = got.keys().filter(|id| !sc.expected.contains(*id)).collect();
    assert!(
        unexpected.is_empty(),
        "alerts no in-order run gives: {unexpected:?}"
    );
    let records: usize = got.values().sum();
    let duplicates = records - got.len();
    eprintln!(
        "cluster: {} alerts expected ({} event-rule, {} sequence-rule), all arrived; {records} alert \
         records, {duplicates} duplicates (same uuid); takeover after SIGKILL {:.1}s",
        sc.expected.len(),
        sc.event_alerts,
        sc.sequence_alerts,
        takeover.as_secs_f64()
    );

    // Graceful restart: stop the survivors, start three new workers; they
    // own every partition, read to the end, and read nothing.
    wait_while_progressing(
        "the last commits",
        Duration::from_secs(60),
        Duration::from_secs(300),
        || caught_up(&broker, group),
        || progress(&workers),
        explain,
    );
    for w in workers.drain(..) {
        let name = w.name.clone();
        assert!(w.stop(), "{name} did not exit cleanly on SIGTERM");
    }
    let before = broker.count("talon-alerts");
    let fresh: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&broker, rules.path(), group, &format!("r{i}")))
        .collect();
    wait_until(
        "the restarted workers to own 8 partitions, each read to its end",
        Duration::from_secs(90),
        || {
            let lags: Vec<BTreeMap<String, i64>> = fresh.iter().map(Worker::lag).collect();
            let n = assigned(&fresh);
            let done = n == 8.0
                && lags.iter().map(BTreeMap::len).sum::<usize>() == 8
                && lags.iter().all(|l| l.values().all(|&v| v == 0));
            if done {
                Ok(())
            } else {
                Err(format!("(assigned {n}, lag {lags:?})"))
            }
        },
    );
    let read: f64 = fresh
        .iter()
        .filter_map(|w| w.metric("talon_stream_events_total"))
        .sum();
    assert_eq!(read, 0.0, "a graceful restart re-delivers nothing");
    for w in fresh {
        assert!(w.stop(), "a restarted worker did not exit cleanly");
    }
    assert_eq!(
        broker.count("talon-alerts"),
        before,
        "no alert was produced again"
    );
}

#[test]
fn a_stream_without_brokers_says_what_is_missing() {
    let out = Command::new(BIN)
        .args(["stream", "--topic", "ecs"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run talon");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no brokers (`--brokers` or `brokers` in [stream])"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args([
            "stream",
            "--brokers",
            "127.0.0.1:1",
            "--topic",
            "ecs",
            "--metrics",
            "0.0.0.0:9464",
        ])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run talon");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a loopback address"), "{err}");
}
