//! The query-level parser: event queries, sequences, samples, pipes, and the
//! structural checks Elasticsearch makes while parsing (sequence term count,
//! maxspan and runs values, `by` before `with`, join-key counts, missing
//! events needing a maxspan, no pipes after a sample).
//!
//! Expressions are parsed in `expr.rs`, on the same [`Parser`]. Every node's
//! span is the exact byte range of its text; every error is the first one
//! found, with the span of the offending token.

use super::ast::*;
use super::lexer::{Keyword, Token, TokenKind, SHOWN_CHARS};
use crate::diag::{edit_distance, Diagnostic};

/// Pipes that Elasticsearch knows by name but rejects.
const UNSUPPORTED_PIPES: &[&str] = &["count", "filter", "sort", "unique", "unique_count"];

/// Most times a sequence term may be repeated with `runs`.
const MAX_RUNS: u64 = 100;

pub(super) struct Parser<'t> {
    /// The query text the tokens were read from.
    pub(super) text: &'t str,
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    /// Current recursion depth of the expression parser.
    pub(super) depth: usize,
}

impl<'t> Parser<'t> {
    pub(super) fn new(text: &'t str, tokens: Vec<Token>) -> Parser<'t> {
        Parser {
            text,
            tokens,
            pos: 0,
            depth: 0,
        }
    }

    /// The text a token was read from.
    pub(super) fn written(&self, t: &Token) -> &'t str {
        self.text
            .get(t.span.start as usize..t.span.end as usize)
            .unwrap_or_default()
    }

    /// True for an integer as written, including digits too many for a
    /// 64-bit integer (which read as a double, as in Elasticsearch).
    fn is_written_integer(&self, t: &Token) -> bool {
        match t.kind {
            TokenKind::Int(_) => true,
            TokenKind::Float(_) => self.written(t).bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        }
    }

    /// How a token is named in "found X" messages. A number is quoted as
    /// written: `99999999999999999999` reads as the double 1e20, `007` as 7.
    pub(super) fn describe(&self, t: &Token) -> String {
        match t.kind {
            TokenKind::Int(_) | TokenKind::Float(_) => {
                let written = self.written(t);
                if written.is_empty() || written.chars().count() > SHOWN_CHARS {
                    "a number".to_string()
                } else {
                    format!("`{written}`")
                }
            }
            ref kind => kind.to_string(),
        }
    }

    pub(super) fn peek(&self) -> &Token {
        self.peek_nth(0)
    }

    pub(super) fn peek_nth(&self, n: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        // The token list always ends with Eof, so clamping returns it.
        &self.tokens[(self.pos + n).min(last)]
    }

    pub(super) fn kind(&self) -> &TokenKind {
        &self.peek().kind
    }

