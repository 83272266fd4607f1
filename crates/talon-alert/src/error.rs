//! The one error type of talon-alert.
//!
//! Every error that comes from an event names the file and line the event
//! was read from, so a bad document can be found without a debugger.

use talon_event::Origin;
use thiserror::Error;

/// Why an alert could not be built.
#[derive(Debug, Error)]
pub enum AlertError {
    /// The event's source text does not parse as JSON.
    #[error("{}: the event is not valid JSON: {source}", location(.origin))]
    SourceNotJson {
        origin: Origin,
        #[source]
        source: serde_json::Error,
    },

    /// The event's source is JSON, but not an object (an alert copies the
    /// event's fields, so there must be fields to copy).
    #[error("{}: the event is a JSON {found}, not an object", location(.origin))]
    SourceNotObject { origin: Origin, found: &'static str },

    /// `build_sequence_alerts` was given no events.
    #[error("a sequence alert needs at least one event, got none")]
    EmptySequence,

    /// The pinned alert time (`TALON_NOW` or an explicit override) is not a
    /// date Elasticsearch would read.
    #[error("alert time {value:?} is not a date (use RFC 3339, e.g. 2024-05-01T10:00:00Z)")]
    BadNow { value: String },
}

/// `file:line` of an event, or a placeholder when the reader gave none.
pub(crate) fn location(origin: &Origin) -> String {
    let file: &str = if origin.file.is_empty() {
        "<event>"
    } else {
        &origin.file
    };
    format!("{file}:{}", origin.line)
}
