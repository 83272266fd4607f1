//! The scanner that reads a source text into a [`Tape`]'s nodes, in one
//! pass, checking it as `serde_json` would (see [`super`] for what it
//! refuses) and noting for each node what the writer needs: whether it is
//! live, whether its text can be copied as it is, whether an object has a
//! dotted key.

use rustc_hash::FxHashSet;
use serde_json::Value;

use super::{Kind, Node, Unusual, DOTTED, ESCAPED, LIVE, VERBATIM};

/// Deeper nesting is left to the map path (`serde_json` stops at 128).
const MAX_DEPTH: usize = 100;

/// Objects with more keys than this are checked for repeats with a hash
/// set; smaller ones pairwise, which is cheaper at that size.
const PAIRWISE_KEYS: usize = 16;

/// Reads `text`, which must be one JSON object, into nodes.
pub(super) fn scan(text: &str) -> Result<Vec<Node>, Unusual> {
    // Node offsets are u32, which halves the tape; larger events (over
    // 4 GiB) go the map way.
    if u32::try_from(text.len()).is_err() {
        return Err(Unusual);
    }
    let mut scanner = Scanner {
        text: text.as_bytes(),
        source: text,
        pos: 0,
        nodes: Vec::with_capacity(text.len() / 12 + 8),
        keys: Vec::with_capacity(64),
        spaces: 0,
    };
    scanner.whitespace();
    if scanner.peek() != Some(b'{') {
        return Err(Unusual);
    }
    scanner.value(0)?;
    scanner.whitespace();
    if scanner.pos != text.len() {
        return Err(Unusual);
    }
    Ok(scanner.nodes)
}

