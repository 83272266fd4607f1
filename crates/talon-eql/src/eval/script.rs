//! Script expressions: evaluation with Elasticsearch's null propagation.
//!
//! This is what Elasticsearch's painless scripts compute for conditions it
//! cannot turn into a field query: comparisons with null are null,
//! incomparable types are null, `and`/`or` are three-valued, functions
//! follow their processors. The leaf around a script (see `eval::leaf`)
//! decides the document: true only when the result is `true`.

use std::cmp::Ordering;

use super::functions::{self, FnResult};
use super::text::java_equals_ignore_case;
use super::value::{script_compare, RVal};
use crate::ast::CmpOp;
use crate::plan::ir::{Func, SExpr};

/// Evaluates `e` with `env[i]` as the value of field occurrence `i`.
pub fn eval(e: &SExpr, env: &[RVal]) -> FnResult {
    Ok(match e {
        SExpr::Lit(v) => v.clone(),
        SExpr::Field(i) => env.get(*i).cloned().unwrap_or(RVal::Null),
        SExpr::Neg(x) => functions::negate(&eval(x, env)?)?,
        SExpr::Arith(op, a, b) => functions::arith(*op, &eval(a, env)?, &eval(b, env)?)?,
        SExpr::Cmp(op, a, b) => compare(*op, &eval(a, env)?, &eval(b, env)?),
        SExpr::InsEq(a, b) => match (eval(a, env)?, eval(b, env)?) {
            (RVal::Str(x), RVal::Str(y)) => RVal::Bool(java_equals_ignore_case(&x, &y)),
            _ => RVal::Null,
        },
        SExpr::Like(v, w) => match eval(v, env)? {
            RVal::Str(s) => RVal::Bool(w.matches(&s)),
            _ => RVal::Null,
        },
        SExpr::Regex(v, r) => match eval(v, env)? {
            RVal::Str(s) => RVal::Bool(r.is_match(&s)),
            _ => RVal::Null,
        },
        SExpr::In(v, list) => in_list(&eval(v, env)?, list),
        SExpr::IsNull(x) => RVal::Bool(eval(x, env)?.is_null()),
        SExpr::Not(x) => match eval(x, env)? {
            RVal::Bool(b) => RVal::Bool(!b),
            _ => RVal::Null,
        },
        SExpr::And(items) => {
            // Three-valued: any false wins, then any null.
            let mut out = RVal::Bool(true);
            for i in items {
                match eval(i, env)?.as_bool() {
                    Some(false) => return Ok(RVal::Bool(false)),
                    Some(true) => {}
                    None => out = RVal::Null,
                }
            }
            out
        }
        SExpr::Or(items) => {
            let mut out = RVal::Bool(false);
            for i in items {
                match eval(i, env)?.as_bool() {
                    Some(true) => return Ok(RVal::Bool(true)),
                    Some(false) => {}
                    None => out = RVal::Null,
                }
            }
            out
        }
        SExpr::Call(func, ci, args, cidrs) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, env)?);
            }
            call(*func, *ci, &vals, cidrs)?
        }
    })
}

fn arg(vals: &[RVal], i: usize) -> &RVal {
    vals.get(i).unwrap_or(&RVal::Null)
}

fn call(func: Func, ci: bool, v: &[RVal], cidrs: &[crate::eval::ip::IpRange]) -> FnResult {
    match func {
        Func::Between => {
            let greedy = match arg(v, 3) {
                RVal::Null => RVal::Bool(false),
                g => g.clone(),
            };
            functions::between(arg(v, 0), arg(v, 1), arg(v, 2), &greedy, ci)
        }
        Func::CidrMatch => functions::cidr_match(arg(v, 0), cidrs),
        Func::Concat => functions::concat(v),
        Func::EndsWith => functions::starts_ends(arg(v, 0), arg(v, 1), ci, true),
        Func::StartsWith => functions::starts_ends(arg(v, 0), arg(v, 1), ci, false),
        Func::IndexOf => functions::index_of(arg(v, 0), arg(v, 1), arg(v, 2), ci),
        Func::Length => functions::length(arg(v, 0)),
        Func::Number => functions::number(arg(v, 0), arg(v, 1)),
        Func::String => functions::to_string(arg(v, 0)),
        Func::StringContains => functions::string_contains(arg(v, 0), arg(v, 1), ci),
        Func::Substring => functions::substring(arg(v, 0), arg(v, 1), arg(v, 2)),
    }
}

/// A script comparison: null when either side is null or the two values
/// are of incomparable types.
pub fn compare(op: CmpOp, a: &RVal, b: &RVal) -> RVal {
    if a.is_null() || b.is_null() {
        return RVal::Null;
    }
    match script_compare(a, b) {
        None => RVal::Null,
        Some(o) => RVal::Bool(match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }),
    }
}

/// `InProcessor`: true on the first equal item, null if some comparison
/// was null and none was true, else false.
pub fn in_list(v: &RVal, list: &[RVal]) -> RVal {
    if v.is_null() {
        return RVal::Null;
    }
    let mut result = RVal::Bool(false);
    for item in list {
        match compare(CmpOp::Eq, v, item) {
            RVal::Bool(true) => return RVal::Bool(true),
            RVal::Bool(false) => {}
            _ => result = RVal::Null,
        }
    }
    result
}
