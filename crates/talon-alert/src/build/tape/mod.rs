//! An event's source text read once into a flat list of spans (a tape),
//! for writing alerts without building a `serde_json::Map`.
//!
//! The scanner accepts exactly the documents `serde_json` would read into
//! the same map, and nothing it would read differently; everything else is
//! [`Unusual`] and goes the map way ([`super::source`]). Unusual means:
//!
//! - anything `serde_json` rejects (bad JSON, a lone surrogate `\ud800`, a
//!   number out of range, trailing text), or a root that is not an object;
//! - an object key written with a backslash escape, so that comparing the
//!   raw text of two keys is comparing the keys;
//! - a key repeated in one object (`serde_json` keeps the last value at the
//!   first key's place, which a one-pass writer cannot);
//! - nesting deeper than [`MAX_DEPTH`], which is below `serde_json`'s own
//!   limit so the map path decides what happens.
//!
//! Each scalar remembers whether its text is already what `serde_json`
//! writes for it (`verbatim`): strings whose escapes are the ones it writes
//! (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), and integers that fit `i64`
//! or `u64` (except `-0`, which it reads as a float). Other scalars
//! (`\u00e9`, `\/`, `1.0`, `1e5`, huge integers) are re-encoded through
//! `serde_json` when written, so their bytes are its bytes.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use serde_json::Value;

/// Deeper nesting is left to the map path (`serde_json` stops at 128).
const MAX_DEPTH: usize = 100;

/// Objects with more keys than this are checked for repeats with a hash
/// set; smaller ones pairwise, which is cheaper at that size.
const PAIRWISE_KEYS: usize = 16;

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
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub next: usize,
    /// Scalars: the text is what `serde_json` writes. Containers: unused.
    pub verbatim: bool,
    /// Not an array or object left empty once emptied members are removed
    /// (Kibana drops those, at any depth).
    pub live: bool,
    /// Objects: a key has a dot, so a dotted path may be a key as it is.
    pub dotted: bool,
}

/// A source document as nodes in document order: an object's node is
/// followed by its members, each a key node then the value's nodes.
pub(crate) struct Tape<'s> {
    pub source: &'s str,
    pub nodes: Vec<Node>,
}

impl<'s> Tape<'s> {
    /// Reads `source`, which must be one JSON object.
    pub fn scan(source: &'s str) -> Result<Tape<'s>, Unusual> {
        let mut scanner = Scanner {
            text: source.as_bytes(),
            source,
            pos: 0,
            nodes: Vec::with_capacity(source.len() / 12 + 8),
            keys: Vec::with_capacity(64),
        };
        scanner.whitespace();
        if scanner.peek() != Some(b'{') {
            return Err(Unusual);
        }
        scanner.value(0)?;
        scanner.whitespace();
        if scanner.pos != source.len() {
            return Err(Unusual);
        }
        Ok(Tape {
            source,
            nodes: scanner.nodes,
        })
    }

    /// The node's text.
    pub fn text(&self, node: usize) -> &'s str {
        let n = &self.nodes[node];
        &self.source[n.start..n.end]
    }

