//! Compiled conditions as EQL-like text, for labels when the query text
//! cannot be lined up with the plan, and for the reasons given when a
//! condition cannot be satisfied. Long value lists are cut short: this is
//! for people, not for parsing back.

use talon_eql::ast::CmpOp;
use talon_eql::eval::regex::RegexMatcher;
use talon_eql::eval::value::{java_instant_string, RVal};
use talon_eql::eval::wildcard::{CaseMode, Wildcard};
use talon_eql::plan::ir::{Bound, Cond, Func, Leaf, Num, SExpr, Slot, TermSet};

use crate::values::ip_text;

/// Values shown before a list is cut short.
const SHOWN: usize = 4;

pub(crate) fn cond(c: &Cond) -> String {
    match c {
        Cond::Const(b) => b.to_string(),
        Cond::Leaf(l) => leaf(l),
        Cond::Not(x) => match &**x {
            Cond::Leaf(l) => not_leaf(l),
            other => format!("not ({})", cond(other)),
        },
        Cond::And(items) => join(items, " and "),
        Cond::Or(items) => join(items, " or "),
    }
}

fn join(items: &[Cond], sep: &str) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Cond::And(_) | Cond::Or(_) => format!("({})", cond(i)),
            other => cond(other),
        })
        .collect();
    parts.join(sep)
}

/// A leaf that must hold (`pos`) or fail.
pub(crate) fn lit(l: &Leaf, pos: bool) -> String {
    if pos {
        leaf(l)
    } else {
        not_leaf(l)
    }
}

fn not_leaf(l: &Leaf) -> String {
    match l {
        Leaf::Exists(s) => format!("{} == null", s.path),
        Leaf::Term(s, set) => {
            let vals = term_values(set);
            let ci = match set {
                TermSet::Str(st) => st.is_ci(),
                TermSet::Dynamic { ci, .. } => *ci,
                _ => false,
            };
            match (vals.len(), set) {
                (_, TermSet::Ip(_)) => format!("not {}", leaf(l)),
                _ if ci => format!("not {}", leaf(l)),
                (1, _) => format!("{} != {}", s.path, vals.join(", ")),
                _ => format!("{} not in ({})", s.path, list(&vals)),
            }
        }
        other => format!("not {}", leaf(other)),
    }
}

pub(crate) fn leaf(l: &Leaf) -> String {
    match l {
        Leaf::Exists(s) => format!("{} != null", s.path),
        Leaf::Term(s, set) => term(s, set),
        Leaf::Range(s, op, b) => format!("{} {} {}", s.path, op.as_str(), bound(b)),
        Leaf::Wildcard(s, pats) => wildcard(s, pats),
        Leaf::Regex(s, m) => format!("{} regex {}", s.path, regex(m)),
        Leaf::Script(sl) => sexpr(&sl.expr, &sl.fields),
    }
}

fn term(s: &Slot, set: &TermSet) -> String {
    let vals = term_values(set);
    if let TermSet::Ip(_) = set {
        return format!("cidrMatch({}, {})", s.path, list(&vals));
    }
    let ci = match set {
        TermSet::Str(st) => st.is_ci(),
        TermSet::Dynamic { ci, .. } => *ci,
        _ => false,
    };
    match (vals.len(), ci) {
        (1, false) => format!("{} == {}", s.path, vals.join("")),
        (1, true) => format!("{} : {}", s.path, vals.join("")),
        (_, false) => format!("{} in ({})", s.path, list(&vals)),
        (_, true) => format!("{} in~ ({})", s.path, list(&vals)),
    }
}

fn term_values(set: &TermSet) -> Vec<String> {
    match set {
        TermSet::Str(st) => st.values().iter().map(|v| quote(v)).collect(),
        TermSet::Num(ns) => ns.iter().map(|n| num(*n)).collect(),
        TermSet::Bool(bs) => bs.iter().map(bool::to_string).collect(),
        TermSet::Date(rs) => rs
            .iter()
            .map(|(lo, _)| quote(&java_instant_string(*lo)))
            .collect(),
        TermSet::Ip(rs) => rs
            .iter()
            .map(|r| {
                // The prefix length of a block is the number of bits the
                // two ends share.
                let bits = (r.lo ^ r.hi).leading_zeros();
                let mapped = r.lo >> 32 == 0xffff;
                if r.lo == r.hi {
                    quote(&ip_text(r.lo))
                } else if mapped {
                    quote(&format!("{}/{}", ip_text(r.lo), bits.saturating_sub(96)))
                } else {
                    quote(&format!("{}/{}", ip_text(r.lo), bits))
                }
            })
            .collect(),
        TermSet::Version(vs) => vec![format!("<{} versions>", vs.len())],
        TermSet::Dynamic { values, .. } => values.iter().map(rval).collect(),
    }
}

