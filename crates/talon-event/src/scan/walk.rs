//! The JSON grammar, twice: a walk of the objects and arrays the catalog
//! looks into (keys compared, scalars checked as the flattener reads them,
//! kept leaves noted), and a loop that skips every other value while still
//! checking it as the flattener checks what it skips.
//!
//! The split mirrors the flattener's: a skipped value is held to the same
//! rules as a read one (syntax, string escapes and control characters,
//! surrogates that pair, numbers an `f64` can hold), so that a document is
//! refused or read alike whichever fields the rules read; only its keys
//! are not compared. The depth limit applies to both, counted over the
//! whole document.
//!
//! The walk also declines documents the reader may unwrap rather than read
//! as one event (a top-level `hits`, `_source`, `_index`, `events`,
//! `expected`, or an esArchiver `type`): those go the reader's own way.
//!
//! Both are loops with an explicit stack rather than recursive functions:
//! nesting costs no calls, and the position stays in a register. Helpers
//! take the position and return the next one.

use crate::catalog::{key_hash, key_head, key_tail, Child, FieldCatalog, ROOT};
use crate::flatten::MAX_DEPTH;
use crate::json_text::hex4;

use super::{number_value, Fallback, RawDoc, TokenKind};

/// Most keys of one object checked for a repeat by comparing hashes; an
/// object with more is left to the flattener, which keeps a map.
const MAX_KEYS_COMPARED: usize = 256;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = ONES * 0x80;

/// An array or object open in the walk.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    /// Where the array or object stands.
    at: Child,
    array: bool,
    /// Where this object's key hashes start in `RawDoc::keys`.
    keys: u32,
    /// A bit per key hash seen in this object (chosen by the hash's top six
    /// bits): a new key whose bit is clear needs no comparison.
    seen: u64,
}

/// Scans one document into `doc`.
pub(super) fn document(line: &[u8], cat: &FieldCatalog, doc: &mut RawDoc) -> Result<(), Fallback> {
    let mut w = Walk {
        line,
        cat,
        doc,
        high: HIGHS,
        non_ascii: false,
    };
    let pos = ws(line, 0);
    if line.get(pos) != Some(&b'{') {
        return Err(Fallback);
    }
    let end = w.walk(pos + 1)?;
    if ws(line, end) != line.len() {
        return Err(Fallback);
    }
    // Bytes above 0x7f can only stand inside strings (the grammar refuses
    // them elsewhere), and the string scan notes the first one: an ASCII
    // line needs no second look.
    if w.non_ascii && simdutf8::basic::from_utf8(line).is_err() {
        return Err(Fallback);
    }
    Ok(())
}

struct Walk<'a> {
    line: &'a [u8],
    cat: &'a FieldCatalog,
    doc: &'a mut RawDoc,
    /// The bits that flag a non-ASCII byte in the word-at-a-time string
    /// loop: `HIGHS` until the first one is seen, then 0 (the whole line is
    /// checked at the end, so later ones need no stop).
    high: u64,
    non_ascii: bool,
}

/// The first byte at or after `pos` that is not JSON whitespace. Most
/// lines have none between tokens, so one comparison usually settles it.
/// Whether a top-level member makes the document one the reader may
/// unwrap rather than an event (a search response's `hits`, a hit's
/// `_source` or `_index`, a test file's `events` or `expected`, an
/// esArchiver record's `type`): such lines go to the reader's own path,
/// which decides. `value` is the text from the member's value on.
fn wrapper_key(key: &[u8], value: &[u8]) -> bool {
    match key {
        b"hits" | b"_source" | b"_index" | b"events" | b"expected" => true,
        b"type" => [&b"\"doc\""[..], b"\"index\"", b"\"data_stream\""]
            .iter()
            .any(|t| value.starts_with(t)),
        _ => false,
    }
}

#[inline(always)]
fn ws(line: &[u8], pos: usize) -> usize {
    match line.get(pos) {
        Some(&b) if b > b' ' => pos,
        _ => ws_loop(line, pos),
    }
}

fn ws_loop(line: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = line.get(pos) {
        pos += 1;
    }
    pos
}

