//! String-literal decoders that also return, for every byte of the decoded
//! string, the file byte it came from.
//!
//! A query error is found in the decoded query text, but it must be reported
//! at the file's line and column. The TOML and JSON parsers only give the
//! span of the whole literal, so these decoders re-read the literal and keep
//! the mapping: verbatim bytes map to themselves, every byte produced by an
//! escape maps to the escape's backslash, and the extra last entry maps
//! "one past the end" to the closing delimiter.
//!
//! The decoders never panic: malformed input yields `None` and the caller
//! falls back to a best-effort mapping.

/// Decoded text plus `offsets` (`offsets.len() == text.len() + 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub text: String,
    pub offsets: Vec<u32>,
}

impl Mapped {
    fn with_capacity(n: usize) -> Mapped {
        Mapped {
            text: String::with_capacity(n),
            offsets: Vec::with_capacity(n + 1),
        }
    }

    fn push_char(&mut self, c: char, at: usize) {
        let before = self.text.len();
        self.text.push(c);
        let o = to_u32(at);
        for _ in before..self.text.len() {
            self.offsets.push(o);
        }
    }

    /// Appends verbatim `src[from..to]`, whose bytes sit at `base + i`.
    fn push_verbatim(&mut self, src: &str, from: usize, to: usize, base: usize) {
        if let Some(s) = src.get(from..to) {
            self.text.push_str(s);
            self.offsets.extend((from..to).map(|i| to_u32(base + i)));
        }
    }

    fn finish(mut self, end: usize) -> Mapped {
        self.offsets.push(to_u32(end));
        self
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An identity mapping for `len` bytes starting at file byte `start`, used
/// when a literal cannot be re-read (it should not happen for text the
/// parser accepted, but a wrong-but-close position beats none).
pub(crate) fn identity_offsets(start: usize, len: usize) -> Vec<u32> {
    (0..=len).map(|i| to_u32(start + i)).collect()
}

/// Decodes a TOML string literal `raw` (delimiters included) that starts at
/// file byte `base`: `'...'`, `'''...'''`, `"..."` or `"""..."""`.
pub(crate) fn toml_string(raw: &str, base: usize) -> Option<Mapped> {
    let (delim, basic) = if raw.starts_with("'''") {
        ("'''", false)
    } else if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else if raw.starts_with('"') {
        ("\"", true)
    } else {
        return None;
    };
    let d = delim.len();
    if raw.len() < 2 * d || !raw.ends_with(delim) {
        return None;
    }
    let multiline = d == 3;
    let mut start = d;
    let end = raw.len() - d;
    // A newline right after the opening delimiter of a multi-line string is
    // trimmed by TOML; the first query byte is the one after it.
    if multiline {
        if raw[start..end].starts_with("\r\n") {
            start += 2;
        } else if raw[start..end].starts_with('\n') {
            start += 1;
        }
    }
    let mut out = Mapped::with_capacity(end.saturating_sub(start));
    if basic {
        decode_toml_basic(raw, start, end, base, multiline, &mut out)?;
    } else {
        decode_literal(raw, start, end, base, &mut out);
    }
    Some(out.finish(base + end))
}

/// Literal strings are verbatim except that a CRLF in a multi-line literal
/// reads as LF (the toml parser normalises it the same way).
fn decode_literal(raw: &str, start: usize, end: usize, base: usize, out: &mut Mapped) {
    let bytes = raw.as_bytes();
    let mut run = start;
    let mut i = start;
    while i < end {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') && i + 1 < end {
            out.push_verbatim(raw, run, i, base);
            out.push_char('\n', base + i);
            i += 2;
            run = i;
        } else {
            i += 1;
        }
    }
    out.push_verbatim(raw, run, end, base);
}

fn decode_toml_basic(
    raw: &str,
    start: usize,
    end: usize,
    base: usize,
    multiline: bool,
    out: &mut Mapped,
) -> Option<()> {
    let bytes = raw.as_bytes();
    let mut run = start;
    let mut i = start;
    while i < end {
        match bytes[i] {
            b'\\' => {
                out.push_verbatim(raw, run, i, base);
                let esc = *bytes.get(i + 1)?;
                let at = base + i;
                i += 2;
                match esc {
                    b'b' => out.push_char('\u{8}', at),
                    b't' => out.push_char('\t', at),
                    b'n' => out.push_char('\n', at),
                    b'f' => out.push_char('\u{c}', at),
                    b'r' => out.push_char('\r', at),
                    b'e' => out.push_char('\u{1b}', at),
                    b'"' => out.push_char('"', at),
                    b'\\' => out.push_char('\\', at),
                    b'x' => {
                        out.push_char(hex_char(raw.get(i..i + 2)?)?, at);
                        i += 2;
                    }
                    b'u' => {
                        out.push_char(hex_char(raw.get(i..i + 4)?)?, at);
                        i += 4;
                    }
                    b'U' => {
                        out.push_char(hex_char(raw.get(i..i + 8)?)?, at);
                        i += 8;
                    }
                    b' ' | b'\t' | b'\r' | b'\n' if multiline => {
                        // Line-ending backslash: the newline and all the
                        // whitespace after it vanish.
                        let mut j = i - 1;
                        while j < end && matches!(bytes[j], b' ' | b'\t') {
                            j += 1;
                        }
                        if j >= end || !matches!(bytes[j], b'\r' | b'\n') {
                            return None;
                        }
                        while j < end && matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n') {
                            j += 1;
                        }
                        i = j;
                    }
                    _ => return None,
                }
                run = i;
            }
            b'\r' if multiline && bytes.get(i + 1) == Some(&b'\n') => {
                out.push_verbatim(raw, run, i, base);
                out.push_char('\n', base + i);
                i += 2;
                run = i;
            }
            _ => i += 1,
        }
    }
    out.push_verbatim(raw, run, end, base);
    Some(())
}

