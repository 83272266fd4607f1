//! The expression parser: precedence climbing over the levels of the
//! Elasticsearch grammar, highest first: unary `- +`; `* / %`; `+ -`;
//! comparison / `in` / `like` / `regex` / `:` (non-associative); `not`;
//! `and`; `or`.
//!
//! Guarantees:
//! - every [`Expr`] has the exact span of its text; a parenthesized
//!   expression's span includes its parentheses, so `(a) and b` spans the
//!   whole text;
//! - nesting is bounded twice over, so no input can overflow the stack here
//!   or in any later recursive walk: parser recursion (parentheses, `not`,
//!   unary signs, calls, lists) stops at [`MAX_NESTING`], and the finished
//!   tree can be no deeper than [`MAX_TREE_DEPTH`] (long `and`/`or` chains
//!   are built iteratively but still make deep left-leaning trees).

use super::ast::*;
use super::lexer::{Keyword, TokenKind};
use super::parser::Parser;
use crate::diag::Diagnostic;

/// How deeply the parser may recurse into nested expressions.
pub const MAX_NESTING: usize = 200;

/// How deep the syntax tree of one expression may be.
pub const MAX_TREE_DEPTH: u32 = 1000;

/// An expression with the depth of its tree.
struct Node {
    expr: Expr,
    depth: u32,
}

impl Node {
    fn leaf(kind: ExprKind, span: Span) -> Node {
        Node {
            expr: Expr { kind, span },
            depth: 1,
        }
    }
}

enum CmpKind {
    Compare(CmpOp),
    Match(MatchOp),
    In { insensitive: bool, negated: bool },
}

impl Parser {
    /// A full expression (an `or` chain).
    pub(super) fn parse_expr(&mut self) -> Result<Expr, Diagnostic> {
        self.enter()?;
        let n = self.parse_or();
        self.depth -= 1;
        n.map(|n| n.expr)
    }

