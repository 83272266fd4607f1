//! The text of each condition as the rule writes it, lined up with the
//! compiled plan, so a near-miss can say which condition it flipped in the
//! rule author's own words.
//!
//! The plan keeps the query's `and`/`or` structure (nested ones flattened)
//! and its order, so the syntax tree, flattened the same way, lines up
//! with it: each written condition becomes one or more consecutive plan
//! items (a `:` list with and without wildcards becomes several tests)
//! reading exactly its fields. Where no such split exists (the checker
//! folded something away, or merged several written conditions into one
//! test), the plan's own rendering is used instead.

use std::collections::{BTreeMap, BTreeSet};

use talon_eql::ast::{Expr, ExprKind};
use talon_eql::plan::ir::{Cond, Leaf};

use crate::goal::leaf_path;
use crate::render;

/// A condition's text and, for `and`/`or`/`not`, its parts' texts.
#[derive(Clone, Debug)]
pub(crate) struct Labels {
    pub text: String,
    pub parts: Vec<Labels>,
}

/// Labels for `cond`, written as `expr` in `source`.
pub(crate) fn labels(cond: &Cond, expr: Option<&Expr>, source: &str) -> Labels {
    let text = match expr {
        Some(e) => span_text(e, source).unwrap_or_else(|| render::cond(cond)),
        None => render::cond(cond),
    };
    let parts = match cond {
        Cond::And(items) => children(items, expr.map(|e| flatten(e, true)), source),
        Cond::Or(items) => children(items, expr.map(|e| flatten(e, false)), source),
        Cond::Not(inner) => {
            let e = expr.and_then(|e| match &e.kind {
                ExprKind::Not(x) => Some(&**x),
                _ => None,
            });
            vec![labels(inner, e, source)]
        }
        _ => Vec::new(),
    };
    Labels { text, parts }
}

fn children(items: &[Cond], exprs: Option<Vec<&Expr>>, source: &str) -> Vec<Labels> {
    let Some(exprs) = exprs else {
        return items.iter().map(|c| labels(c, None, source)).collect();
    };
    let item_fields: Vec<BTreeSet<String>> = items
        .iter()
        .map(|c| {
            let mut f = BTreeSet::new();
            cond_fields(c, &mut f);
            f
        })
        .collect();
    let expr_fields: Vec<BTreeSet<String>> = exprs
        .iter()
        .map(|e| {
            let mut f = BTreeSet::new();
            expr_fields(e, &mut f);
            f
        })
        .collect();
    let Some(groups) = align(&item_fields, &expr_fields, 0, 0, &mut BTreeMap::new()) else {
        return items.iter().map(|c| labels(c, None, source)).collect();
    };
    let mut out = Vec::with_capacity(items.len());
    let mut at = 0;
    for (e, size) in exprs.iter().zip(groups) {
        if size == 1 {
            out.push(labels(&items[at], Some(e), source));
        } else {
            // One written condition compiled to several tests (a pattern
            // list split into exact and wildcard parts): each test is
            // known by the written condition.
            let text = span_text(e, source);
            for c in &items[at..at + size] {
                let mut l = labels(c, None, source);
                if let Some(t) = &text {
                    l.text = t.clone();
                }
                out.push(l);
            }
        }
        at += size;
    }
    out
}

/// Splits the plan's items, in order, into one non-empty run per written
/// condition such that each run reads exactly that condition's fields;
/// the run sizes, if there is such a split.
fn align(
    items: &[BTreeSet<String>],
    exprs: &[BTreeSet<String>],
    i: usize,
    e: usize,
    memo: &mut BTreeMap<(usize, usize), Option<Vec<usize>>>,
) -> Option<Vec<usize>> {
    if e == exprs.len() {
        return (i == items.len()).then(Vec::new);
    }
    if let Some(hit) = memo.get(&(i, e)) {
        return hit.clone();
    }
    let mut found = None;
    let mut acc = BTreeSet::new();
    for j in i..items.len() {
        acc.extend(items[j].iter().cloned());
        if !acc.is_subset(&exprs[e]) {
            break;
        }
        if acc == exprs[e] {
            if let Some(mut rest) = align(items, exprs, j + 1, e + 1, memo) {
                rest.insert(0, j + 1 - i);
                found = Some(rest);
                break;
            }
        }
    }
    memo.insert((i, e), found.clone());
    found
}

/// The operands of nested `and`s (or `or`s) of an expression, in order.
pub(crate) fn flatten(e: &Expr, and: bool) -> Vec<&Expr> {
    match (&e.kind, and) {
        (ExprKind::And(a, b), true) | (ExprKind::Or(a, b), false) => {
            let mut out = flatten(a, and);
            out.extend(flatten(b, and));
            out
        }
        _ => vec![e],
    }
}

/// The query text of an expression on one line: outside string literals,
/// comments are dropped, whitespace runs become one space, and none is
/// kept just inside parentheses.
fn span_text(e: &Expr, source: &str) -> Option<String> {
    let raw = source.get(e.span.start as usize..e.span.end as usize)?;
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut space = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if let Some(q) = quote {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c == '/' && chars.get(i) == Some(&'*') {
            let mut depth = 1;
            i += 1;
            while i < chars.len() && depth > 0 {
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                } else if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            space = true;
            continue;
        }
        if c == '/' && chars.get(i) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            space = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && c != ')' && !out.ends_with('(') && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        if c == '"' || c == '\'' || c == '`' {
            quote = Some(c);
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

fn cond_fields(c: &Cond, out: &mut BTreeSet<String>) {
    match c {
        Cond::Const(_) => {}
        Cond::And(items) | Cond::Or(items) => items.iter().for_each(|i| cond_fields(i, out)),
        Cond::Not(x) => cond_fields(x, out),
        Cond::Leaf(l) => match &**l {
            Leaf::Script(s) => out.extend(s.fields.iter().map(|f| f.path.to_string())),
            other => {
                if let Some(p) = leaf_path(other) {
                    out.insert(p.to_string());
                }
            }
        },
    }
}

fn expr_fields(e: &Expr, out: &mut BTreeSet<String>) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Field(f) => {
            out.insert(f.path.clone());
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => expr_fields(x, out),
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b) => {
            expr_fields(a, out);
            expr_fields(b, out);
        }
        ExprKind::Match {
            value, patterns, ..
        } => {
            expr_fields(value, out);
            patterns.iter().for_each(|p| expr_fields(p, out));
        }
        ExprKind::In { value, list, .. } => {
            expr_fields(value, out);
            list.iter().for_each(|p| expr_fields(p, out));
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| expr_fields(a, out)),
    }
}
