//! The expression parser: precedence climbing over the levels of the
//! Elasticsearch grammar, highest first: unary `- +`; `* / %`; `+ -`;
//! comparison / `in` / `like` / `regex` / `:` (non-associative); `not`;
//! `and`; `or`.
//!
//! Guarantees:
//! - every [`Expr`] has the exact span of its text; a parenthesized
//!   expression's span includes its parentheses, so `(a) and b` spans the
//!   whole text;
//! - no input can overflow the stack, here or in a later recursive walk of
//!   the tree: parser recursion (parentheses, `not`, unary signs, call
//!   arguments, lists) stops at [`MAX_NESTING`] levels, and the finished tree
//!   is at most [`MAX_TREE_DEPTH`] deep (long `and`/`or` chains are built by
//!   a loop but still make deep left-leaning trees).
//!
//! The functions on the recursive path (`parse_binary`, `parse_prefix`,
//! `parse_primary`, `parse_comparison_rest`, `parse_list`, `parse_call`) keep
//! their frames small by leaving node building and error messages to
//! separate functions: in unoptimized builds every temporary of a big match
//! gets its own stack slot, and 200 levels must fit in a 2 MiB test thread.

use super::ast::*;
use super::lexer::{self, Keyword, TokenKind};
use super::parser::Parser;
use crate::diag::Diagnostic;

/// How deeply the parser may recurse into nested expressions.
pub const MAX_NESTING: usize = 200;

/// How deep the syntax tree of one expression may be.
pub const MAX_TREE_DEPTH: u32 = 1000;

/// Binding strength of each level, loosest first. The printer uses the same
/// numbers.
pub(super) const OR: u8 = 1;
pub(super) const AND: u8 = 2;
pub(super) const NOT: u8 = 3;
pub(super) const CMP: u8 = 4;
pub(super) const ADD: u8 = 5;
pub(super) const MUL: u8 = 6;
pub(super) const UNARY: u8 = 7;

/// An expression with the depth of its tree.
pub(super) struct Node {
    expr: Expr,
    depth: u32,
}

#[derive(Clone, Copy)]
enum BinOp {
    Or,
    And,
    Arith(ArithOp),
}

/// What follows an operand.
#[derive(Clone, Copy)]
enum Next {
    Binary(BinOp, u8),
    /// Any comparison-level operator; `parse_comparison_rest` reads it.
    Comparison,
}

#[derive(Clone, Copy)]
enum CmpKind {
    Compare(CmpOp),
    Match(MatchOp),
    In { insensitive: bool, negated: bool },
}

