//! Lowering a checked condition to the executable plan, deciding per node
//! what Elasticsearch's query translator decides:
//!
//! - a field compared with a literal (`==`, `!=`, ranges, `:`, `like`,
//!   `regex`, `in`), `field == null`, `startsWith`/`endsWith`/
//!   `stringContains` of a field and a literal, `cidrMatch` of a field, and
//!   a bare boolean field become field leaves (term, range, wildcard,
//!   prefix, regexp, exists queries);
//! - `and`/`or`/`not` over anything stay boolean structure (`not` of a
//!   query is `must_not`; `not` of a script negates the whole multi-value
//!   script, so it is the same negation);
//! - everything else is a script leaf.
//!
//! Two query-side quirks are kept on purpose because Elasticsearch has
//! them: `endsWith`/`stringContains` paste their argument into a Lucene
//! wildcard query unescaped (`*` and `?` are wildcards there and `\`
//! escapes), so `stringContains(field, "")` matches every value; and a
//! comparison whose right side is not a literal is rejected ("Comparisons
//! against fields are not supported").

use std::sync::Arc;

use crate::ast::{CmpOp, Span};
use crate::diag::Diagnostic;
use crate::eval::patterns::Patterns;
use crate::eval::value::{FieldKind, RVal};
use crate::eval::wildcard::{CaseMode, Wildcard};
use crate::plan::ir::{Cond, Func, Leaf, SExpr, ScriptLeaf, Slot, TExpr, TKind, TermSet};
use crate::plan::{literal, lucene};

/// Whether every direct child of `t` is a literal (so `t` can be folded).
pub(crate) fn children_are_literals(t: &TExpr) -> bool {
    let lit = |x: &TExpr| x.as_lit().is_some();
    match &t.kind {
        TKind::Lit(_) | TKind::Field(_) => false,
        TKind::Neg(x) | TKind::IsNull(x) | TKind::Not(x) => lit(x),
        TKind::Arith(_, a, b) | TKind::Cmp(_, a, b) | TKind::InsEq(a, b) => lit(a) && lit(b),
        TKind::Like { value, .. } | TKind::Regex { value, .. } | TKind::In { value, .. } => {
            lit(value)
        }
        TKind::And(v) | TKind::Or(v) => v.iter().all(lit),
        TKind::Call { args, .. } => args.iter().all(lit),
    }
}

/// The script expression of a literal-only node, for folding.
pub(crate) fn fold_sexpr(t: &TExpr) -> Result<SExpr, Diagnostic> {
    let mut slots = Vec::new();
    to_sexpr(t, &mut slots)
}

/// A regex as a script runs it: Java's `Pattern.matches`, whole value.
pub(crate) fn script_regex(pattern: &str, ci: bool) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(ci)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| e.to_string())
}

/// Converts a typed expression to a script expression; every field
/// occurrence gets its own slot, as each `docValue` read iterates the
/// values separately in Elasticsearch's multi-value scripts.
pub(crate) fn to_sexpr(t: &TExpr, slots: &mut Vec<Slot>) -> Result<SExpr, Diagnostic> {
    let b = |x: &TExpr, slots: &mut Vec<Slot>| to_sexpr(x, slots).map(Box::new);
    Ok(match &t.kind {
        TKind::Lit(v) => SExpr::Lit(v.clone()),
        TKind::Field(f) => {
            slots.push(Slot::new(f.path.clone(), f.kind));
            SExpr::Field(slots.len() - 1)
        }
        TKind::Neg(x) => SExpr::Neg(b(x, slots)?),
        TKind::Arith(op, x, y) => SExpr::Arith(*op, b(x, slots)?, b(y, slots)?),
        TKind::Cmp(op, x, y) => SExpr::Cmp(*op, b(x, slots)?, b(y, slots)?),
        TKind::InsEq(x, y) => SExpr::InsEq(b(x, slots)?, b(y, slots)?),
        TKind::Like { value, pattern, ci } => {
            let case = if *ci {
                CaseMode::Insensitive
            } else {
                CaseMode::Sensitive
            };
            SExpr::Like(b(value, slots)?, Wildcard::new(pattern, case))
        }
        TKind::Regex { value, pattern, ci } => {
            let re = script_regex(pattern, *ci)
                .map_err(|e| Diagnostic::new(format!("invalid regular expression: {e}"), t.span))?;
            SExpr::Regex(b(value, slots)?, re)
        }
        TKind::In { value, list } => SExpr::In(b(value, slots)?, list.clone()),
        TKind::IsNull(x) => SExpr::IsNull(b(x, slots)?),
        TKind::Not(x) => SExpr::Not(b(x, slots)?),
        TKind::And(v) => SExpr::And(
            v.iter()
                .map(|x| to_sexpr(x, slots))
                .collect::<Result<_, _>>()?,
        ),
        TKind::Or(v) => SExpr::Or(
            v.iter()
                .map(|x| to_sexpr(x, slots))
                .collect::<Result<_, _>>()?,
        ),
        TKind::Call {
            func,
            ci,
            args,
            cidrs,
        } => SExpr::Call(
            *func,
            *ci,
            args.iter()
                .map(|x| to_sexpr(x, slots))
                .collect::<Result<_, _>>()?,
            Arc::from(cidrs.as_slice()),
        ),
    })
}

