//! Spans of a rule's values in its JSON text, by key path or by the steps
//! of a field error; the scanning itself is `talon_event::json_span`.

use std::ops::Range;

use talon_event::json_span::{descend, object_members};

use crate::fields::Step;

/// The span of the value at `path` (member keys) below the object at
/// `start`.
pub(crate) fn path_span(text: &str, start: usize, path: &[&str]) -> Option<Range<usize>> {
    let mut span = start..start;
    for key in path {
        let members = object_members(text, span.start)?;
        span = members.into_iter().find(|m| m.key == *key)?.value;
    }
    Some(span)
}

/// The span of what `within` names below the value at `span` (an item of
/// an array, a member of an object), as deep as the steps lead.
pub(crate) fn nested_span(text: &str, span: Range<usize>, within: &[Step]) -> Range<usize> {
    descend(text, span, within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_steps_lead_to_nested_values() {
        let t = r#"  {"a": [1, {"x": "]"}], "b\u0061": {"c": "q\"z"}, "n": -1.5e3}"#;
        let c = path_span(t, 2, &["ba", "c"]).unwrap();
        assert_eq!(&t[c], r#""q\"z""#);
        assert_eq!(path_span(t, 2, &["zz"]), None);
        let a = path_span(t, 2, &["a"]).unwrap();
        let x = nested_span(t, a.clone(), &[Step::Item(1), Step::Key("x".into())]);
        assert_eq!(&t[x], r#""]""#);
        // A step that leads nowhere stops where the path still holds.
        assert_eq!(nested_span(t, a.clone(), &[Step::Item(5)]), a);
    }
}
