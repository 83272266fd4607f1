//! The EQL lexer: turns query text into [`Token`]s, each with the exact byte
//! span it was read from.
//!
//! Guarantees:
//! - string literals (lexed in `strings.rs`) come out with their escapes already processed, so the
//!   parser never sees a backslash sequence; raw `"""…"""` bodies are kept
//!   verbatim;
//! - every malformed token (bad escape, single quotes, `?"…"`, `=`, `&&`,
//!   `||`, a lone `!`, an unterminated string or comment, a stray character)
//!   is reported here as a [`Diagnostic`] whose span points at the offending
//!   bytes, with a hint when the fix is obvious;
//! - spans always fall on char boundaries, whatever the input.
//!
//! Keywords are lowercase and case-sensitive, as in Elasticsearch: `AND` is an
//! identifier here, and the parser decides whether to hint about it.

use std::fmt;

pub use super::strings::quote_string;

use super::span::Span;
use crate::diag::Diagnostic;

/// One token and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// `[A-Za-z_@][A-Za-z0-9_]*` that is not a keyword.
    Ident(String),
    /// An identifier written with a trailing `~` (`startsWith~`); the name
    /// excludes the `~`.
    TildeIdent(String),
    /// A backtick-quoted name, with doubled backticks collapsed.
    Quoted(String),
    /// A `"…"` string after escape processing.
    Str(String),
    /// A `"""…"""` string, body verbatim.
    RawStr(String),
    Int(i64),
    /// A decimal literal, or an integer too large for i64 (Elasticsearch
    /// quietly reads those as doubles).
    Float(f64),
    Kw(Keyword),
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=`: only legal in `maxspan=` and `runs=`.
    Assign,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Dot,
    Comma,
    LBracket,
    /// `![`, which opens a missing-event term.
    MissingOpen,
    RBracket,
    LParen,
    RParen,
    Pipe,
    /// `?` before an optional field.
    Question,
    Eof,
}

/// The reserved words of Elasticsearch EQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    And,
    Any,
    By,
    False,
    In,
    InTilde,
    Join,
    Like,
    LikeTilde,
    Maxspan,
    Not,
    Null,
    Of,
    Or,
    Regex,
    RegexTilde,
    Sample,
    Sequence,
    True,
    Until,
    Where,
    With,
}

const KEYWORDS: &[(&str, Keyword)] = &[
    ("and", Keyword::And),
    ("any", Keyword::Any),
    ("by", Keyword::By),
    ("false", Keyword::False),
    ("in", Keyword::In),
    ("join", Keyword::Join),
    ("like", Keyword::Like),
    ("maxspan", Keyword::Maxspan),
    ("not", Keyword::Not),
    ("null", Keyword::Null),
    ("of", Keyword::Of),
    ("or", Keyword::Or),
    ("regex", Keyword::Regex),
    ("sample", Keyword::Sample),
    ("sequence", Keyword::Sequence),
    ("true", Keyword::True),
    ("until", Keyword::Until),
    ("where", Keyword::Where),
    ("with", Keyword::With),
];

impl Keyword {
    /// The keyword spelled `word`, exactly (keywords are case-sensitive).
    pub fn from_word(word: &str) -> Option<Keyword> {
        KEYWORDS.iter().find(|(w, _)| *w == word).map(|(_, k)| *k)
    }

    /// The keyword `word` would be if keywords were case-insensitive, for
    /// hints such as "keywords are lowercase: `and`".
    pub fn from_word_ignoring_case(word: &str) -> Option<Keyword> {
        KEYWORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|(_, k)| *k)
    }

    /// Keywords that can follow an operand (`x and`, `x in`, `x like`), so
    /// that `NULL and x` reads as the field `NULL` rather than a typo.
    pub fn is_binary_operator(self) -> bool {
        matches!(
            self,
            Keyword::And
                | Keyword::Or
                | Keyword::In
                | Keyword::InTilde
                | Keyword::Like
                | Keyword::LikeTilde
                | Keyword::Regex
                | Keyword::RegexTilde
                | Keyword::Not
                | Keyword::By
                | Keyword::With
                | Keyword::Until
                | Keyword::Where
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::InTilde => "in~",
            Keyword::LikeTilde => "like~",
            Keyword::RegexTilde => "regex~",
            k => KEYWORDS
                .iter()
                .find(|(_, kw)| *kw == k)
                .map(|(w, _)| *w)
                .unwrap_or("?"),
        }
    }
}

/// True when `word` can be written bare as an identifier: the identifier
/// syntax and not a keyword.
pub fn is_plain_identifier(word: &str) -> bool {
    let mut bytes = word.bytes();
    let first_ok =
        matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'@');
    first_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && Keyword::from_word(word).is_none()
}

/// Longest string, name or number quoted in full in a message.
pub(super) const SHOWN_CHARS: usize = 24;

impl fmt::Display for TokenKind {
    /// How a token is named in "expected X, found Y" messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Ident(s) => write!(f, "`{s}`"),
            TokenKind::TildeIdent(s) => write!(f, "`{s}~`"),
            TokenKind::Quoted(s) if s.chars().count() <= SHOWN_CHARS => {
                write!(f, "`{}`", s.replace('`', "``"))
            }
            TokenKind::Quoted(_) => f.write_str("a quoted name"),
            TokenKind::Str(s) | TokenKind::RawStr(s) if s.chars().count() <= SHOWN_CHARS => {
                write!(f, "string {}", quote_string(s))
            }
            TokenKind::Str(_) | TokenKind::RawStr(_) => f.write_str("a string"),
            TokenKind::Int(n) => write!(f, "`{n}`"),
            TokenKind::Float(x) => write!(f, "`{x:?}`"),
            TokenKind::Kw(k) => write!(f, "`{}`", k.as_str()),
            TokenKind::Eof => f.write_str("end of query"),
            other => write!(f, "`{}`", punct_text(other)),
        }
    }
}

