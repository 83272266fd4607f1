//! Reading a rule's `threat` list (its MITRE mapping) one entry at a time,
//! so that a refused value is reported at the entry, technique or
//! sub-technique it belongs to, with what is wrong in words, rather than at
//! the first `[[rule.threat]]` of the file with the deserializer's message.

use serde_json::{Map, Value};

use crate::fields::{type_name, FieldError, Step};
use crate::rule::Threat;

const KEY: &str = "threat";

/// Takes `threat` out of the field map: its entries, or the first problem
/// found in it, placed at the table or value it is about.
pub(crate) fn take_threat(map: &mut Map<String, Value>) -> Result<Vec<Threat>, FieldError> {
    let items = match map.remove(KEY) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(FieldError::invalid(
                KEY,
                format!(
                    "`threat` must be a list of tables, found {}",
                    type_name(&other)
                ),
            ))
        }
    };
    let mut threats = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let mut place = Place {
            steps: vec![Step::Item(i)],
            label: format!("`threat` item {}", i + 1),
        };
        if let Some(message) = entry_problem(&item, &mut place) {
            return Err(FieldError::invalid(KEY, message).at(place.steps));
        }
        // What the checks let through, the model reads; should they ever
        // disagree, the deserializer's word is still placed at the entry.
        let threat = serde_json::from_value::<Threat>(item).map_err(|e| {
            FieldError::invalid(KEY, format!("`threat` item {}: {e}", i + 1))
                .at(vec![Step::Item(i)])
        })?;
        threats.push(threat);
    }
    Ok(threats)
}

/// Where a check is in the entry: the steps from the `threat` list down to
/// it, and the same in words for the message (`threat` item 2, technique 1).
struct Place {
    steps: Vec<Step>,
    label: String,
}

impl Place {
    /// One step down, named in the label when `word` is given.
    fn down(&mut self, step: Step, word: Option<String>) {
        self.steps.push(step);
        if let Some(word) = word {
            self.label.push_str(", ");
            self.label.push_str(&word);
        }
    }

    /// A mark to come back to with [`Place::back`].
    fn mark(&self) -> (usize, usize) {
        (self.steps.len(), self.label.len())
    }

    fn back(&mut self, (steps, label): (usize, usize)) {
        self.steps.truncate(steps);
        self.label.truncate(label);
    }
}

/// The first problem of one `threat` entry; `place` is left where it is.
fn entry_problem(item: &Value, place: &mut Place) -> Option<String> {
    let Some(entry) = item.as_object() else {
        return Some(format!(
            "{} must be a table, found {}",
            place.label,
            type_name(item)
        ));
    };
    if let Some(m) = string_member(entry, "framework", true, place) {
        return Some(m);
    }
    let Some(tactic) = entry.get("tactic") else {
        return Some(format!("{} has no `tactic`", place.label));
    };
    let mark = place.mark();
    place.down(Step::Key("tactic".into()), Some("tactic".into()));
    if let Some(m) = reference_problem(tactic, place) {
        return Some(m);
    }
    place.back(mark);
    list_problem(
        entry,
        "technique",
        "technique",
        place,
        |technique, place| {
            reference_problem(technique, place).or_else(|| {
                let table = technique.as_object()?;
                list_problem(
                    table,
                    "subtechnique",
                    "sub-technique",
                    place,
                    reference_problem,
                )
            })
        },
    )
}

/// The first problem of the list at `key` (absent is an empty list), each
/// item checked by `check` with `place` at that item.
fn list_problem(
    table: &Map<String, Value>,
    key: &str,
    what: &str,
    place: &mut Place,
    mut check: impl FnMut(&Value, &mut Place) -> Option<String>,
) -> Option<String> {
    let items = match table.get(key)? {
        Value::Array(items) => items,
        other => {
            let message = format!(
                "{}: `{key}` must be a list of tables, found {}",
                place.label,
                type_name(other)
            );
            place.down(Step::Key(key.into()), None);
            return Some(message);
        }
    };
    let mark = place.mark();
    for (i, item) in items.iter().enumerate() {
        place.down(Step::Key(key.into()), None);
        place.down(Step::Item(i), Some(format!("{what} {}", i + 1)));
        if let Some(m) = check(item, place) {
            return Some(m);
        }
        place.back(mark);
    }
    None
}

