//! Events whose date field gives no time: why (the field is missing, or
//! holds something that is no date), and where the first of each kind was
//! read, so that a summary can point at it.
//!
//! Elasticsearch would refuse to index a document whose `date` field holds
//! `"garbage"`, `true` or an object; talon reads it, and its callers say
//! what they did with it (sorted last, alerted without a time, not
//! alerted), naming the first such event.

use std::fmt;

use crate::event::{Event, Fields, Origin};
use crate::value::Value;

/// Why a date field gave no time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoTime {
    /// The field is missing, null or an empty array.
    Missing,
    /// The field holds a value that is no date, or a date outside the
    /// years talon can hold (1677-2262): its first value as written in
    /// JSON, shortened when long.
    Unusable(String),
}

/// One event whose date field gave no time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untimed {
    /// Where the event was read.
    pub origin: Origin,
    /// The field read for the time.
    pub field: String,
    pub why: NoTime,
}

/// At most this many characters of an unusable value are shown.
const SHOWN_CHARS: usize = 40;

impl Untimed {
    /// Why `field` of `event` gave no time (the caller found that it did
    /// not): its first value, or, when the flattened event has none, what
    /// the document holds there (an object, say, which flattens to fields
    /// below it and so to no value).
    pub fn of(event: &Event, field: &str) -> Untimed {
        let why = match event.values(field).first() {
            Some(v) => NoTime::Unusable(shorten(written(v))),
            None => match in_source(event.source(), field) {
                Some(json) => NoTime::Unusable(shorten(json)),
                None => NoTime::Missing,
            },
        };
        Untimed {
            origin: event.origin.clone(),
            field: field.to_string(),
            why,
        }
    }
}

impl fmt::Display for Untimed {
    /// `file:line: VALUE` for an unusable value, `file:line` for a
    /// missing one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        match &self.why {
            NoTime::Missing => Ok(()),
            NoTime::Unusable(v) => write!(f, ": {v}"),
        }
    }
}

/// Events whose date field gave no time, counted by why, with the first
/// of each kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UntimedEvents {
    pub missing: u64,
    pub unusable: u64,
    pub first_missing: Option<Untimed>,
    pub first_unusable: Option<Untimed>,
}

impl UntimedEvents {
    /// Counts one more (in input order: the first kept is the first read).
    pub fn add(&mut self, u: Untimed) {
        let (n, first) = match u.why {
            NoTime::Missing => (&mut self.missing, &mut self.first_missing),
            NoTime::Unusable(_) => (&mut self.unusable, &mut self.first_unusable),
        };
        *n += 1;
        if first.is_none() {
            *first = Some(u);
        }
    }

    /// Counts `event`, whose `field` gave no time, building its
    /// [`Untimed`] (an origin and a field name copied, the value written
    /// out) only while the first of its kind is still to be kept: a search
    /// over events that all lack the field pays for one, not for each.
    pub fn note(&mut self, event: &Event, field: &str) {
        let has_value = !event.values(field).is_empty();
        let firsts_kept =
            self.first_unusable.is_some() && (has_value || self.first_missing.is_some());
        if !firsts_kept {
            self.add(Untimed::of(event, field));
        } else if has_value || in_source(event.source(), field).is_some() {
            self.unusable += 1;
        } else {
            self.missing += 1;
        }
    }

    pub fn total(&self) -> u64 {
        self.missing + self.unusable
    }
}

/// A value as JSON writes it: a string quoted and escaped (so control
/// characters cannot reach a terminal), a float in its shortest form
/// (`-1e+300`, not three hundred digits).
fn written(v: &Value) -> String {
    match v {
        Value::Str(s) => serde_json::Value::from(&**s).to_string(),
        Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => n.to_string(),
            None => v.to_string(),
        },
        _ => v.to_string(),
    }
}

fn shorten(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(SHOWN_CHARS) {
        s.truncate(at);
        s.push('…');
    }
    s
}

/// What the document `source` holds at `field` (nested objects or dotted
/// keys, as flattening reads them), as compact JSON; `None` when nothing,
/// null or an empty array is there, or `source` is no JSON object. Only
/// parsed when the field's last name is in the text at all, so an event
/// that simply lacks the field costs one search of its text.
fn in_source(source: &str, field: &str) -> Option<String> {
    let last = field.rsplit('.').next().unwrap_or(field);
    if !source.contains(last) {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_str(source).ok()?;
    let found = lookup(&doc, field)?;
    (!is_nothing(found)).then(|| found.to_string())
}

/// `path` in `doc`, trying each way to split it into keys (`a.b.c` may be
/// `{"a":{"b.c":..}}`).
fn lookup<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let obj = doc.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    path.match_indices('.').find_map(|(at, _)| {
        let inner = obj.get(&path[..at])?;
        lookup(inner, &path[at + 1..])
    })
}