fn punct_text(kind: &TokenKind) -> &'static str {
    match kind {
        TokenKind::EqEq => "==",
        TokenKind::NotEq => "!=",
        TokenKind::Lt => "<",
        TokenKind::Le => "<=",
        TokenKind::Gt => ">",
        TokenKind::Ge => ">=",
        TokenKind::Assign => "=",
        TokenKind::Colon => ":",
        TokenKind::Plus => "+",
        TokenKind::Minus => "-",
        TokenKind::Star => "*",
        TokenKind::Slash => "/",
        TokenKind::Percent => "%",
        TokenKind::Dot => ".",
        TokenKind::Comma => ",",
        TokenKind::LBracket => "[",
        TokenKind::MissingOpen => "![",
        TokenKind::RBracket => "]",
        TokenKind::LParen => "(",
        TokenKind::RParen => ")",
        TokenKind::Pipe => "|",
        TokenKind::Question => "?",
        _ => "?",
    }
}

/// Splits `text` into tokens, ending with one [`TokenKind::Eof`] whose span
/// is empty, right after the last token (or at 0 when there is none).
///
/// Not at the very end of the text: what follows the last token is only
/// blanks and comments, and a query in a rule file usually ends with a
/// line break, so "expected `)`, found end of query" would point at the
/// start of the line after the query (the closing `'''` or fence)
/// rather than where the `)` is missing.
pub fn tokenize(text: &str) -> Result<Vec<Token>, Diagnostic> {
    let mut lx = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.pos;
        let Some(kind) = lx.next_kind()? else {
            let end = out.last().map_or(0, |t: &Token| t.span.end as usize);
            out.push(Token {
                kind: TokenKind::Eof,
                span: Span::new(end, end),
            });
            return Ok(out);
        };
        out.push(Token {
            kind,
            span: Span::new(start, lx.pos),
        });
    }
}

