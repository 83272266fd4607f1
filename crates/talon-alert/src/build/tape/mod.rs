//! An event's source text read once into a flat list of spans (a tape),
//! for writing alerts without building a `serde_json::Map`.
//!
//! The scanner ([`scan`]) accepts exactly the documents `serde_json` would
//! read into the same map, and nothing it would read differently;
//! everything else is [`Unusual`] and goes the map way
//! ([`super::source`]). Unusual means:
//!
//! - anything `serde_json` rejects (bad JSON, a lone surrogate `\ud800`, a
//!   number out of range, trailing text), or a root that is not an object;
//! - an object key written with a backslash escape, so that comparing the
//!   raw text of two keys is comparing the keys;
//! - a key repeated in one object (`serde_json` keeps the last value at the
//!   first key's place, which a one-pass writer cannot);
//! - nesting deeper than `serde_json` allows, with a margin, so the map
//!   path decides what happens.
//!
//! Each scalar remembers whether its text is already what `serde_json`
//! writes for it (verbatim): strings whose escapes are the ones it writes
//! (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), and integers that fit `i64`
//! or `u64` (except `-0`, which it reads as a float). Other scalars
//! (`\u00e9`, `\/`, `1.0`, `1e5`, huge integers) are re-encoded through
//! `serde_json` when written, so their bytes are its bytes. A container is
//! verbatim when it is written without whitespace, holds only verbatim
//! values and loses nothing to cleaning: it is copied as it is.

mod scan;

use serde_json::Value;

/// The source is not one the tape can stand for; build the map instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unusual;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Literal,
}

/// One value (or object key) of the source: its text is
/// `source[start..end]`, and its subtree ends before node `next`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    start: u32,
    end: u32,
    next: u32,
    kind: Kind,
    flags: u8,
}

/// The text is what `serde_json` writes for the cleaned value (see the
/// module comment).
const VERBATIM: u8 = 1;
/// Not an array or object left empty once emptied members are removed
/// (Kibana drops those, at any depth).
const LIVE: u8 = 2;
/// An object with a dotted key, where a dotted path may be a key as is;
/// a key with a dot.
const DOTTED: u8 = 4;
/// A string with a backslash escape.
const ESCAPED: u8 = 8;

impl Node {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A source document as nodes in document order: an object's node is
/// followed by its members, each a key node then the value's nodes.
pub(crate) struct Tape<'s> {
    source: &'s str,
    nodes: Vec<Node>,
}

impl<'s> Tape<'s> {
    /// Reads `source`, which must be one JSON object (the root, node 0).
    pub fn scan(source: &'s str) -> Result<Tape<'s>, Unusual> {
        let nodes = scan::scan(source)?;
        Ok(Tape { source, nodes })
    }

    /// The source text.
    pub fn source(&self) -> &'s str {
        self.source
    }

    pub fn kind(&self, node: usize) -> Kind {
        self.nodes[node].kind
    }

    /// Whether the node survives cleaning (see [`LIVE`]).
    pub fn is_live(&self, node: usize) -> bool {
        self.nodes[node].has(LIVE)
    }