/// Null, or an array of nothing: no value, as Elasticsearch indexes it.
fn is_nothing(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(items) => items.iter().all(is_nothing),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flatten::Flattener;

    fn flatten_str(json: &str) -> Event {
        Flattener::new().event(json).expect("event")
    }

    fn why(json: &str) -> NoTime {
        let event = flatten_str(json);
        Untimed::of(&event, "@timestamp").why
    }

    fn unusable(s: &str) -> NoTime {
        NoTime::Unusable(s.to_string())
    }

    #[test]
    fn tells_a_missing_field_from_one_that_holds_no_date() {
        assert_eq!(why(r#"{"a":1}"#), NoTime::Missing);
        assert_eq!(why(r#"{"@timestamp":null}"#), NoTime::Missing);
        assert_eq!(why(r#"{"@timestamp":[]}"#), NoTime::Missing);
        assert_eq!(why(r#"{"@timestamp":[null]}"#), NoTime::Missing);
        // The name elsewhere in the text is not the field.
        assert_eq!(why(r#"{"x":"@timestamp"}"#), NoTime::Missing);
        assert_eq!(why(r#"{"@timestamp":"garbage"}"#), unusable("\"garbage\""));
        assert_eq!(
            why(r#"{"@timestamp":"2026-13-45T99:99:99Z"}"#),
            unusable("\"2026-13-45T99:99:99Z\"")
        );
        assert_eq!(why(r#"{"@timestamp":true}"#), unusable("true"));
        assert_eq!(why(r#"{"@timestamp":-1e300}"#), unusable("-1e+300"));
        assert_eq!(why(r#"{"@timestamp":{"a":1}}"#), unusable(r#"{"a":1}"#));
        assert_eq!(why(r#"{"@timestamp":[{"a":1}]}"#), unusable(r#"[{"a":1}]"#));
        assert_eq!(
            why(&format!(r#"{{"@timestamp":"{}"}}"#, "x".repeat(50))),
            unusable(&format!("\"{}…", "x".repeat(39)))
        );
    }

    #[test]
    fn finds_a_nested_or_dotted_field_in_the_source() {
        let event = flatten_str(r#"{"event":{"created.at":{"x":1}}}"#);
        assert_eq!(
            Untimed::of(&event, "event.created.at").why,
            unusable(r#"{"x":1}"#)
        );
    }

    #[test]
    fn counts_by_why_and_keeps_the_first_of_each() {
        let mut all = UntimedEvents::default();
        for (line, json) in [
            (2, r#"{"@timestamp":"garbage"}"#),
            (3, r#"{"b":1}"#),
            (5, r#"{"@timestamp":true}"#),
        ] {
            let mut event = flatten_str(json);
            event.origin = Origin {
                file: "f.ndjson".into(),
                line,
            };
            all.add(Untimed::of(&event, "@timestamp"));
        }
        assert_eq!((all.missing, all.unusable, all.total()), (1, 2, 3));
        let shown = |u: &Option<Untimed>| u.as_ref().map(|u| u.to_string());
        assert_eq!(shown(&all.first_missing).as_deref(), Some("f.ndjson:3"));
        assert_eq!(
            shown(&all.first_unusable).as_deref(),
            Some("f.ndjson:2: \"garbage\"")
        );
    }

    /// `note` counts as `add(Untimed::of(..))` does, building only firsts.
    #[test]
    fn noting_counts_as_adding_each_does() {
        let lines = [
            r#"{"b":1}"#,
            r#"{"@timestamp":{"a":1}}"#,
            r#"{"b":2}"#,
            r#"{"@timestamp":"garbage"}"#,
            r#"{"@timestamp":{"c":1}}"#,
            r#"{"@timestamp":null}"#,
        ];
        let (mut added, mut noted) = (UntimedEvents::default(), UntimedEvents::default());
        for (i, json) in lines.iter().enumerate() {
            let mut event = flatten_str(json);
            event.origin = Origin {
                file: "f.ndjson".into(),
                line: i as u64 + 1,
            };
            added.add(Untimed::of(&event, "@timestamp"));
            noted.note(&event, "@timestamp");
        }
        assert_eq!((noted.missing, noted.unusable), (3, 3));
        assert_eq!(noted, added);
    }
}