fn slot_of(t: &TExpr) -> Option<Slot> {
    match &t.kind {
        TKind::Field(f) => Some(Slot::new(f.path.clone(), f.kind)),
        _ => None,
    }
}

fn leaf(l: Leaf) -> Cond {
    Cond::Leaf(Box::new(l))
}

/// Lowers a checked boolean expression; errors go to `errors`.
pub(crate) fn lower(t: &TExpr, errors: &mut Vec<Diagnostic>) -> Option<Cond> {
    match lower_inner(t, errors) {
        Ok(c) => Some(c),
        Err(d) => {
            errors.push(d);
            None
        }
    }
}

fn lower_inner(t: &TExpr, errors: &mut Vec<Diagnostic>) -> Result<Cond, Diagnostic> {
    match &t.kind {
        TKind::Lit(RVal::Bool(b)) => return Ok(Cond::Const(*b)),
        // A null condition matches nothing.
        TKind::Lit(_) => return Ok(Cond::Const(false)),
        TKind::And(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                if let Some(c) = lower(i, errors) {
                    out.push(c);
                }
            }
            return Ok(Cond::And(out));
        }
        TKind::Or(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                if let Some(c) = lower(i, errors) {
                    out.push(c);
                }
            }
            return Ok(merge_wildcards(out));
        }
        TKind::Not(x) => return Ok(Cond::Not(Box::new(lower_inner(x, errors)?))),
        TKind::Field(f) => {
            // A bare field as a condition is `field == true`.
            let set = if f.kind == FieldKind::Dynamic {
                TermSet::dynamic(vec![RVal::Bool(true)], false)
            } else {
                TermSet::Bool(vec![true])
            };
            return Ok(leaf(Leaf::Term(Slot::new(f.path.clone(), f.kind), set)));
        }
        TKind::Cmp(op, _, r) if r.as_lit().is_none() => return Err(not_literal(op_sym(*op), r)),
        TKind::InsEq(_, r) if r.as_lit().is_none() => return Err(not_literal(":", r)),
        _ => {}
    }
    if let Some(c) = field_leaf(t)? {
        return Ok(c);
    }
    let mut fields = Vec::new();
    let expr = to_sexpr(t, &mut fields)?;
    Ok(leaf(Leaf::Script(ScriptLeaf { expr, fields })))
}

fn not_literal(sym: &str, r: &TExpr) -> Diagnostic {
    Diagnostic::new(
        format!(
            "Comparisons against fields are not (currently) supported; offender [{}] in [{sym}]",
            shown(r)
        ),
        r.span,
    )
}

fn op_sym(op: CmpOp) -> &'static str {
    op.as_str()
}

fn shown(t: &TExpr) -> String {
    match &t.kind {
        TKind::Field(f) => f.path.to_string(),
        TKind::Lit(v) => v.to_java_string().unwrap_or_else(|| "null".to_string()),
        _ => "expression".to_string(),
    }
}

fn lit_err(msg: String, span: Span) -> Diagnostic {
    Diagnostic::new(msg, span)
}

