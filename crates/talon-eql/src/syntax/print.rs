//! Canonical EQL text for a syntax tree: `Display` for [`Query`], [`Expr`]
//! and their parts.
//!
//! Guarantee: for any tree the parser produced, parsing the printed text
//! gives the same tree again, spans aside. To get there the printer adds
//! parentheses exactly where precedence needs them, re-escapes strings,
//! prints floats so they read back as floats, and quotes field paths and
//! categories that are not plain identifiers.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;
use super::expr::{ADD, AND, CMP, MUL, NOT, OR, UNARY};
use super::lexer::{is_plain_identifier, quote_string};

/// Literals, fields and calls bind tighter than any operator.
const ATOM: u8 = UNARY + 1;

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(..) => OR,
        ExprKind::And(..) => AND,
        ExprKind::Not(_) => NOT,
        ExprKind::Compare(..) | ExprKind::Match { .. } | ExprKind::In { .. } => CMP,
        ExprKind::Arith(ArithOp::Add | ArithOp::Sub, ..) => ADD,
        ExprKind::Arith(..) => MUL,
        ExprKind::Neg(_) => UNARY,
        ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Call { .. } => ATOM,
    }
}

/// Writes `e`, parenthesized when it binds more loosely than `min`.
fn write_at(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if level(e) < min {
        f.write_char('(')?;
        write_expr(f, e)?;
        f.write_char(')')
    } else {
        write_expr(f, e)
    }
}

fn write_list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    f.write_char('(')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_expr(f, item)?;
    }
    f.write_char(')')
}

fn write_expr(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Literal(l) => write!(f, "{l}"),
        ExprKind::Field(r) => write!(f, "{r}"),
        ExprKind::Not(inner) => {
            f.write_str("not ")?;
            write_at(f, inner, NOT)
        }
        ExprKind::And(a, b) => binary(f, a, "and", b, AND),
        ExprKind::Or(a, b) => binary(f, a, "or", b, OR),
        ExprKind::Compare(op, a, b) => {
            write_at(f, a, ADD)?;
            write!(f, " {} ", op.as_str())?;
            write_at(f, b, ADD)
        }
        ExprKind::Match {
            op,
            value,
            patterns,
        } => {
            write_at(f, value, ADD)?;
            write!(f, " {} ", op.as_str())?;
            match patterns.as_slice() {
                // An operator here would print as `x : (a) + b`, which reads
                // back as the list `(a)` followed by `+ b`; as a list of one
                // it reads back as the same single pattern.
                [one] => write_at(f, one, ATOM),
                many => write_list(f, many),
            }
        }
        ExprKind::In {
            value,
            list,
            insensitive,
            negated,
        } => {
            write_at(f, value, ADD)?;
            f.write_str(if *negated { " not in" } else { " in" })?;
            f.write_str(if *insensitive { "~ " } else { " " })?;
            write_list(f, list)
        }
        ExprKind::Arith(op, a, b) => {
            let lvl = level(e);
            binary(f, a, op.as_str(), b, lvl)
        }
        ExprKind::Neg(inner) => {
            f.write_char('-')?;
            // `- -x` rather than `--x`, and `- 5` stays a negated literal.
            if matches!(inner.kind, ExprKind::Neg(_)) {
                f.write_char(' ')?;
            }
            write_at(f, inner, UNARY)
        }
        ExprKind::Call {
            name,
            insensitive,
            args,
            ..
        } => {
            f.write_str(name)?;
            if *insensitive {
                f.write_char('~')?;
            }
            write_list_or_empty(f, args)
        }
    }
}

fn write_list_or_empty(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    if items.is_empty() {
        f.write_str("()")
    } else {
        write_list(f, items)
    }
}

/// A left-associative binary operator: the right operand needs parentheses
/// at its own level (`a - (b - c)`).
fn binary(f: &mut Formatter<'_>, a: &Expr, op: &str, b: &Expr, lvl: u8) -> fmt::Result {
    write_at(f, a, lvl)?;
    write!(f, " {op} ")?;
    write_at(f, b, lvl + 1)
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(n) => write!(f, "{n}"),
            // Debug formatting always keeps a `.` or an exponent, so the
            // text reads back as a float, and it round-trips exactly.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Str(s) => f.write_str(&quote_string(s)),
        }
    }
}

impl Display for FieldRef {
    /// Plain dotted segments when every segment is an identifier; otherwise
    /// the whole path in one pair of backticks, which the parser reads back
    /// as the same path.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.optional {
            f.write_char('?')?;
        }
        if self.path.split('.').all(is_plain_identifier) {
            f.write_str(&self.path)
        } else {
            write!(f, "`{}`", self.path.replace('`', "``"))
        }
    }
}

impl Display for Category {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Category::Any(_) => f.write_str("any"),
            Category::Named(n, _) if is_plain_identifier(n) => f.write_str(n),
            Category::Named(n, _) => f.write_str(&quote_string(n)),
        }
    }
}

impl Display for EventQuery {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} where {}", self.category, self.condition)
    }
}

impl Display for TimeSpan {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            TimeUnit::Millis => "ms",
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
        };
        write!(f, "{}{unit}", self.value)
    }
}

fn write_by(f: &mut Formatter<'_>, keys: &[Expr]) -> fmt::Result {
    for (i, k) in keys.iter().enumerate() {
        f.write_str(if i == 0 { " by " } else { ", " })?;
        write_expr(f, k)?;
    }
    Ok(())
}

impl Display for SeqTerm {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.missing { "![" } else { "[" })?;
        write!(f, "{}]", self.query)?;
        write_by(f, &self.by)?;
        if let Some((n, _)) = self.runs {
            write!(f, " with runs={n}")?;
        }
        Ok(())
    }
}

impl Display for Sequence {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("sequence")?;
        write_by(f, &self.by)?;
        if let Some(span) = &self.maxspan {
            write!(f, " with maxspan={span}")?;
        }
        for t in &self.terms {
            write!(f, "\n  {t}")?;
        }
        if let Some(u) = &self.until {
            write!(f, "\nuntil {u}")?;
        }
        Ok(())
    }
}

impl Display for Sample {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("sample")?;
        write_by(f, &self.by)?;
        for t in &self.filters {
            write!(f, "\n  {t}")?;
        }
        Ok(())
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Pipe::Head(n, _) => write!(f, "| head {n}"),
            Pipe::Tail(n, _) => write!(f, "| tail {n}"),
        }
    }
}

impl Display for QueryBody {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            QueryBody::Event(q) => write!(f, "{q}"),
            QueryBody::Sequence(s) => write!(f, "{s}"),
            QueryBody::Sample(s) => write!(f, "{s}"),
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.body)?;
        let multiline = !matches!(self.body, QueryBody::Event(_));
        for p in &self.pipes {
            f.write_str(if multiline { "\n" } else { " " })?;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
