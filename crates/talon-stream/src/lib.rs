//! talon as a Kafka consumer group.
//!
//! Workers started with the same group share the partitions of the event
//! topics. Each evaluates the loaded rules over its events and produces
//! Kibana-shaped alerts, keyed by alert uuid, to the alerts topic:
//!
//! - at least once: an event's offset is committed only after every record
//!   it caused is acknowledged ([`offsets`]); alert uuids are derived from
//!   the event and the rule, so a re-delivered event gives the same alert,
//!   and a consumer that upserts by id sees no duplicate;
//! - sequences across workers: sequence rules that do not join on the
//!   partitioning field are fed through a repartition topic keyed by their
//!   join key ([`routing`]); pending sequences are checkpointed to a
//!   compacted changelog and restored when a partition moves ([`state`],
//!   [`changelog`]);
//! - malformed messages go to a dead-letter topic with the reason
//!   ([`decode`]) and never stop the worker;
//! - `/metrics` on loopback ([`http`], [`metrics`]); SIGINT/SIGTERM stop
//!   gracefully ([`shutdown`]).
//!
//! [`config`] reads the `[stream]` section of `talon.toml`; [`worker::run`]
//! runs one worker; [`runner`] makes the engine's sequence runner its matcher.

pub mod changelog;
pub mod config;
pub mod decode;
pub mod error;
pub mod http;
pub mod metrics;
pub mod offsets;
pub mod routing;
pub mod runner;
pub mod shutdown;
pub mod state;
pub mod worker;

pub use config::{SecurityConfig, Settings, StreamConfig};
pub use error::StreamError;
pub use metrics::Metrics;
pub use state::{Horizon, MatcherFactory, SequenceHit, SequenceMatcher};
pub use worker::{run, StreamRules, Summary};
// The tests (and the CLI's) talk to the broker with the same client.
pub use rdkafka;
