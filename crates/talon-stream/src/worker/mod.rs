//! The worker: one consumer-group member evaluating rules over its share
//! of the partitions.
//!
//! One thread runs a poll loop. Each message becomes an event (or a dead
//! letter), meets the event rules and the sequence state of its partition,
//! and its alerts, keyed by alert uuid, go to the alerts topic (and the
//! alerts file). Sequence rules that do not join on the partitioning field
//! get the event through the repartition topic instead ([`crate::routing`]).
//! Offsets are committed every commit interval, only as far as
//! [`crate::offsets`] allows; sequence state is checkpointed every
//! checkpoint interval ([`crate::changelog`]). Stopping (the `stop` flag,
//! set by SIGINT or SIGTERM) flushes, checkpoints and commits everything,
//! then leaves the group, so a graceful restart re-delivers nothing.

mod context;
mod shared;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::BaseProducer;
use rdkafka::Message;
use rustc_hash::FxHashMap;
use talon_alert::{Alert, AlertBuilder, AlertContext};
use talon_engine::{CompiledRule, Engine, EngineOptions, RuleProblem};
use talon_eql::QueryKind;
use talon_event::Origin;

use crate::changelog::{RestoreContext, Restorer};
use crate::config::Settings;
use crate::decode::{forwarded_record, DeadLetter, Decoder};
use crate::error::StreamError;
use crate::metrics::{inc, Metrics};
use crate::offsets::Tp;
use crate::routing::{Placement, SequenceRule};
use crate::state::MatcherFactory;
use context::{DeliveryContext, Token, WorkerContext};
use shared::{Shared, Topics};

/// How long one poll waits for a message: the longest the loop goes
/// without serving deliveries, commits and the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// The rules a worker runs, split by how they run.
pub struct StreamRules {
    engine: Engine,
    sequences: Vec<SequenceRule>,
    all_indices: bool,
}

impl StreamRules {
    /// Event rules go to the engine; sequence rules to the matchers the
    /// factory makes, placed by their join keys. Returns the rules that
    /// cannot run here, as problems to report.
    pub fn new(
        compiled: Vec<CompiledRule>,
        opts: &EngineOptions,
        partition_key: &str,
        factory: Option<&dyn MatcherFactory>,
    ) -> (StreamRules, Vec<RuleProblem>) {
        let mut events = Vec::new();
        let mut sequences = Vec::new();
        let mut problems = Vec::new();
        for rule in compiled {
            if rule.kind() == QueryKind::Event {
                events.push(rule);
                continue;
            }
            let index = sequences.len();
            let supported = factory.is_some_and(|f| f.matcher(index, &rule).is_some());
            if !supported || rule.kind() == QueryKind::Sample {
                problems.push(RuleProblem::Unsupported {
                    reason: "sequence matching is not available in this build".into(),
                    rule: Box::new(rule.rule),
                });
                continue;
            }
            if let Some(s) = SequenceRule::new(index, Arc::new(rule), partition_key) {
                sequences.push(s);
            }
        }
        let (engine, mut more) = Engine::new(events, opts);
        problems.append(&mut more);
        (
            StreamRules {
                engine,
                sequences,
                all_indices: opts.all_indices,
            },
            problems,
        )
    }

    /// Rules that will run: event rules, then sequence rules.
    pub fn len(&self) -> usize {
        self.engine.rules().len() + self.sequences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sequence rules run where (local, routed).
    pub fn placements(&self) -> (usize, usize) {
        let local = self
            .sequences
            .iter()
            .filter(|s| s.placement == Placement::Local)
            .count();
        (local, self.sequences.len() - local)
    }
}

/// What a worker did, for its closing log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub alerts: u64,
    pub dead_letters: u64,
}