/// The field-query form of a node, when it has one.
fn field_leaf(t: &TExpr) -> Result<Option<Cond>, Diagnostic> {
    Ok(Some(match &t.kind {
        TKind::Cmp(op, l, r) => {
            let (Some(slot), Some(lit)) = (slot_of(l), r.as_lit()) else {
                return Ok(None);
            };
            if lit.is_null() {
                // A range with a null bound is unbounded: the field exists.
                return Ok(Some(leaf(Leaf::Exists(slot))));
            }
            match op {
                CmpOp::Eq | CmpOp::Ne => {
                    let set = literal::term_set(slot.kind, std::slice::from_ref(lit), false)
                        .map_err(|m| lit_err(m, r.span))?;
                    let c = leaf(Leaf::Term(slot, set));
                    if *op == CmpOp::Ne {
                        Cond::Not(Box::new(c))
                    } else {
                        c
                    }
                }
                _ => {
                    let b = literal::bound(slot.kind, lit).map_err(|m| lit_err(m, r.span))?;
                    leaf(Leaf::Range(slot, *op, b))
                }
            }
        }
        TKind::InsEq(l, r) => {
            let (Some(slot), Some(lit)) = (slot_of(l), r.as_lit()) else {
                return Ok(None);
            };
            let set = literal::term_set(slot.kind, std::slice::from_ref(lit), true)
                .map_err(|m| lit_err(m, r.span))?;
            leaf(Leaf::Term(slot, set))
        }
        TKind::Like { value, pattern, ci } => {
            let Some(slot) = slot_of(value) else {
                return Ok(None);
            };
            let case = if *ci {
                CaseMode::Insensitive
            } else {
                CaseMode::Sensitive
            };
            leaf(Leaf::Wildcard(
                slot,
                Patterns::new(vec![Wildcard::new(pattern, case)]),
            ))
        }
        TKind::Regex { value, pattern, ci } => {
            let Some(slot) = slot_of(value) else {
                return Ok(None);
            };
            let m = lucene::compile(pattern, *ci)
                .map_err(|e| Diagnostic::new(format!("invalid regular expression: {e}"), t.span))?;
            leaf(Leaf::Regex(slot, m))
        }
        TKind::In { value, list } => {
            let Some(slot) = slot_of(value) else {
                return Ok(None);
            };
            let set = literal::term_set(slot.kind, list, false).map_err(|m| lit_err(m, t.span))?;
            leaf(Leaf::Term(slot, set))
        }
        TKind::IsNull(x) => {
            let Some(slot) = slot_of(x) else {
                return Ok(None);
            };
            Cond::Not(Box::new(leaf(Leaf::Exists(slot))))
        }
        TKind::Call {
            func,
            ci,
            args,
            cidrs,
        } => {
            let case = if *ci {
                CaseMode::Insensitive
            } else {
                CaseMode::Sensitive
            };
            match func {
                Func::StartsWith | Func::EndsWith | Func::StringContains => {
                    let (Some(slot), Some(RVal::Str(s))) = (
                        args.first().and_then(slot_of),
                        args.get(1).and_then(|a| a.as_lit()),
                    ) else {
                        return Ok(None);
                    };
                    let w = match func {
                        Func::StartsWith => Wildcard::prefix(s, case),
                        Func::EndsWith => Wildcard::lucene(&format!("*{s}"), case),
                        _ => Wildcard::lucene(&format!("*{s}*"), case),
                    };
                    leaf(Leaf::Wildcard(slot, Patterns::new(vec![w])))
                }
                Func::CidrMatch => {
                    let Some(slot) = args.first().and_then(slot_of) else {
                        return Ok(None);
                    };
                    // The terms query runs on the ip field; an unmapped field
                    // is read as addresses too.
                    let slot = Slot::new(slot.path, FieldKind::Ip);
                    leaf(Leaf::Term(slot, TermSet::Ip(cidrs.clone())))
                }
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    }))
}

/// Merges wildcard leaves of one `or` that test the same field into one
/// leaf (a `like` list is one OR in Elasticsearch too).
fn merge_wildcards(items: Vec<Cond>) -> Cond {
    let mut out: Vec<Cond> = Vec::with_capacity(items.len());
    for c in items {
        if let Cond::Leaf(l) = &c {
            if let Leaf::Wildcard(slot, pats) = &**l {
                let existing = out.iter_mut().find_map(|o| match o {
                    Cond::Leaf(ol) => match &mut **ol {
                        Leaf::Wildcard(os, op) if os == slot => Some(op),
                        _ => None,
                    },
                    _ => None,
                });
                if let Some(op) = existing {
                    op.extend(pats.iter().cloned());
                    continue;
                }
            }
        }
        out.push(c);
    }
    if out.len() == 1 {
        out.remove(0)
    } else {
        Cond::Or(out)
    }
}
