//! Checkpoints of sequence state on the changelog topic, and reading the
//! latest one back when a partition moves to this worker.
//!
//! One record per checkpoint, keyed `topic/partition` of the partition
//! whose state it holds, written to changelog partition
//! `partition % changelog partitions` so a restore reads one changelog
//! partition only. The topic should be compacted (`cleanup.policy=compact`):
//! only the latest record of a key matters, and compaction keeps restores
//! short. The value says which offset the state covers (`through`), so
//! the new owner knows which re-delivered events the state already holds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::StreamError;
use crate::offsets::Tp;

/// How long a restore may take before the worker gives up (and stops,
/// rather than run with a state it knows to be incomplete).
const RESTORE_DEADLINE: Duration = Duration::from_secs(60);

/// The changelog key of a partition's state.
pub fn key(tp: &Tp) -> String {
    format!("{}/{}", tp.topic, tp.partition)
}

/// One checkpoint: the state of every sequence rule on one partition.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Checkpoint {
    pub v: u32,
    /// The last offset whose event the state holds.
    pub through: i64,
    /// Rule id → that rule's snapshot, embedded as JSON (not as a string,
    /// which would escape every quote of every event).
    pub rules: BTreeMap<String, Box<RawValue>>,
}

impl Checkpoint {
    pub fn to_json(&self) -> String {
        // Strings and integers only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The changelog reader's callbacks: it asks for partition ends, so they
/// are not errors; anything else goes to the log.
pub struct RestoreContext;

impl ClientContext for RestoreContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Debug | RDKafkaLogLevel::Info | RDKafkaLogLevel::Notice => {
                tracing::debug!("librdkafka {fac}: {message}")
            }
            _ => tracing::warn!("librdkafka {fac}: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if !matches!(error, KafkaError::PartitionEOF(_)) {
            tracing::warn!("changelog reader: {error}: {reason}");
        }
    }
}

impl ConsumerContext for RestoreContext {}

/// Reads checkpoints back, with a consumer of its own that joins no group
/// and reports partition ends.
pub struct Restorer {
    consumer: BaseConsumer<RestoreContext>,
    topic: String,
    partitions: i32,
}

impl Restorer {
    pub fn new(
        consumer: BaseConsumer<RestoreContext>,
        topic: &str,
    ) -> Result<Restorer, StreamError> {
        let meta = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| StreamError::kafka(format!("metadata of changelog topic {topic}"), e))?;
        let partitions = meta
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map_or(0, |t| t.partitions().len() as i32);
        if partitions == 0 {
            return Err(StreamError::Config(format!(
                "changelog topic `{topic}` does not exist: create it (compacted) before \
                 running sequence rules"
            )));
        }
        Ok(Restorer {
            consumer,
            topic: topic.to_owned(),
            partitions,
        })
    }

    /// The changelog partition holding `tp`'s checkpoints.
    pub fn partition_for(&self, tp: &Tp) -> i32 {
        tp.partition.rem_euclid(self.partitions)
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The latest checkpoint of `tp`, if one was ever written.
    pub fn latest(&self, tp: &Tp) -> Result<Option<Checkpoint>, StreamError> {
        let fail = |reason: String| StreamError::Restore {
            topic: tp.topic.to_string(),
            partition: tp.partition,
            reason,
        };
        let part = self.partition_for(tp);
        let (low, high) = self
            .consumer
            .fetch_watermarks(&self.topic, part, Duration::from_secs(10))
            .map_err(|e| fail(format!("changelog watermarks: {e}")))?;
        if high <= low {
            return Ok(None);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, part, Offset::Offset(low))
            .map_err(|e| fail(e.to_string()))?;
        self.consumer
            .assign(&tpl)
            .map_err(|e| fail(format!("assign changelog: {e}")))?;
        let wanted = key(tp);
        let mut latest = None;
        let started = Instant::now();
        let mut next = low;
        while next < high {
            if started.elapsed() > RESTORE_DEADLINE {
                let _ = self.consumer.unassign();
                return Err(fail(format!(
                    "changelog read stopped at offset {next} of {high} after {}s",
                    RESTORE_DEADLINE.as_secs()
                )));
            }
            let Some(item) = self.consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let msg = match item {
                Ok(msg) => msg,
                // The restorer reports partition ends (`enable.partition.eof`):
                // past the last record there is nothing more to wait for, even
                // when compaction or markers leave the end short of `high`.
                Err(KafkaError::PartitionEOF(_)) => break,
                Err(e) => return Err(fail(format!("changelog read: {e}"))),
            };
            next = msg.offset() + 1;
            if msg.key() != Some(wanted.as_bytes()) {
                continue;
            }
            latest = match msg.payload() {
                // A tombstone: the state was dropped on purpose.
                None => None,
                Some(bytes) => Some(
                    serde_json::from_slice::<Checkpoint>(bytes)
                        .map_err(|e| fail(format!("checkpoint at offset {}: {e}", msg.offset())))?,
                ),
            };
        }
        let _ = self.consumer.unassign();
        Ok(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn checkpoints_round_trip_and_keys_name_the_partition() {
        let tp = Tp {
            topic: Arc::from("talon-repartition"),
            partition: 3,
        };
        assert_eq!(key(&tp), "talon-repartition/3");
        let snap = RawValue::from_string("[{\"seq\":1}]".to_owned()).map_err(|e| e.to_string());
        let cp = Checkpoint {
            v: 1,
            through: 41,
            rules: BTreeMap::from([("r1".to_owned(), snap.unwrap_or_else(|e| panic!("{e}")))]),
        };
        let text = cp.to_json();
        assert_eq!(
            text,
            "{\"v\":1,\"through\":41,\"rules\":{\"r1\":[{\"seq\":1}]}}"
        );
        let back: Checkpoint = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (back.through, back.rules["r1"].get()),
            (41, "[{\"seq\":1}]")
        );
    }
}
