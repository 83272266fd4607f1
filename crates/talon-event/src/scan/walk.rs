//! The JSON grammar, twice: a recursive walk of the objects and arrays the
//! catalog looks into (keys compared, scalars checked as the flattener reads
//! them, kept leaves noted), and a loop that skips every other value while
//! still checking it as serde_json checks what it skips.
//!
//! The split mirrors the flattener's: serde_json validates a value it
//! skips (syntax, string escapes, control characters) but does not parse
//! its numbers, pair its surrogates or compare its keys, and neither does
//! the skipping loop here. The depth limit applies to both, counted over
//! the whole document.

use crate::catalog::{key_hash, FieldCatalog, NodeId, ROOT};
use crate::flatten::MAX_DEPTH;

use super::{number_value, Fallback, RawDoc, TokenKind};

type Step = Result<(), Fallback>;

/// Most arrays and objects open at once.
const MAX_OPEN: u32 = MAX_DEPTH as u32;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = ONES * 0x80;

/// Scans one document into `doc`.
pub(super) fn document(line: &[u8], cat: &FieldCatalog, doc: &mut RawDoc) -> Step {
    let mut w = Walk {
        line,
        pos: 0,
        cat,
        doc,
        high: HIGHS,
        non_ascii: false,
    };
    w.ws();
    w.expect(b'{')?;
    w.object(ROOT, 1)?;
    w.ws();
    if w.pos != line.len() {
        return Err(Fallback);
    }
    // Bytes above 0x7f can only stand inside strings (the grammar refuses
    // them elsewhere), and the string loop notes the first one: an ASCII
    // line needs no second look.
    if w.non_ascii && std::str::from_utf8(line).is_err() {
        return Err(Fallback);
    }
    Ok(())
}

struct Walk<'a> {
    line: &'a [u8],
    pos: usize,
    cat: &'a FieldCatalog,
    doc: &'a mut RawDoc,
    /// The bits that flag a non-ASCII byte in a string: `HIGHS` until the
    /// first one is seen, then 0 (the whole line is checked at the end).
    high: u64,
    non_ascii: bool,
}

impl Walk<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.line.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, b: u8) -> Step {
        if self.line.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Step {
        if self.line.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// The members of an object at `node`, whose `{` was just read;
    /// `depth` counts it.
    fn object(&mut self, node: NodeId, depth: u32) -> Step {
        self.ws();
        if self.line.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mark = self.doc.keys.len();
        loop {
            self.expect(b'"')?;
            let start = self.pos;
            // An escaped key would have to be unescaped to be compared and
            // looked up: rare enough to leave to the flattener.
            if self.string(true)? {
                return Err(Fallback);
            }
            let line = self.line;
            let key = &line[start..self.pos - 1];
            let hash = key_hash(key);
            // Any two keys with one hash: the flattener looks closer, and
            // so must this line.
            if self.doc.keys[mark..].contains(&hash) {
                return Err(Fallback);
            }
            self.doc.keys.push(hash);
            self.ws();
            self.expect(b':')?;
            self.ws();
            match self.cat.child(node, key, hash) {
                Some(child) => self.value(child, depth)?,
                // The empty key at the top level keeps the path `""`: its
                // members would land on top-level paths.
                None if node == ROOT && key.is_empty() => {
                    if self.cat.root_visited() {
                        return Err(Fallback);
                    }
                    self.skip(depth)?;
                }
                None if self.cat.kept_without_id(node, key) => return Err(Fallback),
                None => self.skip(depth)?,
            }
            self.ws();
            match self.line.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(Fallback),
            }
        }
        self.doc.keys.truncate(mark);
        Ok(())
    }

