//! The compiled forms of a condition.
//!
//! - [`Ty`]: the type of an expression as the checker infers it;
//! - [`TExpr`]: a typed expression tree, resolved against the mapping and
//!   rewritten by the optimizer rules (null checks, folding, literal swap);
//! - [`Cond`]: the executable plan: boolean structure over [`Leaf`] tests.
//!   Every leaf is two-valued: it holds when *some* combination of the
//!   field values makes the test true (a missing field is one null value),
//!   which is how both Elasticsearch's field queries and its multi-value
//!   aware scripts decide a document;
//! - [`SExpr`]: the expression a script leaf evaluates with null
//!   propagation.

use std::sync::Arc;

use crate::ast::{ArithOp, CmpOp, Span};
use rustc_hash::FxHashSet;
use talon_event::{Binding, Fields};

use crate::eval::ip::IpRange;
use crate::eval::patterns::Patterns;
use crate::eval::regex::RegexMatcher;
use crate::eval::text::ci_term_eq;
use crate::eval::value::{FieldKind, RVal};
use crate::eval::version::VersionKey;
use crate::eval::wildcard::Wildcard;

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Null,
    Bool,
    /// A Java int (integer literals that fit, `length`, `indexOf`).
    Int,
    Long,
    Double,
    Keyword,
    /// `text` without a keyword sub-field: not usable in comparisons.
    Text,
    Date,
    DateNanos,
    Ip,
    Version,
    /// No mapping and no ECS type: decided per value at run time.
    Dynamic,
    Object,
    Unsupported,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Bool => "boolean",
            Ty::Int => "integer",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::Keyword => "keyword",
            Ty::Text => "text",
            Ty::Date => "date",
            Ty::DateNanos => "date_nanos",
            Ty::Ip => "ip",
            Ty::Version => "version",
            Ty::Dynamic => "dynamic",
            Ty::Object => "object",
            Ty::Unsupported => "unsupported",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Long | Ty::Double)
    }

    pub fn is_string(self) -> bool {
        matches!(self, Ty::Keyword | Ty::Text)
    }

    pub fn is_date(self) -> bool {
        matches!(self, Ty::Date | Ty::DateNanos)
    }

    /// QL's `areCompatible`: same type, null on either side, both strings,
    /// both numbers or both dates. A dynamic (unmapped) type is compatible
    /// with anything: its real type is unknown until run time.
    pub fn compatible(self, other: Ty) -> bool {
        self == other
            || matches!(self, Ty::Null | Ty::Dynamic)
            || matches!(other, Ty::Null | Ty::Dynamic)
            || (self.is_string() && other.is_string())
            || (self.is_numeric() && other.is_numeric())
            || (self.is_date() && other.is_date())
    }

    /// The type of the value of a literal.
    pub fn of(v: &RVal) -> Ty {
        match v {
            RVal::Null => Ty::Null,
            RVal::Bool(_) => Ty::Bool,
            RVal::Int(_) => Ty::Int,
            RVal::Long(_) => Ty::Long,
            RVal::Double(_) => Ty::Double,
            RVal::Str(_) => Ty::Keyword,
            RVal::Date(_) => Ty::Date,
        }
    }
}

/// A resolved field: the path to read (aliases followed) and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    pub path: Arc<str>,
    pub kind: FieldKind,
    pub ty: Ty,
    /// Written `?path` (here or elsewhere in the query).
    pub optional: bool,
}

/// The functions of EQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Between,
    CidrMatch,
    Concat,
    EndsWith,
    IndexOf,
    Length,
    Number,
    StartsWith,
    String,
    StringContains,
    Substring,
}

impl Func {
    pub fn name(self) -> &'static str {
        match self {
            Func::Between => "between",
            Func::CidrMatch => "cidrMatch",
            Func::Concat => "concat",
            Func::EndsWith => "endsWith",
            Func::IndexOf => "indexOf",
            Func::Length => "length",
            Func::Number => "number",
            Func::StartsWith => "startsWith",
            Func::String => "string",
            Func::StringContains => "stringContains",
            Func::Substring => "substring",
        }
    }
}

