//! String literals for the lexer: `"…"` with escape processing, raw
//! `"""…"""`, and the errors for the quoting styles Elasticsearch rejects
//! (`'…'`, `?"…"`, `?'…'`), each with a hint that rewrites the literal.
//!
//! Also the inverse, [`quote_string`], which the printer uses: its output
//! reads back as exactly the original string.
//!
//! Every span produced here falls on char boundaries.

use super::lexer::{Lexer, TokenKind};
use super::span::Span;
use crate::diag::Diagnostic;

impl Lexer<'_> {
    pub(super) fn string(&mut self) -> Result<TokenKind, Diagnostic> {
        if self.starts_with("\"\"\"") {
            return self.raw_string();
        }
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(unterminated_string(start, self.pos));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(TokenKind::Str(value));
                }
                // The Elasticsearch lexer does not let a `"…"` string span
                // lines; a newline here almost always means a missing quote.
                '\n' | '\r' => return Err(unterminated_string(start, self.pos)),
                '\\' => value.push(self.escape()?),
                c => {
                    self.pos += c.len_utf8();
                    value.push(c);
                }
            }
        }
    }

    /// Reads one escape sequence at `self.pos` (which is at the backslash).
    fn escape(&mut self) -> Result<char, Diagnostic> {
        let at = self.pos;
        let Some(next) = self.char_at(at + 1) else {
            return Err(unterminated_string(at, at + 1));
        };
        let simple = match next {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            // Elasticsearch's lexer accepts `\'` too, and shipped rules use
            // it (`"*h\''t\''tp*"`).
            '\'' => Some('\''),
            _ => None,
        };
        if let Some(c) = simple {
            self.pos += 2;
            return Ok(c);
        }
        if next == 'u' {
            return self.unicode_escape(at);
        }
        let span = Span::new(at, at + 1 + next.len_utf8());
        let shown = if next.is_control() {
            next.escape_debug().to_string()
        } else {
            next.to_string()
        };
        Err(
            Diagnostic::new(format!("invalid escape sequence `\\{shown}`"), span).with_hint(
                "valid escapes are \\n \\r \\t \\b \\f \\\\ \\\" \\' and \\u{XXXX}; \
             write \\\\ for a backslash, or use a raw string \"\"\"...\"\"\"",
            ),
        )
    }

    /// `\u{X…}` with 2 to 8 hex digits naming a Unicode scalar value.
    fn unicode_escape(&mut self, at: usize) -> Result<char, Diagnostic> {
        let body_start = at + 2;
        let hint = "write a code point as \\u{XX} with 2 to 8 hex digits, e.g. \\u{200f}";
        if self.bytes.get(body_start) != Some(&b'{') {
            return Err(Diagnostic::new(
                "invalid unicode escape: expected `{` after `\\u`",
                Span::new(at, at + 2),
            )
            .with_hint(hint));
        }
        let digits_start = body_start + 1;
        let mut end = digits_start;
        while matches!(self.bytes.get(end), Some(b) if b.is_ascii_hexdigit()) {
            end += 1;
        }
        if self.bytes.get(end) != Some(&b'}') {
            let stop = if end < self.bytes.len() {
                end + self.char_span(end).len()
            } else {
                end
            };
            return Err(Diagnostic::new(
                "invalid unicode escape: expected hex digits and a closing `}`",
                Span::new(at, stop),
            )
            .with_hint(hint));
        }
        let span = Span::new(at, end + 1);
        let digits = &self.text[digits_start..end];
        if !(2..=8).contains(&digits.len()) {
            return Err(Diagnostic::new(
                format!(
                    "invalid unicode escape: {} hex digits, expected 2 to 8",
                    digits.len()
                ),
                span,
            )
            .with_hint(hint));
        }
        let c = u32::from_str_radix(digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                Diagnostic::new(
                    format!("invalid unicode escape: U+{digits} is not a character"),
                    span,
                )
            })?;
        self.pos = end + 1;
        Ok(c)
    }

    /// `"""…"""`: no escapes, ends at the first `"""`. As in Elasticsearch, up
    /// to two more quotes right after it still belong to the body, so
    /// `"""say "hi""""` is `say "hi"`.
    fn raw_string(&mut self) -> Result<TokenKind, Diagnostic> {
        let start = self.pos;
        let body_start = start + 3;
        let Some(rel) = self.text[body_start..].find("\"\"\"") else {
            return Err(
                Diagnostic::new("unterminated raw string", Span::new(start, start + 3))
                    .with_hint("close the raw string with `\"\"\"`"),
            );
        };
        let mut body_end = body_start + rel;
        let mut extra = 0;
        while extra < 2 && self.bytes.get(body_end + 3) == Some(&b'"') {
            body_end += 1;
            extra += 1;
        }
        self.pos = body_end + 3;
        Ok(TokenKind::RawStr(
            self.text[body_start..body_end].to_string(),
        ))
    }

    /// The error for `'…'`; the span covers the whole literal when its end
    /// can be found on the same line.
    pub(super) fn single_quoted(&self, start: usize, body_start: usize) -> Diagnostic {
        let (end, body) = self.scan_quoted(body_start, '\'');
        let d = Diagnostic::new(
            "single-quoted strings are not supported",
            Span::new(start, end),
        );
        match body {
            Some(body) => d.with_hint(format!("use double quotes: \"{}\"", requote(&body))),
            None => d.with_hint("use double quotes"),
        }
    }

    /// The error for the legacy raw strings `?"…"` and `?'…'`.
    pub(super) fn legacy_raw_string(&self, start: usize, quote: u8) -> Diagnostic {
        let (end, body) = self.scan_quoted(start + 2, char::from(quote));
        let d = Diagnostic::new(
            format!(
                "`?{q}...{q}` strings are not supported",
                q = char::from(quote)
            ),
            Span::new(start, end),
        );
        match body {
            Some(body) => {
                let body = body.replace("\\\"", "\"");
                if body.contains("\"\"\"") {
                    d.with_hint("use a raw string: \"\"\"...\"\"\"")
                } else {
                    d.with_hint(format!("use a raw string: \"\"\"{body}\"\"\""))
                }
            }
            _ => d.with_hint("use a raw string: \"\"\"...\"\"\""),
        }
    }

    /// Finds the end of a quoted run starting at `from` (after the opening
    /// quote), treating a backslash as escaping the next char. Returns the
    /// end offset (after the closing quote, or the end of the line if none)
    /// and the body as written, when closed.
    fn scan_quoted(&self, from: usize, quote: char) -> (usize, Option<String>) {
        let mut pos = from;
        let mut escaped = false;
        while let Some(c) = self.char_at(pos) {
            if c == '\n' || c == '\r' {
                break;
            }
            pos += c.len_utf8();
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                return (pos, Some(self.text[from..pos - 1].to_string()));
            }
        }
        (pos, None)
    }
}

/// The body of a single-quoted literal rewritten for double quotes: `\'`
/// becomes `'`, a bare `"` gets a backslash, other escapes stay as written
/// (they mean the same inside double quotes).
fn requote(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\'') => out.push('\''),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

fn unterminated_string(start: usize, end: usize) -> Diagnostic {
    Diagnostic::new("unterminated string", Span::new(start, end.max(start + 1)))
        .with_hint("close the string with `\"` on the same line")
}

/// `s` as a `"…"` EQL literal, escaped so that the lexer reads back exactly
/// `s`. Control characters without a short escape use `\u{…}`.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:02x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