    pub(super) fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len().saturating_sub(1) {
            self.pos += 1;
        }
        t
    }

    pub(super) fn at_kw(&self, kw: Keyword) -> bool {
        matches!(self.kind(), TokenKind::Kw(k) if *k == kw)
    }

    pub(super) fn eat_kw(&mut self, kw: Keyword) -> Option<Token> {
        if self.at_kw(kw) {
            Some(self.bump())
        } else {
            None
        }
    }

    pub(super) fn eat(&mut self, kind: &TokenKind) -> Option<Token> {
        if self.kind() == kind {
            Some(self.bump())
        } else {
            None
        }
    }

    /// The token closing a bracket opened at `open` (`opener` is its
    /// text). When the query ends before it, the error also marks the
    /// opening bracket: the end of the query says nothing about which
    /// bracket is left open.
    pub(super) fn expect_close(
        &mut self,
        kind: &TokenKind,
        what: &str,
        open: Span,
        opener: &str,
    ) -> Result<Token, Diagnostic> {
        if let Some(t) = self.eat(kind) {
            return Ok(t);
        }
        let d = self.unexpected(what);
        Err(match self.kind() {
            TokenKind::Eof => d.with_label(open, format!("this `{opener}` is never closed")),
            _ => d,
        })
    }

    /// "expected X, found Y" at the current token, with a hint when the
    /// token is a common mistake.
    pub(super) fn unexpected(&self, expected: &str) -> Diagnostic {
        let t = self.peek();
        let d = Diagnostic::new(
            format!("expected {expected}, found {}", self.describe(t)),
            t.span,
        );
        match token_hint(&t.kind) {
            Some(h) => d.with_hint(h),
            None => d,
        }
    }

    /// The end of the last consumed token.
    pub(super) fn prev_end(&self) -> u32 {
        match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(t) => t.span.end,
            None => 0,
        }
    }

    pub(super) fn span_from(&self, start: u32) -> Span {
        Span {
            start,
            end: self.prev_end().max(start),
        }
    }

    pub(super) fn parse_query(&mut self) -> Result<Query, Diagnostic> {
        let start = self.peek().span.start;
        let body = match self.kind() {
            TokenKind::Kw(Keyword::Sequence) => QueryBody::Sequence(self.parse_sequence()?),
            TokenKind::Kw(Keyword::Sample) => QueryBody::Sample(self.parse_sample()?),
            TokenKind::Kw(Keyword::Join) => {
                return Err(self.reject_join());
            }
            _ => QueryBody::Event(self.parse_event_query()?),
        };
        let pipes = self.parse_pipes(&body)?;
        if !matches!(self.kind(), TokenKind::Eof) {
            // Sequences and samples check their own trailing text, so only
            // an event query or a pipe can end up here.
            let what = match (&body, pipes.is_empty()) {
                (QueryBody::Event(_), true) => "`and`, `or`, `|` or end of query",
                _ => "`|` or end of query",
            };
            return Err(self.unexpected(what));
        }
        Ok(Query {
            body,
            pipes,
            span: self.span_from(start),
        })
    }

    pub(super) fn parse_lone_expr(&mut self) -> Result<Expr, Diagnostic> {
        let e = self.parse_expr()?;
        if !matches!(self.kind(), TokenKind::Eof) {
            return Err(self.unexpected("`and`, `or` or end of expression"));
        }
        Ok(e)
    }

    /// `join` is parsed only to be rejected, as Elasticsearch does.
    fn reject_join(&self) -> Diagnostic {
        Diagnostic::new("join is not supported", self.peek().span)
            .with_hint("use `sequence` (ordered) or `sample` (unordered)")
    }

    pub(super) fn parse_event_query(&mut self) -> Result<EventQuery, Diagnostic> {
        let start = self.peek().span.start;
        let category = self.parse_category()?;
        if !self.at_kw(Keyword::Where) {
            let mut d = self.unexpected("`where`");
            if matches!(self.kind(), TokenKind::Dot) {
                if let Category::Named(name, _) = &category {
                    let dotted = self.dotted_tail(name);
                    d = d.with_hint(format!(
                        "quote a category that contains a dot: {}",
                        super::lexer::quote_string(&dotted)
                    ));
                }
            } else if let Some(h) = category_keyword_hint(&category, self.kind()) {
                if matches!(self.kind(), TokenKind::Ident(_)) {
                    d = d.with_hint(h);
                } else {
                    // `SEQUENCE [...]`: the culprit is the word, not the `[`.
                    d = Diagnostic::new(
                        format!("expected a query, found `{}`", category_name(&category)),
                        category.span(),
                    )
                    .with_hint(h);
                }
            }
            return Err(d);
        }
        self.bump();
        let condition = self.parse_expr()?;
        Ok(EventQuery {
            category,
            condition,
            span: self.span_from(start),
        })
    }

    /// `first` followed by the `.name` segments at the current token, for
    /// the hint on `system.cpu where`.
    fn dotted_tail(&self, first: &str) -> String {
        let mut out = first.to_string();
        let mut i = 0;
        while matches!(self.peek_nth(i).kind, TokenKind::Dot) {
            match &self.peek_nth(i + 1).kind {
                TokenKind::Ident(s) | TokenKind::Quoted(s) => {
                    out.push('.');
                    out.push_str(s);
                }
                _ => break,
            }
            i += 2;
        }
        out
    }

    fn parse_category(&mut self) -> Result<Category, Diagnostic> {
        let t = self.peek().clone();
        let name = match t.kind {
            TokenKind::Kw(Keyword::Any) => {
                self.bump();
                return Ok(Category::Any(t.span));
            }
            TokenKind::Ident(s)
            | TokenKind::Quoted(s)
            | TokenKind::Str(s)
            | TokenKind::RawStr(s) => s,
            _ => return Err(self.unexpected("an event category or `any`")),
        };
        self.bump();
        Ok(Category::Named(name, t.span))
    }

    fn parse_sequence(&mut self) -> Result<Sequence, Diagnostic> {
        let start = self.bump().span.start;
        let by = self.parse_by_keys()?;
        let mut maxspan = None;
        if self.at_kw(Keyword::With) {
            maxspan = Some(self.parse_maxspan()?);
            if let Some(t) = self.eat_kw(Keyword::By) {
                return Err(
                    Diagnostic::new("`by` must come before `with` in a sequence", t.span)
                        .with_hint("write `sequence by <keys> with maxspan=...`"),
                );
            }
        }
        let mut terms = Vec::new();
        while matches!(self.kind(), TokenKind::LBracket | TokenKind::MissingOpen) {
            terms.push(self.parse_term(true)?);
        }
        if terms.is_empty() {
            return Err(self.unexpected("a sequence term `[`"));
        }
        let mut until = None;
        if self.eat_kw(Keyword::Until).is_some() {
            if matches!(self.kind(), TokenKind::MissingOpen) {
                return Err(Diagnostic::new(
                    "`until` cannot be a missing event",
                    self.peek().span,
                ));
            }
            if !matches!(self.kind(), TokenKind::LBracket) {
                return Err(self.unexpected("`[` after `until`"));
            }
            let term = self.parse_term(false)?;
            if let Some((_, span)) = term.runs {
                return Err(Diagnostic::new("`runs` is not allowed on `until`", span));
            }
            until = Some(term);
        }
        let seq = Sequence {
            by,
            maxspan,
            terms,
            until,
            span: self.span_from(start),
        };
        // Stray text after the terms is the real problem; report it before
        // the structural checks, which would misread it.
        if !matches!(self.kind(), TokenKind::Pipe | TokenKind::Eof) {
            let what = match seq.until {
                Some(_) => "`|` or end of query",
                None => "`[`, `![`, `until`, `|` or end of query",
            };
            return Err(self.unexpected(what));
        }
        check_sequence(&seq)?;
        Ok(seq)
    }

    /// `with maxspan=N<unit>`; the `with` is the current token.
    fn parse_maxspan(&mut self) -> Result<TimeSpan, Diagnostic> {
        self.bump();
        if !self.at_kw(Keyword::Maxspan) {
            return Err(self.unexpected("`maxspan`"));
        }
        self.bump();
        self.expect_assign("maxspan")?;
        let num = self.bump();
        let value = match num.kind {
            TokenKind::Int(n) if n > 0 => n as u64,
            TokenKind::Int(_) => {
                return Err(Diagnostic::new(
                    format!("maxspan must be positive, found {}", self.written(&num)),
                    num.span,
                ));
            }
            TokenKind::Float(_) if self.is_written_integer(&num) => {
                return Err(Diagnostic::new(
                    format!("maxspan {} is too large", self.describe(&num)),
                    num.span,
                ));
            }
            TokenKind::Float(_) => {
                return Err(Diagnostic::new(
                    format!(
                        "maxspan must be a positive integer, found {}",
                        self.describe(&num)
                    ),
                    num.span,
                )
                .with_hint("write a whole number of a smaller unit, e.g. `1500ms`"));
            }
            TokenKind::Minus => {
                let next = self.peek();
                let (found, span) = match &next.kind {
                    TokenKind::Int(_) => (
                        format!(", found -{}", self.written(next)),
                        num.span.to(next.span),
                    ),
                    _ => (String::new(), num.span),
                };
                return Err(Diagnostic::new(
                    format!("maxspan must be positive{found}"),
                    span,
                ));
            }
            _ => {
                return Err(Diagnostic::new(
                    format!(
                        "expected a maxspan such as `5m`, found {}",
                        self.describe(&num)
                    ),
                    num.span,
                ));
            }
        };
        let unit_tok = self.peek().clone();
        let unit = match &unit_tok.kind {
            TokenKind::Ident(u) => match u.as_str() {
                "ms" => TimeUnit::Millis,
                "s" => TimeUnit::Seconds,
                "m" => TimeUnit::Minutes,
                "h" => TimeUnit::Hours,
                "d" => TimeUnit::Days,
                other => {
                    return Err(Diagnostic::new(
                        format!("unknown time unit `{other}`"),
                        unit_tok.span,
                    )
                    .with_hint("use one of ms, s, m, h, d"));
                }
            },
            _ => {
                return Err(Diagnostic::new("maxspan needs a time unit", num.span)
                    .with_hint(format!("use one of ms, s, m, h, d, e.g. `{value}s`")));
            }
        };
        self.bump();
        Ok(TimeSpan {
            value,
            unit,
            span: num.span.to(unit_tok.span),
        })
    }

    fn expect_assign(&mut self, what: &str) -> Result<(), Diagnostic> {
        if self.eat(&TokenKind::Assign).is_some() {
            return Ok(());
        }
        let mut d = self.unexpected(&format!("`=` after `{what}`"));
        if matches!(self.kind(), TokenKind::EqEq) {
            d = d.with_hint(format!("write `{what}=` with a single `=`"));
        }
        Err(d)
    }

    /// `[query] [by keys] [with runs=N]`, or `![query] …` when
    /// `allow_missing`.
    fn parse_term(&mut self, allow_missing: bool) -> Result<SeqTerm, Diagnostic> {
        let open = self.bump();
        let missing = matches!(open.kind, TokenKind::MissingOpen);
        if missing && !allow_missing {
            return Err(Diagnostic::new(
                "missing events `![...]` are only allowed in sequences",
                open.span,
            ));
        }
        let query = self.parse_event_query()?;
        let opener = if missing { "![" } else { "[" };
        self.expect_close(&TokenKind::RBracket, "`]`", open.span, opener)?;
        let by = self.parse_by_keys()?;
        let mut runs = None;
        if self.at_kw(Keyword::With) {
            let with = self.bump();
            let key = self.peek().clone();
            match &key.kind {
                TokenKind::Ident(k) if k == "runs" => {
                    self.bump();
                }
                TokenKind::Kw(Keyword::Maxspan) => {
                    return Err(Diagnostic::new(
                        "maxspan goes after `sequence`, not after a term",
                        key.span,
                    )
                    .with_hint("write `sequence with maxspan=...` before the first term"));
                }
                _ => return Err(self.unexpected("`runs`")),
            }
            self.expect_assign("runs")?;
            let num = self.bump();
            let n = match num.kind {
                TokenKind::Int(n) if (1..=MAX_RUNS as i64).contains(&n) => n as u32,
                _ if self.is_written_integer(&num) => {
                    return Err(Diagnostic::new(
                        format!(
                            "runs must be between 1 and {MAX_RUNS}, found {}",
                            self.written(&num)
                        ),
                        num.span,
                    ));
                }
                _ => {
                    return Err(Diagnostic::new(
                        format!(
                            "expected an integer after `runs=`, found {}",
                            self.describe(&num)
                        ),
                        num.span,
                    ));
                }
            };
            runs = Some((n, with.span.to(num.span)));
        }
        Ok(SeqTerm {
            query,
            by,
            runs,
            missing,
            span: self.span_from(open.span.start),
        })
    }

    /// `by k1, k2…` if present; keys are expressions (the checker insists
    /// they are fields).
    fn parse_by_keys(&mut self) -> Result<Vec<Expr>, Diagnostic> {
        let mut keys = Vec::new();
        if self.eat_kw(Keyword::By).is_none() {
            return Ok(keys);
        }
        keys.push(self.parse_expr()?);
        while self.eat(&TokenKind::Comma).is_some() {
            keys.push(self.parse_expr()?);
        }
        Ok(keys)
    }

    fn parse_sample(&mut self) -> Result<Sample, Diagnostic> {
        let start = self.bump().span.start;
        let by = self.parse_by_keys()?;
        if let Some(t) = self.eat_kw(Keyword::With) {
            return Err(
                Diagnostic::new("a sample takes no `with` parameters", t.span)
                    .with_hint("maxspan and runs apply to sequences only"),
            );
        }
        let mut filters = Vec::new();
        loop {
            match self.kind() {
                TokenKind::LBracket => {
                    let term = self.parse_term(false)?;
                    if let Some((_, span)) = term.runs {
                        return Err(Diagnostic::new("`runs` is not supported in a sample", span));
                    }
                    filters.push(term);
                }
                TokenKind::MissingOpen => {
                    return Err(Diagnostic::new(
                        "missing events `![...]` are only allowed in sequences",
                        self.peek().span,
                    ));
                }
                _ => break,
            }
        }
        if filters.is_empty() {
            return Err(self.unexpected("a sample filter `[`"));
        }
        if let Some(t) = self.eat_kw(Keyword::Until) {
            return Err(Diagnostic::new(
                "`until` is not supported in a sample",
                t.span,
            ));
        }
        let sample = Sample {
            by,
            filters,
            span: self.span_from(start),
        };
        if !matches!(self.kind(), TokenKind::Pipe | TokenKind::Eof) {
            return Err(self.unexpected("`[` or end of query"));
        }
        check_join_keys(sample.filters.iter())?;
        if sample.by.is_empty() && sample.filters.iter().all(|f| f.by.is_empty()) {
            return Err(
                Diagnostic::new("a sample needs at least one join key", sample.span)
                    .with_hint("add `by <field>` after `sample` or after each filter"),
            );
        }
        Ok(sample)
    }

    fn parse_pipes(&mut self, body: &QueryBody) -> Result<Vec<Pipe>, Diagnostic> {
        let mut pipes = Vec::new();
        while let Some(bar) = self.eat(&TokenKind::Pipe) {
            if matches!(body, QueryBody::Sample(_)) {
                return Err(Diagnostic::new(
                    "pipes are not supported after a sample",
                    bar.span,
                ));
            }
            let name_tok = self.peek().clone();
            let name = match &name_tok.kind {
                TokenKind::Ident(n) => n.clone(),
                _ => return Err(self.unexpected("a pipe name")),
            };
            self.bump();
            let head = match name.as_str() {
                "head" => true,
                "tail" => false,
                n if UNSUPPORTED_PIPES.contains(&n) => {
                    return Err(Diagnostic::new(
                        format!("pipe `{n}` is not supported"),
                        name_tok.span,
                    )
                    .with_hint("only `head` and `tail` are supported"));
                }
                n => {
                    let hint = match ["head", "tail"]
                        .into_iter()
                        .find(|p| edit_distance(p, n) <= 2)
                    {
                        Some(p) => format!("did you mean `{p}`?"),
                        None => "only `head` and `tail` are supported".to_string(),
                    };
                    return Err(
                        Diagnostic::new(format!("unrecognized pipe `{n}`"), name_tok.span)
                            .with_hint(hint),
                    );
                }
            };
            let arg = self.peek().clone();
            let n = match arg.kind {
                TokenKind::Int(n) if n >= 0 => n as u64,
                TokenKind::Eof | TokenKind::Pipe => {
                    return Err(Diagnostic::new(
                        format!("pipe `{name}` needs a count, e.g. `| {name} 10`"),
                        name_tok.span,
                    ));
                }
                _ => {
                    let found = if matches!(arg.kind, TokenKind::Minus) {
                        "a negative number".to_string()
                    } else {
                        self.describe(&arg)
                    };
                    return Err(Diagnostic::new(
                        format!("pipe `{name}` expects a non-negative integer, found {found}"),
                        arg.span,
                    ));
                }
            };
            self.bump();
            let span = bar.span.to(arg.span);
            pipes.push(if head {
                Pipe::Head(n, span)
            } else {
                Pipe::Tail(n, span)
            });
        }
        Ok(pipes)
    }
}

