//! What a sequence or sample rule's run tells the user: events too late
//! for the re-ordering window (and the window that would take them),
//! evictions, events without a usable time, key tuples cut at the cap, and
//! terms no event can fill for want of a join key.

use std::fmt;
use std::sync::Arc;

use talon_event::untimed::UntimedEvents;
use talon_event::Origin;
use talon_rules::schedule::duration_text as window_text;

use super::MAX_KEY_TUPLES;

/// Something worth telling the user about a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SequenceWarning {
    /// Events that matched a term but came after the re-ordering window.
    LateEvents {
        name: String,
        count: u64,
        window_nanos: i64,
        /// The newest event time the rule read: one event dated far ahead
        /// of the others makes every later one late.
        newest: Option<i64>,
        /// Most events the window holds.
        held: usize,
        /// The first late event: where it was read, and how far its time
        /// was behind the newest one read then.
        first: Option<(Origin, i64)>,
        /// The furthest behind a late event was: a window this wide
        /// would have taken them all.
        most_behind: i64,
    },
    /// In-flight sequences (or sample keys) evicted by the cap.
    Evicted {
        name: String,
        count: u64,
        cap: usize,
    },
    /// Matching events without a usable timestamp (sequences need one).
    /// Events that matched a term without a usable time, by why, with
    /// the first of each kind.
    WithoutTimestamp {
        name: String,
        untimed: UntimedEvents,
    },
    /// Events whose key tuples were cut at [`MAX_KEY_TUPLES`], and the
    /// first of them.
    KeyTuplesCapped {
        name: String,
        count: u64,
        first: Option<Origin>,
    },
    /// No event filled positive term `term` (1-based) with its keys, and
    /// some matched it but for a required join key (`key`, named for the
    /// first of them, at `first`): the rule cannot fire on this input.
    Keyless {
        name: String,
        term: usize,
        key: Arc<str>,
        first: Origin,
    },
}

