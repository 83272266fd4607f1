//! The half of the worker that rebalance callbacks reach: the producer,
//! the offset bookkeeping and the sequence state of every owned partition.
//!
//! Guarantees kept here:
//! - a partition's commit never passes a message whose records are not all
//!   acknowledged ([`OffsetTracker`]);
//! - a checkpoint is written only once every record of the events it
//!   covers is acknowledged, so a restored state never holds an event
//!   whose sequence alerts could still be lost;
//! - before a partition is given away (rebalance or shutdown) its records
//!   are flushed, its state checkpointed and its position committed, so the
//!   next owner re-delivers nothing; after a failed delivery nothing is
//!   checkpointed, so the failed events are re-delivered and re-matched.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use rustc_hash::FxHashMap;
use serde_json::value::RawValue;
use talon_event::{Event, Origin};

use crate::changelog::{self, Checkpoint, Restorer};
use crate::decode::Decoder;
use crate::error::StreamError;
use crate::metrics::{inc, Metrics};
use crate::offsets::{OffsetTracker, Tp};
use crate::routing::{Placement, SequenceRule};
use crate::state::{MatcherFactory, ReplayState, SequenceHit, MAX_CHECKPOINT_BYTES};
use crate::worker::context::{DeliveryContext, FailedCommits, Token};

/// How long a flush before a rebalance or shutdown may take.
const FLUSH_DEADLINE: Duration = Duration::from_secs(30);
/// How long `send` waits for room in a full producer queue.
const QUEUE_FULL_DEADLINE: Duration = Duration::from_secs(60);

/// One owned partition's sequence state.
struct PartState {
    /// (sequence rule index, its state)
    rules: Vec<(usize, ReplayState)>,
    /// The last offset the state holds.
    through: Option<i64>,
    /// A snapshot taken at `through`, waiting for that offset's records.
    pending: Option<(i64, String)>,
    /// The last offset a checkpoint was written for.
    saved: Option<i64>,
}

/// Topic names the worker writes to.
pub(crate) struct Topics {
    pub events: Vec<Arc<str>>,
    pub alerts: String,
    pub dead_letters: String,
    pub repartition: Arc<str>,
}

pub(crate) struct Shared {
    pub topics: Topics,
    pub producer: BaseProducer<DeliveryContext>,
    pub tracker: OffsetTracker,
    pub metrics: Arc<Metrics>,
    pub decoder: Arc<Decoder>,
    sequences: Arc<[SequenceRule]>,
    factory: Option<Arc<dyn MatcherFactory>>,
    restorer: Option<Restorer>,
    states: FxHashMap<Tp, PartState>,
    /// A delivery failed: stop, and write no checkpoint from now on.
    pub fatal: Option<StreamError>,
    last_checkpoint: Instant,
    /// Commits the broker refused, filled by the consumer's callback.
    pub failed_commits: FailedCommits,
}

impl Shared {
    pub fn new(
        topics: Topics,
        producer: BaseProducer<DeliveryContext>,
        metrics: Arc<Metrics>,
        decoder: Arc<Decoder>,
        sequences: Arc<[SequenceRule]>,
        factory: Option<Arc<dyn MatcherFactory>>,
        restorer: Option<Restorer>,
    ) -> Shared {
        Shared {
            topics,
            producer,
            tracker: OffsetTracker::default(),
            metrics,
            decoder,
            sequences,
            factory,
            restorer,
            states: FxHashMap::default(),
            fatal: None,
            last_checkpoint: Instant::now(),
            failed_commits: FailedCommits::default(),
        }
    }

    /// The interned name of a topic the worker reads.
    pub fn topic_arc(&self, name: &str) -> Arc<str> {
        if *self.topics.repartition == *name {
            return self.topics.repartition.clone();
        }
        match self.topics.events.iter().find(|t| ***t == *name) {
            Some(t) => t.clone(),
            None => Arc::from(name),
        }
    }