/// The checks Elasticsearch makes on a parsed sequence.
fn check_sequence(seq: &Sequence) -> Result<(), Diagnostic> {
    let expanded: u64 = seq
        .terms
        .iter()
        .map(|t| t.runs.map_or(1, |(n, _)| u64::from(n)))
        .sum();
    if expanded < 2 {
        let only = seq.terms.first().map_or(seq.span, |t| t.span);
        return Err(
            Diagnostic::new("a sequence needs at least two terms, found 1", only)
                .with_hint("add a term, or repeat this one with `with runs=N`"),
        );
    }
    if seq.terms.iter().all(|t| t.missing) {
        return Err(Diagnostic::new(
            "a sequence needs at least one term that is not missing",
            seq.span,
        ));
    }
    if seq.maxspan.is_none() {
        if let Some(t) = seq.terms.iter().find(|t| t.missing) {
            return Err(
                Diagnostic::new("missing events `![...]` require a maxspan", t.span)
                    .with_hint("add `with maxspan=...` after `sequence`"),
            );
        }
    }
    check_join_keys(seq.terms.iter().chain(seq.until.iter()))
}

/// Every term must have the same number of its own `by` keys.
fn check_join_keys<'a>(terms: impl Iterator<Item = &'a SeqTerm>) -> Result<(), Diagnostic> {
    let mut expected: Option<usize> = None;
    for term in terms {
        let n = term.by.len();
        match expected {
            None => expected = Some(n),
            Some(e) if e != n => {
                let span = match (term.by.first(), term.by.last()) {
                    (Some(a), Some(b)) => a.span.to(b.span),
                    _ => term.span,
                };
                return Err(Diagnostic::new(
                    format!("inconsistent number of join keys: expected {e}, found {n}"),
                    span,
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Hints for tokens that are common mistakes wherever they turn up.
pub(super) fn token_hint(kind: &TokenKind) -> Option<String> {
    match kind {
        TokenKind::Ident(w) => Keyword::from_word_ignoring_case(w)
            .map(|k| format!("keywords are lowercase: `{}`", k.as_str())),
        TokenKind::Assign => Some("use `==` to compare".to_string()),
        _ => None,
    }
}

/// `SEQUENCE [...]` reads as a category named `SEQUENCE`; point out the
/// keyword instead of only complaining about the missing `where`.
fn category_keyword_hint(category: &Category, next: &TokenKind) -> Option<String> {
    let Category::Named(name, _) = category else {
        return None;
    };
    let kw = Keyword::from_word_ignoring_case(name)?;
    if matches!(
        kw,
        Keyword::Sequence | Keyword::Sample | Keyword::Join | Keyword::Any
    ) || matches!(next, TokenKind::Ident(w) if w.eq_ignore_ascii_case("where"))
    {
        return Some(format!("keywords are lowercase: `{}`", kw.as_str()));
    }
    None
}

fn category_name(category: &Category) -> &str {
    match category {
        Category::Any(_) => "any",
        Category::Named(n, _) => n,
    }
}
