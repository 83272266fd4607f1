//! What an alert needs to know about the run that creates it: the time, the
//! Kibana space, and the Kibana version the alert shape follows.
//!
//! The time is the only input that changes between two runs over the same
//! events, so it can be pinned (`TALON_NOW`, or an explicit value) to make
//! golden outputs byte-for-byte reproducible.

use chrono::{DateTime, Utc};

use crate::error::AlertError;

/// Environment variable that pins the alert time (`@timestamp`,
/// `kibana.alert.start`, ...): any date talon reads as an event date.
pub const NOW_ENV: &str = "TALON_NOW";

/// The space Kibana uses when none is chosen.
pub const DEFAULT_SPACE_ID: &str = "default";

/// The Kibana version whose alert shape talon writes: the field set follows
/// the 9.x detection engine (`kibana.alert.intended_timestamp`,
/// `kibana.alert.rule.execution.type`, ...).
pub const DEFAULT_KIBANA_VERSION: &str = "9.0.0";

/// The run-wide inputs of alert building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertContext {
    /// When the alerts are created (`@timestamp` of every alert), unless
    /// a replayed run dates them ([`AlertBuilder::for_run`]).
    ///
    /// [`AlertBuilder::for_run`]: crate::AlertBuilder::for_run
    pub now: DateTime<Utc>,
    /// The Kibana space the alerts belong to (`kibana.space_ids`).
    pub space_id: String,
    /// Written to `kibana.version`.
    pub kibana_version: String,
}

impl AlertContext {
    /// A context at `now` in the default space.
    pub fn new(now: DateTime<Utc>) -> AlertContext {
        AlertContext {
            now,
            space_id: DEFAULT_SPACE_ID.to_owned(),
            kibana_version: DEFAULT_KIBANA_VERSION.to_owned(),
        }
    }

    /// A context at the current time, unless `TALON_NOW` pins it.
    pub fn from_env() -> Result<AlertContext, AlertError> {
        let pinned = std::env::var(NOW_ENV).ok();
        AlertContext::with_now_override(pinned.as_deref())
    }

    /// A context at `now` when given (an explicit `--now` beats the
    /// environment), else as [`AlertContext::from_env`].
    pub fn with_now_override(now: Option<&str>) -> Result<AlertContext, AlertError> {
        let now = match now {
            Some(text) => parse_now(text)?,
            None => match std::env::var(NOW_ENV) {
                Ok(text) => parse_now(&text)?,
                Err(_) => Utc::now(),
            },
        };
        Ok(AlertContext::new(now))
    }

    /// The same context in another space.
    pub fn with_space(mut self, space_id: impl Into<String>) -> AlertContext {
        self.space_id = space_id.into();
        self
    }

    /// The same context claiming another Kibana version.
    pub fn with_kibana_version(mut self, version: impl Into<String>) -> AlertContext {
        self.kibana_version = version.into();
        self
    }

    /// `now` as Kibana writes dates: `2024-05-01T10:00:00.000Z`.
    pub(crate) fn now_iso(&self) -> String {
        iso_millis(self.now)
    }
}

/// A time as Kibana writes dates: `2024-05-01T10:00:00.000Z`.
pub(crate) fn iso_millis(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Reads a pinned time with the same date parser events go through, so
/// `TALON_NOW=1714557600000` and `TALON_NOW=2024-05-01T10:00:00Z` both work.
fn parse_now(text: &str) -> Result<DateTime<Utc>, AlertError> {
    match talon_event::time::parse_str_nanos(text) {
        Some(nanos) => Ok(DateTime::from_timestamp_nanos(nanos)),
        None => Err(AlertError::BadNow {
            value: text.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_time_is_used_as_given() {
        let ctx = AlertContext::with_now_override(Some("2024-05-01T10:00:00Z"));
        let ctx = ctx.map(|c| c.now_iso()).map_err(|e| e.to_string());
        assert_eq!(ctx, Ok("2024-05-01T10:00:00.000Z".to_owned()));
    }

    #[test]
    fn epoch_millis_are_accepted() {
        let ctx = AlertContext::with_now_override(Some("1714557600123"));
        let ctx = ctx.map(|c| c.now_iso()).map_err(|e| e.to_string());
        assert_eq!(ctx, Ok("2024-05-01T10:00:00.123Z".to_owned()));
    }

    #[test]
    fn a_bad_time_is_an_error_naming_the_value() {
        let err = AlertContext::with_now_override(Some("yesterday")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("\"yesterday\""), "{msg}");
    }

    #[test]
    fn the_defaults_are_kibanas() {
        let ctx = AlertContext::new(DateTime::from_timestamp_nanos(0));
        assert_eq!(ctx.space_id, "default");
        assert_eq!(ctx.kibana_version, DEFAULT_KIBANA_VERSION);
        let ctx = ctx.with_space("soc").with_kibana_version("8.17.1");
        assert_eq!(
            (ctx.space_id.as_str(), ctx.kibana_version.as_str()),
            ("soc", "8.17.1")
        );
    }
}