pub(super) struct Lexer<'a> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    pub(super) fn starts_with(&self, s: &str) -> bool {
        self.bytes[self.pos..].starts_with(s.as_bytes())
    }

    /// The char at byte `at`, which must be a char boundary.
    pub(super) fn char_at(&self, at: usize) -> Option<char> {
        self.text.get(at..).and_then(|s| s.chars().next())
    }

    /// The span of the one char starting at `at`.
    pub(super) fn char_span(&self, at: usize) -> Span {
        let len = self.char_at(at).map(char::len_utf8).unwrap_or(0);
        Span::new(at, at + len)
    }

    fn skip_trivia(&mut self) -> Result<(), Diagnostic> {
        loop {
            match self.peek_at(0) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'/') => {
                    while let Some(b) = self.peek_at(0) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.skip_block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    /// Skips a `/* … */` comment; comments nest, so each `/*` needs its own
    /// `*/`.
    fn skip_block_comment(&mut self) -> Result<(), Diagnostic> {
        let start = self.pos;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.starts_with("/*") {
                depth += 1;
                self.pos += 2;
            } else if self.starts_with("*/") {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.pos += 1;
            }
        }
        Err(
            Diagnostic::new("unterminated comment", Span::new(start, start + 2))
                .with_hint("close the comment with `*/`"),
        )
    }

    fn next_kind(&mut self) -> Result<Option<TokenKind>, Diagnostic> {
        let Some(b) = self.peek_at(0) else {
            return Ok(None);
        };
        let start = self.pos;
        let two = |lx: &mut Lexer, k| {
            lx.pos += 2;
            Ok(Some(k))
        };
        let one = |lx: &mut Lexer, k| {
            lx.pos += 1;
            Ok(Some(k))
        };
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'@' => self.word().map(Some),
            b'0'..=b'9' => self.number().map(Some),
            b'.' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => self.number().map(Some),
            b'"' => self.string().map(Some),
            b'\'' => Err(self.single_quoted(start, start + 1)),
            b'`' => self.quoted_name().map(Some),
            b'=' if self.peek_at(1) == Some(b'=') => two(self, TokenKind::EqEq),
            b'=' => one(self, TokenKind::Assign),
            b'!' => match self.peek_at(1) {
                Some(b'=') => two(self, TokenKind::NotEq),
                Some(b'[') => two(self, TokenKind::MissingOpen),
                Some(b':') => Err(Diagnostic::new(
                    "`!:` is not an operator",
                    Span::new(start, start + 2),
                )
                .with_hint("negate the whole test: `not field : \"value\"`")),
                _ => Err(
                    Diagnostic::new("unexpected `!`", Span::new(start, start + 1))
                        .with_hint("use `not` to negate"),
                ),
            },
            b'<' if self.peek_at(1) == Some(b'=') => two(self, TokenKind::Le),
            b'<' => one(self, TokenKind::Lt),
            b'>' if self.peek_at(1) == Some(b'=') => two(self, TokenKind::Ge),
            b'>' => one(self, TokenKind::Gt),
            b'&' => {
                let len = if self.peek_at(1) == Some(b'&') { 2 } else { 1 };
                Err(Diagnostic::new(
                    format!("unexpected `{}`", &"&&"[..len]),
                    Span::new(start, start + len),
                )
                .with_hint("use `and`"))
            }
            b'|' if self.peek_at(1) == Some(b'|') => Err(Diagnostic::new(
                "unexpected `||`",
                Span::new(start, start + 2),
            )
            .with_hint("use `or`")),
            b'|' => one(self, TokenKind::Pipe),
            b'?' => match self.peek_at(1) {
                Some(q @ (b'"' | b'\'')) => Err(self.legacy_raw_string(start, q)),
                _ => one(self, TokenKind::Question),
            },
            b':' => one(self, TokenKind::Colon),
            b'+' => one(self, TokenKind::Plus),
            b'-' => one(self, TokenKind::Minus),
            b'*' => one(self, TokenKind::Star),
            b'/' => one(self, TokenKind::Slash),
            b'%' => one(self, TokenKind::Percent),
            b'.' => one(self, TokenKind::Dot),
            b',' => one(self, TokenKind::Comma),
            b'[' => one(self, TokenKind::LBracket),
            b']' => one(self, TokenKind::RBracket),
            b'(' => one(self, TokenKind::LParen),
            b')' => one(self, TokenKind::RParen),
            b'~' => Err(
                Diagnostic::new("unexpected `~`", Span::new(start, start + 1)).with_hint(
                    "`~` goes right after `in`, `like`, `regex` or a function name, with no space",
                ),
            ),
            _ => {
                let span = self.char_span(start);
                let c = self.char_at(start).unwrap_or('\u{fffd}');
                Err(Diagnostic::new(
                    format!("unexpected character `{}`", c.escape_debug()),
                    span,
                ))
            }
        }
    }

    fn word(&mut self) -> Result<TokenKind, Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        while matches!(self.peek_at(0), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        if self.peek_at(0) == Some(b'~') {
            self.pos += 1;
            return match word {
                "in" => Ok(TokenKind::Kw(Keyword::InTilde)),
                "like" => Ok(TokenKind::Kw(Keyword::LikeTilde)),
                "regex" => Ok(TokenKind::Kw(Keyword::RegexTilde)),
                _ if Keyword::from_word(word).is_some() => Err(Diagnostic::new(
                    format!("`{word}~` is not an operator"),
                    Span::new(start, self.pos),
                )
                .with_hint("only `in~`, `like~`, `regex~` and function names take `~`")),
                _ => Ok(TokenKind::TildeIdent(word.to_string())),
            };
        }
        Ok(match Keyword::from_word(word) {
            Some(k) => TokenKind::Kw(k),
            None => TokenKind::Ident(word.to_string()),
        })
    }

    /// Integers `123`, decimals `1.5` `.5` `1.` and exponents `1e3` `2.5E-2`,
    /// following the Elasticsearch lexer: an `e` not followed by digits ends
    /// the number (so `5e` is `5` then the identifier `e`). A number run on
    /// by `.` and a digit (`1.2.3`, `10.0.0.1`) is one malformed number,
    /// rather than `1.2` then `.3`.
    fn number(&mut self) -> Result<TokenKind, Diagnostic> {
        let start = self.pos;
        let digits = |lx: &mut Lexer| {
            let from = lx.pos;
            while matches!(lx.peek_at(0), Some(b'0'..=b'9')) {
                lx.pos += 1;
            }
            lx.pos - from
        };
        digits(self);
        let mut decimal = false;
        if self.peek_at(0) == Some(b'.') {
            decimal = true;
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek_at(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
            if matches!(self.peek_at(1 + sign), Some(b'0'..=b'9')) {
                decimal = true;
                self.pos += 1 + sign;
                digits(self);
            }
        }
        if self.peek_at(0) == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            while matches!(self.peek_at(0), Some(b'0'..=b'9' | b'.')) {
                self.pos += 1;
            }
            let text = &self.text[start..self.pos];
            return Err(Diagnostic::new(
                format!("malformed number `{text}`"),
                Span::new(start, self.pos),
            )
            .with_hint(format!(
                "if this is an address or a version, quote it: \"{text}\""
            )));
        }
        let text = &self.text[start..self.pos];
        let span = Span::new(start, self.pos);
        if !decimal {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(TokenKind::Int(n));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(TokenKind::Float(f)),
            _ => Err(Diagnostic::new(
                format!("number `{text}` is too large"),
                span,
            )),
        }
    }

    /// A backtick-quoted name; a backtick inside is written as two.
    fn quoted_name(&mut self) -> Result<TokenKind, Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(Diagnostic::new(
                    "unterminated quoted name",
                    Span::new(start, start + 1),
                )
                .with_hint("close the name with a backtick"));
            };
            self.pos += c.len_utf8();
            if c == '`' {
                if self.peek_at(0) == Some(b'`') {
                    self.pos += 1;
                    name.push('`');
                    continue;
                }
                break;
            }
            name.push(c);
        }
        if name.is_empty() {
            return Err(Diagnostic::new(
                "empty quoted name",
                Span::new(start, self.pos),
            ));
        }
        Ok(TokenKind::Quoted(name))
    }
}

/// `name` in backticks, with inner backticks doubled.
pub fn quote_name(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