impl Parser<'_> {
    /// A full expression (an `or` chain).
    pub(super) fn parse_expr(&mut self) -> Result<Expr, Diagnostic> {
        self.nested().map(|n| n.expr)
    }

    /// A full expression one nesting level down.
    fn nested(&mut self) -> Result<Node, Diagnostic> {
        self.enter()?;
        let n = self.parse_binary(OR);
        self.depth -= 1;
        n
    }

    fn enter(&mut self) -> Result<(), Diagnostic> {
        if self.depth >= MAX_NESTING {
            return Err(self.too_nested());
        }
        self.depth += 1;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn too_nested(&self) -> Diagnostic {
        Diagnostic::new(
            format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
            self.peek().span,
        )
    }

    /// The binary operator at the current token and its level.
    fn binary_op(&self) -> Option<Next> {
        let (op, level) = match self.kind() {
            TokenKind::Kw(Keyword::Or) => (BinOp::Or, OR),
            TokenKind::Kw(Keyword::And) => (BinOp::And, AND),
            TokenKind::Plus => (BinOp::Arith(ArithOp::Add), ADD),
            TokenKind::Minus => (BinOp::Arith(ArithOp::Sub), ADD),
            TokenKind::Star => (BinOp::Arith(ArithOp::Mul), MUL),
            TokenKind::Slash => (BinOp::Arith(ArithOp::Div), MUL),
            TokenKind::Percent => (BinOp::Arith(ArithOp::Mod), MUL),
            _ => return self.comparison_op().map(|_| Next::Comparison),
        };
        Some(Next::Binary(op, level))
    }

    /// Operators binding at `min` or tighter, left-associative; comparisons
    /// take one right operand and do not chain.
    fn parse_binary(&mut self, min: u8) -> Result<Node, Diagnostic> {
        let mut left = self.parse_prefix(min)?;
        loop {
            let (op, level) = match self.binary_op() {
                None => {
                    self.check_after_operand()?;
                    return Ok(left);
                }
                Some(Next::Comparison) if min <= CMP => {
                    left = self.parse_comparison_rest(left)?;
                    continue;
                }
                Some(Next::Binary(op, level)) if level >= min => (op, level),
                Some(_) => return Ok(left),
            };
            self.bump();
            let right = self.parse_binary(level + 1)?;
            left = combine(op, left, right)?;
        }
    }

    /// Tokens that are never valid after an operand but are likely
    /// mistakes: `=` for `==`, and `not` without `in`.
    fn check_after_operand(&self) -> Result<(), Diagnostic> {
        match self.kind() {
            TokenKind::Assign => Err(self.single_equals()),
            TokenKind::Kw(Keyword::Not) => Err(self.not_without_in()),
            _ => Ok(()),
        }
    }

    #[cold]
    #[inline(never)]
    fn single_equals(&self) -> Diagnostic {
        Diagnostic::new("unexpected `=`", self.peek().span).with_hint("use `==` to compare")
    }

    #[cold]
    #[inline(never)]
    fn not_without_in(&self) -> Diagnostic {
        let t = self.peek_nth(1);
        let d = Diagnostic::new(
            format!(
                "expected `in` or `in~` after `not`, found {}",
                self.describe(t)
            ),
            t.span,
        );
        match &t.kind {
            TokenKind::Kw(k) => {
                d.with_hint(format!("negate the whole test: `not x {} ...`", k.as_str()))
            }
            _ => d,
        }
    }

    /// `not`, unary signs, or a primary. `not` is only allowed where the
    /// level is loose enough (`a == not b` is an error, as in
    /// Elasticsearch).
    fn parse_prefix(&mut self, min: u8) -> Result<Node, Diagnostic> {
        let prefix = match self.kind() {
            TokenKind::Kw(Keyword::Not) if min <= NOT => NOT,
            TokenKind::Minus | TokenKind::Plus => UNARY,
            _ => return self.parse_primary(),
        };
        let op = self.bump();
        self.enter()?;
        let inner = if prefix == NOT {
            self.parse_binary(NOT)
        } else {
            self.parse_prefix(UNARY)
        };
        self.depth -= 1;
        prefix_node(&op.kind, op.span, inner?)
    }

    /// The comparison-level operator at the current token; `not in` counts
    /// as one (two tokens).
    fn comparison_op(&self) -> Option<(CmpKind, usize)> {
        let k = match self.kind() {
            TokenKind::EqEq => CmpKind::Compare(CmpOp::Eq),
            TokenKind::NotEq => CmpKind::Compare(CmpOp::Ne),
            TokenKind::Lt => CmpKind::Compare(CmpOp::Lt),
            TokenKind::Le => CmpKind::Compare(CmpOp::Le),
            TokenKind::Gt => CmpKind::Compare(CmpOp::Gt),
            TokenKind::Ge => CmpKind::Compare(CmpOp::Ge),
            TokenKind::Colon => CmpKind::Match(MatchOp::Colon),
            TokenKind::Kw(Keyword::Like) => CmpKind::Match(MatchOp::Like),
            TokenKind::Kw(Keyword::LikeTilde) => CmpKind::Match(MatchOp::LikeInsensitive),
            TokenKind::Kw(Keyword::Regex) => CmpKind::Match(MatchOp::Regex),
            TokenKind::Kw(Keyword::RegexTilde) => CmpKind::Match(MatchOp::RegexInsensitive),
            TokenKind::Kw(Keyword::In) => CmpKind::In {
                insensitive: false,
                negated: false,
            },
            TokenKind::Kw(Keyword::InTilde) => CmpKind::In {
                insensitive: true,
                negated: false,
            },
            TokenKind::Kw(Keyword::Not) => {
                let insensitive = match self.peek_nth(1).kind {
                    TokenKind::Kw(Keyword::In) => false,
                    TokenKind::Kw(Keyword::InTilde) => true,
                    _ => return None,
                };
                return Some((
                    CmpKind::In {
                        insensitive,
                        negated: true,
                    },
                    2,
                ));
            }
            _ => return None,
        };
        Some((k, 1))
    }

    /// The operator and right side of a comparison whose left side is
    /// `left`; the current token is the operator.
    fn parse_comparison_rest(&mut self, left: Node) -> Result<Node, Diagnostic> {
        let Some((op, ntok)) = self.comparison_op() else {
            return Ok(left);
        };
        for _ in 0..ntok {
            self.bump();
        }
        let node = match op {
            CmpKind::Compare(op) => {
                let right = self.parse_binary(ADD)?;
                compare_node(op, left, right)?
            }
            CmpKind::Match(_) if !matches!(self.kind(), TokenKind::LParen) => {
                let right = self.parse_binary(ADD)?;
                let span = right.expr.span;
                set_node(op, left, vec![right.expr], right.depth, span)?
            }
            CmpKind::In { .. } if !matches!(self.kind(), TokenKind::LParen) => {
                return Err(self.in_without_list());
            }
            _ => {
                let (items, depth, span) = self.parse_list()?;
                set_node(op, left, items, depth, span)?
            }
        };
        if self.comparison_op().is_some() {
            return Err(self.chained_comparison());
        }
        Ok(node)
    }

    #[cold]
    #[inline(never)]
    fn in_without_list(&self) -> Diagnostic {
        self.unexpected("`(` to start the list")
            .with_hint("write the values in parentheses: `x in (\"a\", \"b\")`")
    }

    #[cold]
    #[inline(never)]
    fn chained_comparison(&self) -> Diagnostic {
        Diagnostic::new("comparison operators cannot be chained", self.peek().span)
            .with_hint("combine the comparisons with `and`, e.g. `a < b and b <= c`")
    }

    /// `( e1, e2, … )` at the current `(`.
    fn parse_list(&mut self) -> Result<(Vec<Expr>, u32, Span), Diagnostic> {
        let open = self.bump().span;
        let mut items = Vec::new();
        let mut depth = 0;
        loop {
            let item = self.nested()?;
            depth = depth.max(item.depth);
            items.push(item.expr);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        let close = self
            .expect_close(&TokenKind::RParen, "`,` or `)`", open, "(")?
            .span;
        Ok((items, depth, open.to(close)))
    }

    fn parse_primary(&mut self) -> Result<Node, Diagnostic> {
        if !matches!(self.kind(), TokenKind::LParen) {
            return self.parse_atom();
        }
        let open = self.bump().span;
        let mut inner = self.nested()?;
        let close = self
            .expect_close(&TokenKind::RParen, "`)`", open, "(")?
            .span;
        inner.expr.span = open.to(close);
        Ok(inner)
    }

    /// A literal, field or call: every primary but a parenthesized one.
    #[inline(never)]
    fn parse_atom(&mut self) -> Result<Node, Diagnostic> {
        let t = self.peek().clone();
        let lit = match t.kind {
            TokenKind::Int(n) => Literal::Int(n),
            TokenKind::Float(f) => Literal::Float(f),
            TokenKind::Str(s) | TokenKind::RawStr(s) => Literal::Str(s),
            TokenKind::Kw(Keyword::True) => Literal::Bool(true),
            TokenKind::Kw(Keyword::False) => Literal::Bool(false),
            TokenKind::Kw(Keyword::Null) => Literal::Null,
            TokenKind::Ident(name) => return self.parse_name(name),
            TokenKind::TildeIdent(name) => {
                if matches!(self.peek_nth(1).kind, TokenKind::LParen) {
                    return self.parse_call(name, true);
                }
                return Err(Diagnostic::new(
                    format!("expected `(` after `{name}~`"),
                    self.peek_nth(1).span,
                )
                .with_hint("`~` after a name marks a case-insensitive function call"));
            }
            TokenKind::Quoted(_) => return self.parse_field(false, t.span.start),
            TokenKind::Question => {
                self.bump();
                let field_follows =
                    matches!(self.kind(), TokenKind::Ident(_) | TokenKind::Quoted(_))
                        && !matches!(self.peek_nth(1).kind, TokenKind::LParen);
                if !field_follows {
                    return Err(self.unexpected("a field name after `?`"));
                }
                return self.parse_field(true, t.span.start);
            }
            TokenKind::Kw(Keyword::Not) => {
                // `not` where only an operand may stand: `a == not b`.
                return Err(self
                    .unexpected("an expression")
                    .with_hint("put the negation in parentheses: `(not ...)`"));
            }
            _ => return Err(self.unexpected("an expression")),
        };
        self.bump();
        Ok(Node {
            expr: Expr {
                kind: ExprKind::Literal(lit),
                span: t.span,
            },
            depth: 1,
        })
    }

    /// An identifier starting an operand: a call, a field, or one of the
    /// errors an identifier can start (`child of`, `NOT x`).
    fn parse_name(&mut self, name: String) -> Result<Node, Diagnostic> {
        if let Some(d) = self.misspelled_keyword(&name) {
            return Err(d);
        }
        let start = self.peek().span;
        match self.peek_nth(1).kind {
            TokenKind::LParen => self.parse_call(name, false),
            TokenKind::Kw(Keyword::Of) => Err(Diagnostic::new(
                "process relationships are not supported",
                start.to(self.peek_nth(1).span),
            )),
            _ => self.parse_field(false, start.start),
        }
    }

    /// `name(args)` or `name~(args)`, at the name.
    fn parse_call(&mut self, name: String, insensitive: bool) -> Result<Node, Diagnostic> {
        let name_span = self.bump().span;
        let open = self.bump().span;
        let mut args = Vec::new();
        let mut depth = 0;
        if self.eat(&TokenKind::RParen).is_none() {
            loop {
                let arg = self.nested()?;
                depth = depth.max(arg.depth);
                args.push(arg.expr);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect_close(&TokenKind::RParen, "`,` or `)`", open, "(")?;
        }
        let span = self.span_from(name_span.start);
        let kind = ExprKind::Call {
            name,
            name_span,
            insensitive,
            args,
        };
        make(kind, span, depth + 1)
    }

    /// A dotted field path at its first segment; `start` is where the field
    /// text begins (at the `?` of an optional field).
    fn parse_field(&mut self, optional: bool, start: u32) -> Result<Node, Diagnostic> {
        let mut path = String::new();
        loop {
            match &self.peek().kind {
                TokenKind::Ident(s) | TokenKind::Quoted(s) => path.push_str(s),
                TokenKind::Kw(k) => {
                    let hint = format!(
                        "write a keyword used as a name in backticks: {}",
                        lexer::quote_name(k.as_str())
                    );
                    return Err(self.unexpected("a field name").with_hint(hint));
                }
                _ => return Err(self.unexpected("a field name")),
            }
            self.bump();
            if self.eat(&TokenKind::Dot).is_none() {
                break;
            }
            path.push('.');
        }
        if matches!(self.kind(), TokenKind::LBracket)
            && matches!(self.peek_nth(1).kind, TokenKind::Int(_))
        {
            let open = self.peek().span;
            let end = match self.peek_nth(2).kind {
                TokenKind::RBracket => self.peek_nth(2).span,
                _ => self.peek_nth(1).span,
            };
            return Err(Diagnostic::new(
                "array indexes are not supported",
                open.to(end),
            ));
        }
        let span = self.span_from(start);
        make(ExprKind::Field(FieldRef { path, optional }), span, 1)
    }

    /// `NOT x`, `NOT(x)` and the like: an uppercase keyword where an operand
    /// starts, followed by something no field could be followed by.
    fn misspelled_keyword(&self, word: &str) -> Option<Diagnostic> {
        let kw = Keyword::from_word_ignoring_case(word)?;
        let next = &self.peek_nth(1).kind;
        let operand_follows = matches!(
            next,
            TokenKind::Ident(_)
                | TokenKind::TildeIdent(_)
                | TokenKind::Quoted(_)
                | TokenKind::Str(_)
                | TokenKind::RawStr(_)
                | TokenKind::Int(_)
                | TokenKind::Float(_)
                | TokenKind::Question
                | TokenKind::Kw(_)
        ) || (kw == Keyword::Not && matches!(next, TokenKind::LParen));
        if !operand_follows || matches!(next, TokenKind::Kw(k) if k.is_binary_operator()) {
            return None;
        }
        Some(
            Diagnostic::new(format!("unexpected `{word}`"), self.peek().span)
                .with_hint(format!("keywords are lowercase: `{}`", kw.as_str())),
        )
    }
}

/// A node, unless it would make the tree deeper than [`MAX_TREE_DEPTH`].
fn make(kind: ExprKind, span: Span, depth: u32) -> Result<Node, Diagnostic> {
    if depth > MAX_TREE_DEPTH {
        return Err(too_deep(span));
    }
    Ok(Node {
        expr: Expr { kind, span },
        depth,
    })
}

#[cold]
#[inline(never)]
fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        format!("expression too deep (more than {MAX_TREE_DEPTH} nested operators)"),
        span,
    )
    .with_hint("split the condition, or use `in (...)` for long lists of alternatives")
}