    /// The node's text.
    pub fn text(&self, node: usize) -> &'s str {
        let n = &self.nodes[node];
        &self.source[n.start as usize..n.end as usize]
    }

    /// A key node's name (its text without the quotes; keys have no
    /// escapes, so this is the key).
    pub fn key(&self, node: usize) -> &'s str {
        let n = &self.nodes[node];
        &self.source[n.start as usize + 1..n.end as usize - 1]
    }

    /// The (key, value) node pairs of the object at `node`.
    pub fn members(&self, node: usize) -> Members<'_, 's> {
        Members {
            tape: self,
            at: node + 1,
            end: self.nodes[node].next as usize,
        }
    }

    /// The items of the array at `node`.
    pub fn items(&self, node: usize) -> Items<'_, 's> {
        Items {
            tape: self,
            at: node + 1,
            end: self.nodes[node].next as usize,
        }
    }

    /// The value at a dotted `path` under the object at `node`, found the
    /// way [`crate::path::lookup`] finds it in a map: an exact key first,
    /// then each dot as an object boundary, shortest prefix first.
    pub fn lookup(&self, node: usize, path: &str) -> Option<usize> {
        if !self.nodes[node].has(DOTTED) {
            // Only the first segment can be a key here.
            return match path.split_once('.') {
                None => self.member(node, path),
                Some((first, rest)) => {
                    let inner = self.member(node, first)?;
                    let is_object = self.kind(inner) == Kind::Object;
                    is_object.then(|| self.lookup(inner, rest)).flatten()
                }
            };
        }
        if let Some(value) = self.member(node, path) {
            return Some(value);
        }
        for (dot, _) in path.match_indices('.') {
            let Some(inner) = self.member(node, &path[..dot]) else {
                continue;
            };
            if self.kind(inner) == Kind::Object {
                if let Some(value) = self.lookup(inner, &path[dot + 1..]) {
                    return Some(value);
                }
            }
        }
        None
    }

    /// The value of member `name` of the object at `node`.
    fn member(&self, node: usize, name: &str) -> Option<usize> {
        let source = self.source.as_bytes();
        let is_name = |key: usize| {
            let n = &self.nodes[key];
            let (start, end) = (n.start as usize + 1, n.end as usize - 1);
            end - start == name.len() && &source[start..end] == name.as_bytes()
        };
        self.members(node)
            .find(|&(key, _)| is_name(key))
            .map(|(_, value)| value)
    }

    /// The node as a `serde_json` value, exactly as the map path has it
    /// (uncleaned). Strings without escapes and arrays are made here, as
    /// `serde_json` would make them; the rest by `serde_json`.
    pub fn value(&self, node: usize) -> Result<Value, Unusual> {
        let n = &self.nodes[node];
        match n.kind {
            Kind::String if !n.has(ESCAPED) => {
                let text = self.text(node);
                Ok(Value::String(text[1..text.len() - 1].to_owned()))
            }
            Kind::Array => self.items(node).map(|item| self.value(item)).collect(),
            _ => serde_json::from_str(self.text(node)).map_err(|_| Unusual),
        }
    }

    /// Appends the node as `serde_json` writes the value the map path
    /// holds for it: emptied arrays and objects left out. The node must be
    /// live.
    pub fn write(&self, node: usize, out: &mut Vec<u8>) -> Result<(), Unusual> {
        let n = self.nodes[node];
        if n.has(VERBATIM) {
            // Compact, nothing to drop, nothing to rewrite: the common case.
            out.extend_from_slice(self.text(node).as_bytes());
            return Ok(());
        }
        match n.kind {
            Kind::Object => self.write_object(node, None, out)?,
            Kind::Array => {
                out.push(b'[');
                let mut first = true;
                for item in self.items(node) {
                    if !self.is_live(item) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    self.write(item, out)?;
                }
                out.push(b']');
            }
            Kind::String => {
                let text: String = serde_json::from_str(self.text(node)).map_err(|_| Unusual)?;
                serde_json::to_writer(&mut *out, &text).map_err(|_| Unusual)?;
            }
            _ => {
                let value = self.value(node)?;
                serde_json::to_writer(&mut *out, &value).map_err(|_| Unusual)?;
            }
        }
        Ok(())
    }

    /// [`Tape::write`] for an object, leaving out member `skip` if given.
    pub fn write_object(
        &self,
        node: usize,
        skip: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), Unusual> {
        out.push(b'{');
        let mut first = true;
        for (key, value) in self.members(node) {
            if !self.is_live(value) || skip == Some(self.key(key)) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(self.text(key).as_bytes());
            out.push(b':');
            self.write(value, out)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// See [`Tape::members`].
pub(crate) struct Members<'t, 's> {
    tape: &'t Tape<'s>,
    at: usize,
    end: usize,
}

impl Iterator for Members<'_, '_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.at >= self.end {
            return None;
        }
        let (key, value) = (self.at, self.at + 1);
        self.at = self.tape.nodes[value].next as usize;
        Some((key, value))
    }
}

/// See [`Tape::items`].
pub(crate) struct Items<'t, 's> {
    tape: &'t Tape<'s>,
    at: usize,
    end: usize,
}