impl fmt::Display for SequenceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceWarning::LateEvents {
                name,
                count,
                window_nanos,
                held,
                ..
            } if *window_nanos == i64::MAX => {
                // No window was set (`talon query` orders the whole input):
                // only the cap on events held makes one late.
                write!(
                    f,
                    "{name}: {count} matching event(s) came after later-dated events had been \
                     matched already (at most {held} events are held to order the input) and \
                     were not matched; sort the input"
                )
            }
            SequenceWarning::LateEvents {
                name,
                count,
                window_nanos,
                newest,
                first,
                most_behind,
                ..
            } => {
                write!(
                    f,
                    "{name}: {count} matching event(s) arrived more than {} out of order and were not matched",
                    window_text(*window_nanos)
                )?;
                if let Some((origin, behind)) = first {
                    write!(
                        f,
                        " (the first, {origin}, was {} behind the newest time read before it)",
                        span_text(*behind)
                    )?;
                }
                if let Some(n) = newest {
                    write!(
                        f,
                        "; the newest time read was {}: an event dated far ahead of the others, or \
                         inputs read one after another whose times overlap, make the rest late",
                        talon_event::time::format_millis(*n)
                    )?;
                }
                write!(
                    f,
                    "; sort the input, or give --reorder-window {} to take them all",
                    window_text(round_up_window(*most_behind))
                )
            }
            SequenceWarning::Evicted { name, count, cap } => write!(
                f,
                "{name}: {count} in-flight sequence(s) evicted at the cap of {cap}; \
                 results may miss matches (add a maxspan or raise the cap)"
            ),
            SequenceWarning::WithoutTimestamp { name, untimed } => {
                write!(
                    f,
                    "{name}: {} event(s) without a usable timestamp were not matched",
                    untimed.total()
                )?;
                let mut parts = Vec::new();
                if let Some(first) = &untimed.first_missing {
                    parts.push(format!(
                        "{} without `{}`, first: {first}",
                        untimed.missing, first.field
                    ));
                }
                if let Some(first) = &untimed.first_unusable {
                    parts.push(format!(
                        "{} with one that is no date, first: {first}",
                        untimed.unusable
                    ));
                }
                write!(f, " ({})", parts.join("; "))
            }
            SequenceWarning::Keyless {
                name,
                term,
                key,
                first,
            } => write!(
                f,
                "{name}: events match its term {term} but have no value for the join key \
                 `{key}` (first: {}:{}), and none that has one does, so the rule cannot fire; \
                 check that the source writes it",
                first.file, first.line
            ),
            SequenceWarning::KeyTuplesCapped { name, count, first } => {
                write!(
                    f,
                    "{name}: {count} event(s) had more than {MAX_KEY_TUPLES} join-key combinations; the rest were ignored"
                )?;
                match first {
                    Some(origin) => write!(f, " (the first: {origin})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A span of time in days, hours, minutes and seconds (`28m59s`), the
/// seconds with their milliseconds when there are any (`5m0.25s`, so
/// that a lag just past a window does not read as the window itself), or
/// in milliseconds under a second.
fn span_text(nanos: i64) -> String {
    const UNITS: [(i64, &str); 3] = [(86_400, "d"), (3600, "h"), (60, "m")];
    let mut secs = nanos / 1_000_000_000;
    let millis = nanos / 1_000_000 % 1000;
    if secs == 0 {
        return format!("{millis}ms");
    }
    let mut out = String::new();
    for (unit, name) in UNITS {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    match (secs, millis) {
        (0, 0) => {}
        (s, 0) => out.push_str(&format!("{s}s")),
        (s, ms) => {
            let frac = format!("{ms:03}");
            out.push_str(&format!("{s}.{}s", frac.trim_end_matches('0')));
        }
    }
    out
}

/// The shortest re-ordering window, in a round unit (whole seconds under
/// a minute, minutes under an hour, hours under a day, else days), that
/// takes an event `behind` nanoseconds behind the newest one read.
fn round_up_window(behind: i64) -> i64 {
    const SECOND: i64 = 1_000_000_000;
    let unit = match behind {
        b if b < 60 * SECOND => SECOND,
        b if b < 3600 * SECOND => 60 * SECOND,
        b if b < 86_400 * SECOND => 3600 * SECOND,
        _ => 86_400 * SECOND,
    };
    behind.max(1).saturating_add(unit - 1) / unit * unit
}

#[cfg(test)]
mod tests {
    use super::{round_up_window, span_text, window_text};

    #[test]
    fn a_late_events_lag_and_the_window_that_takes_it() {
        let s = 1_000_000_000;
        assert_eq!(span_text(1739 * s), "28m59s");
        assert_eq!(span_text(90_061 * s), "1d1h1m1s");
        assert_eq!(span_text(s / 4), "250ms");
        // Found by a fresh user: a lag just past the window read as the
        // window ("more than 5m ... was 5m behind").
        assert_eq!(span_text(300 * s + s / 4), "5m0.25s");
        assert_eq!(span_text(1020 * s + 1_000_000), "17m0.001s");
        assert_eq!(span_text(3600 * s), "1h");
        // Rounded up to a whole unit, never below the lag.
        assert_eq!(window_text(round_up_window(1739 * s)), "29m");
        assert_eq!(window_text(round_up_window(1800 * s)), "30m");
        assert_eq!(window_text(round_up_window(s / 4)), "1s");
        assert_eq!(window_text(round_up_window(0)), "1s");
        assert_eq!(window_text(round_up_window(3601 * s)), "2h");
        assert_eq!(window_text(round_up_window(86_401 * s)), "2d");
    }

    #[test]
    fn windows_read_as_the_flag_takes_them() {
        let s = 1_000_000_000;
        assert_eq!(window_text(300 * s), "5m");
        assert_eq!(window_text(10 * s), "10s");
        assert_eq!(window_text(2 * 3600 * s), "2h");
        assert_eq!(window_text(s / 4), "250ms");
        assert_eq!(window_text(90 * s), "90s");
        // As the flag takes them: no `0ms`, and days rather than hours.
        assert_eq!(window_text(0), "0s");
        assert_eq!(window_text(106_751 * 86_400 * s), "106751d");
    }
}
