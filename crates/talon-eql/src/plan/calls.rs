//! Checking function calls: name lookup (case-insensitive, as the registry
//! lowercases names), the `~` suffix, arity and argument types, with the
//! verifier's messages pointing at the offending argument.
//!
//! | function | arguments | result |
//! |---|---|---|
//! | add, subtract, multiply, divide, modulo | number, number | number |
//! | between | string, string, string[, boolean] | string |
//! | cidrMatch | ip, constant string... | boolean |
//! | concat | any... (at least one) | string |
//! | endsWith, startsWith, stringContains | string, string | boolean |
//! | indexOf | string, string[, integer] | integer |
//! | length | string | integer |
//! | number | string[, integer] | number |
//! | string | any | string |
//! | substring | string, integer[, integer] | string |
//!
//! `~` is accepted by between, endsWith, indexOf, startsWith and
//! stringContains only.

use crate::ast::{ArithOp, Expr, Span};
use crate::eval::ip;
use crate::eval::value::RVal;
use crate::plan::check::{common_numeric, ordinal, Checker};
use crate::plan::ir::{Func, TExpr, TKind, Ty};

enum Target {
    Arith(ArithOp),
    Func(Func),
}

fn lookup(name: &str) -> Option<Target> {
    Some(match name.to_ascii_lowercase().as_str() {
        "add" => Target::Arith(ArithOp::Add),
        "subtract" => Target::Arith(ArithOp::Sub),
        "multiply" => Target::Arith(ArithOp::Mul),
        "divide" => Target::Arith(ArithOp::Div),
        "modulo" => Target::Arith(ArithOp::Mod),
        "between" => Target::Func(Func::Between),
        "cidrmatch" => Target::Func(Func::CidrMatch),
        "concat" => Target::Func(Func::Concat),
        "endswith" => Target::Func(Func::EndsWith),
        "indexof" => Target::Func(Func::IndexOf),
        "length" => Target::Func(Func::Length),
        "number" => Target::Func(Func::Number),
        "startswith" => Target::Func(Func::StartsWith),
        "string" => Target::Func(Func::String),
        "stringcontains" => Target::Func(Func::StringContains),
        "substring" => Target::Func(Func::Substring),
        _ => return None,
    })
}

/// Functions of the Python `eql` library that Elasticsearch does not have.
const LEGACY: &[&str] = &[
    "arraycontains",
    "arraycount",
    "arraysearch",
    "match",
    "matchlite",
    "wildcard",
    "safe",
];

#[derive(Clone, Copy)]
enum Want {
    Str,
    Int,
    Num,
    Bool,
    Ip,
    Any,
}

impl Want {
    fn accepts(self, t: Ty) -> bool {
        if matches!(t, Ty::Null | Ty::Dynamic) {
            return true;
        }
        match self {
            Want::Str => t == Ty::Keyword,
            Want::Int => matches!(t, Ty::Int | Ty::Long),
            Want::Num => t.is_numeric(),
            Want::Bool => t == Ty::Bool,
            Want::Ip => t == Ty::Ip,
            Want::Any => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Want::Str => "string",
            Want::Int => "integer",
            Want::Num => "numeric",
            Want::Bool => "boolean",
            Want::Ip => "ip",
            Want::Any => "any",
        }
    }
}