    /// A key node's name (its text without the quotes; keys have no
    /// escapes, so this is the key).
    pub fn key(&self, node: usize) -> &'s str {
        let n = &self.nodes[node];
        &self.source[n.start + 1..n.end - 1]
    }

    /// The (key, value) node pairs of the object at `node`.
    pub fn members(&self, node: usize) -> Members<'_, 's> {
        Members {
            tape: self,
            at: node + 1,
            end: self.nodes[node].next,
        }
    }

    /// The items of the array at `node`.
    pub fn items(&self, node: usize) -> Items<'_, 's> {
        Items {
            tape: self,
            at: node + 1,
            end: self.nodes[node].next,
        }
    }

    /// The value at a dotted `path` under the object at `node`, found the
    /// way [`crate::path::lookup`] finds it in a map: an exact key first,
    /// then each dot as an object boundary, shortest prefix first.
    pub fn lookup(&self, node: usize, path: &str) -> Option<usize> {
        if !self.nodes[node].dotted {
            // Only the first segment can be a key here.
            return match path.split_once('.') {
                None => self.member(node, path),
                Some((first, rest)) => {
                    let inner = self.member(node, first)?;
                    let is_object = self.nodes[inner].kind == Kind::Object;
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
            if self.nodes[inner].kind == Kind::Object {
                if let Some(value) = self.lookup(inner, &path[dot + 1..]) {
                    return Some(value);
                }
            }
        }
        None
    }

    /// The value of member `name` of the object at `node`.
    fn member(&self, node: usize, name: &str) -> Option<usize> {
        self.members(node)
            .find(|&(key, _)| self.key(key) == name)
            .map(|(_, value)| value)
    }

    /// The node as a `serde_json` value, exactly as the map path has it.
    pub fn value(&self, node: usize) -> Result<Value, Unusual> {
        serde_json::from_str(self.text(node)).map_err(|_| Unusual)
    }

    /// Appends the node as `serde_json` writes the value the map path
    /// holds for it: emptied arrays and objects left out. The node must be
    /// live.
    pub fn write(&self, node: usize, out: &mut Vec<u8>) -> Result<(), Unusual> {
        let n = self.nodes[node];
        match n.kind {
            Kind::Object => self.write_object(node, None, out)?,
            Kind::Array => {
                out.push(b'[');
                let mut first = true;
                for item in self.items(node) {
                    if !self.nodes[item].live {
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
            _ if n.verbatim => out.extend_from_slice(self.text(node).as_bytes()),
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
            if !self.nodes[value].live || skip == Some(self.key(key)) {
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
        self.at = self.tape.nodes[value].next;
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
        self.at = self.tape.nodes[item].next;
        Some(item)
    }
}

struct Scanner<'s> {
    text: &'s [u8],
    source: &'s str,
    pos: usize,
    nodes: Vec<Node>,
    /// The keys of the objects being read, innermost last: a hash of the
    /// key's text and its node.
    keys: Vec<(u64, usize)>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Unusual> {
        self.whitespace();
        if self.peek() != Some(byte) {
            return Err(Unusual);
        }
        self.pos += 1;
        Ok(())
    }

    /// Pushes a node for the value at the cursor (and its subtree).
    fn value(&mut self, depth: usize) -> Result<(), Unusual> {
        self.whitespace();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => return self.object(depth + 1),
            Some(b'[') => return self.array(depth + 1),
            Some(b'"') => return self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => return self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(Unusual),
        };
        kind?;
        self.push(Kind::Literal, start, true, true);
        Ok(())
    }

    fn push(&mut self, kind: Kind, start: usize, verbatim: bool, live: bool) {
        let next = self.nodes.len() + 1;
        self.nodes.push(Node {
            kind,
            start,
            end: self.pos,
            next,
            verbatim,
            live,
            dotted: false,
        });
    }

    /// Opens a container node; [`Scanner::close`] fills in its end.
    fn open(&mut self, kind: Kind, depth: usize) -> Result<usize, Unusual> {
        if depth > MAX_DEPTH {
            return Err(Unusual);
        }
        let at = self.nodes.len();
        self.push(kind, self.pos, false, false);
        self.pos += 1;
        Ok(at)
    }

    fn close(&mut self, at: usize, live: bool) {
        let next = self.nodes.len();
        let node = &mut self.nodes[at];
        node.end = self.pos;
        node.next = next;
        node.live = live;
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Unusual> {
        if !self.text[self.pos..].starts_with(word) {
            return Err(Unusual);
        }
        self.pos += word.len();
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<(), Unusual> {
        let at = self.open(Kind::Object, depth)?;
        let mut live = false;
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.close(at, false);
            return Ok(());
        }
        let first_key = self.keys.len();
        let mut dotted = false;
        loop {
            self.whitespace();
            let key = self.nodes.len();
            if self.peek() != Some(b'"') || self.string()? {
                // Not a key, or a key with an escape.
                return Err(Unusual);
            }
            let mut hasher = FxHasher::default();
            let text = self.node_bytes(key);
            dotted |= text.contains(&b'.');
            hasher.write(text);
            self.keys.push((hasher.finish(), key));
            self.expect(b':')?;
            let value = self.nodes.len();
            self.value(depth)?;
            live |= self.nodes[value].live;
            self.whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(Unusual),
            }
        }
        self.close(at, live);
        self.nodes[at].dotted = dotted;
        self.distinct_keys(first_key)?;
        self.keys.truncate(first_key);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), Unusual> {
        let at = self.open(Kind::Array, depth)?;
        let mut live = false;
        self.whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.close(at, false);
            return Ok(());
        }
        loop {
            let item = self.nodes.len();
            self.value(depth)?;
            live |= self.nodes[item].live;
            self.whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(Unusual),
            }
        }
        self.close(at, live);
        Ok(())
    }

    /// Pushes a string node; true when the string has a backslash escape.
    fn string(&mut self) -> Result<bool, Unusual> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        let mut verbatim = true;
        let mut unicode = false;
        loop {
            self.plain_bytes();
            let Some(byte) = self.peek() else {
                return Err(Unusual);
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'/') => verbatim = false,
                        Some(b'u') => {
                            verbatim = false;
                            unicode = true;
                        }
                        _ => return Err(Unusual),
                    }
                    self.pos += 1;
                }
                // A control character must be escaped.
                _ => return Err(Unusual),
            }
        }
        // `serde_json` rejects lone surrogates; ask it rather than copy its
        // rules, and only for the rare string that has a `\u`.
        if unicode && serde_json::from_str::<String>(&self.source[start..self.pos]).is_err() {
            return Err(Unusual);
        }
        self.push(Kind::String, start, verbatim, true);
        Ok(escaped)
    }

    /// Moves over string bytes that are not a quote, a backslash or a
    /// control character, eight at a time while it can.
    fn plain_bytes(&mut self) {
        while let Some(chunk) = self.text.get(self.pos..self.pos + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let special = special_bytes(u64::from_le_bytes(bytes));
            if special != 0 {
                self.pos += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while let Some(&byte) = self.text.get(self.pos) {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return;
            }
            self.pos += 1;
        }
    }

    fn number(&mut self) -> Result<(), Unusual> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Unusual),
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = &self.source[start..self.pos];
        let digits = int_end - start - usize::from(negative);
        let verbatim = integer
            && text != "-0"
            && (digits <= 18
                || if negative {
                    text.parse::<i64>().is_ok()
                } else {
                    text.parse::<u64>().is_ok()
                });
        // A float `serde_json` cannot hold (1e400) fails the map path too.
        if !verbatim && serde_json::from_str::<Value>(text).is_err() {
            return Err(Unusual);
        }
        self.push(Kind::Number, start, verbatim, true);
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), Unusual> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(Unusual);
        }
        self.digits();
        Ok(())
    }

    fn node_bytes(&self, node: usize) -> &[u8] {
        let n = &self.nodes[node];
        &self.text[n.start..n.end]
    }

    /// Fails when the keys from `first` on (one object's) repeat one.
    fn distinct_keys(&mut self, first: usize) -> Result<(), Unusual> {
        let same = |a: &(u64, usize), b: &(u64, usize)| {
            a.0 == b.0 && self.node_bytes(a.1) == self.node_bytes(b.1)
        };
        let keys = &self.keys[first..];
        let repeated = if keys.len() <= PAIRWISE_KEYS {
            keys.iter()
                .enumerate()
                .any(|(i, a)| keys[i + 1..].iter().any(|b| same(a, b)))
        } else {
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            sorted.windows(2).any(|pair| same(&pair[0], &pair[1]))
        };
        if repeated {
            return Err(Unusual);
        }
        Ok(())
    }
}

