//! The contract between the reader and the per-source normalizers.
//!
//! A normalizer is handed records one at a time (a text line, or a parsed
//! JSON document) and answers into an [`Out`]: an event, an ignored record
//! with its reason, or a count of records merged into another record's
//! event. It must account for every record it was handed, exactly once,
//! possibly later (auditd holds records until their event is complete and
//! answers for them in [`LineNormalizer::end`] at the latest).

use std::collections::VecDeque;
use std::num::IntErrorKind;

use serde_json::Value;
use talon_event::json_span;

use crate::doc::EcsDoc;
use crate::input::Columns;
use crate::stats::{IgnoreReason, ValueReason};

/// What a normalizer answered, in order.
#[derive(Debug)]
pub(crate) enum Outcome {
    Event {
        doc: Box<EcsDoc>,
        line: u64,
        /// The record text(s) the event came from, for `event.original`.
        original: Option<String>,
    },
    Ignored {
        line: u64,
        /// 1-based column of the problem in the line; 0: the whole record.
        column: u64,
        reason: IgnoreReason,
        /// What the record was, for the per-kind counts (`auditd AVC`).
        kind: String,
        detail: String,
    },
    /// Records folded into an event (or an ignored group) already answered.
    Merged(u64),
    /// One input unit held this many more records (an osquery batch of
    /// three rows is one document but three records).
    MoreRecords(u64),
}

/// The answers of a normalizer, drained by the reader.
#[derive(Debug, Default)]
pub(crate) struct Out {
    items: VecDeque<Outcome>,
}

impl Out {
    pub fn event(&mut self, doc: EcsDoc, line: u64, original: Option<String>) {
        self.items.push_back(Outcome::Event {
            doc: Box::new(doc),
            line,
            original,
        });
    }

    pub fn ignore(
        &mut self,
        line: u64,
        reason: IgnoreReason,
        kind: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.ignore_at(line, 0, reason, kind, detail);
    }

    /// As [`Out::ignore`], for a problem at a 1-based `column` of the line.
    pub fn ignore_at(
        &mut self,
        line: u64,
        column: u64,
        reason: IgnoreReason,
        kind: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.items.push_back(Outcome::Ignored {
            line,
            column,
            reason,
            kind: kind.into(),
            detail: detail.into(),
        });
    }

    pub fn merged(&mut self, n: u64) {
        if n > 0 {
            self.items.push_back(Outcome::Merged(n));
        }
    }

    pub fn more_records(&mut self, n: u64) {
        if n > 0 {
            self.items.push_back(Outcome::MoreRecords(n));
        }
    }

    pub fn pop(&mut self) -> Option<Outcome> {
        self.items.pop_front()
    }
}

/// A normalizer of line-oriented text (raw auditd, Sysmon in syslog).
pub(crate) trait LineNormalizer: Send {
    /// One line with content (blank lines are not records). The columns
    /// its answers give, whenever they are given, count the file's bytes:
    /// `columns` places the text's there.
    fn line(&mut self, text: &str, line: u64, columns: &Columns, out: &mut Out);
    /// The input ended: answer for everything still held.
    fn end(&mut self, out: &mut Out);
}

/// A normalizer of JSON documents.
pub(crate) trait DocNormalizer: Send {
    /// One document; `line` is where it starts.
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out);
}

/// Reads a JSON path of nested objects *or* flat dotted keys (or a mixture),
/// the way the flattener treats them alike: `get(v, "proc.cmdline")` finds
/// `{"proc.cmdline": …}` and `{"proc": {"cmdline": …}}`.
pub(crate) fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    // Try every split point, longest first key first.
    let mut idx = path.len();
    while let Some(dot) = path[..idx].rfind('.') {
        if let Some(inner) = obj.get(&path[..dot]) {
            if let Some(found) = get(inner, &path[dot + 1..]) {
                return Some(found);
            }
        }
        idx = dot;
    }
    None
}

/// A string at a path; numbers are rendered, so `"pid": "12"` and `12`
/// read alike.
pub(crate) fn get_str(v: &Value, path: &str) -> Option<String> {
    match get(v, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What an integer field of a record holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Int {
    /// Not there, `null`, or a placeholder meaning "unknown" (`""`, `-`).
    Absent,
    Value(i64),
    /// There, but no integer a `long` holds; with the value (as JSON
    /// text, cut at 40 bytes).
    Unreadable(ValueReason, String),
}

/// An integer at a path, from a number or a string of digits. One that is
/// not a whole number, or does not fit a `long`, is unreadable rather than
/// the nearest `long` (`18446744073709551615` is no pid `i64::MAX`).
pub(crate) fn read_i64(v: &Value, path: &str) -> Int {
    match get(v, path) {
        Some(x) => int_of(x),
        None => Int::Absent,
    }
}

/// The integer a value holds, read as [`read_i64`] reads one.
pub(crate) fn int_of(x: &Value) -> Int {
    // 2^63: the first whole f64 past i64::MAX; -2^63 is i64::MIN itself.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let written = || {
        let mut text = x.to_string();
        if text.len() > 40 {
            let cut = (0..=40)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push_str("...");
        }
        text
    };
    let bad = |reason| Int::Unreadable(reason, written());
    match x {
        Value::Null => Int::Absent,
        Value::Number(n) => match n.as_i64() {
            Some(i) => Int::Value(i),
            None => match n.as_f64() {
                Some(f) if f.fract() != 0.0 => bad(ValueReason::NotAnInteger),
                Some(f) if (-LIMIT..LIMIT).contains(&f) => Int::Value(f as i64),
                _ => bad(ValueReason::OutOfRange),
            },
        },
        Value::String(s) if crate::doc::is_placeholder(s) => Int::Absent,
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Int::Value(i),
            Err(e) => match e.kind() {
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
                    bad(ValueReason::OutOfRange)
                }
                _ => bad(ValueReason::NotAnInteger),
            },
        },
        _ => bad(ValueReason::NotAnInteger),
    }
}

