//! Dotted-path lookup in a JSON document that may spell a field nested
//! (`{"host": {"name": ..}}`), dotted (`{"host.name": ..}`) or both
//! (`{"process": {"parent.name": ..}}`).
//!
//! Events come in all three spellings and alerts mix them (event fields
//! nested, `kibana.*` fields dotted), so every reader of a document field in
//! this crate goes through [`lookup`]. It never allocates.

use serde_json::{Map, Value};

/// The value at `path`, whichever way the document spells it.
///
/// An exact key wins; otherwise each dot is tried as an object boundary,
/// shortest prefix first.
pub fn lookup<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = doc.get(path) {
        return Some(value);
    }
    for (dot, _) in path.match_indices('.') {
        if let Some(Value::Object(inner)) = doc.get(&path[..dot]) {
            if let Some(value) = lookup(inner, &path[dot + 1..]) {
                return Some(value);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn finds_nested_dotted_and_mixed_spellings() {
        let d = doc(json!({
            "host": {"name": "web-01"},
            "user.name": "root",
            "process": {"parent.name": "bash", "name": "sysctl"}
        }));
        assert_eq!(lookup(&d, "host.name"), Some(&json!("web-01")));
        assert_eq!(lookup(&d, "user.name"), Some(&json!("root")));
        assert_eq!(lookup(&d, "process.parent.name"), Some(&json!("bash")));
        assert_eq!(lookup(&d, "process.name"), Some(&json!("sysctl")));
        assert_eq!(lookup(&d, "process.pid"), None);
        assert_eq!(lookup(&d, "host.name.x"), None);
    }
}