/// Runs one worker until `stop` is set, or a record cannot be delivered.
pub fn run(
    settings: &Settings,
    rules: StreamRules,
    factory: Option<Arc<dyn MatcherFactory>>,
    alert_ctx: &AlertContext,
    decoder: Decoder,
    metrics: Arc<Metrics>,
    stop: &AtomicBool,
) -> Result<Summary, StreamError> {
    let StreamRules {
        mut engine,
        sequences,
        all_indices,
    } = rules;
    let sequences: Arc<[SequenceRule]> = sequences.into();
    let (local, routed) = (
        sequences.iter().any(|s| s.placement == Placement::Local),
        sequences.iter().any(|s| s.placement == Placement::Routed),
    );
    let decoder = Arc::new(decoder);

    let producer: BaseProducer<DeliveryContext> = client_config(settings, Role::Producer)
        .create_with_context(DeliveryContext {
            reports: Mutex::new(Vec::new()),
            metrics: metrics.clone(),
        })
        .map_err(|e| StreamError::kafka("cannot create the producer", e))?;
    let restorer = if sequences.is_empty() {
        None
    } else {
        let c: BaseConsumer<RestoreContext> = client_config(settings, Role::Restorer)
            .create_with_context(RestoreContext)
            .map_err(|e| StreamError::kafka("cannot create the changelog reader", e))?;
        Some(Restorer::new(c, &settings.changelog_topic)?)
    };
    let topics = Topics {
        events: settings
            .topics
            .iter()
            .map(|t| Arc::from(t.as_str()))
            .collect(),
        alerts: settings.alerts_topic.clone(),
        dead_letters: settings.dead_letter_topic.clone(),
        repartition: Arc::from(settings.repartition_topic.as_str()),
    };
    let shared = Arc::new(Mutex::new(Shared::new(
        topics,
        producer,
        metrics.clone(),
        decoder.clone(),
        sequences.clone(),
        factory,
        restorer,
    )));
    let failed_commits = lock(&shared).failed_commits.clone();
    let consumer: BaseConsumer<WorkerContext> = client_config(settings, Role::Consumer)
        .create_with_context(WorkerContext {
            shared: shared.clone(),
            metrics: metrics.clone(),
            failed_commits,
        })
        .map_err(|e| StreamError::kafka("cannot create the consumer", e))?;
    let mut subscribed: Vec<&str> = settings.topics.iter().map(String::as_str).collect();
    if routed {
        subscribed.push(&settings.repartition_topic);
    }
    consumer.subscribe(&subscribed).map_err(|e| {
        StreamError::kafka(format!("cannot subscribe to {}", subscribed.join(", ")), e)
    })?;
    tracing::info!(
        "joined group {} on {} ({} event rules, {} sequence rules)",
        settings.group,
        subscribed.join(", "),
        engine.rules().len(),
        sequences.len()
    );

    let mut file = match &settings.alerts_file {
        None => None,
        Some(path) => Some(AlertsFile::open(path)?),
    };
    // Builders borrow their rule, so the event rules are cloned out of the
    // engine, which `on_event` borrows mutably.
    let event_rules: Vec<_> = engine.rules().iter().map(|r| r.rule.clone()).collect();
    let builders: Vec<AlertBuilder<'_>> = event_rules
        .iter()
        .map(|r| AlertBuilder::new(r, alert_ctx))
        .collect();
    let seq_builders: Vec<AlertBuilder<'_>> = sequences
        .iter()
        .map(|s| AlertBuilder::new(&s.compiled.rule, alert_ctx))
        .collect();
    let by_id: FxHashMap<&str, usize> = sequences.iter().map(|s| (s.rule_id(), s.index)).collect();
    let mut origins: FxHashMap<Tp, Arc<str>> = FxHashMap::default();
    let mut summary = Summary::default();
    let mut last_commit = Instant::now();
    let mut failure = None;

    while !stop.load(Ordering::Relaxed) {
        if let Some(msg) = consumer.poll(POLL) {
            match msg {
                Ok(msg) => {
                    let mut sh = lock(&shared);
                    let mut step = Step {
                        sh: &mut sh,
                        engine: &mut engine,
                        builders: &builders,
                        seq_builders: &seq_builders,
                        decoder: &decoder,
                        by_id: &by_id,
                        local,
                        routed,
                        all_indices,
                        file: file.as_mut(),
                        summary: &mut summary,
                        origins: &mut origins,
                    };
                    step.message(&msg);
                }
                Err(e) => {
                    inc(&metrics.errors);
                    tracing::warn!("consumer: {e}");
                }
            }
        }
        let mut sh = lock(&shared);
        sh.service();
        if let Some(e) = sh.fatal.take() {
            failure = Some(e);
            // Keep the flag up: no checkpoint may be written after this.
            sh.fatal = Some(StreamError::Config(
                "stopping after a failed delivery".into(),
            ));
            break;
        }
        if last_commit.elapsed() >= settings.commit_interval {
            sh.commit(&consumer, CommitMode::Async, None);
            last_commit = Instant::now();
        }
        sh.checkpoint_tick(settings.checkpoint_interval);
        drop(sh);
        metrics.tick();
    }

    // Graceful stop: what `on_revoke` does before a rebalance, for every
    // owned partition; then closing the consumer leaves the group.
    {
        let mut sh = lock(&shared);
        let owned = sh.tracker.owned();
        sh.on_revoke(&consumer, &owned, false);
    }
    drop(consumer);
    if let Some(f) = file.as_mut() {
        f.flush()?;
    }
    tracing::info!(
        "left group {}: {} events, {} alerts, {} dead letters",
        settings.group,
        summary.events,
        summary.alerts,
        summary.dead_letters
    );
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock would have ended the worker already;
    // the state behind a poisoned lock is still the latest one.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Everything one message's processing touches.
struct Step<'a, 'r> {
    sh: &'a mut Shared,
    engine: &'a mut Engine,
    builders: &'a [AlertBuilder<'r>],
    seq_builders: &'a [AlertBuilder<'r>],
    decoder: &'a Decoder,
    by_id: &'a FxHashMap<&'r str, usize>,
    local: bool,
    routed: bool,
    all_indices: bool,
    file: Option<&'a mut AlertsFile>,
    summary: &'a mut Summary,
    origins: &'a mut FxHashMap<Tp, Arc<str>>,
}

