//! Reading a rule's schedule fields: `interval` (`5m`) and the date math of
//! `from` and `to` (`now-9m`).
//!
//! The loader reads them here so that a value the schedule replay cannot
//! use is reported where it is written (file, line, column, caret) when the
//! rule is loaded, not as a bare message that stops `hunt --schedule`
//! halfway; the replay (`talon_engine::schedule`) reads the same values with
//! the same functions, so what loads is what it runs.

const SECOND: i64 = 1_000_000_000;

/// Why a text is no duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// Not a whole number followed by a unit talon reads.
    NotADuration,
    /// Longer than nanosecond times hold (106,751 days).
    TooLong,
}

/// A whole number and one of `units` (name, length in nanoseconds):
/// `5m` is 300 s.
fn amount(text: &str, units: &[(&str, i64)]) -> Result<i64, DurationError> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&at| at > 0)
        .ok_or(DurationError::NotADuration)?;
    let (num, unit) = text.split_at(split);
    let unit = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, len)| *len)
        .ok_or(DurationError::NotADuration)?;
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or(DurationError::TooLong)
}

const DURATION_UNITS: [(&str, i64); 4] = [
    ("s", SECOND),
    ("m", 60 * SECOND),
    ("h", 3600 * SECOND),
    ("d", 86_400 * SECOND),
];

/// Parses a duration (`0s`, `5m`, `30s`, `1h`, `1d`) into nanoseconds; a
/// space before or after it is no duration, as Kibana reads an interval.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    amount(s, &DURATION_UNITS)
}

/// A duration as [`parse_duration`] reads it: `5m`, `10s`, `1h`, `2d`, or
/// `250ms` when it is not a whole number of seconds (which no text it
/// reads gives, but a duration handed to the library directly can be).
pub fn duration_text(nanos: i64) -> String {
    match nanos {
        0 => "0s".to_string(),
        n if n > 0 && n % (86_400 * SECOND) == 0 => format!("{}d", n / (86_400 * SECOND)),
        n if n > 0 && n % (3600 * SECOND) == 0 => format!("{}h", n / (3600 * SECOND)),
        n if n > 0 && n % (60 * SECOND) == 0 => format!("{}m", n / (60 * SECOND)),
        n if n > 0 && n % SECOND == 0 => format!("{}s", n / SECOND),
        n => format!("{}ms", n / 1_000_000),
    }
}

/// Parses an interval (`5m`, `30s`, `1h`, `1d`) into nanoseconds; `None`
/// when it is not one, or is zero.
pub fn parse_interval(s: &str) -> Option<i64> {
    parse_duration(s).ok().filter(|v| *v > 0)
}

/// Parses `now`, `now-9m`, `now+1h`, and chains of such steps as date
/// math allows (`now-1h+5m`; `now-h` is one hour; units ms, s, m, h or H,
/// d, w), into an offset from now (nanoseconds); a space before or after
/// it is refused, as Kibana refuses it.
/// Calendar units (`y`, `M`) and rounding (`/d`) are not supported.
pub fn parse_now_offset(s: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("ms", SECOND / 1000),
        ("s", SECOND),
        ("m", 60 * SECOND),
        ("h", 3600 * SECOND),
        ("H", 3600 * SECOND),
        ("d", 86_400 * SECOND),
        ("w", 7 * 86_400 * SECOND),
    ];
    let mut rest = s.strip_prefix("now")?;
    let mut offset: i64 = 0;
    while let Some(&op) = rest.as_bytes().first() {
        let sign = match op {
            b'-' => -1,
            b'+' => 1,
            _ => return None,
        };
        rest = &rest[1..];
        // One step: digits, then a unit up to the next operator. Without
        // digits the step counts one unit (`now-h`), as date math reads it.
        let end = rest.find(['-', '+']).unwrap_or(rest.len());
        let text = &rest[..end];
        let step = match text.starts_with(|c: char| c.is_ascii_alphabetic()) {
            true => amount(&format!("1{text}"), &UNITS).ok()?,
            false => amount(text, &UNITS).ok()?,
        };
        offset = offset.checked_add(sign * step)?;
        rest = &rest[end..];
    }
    Some(offset)
}

/// Why a schedule value with spaces around it cannot be read.
const SPACED: &str = "whitespace before or after the value, which Kibana refuses";

/// What is wrong with one schedule field, for the loader to point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScheduleProblem {
    /// `interval`, `from` or `to`.
    pub key: &'static str,
    pub message: String,
}

