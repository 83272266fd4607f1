//! JSON text read byte by byte, without parsing it: which bytes stand
//! inside strings, so that brackets and quotes there are not mistaken for
//! structure. Used where a document must be measured or cut before (or
//! instead of) being parsed: framing, depth limits, cut-short responses.

/// The text with every `\u` escape of half a surrogate pair standing
/// alone written `\ufffd`; `None` when it has none.
///
/// Elasticsearch takes such a document (issue #9538, "won't fix"): Jackson
/// reads the lone half, and Lucene indexes it as U+FFFD. serde_json
/// refuses the whole document, which would let anyone who writes one
/// string field of an event hide the event from every rule. The
/// replacement is as long as what it replaces, so every place in the text
/// (an error's column, a value's span) stays where it was.
pub fn lone_surrogates_replaced(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut lone: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(i) = bytes.get(at..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let i = at + i;
        // An escape is the backslash and the byte after it (`\\` too).
        at = i + 2;
        if bytes.get(i + 1) != Some(&b'u') {
            continue;
        }
        let Some(u) = hex4(bytes, i + 2) else {
            continue;
        };
        at = i + 6;
        match u {
            0xD800..=0xDBFF => {
                let low = (bytes.get(i + 6..i + 8) == Some(b"\\u"))
                    .then(|| hex4(bytes, i + 8))
                    .flatten();
                match low {
                    Some(0xDC00..=0xDFFF) => at = i + 12,
                    _ => lone.push(i),
                }
            }
            0xDC00..=0xDFFF => lone.push(i),
            _ => {}
        }
    }
    if lone.is_empty() {
        return None;
    }
    let mut out = text.as_bytes().to_vec();
    for i in lone {
        out[i..i + 6].copy_from_slice(b"\\ufffd");
    }
    // Only ASCII bytes of escapes were replaced by ASCII bytes.
    String::from_utf8(out).ok()
}

/// The four hex digits at `at` of a `\u` escape, as a UTF-16 code unit;
/// `None` when they are not four hex digits.
#[inline]
pub(crate) fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at.checked_add(4)?)?;
    let mut unit = 0u16;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        unit = unit << 4 | u16::from(v);
    }
    Some(unit)
}

/// Where the bytes read so far leave the text: inside a string or not.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strings {
    in_str: bool,
    escaped: bool,
}

/// What one byte is, given the bytes before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Byte {
    /// Structure or a bare value: outside every string.
    Outside,
    /// The quote that opens a string.
    Opens,
    /// A byte of a string's contents (escapes included).
    Inside,
    /// The quote that closes a string.
    Closes,
}

impl Strings {
    /// Whether the bytes read so far end inside a string.
    pub(crate) fn inside(&self) -> bool {
        self.in_str
    }

    #[inline]
    pub(crate) fn step(&mut self, b: u8) -> Byte {
        if !self.in_str {
            if b == b'"' {
                self.in_str = true;
                return Byte::Opens;
            }
            return Byte::Outside;
        }
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_str = false;
            return Byte::Closes;
        }
        Byte::Inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lone_surrogate_escapes_are_replaced_in_place() {
        let fixed = |t: &str| lone_surrogates_replaced(t);
        assert_eq!(
            fixed(r#"{"m":"x \ud800"}"#).as_deref(),
            Some(r#"{"m":"x \ufffd"}"#)
        );
        assert_eq!(
            fixed(r#"{"m":"\uDC00\ud83d"}"#).as_deref(),
            Some(r#"{"m":"\ufffd\ufffd"}"#)
        );
        // A high half followed by a non-low escape: only the high one.
        assert_eq!(
            fixed(r#"["\ud800\u0041"]"#).as_deref(),
            Some(r#"["\ufffd\u0041"]"#)
        );
        // Pairs, other escapes, an escaped backslash before `ud800`, a
        // cut-short escape and a trailing backslash are left alone.
        for kept in [
            r#"{"m":"\ud83d\ude00"}"#,
            r#"{"m":"\u00e9 \n \\"}"#,
            r#"{"m":"\\ud800"}"#,
            r#"{"m":"\ud8"#,
            "\\",
            "\\",
            "",
        ] {
            assert_eq!(fixed(kept), None, "{kept}");
        }
        let t = r#"{"a":"\ud800","b":1}"#;
        assert_eq!(fixed(t).map(|f| f.len()), Some(t.len()));
    }

    #[test]
    fn quotes_and_brackets_inside_strings_are_contents() {
        let text = br#"{"a\"[":"}\\"}"#;
        let mut s = Strings::default();
        let kinds: Vec<Byte> = text.iter().map(|&b| s.step(b)).collect();
        use Byte::*;
        assert_eq!(
            kinds,
            [
                Outside, Opens, Inside, Inside, Inside, Inside, Closes, Outside, Opens, Inside,
                Inside, Inside, Closes, Outside
            ]
        );
    }
}