impl Walk<'_> {
    /// The walk over what the catalog looks into, from just after the
    /// top-level `{`; returns the position just after its `}`.
    fn walk(&mut self, mut pos: usize) -> Result<usize, Fallback> {
        let line = self.line;
        pos = ws(line, pos);
        if line.get(pos) == Some(&b'}') {
            return Ok(pos + 1);
        }
        self.doc.frames.push(Frame {
            at: Child {
                node: ROOT,
                field: None,
            },
            array: false,
            keys: 0,
            seen: 0,
        });
        'member: loop {
            // At a member's key, in the object on top of the stack.
            let object = self.top()?;
            if line.get(pos) != Some(&b'"') {
                return Err(Fallback);
            }
            let end = self.key(pos + 1)?;
            let key = line.get(pos + 1..end - 1).ok_or(Fallback)?;
            let head = head_at(line, pos + 1, key.len());
            let tail = match key.len() {
                0..=8 => 0,
                _ => word_at(line, end - 9).unwrap_or_else(|| key_tail(key)),
            };
            let found = self.cat.child(object.at.node, key, head, tail);
            self.note_key(match found {
                Some((_, hash)) => hash,
                None => key_hash(key),
            })?;
            pos = ws(line, end);
            if line.get(pos) != Some(&b':') {
                return Err(Fallback);
            }
            pos = ws(line, pos + 1);
            if object.at.node == ROOT && wrapper_key(key, line.get(pos..).unwrap_or_default()) {
                return Err(Fallback);
            }
            let mut next = match found {
                Some((child, _)) => Some(child),
                None => {
                    if object.at.node == ROOT && key.is_empty() {
                        // The empty key at the top level keeps the path
                        // `""`: its members would land on top-level paths.
                        if self.cat.root_visited() {
                            return Err(Fallback);
                        }
                    } else if self.cat.kept_without_id(object.at.node, key, head) {
                        return Err(Fallback);
                    }
                    pos = self.skip(pos, self.doc.frames.len())?;
                    None
                }
            };
            'value: loop {
                if let Some(at) = next {
                    // A value at `at`, read as the flattener reads it.
                    let field = at.field;
                    let start = pos;
                    let kind = match line.get(pos) {
                        Some(b'"') => {
                            let (end, escaped) = self.string(pos + 1)?;
                            pos = end;
                            match escaped {
                                false => TokenKind::Str,
                                true => TokenKind::EscapedStr,
                            }
                        }
                        Some(b'{' | b'[') if self.doc.frames.len() >= MAX_DEPTH => {
                            return Err(Fallback);
                        }
                        Some(&open @ (b'{' | b'[')) => {
                            let array = open == b'[';
                            pos = ws(line, pos + 1);
                            match line.get(pos) {
                                Some(b'}') if !array => pos += 1,
                                Some(b']') if array => pos += 1,
                                _ => {
                                    let keys = self.doc.keys.len() as u32;
                                    self.doc.frames.push(Frame {
                                        at,
                                        array,
                                        keys,
                                        seen: 0,
                                    });
                                    if array {
                                        continue 'value;
                                    }
                                    continue 'member;
                                }
                            }
                            next = None;
                            continue 'value;
                        }
                        Some(b't') => {
                            pos = literal(line, pos, b"true")?;
                            TokenKind::True
                        }
                        Some(b'f') => {
                            pos = literal(line, pos, b"false")?;
                            TokenKind::False
                        }
                        Some(b'n') => {
                            pos = literal(line, pos, b"null")?;
                            match field {
                                Some(id) if self.cat.null_value(id).is_some() => TokenKind::Null,
                                _ => {
                                    next = None;
                                    continue 'value;
                                }
                            }
                        }
                        Some(b'-' | b'0'..=b'9') => {
                            pos = checked_number(line, pos)?;
                            TokenKind::Number
                        }
                        _ => return Err(Fallback),
                    };
                    if let Some(id) = field {
                        let (from, to) = match kind {
                            TokenKind::Str | TokenKind::EscapedStr => (start + 1, pos - 1),
                            _ => (start, pos),
                        };
                        self.doc.push(id, kind, from, to);
                    }
                }
                // After a value: close arrays and objects until one goes on.
                loop {
                    pos = ws(line, pos);
                    let top = self.top()?;
                    match (line.get(pos), top.array) {
                        (Some(b','), true) => {
                            pos = ws(line, pos + 1);
                            next = Some(top.at);
                            continue 'value;
                        }
                        (Some(b','), false) => {
                            pos = ws(line, pos + 1);
                            continue 'member;
                        }
                        (Some(b']'), true) => {}
                        (Some(b'}'), false) => self.doc.keys.truncate(top.keys as usize),
                        _ => return Err(Fallback),
                    }
                    pos += 1;
                    self.doc.frames.pop();
                    if self.doc.frames.is_empty() {
                        return Ok(pos);
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn top(&self) -> Result<Frame, Fallback> {
        self.doc.frames.last().copied().ok_or(Fallback)
    }

    /// Notes a key of the object on top of the stack; `Err` if a key with
    /// the same hash came before it there. The flattener then looks
    /// closer, and so must this line.
    ///
    /// Past [`MAX_KEYS_COMPARED`] keys in one object the line goes to the
    /// flattener too: once the 64-bit filter is full, every key would be
    /// compared with every earlier one, and a line of 300,000 keys took
    /// minutes.
    #[inline(always)]
    fn note_key(&mut self, hash: u64) -> Result<(), Fallback> {
        let Some(object) = self.doc.frames.last_mut() else {
            return Err(Fallback);
        };
        let bit = 1u64 << (hash >> 58);
        if object.seen & bit != 0 {
            let earlier = self.doc.keys.get(object.keys as usize..).unwrap_or(&[]);
            if earlier.len() > MAX_KEYS_COMPARED || earlier.contains(&hash) {
                return Err(Fallback);
            }
        }
        object.seen |= bit;
        self.doc.keys.push(hash);
        Ok(())
    }

    /// Skips one value that nothing kept lies in, from its first byte,
    /// checking it as serde_json checks a value it ignores; `open` arrays
    /// and objects are open around it. Returns the position after it. A
    /// bit per container opened here (1: array) stands for the stack; the
    /// innermost one's bit is also kept apart, where the loop reads it.
    fn skip(&mut self, mut pos: usize, open: usize) -> Result<usize, Fallback> {
        let line = self.line;
        let mut outer: u128 = 0;
        let mut in_array = false;
        let mut depth: usize = 0;
        'value: loop {
            match line.get(pos) {
                Some(b'"') => pos = self.string(pos + 1)?.0,
                Some(b'{' | b'[') if open + depth >= MAX_DEPTH => return Err(Fallback),
                Some(&b @ (b'{' | b'[')) => {
                    let array = b == b'[';
                    pos = ws(line, pos + 1);
                    match line.get(pos) {
                        Some(b'}') if !array => pos += 1,
                        Some(b']') if array => pos += 1,
                        _ => {
                            outer = outer << 1 | u128::from(in_array);
                            in_array = array;
                            depth += 1;
                            if !array {
                                pos = self.member_key(pos)?;
                            }
                            continue 'value;
                        }
                    }
                }
                Some(b't') => pos = literal(line, pos, b"true")?,
                Some(b'f') => pos = literal(line, pos, b"false")?,
                Some(b'n') => pos = literal(line, pos, b"null")?,
                Some(b'-' | b'0'..=b'9') => pos = checked_number(line, pos)?,
                _ => return Err(Fallback),
            }
            // After a value: close containers until one goes on.
            loop {
                if depth == 0 {
                    return Ok(pos);
                }
                pos = ws(line, pos);
                match (line.get(pos), in_array) {
                    (Some(b','), false) => {
                        pos = self.member_key(ws(line, pos + 1))?;
                        continue 'value;
                    }
                    (Some(b','), true) => {
                        pos = ws(line, pos + 1);
                        continue 'value;
                    }
                    (Some(b'}'), false) | (Some(b']'), true) => {
                        pos += 1;
                        depth -= 1;
                        in_array = outer & 1 == 1;
                        outer >>= 1;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
    }

    /// `"key" :` of a skipped object, up to its value.
    fn member_key(&mut self, pos: usize) -> Result<usize, Fallback> {
        if self.line.get(pos) != Some(&b'"') {
            return Err(Fallback);
        }
        let pos = ws(self.line, self.string(pos + 1)?.0);
        if self.line.get(pos) != Some(&b':') {
            return Err(Fallback);
        }
        Ok(ws(self.line, pos + 1))
    }

    /// Moves past a key of an object the walk looks into, whose contents
    /// start at `pos`; returns the position after its closing quote. An
    /// escaped key would have to be unescaped to be compared and looked
    /// up: rare enough to leave to the flattener.
    #[inline(always)]
    fn key(&mut self, mut pos: usize) -> Result<usize, Fallback> {
        let line = self.line;
        while let Some(stop) = first_stop16(line, pos) {
            pos += stop;
            if stop < 16 {
                if line.get(pos) == Some(&b'"') {
                    return Ok(pos + 1);
                }
                break;
            }
        }
        match self.string_rest(pos)? {
            (end, false) => Ok(end),
            (_, true) => Err(Fallback),
        }
    }

    /// Moves past a string whose contents start at `pos`; returns the
    /// position after its closing quote and whether it had escapes.
    /// Escapes are checked as serde_json does for a string it parses
    /// (surrogates must pair).
    ///
    /// Most strings are short and plain: sixteen bytes at a time to the
    /// closing quote, inlined where it is called. Anything else (an
    /// escape, a non-ASCII or control byte, the last bytes of the line)
    /// goes to the out-of-line loop that handles every case.
    #[inline(always)]
    fn string(&mut self, mut pos: usize) -> Result<(usize, bool), Fallback> {
        let line = self.line;
        while let Some(stop) = first_stop16(line, pos) {
            pos += stop;
            if stop < 16 {
                if line.get(pos) == Some(&b'"') {
                    return Ok((pos + 1, false));
                }
                break;
            }
        }
        self.string_rest(pos)
    }

    /// The rest of a string from `pos`, whatever it holds.
    #[inline(never)]
    fn string_rest(&mut self, mut pos: usize) -> Result<(usize, bool), Fallback> {
        let line = self.line;
        let mut escaped = false;
        loop {
            while let Some(word) = word_at(line, pos) {
                let stops = stops(word, self.high);
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
                Some(b'"') => return Ok((pos + 1, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    pos = escape(line, pos + 1)?;
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
}

/// Where, in the sixteen bytes at `pos`, a string scan must first stop:
/// at `"`, `\`, below 0x20 or above 0x7f (16: nowhere). `None` when fewer
/// than sixteen bytes are left.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn first_stop16(line: &[u8], pos: usize) -> Option<usize> {
    let bytes = line.get(pos..)?.first_chunk::<16>()?;
    // SAFETY: `stops_sse2` needs SSE2, which every x86_64 processor has
    // (it is part of the target's baseline), and sixteen readable bytes,
    // which `bytes` is. Measured: this instead of two SWAR words takes 15%
    // off the instructions of the whole scan.
    let mask = unsafe { stops_sse2(bytes) };
    Some(mask.trailing_zeros().min(16) as usize)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn stops_sse2(bytes: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: `bytes` is sixteen readable bytes, and `loadu` takes any
    // alignment.
    let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) };
    let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
    let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
    // Signed: below 0x20 and also 0x80 and above, which are negative.
    let control_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    _mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(quote, backslash),
        control_or_high,
    )) as u32
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn first_stop16(line: &[u8], pos: usize) -> Option<usize> {
    first_stop16_swar(line, pos)
}

/// [`first_stop16`] as two SWAR words, where SSE2 is not at hand.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn first_stop16_swar(line: &[u8], pos: usize) -> Option<usize> {
    let (lo, hi) = (word_at(line, pos)?, word_at(line, pos + 8)?);
    let (lo, hi) = (stops(lo, HIGHS), stops(hi, HIGHS));
    Some(match (lo, hi) {
        (0, 0) => 16,
        (0, _) => 8 + (hi.trailing_zeros() / 8) as usize,
        _ => (lo.trailing_zeros() / 8) as usize,
    })
}

/// [`key_head`] of the key of `len` bytes at `start`, from one load where
/// the line has eight bytes there (it nearly always has: a key is followed
/// by at least `":` and a value).
#[inline(always)]
fn head_at(line: &[u8], start: usize, len: usize) -> u64 {
    match word_at(line, start) {
        Some(word) if len >= 8 => word,
        Some(word) => word & ((1u64 << (8 * len)) - 1),
        None => key_head(line.get(start..start + len).unwrap_or(&[])),
    }
}

/// The eight bytes at `pos` as a little-endian word, if there are eight.
#[inline(always)]
fn word_at(line: &[u8], pos: usize) -> Option<u64> {
    let bytes = line.get(pos..)?.first_chunk::<8>()?;
    Some(u64::from_le_bytes(*bytes))
}

/// The bytes of `w` (eight bytes of a string, little-endian) where a scan
/// must stop, as their high bits: `"`, `\`, below 0x20, and, when `high`
/// is `HIGHS`, above 0x7f. Only the lowest flag is exact (a borrow may
/// flag bytes above a stop), which is the only one used.
#[inline(always)]
fn stops(w: u64, high: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash | (w & high)) & HIGHS
}

#[inline(always)]
fn literal(line: &[u8], pos: usize, word: &[u8]) -> Result<usize, Fallback> {
    match line.get(pos..pos + word.len()) {
        Some(w) if w == word => Ok(pos + word.len()),
        _ => Err(Fallback),
    }
}

/// Moves past a number (JSON syntax) at `pos`; returns the position after
/// it and whether it may lie outside an `f64`'s range (an exponent, or
/// more than 300 integer digits), which only parsing it can tell.
#[inline]
fn number(line: &[u8], mut pos: usize) -> Result<(usize, bool), Fallback> {
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
    Ok((pos, long || exponent))
}

/// [`number`], refusing one that overflows an `f64`, as serde_json does
/// when it parses one (and so the flattener, read or skipped).
#[inline]
fn checked_number(line: &[u8], pos: usize) -> Result<usize, Fallback> {
    let (end, check) = number(line, pos)?;
    if check && number_value(line.get(pos..end).ok_or(Fallback)?).is_none() {
        return Err(Fallback);
    }
    Ok(end)
}

#[inline(always)]
fn digits(line: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = line.get(pos) {
        pos += 1;
    }
    pos
}

/// Moves past the escape whose backslash ends just before `at`.
fn escape(line: &[u8], at: usize) -> Result<usize, Fallback> {
    match line.get(at) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 1),
        Some(b'u') => match hex4(line, at + 1).ok_or(Fallback)? {
            0xDC00..=0xDFFF => Err(Fallback),
            0xD800..=0xDBFF => {
                if line.get(at + 5..at + 7) != Some(b"\\u") {
                    return Err(Fallback);
                }
                match hex4(line, at + 7).ok_or(Fallback)? {
                    0xDC00..=0xDFFF => Ok(at + 11),
                    _ => Err(Fallback),
                }
            }
            _ => Ok(at + 5),
        },
        _ => Err(Fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_are_declined_at_the_top_level_only() {
        let cat = FieldCatalog::new(["registry.value", "data_stream.type", "a"]);
        let scan = |text: &str| document(text.as_bytes(), &cat, &mut RawDoc::new()).is_ok();
        for wrapper in [
            r#"{"hits":{"hits":[]}}"#,
            r#"{"_index":"i","_id":"1"}"#,
            r#"{"_source":{"a":1}}"#,
            r#"{"a":1,"events":[{}]}"#,
            r#"{"expected":[]}"#,
            r#"{"type":"doc","value":{}}"#,
            r#"{"value":{},"type" : "data_stream"}"#,
            r#"{"type":"index"}"#,
        ] {
            assert!(!scan(wrapper), "{wrapper}");
        }
        for event in [
            r#"{"registry":{"value":"x"},"data_stream":{"type":"logs"}}"#,
            r#"{"b":{"hits":1,"_source":2,"type":"doc"},"_id":"1"}"#,
            r#"{"type":"docs","a":1}"#,
        ] {
            assert!(scan(event), "{event}");
        }
    }

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
    fn both_sixteen_byte_scans_stop_at_the_same_byte() {
        let alphabet = b"ab \"\\\x00\x1f\x7f\x80\xc3\xff{}:,";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut bytes = [0u8; 20];
            for b in &mut bytes {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = if (state & 3) == 0 {
                    alphabet[(state >> 8) as usize % alphabet.len()]
                } else {
                    b'a' + (state >> 16) as u8 % 26
                };
            }
            for pos in 0..6 {
                assert_eq!(
                    first_stop16(&bytes, pos),
                    first_stop16_swar(&bytes, pos),
                    "{bytes:?} at {pos}"
                );
            }
        }
    }

    #[test]
    fn escapes_are_checked_as_serde_json_parses_them() {
        assert_eq!(escape(br#"\ud800x"#, 1), Err(Fallback));
        assert_eq!(escape(br#"\ud83d\ude00"#, 1), Ok(12));
        assert_eq!(escape(br#"\udc00"#, 1), Err(Fallback));
        assert_eq!(escape(br#"\x"#, 1), Err(Fallback));
        assert_eq!(escape(br#"\u12"#, 1), Err(Fallback));
        assert_eq!(escape(br#"\u0041"#, 1), Ok(6));
    }

    /// A value no rule reads is held to the rules of a read one: numbers
    /// an `f64` holds, surrogates that pair (else the flattener decides,
    /// and refuses the line as a full read does).
    #[test]
    fn skipped_values_are_checked_as_read_ones() {
        let cat = FieldCatalog::new(["a"]);
        let scan = |text: &str| document(text.as_bytes(), &cat, &mut RawDoc::new()).is_ok();
        assert!(scan(r#"{"a":1,"z":[1e300,"\ud83d\ude00",{"k":-2}]}"#));
        for bad in [
            r#"{"a":1,"z":1e999}"#,
            r#"{"a":1,"z":[-1e400]}"#,
            r#"{"a":1,"z":{"y":"\udc00x"}}"#,
            r#"{"a":1,"z":{"\ud800":1}}"#,
        ] {
            assert!(!scan(bad), "{bad}");
        }
    }
}