    fn placement_of(&self, tp: &Tp) -> Placement {
        if tp.topic == self.topics.repartition {
            Placement::Routed
        } else {
            Placement::Local
        }
    }

    /// Sends one record, waiting (bounded) while the producer queue is full.
    pub fn send(
        &mut self,
        topic: &str,
        key: &str,
        payload: &str,
        partition: Option<i32>,
        token: Token,
    ) {
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(token))
            .key(key)
            .payload(payload);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        let started = Instant::now();
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if started.elapsed() < QUEUE_FULL_DEADLINE =>
                {
                    record = back;
                    self.producer.poll(Duration::from_millis(20));
                    self.apply_deliveries();
                }
                Err((e, back)) => {
                    // The record never left: settle its token as failed so
                    // the message it belongs to is never committed.
                    let reason = e.to_string();
                    self.settle(*back.delivery_opaque, Err(reason));
                    return;
                }
            }
        }
    }

    /// Serves delivery reports without blocking.
    pub fn service(&mut self) {
        self.producer.poll(Duration::ZERO);
        self.apply_deliveries();
    }

    fn apply_failed_commits(&mut self) {
        let failed = match self.failed_commits.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => return,
        };
        for (tp, pos) in failed {
            self.tracker.commit_failed(&tp, pos);
        }
    }

    fn apply_deliveries(&mut self) {
        let reports = match self.producer.context().reports.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => return,
        };
        for (token, outcome) in reports {
            self.settle(*token, outcome);
        }
    }

    fn settle(&mut self, token: Token, outcome: Result<(), String>) {
        match (token, outcome) {
            (Token::Output { tp, offset, alert }, Ok(())) => {
                if alert {
                    inc(&self.metrics.alerts_acked);
                }
                self.tracker.acked(&tp, offset);
            }
            (Token::Checkpoint { tp, through }, Ok(())) => {
                inc(&self.metrics.checkpoints);
                self.tracker.checkpointed(&tp, through);
            }
            (token, Err(reason)) => {
                inc(&self.metrics.errors);
                let topic = match &token {
                    Token::Output { tp, offset, .. } => format!("an output of {tp}@{offset}"),
                    Token::Checkpoint { tp, .. } => format!("the changelog, for {tp}"),
                };
                tracing::error!("delivery failed to {topic}: {reason}");
                if self.fatal.is_none() {
                    self.fatal = Some(StreamError::Delivery { topic, reason });
                }
            }
        }
    }

    /// Waits until every record sent so far is acknowledged (or failed).
    pub fn flush(&mut self) {
        let started = Instant::now();
        while self.producer.in_flight_count() > 0 && started.elapsed() < FLUSH_DEADLINE {
            self.producer.poll(Duration::from_millis(50));
            self.apply_deliveries();
        }
        self.apply_deliveries();
    }

    /// Commits every position that moved; `only` (partitions about to be
    /// given away) commits those partitions' positions whether or not
    /// they moved, since the last asynchronous commit may yet be refused.
    pub fn commit<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        mode: CommitMode,
        only: Option<&[Tp]>,
    ) {
        self.apply_failed_commits();
        let due: Vec<(Tp, i64)> = match only {
            Some(tps) => self.tracker.positions(tps),
            None => self.tracker.due(),
        };
        if due.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (tp, pos) in &due {
            if tpl
                .add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*pos))
                .is_err()
            {
                return;
            }
        }
        tracing::debug!(
            "commit {}",
            due.iter()
                .map(|(tp, o)| format!("{tp}@{o}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        match consumer.commit(&tpl, mode) {
            Ok(()) => {
                inc(&self.metrics.commits);
                self.tracker.committed(&due);
            }
            Err(e) => {
                inc(&self.metrics.errors);
                tracing::warn!("offset commit failed (retried at the next commit): {e}");
            }
        }
    }

    /// Feeds an event to the sequence state of its partition (`rules` limits
    /// it to those sequence rules, for forwarded events). Returns the hits,
    /// by sequence rule index. An event the restored state already holds is
    /// not fed again.
    pub fn feed(
        &mut self,
        tp: &Tp,
        event: &Arc<Event>,
        rules: Option<&[usize]>,
        all_indices: bool,
    ) -> Vec<(usize, SequenceHit)> {
        let mut hits = Vec::new();
        let Some(st) = self.states.get_mut(tp) else {
            return hits;
        };
        let offset = event.seq as i64;
        if st.through.is_some_and(|t| offset <= t) {
            return hits;
        }
        for (rule, state) in &mut st.rules {
            let wanted = match rules {
                // Forwarded: the sender already checked index and terms.
                Some(r) => r.contains(rule),
                None => {
                    let s = &self.sequences[*rule];
                    s.sees(event, all_indices) && s.relevant(event)
                }
            };
            if !wanted {
                continue;
            }
            let r = *rule;
            state.on_event(event, &mut |h| hits.push((r, h)));
        }
        hits
    }

    /// The message at `offset` of `tp` is processed: the partition's state
    /// covers it, whether or not it changed the state (a dead letter, an
    /// event no term uses), so commits may move past it.
    pub fn covered(&mut self, tp: &Tp, offset: i64) {
        if let Some(st) = self.states.get_mut(tp) {
            st.through = Some(st.through.map_or(offset, |t| t.max(offset)));
        }
    }

    /// Every checkpoint interval: snapshot changed states, write the
    /// snapshots whose events are fully acknowledged, and update the
    /// gauges.
    pub fn checkpoint_tick(&mut self, interval: Duration) {
        if self.fatal.is_some() || self.last_checkpoint.elapsed() < interval {
            return;
        }
        self.last_checkpoint = Instant::now();
        let (mut pending, mut kept, mut late, mut evicted) = (0usize, 0usize, 0u64, 0u64);
        let mut ready = Vec::new();
        for (tp, st) in &mut self.states {
            for (_, s) in &st.rules {
                pending += s.pending().unwrap_or(0);
                kept += s.kept();
                let (l, e) = s.dropped();
                late += l;
                evicted += e;
            }
            if st.pending.is_none() && st.through > st.saved {
                if let Some(through) = st.through {
                    st.pending = Some((through, snapshot(st, through, &self.sequences)));
                }
            }
            if let Some((through, _)) = &st.pending {
                if self.tracker.all_acked_through(tp, *through) {
                    if let Some(p) = st.pending.take() {
                        st.saved = Some(p.0);
                        ready.push((tp.clone(), p));
                    }
                }
            }
        }
        let m = &self.metrics;
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        m.pending_sequences.store(gauge(pending as u64), relaxed);
        m.sequence_events_kept.store(gauge(kept as u64), relaxed);
        m.sequence_late_events.store(gauge(late), relaxed);
        m.sequence_evicted.store(gauge(evicted), relaxed);
        m.records_in_flight
            .store(i64::from(self.producer.in_flight_count()), relaxed);
        for (tp, (through, value)) in ready {
            self.write_checkpoint(&tp, through, &value);
        }
    }

    fn write_checkpoint(&mut self, tp: &Tp, through: i64, value: &str) {
        let Some(restorer) = &self.restorer else {
            return;
        };
        tracing::debug!("checkpoint {tp} through {through} ({} bytes)", value.len());
        let topic = restorer.topic().to_owned();
        let part = restorer.partition_for(tp);
        let key = changelog::key(tp);
        self.send(
            &topic,
            &key,
            value,
            Some(part),
            Token::Checkpoint {
                tp: tp.clone(),
                through,
            },
        );
    }

    /// Before partitions leave: flush, checkpoint, commit, forget.
    pub fn on_revoke<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        tps: &[Tp],
        lost: bool,
    ) {
        tracing::info!("partitions revoked: {}", list(tps));
        self.flush();
        if !lost && self.fatal.is_none() {
            for tp in tps {
                let Some(st) = self.states.get_mut(tp) else {
                    continue;
                };
                let Some(through) = st.through.filter(|t| Some(*t) > st.saved) else {
                    continue;
                };
                let value = snapshot(st, through, &self.sequences);
                st.saved = Some(through);
                self.write_checkpoint(tp, through, &value);
            }
            self.flush();
        }
        if !lost {
            self.commit(consumer, CommitMode::Sync, Some(tps));
        }
        for tp in tps {
            self.states.remove(tp);
            self.tracker.revoke(tp);
        }
        self.count_assigned();
    }

    /// New partitions: start tracking them, restoring sequence state.
    pub fn on_assign(&mut self, tps: &[Tp]) {
        tracing::info!("partitions assigned: {}", list(tps));
        for tp in tps {
            let placement = self.placement_of(tp);
            let rules: Vec<usize> = self
                .sequences
                .iter()
                .filter(|s| s.placement == placement)
                .map(|s| s.index)
                .collect();
            let (Some(factory), false) = (&self.factory, rules.is_empty()) else {
                self.tracker.assign(tp.clone(), false, None);
                continue;
            };
            let mut st = PartState {
                rules: Vec::new(),
                through: None,
                pending: None,
                saved: None,
            };
            let share = MAX_CHECKPOINT_BYTES / rules.len().max(1);
            for &i in &rules {
                if let Some(m) = factory.matcher(i, &self.sequences[i].compiled) {
                    st.rules.push((i, ReplayState::new(m, share)));
                }
            }
            match self.restore(tp, &mut st) {
                Ok(()) => {}
                Err(e) => {
                    tracing::error!("{e}");
                    self.fatal.get_or_insert(e);
                }
            }
            self.tracker.assign(tp.clone(), true, st.through);
            self.states.insert(tp.clone(), st);
        }
        self.count_assigned();
    }

    fn count_assigned(&self) {
        let n = self.tracker.owned().len() as i64;
        self.metrics
            .assigned_partitions
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn restore(&mut self, tp: &Tp, st: &mut PartState) -> Result<(), StreamError> {
        let Some(restorer) = &self.restorer else {
            return Ok(());
        };
        let Some(cp) = restorer.latest(tp)? else {
            return Ok(());
        };
        let origin = Origin {
            file: Arc::from(format!("changelog:{}", changelog::key(tp))),
            line: 0,
        };
        for (i, state) in &mut st.rules {
            let id = self.sequences[*i].rule_id();
            let Some(snap) = cp.rules.get(id) else {
                continue;
            };
            state
                .restore(snap.get(), &self.decoder, &origin)
                .map_err(|reason| StreamError::Restore {
                    topic: tp.topic.to_string(),
                    partition: tp.partition,
                    reason: format!("rule {id}: {reason}"),
                })?;
        }
        st.through = Some(cp.through);
        st.saved = Some(cp.through);
        inc(&self.metrics.restored_partitions);
        tracing::info!(
            "restored {tp} through offset {} ({} events replayed)",
            cp.through,
            st.rules.iter().map(|(_, s)| s.kept()).sum::<usize>()
        );
        Ok(())
    }

    pub fn sequences(&self) -> &Arc<[SequenceRule]> {
        &self.sequences
    }
}

fn snapshot(st: &PartState, through: i64, sequences: &[SequenceRule]) -> String {
    let mut cp = Checkpoint {
        v: 1,
        through,
        ..Checkpoint::default()
    };
    for (i, state) in &st.rules {
        // A snapshot is a JSON array by construction.
        if let Ok(raw) = RawValue::from_string(state.snapshot()) {
            cp.rules.insert(sequences[*i].rule_id().to_owned(), raw);
        }
    }
    cp.to_json()
}

fn list(tps: &[Tp]) -> String {
    let names: Vec<String> = tps.iter().map(Tp::to_string).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
