//! Checking `:`, `like`, `like~`, `regex`, `regex~`, `in`, `in~` and their
//! rewrites, as Elasticsearch's verifier and optimizer do them:
//!
//! - the value must be a string for all but `in`; patterns and list items
//!   must be literals ("Comparisons against fields/variables are not
//!   supported"); `in` items must have a type compatible with the value;
//! - `:` with a wildcard is `like~`, without one a case-insensitive
//!   equality; `like` without wildcards is `==`, `like "*"` is IS NOT NULL;
//! - a `regex` list is one pattern joined with `|`; a regex that is a plain
//!   literal is an equality, `.*` is IS NOT NULL; it is validated with the
//!   engine that will run it (Lucene for a field, the script engine
//!   otherwise);
//! - `in~` is an OR of case-insensitive equalities (no wildcards);
//!   `null in (...)` and `x in (null)` fold to null.

use std::sync::Arc;

use crate::ast::{CmpOp, Expr, MatchOp, Span};
use crate::diag::Diagnostic;
use crate::eval::value::RVal;
use crate::plan::check::{has_wildcard, is_stringish, or_of, ordinal, Checker};
use crate::plan::ir::{TExpr, TKind, Ty};
use crate::plan::{lower, lucene};

impl Checker<'_> {
    pub(crate) fn string_operand(
        &mut self,
        t: &TExpr,
        what: &str,
        ordinal: &str,
        e: &Expr,
        at: Span,
        shown: &dyn std::fmt::Display,
    ) -> bool {
        if is_stringish(t.ty) {
            return true;
        }
        self.errors.push(
            Diagnostic::new(
                format!(
                    "{ordinal} argument of [{e}] must be [string], found value [{shown}] type [{}]",
                    t.ty.name()
                ),
                at,
            )
            .with_hint(format!("{what} works on strings only")),
        );
        false
    }

    pub(crate) fn check_match(
        &mut self,
        op: MatchOp,
        value: &Expr,
        patterns: &[Expr],
        e: &Expr,
    ) -> Option<TExpr> {
        let v = self.check(value)?;
        if !self.string_operand(&v, op.as_str(), "first", e, value.span, value) {
            if op == MatchOp::Colon {
                if let Some(d) = self.errors.last_mut() {
                    d.hint = Some("`:` compares strings; consider using `==` instead".to_string());
                }
            }
            return None;
        }
        let mut pats: Vec<(Arc<str>, Span)> = Vec::new();
        for p in patterns {
            let t = self.check(p)?;
            match t.as_lit() {
                Some(RVal::Str(s)) => pats.push((s.clone(), p.span)),
                Some(other) => {
                    self.err(
                        format!("second argument of [{e}] must be [string], found value [{p}] type [{}]", Ty::of(other).name()),
                        p.span,
                    );
                    return None;
                }
                None => {
                    self.err(
                        format!("Comparisons against fields are not (currently) supported; offender [{p}] in [{}]", op.as_str()),
                        p.span,
                    );
                    return None;
                }
            }
        }
        let span = e.span;
        let ci = op.is_insensitive();
        if op.is_regex() {
            let joined: String = pats.iter().map(|(s, _)| &**s).collect::<Vec<_>>().join("|");
            let pspan = pats
                .first()
                .map(|p| p.1)
                .unwrap_or(span)
                .to(pats.last().map(|p| p.1).unwrap_or(span));
            // Validate with the engine that will run it: Lucene for a field,
            // the script regex engine for anything else.
            let check = if v.is_field() || v.as_lit().is_some() {
                lucene::compile(&joined, ci).map(|_| ())
            } else {
                lower::script_regex(&joined, ci).map(|_| ())
            };
            if let Err(msg) = check {
                self.err(format!("invalid regular expression: {msg}"), pspan);
                return None;
            }
            if lucene::matches_all(&joined) {
                let isnull = self.is_null(v, span);
                return Some(self.not(isnull, span));
            }
            if let Some(exact) = lucene::exact_match(&joined) {
                return self.equality(v, RVal::string(exact), ci, pspan, span);
            }
            let pattern: Arc<str> = Arc::from(joined);
            return self.fold(TExpr {
                kind: TKind::Regex {
                    value: Box::new(v),
                    pattern,
                    ci,
                },
                ty: Ty::Bool,
                span,
            });
        }
        let mut items = Vec::with_capacity(pats.len());
        for (p, pspan) in pats {
            let item = if !has_wildcard(&p) {
                self.equality(v.clone(), RVal::Str(p), ci, pspan, span)?
            } else if p.chars().all(|c| c == '*') {
                let isnull = self.is_null(v.clone(), span);
                self.not(isnull, span)
            } else {
                self.fold(TExpr {
                    kind: TKind::Like {
                        value: Box::new(v.clone()),
                        pattern: p,
                        ci,
                    },
                    ty: Ty::Bool,
                    span,
                })?
            };
            items.push(item);
        }
        Some(or_of(items, span))
    }

    /// `v == lit` (or its case-insensitive form) on behalf of `:`, `like`,
    /// `regex` and `in~`.
    fn equality(
        &mut self,
        v: TExpr,
        lit: RVal,
        ci: bool,
        lit_span: Span,
        span: Span,
    ) -> Option<TExpr> {
        let r = TExpr::lit(lit, lit_span);
        if ci {
            self.fold(TExpr {
                kind: TKind::InsEq(Box::new(v), Box::new(r)),
                ty: Ty::Bool,
                span,
            })
        } else {
            self.fold(TExpr {
                kind: TKind::Cmp(CmpOp::Eq, Box::new(v), Box::new(r)),
                ty: Ty::Bool,
                span,
            })
        }
    }

    pub(crate) fn check_in(
        &mut self,
        value: &Expr,
        list: &[Expr],
        insensitive: bool,
        e: &Expr,
    ) -> Option<TExpr> {
        let v = self.check(value)?;
        let span = e.span;
        let mut items: Vec<(RVal, Span)> = Vec::new();
        // Strings already listed: lists of thousands of names were
        // deduplicated pairwise (40,000 took 4 s to check).
        let mut strings: rustc_hash::FxHashSet<Arc<str>> = Default::default();
        let mut ok = true;
        for (i, x) in list.iter().enumerate() {
            let Some(t) = self.check(x) else {
                ok = false;
                continue;
            };
            let Some(lit) = t.as_lit().cloned() else {
                self.err(format!("Comparisons against variables are not (currently) supported; offender [{x}] in [{e}]"), x.span);
                ok = false;
                continue;
            };
            let lt = Ty::of(&lit);
            let compatible = if insensitive {
                is_stringish(lt)
            } else {
                v.ty.compatible(lt)
            };
            if !compatible {
                self.err(
                    format!(
                        "{} argument of [{e}] must be [{}], found value [{x}] type [{}]",
                        ordinal(i + 1),
                        if insensitive { "string" } else { v.ty.name() },
                        lt.name()
                    ),
                    x.span,
                );
                ok = false;
                continue;
            }
            if let RVal::Str(s) = &lit {
                if has_wildcard(s) {
                    self.warnings.push(
                        Diagnostic::new(
                            format!(
                                "`in` compares exactly: `*` and `?` in \"{s}\" are not wildcards"
                            ),
                            x.span,
                        )
                        .with_hint("did you mean `like` (or `:`) with a list of patterns?"),
                    );
                }
            }
            let new = match &lit {
                RVal::Str(s) => strings.insert(Arc::clone(s)),
                _ => !items.iter().any(|(seen, _)| *seen == lit),
            };
            if new {
                items.push((lit, x.span));
            }
        }
        if !ok {
            return None;
        }
        if insensitive && !self.string_operand(&v, "in~", "first", e, value.span, value) {
            return None;
        }
        if items.iter().all(|(l, _)| l.is_null()) {
            return Some(TExpr::lit(RVal::Null, span));
        }
        if let Some(RVal::Null) = v.as_lit() {
            return Some(TExpr::lit(RVal::Null, span));
        }
        if insensitive {
            // `in~` is an OR of case-insensitive equalities, no wildcards.
            let mut ors = Vec::new();
            for (lit, lspan) in items.into_iter().filter(|(l, _)| !l.is_null()) {
                ors.push(self.equality(v.clone(), lit, true, lspan, span)?);
            }
            return Some(or_of(ors, span));
        }
        let list = items.into_iter().map(|(l, _)| l).collect();
        self.fold(TExpr {
            kind: TKind::In {
                value: Box::new(v),
                list,
            },
            ty: Ty::Bool,
            span,
        })
    }
}
