//! Text from the input, made safe to show on a terminal.
//!
//! Event data, file names and rule names can hold control characters:
//! an `ESC` sequence recolours the terminal, retitles its window or clears
//! the screen, a `NUL` or a newline breaks the line it is shown in. Where
//! such text reaches a terminal, its control characters are shown escaped
//! ([`escape_controls`]: messages, paths and rule names on stderr) or, in
//! tables where every column counts, as spaces ([`blank_controls`]).
//! The characters that reorder or break a line without being controls
//! (bidirectional overrides and isolates, U+2028/U+2029) count as controls
//! here: `\u{202e}` in a process name would show the rest of the line
//! reversed. Everything else (ordinary text, non-ASCII letters) is left as
//! it is.
//! Table cells are cut ([`fit`]) and padded ([`pad`]) by the terminal
//! columns their text takes, not by its characters.

use std::borrow::Cow;
use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

/// Whether `c` must not reach a terminal as it is: a control character,
/// or one that reorders the line (a bidirectional mark, embedding,
/// override or isolate) or ends it (the line and paragraph separators).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with each control character escaped: `\x1b` for ESC (as the
/// log lines write it), `\x00` for NUL, `\x0a` for a newline, `\u{9b}`
/// for a C1 control, `\u{202e}` for a right-to-left override. A text
/// without any is returned as it is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            n @ (0..=0x1f | 0x7f) => {
                let _ = write!(out, "\\x{n:02x}");
            }
            n if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with each control character as a space, for table cells.
pub fn blank_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_unsafe(c) { ' ' } else { c })
            .collect(),
    )
}

/// `text` with control characters as spaces, cut to `width` terminal
/// columns with a trailing `…` when it does not fit.
pub fn fit(text: &str, width: usize) -> String {
    let clean = blank_controls(text);
    if display_width(&clean) <= width {
        return clean.into_owned();
    }
    let budget = width.saturating_sub(1);
    let mut out = String::with_capacity(width + 3);
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > budget {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// [`fit`], then spaces up to exactly `width` terminal columns.
pub fn pad(text: &str, width: usize) -> String {
    let mut out = fit(text, width);
    let used = display_width(&out);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// The terminal columns `text` takes.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_that_reorder_or_break_a_line_count_as_controls() {
        let name = "evil\u{202e}gpj.exe\u{2028}x\u{2066}y";
        assert_eq!(
            escape_controls(name),
            "evil\\u{202e}gpj.exe\\u{2028}x\\u{2066}y"
        );
        assert_eq!(blank_controls(name), "evil gpj.exe x y");
        // Other format characters (a zero-width joiner in an emoji) and
        // right-to-left letters themselves are text.
        for kept in ["👩\u{200d}💻", "שלום", "é"] {
            assert_eq!(escape_controls(kept), kept);
        }
    }

    #[test]
    fn cells_are_cut_and_padded_by_terminal_columns() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
        assert_eq!(fit("a\nb\tc", 10), "a b c");
        assert_eq!(fit("日本語です", 6), "日本…");
        assert_eq!(display_width(&fit("日本語です", 6)), 5);
        // An emoji takes two columns: padding counts them.
        assert_eq!(pad("🔥x", 5), "🔥x  ");
        assert_eq!(display_width(&pad("🔥x", 5)), 5);
        assert_eq!(pad("abcdefg", 4), "abc…");
    }

    #[test]
    fn control_characters_are_escaped_and_letters_kept() {
        assert_eq!(
            escape_controls("x\x1b]0;PWNED\x07\x1b[2Jhello"),
            r"x\x1b]0;PWNED\x07\x1b[2Jhello"
        );
        assert_eq!(escape_controls("y\0z\t\n\r\x7f"), r"y\x00z\x09\x0a\x0d\x7f");
        assert_eq!(escape_controls("a\u{9b}31m"), r"a\u{9b}31m");
        assert!(matches!(
            escape_controls("Café « ç » 日本 /tmp/a b"),
            Cow::Borrowed("Café « ç » 日本 /tmp/a b")
        ));
    }

    #[test]
    fn table_cells_get_spaces() {
        assert_eq!(blank_controls("a\nb\tc\x1b[2J"), "a b c [2J");
        assert!(matches!(blank_controls("é"), Cow::Borrowed("é")));
    }
}