    /// The elements of an array at `node`, whose `[` was just read: each
    /// lands on the array's own path.
    fn array(&mut self, node: NodeId, depth: u32) -> Step {
        self.ws();
        if self.line.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(node, depth)?;
            self.ws();
            match self.line.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Fallback),
            }
        }
    }

    /// One value at `node`, read as the flattener reads it; `depth` arrays
    /// and objects are open around it.
    fn value(&mut self, node: NodeId, depth: u32) -> Step {
        let field = self.cat.field_of(node);
        let start = self.pos;
        let kind = match self.line.get(start) {
            Some(b'"') => {
                self.pos += 1;
                let escaped = self.string(true)?;
                if let Some(id) = field {
                    let kind = match escaped {
                        true => TokenKind::EscapedStr,
                        false => TokenKind::Str,
                    };
                    self.doc.push(id, kind, start + 1, self.pos - 1);
                }
                return Ok(());
            }
            Some(b'{') | Some(b'[') if depth >= MAX_OPEN => return Err(Fallback),
            Some(b'{') => {
                self.pos += 1;
                return self.object(node, depth + 1);
            }
            Some(b'[') => {
                self.pos += 1;
                return self.array(node, depth + 1);
            }
            Some(b't') => {
                self.literal(b"true")?;
                TokenKind::True
            }
            Some(b'f') => {
                self.literal(b"false")?;
                TokenKind::False
            }
            Some(b'n') => {
                self.literal(b"null")?;
                match field {
                    Some(id) if self.cat.null_value(id).is_some() => TokenKind::Null,
                    _ => return Ok(()),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                // serde_json refuses a number that overflows an f64 when it
                // parses one, which the flattener does here.
                if self.number()? && number_value(&self.line[start..self.pos]).is_none() {
                    return Err(Fallback);
                }
                TokenKind::Number
            }
            _ => return Err(Fallback),
        };
        if let Some(id) = field {
            self.doc.push(id, kind, start, self.pos);
        }
        Ok(())
    }

    /// Skips one value that nothing kept lies in, checking it as serde_json
    /// checks a value it ignores; `depth` arrays and objects are open
    /// around it. A loop with a bit per open container (1: array), so
    /// skipping never recurses.
    fn skip(&mut self, depth: u32) -> Step {
        let mut arrays: u128 = 0;
        let mut open: u32 = 0;
        'value: loop {
            match self.line.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    self.string(false)?;
                }
                Some(b'{') | Some(b'[') if depth + open >= MAX_OPEN => return Err(Fallback),
                Some(b'{') => {
                    self.pos += 1;
                    open += 1;
                    arrays &= !(1 << open);
                    self.ws();
                    if self.line.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        open -= 1;
                    } else {
                        self.member_key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    open += 1;
                    arrays |= 1 << open;
                    self.ws();
                    if self.line.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        open -= 1;
                    } else {
                        continue 'value;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                _ => return Err(Fallback),
            }
            // After a value: close containers until one continues.
            loop {
                if open == 0 {
                    return Ok(());
                }
                self.ws();
                let in_array = arrays >> open & 1 == 1;
                match (self.line.get(self.pos), in_array) {
                    (Some(b','), false) => {
                        self.pos += 1;
                        self.ws();
                        self.member_key()?;
                        continue 'value;
                    }
                    (Some(b','), true) => {
                        self.pos += 1;
                        self.ws();
                        continue 'value;
                    }
                    (Some(b'}'), false) | (Some(b']'), true) => {
                        self.pos += 1;
                        open -= 1;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
    }

    /// `"key" :` of a skipped object, up to its value.
    fn member_key(&mut self) -> Step {
        self.expect(b'"')?;
        self.string(false)?;
        self.ws();
        self.expect(b':')?;
        self.ws();
        Ok(())
    }

    /// Moves past a string whose opening quote was just read; returns
    /// whether it had escapes. `strict` checks escapes as serde_json does
    /// for a string it parses (surrogates must pair); otherwise as for one
    /// it ignores (any four hex digits).
    #[inline]
    fn string(&mut self, strict: bool) -> Result<bool, Fallback> {
        let line = self.line;
        let mut pos = self.pos;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the next quote, backslash, control
            // byte or (until one was seen) non-ASCII byte.
            while let Some(chunk) = line.get(pos..).and_then(|r| r.first_chunk::<8>()) {
                let stops = stops(u64::from_le_bytes(*chunk), self.high);
                if stops != 0 {
                    pos += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                pos += 8;
            }
            while let Some(&b) = line.get(pos) {
                if b == b'"' || b == b'\\' || b < 0x20 || (b >= 0x80 && self.high != 0) {
                    break;
                }
                pos += 1;
            }
            match line.get(pos) {
                Some(b'"') => {
                    self.pos = pos + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    pos = escape(line, pos + 1, strict)?;
                }
                Some(0x80..) => {
                    self.non_ascii = true;
                    self.high = 0;
                    pos += 1;
                }
                // A control byte, or the end of the line.
                _ => return Err(Fallback),
            }
        }
    }

    /// Moves past a number (JSON syntax); returns whether it may lie
    /// outside an `f64`'s range (an exponent, or more than 300 integer
    /// digits), which only parsing it can tell.
    fn number(&mut self) -> Result<bool, Fallback> {
        let line = self.line;
        let mut pos = self.pos;
        if line.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let int_start = pos;
        match line.get(pos) {
            Some(b'0') => pos += 1,
            Some(b'1'..=b'9') => pos = digits(line, pos + 1),
            _ => return Err(Fallback),
        }
        let long = pos - int_start > 300;
        if line.get(pos) == Some(&b'.') {
            let from = pos + 1;
            pos = digits(line, from);
            if pos == from {
                return Err(Fallback);
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = line.get(pos) {
            exponent = true;
            pos += 1;
            if let Some(b'+' | b'-') = line.get(pos) {
                pos += 1;
            }
            let from = pos;
            pos = digits(line, from);
            if pos == from {
                return Err(Fallback);
            }
        }
        self.pos = pos;
        Ok(long || exponent)
    }
}

/// The bytes of `w` (eight bytes of a string, little-endian) where a scan
/// must stop, as their high bits: `"`, `\`, below 0x20, and, when `high`
/// is `HIGHS`, above 0x7f. Only the lowest flag is exact (a borrow may
/// flag bytes above a stop), which is the only one used.
#[inline]
fn stops(w: u64, high: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash | (w & high)) & HIGHS
}

#[inline]
fn digits(line: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = line.get(pos) {
        pos += 1;
    }
    pos
}

/// Moves past the escape whose backslash ends just before `at`.
#[inline]
fn escape(line: &[u8], at: usize, strict: bool) -> Result<usize, Fallback> {
    match line.get(at) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 1),
        Some(b'u') => {
            let unit = hex4(line, at + 1)?;
            if !strict {
                return Ok(at + 5);
            }
            match unit {
                0xDC00..=0xDFFF => Err(Fallback),
                0xD800..=0xDBFF => {
                    if line.get(at + 5..at + 7) != Some(b"\\u") {
                        return Err(Fallback);
                    }
                    match hex4(line, at + 7)? {
                        0xDC00..=0xDFFF => Ok(at + 11),
                        _ => Err(Fallback),
                    }
                }
                _ => Ok(at + 5),
            }
        }
        _ => Err(Fallback),
    }
}

/// The four hex digits at `at`, as a UTF-16 code unit.
pub(super) fn hex4(line: &[u8], at: usize) -> Result<u16, Fallback> {
    let digits = line.get(at..at + 4).ok_or(Fallback)?;
    let mut unit = 0u16;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(Fallback),
        };
        unit = unit << 4 | u16::from(v);
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_finds_the_first_special_byte() {
        let cases: &[(&[u8; 8], u32)] = &[
            (b"abcdefgh", 8),
            (b"abc\"efgh", 3),
            (b"\\bcdefgh", 0),
            (b"abcdefg\x1f", 7),
            (b"ab\x00\"efgh", 2),
            (b"a\xc3\xa9defgh", 1),
            // A borrow out of a control byte must not hide it.
            (b"\x00 \"     ", 0),
        ];
        for (bytes, want) in cases {
            let s = stops(u64::from_le_bytes(**bytes), HIGHS);
            let got = if s == 0 { 8 } else { s.trailing_zeros() / 8 };
            assert_eq!(got, *want, "{bytes:?}");
        }
        let w = u64::from_le_bytes(*b"a\xc3\xa9defgh");
        assert_eq!(stops(w, 0), 0);
    }

    #[test]
    fn escapes_are_checked_strictly_only_where_parsed() {
        let lone = br#"\ud800x"#;
        assert_eq!(escape(lone, 1, false), Ok(6));
        assert_eq!(escape(lone, 1, true), Err(Fallback));
        let pair = br#"\ud83d\ude00"#;
        assert_eq!(escape(pair, 1, true), Ok(12));
        assert_eq!(escape(br#"\udc00"#, 1, true), Err(Fallback));
        assert_eq!(escape(br#"\x"#, 1, false), Err(Fallback));
        assert_eq!(escape(br#"\u12"#, 1, false), Err(Fallback));
    }
}
