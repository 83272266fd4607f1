//! Evaluation of the two-valued leaf tests against one event.
//!
//! A field leaf holds when ANY stored value of the field passes, after the
//! value is read the way the field's type indexes it; a missing field
//! fails every field leaf. A script leaf holds when some combination of
//! its field occurrences' values (a missing field is one null) makes the
//! expression `true`: that is how Elasticsearch runs EQL scripts over
//! multi-valued doc values (`multiValueDocValues`).

use std::cmp::Ordering;

use talon_event::{Fields, Value};

use super::ip;
use super::recall::Recall;
use super::script;
use super::text::ci_term_eq;
use super::value::{
    coerce_bool, coerce_date, coerce_double, coerce_long, doc_value, java_double_string,
    keyword_text, FieldKind, RVal,
};
use super::version::VersionKey;
use crate::ast::CmpOp;
use crate::plan::ir::{Bound, Leaf, Num, ScriptLeaf, Slot, TermSet, NO_MEMO};

/// Most value combinations a script leaf over several field occurrences
/// tries before giving up (a guard against the product of long arrays).
/// A script over one occurrence tries every value: that is linear.
pub const MAX_COMBINATIONS: usize = 4096;

pub fn leaf_matches(leaf: &Leaf, ev: &dyn Fields) -> bool {
    leaf_matches_with(leaf, ev, None)
}

/// As [`leaf_matches`], with a numbered wildcard or regex leaf's answer
/// for each string kept in `recall` across events (see [`Recall`]).
pub fn leaf_matches_recalling(leaf: &Leaf, ev: &dyn Fields, recall: &mut Recall) -> bool {
    leaf_matches_with(leaf, ev, Some(recall))
}

fn leaf_matches_with(leaf: &Leaf, ev: &dyn Fields, recall: Option<&mut Recall>) -> bool {
    match leaf {
        Leaf::Exists(slot) => !slot.values(ev).is_empty(),
        Leaf::Term(slot, set) => slot
            .values(ev)
            .iter()
            .any(|v| term_matches(slot.kind, set, v)),
        Leaf::Range(slot, op, bound) => slot
            .values(ev)
            .iter()
            .any(|v| range_matches(slot.kind, *op, bound, v)),
        Leaf::Wildcard(slot, pats) => any_text(slot, ev, recall, |t| pats.matches(t)),
        Leaf::Regex(slot, re) => any_text(slot, ev, recall, |t| re.matches(t)),
        Leaf::Script(s) => script_matches(s, ev),
    }
}

/// Whether some value of the slot's field, read as keyword text, passes
/// `test`; a string's answer is recalled (or kept) in `recall` when the
/// leaf is numbered.
fn any_text(
    slot: &Slot,
    ev: &dyn Fields,
    recall: Option<&mut Recall>,
    test: impl Fn(&str) -> bool,
) -> bool {
    let mut recall = recall.filter(|_| slot.memo != NO_MEMO);
    slot.values(ev)
        .iter()
        .any(|v| match (v, recall.as_deref_mut()) {
            (Value::Str(s), Some(r)) => r.answer(slot.memo, s, &test),
            _ => keyword_text(v).is_some_and(|t| test(&t)),
        })
}

fn num_eq(n: Num, x: f64, exact: Option<i64>) -> bool {
    match (n, exact) {
        (Num::I(i), Some(l)) => i == l,
        (Num::I(i), None) => (i as f64) == x,
        (Num::F(f), _) => f == x,
    }
}