#[inline(never)]
fn combine(op: BinOp, left: Node, right: Node) -> Result<Node, Diagnostic> {
    let span = left.expr.span.to(right.expr.span);
    let depth = left.depth.max(right.depth) + 1;
    let (l, r) = (Box::new(left.expr), Box::new(right.expr));
    let kind = match op {
        BinOp::Or => ExprKind::Or(l, r),
        BinOp::And => ExprKind::And(l, r),
        BinOp::Arith(a) => ExprKind::Arith(a, l, r),
    };
    make(kind, span, depth)
}

/// `not x`, `-x`, or `+x` (the plus is dropped; the operand takes over its
/// text).
#[inline(never)]
fn prefix_node(op: &TokenKind, op_span: Span, inner: Node) -> Result<Node, Diagnostic> {
    let span = op_span.to(inner.expr.span);
    let kind = match op {
        TokenKind::Kw(Keyword::Not) => ExprKind::Not(Box::new(inner.expr)),
        TokenKind::Minus => ExprKind::Neg(Box::new(inner.expr)),
        _ => {
            let mut inner = inner;
            inner.expr.span = span;
            return Ok(inner);
        }
    };
    make(kind, span, inner.depth + 1)
}

#[inline(never)]
fn compare_node(op: CmpOp, left: Node, right: Node) -> Result<Node, Diagnostic> {
    let span = left.expr.span.to(right.expr.span);
    let depth = left.depth.max(right.depth) + 1;
    let kind = ExprKind::Compare(op, Box::new(left.expr), Box::new(right.expr));
    make(kind, span, depth)
}

/// A match (`:`, `like`, `regex`…) or membership (`in`…) test: a value and
/// one or more items, `items_span` covering the written items.
#[inline(never)]
fn set_node(
    op: CmpKind,
    left: Node,
    items: Vec<Expr>,
    items_depth: u32,
    items_span: Span,
) -> Result<Node, Diagnostic> {
    let span = left.expr.span.to(items_span);
    let depth = left.depth.max(items_depth) + 1;
    let value = Box::new(left.expr);
    let kind = match op {
        CmpKind::Match(op) => ExprKind::Match {
            op,
            value,
            patterns: items,
        },
        CmpKind::In {
            insensitive,
            negated,
        } => ExprKind::In {
            value,
            list: items,
            insensitive,
            negated,
        },
        CmpKind::Compare(op) => match items.into_iter().next() {
            Some(right) => ExprKind::Compare(op, value, Box::new(right)),
            None => return Err(Diagnostic::new("expected an operand", items_span)),
        },
    };
    make(kind, span, depth)
}
