//! Conditions on join keys shared across a sequence's (or sample's)
//! terms, as Elasticsearch's optimizer shares them
//! (`PropagateJoinKeyConstraints`) before it runs any term's search.
//!
//! A top-level `and` part of a term's condition that holds no `or` and
//! reads one of the term's join keys is added to every other term (missing
//! ones too, not `until`), with that key replaced by the other term's key
//! at the same position. With single-valued keys this changes nothing the
//! join would not already require when the part reads only the key; it
//! does when the part also reads other fields (`not (user.name == "root"
//! and process.parent.name == "sshd")` then holds for the other term's
//! event too), or when a key has several values (`user.name != "admin"`
//! keeps out a later event whose users include `admin`).
//!
//! As there, the key a part is tied to is the first key met walking the
//! part from its root, left to right, and only that key is replaced. An
//! `or` of `==` tests of one field against literals counts as an `in`
//! list (Elasticsearch folds it into one before this step); a `:` or
//! `like` with several patterns counts as an `or`.

use crate::syntax::ast::{CmpOp, Expr, ExprKind, Literal, SeqTerm};

/// `terms` (a sequence's or sample's, without `until`) with every other
/// term's key conditions added to each; `shared` are the `by` keys before
/// each term's own. `None` when no term has such a condition.
pub(crate) fn propagate(terms: &[SeqTerm], shared: &[Expr]) -> Option<Vec<SeqTerm>> {
    let keys: Vec<Vec<&Expr>> = terms
        .iter()
        .map(|t| shared.iter().chain(&t.by).collect())
        .collect();
    // (term, key position, part) for every part tied to a key.
    let mut found: Vec<(usize, usize, &Expr)> = Vec::new();
    for (j, t) in terms.iter().enumerate() {
        let mut parts = Vec::new();
        split_and(&t.query.condition, &mut parts);
        for part in parts {
            if has_or(part) {
                continue;
            }
            if let Some(i) = first_key(part, &keys[j]) {
                found.push((j, i, part));
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    let shared_terms = terms
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut term = t.clone();
            for &(j, i, part) in &found {
                let (Some(from), Some(local)) = (keys[j].get(i), keys[k].get(i)) else {
                    continue;
                };
                if j == k || key_path(local).is_empty() {
                    continue;
                }
                let added = replace_field(part, key_path(from), local);
                let condition = &mut term.query.condition;
                let span = condition.span;
                let placeholder = Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span,
                };
                let before = std::mem::replace(condition, placeholder);
                *condition = Expr {
                    kind: ExprKind::And(Box::new(before), Box::new(added)),
                    span,
                };
            }
            term
        })
        .collect();
    Some(shared_terms)
}

/// A key's field path; empty for a key that is not a field (an error
/// reported elsewhere).
fn key_path(e: &Expr) -> &str {
    match &e.kind {
        ExprKind::Field(f) => &f.path,
        _ => "",
    }
}

fn split_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::And(a, b) => {
            split_and(a, out);
            split_and(b, out);
        }
        _ => out.push(e),
    }
}

/// Whether `e` holds an `or` (see the module notes for what counts).
fn has_or(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Or(..) if same_field_equalities(e).is_some() => false,
        ExprKind::Or(..) => true,
        ExprKind::Match { patterns, .. } if patterns.len() > 1 => true,
        _ => children(e).into_iter().any(has_or),
    }
}

/// The field of an `or` made only of `field == literal` tests of one
/// field, which Elasticsearch turns into an `in` list.
fn same_field_equalities(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Or(a, b) => {
            let a = same_field_equalities(a)?;
            let b = same_field_equalities(b)?;
            (a == b).then_some(a)
        }
        ExprKind::Compare(CmpOp::Eq, l, r) => match (&l.kind, &r.kind) {
            (ExprKind::Field(f), ExprKind::Literal(_)) => Some(&f.path),
            _ => None,
        },
        _ => None,
    }
}

/// The position of the first key field met walking `e` from its root.
fn first_key(e: &Expr, keys: &[&Expr]) -> Option<usize> {
    if let ExprKind::Field(f) = &e.kind {
        if let Some(i) = keys.iter().position(|k| key_path(k) == f.path) {
            return Some(i);
        }
    }
    children(e).into_iter().find_map(|c| first_key(c, keys))
}

/// `e` with every reference to the field `from` replaced by `to`.
fn replace_field(e: &Expr, from: &str, to: &Expr) -> Expr {
    if let ExprKind::Field(f) = &e.kind {
        if f.path == from {
            return Expr {
                kind: to.kind.clone(),
                span: e.span,
            };
        }
    }
    let r = |x: &Expr| Box::new(replace_field(x, from, to));
    let kind = match &e.kind {
        ExprKind::Literal(_) | ExprKind::Field(_) => e.kind.clone(),
        ExprKind::Not(x) => ExprKind::Not(r(x)),
        ExprKind::Neg(x) => ExprKind::Neg(r(x)),
        ExprKind::And(a, b) => ExprKind::And(r(a), r(b)),
        ExprKind::Or(a, b) => ExprKind::Or(r(a), r(b)),
        ExprKind::Compare(op, a, b) => ExprKind::Compare(*op, r(a), r(b)),
        ExprKind::Arith(op, a, b) => ExprKind::Arith(*op, r(a), r(b)),
        ExprKind::Match {
            op,
            value,
            patterns,
        } => ExprKind::Match {
            op: *op,
            value: r(value),
            patterns: patterns
                .iter()
                .map(|p| replace_field(p, from, to))
                .collect(),
        },
        ExprKind::In {
            value,
            list,
            insensitive,
            negated,
        } => ExprKind::In {
            value: r(value),
            list: list.iter().map(|p| replace_field(p, from, to)).collect(),
            insensitive: *insensitive,
            negated: *negated,
        },
        ExprKind::Call {
            name,
            name_span,
            insensitive,
            args,
        } => ExprKind::Call {
            name: name.clone(),
            name_span: *name_span,
            insensitive: *insensitive,
            args: args.iter().map(|a| replace_field(a, from, to)).collect(),
        },
    };
    Expr { kind, span: e.span }
}

/// The sub-expressions of `e`, left to right.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Field(_) => Vec::new(),
        ExprKind::Not(x) | ExprKind::Neg(x) => vec![x],
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b) => vec![a, b],
        ExprKind::Match {
            value, patterns, ..
        } => std::iter::once(&**value).chain(patterns).collect(),
        ExprKind::In { value, list, .. } => std::iter::once(&**value).chain(list).collect(),
        ExprKind::Call { args, .. } => args.iter().collect(),
    }
}
