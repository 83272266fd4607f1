//! Deterministic ids: the alert `_id` / `kibana.alert.uuid`, the rule's
//! `kibana.alert.rule.uuid`, and the ancestors an id is computed from.
//!
//! Alert ids follow Kibana's own schemes, so the same event and rule give
//! the same id in talon as in Kibana (given the same rule uuid), and
//! re-running over overlapping windows never duplicates an alert:
//!
//! - one event (`wrapHitsFactory` → `generateId`):
//!   `sha256_hex(_index + _id + _version + "<space>:<rule uuid>")`. EQL
//!   search hits carry no `_version`, so Kibana's EQL rules hash the text
//!   `undefined` there; talon does the same to stay equal;
//! - a sequence's building blocks (`generateBuildingBlockIds`):
//!   `sha256_hex(base + i)`, where `base` joins, for every event, its
//!   ancestors' `id + index` and the rule uuid;
//! - a sequence's shell (`generateAlertId`): `sha256_hex` of its ancestors'
//!   `id + index`, then the rule uuid.
//!
//! An event without `_id` stands in with the sha256 of its source text, so
//! identical documents collapse to one alert and distinct ones never do.

use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};
use talon_event::Event;
use talon_rules::Rule;
use uuid::Uuid;

/// Kibana's ancestor entry: what an alert was built from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ancestor {
    pub id: String,
    /// `event` or `signal` (Kibana's `type`).
    pub kind: &'static str,
    pub index: String,
    pub depth: u32,
    pub rule: Option<String>,
}

impl Ancestor {
    /// The ancestor entry for a source event (depth 0).
    pub fn of_event(event: &Event) -> Ancestor {
        let id = match &event.id {
            Some(id) => id.to_string(),
            None => sha256_hex(&[event.source()]),
        };
        let index = event.index.as_deref().unwrap_or_default().to_owned();
        Ancestor {
            id,
            kind: "event",
            index,
            depth: 0,
            rule: None,
        }
    }

    /// The ancestor entry for an alert of `rule_uuid` (a building block, as
    /// a shell alert lists it). Kibana gives not-yet-indexed alerts an empty
    /// index.
    pub fn of_alert(id: &str, depth: u32, rule_uuid: &str) -> Ancestor {
        Ancestor {
            id: id.to_owned(),
            kind: "signal",
            index: String::new(),
            depth,
            rule: Some(rule_uuid.to_owned()),
        }
    }
}

/// Kibana's shape of an ancestor, written straight to JSON by the JSON
/// Lines path; the map path builds the same object (`ancestor_json` in
/// [`super`]), and the differential tests hold the two to one another.
impl Serialize for Ancestor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = if self.rule.is_some() { 5 } else { 4 };
        let mut map = serializer.serialize_map(Some(fields))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("type", self.kind)?;
        map.serialize_entry("index", &self.index)?;
        map.serialize_entry("depth", &self.depth)?;
        if let Some(rule) = &self.rule {
            map.serialize_entry("rule", rule)?;
        }
        map.end()
    }
}

/// Namespace of talon's rule uuids (a fixed UUIDv5 of a talon URL), so a
/// rule id maps to the same uuid on every machine.
fn rule_namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:talon:rule")
}

/// `kibana.alert.rule.uuid`: the saved-object id when the rule came from a
/// Kibana export (it carries `id`), else a UUIDv5 of the rule id. Kibana
/// draws this id at random when a rule is installed; a derived one keeps
/// alert ids stable across runs.
pub(crate) fn rule_uuid(rule: &Rule) -> String {
    match rule.extra.get("id").and_then(serde_json::Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => Uuid::new_v5(&rule_namespace(), rule.rule_id.as_bytes()).to_string(),
    }
}

/// `kibana.alert.rule.execution.uuid`: one per run (rule and alert time).
pub(crate) fn execution_uuid(rule_uuid: &str, now_iso: &str) -> String {
    let name = format!("{rule_uuid}@{now_iso}");
    Uuid::new_v5(&rule_namespace(), name.as_bytes()).to_string()
}

/// The id of the alert for one event (see the module comment).
pub(crate) fn event_alert_id(event: &Ancestor, space_id: &str, rule_uuid: &str) -> String {
    let scope = format!("{space_id}:{rule_uuid}");
    sha256_hex(&[&event.index, &event.id, "undefined", &scope])
}

/// The ids of a sequence's building blocks, one per event, in order.
pub(crate) fn building_block_ids(events: &[Ancestor], rule_uuid: &str) -> Vec<String> {
    let mut base = String::new();
    for event in events {
        base.push_str(&event.id);
        base.push_str(&event.index);
        base.push_str(rule_uuid);
    }
    (0..events.len())
        .map(|i| sha256_hex(&[&base, &i.to_string()]))
        .collect()
}

/// The id of an alert built from `ancestors` (a sequence's shell).
pub(crate) fn alert_id_from_ancestors(ancestors: &[Ancestor], rule_uuid: &str) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(ancestors.len() * 2 + 1);
    for ancestor in ancestors {
        parts.push(&ancestor.id);
        parts.push(&ancestor.index);
    }
    parts.push(rule_uuid);
    sha256_hex(&parts)
}

/// Lowercase hex sha256 of the concatenated parts.
pub(crate) fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(
            sha256_hex(&["ab", "c"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_event_id_is_kibanas_generate_id_for_eql_hits() {
        let event = Ancestor {
            id: "abc".into(),
            kind: "event",
            index: "logs-x".into(),
            depth: 0,
            rule: None,
        };
        let id = event_alert_id(&event, "default", "r-1");
        assert_eq!(id, sha256_hex(&["logs-xabcundefineddefault:r-1"]));
    }

    #[test]
    fn building_block_ids_depend_on_every_event_and_the_position() {
        let a = Ancestor::of_alert("e1", 0, "r");
        let b = Ancestor::of_alert("e2", 0, "r");
        let ids = building_block_ids(&[a.clone(), b.clone()], "r");
        assert_eq!(ids[0], sha256_hex(&["e1re2r", "0"]));
        assert_eq!(ids[1], sha256_hex(&["e1re2r", "1"]));
        assert_ne!(
            building_block_ids(&[a, b.clone()], "r")[0],
            building_block_ids(&[b], "r")[0]
        );
    }
}