fn list(vals: &[String]) -> String {
    if vals.len() <= SHOWN {
        return vals.join(", ");
    }
    format!(
        "{}, ... {} more",
        vals[..SHOWN].join(", "),
        vals.len() - SHOWN
    )
}

fn wildcard(s: &Slot, pats: &[Wildcard]) -> String {
    let ci = pats.iter().any(|p| p.case() != CaseMode::Sensitive);
    let op = if ci { "like~" } else { "like" };
    let vals: Vec<String> = pats.iter().map(|p| quote(p.source())).collect();
    if vals.len() == 1 {
        format!("{} {op} {}", s.path, vals.join(""))
    } else {
        format!("{} {op} ({})", s.path, list(&vals))
    }
}

fn regex(m: &RegexMatcher) -> String {
    match m {
        RegexMatcher::Rx(r) => {
            let p = r.as_str();
            let inner = p
                .strip_prefix("^(?:")
                .and_then(|x| x.strip_suffix(")$"))
                .unwrap_or(p);
            quote(inner)
        }
        RegexMatcher::Never => "#".to_string(),
        RegexMatcher::All(ps) => ps.iter().map(regex).collect::<Vec<_>>().join(" & "),
        RegexMatcher::Any(ps) => ps.iter().map(regex).collect::<Vec<_>>().join(" | "),
        RegexMatcher::Not(p) => format!("~{}", regex(p)),
    }
}

fn bound(b: &Bound) -> String {
    match b {
        Bound::Str(s) => quote(s),
        Bound::Num(n) => num(*n),
        Bound::Bool(b) => b.to_string(),
        Bound::Date(lo, _) => quote(&java_instant_string(*lo)),
        Bound::Ip(a) => quote(&ip_text(*a)),
        Bound::Version(_) => "<version>".to_string(),
        Bound::Dynamic(v) => rval(v),
    }
}

fn num(n: Num) -> String {
    match n {
        Num::I(i) => i.to_string(),
        Num::F(f) => f.to_string(),
    }
}

fn rval(v: &RVal) -> String {
    match v {
        RVal::Null => "null".to_string(),
        RVal::Str(s) => quote(s),
        RVal::Date(n) => quote(&java_instant_string(*n)),
        other => other.to_java_string().unwrap_or_default(),
    }
}

pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn func_name(f: Func) -> &'static str {
    f.name()
}

fn sexpr(e: &SExpr, fields: &[Slot]) -> String {
    let r = |x: &SExpr| sexpr(x, fields);
    match e {
        SExpr::Lit(v) => rval(v),
        SExpr::Field(i) => fields
            .get(*i)
            .map(|s| s.path.to_string())
            .unwrap_or_else(|| "?".to_string()),
        SExpr::Neg(x) => format!("-{}", r(x)),
        SExpr::Arith(op, a, b) => format!("({} {} {})", r(a), op.as_str(), r(b)),
        SExpr::Cmp(op, a, b) => format!("{} {} {}", r(a), cmp(*op), r(b)),
        SExpr::InsEq(a, b) => format!("{} : {}", r(a), r(b)),
        SExpr::Like(v, w) => format!("{} like {}", r(v), quote(w.source())),
        SExpr::Regex(v, re) => format!("{} regex {}", r(v), quote(re.as_str())),
        SExpr::In(v, list) => {
            let vals: Vec<String> = list.iter().map(rval).collect();
            format!("{} in ({})", r(v), vals.join(", "))
        }
        SExpr::IsNull(x) => format!("{} == null", r(x)),
        SExpr::Not(x) => format!("not ({})", r(x)),
        SExpr::And(items) => items.iter().map(r).collect::<Vec<_>>().join(" and "),
        SExpr::Or(items) => items.iter().map(r).collect::<Vec<_>>().join(" or "),
        SExpr::Call(f, ci, args, _) => {
            let args: Vec<String> = args.iter().map(r).collect();
            let tilde = if *ci { "~" } else { "" };
            format!("{}{tilde}({})", func_name(*f), args.join(", "))
        }
    }
}

fn cmp(op: CmpOp) -> &'static str {
    op.as_str()
}
