//! Evaluation order: the tests of an `and` most likely to fail first, and
//! the cheap ones before the costly ones.
//!
//! Leaves are pure and two-valued, so the children of an `and` (or an
//! `or`) may be evaluated in any order without changing an answer; only
//! how soon evaluation stops changes. Detection rules tend to open with
//! the broadest tests (`host.os.type == "linux" and event.type ==
//! "start"`), which nearly every event routed to them passes, and keep
//! the test that decides (`process.name in (...)`) for later; evaluated
//! as written, most evaluations pay for several leaves before the one
//! that fails. The order here is a guess from the plan alone (no data):
//! terms on uncommon values, then patterns, then broad terms, negations,
//! existence tests and scripts.

use super::ir::{Cond, Leaf, TermSet};
use super::needles::is_common;
use crate::eval::value::RVal;

impl Cond {
    /// Reorders the children of every `and` by how likely they are to
    /// fail and how little they cost, and merges the alternatives of every
    /// `or` that test one field's values the same way into one term (a
    /// field holds when any of its values passes, so `a : "x" or a : "y"`
    /// is `a : ("x", "y")`: a long `:` list becomes one hashed look-up
    /// instead of a leaf per value). Answers do not change; the plan is no
    /// longer shaped as written (tools that explain a query keep theirs).
    pub fn order_for_speed(&mut self) {
        match self {
            Cond::And(kids) => {
                kids.iter_mut().for_each(Cond::order_for_speed);
                // Stable: equal guesses keep the order they were written in.
                kids.sort_by_key(|k| std::cmp::Reverse(rank(k)));
            }
            Cond::Or(kids) => {
                kids.iter_mut().for_each(Cond::order_for_speed);
                merge_terms(kids);
                if kids.len() == 1 {
                    if let Some(only) = kids.pop() {
                        *self = only;
                    }
                }
            }
            Cond::Not(x) => x.order_for_speed(),
            Cond::Const(_) | Cond::Leaf(_) => {}
        }
    }
}

/// Folds the term leaves of an `or` on one field into the first of them.
fn merge_terms(kids: &mut Vec<Cond>) {
    // Each kept child, and for a term leaf, the sets to join into it (the
    // joined set is built once: joining one at a time is quadratic in the
    // hundreds-of-values lists some rules write as chains of `:`).
    let mut out: Vec<(Cond, Vec<TermSet>)> = Vec::with_capacity(kids.len());
    for c in kids.drain(..) {
        if let Cond::Leaf(l) = &c {
            if let Leaf::Term(slot, set) = &**l {
                let existing = out.iter_mut().find_map(|(o, more)| match o {
                    Cond::Leaf(ol) => match &**ol {
                        Leaf::Term(os, oset) if os == slot && oset.can_absorb(set) => Some(more),
                        _ => None,
                    },
                    _ => None,
                });
                if let Some(more) = existing {
                    more.push(set.clone());
                    continue;
                }
            }
        }
        out.push((c, Vec::new()));
    }
    *kids = out
        .into_iter()
        .map(|(mut c, more)| {
            if !more.is_empty() {
                if let Cond::Leaf(l) = &mut c {
                    if let Leaf::Term(_, set) = &mut **l {
                        set.absorb(&more);
                    }
                }
            }
            c
        })
        .collect();
}

/// How early a child of an `and` should be evaluated: how likely it is to
/// fail (most of the weight), less how much it costs.
fn rank(c: &Cond) -> u32 {
    match c {
        Cond::Const(false) => 100,
        Cond::Const(true) => 0,
        Cond::Leaf(l) => leaf_rank(l),
        // An `or` fails only when every branch does: as likely as its most
        // permissive branch.
        Cond::Or(kids) => kids.iter().map(rank).min().unwrap_or(0).saturating_sub(5),
        Cond::And(kids) => kids.iter().map(rank).max().unwrap_or(0),
        // Mostly exclusions: nearly always true.
        Cond::Not(_) => 10,
    }
}

fn leaf_rank(l: &Leaf) -> u32 {
    match l {
        Leaf::Term(_, TermSet::Str(set)) => term_rank(set.values().iter().map(|v| &**v)),
        Leaf::Term(_, TermSet::Dynamic { values, .. }) => {
            term_rank(values.iter().map(|v| match v {
                RVal::Str(s) => &**s,
                _ => "",
            }))
        }
        Leaf::Term(..) => 80,
        Leaf::Wildcard(..) => 70,
        Leaf::Range(..) => 50,
        Leaf::Regex(..) => 45,
        Leaf::Exists(_) => 15,
        Leaf::Script(_) => 5,
    }
}

/// A term on values every event of a kind holds rarely fails; others do.
fn term_rank<'v>(mut values: impl Iterator<Item = &'v str>) -> u32 {
    let common = values.all(is_common);
    if common {
        20
    } else {
        90
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{compile_str, CompileOptions};

    #[test]
    fn broad_terms_go_after_the_deciding_ones() {
        let mut c = compile_str(
            r#"process where host.os.type == "linux" and event.type == "start" and
               not process.parent.name == "sshd" and process.name in ("sysctl", "sh")"#,
            &CompileOptions::default(),
        )
        .expect("compiles");
        let before = format!("{:?}", c.event_plan().expect("plan").condition());
        c.order_for_speed();
        let after = format!("{:?}", c.event_plan().expect("plan").condition());
        assert_ne!(before, after);
        let name = after.find("process.name").expect("name");
        let os = after.find("host.os.type").expect("os");
        let not = after.find("Not(").expect("not");
        assert!(name < os && os < not, "{after}");
    }
}
