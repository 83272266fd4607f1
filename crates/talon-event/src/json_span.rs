//! Byte spans of the members of a JSON object (or elements of an array) in
//! the source text.
//!
//! serde_json parses values but forgets where they were; a message that
//! points at a value (a rule's error caret, a source record's unreadable
//! field) needs the bytes it stands on. This scanner walks text that
//! serde_json has already accepted, one level at a time, skipping nested
//! values without recursion. On text it does not understand it returns
//! `None`; it never panics.

use std::ops::Range;

/// One `"key": value` member of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub key: String,
    pub value: Range<usize>,
}

pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// `i` at an opening quote; returns the index after the closing quote.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// `i` at the first byte of a value; returns the index after it.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The members of the object whose `{` is at byte `start` of `text`.
pub fn object_members(text: &str, start: usize) -> Option<Vec<Member>> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b'}') {
        return Some(out);
    }
    loop {
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_str(text.get(i..key_end)?).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let v = skip_ws(b, i + 1);
        let v_end = value_end(b, v)?;
        out.push(Member {
            key,
            value: v..v_end,
        });
        i = skip_ws(b, v_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(out),
            _ => return None,
        }
    }
}

/// The element spans of the array whose `[` is at byte `start` of `text`.
pub fn array_elements(text: &str, start: usize) -> Option<Vec<Range<usize>>> {
    let b = text.as_bytes();
    if b.get(start) != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b']') {
        return Some(out);
    }
    loop {
        let end = value_end(b, i)?;
        out.push(i..end);
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Some(out),
            _ => return None,
        }
    }
}

/// One step down into a JSON value: an item of an array, or a member of
/// an object by its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Item(usize),
    Key(String),
}

/// The span of the value `steps` lead to below the value at `span` of
/// `text`, as deep as the text follows them (where a step finds nothing,
/// the span reached so far). A key written twice leads to its last value,
/// the one serde_json keeps.
pub fn descend(text: &str, span: Range<usize>, steps: &[Step]) -> Range<usize> {
    let mut span = span;
    for step in steps {
        let child = match step {
            Step::Item(i) => array_elements(text, span.start).and_then(|e| e.get(*i).cloned()),
            Step::Key(k) => object_members(text, span.start)
                .and_then(|m| m.into_iter().rev().find(|m| m.key == *k))
                .map(|m| m.value),
        };
        match child {
            Some(c) => span = c,
            None => break,
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_with_escaped_keys_and_nested_values() {
        let t = r#"  {"a": [1, {"x": "]"}], "b\u0061": {"c": "q\"z"}, "n": -1.5e3}"#;
        let m = object_members(t, 2).unwrap();
        let keys: Vec<&str> = m.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["a", "ba", "n"]);
        assert_eq!(&t[m[0].value.clone()], r#"[1, {"x": "]"}]"#);
        assert_eq!(&t[m[1].value.clone()], r#"{"c": "q\"z"}"#);
        assert_eq!(&t[m[2].value.clone()], "-1.5e3");
    }

    #[test]
    fn steps_descend_as_far_as_the_text_goes() {
        let t = r#"{"a": [1, {"x": "]", "x": 2}], "b": {}}"#;
        let all = 0..t.len();
        let at = |steps: &[Step]| &t[descend(t, all.clone(), steps)];
        let key = |k: &str| Step::Key(k.to_string());
        assert_eq!(at(&[key("a"), Step::Item(0)]), "1");
        // serde_json keeps the last of a key written twice.
        assert_eq!(at(&[key("a"), Step::Item(1), key("x")]), "2");
        assert_eq!(at(&[key("b"), key("zz")]), "{}");
        assert_eq!(at(&[key("a"), Step::Item(9)]), r#"[1, {"x": "]", "x": 2}]"#);
    }

    #[test]
    fn arrays_and_malformed_input() {
        let t = r#"[{"a":1} , "s", []]"#;
        let e = array_elements(t, 0).unwrap();
        assert_eq!(
            e.iter().map(|r| &t[r.clone()]).collect::<Vec<_>>(),
            [r#"{"a":1}"#, r#""s""#, "[]"]
        );
        assert_eq!(object_members(r#"{"a" 1}"#, 0), None);
        assert_eq!(object_members(r#"{"a": [}"#, 0), None);
        assert_eq!(array_elements("[1,", 0), None);
        assert_eq!(object_members("{}", 0), Some(vec![]));
    }
}