struct Scanner<'s> {
    text: &'s [u8],
    source: &'s str,
    pos: usize,
    nodes: Vec<Node>,
    /// The keys of the objects being read, innermost last: a fingerprint
    /// of the key's text, and its node.
    keys: Vec<(u64, usize)>,
    /// Whitespace bytes skipped so far, to tell compact containers.
    spaces: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    #[inline]
    fn whitespace(&mut self) {
        // Compact JSON has none: one test, and out.
        if let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.more_whitespace();
        }
    }

    #[cold]
    fn more_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
            self.spaces += 1;
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
        let word: &[u8] = match self.peek() {
            Some(b'{') => return self.object(depth + 1),
            Some(b'[') => return self.array(depth + 1),
            Some(b'"') => return self.string(false).map(|_| ()),
            Some(b'-' | b'0'..=b'9') => return self.number(),
            Some(b't') => b"true",
            Some(b'f') => b"false",
            Some(b'n') => b"null",
            _ => return Err(Unusual),
        };
        if !self.text[self.pos..].starts_with(word) {
            return Err(Unusual);
        }
        self.pos += word.len();
        self.push(Kind::Literal, start, VERBATIM | LIVE);
        Ok(())
    }

    /// Pushes a node ending at the cursor, with no subtree.
    fn push(&mut self, kind: Kind, start: usize, flags: u8) {
        // `scan` checked that every offset fits.
        let next = (self.nodes.len() + 1) as u32;
        self.nodes.push(Node {
            start: start as u32,
            end: self.pos as u32,
            next,
            kind,
            flags,
        });
    }

    /// Opens a container node; [`Scanner::close`] fills in its end.
    fn open(&mut self, kind: Kind, depth: usize) -> Result<usize, Unusual> {
        if depth > MAX_DEPTH {
            return Err(Unusual);
        }
        let at = self.nodes.len();
        self.push(kind, self.pos, 0);
        self.pos += 1;
        Ok(at)
    }

    /// Closes the container opened at node `at`, when `spaces` whitespace
    /// bytes had been skipped; `verbatim` says whether every value in it
    /// is.
    fn close(&mut self, at: usize, live: bool, verbatim: bool, spaces: usize) {
        let next = self.nodes.len() as u32;
        let compact = self.spaces == spaces;
        let node = &mut self.nodes[at];
        node.end = self.pos as u32;
        node.next = next;
        if live {
            node.flags |= LIVE;
            if verbatim && compact {
                node.flags |= VERBATIM;
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), Unusual> {
        let at = self.open(Kind::Object, depth)?;
        let spaces = self.spaces;
        let (mut live, mut verbatim, mut dotted) = (false, true, false);
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.close(at, false, false, spaces);
            return Ok(());
        }
        let first_key = self.keys.len();
        loop {
            self.whitespace();
            let key = self.nodes.len();
            if self.peek() != Some(b'"') || self.string(true)? {
                // Not a key, or a key with an escape.
                return Err(Unusual);
            }
            dotted |= self.nodes[key].has(DOTTED);
            self.keys.push((fingerprint(self.node_bytes(key)), key));
            self.expect(b':')?;
            let value = self.nodes.len();
            self.value(depth)?;
            live |= self.nodes[value].has(LIVE);
            verbatim &= self.nodes[value].has(VERBATIM);
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
        self.close(at, live, verbatim, spaces);
        if dotted {
            self.nodes[at].flags |= DOTTED;
        }
        self.distinct_keys(first_key)?;
        self.keys.truncate(first_key);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), Unusual> {
        let at = self.open(Kind::Array, depth)?;
        let spaces = self.spaces;
        let (mut live, mut verbatim) = (false, true);
        self.whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.close(at, false, false, spaces);
            return Ok(());
        }
        loop {
            let item = self.nodes.len();
            self.value(depth)?;
            live |= self.nodes[item].has(LIVE);
            verbatim &= self.nodes[item].has(VERBATIM);
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
        self.close(at, live, verbatim, spaces);
        Ok(())
    }

    /// Pushes a string node; true when the string has a backslash escape.
    /// A `key` string notes whether it has a dot ([`DOTTED`]).
    fn string(&mut self, key: bool) -> Result<bool, Unusual> {
        let start = self.pos;
        self.pos += 1;
        let mut flags = LIVE | VERBATIM;
        let mut unicode = false;
        loop {
            self.plain_bytes(key);
            let Some(byte) = self.peek() else {
                return Err(Unusual);
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'.' => flags |= DOTTED,
                b'\\' => {
                    flags |= ESCAPED;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'/') => flags &= !VERBATIM,
                        Some(b'u') => {
                            flags &= !VERBATIM;
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
        self.push(Kind::String, start, flags);
        Ok(flags & ESCAPED != 0)
    }

    /// Moves over string bytes that are not a quote, a backslash or a
    /// control character (nor a dot, with `dots`), eight at a time while
    /// it can.
    fn plain_bytes(&mut self, dots: bool) {
        let dot_mask = if dots { ONES * u64::from(b'.') } else { 0 };
        while let Some(chunk) = self.text.get(self.pos..self.pos + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let word = u64::from_le_bytes(bytes);
            let mut special = special_bytes(word);
            if dots {
                special |= zero_bytes(word ^ dot_mask);
            }
            if special != 0 {
                self.pos += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while let Some(&byte) = self.text.get(self.pos) {
            if byte == b'"' || byte == b'\\' || byte < 0x20 || (dots && byte == b'.') {
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
        self.push(
            Kind::Number,
            start,
            if verbatim { VERBATIM | LIVE } else { LIVE },
        );
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
        &self.text[n.start as usize..n.end as usize]
    }

    /// Fails when the keys from `first` on (one object's) repeat one.
    fn distinct_keys(&self, first: usize) -> Result<(), Unusual> {
        let keys = &self.keys[first..];
        let same = |(fa, a): &(u64, usize), (fb, b): &(u64, usize)| {
            fa == fb && self.node_bytes(*a) == self.node_bytes(*b)
        };
        let repeated = if keys.len() <= PAIRWISE_KEYS {
            keys.iter()
                .enumerate()
                .any(|(i, a)| keys[i + 1..].iter().any(|b| same(a, b)))
        } else {
            let mut seen = FxHashSet::default();
            !keys
                .iter()
                .all(|&(_, key)| seen.insert(self.node_bytes(key)))
        };
        if repeated {
            return Err(Unusual);
        }
        Ok(())
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `word`; the lowest is exact (bits
/// above it may be false alarms).
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The high bit of each byte of `word` that is `"`, `\` or below 0x20; the
/// lowest such bit is exact (bits above it may be false alarms).
fn special_bytes(word: u64) -> u64 {
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// A cheap summary of a key's text (its length and the bytes inside each
/// quote): keys with different fingerprints differ.
fn fingerprint(key: &[u8]) -> u64 {
    let byte = |i: usize| key.get(i).map_or(0, |&b| u64::from(b));
    key.len() as u64 | byte(1) << 32 | byte(key.len().saturating_sub(2)) << 40
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_finds_the_first_quote_backslash_or_control() {
        let at = |text: &[u8; 8]| special_bytes(u64::from_le_bytes(*text)).trailing_zeros() / 8;
        assert_eq!(at(b"abcdefgh"), 8);
        assert_eq!(at(b"abc\"efgh"), 3);
        assert_eq!(at(b"\\bcdefgh"), 0);
        assert_eq!(at(b"abcdefg\x1f"), 7);
        assert_eq!(at(b"\xc3\xa9\x7f !~\x20\x01"), 7);
    }

    /// Keys whose fingerprints match are told apart by their text.
    #[test]
    fn repeats_are_keys_of_the_same_text() {
        assert_eq!(fingerprint(b"\"name\""), fingerprint(b"\"nome\""));
        assert!(scan(r#"{"name":1,"nome":2,"x":{"name":3}}"#).is_ok());
        assert!(scan(r#"{"name":1,"nome":2,"name":3}"#).is_err());
        assert!(scan(r#"{"x":{"name":1,"nome":2,"name":3}}"#).is_err());
    }
}