fn hex_char(hex: &str) -> Option<char> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

/// Decodes a JSON string literal `raw` (quotes included) that starts at file
/// byte `base`. Surrogate pairs (`\ud83d\ude00`) decode to one character
/// mapped to the first escape; a lone surrogate reads as U+FFFD, as
/// serde_json does not accept it anyway.
pub(crate) fn json_string(raw: &str, base: usize) -> Option<Mapped> {
    if raw.len() < 2 || !raw.starts_with('"') || !raw.ends_with('"') {
        return None;
    }
    let bytes = raw.as_bytes();
    let end = raw.len() - 1;
    let mut out = Mapped::with_capacity(end);
    let mut run = 1;
    let mut i = 1;
    while i < end {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_verbatim(raw, run, i, base);
        let at = base + i;
        let esc = *bytes.get(i + 1)?;
        i += 2;
        match esc {
            b'"' => out.push_char('"', at),
            b'\\' => out.push_char('\\', at),
            b'/' => out.push_char('/', at),
            b'b' => out.push_char('\u{8}', at),
            b'f' => out.push_char('\u{c}', at),
            b'n' => out.push_char('\n', at),
            b'r' => out.push_char('\r', at),
            b't' => out.push_char('\t', at),
            b'u' => {
                let hi = u32::from_str_radix(raw.get(i..i + 4)?, 16).ok()?;
                i += 4;
                let c = if (0xD800..0xDC00).contains(&hi) && raw.get(i..i + 2) == Some("\\u") {
                    let lo = u32::from_str_radix(raw.get(i + 2..i + 6)?, 16).ok()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                out.push_char(c.unwrap_or('\u{fffd}'), at);
            }
            _ => return None,
        }
        run = i;
    }
    out.push_verbatim(raw, run, end, base);
    Some(out.finish(base + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_multiline_trims_first_newline() {
        let raw = "'''\nab\ncd\n'''";
        let m = toml_string(raw, 100).unwrap();
        assert_eq!(m.text, "ab\ncd\n");
        assert_eq!(m.offsets, vec![104, 105, 106, 107, 108, 109, 110]);
    }

    #[test]
    fn literal_crlf_reads_as_lf() {
        let m = toml_string("'''\r\na\r\nb'''", 0).unwrap();
        assert_eq!(m.text, "a\nb");
        assert_eq!(m.offsets, vec![5, 6, 8, 9]);
    }

    #[test]
    fn basic_escapes_map_to_backslash() {
        // "a\"b\u00e9c"
        let raw = r#""a\"b\u00e9c""#;
        let m = toml_string(raw, 10).unwrap();
        assert_eq!(m.text, "a\"béc");
        // a@11, \"@12, b@14, é (2 bytes)@15, c@21, end@22
        assert_eq!(m.offsets, vec![11, 12, 14, 15, 15, 21, 22]);
    }

    #[test]
    fn basic_multiline_line_ending_backslash() {
        let raw = "\"\"\"\na \\\n   b\"\"\"";
        let m = toml_string(raw, 0).unwrap();
        assert_eq!(m.text, "a b");
        assert_eq!(m.offsets[2], 11);
    }

    #[test]
    fn bad_escape_is_none() {
        assert!(toml_string(r#""\q""#, 0).is_none());
        assert!(toml_string(r#""\u12""#, 0).is_none());
        assert!(toml_string("x", 0).is_none());
        assert!(json_string(r#""\u12"#, 0).is_none());
    }

    #[test]
    fn json_escapes_and_surrogates() {
        let raw = r#""a\n\ud83d\ude00\/""#;
        let m = json_string(raw, 0).unwrap();
        assert_eq!(m.text, "a\n\u{1F600}/");
        assert_eq!(m.offsets, vec![1, 2, 4, 4, 4, 4, 16, 18]);
    }
}
