//! Message payloads in and out: an ECS event from a message, the envelope
//! of an event forwarded through the repartition topic, and the record a
//! malformed message becomes on the dead-letter topic.
//!
//! The event's source text is kept byte for byte (a forwarded event is
//! carried as raw JSON, never re-serialized), because an alert's id is
//! derived from it: the same event gives the same alert id whichever
//! worker, and whichever hop, evaluates it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use talon_event::flatten::{FlattenError, Flattener};
use talon_event::read::derive_index;
use talon_event::{lone_surrogates_replaced, Event, Origin};

/// Why a message is not an event: the reason a dead letter carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// No payload, or only whitespace.
    Empty,
    /// The payload is not UTF-8 (byte offset of the first bad byte).
    NotUtf8 { at: usize },
    /// Not JSON, with serde's line and column.
    Json(String),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A repartition-topic message that is not talon's envelope.
    Envelope(String),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Empty => f.write_str("empty message: expected one JSON event"),
            Malformed::NotUtf8 { at } => write!(f, "payload is not UTF-8 (bad byte at {at})"),
            Malformed::Json(e) => write!(f, "payload is not JSON: {e}"),
            Malformed::NotAnObject => f.write_str("payload is JSON but not an object"),
            Malformed::Envelope(e) => write!(f, "not a talon repartition record: {e}"),
        }
    }
}

/// A message's text, as `hunt` reads a line: half a surrogate pair
/// written as an escape is U+FFFD (see [`lone_surrogates_replaced`]).
fn text_of(payload: Option<&[u8]>) -> Result<Cow<'_, str>, Malformed> {
    let bytes = payload.unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|e| Malformed::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(Malformed::Empty);
    }
    Ok(lone_surrogates_replaced(text).map_or(Cow::Borrowed(text), Cow::Owned))
}

/// Reads events as `talon hunt` reads an NDJSON line: flattened, with the
/// forced index or the data stream's, and an origin naming the message.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    flattener: Flattener,
    index: Option<Arc<str>>,
}

impl Decoder {
    pub fn new(flattener: Flattener, index: Option<&str>) -> Decoder {
        Decoder {
            flattener,
            index: index.map(Arc::from),
        }
    }

    /// The event a message of an event topic holds.
    pub fn event(&self, payload: Option<&[u8]>, origin: Origin) -> Result<Event, Malformed> {
        self.event_text(&text_of(payload)?, None, origin)
    }

    /// The event and the rules a repartition-topic message was sent for.
    pub fn forwarded(
        &self,
        payload: Option<&[u8]>,
        origin: Origin,
    ) -> Result<(Event, Vec<String>), Malformed> {
        let text = text_of(payload)?;
        let env: ForwardedIn<'_> =
            serde_json::from_str(&text).map_err(|e| Malformed::Envelope(e.to_string()))?;
        let event = self.event_text(env.event.get(), env.index, origin)?;
        Ok((event, env.rules))
    }

    /// The event of a JSON text; `index` is the one it was known by (when
    /// no index is forced).
    pub(crate) fn event_text(
        &self,
        text: &str,
        index: Option<&str>,
        origin: Origin,
    ) -> Result<Event, Malformed> {
        let mut event = self.flattener.event(text).map_err(|e| match e {
            FlattenError::NotAnObject => Malformed::NotAnObject,
            FlattenError::Json(e) => Malformed::Json(e.to_string()),
            e @ FlattenError::DuplicateKey { .. } => Malformed::Json(e.to_string()),
        })?;
        event.index = match (&self.index, index) {
            (Some(forced), _) => Some(forced.clone()),
            (None, Some(given)) => Some(Arc::from(given)),
            (None, None) => derive_index(&event).map(Arc::from),
        };
        event.origin = origin;
        Ok(event)
    }
}

#[derive(Deserialize)]
struct ForwardedIn<'a> {
    rules: Vec<String>,
    #[serde(borrow)]
    index: Option<&'a str>,
    #[serde(borrow)]
    event: &'a RawValue,
}

#[derive(Serialize)]
struct ForwardedOut<'a> {
    rules: &'a [&'a str],
    index: Option<&'a str>,
    event: &'a RawValue,
}

