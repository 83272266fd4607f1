//! The librdkafka callbacks: deliveries, rebalances, statistics and logs.
//!
//! Callbacks run on the worker's own thread, inside `poll`: a delivery
//! report is queued for the worker to apply, and a rebalance is handled
//! on the spot through the shared half of the worker ([`Shared`]), so a
//! partition is checkpointed and committed before it is given away.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::ProducerContext;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::TopicPartitionListElem;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::metrics::{inc, Metrics};
use crate::offsets::Tp;
use crate::worker::shared::Shared;

/// What a produced record was for.
#[derive(Debug)]
pub(crate) enum Token {
    /// An alert (`alert`), dead letter or forwarded event caused by this
    /// message.
    Output { tp: Tp, offset: i64, alert: bool },
    /// The checkpoint of `tp`'s state through `through`.
    Checkpoint { tp: Tp, through: i64 },
}

/// A delivery report: the token, and the error if the record was lost.
pub(crate) type Delivered = (Box<Token>, Result<(), String>);

/// Positions whose asynchronous commit the broker refused, queued by the
/// commit callback for the worker to send again.
pub(crate) type FailedCommits = Arc<Mutex<Vec<(Tp, i64)>>>;

/// Sends librdkafka's log lines to `tracing`, which the binary configures.
fn log_line(level: RDKafkaLogLevel, fac: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!("librdkafka {fac}: {message}"),
        // Pass-through properties go to every client; librdkafka warns when
        // a consumer setting reaches the producer, which is harmless.
        RDKafkaLogLevel::Warning if fac == "CONFWARN" && message.contains("consumer property") => {
            tracing::debug!("librdkafka {fac}: {message}")
        }
        RDKafkaLogLevel::Warning => tracing::warn!("librdkafka {fac}: {message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!("librdkafka {fac}: {message}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!("librdkafka {fac}: {message}"),
    }
}

/// The producer's context: delivery reports are queued here.
pub(crate) struct DeliveryContext {
    pub reports: Mutex<Vec<Delivered>>,
    pub metrics: Arc<Metrics>,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_line(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        inc(&self.metrics.errors);
        tracing::warn!("producer: {error}: {reason}");
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Token>;

    fn delivery(&self, result: &DeliveryResult<'_>, token: Box<Token>) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err((e, msg)) => Err(format!("{e} (topic {})", msg.topic())),
        };
        if let Ok(mut q) = self.reports.lock() {
            q.push((token, outcome));
        }
    }
}

/// The group consumer's context.
pub(crate) struct WorkerContext {
    pub shared: Arc<Mutex<Shared>>,
    pub metrics: Arc<Metrics>,
    pub failed_commits: FailedCommits,
}

impl ClientContext for WorkerContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        log_line(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        inc(&self.metrics.errors);
        tracing::warn!("consumer: {error}: {reason}");
    }

    /// Lag per owned partition, from librdkafka's own accounting, so
    /// scraping costs no broker round trip: the high watermark minus the
    /// next offset the worker will read (its `consumer_lag` only counts
    /// from this process's own commits, so a worker that has nothing to
    /// read would never show 0).
    fn stats(&self, stats: Statistics) {
        let mut lag = BTreeMap::new();
        for (name, topic) in &stats.topics {
            for (&p, part) in &topic.partitions {
                let position = if part.app_offset >= 0 {
                    part.app_offset
                } else {
                    part.next_offset
                };
                if p >= 0 && part.desired && part.hi_offset >= 0 && position >= 0 {
                    lag.insert((name.clone(), p), (part.hi_offset - position).max(0));
                }
            }
        }
        self.metrics.set_lag(lag);
    }
}

impl ConsumerContext for WorkerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let lost = consumer.assignment_lost();
            if let Ok(mut shared) = self.shared.lock() {
                shared.on_revoke(consumer, &tps(tpl), lost);
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                if let Ok(mut shared) = self.shared.lock() {
                    shared.on_assign(&tps(tpl));
                }
            }
            Rebalance::Error(e) => {
                inc(&self.metrics.errors);
                tracing::warn!("rebalance failed: {e}");
            }
            Rebalance::Revoke(_) => {}
        }
    }

    /// An asynchronous commit's outcome. The worker already counted the
    /// positions as committed when it sent them; a refused one (a
    /// rebalance in progress, a busy coordinator) is queued so the next
    /// commit sends it again, or a partition that gets no new message
    /// would keep its old committed position for good.
    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        let failed = failed_positions(&result, offsets);
        if failed.is_empty() {
            return;
        }
        inc(&self.metrics.errors);
        let why = match &result {
            Err(e) => e.to_string(),
            Ok(()) => "refused for some partitions".into(),
        };
        tracing::warn!(
            "offset commit failed (the next commit retries it): {why}: {}",
            failed
                .iter()
                .map(|(tp, o)| format!("{tp}@{o}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if let Ok(mut q) = self.failed_commits.lock() {
            q.extend(failed);
        }
    }
}

/// The positions a commit did not store: all of them when the whole
/// commit failed, else those with an error of their own.
fn failed_positions(result: &KafkaResult<()>, offsets: &TopicPartitionList) -> Vec<(Tp, i64)> {
    offsets
        .elements()
        .iter()
        .filter(|e| result.is_err() || e.error().is_err())
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((tp_of(e), o)),
            _ => None,
        })
        .collect()
}

/// The partitions of a list.
pub(crate) fn tps(tpl: &TopicPartitionList) -> Vec<Tp> {
    tpl.elements().iter().map(tp_of).collect()
}

/// The partition of one element of a list.
fn tp_of(e: &TopicPartitionListElem<'_>) -> Tp {
    Tp {
        topic: Arc::from(e.topic()),
        partition: e.partition(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::RDKafkaErrorCode;

    fn list() -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for p in 0..2 {
            tpl.add_partition_offset("ev", p, Offset::Offset(10 + i64::from(p)))
                .expect("offset");
        }
        tpl
    }

    fn shown(v: &[(Tp, i64)]) -> Vec<String> {
        v.iter().map(|(tp, o)| format!("{tp}@{o}")).collect()
    }

    #[test]
    fn a_failed_commit_names_every_position_it_carried() {
        let tpl = list();
        let failed = Err(KafkaError::ConsumerCommit(
            RDKafkaErrorCode::RebalanceInProgress,
        ));
        assert_eq!(
            shown(&failed_positions(&failed, &tpl)),
            ["ev/0@10", "ev/1@11"]
        );
        assert!(failed_positions(&Ok(()), &tpl).is_empty());
    }
}
