//! Load errors: one problem in one rule file, with the file, 1-based line and
//! column, the offending byte span and a rendered caret snippet.
//!
//! Every failure of the loaders ends up here, so the CLI prints one uniform
//! `path:line:col: error: message` format whatever the file format was.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use talon_eql::diag::{line_col, render_span};

/// What kind of problem a [`LoadError`] reports, for callers that react to
/// some kinds (tests, `--strict` modes) without matching on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadErrorKind {
    /// The file (or folder) could not be read.
    Io,
    /// The file is not valid UTF-8.
    Encoding,
    /// TOML / JSON / Markdown syntax error.
    Syntax,
    /// A required rule field is absent.
    MissingField,
    /// A rule field has the wrong type or an out-of-range value.
    InvalidField,
    /// The file extension is not one the loader knows.
    UnknownFormat,
    /// The file parsed but holds no rule where one was expected.
    NotARule,
    /// A JSON object in an export is neither a rule, an exception list, nor
    /// a summary line.
    UnrecognizedObject,
    /// The rule_id repeats one loaded earlier from another place.
    DuplicateRuleId,
    /// Not fatal: the export summary disagrees with what the file holds.
    ExportMismatch,
}

/// One problem in one rule file.
///
/// `line` and `column` are 1-based (the column counts characters). They are
/// 0 for problems that concern the whole file (an unreadable file); then
/// `Display` prints `path: error: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The source line and a caret under the offending bytes (no heading
    /// line; `Display` prints the heading itself).
    pub snippet: Option<String>,
    pub kind: LoadErrorKind,
    /// The offending bytes of the file, when known.
    pub span: Option<Range<usize>>,
}

impl LoadError {
    /// An error about the whole file (no position).
    pub fn file(path: &Path, kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        LoadError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
            snippet: None,
            kind,
            span: None,
        }
    }

    /// An error at bytes `span` of `text` (the file text), with a snippet.
    pub fn at(
        path: &Path,
        text: &str,
        span: Range<usize>,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        let message = message.into();
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let (line, column) = line_col(text, start);
        let rendered = render_span(
            &path.display().to_string(),
            text,
            start,
            end,
            &message,
            None,
        );
        // render_span starts with its own `name:line:col: error: message`
        // heading; keep only the source line and caret below it.
        let snippet = rendered.split_once('\n').map(|(_, rest)| rest.to_string());
        LoadError {
            path: path.to_path_buf(),
            line,
            column,
            message,
            snippet,
            kind,
            span: Some(start..end),
        }
    }
}

impl LoadError {
    /// The same report headed `warning:` rather than `error:`, for a
    /// problem that does not stop the file from loading.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        Headed(self, "warning")
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, severity: &str) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {severity}: {}", self.path.display(), self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {severity}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )?;
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n{}", s.trim_end_matches('\n'))?;
        }
        Ok(())
    }
}

struct Headed<'e>(&'e LoadError, &'static str);

impl fmt::Display for Headed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, self.1)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_heading_and_caret() {
        let text = "a = 1\nb = ?\n";
        let e = LoadError::at(
            Path::new("r.toml"),
            text,
            10..11,
            LoadErrorKind::Syntax,
            "bad value",
        );
        assert_eq!((e.line, e.column), (2, 5));
        assert_eq!(
            e.to_string(),
            "r.toml:2:5: error: bad value\n  |\n2 | b = ?\n  |     ^"
        );
    }

    #[test]
    fn whole_file_error_has_no_position() {
        let e = LoadError::file(Path::new("x.toml"), LoadErrorKind::Io, "cannot read");
        assert_eq!(e.to_string(), "x.toml: error: cannot read");
    }

    #[test]
    fn span_is_clamped_to_text() {
        let e = LoadError::at(Path::new("r"), "ab", 5..9, LoadErrorKind::Syntax, "eof");
        assert_eq!(e.span, Some(2..2));
        assert_eq!((e.line, e.column), (1, 3));
    }
}