fn term_matches(kind: FieldKind, set: &TermSet, v: &Value) -> bool {
    match set {
        TermSet::Str(set) => match v {
            // Strings are checked in place; other JSON values by their text.
            Value::Str(s) => set.contains(s),
            other => keyword_text(other).is_some_and(|t| set.contains(&t)),
        },
        TermSet::Num(nums) => match kind {
            FieldKind::Long => match coerce_long(v) {
                Some(l) => nums.iter().any(|n| num_eq(*n, l as f64, Some(l))),
                None => false,
            },
            _ => match coerce_double(v) {
                Some(d) => nums.iter().any(|n| num_eq(*n, d, None)),
                None => false,
            },
        },
        TermSet::Bool(bs) => coerce_bool(v).is_some_and(|b| bs.contains(&b)),
        TermSet::Date(ranges) => {
            let nanos = matches!(kind, FieldKind::Date { nanos: true });
            coerce_date(v, nanos)
                .is_some_and(|t| ranges.iter().any(|(lo, hi)| *lo <= t && t <= *hi))
        }
        TermSet::Ip(ranges) => match keyword_text(v).and_then(|t| ip::parse_ip(&t)) {
            Some(a) => {
                let a = ip::to_u128(a);
                ranges.iter().any(|r| r.contains(a))
            }
            None => false,
        },
        TermSet::Version(keys) => match keyword_text(v) {
            Some(t) => {
                let k = VersionKey::parse(&t);
                keys.contains(&k)
            }
            None => false,
        },
        TermSet::Dynamic {
            strings: Some(set), ..
        } if matches!(v, Value::Str(_)) => v.as_str().is_some_and(|s| set.contains(s)),
        TermSet::Dynamic { values, ci, .. } => values
            .iter()
            .any(|lit| dynamic_cmp(v, lit, *ci) == Some(Ordering::Equal)),
    }
}

fn ord_ok(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
    }
}

fn cmp_num_f64(x: f64, n: Num) -> Option<Ordering> {
    match n {
        Num::I(i) => x.partial_cmp(&(i as f64)),
        Num::F(f) => x.partial_cmp(&f),
    }
}

fn cmp_num_i64(x: i64, n: Num) -> Option<Ordering> {
    match n {
        Num::I(i) => Some(x.cmp(&i)),
        Num::F(f) => {
            if f.is_nan() {
                None
            } else {
                // Exact: compare the integer with the float's floor/ceil.
                let fl = f.floor();
                if (x as f64) < fl {
                    Some(Ordering::Less)
                } else if (x as f64) > f.ceil() {
                    Some(Ordering::Greater)
                } else {
                    (x as f64).partial_cmp(&f)
                }
            }
        }
    }
}

fn range_matches(kind: FieldKind, op: CmpOp, bound: &Bound, v: &Value) -> bool {
    let o = match bound {
        Bound::Str(b) => keyword_text(v).map(|t| (*t).cmp(&**b)),
        Bound::Num(n) => match kind {
            FieldKind::Long => coerce_long(v).and_then(|l| cmp_num_i64(l, *n)),
            _ => coerce_double(v).and_then(|d| cmp_num_f64(d, *n)),
        },
        Bound::Bool(b) => coerce_bool(v).map(|x| x.cmp(b)),
        Bound::Date(lo, hi) => {
            let nanos = matches!(kind, FieldKind::Date { nanos: true });
            let Some(t) = coerce_date(v, nanos) else {
                return false;
            };
            // A date literal covers an interval (its precision): `<` is
            // before its start, `<=` up to its end, `>` after its end.
            return match op {
                CmpOp::Lt => t < *lo,
                CmpOp::Le => t <= *hi,
                CmpOp::Gt => t > *hi,
                CmpOp::Ge => t >= *lo,
                CmpOp::Eq => *lo <= t && t <= *hi,
                CmpOp::Ne => !(*lo <= t && t <= *hi),
            };
        }
        Bound::Ip(b) => keyword_text(v)
            .and_then(|t| ip::parse_ip(&t))
            .map(|a| ip::to_u128(a).cmp(b)),
        Bound::Version(k) => keyword_text(v).map(|t| VersionKey::parse(&t).cmp(k)),
        Bound::Dynamic(lit) => dynamic_cmp(v, lit, false),
    };
    o.is_some_and(|o| ord_ok(op, o))
}