impl Step<'_, '_> {
    fn message(&mut self, msg: &BorrowedMessage<'_>) {
        let tp = Tp {
            topic: self.sh.topic_arc(msg.topic()),
            partition: msg.partition(),
        };
        if !self.sh.tracker.owns(&tp) {
            // Fetched just before its partition was revoked: the new owner
            // reads it from the committed position.
            return;
        }
        let offset = msg.offset();
        inc(&self.sh.metrics.events);
        self.summary.events += 1;
        let file = self
            .origins
            .entry(tp.clone())
            .or_insert_with(|| Arc::from(format!("kafka:{tp}")))
            .clone();
        let origin = Origin {
            file,
            line: u64::try_from(offset).unwrap_or_default(),
        };
        let seq = u64::try_from(offset).unwrap_or_default();
        let sent = if tp.topic == self.sh.topics.repartition {
            self.forwarded(msg, &tp, origin, seq)
        } else {
            self.event(msg, &tp, origin, seq)
        };
        self.sh.covered(&tp, offset);
        self.sh.tracker.processed(&tp, offset, sent);
    }

    /// A message of an event topic. Returns the records sent for it.
    fn event(&mut self, msg: &BorrowedMessage<'_>, tp: &Tp, origin: Origin, seq: u64) -> u32 {
        let mut event = match self.decoder.event(msg.payload(), origin) {
            Ok(e) => e,
            Err(why) => return self.dead_letter(msg, tp, &why.to_string()),
        };
        event.seq = seq;
        let mut alerts = Vec::new();
        let mut failed = 0u64;
        let builders = self.builders;
        self.engine.on_event(&event, |d| {
            match builders[d.rule_index].event_alert(d.event) {
                Ok(a) => alerts.push(a),
                Err(e) => {
                    failed += 1;
                    tracing::warn!("{}: cannot build alert: {e}", d.event.origin);
                }
            }
        });
        self.sh.metrics.errors.fetch_add(failed, Ordering::Relaxed);
        let mut sent = self.send_alerts(&alerts, tp, msg.offset());
        if !self.local && !self.routed {
            return sent;
        }
        let event = Arc::new(event);
        if self.local {
            sent += self.sequence_hits(tp, &event, None, msg.offset());
        }
        if self.routed {
            sent += self.forward(&event, tp, msg.offset());
        }
        sent
    }

    /// A message of the repartition topic: an event for routed sequences.
    fn forwarded(&mut self, msg: &BorrowedMessage<'_>, tp: &Tp, origin: Origin, seq: u64) -> u32 {
        let (mut event, ids) = match self.decoder.forwarded(msg.payload(), origin) {
            Ok(x) => x,
            Err(why) => return self.dead_letter(msg, tp, &why.to_string()),
        };
        event.seq = seq;
        let mut rules = Vec::with_capacity(ids.len());
        for id in &ids {
            match self.by_id.get(id.as_str()) {
                Some(&i) => rules.push(i),
                None => tracing::warn!(
                    "{tp}@{}: forwarded for rule {id}, which this worker does not run \
                     (do all workers load the same rules?)",
                    msg.offset()
                ),
            }
        }
        self.sequence_hits(tp, &Arc::new(event), Some(&rules), msg.offset())
    }

    fn sequence_hits(
        &mut self,
        tp: &Tp,
        event: &Arc<talon_event::Event>,
        rules: Option<&[usize]>,
        offset: i64,
    ) -> u32 {
        let hits = self.sh.feed(tp, event, rules, self.all_indices);
        let mut sent = 0;
        for (rule, hit) in hits {
            let events: Vec<&talon_event::Event> = hit.events.iter().map(|e| &**e).collect();
            match self.seq_builders[rule].sequence_alerts(&events) {
                Ok(alerts) => sent += self.send_alerts(&alerts, tp, offset),
                Err(e) => {
                    inc(&self.sh.metrics.errors);
                    tracing::warn!("{tp}@{offset}: cannot build sequence alert: {e}");
                }
            }
        }
        sent
    }