/// The byte offset in a JSON document's text of the value at `path`:
/// keys joined by `.` whichever way the document splits them
/// (`output_fields.proc.pid` finds `{"output_fields": {"proc.pid": 1}}`),
/// array elements as `[n]` (`snapshot.[1].pid`). `None` when it is not
/// there (or the text is not JSON).
pub(crate) fn locate(text: &str, path: &str) -> Option<usize> {
    find_at(text, json_span::skip_ws(text.as_bytes(), 0), path)
}

/// [`locate`] below the value at byte `at`: the first value, in document
/// order, whose path from there is `rest`.
fn find_at(text: &str, at: usize, rest: &str) -> Option<usize> {
    if rest.is_empty() {
        return Some(at);
    }
    // What is left of `rest` past one step named `step`, if it starts so.
    let past = |step: &str| match rest.strip_prefix(step)? {
        "" => Some(""),
        more => more.strip_prefix('.'),
    };
    match text.as_bytes().get(at)? {
        b'{' => json_span::object_members(text, at)?
            .iter()
            .find_map(|m| find_at(text, m.value.start, past(&m.key)?)),
        b'[' => json_span::array_elements(text, at)?
            .iter()
            .enumerate()
            .find_map(|(n, e)| find_at(text, e.start, past(&format!("[{n}]"))?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`read_i64`]'s value, if readable.
    fn get_i64(v: &Value, path: &str) -> Option<i64> {
        match read_i64(v, path) {
            Int::Value(n) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn paths_read_nested_dotted_and_mixed() {
        let v: Value = serde_json::json!({
            "proc.cmdline": "a b",
            "proc": {"pid": 5, "parent.pid": "6"},
            "x": {"y.z": {"w": true}}
        });
        assert_eq!(get_str(&v, "proc.cmdline").as_deref(), Some("a b"));
        assert_eq!(get_i64(&v, "proc.pid"), Some(5));
        assert_eq!(get_i64(&v, "proc.parent.pid"), Some(6));
        assert_eq!(get_str(&v, "x.y.z.w").as_deref(), Some("true"));
        assert_eq!(get(&v, "proc.nope"), None);
        assert_eq!(get(&serde_json::json!(3), "a"), None);
    }

    /// A number past a `long` used to come back as `i64::MAX` (or
    /// `i64::MIN`): a pid that no process has, which a rule could match.
    #[test]
    fn integers_past_a_long_are_not_read() {
        let v: Value = serde_json::from_str(
            r#"{"big": 18446744073709551615, "huge": 1e300, "low": -1e19,
                "max": 9223372036854775807, "min": -9223372036854775808,
                "whole": 4.0e3, "half": 2.5, "text": "99999999999999999999"}"#,
        )
        .unwrap();
        assert_eq!(get_i64(&v, "big"), None);
        assert_eq!(get_i64(&v, "huge"), None);
        assert_eq!(get_i64(&v, "low"), None);
        assert_eq!(get_i64(&v, "max"), Some(i64::MAX));
        assert_eq!(get_i64(&v, "min"), Some(i64::MIN));
        assert_eq!(get_i64(&v, "whole"), Some(4000));
        assert_eq!(get_i64(&v, "half"), None);
        assert_eq!(get_i64(&v, "text"), None);
        assert_eq!(
            read_i64(&v, "text"),
            Int::Unreadable(
                ValueReason::OutOfRange,
                "\"99999999999999999999\"".to_string()
            )
        );
        assert_eq!(
            read_i64(&v, "half"),
            Int::Unreadable(ValueReason::NotAnInteger, "2.5".to_string())
        );
        assert_eq!(
            read_i64(&v, "huge"),
            Int::Unreadable(ValueReason::OutOfRange, "1e+300".to_string())
        );
    }

    #[test]
    fn unreadable_and_absent_integers_differ() {
        let v: Value =
            serde_json::json!({"a": "notanumber", "b": true, "c": null, "d": "-", "e": " 7 "});
        assert_eq!(
            read_i64(&v, "a"),
            Int::Unreadable(ValueReason::NotAnInteger, "\"notanumber\"".to_string())
        );
        assert_eq!(
            read_i64(&v, "b"),
            Int::Unreadable(ValueReason::NotAnInteger, "true".to_string())
        );
        assert_eq!(read_i64(&v, "c"), Int::Absent);
        assert_eq!(read_i64(&v, "d"), Int::Absent);
        assert_eq!(read_i64(&v, "e"), Int::Value(7));
        assert_eq!(read_i64(&v, "f"), Int::Absent);
    }

    #[test]
    fn values_are_located_in_the_text_however_keys_are_split() {
        let text = "{\"a\": {\"b.c\": [1, {\"d\" : \"x\\\"y\"}], \"e\":2},\n \"f\": 1e30}";
        let at = |path| locate(text, path).map(|i| &text[i..i + 1]);
        assert_eq!(at("a.b.c.[1].d"), Some("\""));
        assert_eq!(locate(text, "a.b.c.[1].d"), Some(25));
        assert_eq!(at("a.e"), Some("2"));
        assert_eq!(at("f"), Some("1"));
        assert_eq!(locate(text, "a.b.c.[0]"), Some(15));
        assert_eq!(locate(text, "a.x"), None);
        assert_eq!(locate("{\"a\": ", "b"), None);
    }
}