impl Iterator for Items<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        let item = self.at;
        self.at = self.tape.nodes[item].next as usize;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;
    use crate::path;

    const PATHS: [&str; 8] = [
        "a",
        "a.b",
        "a.b.c",
        "process.parent.name",
        "host.name",
        "x.y",
        "@timestamp",
        "a..b",
    ];

    /// The tape finds what [`path::lookup`] finds in the parsed map,
    /// whichever way the document spells the path.
    #[test]
    fn lookup_agrees_with_the_map() {
        let docs = [
            r#"{"a":{"b":{"c":1}},"a.b":{"c":2},"a.b.c":3}"#,
            r#"{"a":{"b.c":1,"b":{"c":2}}}"#,
            r#"{"a":{"b":{"c":1}}}"#,
            r#"{"a":1,"a.b":{"c":[1]}}"#,
            r#"{"process":{"parent":{"name":"p"},"parent.name":"q"},"process.parent":{"name":"r"}}"#,
            r#"{"process":{"parent":"flat"},"process.parent":{"name":"r"}}"#,
            r#"{"host":{"name":{}},"x":{"y":[]},"@timestamp":"t"}"#,
            r#"{"a":{"":{"b":1}},"a.":{"b":2}}"#,
        ];
        for doc in docs {
            let tape = Tape::scan(doc).unwrap_or_else(|_| panic!("{doc}"));
            let map: Map<String, Value> = serde_json::from_str(doc).unwrap_or_default();
            for p in PATHS {
                let from_tape = tape.lookup(0, p).map(|n| tape.value(n));
                let from_map = path::lookup(&map, p).cloned().map(Ok);
                assert_eq!(from_tape, from_map, "{p} in {doc}");
            }
        }
    }

    #[test]
    fn scalars_serde_json_rewrites_are_not_verbatim() {
        let tape =
            Tape::scan(r#"{"a":[1,-0,1.0,1e5,18446744073709551616,"\/","\u00e9","\n\"\\"]}"#);
        let tape = tape.unwrap_or_else(|_| panic!("not scanned"));
        let verbatim: Vec<bool> = tape.items(2).map(|n| tape.nodes[n].has(VERBATIM)).collect();
        assert_eq!(
            verbatim,
            [true, false, false, false, false, false, false, true]
        );
    }

    /// The values the tape makes itself are the ones `serde_json` makes.
    #[test]
    fn values_are_serde_jsons() {
        let doc = r#"{"a":["x","\u00e9\n",[],[1,-0,2.5,{"b":null}],true],"c":{"d":"\/"},"e":""}"#;
        let tape = Tape::scan(doc).unwrap_or_else(|_| panic!("not scanned"));
        for node in 0..tape.nodes.len() {
            let expected: Result<Value, _> = serde_json::from_str(tape.text(node));
            assert_eq!(tape.value(node).ok(), expected.ok(), "{}", tape.text(node));
        }
    }

    #[test]
    fn compact_containers_with_nothing_to_drop_are_verbatim() {
        let tape =
            Tape::scan(r#"{"a":{"b":[1,"x"]},"c":{"d":[]},"e":{ "f":1},"g":[1.0],"h":[{}]}"#);
        let tape = tape.unwrap_or_else(|_| panic!("not scanned"));
        let verbatim: Vec<(&str, bool)> = tape
            .members(0)
            .map(|(k, v)| (tape.key(k), tape.nodes[v].has(VERBATIM)))
            .collect();
        let expected = [
            ("a", true),
            ("c", false),
            ("e", false),
            ("g", false),
            ("h", false),
        ];
        assert_eq!(verbatim, expected);
    }

    #[test]
    fn emptied_containers_are_not_live() {
        let tape = Tape::scan(r#"{"a":[[],{}],"b":{"c":{"d":[]}},"e":[0]}"#);
        let tape = tape.unwrap_or_else(|_| panic!("not scanned"));
        let live: Vec<(&str, bool)> = tape
            .members(0)
            .map(|(k, v)| (tape.key(k), tape.is_live(v)))
            .collect();
        assert_eq!(live, [("a", false), ("b", false), ("e", true)]);
    }
}
