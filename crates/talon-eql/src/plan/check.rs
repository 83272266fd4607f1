//! The checker: syntax tree in, typed and optimized expression out.
//!
//! It does what Elasticsearch's analyzer, verifier and optimizer do to a
//! condition before anything runs, in the same order of effects:
//!
//! - fields resolve against the mapping (aliases followed); an unmapped
//!   plain field is an error when the mapping is explicit, an unmapped
//!   `?field` is the literal null, and `?` on one mention makes the name
//!   optional everywhere in the query;
//! - types are checked where the verifier checks them (strings for `:`,
//!   `like`, `regex` and string functions, numbers for arithmetic, booleans
//!   for logic, compatible literals in `in`);
//! - `x == null` / `x != null` become IS NULL / IS NOT NULL, `:` and `like`
//!   without wildcards become equalities, `like "*"` an existence test;
//! - literal-only subtrees fold (an exception while folding is an error),
//!   literals move to the right of comparisons, `f(..) == true` becomes
//!   `f(..)`, and null literals fold out of `and`/`or` (`A or null` is `A`,
//!   `A and null` is null), everywhere in the tree.
//!
//! Function calls are checked in `calls.rs`, `:`/`like`/`regex`/`in` in
//! `matching.rs`; turning the result into an executable plan is `lower.rs`.

use std::sync::Arc;

use rustc_hash::FxHashSet;
use talon_event::mapping::{ecs_type, FieldType, Mapping};

use crate::ast::{self, CmpOp, Expr, ExprKind, Literal, Span};
use crate::diag::{edit_distance, Diagnostic};
use crate::eval::script;
use crate::eval::value::{FieldKind, RVal};
use crate::plan::ir::{FieldRef, TExpr, TKind, Ty};
use crate::plan::lower;

/// Checker state for one query.
pub(crate) struct Checker<'m> {
    pub mapping: &'m Mapping,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// Paths written with `?` somewhere in the query.
    pub optional: FxHashSet<String>,
    /// Every resolved field path read, in first-use order.
    pub fields: Vec<String>,
}

