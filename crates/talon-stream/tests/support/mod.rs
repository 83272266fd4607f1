//! What the broker tests share: the broker itself, the scenario, and a
//! worker run on a thread of the test.

#![allow(dead_code)]

pub mod broker;
pub mod scenario;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use talon_alert::AlertContext;
use talon_engine::{compile_rules, EngineOptions};
use talon_event::mapping::Mapping;
use talon_stream::{Metrics, Settings, StreamConfig, StreamRules, Summary};

/// Settings for a test worker: short commit and checkpoint intervals, and
/// a session timeout that lets the group notice a killed worker quickly.
pub fn settings(broker: &broker::Broker, group: &str, topic: &str) -> Settings {
    let mut c = StreamConfig {
        brokers: Some(broker.addr()),
        group: Some(group.into()),
        topics: vec![topic.into()],
        commit_interval_ms: Some(200),
        checkpoint_interval_ms: Some(300),
        ..StreamConfig::default()
    };
    c.librdkafka
        .insert("session.timeout.ms".into(), "6000".into());
    c.librdkafka
        .insert("heartbeat.interval.ms".into(), "500".into());
    c.resolve().expect("test settings")
}

/// A worker on a thread of the test, stopped by `stop`.
pub fn spawn_worker(
    settings: Settings,
    rules_dir: &Path,
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
) -> JoinHandle<Result<Summary, String>> {
    // `RUST_LOG=info cargo test ... -- --nocapture` shows what workers do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let dir = rules_dir.to_path_buf();
    std::thread::spawn(move || {
        let report = talon_rules::load_paths(&[dir]);
        let (compiled, _) = compile_rules(report.rules, &Mapping::default());
        let factory =
            talon_stream::runner::factory(&Mapping::default(), std::time::Duration::from_secs(60));
        let (rules, problems) = StreamRules::new(
            compiled,
            &EngineOptions::default(),
            &settings.partition_key,
            factory.as_deref(),
        );
        if !problems.is_empty() {
            return Err(format!("{problems:?}"));
        }
        let ctx = AlertContext::new(chrono::Utc::now());
        talon_stream::run(
            &settings,
            rules,
            factory,
            &ctx,
            scenario::decoder(),
            metrics,
            &stop,
        )
        .map_err(|e| e.to_string())
    })
}

/// Polls `check` every 100 ms until it holds or `limit` passes.
pub fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    wait_until(what, limit, || {
        if check() {
            Ok(())
        } else {
            Err(String::new())
        }
    });
}

/// Polls `check` until it returns `Ok`; on time-out, panics with the last
/// `Err` it gave (how far things got).
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        match check() {
            Ok(()) => return,
            Err(progress) => last = progress,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "timed out after {}s waiting for {what} {last}",
        limit.as_secs()
    );
}

/// Polls `check` until it returns `Ok`, for as long as `progress` keeps
/// changing: it panics once `progress` has not moved for `idle`, or at
/// `cap` in any case. For steps whose length is the broker's: a broker
/// slowed by a busy machine drains its backlog slowly but steadily, where
/// a lost acknowledgement or a stuck worker stops every counter.
pub fn wait_while_progressing(
    what: &str,
    idle: Duration,
    cap: Duration,
    mut check: impl FnMut() -> Result<(), String>,
    mut progress: impl FnMut() -> i64,
    explain: impl FnOnce() -> String,
) {
    let started = Instant::now();
    let mut seen = progress();
    let mut moved = Instant::now();
    loop {
        let last = match check() {
            Ok(()) => return,
            Err(p) => p,
        };
        let now = progress();
        if now != seen {
            seen = now;
            moved = Instant::now();
        }
        let why = if moved.elapsed() > idle {
            format!("no progress for {}s", idle.as_secs())
        } else if started.elapsed() > cap {
            format!("still moving after {}s", cap.as_secs())
        } else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        panic!(
            "timed out waiting for {what} ({why}, after {:.0}s) {last}{}",
            started.elapsed().as_secs_f64(),
            explain()
        );
    }
}

/// Sets a worker's stop flag when dropped, so a failing test does not
/// leave its worker threads running against a stopped broker.
pub struct StopOnDrop(pub Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