/// A typed expression.
#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TKind {
    Lit(RVal),
    Field(FieldRef),
    Neg(Box<TExpr>),
    Arith(ArithOp, Box<TExpr>, Box<TExpr>),
    Cmp(CmpOp, Box<TExpr>, Box<TExpr>),
    /// Case-insensitive string equality (`:` without wildcards, `in~`).
    InsEq(Box<TExpr>, Box<TExpr>),
    /// One `like`/`like~`/`:` pattern with a wildcard.
    Like {
        value: Box<TExpr>,
        pattern: Arc<str>,
        ci: bool,
    },
    /// `regex`/`regex~`; a list is one pattern joined with `|`.
    Regex {
        value: Box<TExpr>,
        pattern: Arc<str>,
        ci: bool,
    },
    /// `in` with literal items (nulls included).
    In {
        value: Box<TExpr>,
        list: Vec<RVal>,
    },
    IsNull(Box<TExpr>),
    Not(Box<TExpr>),
    And(Vec<TExpr>),
    Or(Vec<TExpr>),
    Call {
        func: Func,
        ci: bool,
        args: Vec<TExpr>,
        cidrs: Vec<IpRange>,
    },
}

impl TExpr {
    pub fn lit(v: RVal, span: Span) -> TExpr {
        TExpr {
            ty: Ty::of(&v),
            kind: TKind::Lit(v),
            span,
        }
    }

    pub fn as_lit(&self) -> Option<&RVal> {
        match &self.kind {
            TKind::Lit(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_field(&self) -> bool {
        matches!(self.kind, TKind::Field(_))
    }
}

/// The executable condition.
#[derive(Clone, Debug)]
pub enum Cond {
    Const(bool),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Leaf(Box<Leaf>),
}

impl Cond {
    /// Calls `f` on every field slot of every leaf.
    pub fn for_each_slot(&mut self, f: &mut dyn FnMut(&mut Slot)) {
        match self {
            Cond::Const(_) => {}
            Cond::And(kids) | Cond::Or(kids) => kids.iter_mut().for_each(|k| k.for_each_slot(f)),
            Cond::Not(x) => x.for_each_slot(f),
            Cond::Leaf(l) => l.for_each_slot(f),
        }
    }
}

impl Leaf {
    /// Text that two leaves share exactly when they give the same answer
    /// on every event (same field, type and test); `None` for scripts,
    /// which are not compared.
    pub fn memo_key(&self) -> Option<String> {
        let field = |s: &Slot| format!("{}|{:?}", s.path, s.kind);
        Some(match self {
            Leaf::Exists(s) => format!("exists|{}", field(s)),
            Leaf::Term(s, TermSet::Str(set)) => {
                format!("term|{}|{}|{:?}", field(s), set.is_ci(), set.values())
            }
            Leaf::Term(s, set) => format!("term|{}|{set:?}", field(s)),
            Leaf::Range(s, op, bound) => format!("range|{}|{op:?}|{bound:?}", field(s)),
            Leaf::Wildcard(s, pats) => {
                let pats: Vec<String> = pats.iter().map(|p| p.semantic_key()).collect();
                format!("like|{}|{pats:?}", field(s))
            }
            Leaf::Regex(s, re) => format!("regex|{}|{re:?}", field(s)),
            Leaf::Script(_) => return None,
        })
    }

    /// The slot holding the leaf's memo number; `None` for scripts.
    pub fn memo_slot(&self) -> Option<&Slot> {
        match self {
            Leaf::Exists(s)
            | Leaf::Term(s, _)
            | Leaf::Range(s, _, _)
            | Leaf::Wildcard(s, _)
            | Leaf::Regex(s, _) => Some(s),
            Leaf::Script(_) => None,
        }
    }

    /// Calls `f` on every field slot the leaf reads.
    pub fn for_each_slot(&mut self, f: &mut dyn FnMut(&mut Slot)) {
        match self {
            Leaf::Exists(s)
            | Leaf::Term(s, _)
            | Leaf::Range(s, _, _)
            | Leaf::Wildcard(s, _)
            | Leaf::Regex(s, _) => f(s),
            Leaf::Script(sl) => sl.fields.iter_mut().for_each(f),
        }
    }
}

/// A field read by a leaf.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub path: Arc<str>,
    pub kind: FieldKind,
    /// The path's number in the catalog events are read through, once an
    /// engine binds the plan ([`crate::CompiledQuery::bind_fields`]).
    pub binding: Binding,
    /// The number of the leaf reading this slot among the leaves an
    /// engine remembers per event ([`crate::eval::Memo`]); `NO_MEMO` for
    /// none.
    pub memo: u32,
}

/// [`Slot::memo`] of a leaf whose answer is not remembered.
pub const NO_MEMO: u32 = u32::MAX;

impl Slot {
    pub fn new(path: Arc<str>, kind: FieldKind) -> Slot {
        Slot {
            path,
            kind,
            binding: Binding::NONE,
            memo: NO_MEMO,
        }
    }

    /// The field's values in `event`.
    pub fn values<'e>(&self, event: &'e dyn Fields) -> &'e [talon_event::Value] {
        event.values_bound(&self.path, self.binding)
    }
}

