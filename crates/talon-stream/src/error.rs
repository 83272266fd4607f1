//! The crate's one error type.

use std::path::PathBuf;

/// Why the stream worker could not start or had to stop.
///
/// A malformed message is not an error here: it goes to the dead-letter
/// topic and the worker carries on. What ends up in this type stops the
/// worker without committing what it could not deliver, so a restart
/// re-delivers it.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    ParseConfig { path: PathBuf, message: String },

    #[error("invalid stream setting: {0}")]
    Config(String),

    #[error("kafka: {context}: {source}")]
    Kafka {
        context: String,
        source: rdkafka::error::KafkaError,
    },

    #[error("a record to {topic} was not delivered: {reason}")]
    Delivery { topic: String, reason: String },

    #[error("cannot restore the sequence state of {topic}/{partition}: {reason}")]
    Restore {
        topic: String,
        partition: i32,
        reason: String,
    },

    #[error("metrics endpoint {addr}: {source}")]
    Metrics {
        addr: String,
        source: std::io::Error,
    },

    #[error("alerts file {path}: {source}")]
    AlertsFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot install the signal handler: {0}")]
    Signals(std::io::Error),
}

impl StreamError {
    /// Wraps a librdkafka error with what was being done.
    pub(crate) fn kafka(context: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        StreamError::Kafka {
            context: context.into(),
            source,
        }
    }
}