/// The high bit of each byte of `word` that is `"`, `\` or below 0x20; the
/// lowest such bit is exact (bits above it may be false alarms).
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
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
        let verbatim: Vec<bool> = tape.items(2).map(|n| tape.nodes[n].verbatim).collect();
        assert_eq!(
            verbatim,
            [true, false, false, false, false, false, false, true]
        );
    }

    #[test]
    fn emptied_containers_are_not_live() {
        let tape = Tape::scan(r#"{"a":[[],{}],"b":{"c":{"d":[]}},"e":[0]}"#);
        let tape = tape.unwrap_or_else(|_| panic!("not scanned"));
        let live: Vec<(&str, bool)> = tape
            .members(0)
            .map(|(k, v)| (tape.key(k), tape.nodes[v].live))
            .collect();
        assert_eq!(live, [("a", false), ("b", false), ("e", true)]);
    }

    #[test]
    fn special_bytes_finds_the_first_quote_backslash_or_control() {
        let at = |text: &[u8; 8]| special_bytes(u64::from_le_bytes(*text)).trailing_zeros() / 8;
        assert_eq!(at(b"abcdefgh"), 8);
        assert_eq!(at(b"abc\"efgh"), 3);
        assert_eq!(at(b"\\bcdefgh"), 0);
        assert_eq!(at(b"abcdefg\x1f"), 7);
        assert_eq!(at(b"\xc3\xa9\x7f !~\x20\x01"), 7);
    }
}
