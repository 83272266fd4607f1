//! One field's values under all the tests on it: some must hold (`pos`),
//! some must fail (`neg`).
//!
//! With any-value semantics a positive test needs one passing value and a
//! negative test needs every value to fail, and a missing field fails
//! every test. So: no positive test → the field is left out (or, for a
//! near-miss, the preferred value changed a little); otherwise one value
//! passing every positive test and no negative one is sought, and failing
//! that an array with one value per positive test, each failing every
//! negative test.

use talon_eql::plan::ir::Leaf;
use talon_event::Value;

use crate::goal::One;
use crate::render;
use crate::text;
use crate::values::{self, Ctx};
use talon_eql::eval::leaf::leaf_matches;
use talon_eql::eval::wildcard::Part;

/// Most single-value candidates checked for one field.
const MAX_TRIES: usize = 4000;
/// Most combinations of patterns (one per wildcard test) merged.
const MAX_COMBOS: usize = 64;

/// The tests on one field.
pub(crate) struct Tests<'t, 'a> {
    pub path: &'t str,
    pub pos: &'t [&'a Leaf],
    pub neg: &'t [&'a Leaf],
}

impl Tests<'_, '_> {
    fn passes(&self, vals: &[Value]) -> bool {
        let f = One {
            path: self.path,
            values: vals,
        };
        self.pos.iter().all(|l| leaf_matches(l, &f))
            && self.neg.iter().all(|l| !leaf_matches(l, &f))
    }

    fn clear_of_neg(&self, v: &Value) -> bool {
        let vals = std::slice::from_ref(v);
        let f = One {
            path: self.path,
            values: vals,
        };
        self.neg.iter().all(|l| !leaf_matches(l, &f))
    }

    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.pos.iter().map(|l| render::lit(l, true)).collect();
        parts.extend(self.neg.iter().map(|l| render::lit(l, false)));
        format!(
            "no value of `{}` satisfies {}",
            self.path,
            parts.join(" and ")
        )
    }
}

/// The values for the field (empty: leave it out), or why there are none.
pub(crate) fn solve(t: &Tests, prefer: Option<&[Value]>, ctx: &Ctx) -> Result<Vec<Value>, String> {
    if let Some(p) = prefer.filter(|p| !p.is_empty()) {
        if t.passes(p) {
            return Ok(p.to_vec());
        }
        if let Some(v) = changed(t, p) {
            return Ok(v);
        }
    }
    if t.pos.is_empty() {
        return Ok(Vec::new());
    }
    if t.neg.iter().any(|l| matches!(l, Leaf::Exists(_))) {
        return Err(t.describe());
    }
    let mut tries = 0;
    for c in single_candidates(t, ctx) {
        tries += 1;
        if tries > MAX_TRIES {
            break;
        }
        let one = std::slice::from_ref(&c);
        if t.passes(one) {
            return Ok(vec![c]);
        }
    }
    several(t, ctx).ok_or_else(|| t.describe())
}

/// The preferred values with one of them changed or dropped, so that a
/// near-miss differs from its positive as little as possible.
fn changed(t: &Tests, p: &[Value]) -> Option<Vec<Value>> {
    for i in 0..p.len() {
        for m in values::mutations(&p[i]) {
            let mut v = p.to_vec();
            v[i] = m;
            if t.passes(&v) {
                return Some(v);
            }
        }
        if p.len() > 1 {
            let mut v = p.to_vec();
            v.remove(i);
            if t.passes(&v) {
                return Some(v);
            }
        }
    }
    None
}

/// How much a positive test narrows the value: exact lists first.
fn rank(l: &Leaf) -> u8 {
    match l {
        Leaf::Term(..) => 0,
        Leaf::Regex(..) => 1,
        Leaf::Range(..) => 2,
        Leaf::Wildcard(..) => 3,
        Leaf::Exists(_) => 4,
        Leaf::Script(_) => 5,
    }
}

/// Single values worth trying, best first.
fn single_candidates(t: &Tests, ctx: &Ctx) -> Vec<Value> {
    let mut pos: Vec<&Leaf> = t.pos.to_vec();
    pos.sort_by_key(|l| rank(l));
    let mut out = Vec::new();
    let narrowest = pos.first().map(|l| rank(l)).unwrap_or(4);
    if narrowest < 3 {
        // An exact-ish test decides the value; the rest only check it.
        for l in pos.iter().filter(|l| rank(l) < 3) {
            out.extend(values::leaf_candidates(l, t.path, ctx));
        }
    }
    let wild: Vec<Vec<Vec<Part>>> = pos
        .iter()
        .filter_map(|l| match l {
            Leaf::Wildcard(_, pats) if !pats.is_empty() => {
                Some(pats.iter().map(|p| p.parts()).collect())
            }
            _ => None,
        })
        .collect();
    if !wild.is_empty() {
        for filler in text::fillers(ctx) {
            for combo in combos(&wild) {
                out.push(Value::str(&text::merge(&combo, &filler, &ctx.word)));
            }
        }
    }
    for l in &pos {
        if rank(l) >= 3 {
            out.extend(values::leaf_candidates(l, t.path, ctx));
        }
    }
    out.extend(values::defaults(t.path, ctx));
    out
}

/// Combinations of one pattern per wildcard test, varying the first
/// tests' choices first, at most [`MAX_COMBOS`].
fn combos(wild: &[Vec<Vec<Part>>]) -> Vec<Vec<&[Part]>> {
    let mut out = Vec::new();
    let mut idx = vec![0usize; wild.len()];
    loop {
        out.push(
            wild.iter()
                .zip(&idx)
                .map(|(w, i)| w[*i].as_slice())
                .collect(),
        );
        if out.len() >= MAX_COMBOS {
            return out;
        }
        let mut k = 0;
        loop {
            if k == wild.len() {
                return out;
            }
            idx[k] += 1;
            if idx[k] < wild[k].len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

/// One value per positive test (an array), each failing every negative
/// test.
fn several(t: &Tests, ctx: &Ctx) -> Option<Vec<Value>> {
    let mut vals: Vec<Value> = Vec::new();
    for l in t.pos {
        let f = One {
            path: t.path,
            values: &vals,
        };
        if leaf_matches(l, &f) {
            continue;
        }
        let mut cands = values::leaf_candidates(l, t.path, ctx);
        cands.extend(values::defaults(t.path, ctx));
        let found = cands.into_iter().find(|c| {
            t.clear_of_neg(c)
                && leaf_matches(
                    l,
                    &One {
                        path: t.path,
                        values: std::slice::from_ref(c),
                    },
                )
        })?;
        vals.push(found);
    }
    t.passes(&vals).then_some(vals)
}
