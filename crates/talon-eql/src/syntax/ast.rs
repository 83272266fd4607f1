//! The EQL syntax tree. Every node carries the byte [`Span`] of the text it
//! came from, so that every later error can point at the source.
//!
//! The tree is what was written, nothing folded or rewritten: the checker
//! (`crate::plan`) decides types and semantics.

pub use super::span::Span;

/// A whole query: an event query, a sequence or a sample, and its pipes.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub body: QueryBody,
    pub pipes: Vec<Pipe>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QueryBody {
    Event(EventQuery),
    Sequence(Sequence),
    Sample(Sample),
}

/// `<category> where <condition>`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventQuery {
    pub category: Category,
    pub condition: Expr,
    pub span: Span,
}

/// The event category of an event query.
#[derive(Clone, Debug, PartialEq)]
pub enum Category {
    /// `any where`: every event, with or without a category.
    Any(Span),
    /// A name, written bare, in backticks, or as a string.
    Named(String, Span),
}

impl Category {
    pub fn span(&self) -> Span {
        match self {
            Category::Any(s) | Category::Named(_, s) => *s,
        }
    }
}

/// `sequence [by keys] [with maxspan=N] [term]... [until [term]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Keys from `sequence by ...`, shared by every term.
    pub by: Vec<Expr>,
    pub maxspan: Option<TimeSpan>,
    pub terms: Vec<SeqTerm>,
    pub until: Option<SeqTerm>,
    pub span: Span,
}

/// One bracketed term of a sequence or sample: `[query] by keys with runs=N`,
/// or a missing term `![query]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeqTerm {
    pub query: EventQuery,
    /// The term's own `by` keys.
    pub by: Vec<Expr>,
    /// `with runs=N`.
    pub runs: Option<(u32, Span)>,
    /// `![...]`: a missing event.
    pub missing: bool,
    pub span: Span,
}

/// `sample [by keys] [filter]...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub by: Vec<Expr>,
    pub filters: Vec<SeqTerm>,
    pub span: Span,
}

/// A duration literal such as `5m` in `maxspan=5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSpan {
    pub value: u64,
    pub unit: TimeUnit,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeSpan {
    /// The duration in nanoseconds (saturating).
    pub fn as_nanos(&self) -> i64 {
        let per: i64 = match self.unit {
            TimeUnit::Millis => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Minutes => 60_000_000_000,
            TimeUnit::Hours => 3_600_000_000_000,
            TimeUnit::Days => 86_400_000_000_000,
        };
        (self.value as i64).saturating_mul(per)
    }
}

/// A pipe after the query.
#[derive(Clone, Debug, PartialEq)]
pub enum Pipe {
    Head(u64, Span),
    Tail(u64, Span),
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Field(FieldRef),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `==` `!=` `<` `<=` `>` `>=`.
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `:`, `like`, `like~`, `regex`, `regex~` with one pattern or a list.
    Match {
        op: MatchOp,
        value: Box<Expr>,
        patterns: Vec<Expr>,
    },
    /// `in`, `in~`, `not in`, `not in~`.
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        insensitive: bool,
        negated: bool,
    },
    /// `+ - * / %`.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Unary minus (unary plus is dropped by the parser).
    Neg(Box<Expr>),
    /// A function call; `name` is as written, `insensitive` is a trailing `~`.
    Call {
        name: String,
        name_span: Span,
        insensitive: bool,
        args: Vec<Expr>,
    },
}

/// A field reference: a dotted path, optionally `?`-prefixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRef {
    /// The dotted path with backticks removed (`process.name`).
    pub path: String,
    /// Written as `?path`.
    pub optional: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// The string after escape processing.
    Str(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `:`: case-insensitive, wildcards.
    Colon,
    Like,
    LikeInsensitive,
    Regex,
    RegexInsensitive,
}

impl MatchOp {
    pub fn is_insensitive(self) -> bool {
        matches!(
            self,
            MatchOp::Colon | MatchOp::LikeInsensitive | MatchOp::RegexInsensitive
        )
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex | MatchOp::RegexInsensitive)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Colon => ":",
            MatchOp::Like => "like",
            MatchOp::LikeInsensitive => "like~",
            MatchOp::Regex => "regex",
            MatchOp::RegexInsensitive => "regex~",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl ArithOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}
