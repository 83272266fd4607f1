//! The condition as the solver walks it: negation pushed down to the
//! leaves (negation normal form), so every goal is an `and`, an `or`, a
//! constant or one leaf test that must hold or fail.
//!
//! Pushing `not` through `and`/`or` is exact here because every leaf of
//! the plan is two-valued: a test on a missing field is simply false, so
//! `not` never meets a null.

use std::collections::BTreeMap;

use talon_eql::eval::leaf::leaf_matches;
use talon_eql::plan::ir::{Cond, Leaf};
use talon_event::{Fields, Value};

/// Field values by path; a path that is not there is a missing field.
pub(crate) type Assignment = BTreeMap<String, Vec<Value>>;

/// An assignment read as an event.
pub(crate) struct View<'a>(pub &'a Assignment);

impl Fields for View<'_> {
    fn values(&self, path: &str) -> &[Value] {
        self.0.get(path).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// One field's values read as an event (every other field missing).
pub(crate) struct One<'a> {
    pub path: &'a str,
    pub values: &'a [Value],
}

impl Fields for One<'_> {
    fn values(&self, path: &str) -> &[Value] {
        if path == self.path {
            self.values
        } else {
            &[]
        }
    }
}

/// A leaf test that must hold (`pos`) or fail.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lit<'a> {
    pub leaf: &'a Leaf,
    pub pos: bool,
}

impl Lit<'_> {
    pub fn holds(&self, f: &dyn Fields) -> bool {
        leaf_matches(self.leaf, f) == self.pos
    }
}

/// A goal in negation normal form.
#[derive(Clone, Debug)]
pub(crate) enum Goal<'a> {
    Const(bool),
    Lit(Lit<'a>),
    And(Vec<Goal<'a>>),
    Or(Vec<Goal<'a>>),
}

impl<'a> Goal<'a> {
    /// The goal that `c` holds (`pos`) or fails.
    pub fn of(c: &'a Cond, pos: bool) -> Goal<'a> {
        match c {
            Cond::Const(b) => Goal::Const(*b == pos),
            Cond::Leaf(l) => Goal::Lit(Lit { leaf: l, pos }),
            Cond::Not(x) => Goal::of(x, !pos),
            Cond::And(items) => {
                let g = items.iter().map(|i| Goal::of(i, pos)).collect();
                if pos {
                    Goal::And(g)
                } else {
                    Goal::Or(g)
                }
            }
            Cond::Or(items) => {
                let g = items.iter().map(|i| Goal::of(i, pos)).collect();
                if pos {
                    Goal::Or(g)
                } else {
                    Goal::And(g)
                }
            }
        }
    }

    pub fn leaf(leaf: &'a Leaf, pos: bool) -> Goal<'a> {
        Goal::Lit(Lit { leaf, pos })
    }

    /// Whether the event satisfies the goal.
    pub fn holds(&self, f: &dyn Fields) -> bool {
        match self {
            Goal::Const(b) => *b,
            Goal::Lit(l) => l.holds(f),
            Goal::And(items) => items.iter().all(|g| g.holds(f)),
            Goal::Or(items) => items.iter().any(|g| g.holds(f)),
        }
    }
}

/// The field a field test reads; `None` for a script test.
pub(crate) fn leaf_path(leaf: &Leaf) -> Option<&str> {
    match leaf {
        Leaf::Exists(s)
        | Leaf::Term(s, _)
        | Leaf::Range(s, _, _)
        | Leaf::Wildcard(s, _)
        | Leaf::Regex(s, _) => Some(&s.path),
        Leaf::Script(_) => None,
    }
}