impl Checker<'_> {
    /// How many errors and warnings there are so far, for
    /// [`Checker::dedup_since`].
    pub fn diagnostics(&self) -> (usize, usize) {
        (self.errors.len(), self.warnings.len())
    }

    /// Drops the errors and warnings added since `from` that repeat one
    /// added before them (the same message at the same place).
    pub fn dedup_since(&mut self, from: (usize, usize)) {
        fn dedup(v: &mut Vec<Diagnostic>, from: usize) {
            let mut i = from.min(v.len());
            while i < v.len() {
                if v[from.min(v.len())..i].contains(&v[i]) {
                    v.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        dedup(&mut self.errors, from.0);
        dedup(&mut self.warnings, from.1);
    }
}

/// The type of a mapped field, and how its values read.
pub(crate) fn field_type(ft: FieldType) -> (Ty, FieldKind) {
    match ft {
        FieldType::Keyword | FieldType::Wildcard | FieldType::ConstantKeyword => {
            (Ty::Keyword, FieldKind::Keyword)
        }
        FieldType::Text { has_keyword: true } => (Ty::Keyword, FieldKind::Keyword),
        FieldType::Text { has_keyword: false } => (Ty::Text, FieldKind::Keyword),
        FieldType::Long | FieldType::UnsignedLong => (Ty::Long, FieldKind::Long),
        FieldType::Double => (Ty::Double, FieldKind::Double),
        FieldType::Boolean => (Ty::Bool, FieldKind::Bool),
        FieldType::Date => (Ty::Date, FieldKind::Date { nanos: false }),
        FieldType::DateNanos => (Ty::DateNanos, FieldKind::Date { nanos: true }),
        FieldType::Ip => (Ty::Ip, FieldKind::Ip),
        FieldType::Version => (Ty::Version, FieldKind::Version),
        FieldType::Object | FieldType::Nested => (Ty::Object, FieldKind::Dynamic),
        FieldType::Other => (Ty::Unsupported, FieldKind::Dynamic),
    }
}

/// Collects every `?path` of an expression.
pub(crate) fn collect_optional(e: &Expr, out: &mut FxHashSet<String>) {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match &x.kind {
            ExprKind::Field(f) if f.optional => {
                out.insert(f.path.clone());
            }
            ExprKind::Literal(_) | ExprKind::Field(_) => {}
            ExprKind::Not(a) | ExprKind::Neg(a) => stack.push(a),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arith(_, a, b) => {
                stack.push(a);
                stack.push(b);
            }
            ExprKind::Match {
                value, patterns, ..
            } => {
                stack.push(value);
                stack.extend(patterns.iter());
            }
            ExprKind::In { value, list, .. } => {
                stack.push(value);
                stack.extend(list.iter());
            }
            ExprKind::Call { args, .. } => stack.extend(args.iter()),
        }
    }
}

fn is_boolish(t: Ty) -> bool {
    matches!(t, Ty::Bool | Ty::Null | Ty::Dynamic)
}

pub(crate) fn is_stringish(t: Ty) -> bool {
    matches!(t, Ty::Keyword | Ty::Null | Ty::Dynamic)
}

pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

impl<'m> Checker<'m> {
    pub fn new(mapping: &'m Mapping) -> Checker<'m> {
        Checker {
            mapping,
            errors: Vec::new(),
            warnings: Vec::new(),
            optional: FxHashSet::default(),
            fields: Vec::new(),
        }
    }

    pub fn err(&mut self, msg: impl Into<String>, span: Span) {
        self.errors.push(Diagnostic::new(msg, span));
    }

    fn note_field(&mut self, path: &str) {
        if !self.fields.iter().any(|f| f == path) {
            self.fields.push(path.to_string());
        }
    }

    /// Resolves a field reference (see the module notes).
    pub fn resolve_field(&mut self, f: &ast::FieldRef, span: Span) -> Option<TExpr> {
        let optional = f.optional || self.optional.contains(&f.path);
        let (path, ty, kind) = if self.mapping.is_explicit() {
            match self.mapping.get(&f.path) {
                Some(fm) => {
                    let (ty, kind) = field_type(fm.ty);
                    (self.mapping.resolve(&f.path).to_string(), ty, kind)
                }
                None if self.mapping.is_mapped(&f.path) => {
                    (f.path.clone(), Ty::Object, FieldKind::Dynamic)
                }
                None if optional => return Some(TExpr::lit(RVal::Null, span)),
                None => {
                    let d = Diagnostic::new(format!("unknown field `{}`", f.path), span);
                    let d = match self.similar_field(&f.path) {
                        Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                        None => d.with_hint(self.unknown_field_hint(&f.path)),
                    };
                    self.errors.push(d);
                    return None;
                }
            }
        } else {
            let (ty, kind) = match ecs_type(&f.path) {
                Some(ft) => field_type(ft),
                None => (Ty::Dynamic, FieldKind::Dynamic),
            };
            (f.path.clone(), ty, kind)
        };
        match ty {
            Ty::Object => {
                self.err(
                    format!(
                        "field `{}` is an object; EQL compares leaf fields only",
                        f.path
                    ),
                    span,
                );
                return None;
            }
            Ty::Text => {
                self.errors.push(
                    Diagnostic::new(
                        format!(
                            "field `{}` is of type text, which cannot be used for exact matching",
                            f.path
                        ),
                        span,
                    )
                    .with_hint("map it with a keyword sub-field"),
                );
                return None;
            }
            Ty::Unsupported => {
                self.err(
                    format!("field `{}` has a type EQL does not support", f.path),
                    span,
                );
                return None;
            }
            _ => {}
        }
        self.note_field(&path);
        Some(TExpr {
            kind: TKind::Field(FieldRef {
                path: Arc::from(path),
                kind,
                ty,
                optional,
            }),
            ty,
            span,
        })
    }

    /// What to do about a field the mapping or schema lacks, naming what
    /// the user gave.
    fn unknown_field_hint(&self, path: &str) -> String {
        let sources = self.mapping.sources();
        let lacks = match (sources.mapping, sources.schema) {
            (true, true) => "neither the mapping nor the schema has it",
            (false, true) => "the schema does not have it",
            _ => "the mapping does not have it",
        };
        let fix = match sources.mapping {
            // Elasticsearch maps fields it meets in documents on the fly,
            // so a mapping file can lack fields the data has.
            true => {
                "use the mapping GET <index>/_mapping returns (it includes dynamically \
                 mapped fields)"
            }
            false => "give a schema that defines it too (--schema can be repeated)",
        };
        format!("{lacks}: write `?{path}` if some events lack it, or {fix}")
    }

    /// A mapped field or alias the user may have meant by `path`, which is
    /// not mapped (so never `path` itself): the same name in another case,
    /// else the closest name a few edits away (one per four characters,
    /// two at most: `process.name` for `process.nme`), else the nearest
    /// one with the same last part (`parent.name` for `name`,
    /// `process.name` rather than `host.name` for `proc.name`); the first
    /// by name among equals.
    fn similar_field(&self, path: &str) -> Option<String> {
        let last = path.rsplit('.').next().unwrap_or(path);
        let len = path.chars().count();
        let max_edits = (len / 4).min(2);
        // ((tier, edits), candidate): lower ranks are better guesses.
        let mut best: Option<((usize, usize), &str)> = None;
        for p in self
            .mapping
            .field_paths()
            .chain(self.mapping.aliases().map(|(a, _)| a))
        {
            if p == path {
                continue;
            }
            let near = || {
                // Each edit changes the length by one at most.
                let d = match p.chars().count().abs_diff(len) <= max_edits {
                    true => edit_distance(p, path),
                    false => usize::MAX,
                };
                (d <= max_edits).then_some(d)
            };
            let rank = if p.eq_ignore_ascii_case(path) {
                (0, 0)
            } else if let Some(d) = near() {
                (1, d)
            } else if p.rsplit('.').next() == Some(last) && distinctive_tail(p, path, last) {
                (2, edit_distance(p, path))
            } else {
                continue;
            };
            let better = match best {
                None => true,
                Some(b) => (rank, p) < b,
            };
            if better {
                best = Some((rank, p));
            }
        }
        best.map(|(_, p)| p.to_string())
    }

    /// Checks a condition: it must be boolean.
    pub fn check_condition(&mut self, e: &Expr) -> Option<TExpr> {
        let t = self.check(e)?;
        if !is_boolish(t.ty) {
            self.err(
                format!(
                    "condition expression needs to be boolean, found [{}]",
                    t.ty.name()
                ),
                e.span,
            );
            return None;
        }
        Some(t)
    }

    /// Checks and optimizes one expression.
    pub fn check(&mut self, e: &Expr) -> Option<TExpr> {
        let span = e.span;
        match &e.kind {
            ExprKind::Literal(l) => Some(TExpr::lit(
                match l {
                    Literal::Null => RVal::Null,
                    Literal::Bool(b) => RVal::Bool(*b),
                    Literal::Int(i) => RVal::integer(*i),
                    Literal::Float(f) => RVal::Double(*f),
                    Literal::Str(s) => RVal::str(s),
                },
                span,
            )),
            ExprKind::Field(f) => self.resolve_field(f, span),
            ExprKind::Not(x) => {
                let t = self.check(x)?;
                if !is_boolish(t.ty) {
                    self.err(
                        format!(
                            "argument of [{e}] must be [boolean], found value [{x}] type [{}]",
                            t.ty.name()
                        ),
                        x.span,
                    );
                    return None;
                }
                Some(self.not(t, span))
            }
            ExprKind::And(..) | ExprKind::Or(..) => self.check_logic(e),
            ExprKind::Compare(op, l, r) => {
                let (l, r) = (self.check(l), self.check(r));
                let (l, r) = (l?, r?);
                self.compare(*op, l, r, e)
            }
            ExprKind::Match {
                op,
                value,
                patterns,
            } => self.check_match(*op, value, patterns, e),
            ExprKind::In {
                value,
                list,
                insensitive,
                negated,
            } => {
                let t = self.check_in(value, list, *insensitive, e)?;
                Some(if *negated { self.not(t, span) } else { t })
            }
            ExprKind::Arith(op, a, b) => {
                let (ta, tb) = (self.check(a), self.check(b));
                let (ta, tb) = (ta?, tb?);
                self.arith(*op, ta, tb, a, b, e)
            }
            ExprKind::Neg(x) => {
                let t = self.check(x)?;
                if !matches!(
                    t.ty,
                    Ty::Int | Ty::Long | Ty::Double | Ty::Null | Ty::Dynamic
                ) {
                    self.err(
                        format!(
                            "argument of [{e}] must be [numeric], found value [{x}] type [{}]",
                            t.ty.name()
                        ),
                        x.span,
                    );
                    return None;
                }
                let ty = t.ty;
                self.fold(TExpr {
                    kind: TKind::Neg(Box::new(t)),
                    ty,
                    span,
                })
            }
            ExprKind::Call {
                name,
                name_span,
                insensitive,
                args,
            } => self.check_call(name, *name_span, *insensitive, args, e),
        }
    }

    /// `not`, with `not true` → false, `not null` → null, `not not x` → x.
    pub fn not(&mut self, t: TExpr, span: Span) -> TExpr {
        match t.kind {
            TKind::Lit(RVal::Bool(b)) => TExpr::lit(RVal::Bool(!b), span),
            TKind::Lit(RVal::Null) => TExpr::lit(RVal::Null, span),
            TKind::Not(inner) => *inner,
            kind => TExpr {
                kind: TKind::Not(Box::new(TExpr {
                    kind,
                    ty: t.ty,
                    span: t.span,
                })),
                ty: Ty::Bool,
                span,
            },
        }
    }

    fn check_logic(&mut self, e: &Expr) -> Option<TExpr> {
        let is_and = matches!(e.kind, ExprKind::And(..));
        // Flatten the chain without recursion: long `and`/`or` chains are
        // the deepest trees the parser builds.
        let mut operands = Vec::new();
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            match &x.kind {
                ExprKind::And(a, b) if is_and => {
                    stack.push(b);
                    stack.push(a);
                }
                ExprKind::Or(a, b) if !is_and => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => operands.push(x),
            }
        }
        let mut items = Vec::with_capacity(operands.len());
        let mut ok = true;
        for x in operands {
            match self.check(x) {
                Some(t) if is_boolish(t.ty) => items.push(t),
                Some(t) => {
                    self.err(
                        format!(
                            "argument of [{e}] must be [boolean], found value [{x}] type [{}]",
                            t.ty.name()
                        ),
                        x.span,
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(if is_and {
            and_of(items, e.span)
        } else {
            or_of(items, e.span)
        })
    }

    /// A comparison, after its operands were checked.
    pub fn compare(&mut self, op: CmpOp, l: TExpr, r: TExpr, e: &Expr) -> Option<TExpr> {
        let span = e.span;
        // `x == null` is IS NULL, `x != null` is NOT IS NULL.
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            let right_null = matches!(r.as_lit(), Some(RVal::Null));
            let left_null = matches!(l.as_lit(), Some(RVal::Null));
            if right_null || left_null {
                let x = if right_null { l } else { r };
                let isnull = self.is_null(x, span);
                return Some(if op == CmpOp::Ne {
                    self.not(isnull, span)
                } else {
                    isnull
                });
            }
        }
        // Literals go to the right.
        let (op, l, r) = if l.as_lit().is_some() && r.as_lit().is_none() {
            (flip(op), r, l)
        } else {
            (op, l, r)
        };
        if let (CmpOp::Eq | CmpOp::Ne, Some(RVal::Str(s))) = (op, r.as_lit()) {
            if has_wildcard(s) && l.as_lit().is_none() {
                self.warnings.push(
                    Diagnostic::new(
                        format!(
                            "`{}` compares exactly: `*` and `?` in \"{s}\" are not wildcards",
                            op.as_str()
                        ),
                        r.span,
                    )
                    .with_hint("did you mean `like` (or `:` to also ignore case)?"),
                );
            }
        }
        // `f(..) == true` is `f(..)`, `f(..) == false` is `not f(..)`.
        if let (CmpOp::Eq | CmpOp::Ne, Some(RVal::Bool(b))) = (op, r.as_lit()) {
            let b = *b;
            if l.ty == Ty::Bool && !l.is_field() && l.as_lit().is_none() {
                return Some(if (op == CmpOp::Eq) == b {
                    l
                } else {
                    self.not(l, span)
                });
            }
        }
        self.fold(TExpr {
            kind: TKind::Cmp(op, Box::new(l), Box::new(r)),
            ty: Ty::Bool,
            span,
        })
    }

    pub fn is_null(&mut self, x: TExpr, span: Span) -> TExpr {
        if let Some(v) = x.as_lit() {
            return TExpr::lit(RVal::Bool(v.is_null()), span);
        }
        TExpr {
            kind: TKind::IsNull(Box::new(x)),
            ty: Ty::Bool,
            span,
        }
    }

    fn arith(
        &mut self,
        op: ast::ArithOp,
        a: TExpr,
        b: TExpr,
        ea: &Expr,
        eb: &Expr,
        e: &Expr,
    ) -> Option<TExpr> {
        let numeric = |t: Ty| matches!(t, Ty::Int | Ty::Long | Ty::Double | Ty::Null | Ty::Dynamic);
        let mut ok = true;
        for (t, x, ord) in [(&a, ea, "first"), (&b, eb, "second")] {
            if !numeric(t.ty) {
                self.err(
                    format!(
                        "{ord} argument of [{e}] must be [numeric], found value [{x}] type [{}]",
                        t.ty.name()
                    ),
                    x.span,
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        if matches!(op, ast::ArithOp::Div | ast::ArithOp::Mod) && a.as_lit().is_none() {
            if let Some(RVal::Int(0) | RVal::Long(0)) = b.as_lit() {
                self.err("division by zero", eb.span);
                return None;
            }
        }
        let ty = common_numeric(a.ty, b.ty);
        self.fold(TExpr {
            kind: TKind::Arith(op, Box::new(a), Box::new(b)),
            ty,
            span: e.span,
        })
    }

    /// Folds a node whose children are all literals, by evaluating it.
    pub fn fold(&mut self, t: TExpr) -> Option<TExpr> {
        if !lower::children_are_literals(&t) {
            return Some(t);
        }
        let span = t.span;
        let expr = match lower::fold_sexpr(&t) {
            Ok(x) => x,
            Err(d) => {
                self.errors.push(d);
                return None;
            }
        };
        match script::eval(&expr, &[]) {
            Ok(v) => Some(TExpr::lit(v, span)),
            Err(msg) => {
                self.err(msg, span);
                None
            }
        }
    }
}

/// The comparison with its operands swapped (`1 < x` is `x > 1`).
pub(crate) fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

pub(crate) fn ordinal(i: usize) -> &'static str {
    match i {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        _ => "an",
    }
}

/// The common type of an arithmetic result (Java widening).
pub(crate) fn common_numeric(a: Ty, b: Ty) -> Ty {
    if a == Ty::Dynamic || b == Ty::Dynamic {
        Ty::Dynamic
    } else if a == Ty::Double || b == Ty::Double {
        Ty::Double
    } else if a == Ty::Long || b == Ty::Long {
        Ty::Long
    } else if a == Ty::Null && b == Ty::Null {
        Ty::Null
    } else {
        Ty::Int
    }
}

/// `and` of checked operands: false wins, true drops out, a null literal
/// makes the whole conjunction null (Elasticsearch's PruneFilters).
pub(crate) fn and_of(items: Vec<TExpr>, span: Span) -> TExpr {
    let mut out = Vec::with_capacity(items.len());
    let mut null = false;
    for t in items {
        match t.as_lit() {
            Some(RVal::Bool(false)) => return TExpr::lit(RVal::Bool(false), span),
            Some(RVal::Bool(true)) => {}
            Some(RVal::Null) => null = true,
            _ => match t.kind {
                crate::plan::ir::TKind::And(inner) => out.extend(inner),
                kind => out.push(TExpr {
                    kind,
                    ty: t.ty,
                    span: t.span,
                }),
            },
        }
    }
    if null {
        return TExpr::lit(RVal::Null, span);
    }
    match out.len() {
        0 => TExpr::lit(RVal::Bool(true), span),
        1 => out.remove(0),
        _ => TExpr {
            kind: TKind::And(out),
            ty: Ty::Bool,
            span,
        },
    }
}

/// `or` of checked operands: true wins, false and null literals drop out;
/// nothing left is false, or null if a null was dropped.
pub(crate) fn or_of(items: Vec<TExpr>, span: Span) -> TExpr {
    let mut out = Vec::with_capacity(items.len());
    let mut null = false;
    for t in items {
        match t.as_lit() {
            Some(RVal::Bool(true)) => return TExpr::lit(RVal::Bool(true), span),
            Some(RVal::Bool(false)) => {}
            Some(RVal::Null) => null = true,
            _ => match t.kind {
                TKind::Or(inner) => out.extend(inner),
                kind => out.push(TExpr {
                    kind,
                    ty: t.ty,
                    span: t.span,
                }),
            },
        }
    }
    match out.len() {
        0 if null => TExpr::lit(RVal::Null, span),
        0 => TExpr::lit(RVal::Bool(false), span),
        1 => out.remove(0),
        _ => TExpr {
            kind: TKind::Or(out),
            ty: Ty::Bool,
            span,
        },
    }
}

/// Whether fields `p` and `path`, which end in the same `last` segment,
/// share enough for one to be a guess at the other: as deep (`proc.name`
/// for `process.name`), or a long last segment (`original_file_name`, the
/// field moved to another object). A short one alone (`type`) made
/// `event.type` the guess for `host.os.type`.
fn distinctive_tail(p: &str, path: &str, last: &str) -> bool {
    let depth = |s: &str| s.matches('.').count();
    depth(p) == depth(path) || last.chars().count() >= 8
}
