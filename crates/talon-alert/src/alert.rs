//! One alert document, in the key order Kibana writes it.
//!
//! An [`Alert`] is the `_source` Kibana would index into
//! `.alerts-security.alerts-<space>`: an ordered JSON object whose alert
//! fields are flat dotted keys and whose copied event fields keep their
//! original nesting. It also remembers where its (first) event was read
//! from, which is not part of the document but is what a person needs to
//! find the event again.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use talon_event::Origin;

use crate::fields;
use crate::path::lookup;

/// A Kibana-shaped security alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    doc: Map<String, Value>,
    origin: Option<Origin>,
}

impl Alert {
    pub(crate) fn new(doc: Map<String, Value>, origin: Option<Origin>) -> Alert {
        Alert { doc, origin }
    }

    /// The alert document.
    pub fn doc(&self) -> &Map<String, Value> {
        &self.doc
    }

    /// The alert document, by value.
    pub fn into_doc(self) -> Map<String, Value> {
        self.doc
    }

    /// Where the alert's event (a sequence's first event) was read from.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// A field by dotted path, nested or flat (`host.name`,
    /// `kibana.alert.rule.name`).
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.doc, path)
    }

    /// A string field by dotted path.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// `kibana.alert.uuid`, which is also the document `_id` Kibana uses.
    pub fn uuid(&self) -> &str {
        self.get_str(fields::ALERT_UUID).unwrap_or_default()
    }

    /// Building-block alerts are hidden by default in Kibana.
    pub fn is_building_block(&self) -> bool {
        self.doc.contains_key(fields::ALERT_BUILDING_BLOCK_TYPE)
    }

    /// The document as one line of compact JSON.
    pub fn to_json(&self) -> String {
        // Serializing a map of JSON values cannot fail: every key is a string.
        serde_json::to_string(&self.doc).unwrap_or_default()
    }
}

impl Serialize for Alert {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.doc.serialize(serializer)
    }
}