/// One two-valued test.
#[derive(Clone, Debug)]
pub enum Leaf {
    /// The field has a value (`x != null`).
    Exists(Slot),
    /// The field equals one of the values (`==`, `in`, `:`, `in~`).
    Term(Slot, TermSet),
    /// `<`, `<=`, `>`, `>=` against a literal.
    Range(Slot, CmpOp, Bound),
    /// Any of the wildcard patterns matches.
    Wildcard(Slot, Patterns),
    Regex(Slot, RegexMatcher),
    /// An expression evaluated per combination of field values.
    Script(ScriptLeaf),
}

/// The values a term leaf accepts, converted to the field's type.
#[derive(Clone, Debug)]
pub enum TermSet {
    Str(StrSet),
    Num(Vec<Num>),
    Bool(Vec<bool>),
    /// Inclusive nanosecond ranges (a date literal covers its precision).
    Date(Vec<(i64, i64)>),
    Ip(Vec<IpRange>),
    Version(Vec<VersionKey>),
    /// Unmapped field: compared per value type.
    Dynamic {
        values: Vec<RVal>,
        ci: bool,
        /// The values, when all are strings: a string value is looked up
        /// there instead of compared with each.
        strings: Option<StrSet>,
    },
}

impl TermSet {
    /// The set of an unmapped field's literals.
    pub fn dynamic(values: Vec<RVal>, ci: bool) -> TermSet {
        let strings = values
            .iter()
            .map(|v| match v {
                RVal::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect::<Option<Vec<Arc<str>>>>()
            .map(|all| StrSet::new(all, ci));
        TermSet::Dynamic {
            values,
            ci,
            strings,
        }
    }

    /// Whether `other`'s values can join this set (same kind of test).
    pub fn can_absorb(&self, other: &TermSet) -> bool {
        match (self, other) {
            (TermSet::Str(a), TermSet::Str(b)) => a.is_ci() == b.is_ci(),
            (TermSet::Dynamic { ci: a, .. }, TermSet::Dynamic { ci: b, .. }) => a == b,
            _ => false,
        }
    }

    /// Adds the values of `others` (each one [`TermSet::can_absorb`]),
    /// indexing the joined list once.
    pub fn absorb(&mut self, others: &[TermSet]) {
        match &mut *self {
            TermSet::Str(a) => {
                let mut values = a.values().to_vec();
                for o in others {
                    if let TermSet::Str(b) = o {
                        values.extend(b.values().iter().cloned());
                    }
                }
                *a = StrSet::new(values, a.is_ci());
            }
            TermSet::Dynamic { values, ci, .. } => {
                let ci = *ci;
                let mut all = std::mem::take(values);
                for o in others {
                    if let TermSet::Dynamic { values: more, .. } = o {
                        all.extend(more.iter().cloned());
                    }
                }
                *self = TermSet::dynamic(all, ci);
            }
            // Never absorbing (see `can_absorb`).
            _ => {}
        }
    }
}

/// The strings of a keyword term leaf, indexed for long lists.
#[derive(Clone, Debug)]
pub struct StrSet {
    values: Vec<Arc<str>>,
    ci: bool,
    /// Case-sensitive lists of more than a few values: a hash set.
    exact: Option<FxHashSet<Arc<str>>>,
    /// Case-insensitive lists: the ASCII values lowercased in a hash set
    /// (an ASCII pattern only matches ASCII text), the others kept aside.
    folded: Option<(FxHashSet<String>, Vec<Arc<str>>)>,
}

/// Lists longer than this are hashed.
const HASH_FROM: usize = 8;

impl StrSet {
    pub fn new(values: Vec<Arc<str>>, ci: bool) -> StrSet {
        let big = values.len() > HASH_FROM;
        let exact = (big && !ci).then(|| values.iter().cloned().collect());
        let folded = (big && ci).then(|| {
            let mut set = FxHashSet::default();
            let mut rest = Vec::new();
            for v in &values {
                if v.is_ascii() {
                    set.insert(v.to_ascii_lowercase());
                } else {
                    rest.push(v.clone());
                }
            }
            (set, rest)
        });
        StrSet {
            values,
            ci,
            exact,
            folded,
        }
    }

    pub fn first(&self) -> Option<&str> {
        self.values.first().map(|v| &**v)
    }

    /// Every value, in query order (for tools that build matching events).
    pub fn values(&self) -> &[Arc<str>] {
        &self.values
    }

    /// Whether the values compare case-insensitively (`:`, `in~`).
    pub fn is_ci(&self) -> bool {
        self.ci
    }

    /// Whether `text` is one of the values (case-insensitively if asked).
    pub fn contains(&self, text: &str) -> bool {
        if let Some(set) = &self.exact {
            return set.contains(text);
        }
        if let Some((set, rest)) = &self.folded {
            if text.is_ascii() && crate::eval::text::with_ascii_lowercase(text, |t| set.contains(t))
            {
                return true;
            }
            return rest.iter().any(|p| ci_term_eq(p, text));
        }
        if self.ci {
            self.values.iter().any(|p| ci_term_eq(p, text))
        } else {
            self.values.iter().any(|p| **p == *text)
        }
    }
}

/// A numeric literal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    I(i64),
    F(f64),
}

/// The bound of a range leaf.
#[derive(Clone, Debug)]
pub enum Bound {
    Str(Arc<str>),
    Num(Num),
    Bool(bool),
    /// A date literal's covered instants, inclusive.
    Date(i64, i64),
    Ip(u128),
    Version(VersionKey),
    Dynamic(RVal),
}

/// A script: the expression and the field occurrences it reads, in order.
#[derive(Clone, Debug)]
pub struct ScriptLeaf {
    pub expr: SExpr,
    pub fields: Vec<Slot>,
}

/// A script expression. `Field(i)` reads occurrence `i` of the leaf.
#[derive(Clone, Debug)]
pub enum SExpr {
    Lit(RVal),
    Field(usize),
    Neg(Box<SExpr>),
    Arith(ArithOp, Box<SExpr>, Box<SExpr>),
    Cmp(CmpOp, Box<SExpr>, Box<SExpr>),
    InsEq(Box<SExpr>, Box<SExpr>),
    Like(Box<SExpr>, Wildcard),
    Regex(Box<SExpr>, regex::Regex),
    In(Box<SExpr>, Vec<RVal>),
    IsNull(Box<SExpr>),
    Not(Box<SExpr>),
    And(Vec<SExpr>),
    Or(Vec<SExpr>),
    Call(Func, bool, Vec<SExpr>, Arc<[IpRange]>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(values: &[&str], ci: bool) -> StrSet {
        StrSet::new(values.iter().map(|v| Arc::from(*v)).collect(), ci)
    }

    #[test]
    fn hashed_case_insensitive_sets_fold_text_of_any_length() {
        let long = "A".repeat(300);
        let mut values = vec![
            "cmd.exe",
            "powershell.exe",
            "sh",
            "bash",
            "zsh",
            "dash",
            "ksh",
        ];
        values.push(&long);
        values.push("Straße.exe");
        let s = set(&values, true);
        assert!(
            s.folded.is_some(),
            "more than {HASH_FROM} values are hashed"
        );
        for hit in [
            "CMD.EXE",
            "cmd.exe",
            "PowerShell.exe",
            "SH",
            &"a".repeat(300),
        ] {
            assert!(s.contains(hit), "{hit}");
        }
        // A non-ASCII value is compared aside; a non-ASCII letter folds
        // only to itself.
        assert!(s.contains("STRAßE.EXE"));
        for miss in ["cmd", "cmd.exe ", &"a".repeat(299), "STRASSE.EXE", ""] {
            assert!(!s.contains(miss), "{miss}");
        }
        let exact = set(&values, false);
        assert!(exact.contains("cmd.exe") && !exact.contains("CMD.EXE"));
    }
}