    /// Sends the event to the repartition topic once per key value, with
    /// the routed rules it is for.
    fn forward(&mut self, event: &talon_event::Event, tp: &Tp, offset: i64) -> u32 {
        let mut by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let sequences = self.sh.sequences().clone();
        for s in sequences
            .iter()
            .filter(|s| s.placement == Placement::Routed)
        {
            if !s.sees(event, self.all_indices) {
                continue;
            }
            for key in s.route_keys(event) {
                by_key.entry(key).or_default().push(s.rule_id());
            }
        }
        let topic = self.sh.topics.repartition.clone();
        let mut sent = 0;
        for (key, rules) in &by_key {
            let Some(record) = forwarded_record(event, rules) else {
                continue;
            };
            self.sh.send(
                &topic,
                key,
                &record,
                None,
                Token::Output {
                    tp: tp.clone(),
                    offset,
                    alert: false,
                },
            );
            inc(&self.sh.metrics.repartitioned);
            sent += 1;
        }
        sent
    }

    fn send_alerts(&mut self, alerts: &[Alert], tp: &Tp, offset: i64) -> u32 {
        let topic = self.sh.topics.alerts.clone();
        for alert in alerts {
            let json = alert.to_json();
            self.sh.send(
                &topic,
                alert.uuid(),
                &json,
                None,
                Token::Output {
                    tp: tp.clone(),
                    offset,
                    alert: true,
                },
            );
            if let Some(f) = self.file.as_deref_mut() {
                f.write(&json);
            }
            inc(&self.sh.metrics.alerts_produced);
        }
        self.summary.alerts += alerts.len() as u64;
        alerts.len() as u32
    }

    fn dead_letter(&mut self, msg: &BorrowedMessage<'_>, tp: &Tp, reason: &str) -> u32 {
        tracing::warn!("{tp}@{}: dead letter: {reason}", msg.offset());
        let letter = DeadLetter {
            reason: reason.to_owned(),
            topic: &tp.topic,
            partition: tp.partition,
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: String::from_utf8_lossy(msg.payload().unwrap_or_default()).into_owned(),
        };
        let key = format!("{tp}@{}", msg.offset());
        let topic = self.sh.topics.dead_letters.clone();
        let token = Token::Output {
            tp: tp.clone(),
            offset: msg.offset(),
            alert: false,
        };
        self.sh.send(&topic, &key, &letter.to_json(), None, token);
        inc(&self.sh.metrics.dead_letters);
        self.summary.dead_letters += 1;
        1
    }
}

/// The optional JSON Lines copy of the alerts. Best effort, like the
/// topic it mirrors it may hold a re-delivered alert twice.
struct AlertsFile {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    failed: bool,
}

impl AlertsFile {
    fn open(path: &std::path::Path) -> Result<AlertsFile, StreamError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| StreamError::AlertsFile {
                path: path.to_owned(),
                source,
            })?;
        Ok(AlertsFile {
            path: path.to_owned(),
            out: std::io::BufWriter::new(file),
            failed: false,
        })
    }

    fn write(&mut self, json: &str) {
        if self.failed {
            return;
        }
        if let Err(e) = writeln!(self.out, "{json}") {
            // The topic stays the record of truth; say it once.
            tracing::error!(
                "alerts file {}: {e}; no more alerts are written to it",
                self.path.display()
            );
            self.failed = true;
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        self.out.flush().map_err(|source| StreamError::AlertsFile {
            path: self.path.clone(),
            source,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Consumer,
    Producer,
    Restorer,
}

fn client_config(settings: &Settings, role: Role) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &settings.brokers);
    c.set("client.id", format!("talon-{}", std::process::id()));
    match role {
        Role::Consumer => {
            c.set("group.id", &settings.group)
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false")
                .set("auto.offset.reset", "earliest")
                .set("statistics.interval.ms", "5000");
        }
        Role::Producer => {
            c.set("acks", "all").set("linger.ms", "5");
        }
        Role::Restorer => {
            // Assigns partitions itself and never commits: the group id is
            // only there because librdkafka wants one for a consumer.
            c.set("group.id", format!("{}.restore", settings.group))
                .set("enable.auto.commit", "false")
                .set("enable.partition.eof", "true")
                .set("auto.offset.reset", "earliest");
        }
    }
    for (k, v) in &settings.client_properties {
        // Statistics feed the consumer's lag metric; the other clients
        // would only log them.
        if role != Role::Consumer && k == "statistics.interval.ms" {
            continue;
        }
        c.set(k, v);
    }
    c
}