/// The repartition-topic record for `event`, sent for the sequence rules
/// named by id. `None` if the event's source is not JSON (it always is: it
/// was parsed to become an event).
pub fn forwarded_record(event: &Event, rules: &[&str]) -> Option<String> {
    let raw: &RawValue = serde_json::from_str(event.source()).ok()?;
    let out = ForwardedOut {
        rules,
        index: event.index.as_deref(),
        event: raw,
    };
    serde_json::to_string(&out).ok()
}

/// Where a dead letter came from, and why it is one.
#[derive(Debug, Serialize)]
pub struct DeadLetter<'a> {
    pub reason: String,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// The message key and payload, as text (invalid UTF-8 replaced).
    pub key: Option<String>,
    pub payload: String,
}

impl DeadLetter<'_> {
    pub fn to_json(&self) -> String {
        // A struct of strings and integers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            file: Arc::from("kafka:ev/0"),
            line: 7,
        }
    }

    #[test]
    fn events_get_their_data_stream_index_and_origin() {
        let d = Decoder::default();
        let text = br#"{"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"},"host":{"id":"h1"}}"#;
        let e = d.event(Some(text), origin()).map_err(|e| e.to_string());
        let e = e
            .as_ref()
            .map(|e| (e.index.as_deref().map(str::to_owned), e.origin.line));
        assert_eq!(
            e,
            Ok((Some("logs-endpoint.events.process-default".to_owned()), 7))
        );

        let forced = Decoder::new(Flattener::default(), Some("idx"));
        let e = forced.event(Some(b"{\"a\":1}"), origin()).map(|e| e.index);
        assert_eq!(e, Ok(Some(Arc::from("idx"))));
    }

    /// As `hunt` reads a line: Elasticsearch indexes half a surrogate pair
    /// (as U+FFFD), so a message holding one is an event, not malformed.
    #[test]
    fn half_a_surrogate_pair_is_read_as_a_replacement_character() {
        let d = Decoder::default();
        let e = d
            .event(Some(br#"{"a":"x\udc00"}"#), origin())
            .map_err(|e| e.to_string());
        let a = e.map(|e| e.first("a").cloned());
        assert_eq!(a, Ok(Some(talon_event::Value::str("x\u{fffd}"))));
        let env = br#"{"event":{"a":"\ud800"},"rules":["r"]}"#;
        let f = d.forwarded(Some(env), origin()).map_err(|e| e.to_string());
        let a = f.map(|(e, rules)| (e.first("a").cloned(), rules));
        assert_eq!(
            a,
            Ok((
                Some(talon_event::Value::str("\u{fffd}")),
                vec!["r".to_string()]
            ))
        );
    }

    #[test]
    fn malformed_payloads_say_why() {
        let d = Decoder::default();
        let why = |p: Option<&[u8]>| d.event(p, origin()).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            why(None),
            Err("empty message: expected one JSON event".into())
        );
        assert_eq!(
            why(Some(b"  \n")),
            Err("empty message: expected one JSON event".into())
        );
        assert_eq!(
            why(Some(b"{\"a\":\xff}")),
            Err("payload is not UTF-8 (bad byte at 5)".into())
        );
        assert_eq!(
            why(Some(b"[1,2]")),
            Err("payload is JSON but not an object".into())
        );
        assert_eq!(
            why(Some(b"{\"a\": nope}")),
            Err("payload is not JSON: expected ident at line 1 column 8".into())
        );
    }

    #[test]
    fn a_forwarded_event_keeps_its_source_text_exactly() {
        let d = Decoder::default();
        let src = "{ \"user\" : {\"name\":\"alice\"}, \"n\": 1.50 }";
        let mut event = match d.event(Some(src.as_bytes()), origin()) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        event.index = Some(Arc::from("logs-x"));
        let rec = forwarded_record(&event, &["r1", "r2"]).unwrap_or_default();
        let back = d.forwarded(Some(rec.as_bytes()), origin());
        let back = back.map(|(e, rules)| (e.source().to_owned(), e.index, rules));
        assert_eq!(
            back,
            Ok((
                src.to_owned(),
                Some(Arc::from("logs-x")),
                vec!["r1".to_owned(), "r2".to_owned()]
            ))
        );
        let bad = d.forwarded(Some(b"{\"event\":{}}"), origin()).map(|_| ());
        assert!(matches!(bad, Err(Malformed::Envelope(_))), "{bad:?}");
    }
}