    fn enter(&mut self) -> Result<(), Diagnostic> {
        if self.depth >= MAX_NESTING {
            return Err(Diagnostic::new(
                format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
                self.peek().span,
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn nested(&mut self) -> Result<Node, Diagnostic> {
        self.enter()?;
        let n = self.parse_or();
        self.depth -= 1;
        n
    }

    fn join(&self, depth: u32, kind: ExprKind, span: Span) -> Result<Node, Diagnostic> {
        if depth > MAX_TREE_DEPTH {
            return Err(Diagnostic::new(
                format!("expression too deep (more than {MAX_TREE_DEPTH} nested operators)"),
                span,
            )
            .with_hint("split the condition, or use `in (...)` for long lists of alternatives"));
        }
        Ok(Node {
            expr: Expr { kind, span },
            depth,
        })
    }

    fn parse_or(&mut self) -> Result<Node, Diagnostic> {
        let mut left = self.parse_and()?;
        while self.eat_kw(Keyword::Or).is_some() {
            let right = self.parse_and()?;
            let span = left.expr.span.to(right.expr.span);
            let depth = left.depth.max(right.depth) + 1;
            let kind = ExprKind::Or(Box::new(left.expr), Box::new(right.expr));
            left = self.join(depth, kind, span)?;
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Node, Diagnostic> {
        let mut left = self.parse_not()?;
        while self.eat_kw(Keyword::And).is_some() {
            let right = self.parse_not()?;
            let span = left.expr.span.to(right.expr.span);
            let depth = left.depth.max(right.depth) + 1;
            let kind = ExprKind::And(Box::new(left.expr), Box::new(right.expr));
            left = self.join(depth, kind, span)?;
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> Result<Node, Diagnostic> {
        let Some(not) = self.eat_kw(Keyword::Not) else {
            return self.parse_comparison();
        };
        self.enter()?;
        let inner = self.parse_not();
        self.depth -= 1;
        let inner = inner?;
        let span = not.span.to(inner.expr.span);
        self.join(inner.depth + 1, ExprKind::Not(Box::new(inner.expr)), span)
    }

    /// The operator at the current token, if it is a comparison-level one;
    /// `not in` counts (two tokens).
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
            TokenKind::Kw(Keyword::Not) => match self.peek_nth(1).kind {
                TokenKind::Kw(Keyword::In) => {
                    return Some((
                        CmpKind::In {
                            insensitive: false,
                            negated: true,
                        },
                        2,
                    ))
                }
                TokenKind::Kw(Keyword::InTilde) => {
                    return Some((
                        CmpKind::In {
                            insensitive: true,
                            negated: true,
                        },
                        2,
                    ))
                }
                _ => return None,
            },
            _ => return None,
        };
        Some((k, 1))
    }

    fn parse_comparison(&mut self) -> Result<Node, Diagnostic> {
        let left = self.parse_additive()?;
        if matches!(self.kind(), TokenKind::Assign) {
            return Err(Diagnostic::new("unexpected `=`", self.peek().span)
                .with_hint("use `==` to compare"));
        }
        if self.at_kw(Keyword::Not) && self.comparison_op().is_none() {
            return Err(self.unexpected("`in` or `in~` after `not`"));
        }
        let Some((op, ntok)) = self.comparison_op() else {
            return Ok(left);
        };
        for _ in 0..ntok {
            self.bump();
        }
        let node = match op {
            CmpKind::Compare(op) => {
                let right = self.parse_additive()?;
                let span = left.expr.span.to(right.expr.span);
                let depth = left.depth.max(right.depth) + 1;
                let kind = ExprKind::Compare(op, Box::new(left.expr), Box::new(right.expr));
                self.join(depth, kind, span)?
            }
            CmpKind::Match(op) => {
                let (patterns, pdepth, end) = if matches!(self.kind(), TokenKind::LParen) {
                    self.parse_list()?
                } else {
                    let p = self.parse_additive()?;
                    let end = p.expr.span;
                    (vec![p.expr], p.depth, end)
                };
                let span = left.expr.span.to(end);
                let depth = left.depth.max(pdepth) + 1;
                let kind = ExprKind::Match {
                    op,
                    value: Box::new(left.expr),
                    patterns,
                };
                self.join(depth, kind, span)?
            }
            CmpKind::In {
                insensitive,
                negated,
            } => {
                if !matches!(self.kind(), TokenKind::LParen) {
                    return Err(self
                        .unexpected("`(` to start the list")
                        .with_hint("write the values in parentheses: `x in (\"a\", \"b\")`"));
                }
                let (list, ldepth, end) = self.parse_list()?;
                let span = left.expr.span.to(end);
                let depth = left.depth.max(ldepth) + 1;
                let kind = ExprKind::In {
                    value: Box::new(left.expr),
                    list,
                    insensitive,
                    negated,
                };
                self.join(depth, kind, span)?
            }
        };
        if self.comparison_op().is_some() {
            return Err(Diagnostic::new(
                "comparison operators cannot be chained",
                self.peek().span,
            )
            .with_hint("combine the comparisons with `and`, e.g. `a < b and b <= c`"));
        }
        Ok(node)
    }

    /// `( e1, e2, … )` at the current `(`; returns the items, their greatest
    /// depth and the span of the whole list.
    fn parse_list(&mut self) -> Result<(Vec<Expr>, u32, Span), Diagnostic> {
        let open = self.bump();
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
        let close = self.expect(&TokenKind::RParen, "`,` or `)`")?;
        Ok((items, depth, open.span.to(close.span)))
    }

    fn parse_additive(&mut self) -> Result<Node, Diagnostic> {
        let mut left = self.parse_multiplicative()?;
        loop {
            let op = match self.kind() {
                TokenKind::Plus => ArithOp::Add,
                TokenKind::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_multiplicative()?;
            left = self.arith(op, left, right)?;
        }
    }

    fn parse_multiplicative(&mut self) -> Result<Node, Diagnostic> {
        let mut left = self.parse_unary()?;
        loop {
            let op = match self.kind() {
                TokenKind::Star => ArithOp::Mul,
                TokenKind::Slash => ArithOp::Div,
                TokenKind::Percent => ArithOp::Mod,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_unary()?;
            left = self.arith(op, left, right)?;
        }
    }

    fn arith(&self, op: ArithOp, left: Node, right: Node) -> Result<Node, Diagnostic> {
        let span = left.expr.span.to(right.expr.span);
        let depth = left.depth.max(right.depth) + 1;
        self.join(
            depth,
            ExprKind::Arith(op, Box::new(left.expr), Box::new(right.expr)),
            span,
        )
    }

    fn parse_unary(&mut self) -> Result<Node, Diagnostic> {
        let negate = match self.kind() {
            TokenKind::Minus => true,
            TokenKind::Plus => false,
            _ => return self.parse_primary(),
        };
        let sign = self.bump();
        self.enter()?;
        let inner = self.parse_unary();
        self.depth -= 1;
        let mut inner = inner?;
        let span = sign.span.to(inner.expr.span);
        if negate {
            self.join(inner.depth + 1, ExprKind::Neg(Box::new(inner.expr)), span)
        } else {
            // Unary plus is dropped; the operand takes over its text.
            inner.expr.span = span;
            Ok(inner)
        }
    }

    fn parse_primary(&mut self) -> Result<Node, Diagnostic> {
        let t = self.peek().clone();
        let lit = match &t.kind {
            TokenKind::Int(n) => Some(Literal::Int(*n)),
            TokenKind::Float(f) => Some(Literal::Float(*f)),
            TokenKind::Str(s) | TokenKind::RawStr(s) => Some(Literal::Str(s.clone())),
            TokenKind::Kw(Keyword::True) => Some(Literal::Bool(true)),
            TokenKind::Kw(Keyword::False) => Some(Literal::Bool(false)),
            TokenKind::Kw(Keyword::Null) => Some(Literal::Null),
            _ => None,
        };
        if let Some(lit) = lit {
            self.bump();
            return Ok(Node::leaf(ExprKind::Literal(lit), t.span));
        }
        match &t.kind {
            TokenKind::LParen => {
                self.bump();
                let mut inner = self.nested()?;
                let close = self.expect(&TokenKind::RParen, "`)`")?;
                inner.expr.span = t.span.to(close.span);
                Ok(inner)
            }
            TokenKind::Ident(name) => {
                if matches!(self.peek_nth(1).kind, TokenKind::LParen) {
                    return self.parse_call(name.clone(), false);
                }
                if matches!(self.peek_nth(1).kind, TokenKind::Kw(Keyword::Of)) {
                    let of = self.peek_nth(1).span;
                    return Err(Diagnostic::new(
                        "process relationships are not supported",
                        t.span.to(of),
                    ));
                }
                self.parse_field(false, t.span.start)
            }
            TokenKind::TildeIdent(name) => {
                if matches!(self.peek_nth(1).kind, TokenKind::LParen) {
                    return self.parse_call(name.clone(), true);
                }
                Err(Diagnostic::new(
                    format!("expected `(` after `{name}~`"),
                    self.peek_nth(1).span,
                )
                .with_hint("`~` after a name marks a case-insensitive function call"))
            }
            TokenKind::Quoted(_) => self.parse_field(false, t.span.start),
            TokenKind::Question => {
                self.bump();
                match self.kind() {
                    TokenKind::Ident(_) | TokenKind::Quoted(_)
                        if !matches!(self.peek_nth(1).kind, TokenKind::LParen) =>
                    {
                        self.parse_field(true, t.span.start)
                    }
                    _ => Err(self.unexpected("a field name after `?`")),
                }
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// `name(args)` or `name~(args)`, at the name.
    fn parse_call(&mut self, name: String, insensitive: bool) -> Result<Node, Diagnostic> {
        let name_tok = self.bump();
        self.bump();
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
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
        }
        let span = self.span_from(name_tok.span.start);
        let kind = ExprKind::Call {
            name,
            name_span: name_tok.span,
            insensitive,
            args,
        };
        self.join(depth + 1, kind, span)
    }

    /// A dotted field path at its first segment; `start` is where the field
    /// text begins (at the `?` of an optional field).
    fn parse_field(&mut self, optional: bool, start: u32) -> Result<Node, Diagnostic> {
        let mut path = String::new();
        loop {
            let seg = self.peek().clone();
            match &seg.kind {
                TokenKind::Ident(s) | TokenKind::Quoted(s) => path.push_str(s),
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
        Ok(Node::leaf(
            ExprKind::Field(FieldRef { path, optional }),
            span,
        ))
    }
}