/// Compares a stored value of an unmapped field with a literal, the way
/// the field would have been mapped dynamically from its JSON type: a
/// string field compares as a keyword (a numeric literal as its text), a
/// numeric field numerically (a numeric string literal parsed).
fn dynamic_cmp(v: &Value, lit: &RVal, ci: bool) -> Option<Ordering> {
    match v {
        Value::Str(s) => {
            // The common case, a string literal, compares without building
            // a string: this runs for every value of every unmapped field.
            if let RVal::Str(t) = lit {
                let t: &str = t;
                return Some(if ci {
                    if ci_term_eq(t, s) {
                        Ordering::Equal
                    } else {
                        Ordering::Less
                    }
                } else {
                    (**s).cmp(t)
                });
            }
            let text = match lit {
                RVal::Str(t) => t.to_string(),
                RVal::Int(i) => i.to_string(),
                RVal::Long(l) => l.to_string(),
                RVal::Double(d) => java_double_string(*d),
                RVal::Bool(b) => b.to_string(),
                _ => return None,
            };
            if ci {
                return Some(if ci_term_eq(&text, s) {
                    Ordering::Equal
                } else {
                    Ordering::Less
                });
            }
            Some((**s).cmp(text.as_str()))
        }
        Value::Int(i) => match lit {
            RVal::Int(x) => Some(i.cmp(&i64::from(*x))),
            RVal::Long(x) => Some(i.cmp(x)),
            RVal::Double(d) => cmp_num_i64(*i, Num::F(*d)),
            RVal::Str(t) => {
                let n = parse_num(t)?;
                cmp_num_i64(*i, n)
            }
            _ => None,
        },
        Value::Float(f) => match lit {
            RVal::Int(x) => f.partial_cmp(&f64::from(*x)),
            RVal::Long(x) => f.partial_cmp(&(*x as f64)),
            RVal::Double(d) => f.partial_cmp(d),
            RVal::Str(t) => cmp_num_f64(*f, parse_num(t)?),
            _ => None,
        },
        Value::Bool(b) => match lit {
            RVal::Bool(x) => Some(b.cmp(x)),
            RVal::Str(t) => match &**t {
                "true" => Some(b.cmp(&true)),
                "false" => Some(b.cmp(&false)),
                _ => None,
            },
            _ => None,
        },
        Value::Null => None,
    }
}

fn parse_num(t: &str) -> Option<Num> {
    if let Ok(i) = t.trim().parse::<i64>() {
        return Some(Num::I(i));
    }
    super::value::parse_plain_decimal(t.trim()).map(Num::F)
}

fn script_matches(s: &ScriptLeaf, ev: &dyn Fields) -> bool {
    // The doc values of every field occurrence; a missing field is null.
    // With several occurrences each value is taken once (as a keyword's
    // doc values hold it), so a padded array does not use up the capped
    // combinations; one occurrence tries every value, repeats and all,
    // without the cost of a set per evaluation.
    let several = s.fields.len() > 1;
    let lists: Vec<Vec<RVal>> = s
        .fields
        .iter()
        .map(|slot: &Slot| {
            let mut vals: Vec<RVal> = slot
                .values(ev)
                .iter()
                .filter_map(|v| doc_value(v, slot.kind))
                .collect();
            if several {
                dedup(&mut vals);
            }
            if vals.is_empty() {
                vec![RVal::Null]
            } else {
                vals
            }
        })
        .collect();
    let limit = if several {
        MAX_COMBINATIONS
    } else {
        usize::MAX
    };
    let mut idx = vec![0usize; lists.len()];
    let mut env: Vec<RVal> = lists.iter().map(|l| l[0].clone()).collect();
    for _ in 0..limit {
        if let Ok(RVal::Bool(true)) = script::eval(&s.expr, &env) {
            return true;
        }
        // Next combination, odometer style.
        let mut k = 0;
        loop {
            if k == lists.len() {
                return false;
            }
            idx[k] += 1;
            if idx[k] < lists[k].len() {
                env[k] = lists[k][idx[k]].clone();
                break;
            }
            idx[k] = 0;
            env[k] = lists[k][0].clone();
            k += 1;
        }
    }
    false
}

/// A value as a hash key, for [`dedup`].
#[derive(Hash, PartialEq, Eq)]
enum ValKey {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(u64),
    Str(std::sync::Arc<str>),
    Date(i64),
}

/// Drops repeated values, keeping the first of each: repeats change no
/// answer, and a padded array must not exhaust the combinations tried.
fn dedup(vals: &mut Vec<RVal>) {
    if vals.len() < 2 {
        return;
    }
    let mut seen = rustc_hash::FxHashSet::default();
    vals.retain(|v| {
        seen.insert(match v {
            RVal::Null => ValKey::Null,
            RVal::Bool(b) => ValKey::Bool(*b),
            RVal::Int(i) => ValKey::Int(*i),
            RVal::Long(l) => ValKey::Long(*l),
            RVal::Double(d) => ValKey::Double(d.to_bits()),
            RVal::Str(s) => ValKey::Str(s.clone()),
            RVal::Date(n) => ValKey::Date(*n),
        })
    });
}
