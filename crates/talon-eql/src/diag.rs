//! Diagnostics: an error message tied to a span of the query text, rendered
//! with the file name, line, column, the source line and a caret.
//!
//! Diagnostics are values. The parser and the checker return them; whoever
//! knows where the query text sits in a file (the rule loader) renders them
//! with the file text and the query's offset in it.

use std::fmt;

use unicode_width::UnicodeWidthChar;

use crate::syntax::span::Span;

/// One problem found in a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// The offending bytes, relative to the query text.
    pub span: Span,
    /// A suggestion when the fix is obvious ("use double quotes").
    pub hint: Option<String>,
    /// A second place the problem concerns, and what to say there: the
    /// `(` that "is never closed" when the query ends without its `)`.
    /// Rendered as a `note:` after the error.
    pub label: Option<(Span, String)>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            hint: None,
            label: None,
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.label = Some((span, message.into()));
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// 1-based line and column (in characters) of the span start within `text`.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        line_col(text, self.span.start as usize)
    }

    /// Renders the diagnostic against the query text alone (`<query>:1:5`).
    pub fn render(&self, name: &str, query: &str) -> String {
        self.render_in(name, query, 0)
    }

    /// Renders the diagnostic for a query that starts at byte `offset` of
    /// `text` (a rule file), so line and column are those of the file.
    pub fn render_in(&self, name: &str, text: &str, offset: usize) -> String {
        let place = |span: Span| {
            let start = (offset + span.start as usize).min(text.len());
            let end = (offset + span.end as usize).min(text.len()).max(start);
            (start, end)
        };
        self.render_at(name, text, place)
    }

    /// Renders the diagnostic in `text`, whose bytes `place` gives for a
    /// span of the query (a rule file maps query bytes to its own).
    pub fn render_at(
        &self,
        name: &str,
        text: &str,
        place: impl Fn(Span) -> (usize, usize),
    ) -> String {
        let (start, end) = place(self.span);
        let mut out = render_span(name, text, start, end, &self.message, self.hint.as_deref());
        if let Some((span, message)) = &self.label {
            let (start, end) = place(*span);
            out.push_str(&render_as("note", name, text, start, end, message, None));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some((_, l)) = &self.label {
            write!(f, " ({l})")?;
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Characters of context shown on each side of a span on a long line.
const CONTEXT: usize = 80;
/// At most this many carets under a long span.
const MAX_CARETS: usize = 80;

/// 1-based (line, column) of byte `pos` in `text`; the column counts chars.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = floor_char_boundary(text, pos.min(text.len()));
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text[line_start..pos].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut pos: usize) -> usize {
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// Renders `error: message` at `name:line:col`, the source line and a caret
/// line under bytes `[start, end)` (clipped to the first line of the span).
///
/// ```text
/// rule.toml:12:33: error: single-quoted strings are not supported
///    |
/// 12 | process where process.name == 'bash'
///    |                               ^^^^^^
///    = hint: use double quotes: "bash"
/// ```
pub fn render_span(
    name: &str,
    text: &str,
    start: usize,
    end: usize,
    message: &str,
    hint: Option<&str>,
) -> String {
    render_as("error", name, text, start, end, message, hint)
}

/// [`render_span`] headed `severity:` (`error`, `note`).
fn render_as(
    severity: &str,
    name: &str,
    text: &str,
    start: usize,
    end: usize,
    message: &str,
    hint: Option<&str>,
) -> String {
    let start = floor_char_boundary(text, start.min(text.len()));
    let end = floor_char_boundary(text, end.min(text.len())).max(start);
    let (line, col) = line_col(text, start);
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[start..]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    let caret_end = end.min(line_end).max(start);
    // A very long line (a generated query, a one-line JSON rule) is shown
    // as a window around the span, so the message stays readable.
    let before: Vec<char> = text[line_start..start].chars().collect();
    let (lead, skipped) = if before.len() > CONTEXT {
        (&before[before.len() - CONTEXT..], true)
    } else {
        (&before[..], false)
    };
    let span_chars: Vec<char> = text[start..caret_end].chars().collect();
    let width = span_chars.len().clamp(1, MAX_CARETS);
    let after_start = start
        + span_chars
            .iter()
            .take(width)
            .map(|c| c.len_utf8())
            .sum::<usize>();
    let after: String = text[after_start.min(line_end)..line_end]
        .trim_end_matches('\r')
        .chars()
        .take(CONTEXT)
        .collect();
    let more = text[after_start.min(line_end)..line_end].chars().count() > CONTEXT;
    let mut shown = String::new();
    let mut pad = String::new();
    if skipped {
        shown.push('…');
        pad.push(' ');
    }
    shown.extend(lead.iter());
    // The caret line lines up on screen: a tab stays a tab, a wide
    // character (CJK) takes two columns, a combining mark none.
    for &c in lead {
        match c {
            '\t' => pad.push('\t'),
            c => pad.extend(std::iter::repeat_n(' ', c.width().unwrap_or(0))),
        }
    }
    shown.extend(span_chars.iter().take(width));
    let carets = span_chars
        .iter()
        .take(width)
        .map(|c| c.width().unwrap_or(0))
        .sum::<usize>()
        .max(1);
    shown.push_str(&after);
    if more {
        shown.push('…');
    }
    let gutter = line.to_string().len();
    let mut out = format!("{name}:{line}:{col}: {severity}: {message}\n");
    out.push_str(&format!("{:gutter$} |\n", ""));
    out.push_str(&format!("{line} | {shown}\n"));
    out.push_str(&format!("{:gutter$} | {pad}{}\n", "", "^".repeat(carets)));
    if let Some(h) = hint {
        out.push_str(&format!("{:gutter$} = hint: {h}\n", ""));
    }
    out
}

/// Levenshtein distance over chars, for "did you mean" hints on short
/// words (pipe names here, misspelled rule keys in the rule loader).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_caret() {
        let text = "a = 1\nprocess where name == 'x'\n";
        let q_offset = 6;
        let d = Diagnostic::new("single-quoted strings are not supported", Span::new(22, 25))
            .with_hint("use double quotes: \"x\"");
        let r = d.render_in("r.toml", text, q_offset);
        assert_eq!(
            r,
            "r.toml:2:23: error: single-quoted strings are not supported\n  |\n\
             2 | process where name == 'x'\n  |                       ^^^\n  \
             = hint: use double quotes: \"x\"\n"
        );
    }

    #[test]
    fn a_label_is_rendered_as_a_note_at_its_own_place() {
        let text = "query = \'\'\'\nprocess where (a == 1\n\'\'\'\n";
        let d = Diagnostic::new("expected `)`, found end of query", Span::new(21, 21))
            .with_label(Span::new(14, 15), "this `(` is never closed");
        assert_eq!(
            d.render_in("r.toml", text, 12),
            "r.toml:2:22: error: expected `)`, found end of query\n  |\n\
             2 | process where (a == 1\n  |                      ^\n\
             r.toml:2:15: note: this `(` is never closed\n  |\n\
             2 | process where (a == 1\n  |               ^\n"
        );
    }

    #[test]
    fn long_lines_are_shown_as_a_window_around_the_span() {
        let text = format!("{}bad{}", "a".repeat(500), "b".repeat(500));
        let r = render_span("q", &text, 500, 503, "oops", None);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "q:1:501: error: oops");
        assert_eq!(
            lines[2],
            format!("1 | …{}bad{}…", "a".repeat(80), "b".repeat(80))
        );
        assert_eq!(lines[3], format!("  |  {}^^^", " ".repeat(80)));
        let wide = render_span("q", &"x".repeat(1000), 0, 1000, "all of it", None);
        assert_eq!(
            wide.lines().nth(3).map(|l| l.matches('^').count()),
            Some(80)
        );
    }

    #[test]
    fn line_col_counts_chars_not_bytes() {
        assert_eq!(line_col("é = x", 4), (1, 4));
        assert_eq!(line_col("ab\ncd", 3), (2, 1));
    }

    #[test]
    fn carets_line_up_under_wide_characters() {
        // Each of 日本 takes two columns on a terminal; é one.
        let text = "name == \"日本\" and é = 1";
        let start = text.rfind(" = ").unwrap() + 1;
        let r = render_span("q", text, start, start + 1, "oops", None);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[2], "1 | name == \"日本\" and é = 1");
        assert_eq!(lines[3], format!("  | {}^", " ".repeat(21)));
        let r = render_span("q", text, 9, 15, "the value", None);
        assert_eq!(r.lines().nth(3), Some("  |          ^^^^"));
    }
}
