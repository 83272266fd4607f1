//! Kibana-shaped alerts and their writers.
//!
//! Given a [`Rule`](talon_rules::Rule) and the event(s) it matched, this
//! crate builds the alert documents Kibana's security detection engine
//! would index into `.alerts-security.alerts-<space>`, field for field:
//! the event's own fields (nested as in the event), `event.kind: "signal"`,
//! `kibana.alert.original_event.*`, ancestors, depth, status, the reason
//! sentence, the `kibana.alert.rule.*` fields and the rule parameters, all
//! alert fields as flat dotted keys in Kibana's key order.
//!
//! - [`build_event_alert`]: one alert for one event;
//! - [`build_sequence_alerts`]: an EQL sequence's shell alert and its
//!   building blocks;
//! - [`AlertBuilder`]: the same, with the rule's fields computed once (on
//!   the first alert), and JSON Lines writers that append an alert's line
//!   straight from the event's source text
//!   ([`AlertBuilder::write_event_alert_jsonl`]), byte for byte what the
//!   JSON Lines sink writes for the built alert;
//! - [`write`]: JSON Lines, CSV and terminal-table sinks.
//!
//! Building is deterministic: with the same rule, events and
//! [`AlertContext`] (pin the time with `TALON_NOW`), the output is the same
//! byte for byte, and alert ids never change between runs.

pub mod alert;
mod build;
pub mod context;
pub mod error;
pub mod fields;
mod path;
pub mod reason;
pub mod write;

pub use alert::Alert;
pub use build::{
    build_event_alert, build_sequence_alerts, AlertBuilder, AlertSummary, SequenceIds,
};
pub use context::AlertContext;
pub use error::AlertError;
pub use path::lookup;
pub use reason::reason_message;
pub use write::{sink_for, sink_with, AlertSink, OutputFormat, TableOptions};
