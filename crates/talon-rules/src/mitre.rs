//! The MITRE ATT&CK mapping of a rule documentation page:
//!
//! ```text
//! **Framework**: MITRE ATT&CKTM
//!
//! * Tactic:
//!     * Name: Command and Control
//!     * ID: TA0011
//!     * Reference URL: [https://attack.mitre.org/tactics/TA0011/](https://attack.mitre.org/tactics/TA0011/)
//! * Technique:
//!     * Name: ...
//! * Sub-technique:
//!     * Name: ...
//! ```
//!
//! Each `**Framework**` line starts one threat entry (one tactic); techniques
//! follow their tactic and sub-techniques their technique, as the page
//! generator writes them. The result is the JSON shape of `[[rule.threat]]`
//! so the common field check validates it like any other source.

use serde_json::{json, Map, Value};

use crate::markdown::{unlink, Line};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tactic,
    Technique,
    Subtechnique,
}

struct Entry {
    kind: Kind,
    fields: Map<String, Value>,
}

/// Threat entries found in `lines` (empty when there is no `**Framework**`).
pub(crate) fn parse_threat(lines: &[Line]) -> Vec<Value> {
    let mut threats = Vec::new();
    let mut current: Option<(String, Vec<Entry>)> = None;
    for l in lines {
        let t = l.text.trim();
        if let Some(fw) = t.strip_prefix("**Framework**:") {
            if let Some((name, entries)) = current.take() {
                threats.push(assemble(name, entries));
            }
            current = Some((framework_name(fw.trim()), Vec::new()));
            continue;
        }
        let Some((_, entries)) = current.as_mut() else {
            continue;
        };
        let Some(item) = t
            .strip_prefix("* ")
            .or_else(|| t.strip_prefix("- "))
            .map(str::trim)
        else {
            continue;
        };
        let kind = match item.to_ascii_lowercase().as_str() {
            "tactic:" => Some(Kind::Tactic),
            "technique:" => Some(Kind::Technique),
            "sub-technique:" | "subtechnique:" => Some(Kind::Subtechnique),
            _ => None,
        };
        if let Some(kind) = kind {
            entries.push(Entry {
                kind,
                fields: Map::new(),
            });
            continue;
        }
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        let key = match key.trim().to_ascii_lowercase().as_str() {
            "name" => "name",
            "id" => "id",
            "reference url" | "reference" => "reference",
            _ => continue,
        };
        if let Some(e) = entries.last_mut() {
            e.fields
                .insert(key.to_string(), json!(unlink(value.trim())));
        }
    }
    if let Some((name, entries)) = current {
        threats.push(assemble(name, entries));
    }
    threats
}

/// `MITRE ATT&CKTM` is how the page renders `MITRE ATT&CK™`; rules name the
/// framework without the mark.
fn framework_name(raw: &str) -> String {
    let s = raw.trim_end_matches('™').trim_end();
    match s.strip_suffix("TM") {
        Some(base) if base.ends_with("ATT&CK") => base.to_string(),
        _ => s.to_string(),
    }
}

fn assemble(framework: String, entries: Vec<Entry>) -> Value {
    let mut tactic = Value::Null;
    let mut techniques: Vec<Map<String, Value>> = Vec::new();
    for e in entries {
        match e.kind {
            Kind::Tactic => tactic = Value::Object(e.fields),
            Kind::Technique => techniques.push(e.fields),
            Kind::Subtechnique => {
                // A sub-technique before any technique has no parent to
                // hang on; the page generator never writes that.
                if let Some(t) = techniques.last_mut() {
                    let subs = t.entry("subtechnique").or_insert_with(|| json!([]));
                    if let Some(a) = subs.as_array_mut() {
                        a.push(Value::Object(e.fields));
                    }
                }
            }
        }
    }
    let mut m = Map::new();
    m.insert("framework".to_string(), json!(framework));
    m.insert("tactic".to_string(), tactic);
    if !techniques.is_empty() {
        m.insert(
            "technique".to_string(),
            Value::Array(techniques.into_iter().map(Value::Object).collect()),
        );
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &str) -> Vec<Line<'_>> {
        t.lines().map(|text| Line { start: 0, text }).collect()
    }

    #[test]
    fn two_frameworks_with_subtechniques() {
        let t = "**Framework**: MITRE ATT&CKTM\n\n* Tactic:\n\n    * Name: Execution\n    * ID: TA0002\n    * Reference URL: [u1](u1)\n\n\
                 * Technique:\n    * Name: Proxy\n    * ID: T1090\n    * Reference URL: u2\n* Sub-technique:\n    * Name: Internal Proxy\n    * ID: T1090.001\n\n\
                 **Framework**: MITRE ATLAS\n* Tactic:\n    * Name: X\n    * ID: AML.TA0000\n";
        let v = parse_threat(&lines(t));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["framework"], "MITRE ATT&CK");
        assert_eq!(
            v[0]["tactic"],
            json!({"name": "Execution", "id": "TA0002", "reference": "u1"})
        );
        assert_eq!(v[0]["technique"][0]["reference"], "u2");
        assert_eq!(v[0]["technique"][0]["subtechnique"][0]["id"], "T1090.001");
        assert_eq!(v[1]["framework"], "MITRE ATLAS");
        assert_eq!(v[1].get("technique"), None);
    }

    #[test]
    fn framework_mark() {
        assert_eq!(framework_name("MITRE ATT&CK™"), "MITRE ATT&CK");
        assert_eq!(framework_name("MITRE ATT&CKTM"), "MITRE ATT&CK");
        assert_eq!(framework_name("MITRE ATLAS"), "MITRE ATLAS");
    }
}