/// The first problem of a tactic, technique or sub-technique table: it
/// needs an `id` and a `name`, and its `reference`, when written, is text.
fn reference_problem(item: &Value, place: &mut Place) -> Option<String> {
    let Some(table) = item.as_object() else {
        return Some(format!(
            "{} must be a table, found {}",
            place.label,
            type_name(item)
        ));
    };
    string_member(table, "id", true, place)
        .or_else(|| string_member(table, "name", true, place))
        .or_else(|| string_member(table, "reference", false, place))
}

/// A problem with the text member `key` of `table`: missing when it is
/// `required`, or not a string. `place` moves to the member when it is
/// there but wrong.
fn string_member(
    table: &Map<String, Value>,
    key: &str,
    required: bool,
    place: &mut Place,
) -> Option<String> {
    match table.get(key) {
        None if required => Some(format!("{} has no `{key}`", place.label)),
        None | Some(Value::String(_)) => None,
        Some(other) => {
            let message = format!(
                "{}: `{key}` must be a string, found {}",
                place.label,
                type_name(other)
            );
            place.down(Step::Key(key.into()), None);
            Some(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(threat: Value) -> FieldError {
        let mut map = Map::new();
        map.insert(KEY.to_string(), threat);
        take_threat(&mut map).expect_err("refused")
    }

    fn tactic(id: &str) -> Value {
        json!({"id": id, "name": "Execution", "reference": "https://attack.mitre.org/tactics/TA0002/"})
    }

    #[test]
    fn a_problem_is_placed_at_the_entry_and_member_it_is_in() {
        let e = problem(json!([
            {"framework": "MITRE ATT&CK", "tactic": tactic("TA0002")},
            {"framework": "MITRE ATT&CK", "tactic": tactic("TA0011"),
             "technique": [{"id": "T1090", "name": "Proxy"},
                           {"id": "T1572", "nme": "Protocol Tunneling"}]},
        ]));
        assert_eq!(e.message, "`threat` item 2, technique 2 has no `name`");
        assert_eq!(
            e.within,
            vec![Step::Item(1), Step::Key("technique".into()), Step::Item(1)]
        );

        let e = problem(json!([{"framework": "MITRE ATT&CK", "tactic": "TA0002"}]));
        assert_eq!(
            e.message,
            "`threat` item 1, tactic must be a table, found a string"
        );
        assert_eq!(e.within, vec![Step::Item(0), Step::Key("tactic".into())]);

        let e = problem(json!([{"tactic": tactic("TA0002")}]));
        assert_eq!(e.message, "`threat` item 1 has no `framework`");
        assert_eq!(e.within, vec![Step::Item(0)]);

        let e = problem(
            json!([{"framework": "MITRE ATT&CK", "tactic": tactic("TA0002"),
            "technique": [{"id": "T1059", "name": "Command and Scripting Interpreter",
                           "subtechnique": [{"id": "T1059.004", "name": 4}]}]}]),
        );
        assert_eq!(
            e.message,
            "`threat` item 1, technique 1, sub-technique 1: `name` must be a string, found a number"
        );
        assert_eq!(
            e.within,
            vec![
                Step::Item(0),
                Step::Key("technique".into()),
                Step::Item(0),
                Step::Key("subtechnique".into()),
                Step::Item(0),
                Step::Key("name".into()),
            ]
        );

        let e = problem(json!({"framework": "MITRE ATT&CK"}));
        assert_eq!(
            e.message,
            "`threat` must be a list of tables, found a table"
        );
        assert!(e.within.is_empty());
    }

    #[test]
    fn good_entries_are_read() {
        let mut map = Map::new();
        map.insert(
            KEY.to_string(),
            json!([{"framework": "MITRE ATT&CK", "tactic": tactic("TA0002"),
                "technique": [{"id": "T1059", "name": "Command and Scripting Interpreter",
                               "subtechnique": [{"id": "T1059.004", "name": "Unix Shell"}]}]}]),
        );
        let threats = take_threat(&mut map).expect("read");
        assert_eq!(threats.len(), 1);
        assert_eq!(threats[0].tactic.id, "TA0002");
        assert_eq!(threats[0].technique[0].subtechnique[0].id, "T1059.004");
    }
}