impl Checker<'_> {
    pub fn check_call(
        &mut self,
        name: &str,
        name_span: Span,
        ci: bool,
        args: &[Expr],
        e: &Expr,
    ) -> Option<TExpr> {
        let Some(target) = lookup(name) else {
            let lower = name.to_ascii_lowercase();
            let d = crate::diag::Diagnostic::new(format!("unknown function `{name}`"), name_span);
            let d = if LEGACY.contains(&lower.as_str()) {
                d.with_hint(
                    "this function exists in the Python eql library, not in Elasticsearch EQL",
                )
            } else {
                d.with_hint(
                    "EQL functions are add, between, cidrMatch, concat, divide, endsWith, indexOf, length, \
                     modulo, multiply, number, startsWith, string, stringContains, substring, subtract",
                )
            };
            self.errors.push(d);
            return None;
        };
        let fname = match &target {
            Target::Arith(op) => match op {
                ArithOp::Add => "add",
                ArithOp::Sub => "subtract",
                ArithOp::Mul => "multiply",
                ArithOp::Div => "divide",
                ArithOp::Mod => "modulo",
            },
            Target::Func(f) => f.name(),
        };
        let case_aware = matches!(
            target,
            Target::Func(
                Func::Between
                    | Func::EndsWith
                    | Func::IndexOf
                    | Func::StartsWith
                    | Func::StringContains
            )
        );
        if ci && !case_aware {
            self.err(
                format!("function `{fname}` does not support case-insensitive matching (`~`)"),
                name_span,
            );
            return None;
        }
        let (min, max, arity) = match &target {
            Target::Arith(_) => (2, Some(2), "exactly two arguments"),
            Target::Func(f) => match f {
                Func::Between => (3, Some(4), "three or four arguments"),
                Func::CidrMatch => (2, None, "at least two arguments"),
                Func::Concat => (1, None, "at least one argument"),
                Func::EndsWith | Func::StartsWith | Func::StringContains => {
                    (2, Some(2), "exactly two arguments")
                }
                Func::IndexOf => (2, Some(3), "two or three arguments"),
                Func::Length | Func::String => (1, Some(1), "exactly one argument"),
                Func::Number => (1, Some(2), "one or two arguments"),
                Func::Substring => (2, Some(3), "two or three arguments"),
            },
        };
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let at = match max {
                Some(m) if args.len() > m => args[m].span.to(args[args.len() - 1].span),
                _ => e.span,
            };
            self.err(
                format!(
                    "error building [{fname}]: expects {arity}, found {}",
                    args.len()
                ),
                at,
            );
            return None;
        }
        let mut checked = Vec::with_capacity(args.len());
        let mut ok = true;
        for a in args {
            match self.check(a) {
                Some(t) => checked.push(t),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let wants: Vec<Want> = match &target {
            Target::Arith(_) => vec![Want::Num, Want::Num],
            Target::Func(f) => match f {
                Func::Between => vec![Want::Str, Want::Str, Want::Str, Want::Bool],
                Func::CidrMatch => {
                    let mut w = vec![Want::Ip];
                    w.resize(args.len(), Want::Str);
                    w
                }
                Func::Concat | Func::String => vec![Want::Any; args.len()],
                Func::EndsWith | Func::StartsWith | Func::StringContains => {
                    vec![Want::Str, Want::Str]
                }
                Func::IndexOf => vec![Want::Str, Want::Str, Want::Int],
                Func::Length => vec![Want::Str],
                Func::Number => vec![Want::Str, Want::Int],
                Func::Substring => vec![Want::Str, Want::Int, Want::Int],
            },
        };
        for (i, (t, w)) in checked.iter().zip(&wants).enumerate() {
            if !w.accepts(t.ty) {
                self.err(
                    format!(
                        "{} argument of [{e}] must be [{}], found value [{}] type [{}]",
                        ordinal(i + 1),
                        w.name(),
                        args[i],
                        t.ty.name()
                    ),
                    args[i].span,
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let span = e.span;
        match target {
            Target::Arith(op) => {
                if matches!(op, ArithOp::Div | ArithOp::Mod) && checked[0].as_lit().is_none() {
                    if let Some(RVal::Int(0) | RVal::Long(0)) = checked[1].as_lit() {
                        self.err("division by zero", args[1].span);
                        return None;
                    }
                }
                let mut it = checked.into_iter();
                let (a, b) = (it.next()?, it.next()?);
                let ty = common_numeric(a.ty, b.ty);
                self.fold(TExpr {
                    kind: TKind::Arith(op, Box::new(a), Box::new(b)),
                    ty,
                    span,
                })
            }
            Target::Func(func) => {
                let mut cidrs = Vec::new();
                if func == Func::CidrMatch {
                    for (i, t) in checked.iter().enumerate().skip(1) {
                        match t.as_lit() {
                            Some(RVal::Str(s)) => match ip::parse_cidr(s) {
                                Some(r) => cidrs.push(r),
                                None => {
                                    self.err(format!("invalid CIDR block \"{s}\""), args[i].span);
                                    ok = false;
                                }
                            },
                            Some(RVal::Null) => {}
                            _ => {
                                self.err(
                                    format!(
                                        "{} argument of [{e}] must be a constant, received [{}]",
                                        ordinal(i + 1),
                                        args[i]
                                    ),
                                    args[i].span,
                                );
                                ok = false;
                            }
                        }
                    }
                    if !ok {
                        return None;
                    }
                    // A null block makes the result null (the processor
                    // rejects it), whatever the address.
                    if checked
                        .iter()
                        .skip(1)
                        .any(|t| matches!(t.as_lit(), Some(RVal::Null)))
                    {
                        return Some(TExpr::lit(RVal::Null, span));
                    }
                }
                let ty = match func {
                    Func::Between | Func::Concat | Func::String | Func::Substring => Ty::Keyword,
                    Func::CidrMatch | Func::EndsWith | Func::StartsWith | Func::StringContains => {
                        Ty::Bool
                    }
                    Func::IndexOf | Func::Length => Ty::Int,
                    Func::Number => Ty::Double,
                };
                self.fold(TExpr {
                    kind: TKind::Call {
                        func,
                        ci,
                        args: checked,
                        cidrs,
                    },
                    ty,
                    span,
                })
            }
        }
    }
}