/// The problems of a rule's `interval`, `from` and `to` (as written, or
/// `None` when absent: the defaults `5m`, `now-6m` and `now` are good).
/// Each field is reported once; a window that is empty (`from` not before
/// `to`) is reported at `from`, or at `to` when `from` is not written.
pub(crate) fn check_schedule(
    interval: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Vec<ScheduleProblem> {
    let mut out = Vec::new();
    if let Some(v) = interval {
        let why = match parse_duration(v) {
            _ if v.trim() != v => Some(SPACED),
            Ok(n) if n > 0 => None,
            Ok(_) => Some("a rule must run at an interval longer than zero"),
            Err(DurationError::TooLong) => Some("too long: at most 106751d"),
            _ => Some("expected a number and s, m, h or d, like \"5m\""),
        };
        if let Some(why) = why {
            out.push(ScheduleProblem {
                key: "interval",
                message: format!("cannot read interval = {v:?}: {why}"),
            });
        }
    }
    let mut math = |key: &'static str, value: Option<&str>, default: i64| match value {
        None => Some(default),
        Some(v) => {
            let parsed = parse_now_offset(v);
            if parsed.is_none() {
                // TODO: replay Elasticsearch date math's rounding (`/d`) and
                // calendar units (`M`, `y`); until then such a rule is
                // valid for Kibana but cannot be replayed here.
                let calendar = v.starts_with("now") && (v.contains('/') || v.ends_with(['M', 'y']));
                let message = if v.trim() != v {
                    format!("cannot read {key} = {v:?}: {SPACED}")
                } else if calendar {
                    format!(
                        "{key} = {v:?} uses date rounding or a calendar unit (M, y), \
                         which talon's schedule replay does not support yet"
                    )
                } else {
                    format!(
                        "cannot read {key} = {v:?}: expected now, or now-N / now+N with s, m, h, d or w, like \"now-9m\""
                    )
                };
                out.push(ScheduleProblem { key, message });
            }
            parsed
        }
    };
    let start = math("from", from, -6 * 60 * SECOND);
    let end = math("to", to, 0);
    if let (Some(start), Some(end)) = (start, end) {
        if start >= end {
            // At `from`, unless only `to` is written: that is the value
            // the reader has to change (or to compare with the default).
            let key = if from.is_none() && to.is_some() {
                "to"
            } else {
                "from"
            };
            out.push(ScheduleProblem {
                key,
                message: format!(
                    "from = {:?} is not before to = {:?}: every run would search an empty window",
                    from.unwrap_or("now-6m"),
                    to.unwrap_or("now")
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_rounding_is_named_as_unsupported_not_as_unreadable() {
        let p = check_schedule(None, Some("now-1d/d"), None);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].message,
            "from = \"now-1d/d\" uses date rounding or a calendar unit (M, y), \
             which talon's schedule replay does not support yet"
        );
        let p = check_schedule(None, Some("now-1M"), None);
        assert!(p[0].message.contains("calendar unit"), "{p:?}");
        let p = check_schedule(None, Some("yesterday"), None);
        assert!(p[0].message.starts_with("cannot read from"), "{p:?}");
    }

    #[test]
    fn an_empty_window_is_reported_at_the_value_written() {
        // Only `to` written: the default `from` (now-6m) is not before it.
        let p = check_schedule(None, None, Some("now-10m"));
        assert_eq!(
            p,
            vec![ScheduleProblem {
                key: "to",
                message: "from = \"now-6m\" is not before to = \"now-10m\": every run would search an empty window".into(),
            }]
        );
        let p = check_schedule(None, Some("now-5m"), Some("now-10m"));
        assert_eq!(p[0].key, "from");
    }

    #[test]
    fn a_value_with_spaces_around_it_is_refused_as_kibana_refuses_it() {
        let p = check_schedule(Some(" 5m"), Some("now-9m "), Some("\tnow"));
        let messages: Vec<(&str, &str)> = p.iter().map(|p| (p.key, p.message.as_str())).collect();
        assert_eq!(
            messages,
            vec![
                (
                    "interval",
                    "cannot read interval = \" 5m\": whitespace before or after the value, which Kibana refuses"
                ),
                (
                    "from",
                    "cannot read from = \"now-9m \": whitespace before or after the value, which Kibana refuses"
                ),
                (
                    "to",
                    "cannot read to = \"\\tnow\": whitespace before or after the value, which Kibana refuses"
                ),
            ]
        );
        assert_eq!(parse_duration(" 5m"), Err(DurationError::NotADuration));
        assert_eq!(parse_now_offset("now-9m "), None);
    }

    #[test]
    fn good_values_have_no_problem() {
        assert!(check_schedule(None, None, None).is_empty());
        assert!(check_schedule(Some("5m"), Some("now-9m"), Some("now")).is_empty());
        assert!(check_schedule(Some("1h"), Some("now-7205m"), None).is_empty());
    }

    #[test]
    fn each_bad_field_is_named_with_its_value() {
        let p = check_schedule(Some("5x"), Some("yesterday"), None);
        assert_eq!(
            p,
            vec![
                ScheduleProblem {
                    key: "interval",
                    message: "cannot read interval = \"5x\": expected a number and s, m, h or d, like \"5m\"".into(),
                },
                ScheduleProblem {
                    key: "from",
                    message: "cannot read from = \"yesterday\": expected now, or now-N / now+N with s, m, h, d or w, like \"now-9m\"".into(),
                },
            ]
        );
        // From a fresh user: "0s" is a number and a unit, so saying it
        // was expected was no help.
        let p = check_schedule(Some("0s"), None, None);
        assert_eq!(
            p[0].message,
            "cannot read interval = \"0s\": a rule must run at an interval longer than zero"
        );
        let p = check_schedule(None, Some("now"), None);
        assert_eq!(p[0].key, "from");
        assert_eq!(
            p[0].message,
            "from = \"now\" is not before to = \"now\": every run would search an empty window"
        );
        assert_eq!(check_schedule(Some("0m"), None, None)[0].key, "interval");
        // A well-formed interval too long for nanosecond times says so.
        assert_eq!(
            check_schedule(Some("106752d"), None, None)[0].message,
            "cannot read interval = \"106752d\": too long: at most 106751d"
        );
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("5x"), Err(DurationError::NotADuration));
        assert_eq!(parse_duration("m"), Err(DurationError::NotADuration));
        assert_eq!(check_schedule(None, None, Some("later"))[0].key, "to");
    }
}
