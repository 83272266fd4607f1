//! Script tests: conditions Elasticsearch runs as painless scripts, such
//! as `startsWith~(host.name, substring(user.name, 0, -1))` or
//! `length(process.command_line) > 50`.
//!
//! They are solved after the field tests, by search: for the fields a
//! script reads, values derived from the other fields' current values
//! (copies, with a character added or dropped), from the script's
//! literals (strings, and padded strings for lengths) and plausible
//! defaults are tried, one field and then two at a time, and a change is
//! kept only if every test chosen so far still holds.

use talon_eql::eval::value::{keyword_text, RVal};
use talon_eql::plan::ir::{Leaf, SExpr, ScriptLeaf};
use talon_event::Value;

use crate::goal::{Assignment, Lit, View};
use crate::values::{self, Ctx};

/// Most candidate assignments checked per script test.
const MAX_CHECKS: usize = 20_000;
/// Longest string built to satisfy a length test.
const MAX_PAD: usize = 10_000;

/// Changes `a` until every script test holds, as far as it can; the caller
/// checks the outcome.
/// `fresh` holds, for fields that also have field tests, values solved for
/// those tests alone (without the preferred values), a starting point when
/// the current values cannot be bent to a script.
pub(crate) fn fix(a: &mut Assignment, scripts: &[Lit], all: &[Lit], fresh: &Assignment, ctx: &Ctx) {
    for _ in 0..3 {
        let mut done = true;
        for s in scripts {
            if s.holds(&View(a)) {
                continue;
            }
            done = false;
            if let Leaf::Script(sl) = s.leaf {
                fix_one(a, sl, all, fresh, ctx);
            }
        }
        if done {
            return;
        }
    }
}

fn fix_one(a: &mut Assignment, sl: &ScriptLeaf, all: &[Lit], fresh: &Assignment, ctx: &Ctx) {
    let mut paths: Vec<&str> = Vec::new();
    for f in &sl.fields {
        if !paths.contains(&&*f.path) {
            paths.push(&f.path);
        }
    }
    let lits = literals(&sl.expr);
    let checks = std::cell::Cell::new(0usize);
    let ok = |b: &Assignment| {
        checks.set(checks.get() + 1);
        all.iter().all(|l| l.holds(&View(b)))
    };
    for p in &paths {
        for c in candidates(p, a, &paths, &lits, fresh.get(*p), ctx) {
            let b = with(a, p, c);
            if ok(&b) {
                *a = b;
                return;
            }
        }
    }
    for p in &paths {
        for q in paths.iter().filter(|q| *q != p) {
            for c in candidates(p, a, &paths, &lits, fresh.get(*p), ctx) {
                let b = with(a, p, c);
                for d in candidates(q, &b, &paths, &lits, fresh.get(*q), ctx) {
                    let b2 = with(&b, q, d);
                    if ok(&b2) {
                        *a = b2;
                        return;
                    }
                    if checks.get() > MAX_CHECKS {
                        return;
                    }
                }
            }
        }
    }
}

fn with(a: &Assignment, path: &str, vals: Vec<Value>) -> Assignment {
    let mut b = a.clone();
    if vals.is_empty() {
        b.remove(path);
    } else {
        b.insert(path.to_string(), vals);
    }
    b
}

/// The literals of a script: strings and integers.
fn literals(e: &SExpr) -> Vec<RVal> {
    let mut out = Vec::new();
    fn go(e: &SExpr, out: &mut Vec<RVal>) {
        match e {
            SExpr::Lit(v) => out.push(v.clone()),
            SExpr::Field(_) => {}
            SExpr::Neg(x) | SExpr::IsNull(x) | SExpr::Not(x) => go(x, out),
            SExpr::Like(x, w) => {
                out.push(RVal::str(&w.source().replace(['*', '?'], "")));
                go(x, out);
            }
            SExpr::Regex(x, _) => go(x, out),
            SExpr::Arith(_, a, b) | SExpr::Cmp(_, a, b) | SExpr::InsEq(a, b) => {
                go(a, out);
                go(b, out);
            }
            SExpr::In(x, list) => {
                go(x, out);
                out.extend(list.iter().cloned());
            }
            SExpr::And(items) | SExpr::Or(items) | SExpr::Call(_, _, items, _) => {
                items.iter().for_each(|i| go(i, out));
            }
        }
    }
    go(e, &mut out);
    out
}

/// Replacement values for `path`, best first.
fn candidates(
    path: &str,
    a: &Assignment,
    paths: &[&str],
    lits: &[RVal],
    fresh: Option<&Vec<Value>>,
    ctx: &Ctx,
) -> Vec<Vec<Value>> {
    let current: Vec<Value> = a.get(path).cloned().unwrap_or_default();
    let mut texts: Vec<String> = Vec::new();
    for q in paths.iter().filter(|q| **q != path) {
        for v in a.get(*q).into_iter().flatten() {
            let Some(t) = keyword_text(v) else { continue };
            let t = t.to_string();
            let mut chars = t.chars();
            chars.next_back();
            let shorter = chars.as_str().to_string();
            let tail: String = t.chars().skip(1).collect();
            texts.extend([
                t.clone(),
                format!("{t}$"),
                format!("{t}."),
                format!("{t}x"),
                format!("x{t}"),
                shorter,
                tail,
            ]);
        }
    }
    let text_of = |v: Option<&Vec<Value>>| {
        v.and_then(|v| v.first())
            .and_then(keyword_text)
            .map(|t| t.to_string())
    };
    let bases: Vec<String> = [text_of(Some(&current)), text_of(fresh)]
        .into_iter()
        .flatten()
        .collect();
    for l in lits {
        match l {
            RVal::Str(s) => texts.push(s.to_string()),
            RVal::Int(_) | RVal::Long(_) => {
                let n = l.as_i64().unwrap_or(0).clamp(0, MAX_PAD as i64) as usize;
                // Around the length, keeping a text that passes the field's
                // own tests as a prefix.
                for len in [n + 1, n, n.saturating_sub(1)] {
                    for base in &bases {
                        let pad = len.saturating_sub(base.chars().count());
                        texts.push(format!("{base}{}", "a".repeat(pad)));
                    }
                    texts.push("a".repeat(len));
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    if let Some(f) = fresh.filter(|f| **f != current) {
        out.push(f.clone());
    }
    for t in texts {
        let v = Value::str(&t);
        out.push(vec![v.clone()]);
        if !current.is_empty() {
            // Or as one more value, which keeps the current one's tests.
            let mut more = current.clone();
            more.push(v);
            out.push(more);
        }
    }
    for d in values::defaults(path, ctx) {
        out.push(vec![d]);
    }
    out.dedup();
    out
}
