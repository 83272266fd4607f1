//! The search: a depth-first walk over a goal's `and`/`or` structure that
//! collects leaf tests, keeps every field's values solved as tests arrive
//! (a field with no solution prunes the branch at once), and solves script
//! tests last.
//!
//! `or`s wait until everything that does not branch is known, and are then
//! tried branch by branch; with a preferred assignment (the positive a
//! near-miss is derived from) the branches that assignment satisfies go
//! first and each field keeps its preferred values when it can, so a
//! near-miss changes as little as possible. A step budget bounds the walk;
//! the first conflict met is kept as the reason when nothing is found.

use std::collections::{BTreeMap, VecDeque};

use talon_eql::plan::ir::Leaf;
use talon_event::Value;

use crate::field::{self, Tests};
use crate::goal::{leaf_path, Assignment, Goal, Lit, View};
use crate::script;
use crate::values::Ctx;

/// The tests gathered on one field and its current values.
#[derive(Clone, Default)]
struct FieldState<'a> {
    pos: Vec<&'a Leaf>,
    neg: Vec<&'a Leaf>,
    values: Vec<Value>,
}

#[derive(Clone, Default)]
struct State<'g, 'a> {
    fields: BTreeMap<&'a str, FieldState<'a>>,
    scripts: Vec<Lit<'a>>,
    lits: Vec<Lit<'a>>,
    ors: VecDeque<&'g [Goal<'a>]>,
}

/// One search.
pub(crate) struct Solver<'c> {
    ctx: &'c Ctx,
    prefer: Option<&'c Assignment>,
    accept: &'c dyn Fn(&Assignment) -> bool,
    steps: usize,
    budget: usize,
    /// The first reason a branch failed.
    pub conflict: Option<String>,
}

impl<'c> Solver<'c> {
    pub fn new(
        ctx: &'c Ctx,
        prefer: Option<&'c Assignment>,
        budget: usize,
        accept: &'c dyn Fn(&Assignment) -> bool,
    ) -> Solver<'c> {
        Solver {
            ctx,
            prefer,
            accept,
            steps: 0,
            budget,
            conflict: None,
        }
    }

    /// An assignment satisfying the goal that `accept` takes, if one is
    /// found within the budget.
    pub fn solve<'g, 'a>(&mut self, goal: &'g Goal<'a>) -> Option<Assignment> {
        self.dfs(State::default(), vec![goal])
    }

    /// Why the last search failed.
    pub fn reason(&self) -> String {
        if self.steps > self.budget {
            return format!("search gave up after {} steps", self.budget);
        }
        self.conflict
            .clone()
            .unwrap_or_else(|| "the condition cannot hold".to_string())
    }

    fn note(&mut self, why: String) {
        if self.conflict.is_none() {
            self.conflict = Some(why);
        }
    }

    fn dfs<'g, 'a>(
        &mut self,
        mut st: State<'g, 'a>,
        mut agenda: Vec<&'g Goal<'a>>,
    ) -> Option<Assignment> {
        self.steps += 1;
        if self.steps > self.budget {
            return None;
        }
        while let Some(g) = agenda.pop() {
            match g {
                Goal::Const(true) => {}
                Goal::Const(false) => {
                    self.note("a part of the condition is always false".to_string());
                    return None;
                }
                Goal::And(items) => agenda.extend(items.iter().rev()),
                Goal::Or(items) => st.ors.push_back(items),
                Goal::Lit(l) => {
                    if !self.add(&mut st, *l) {
                        return None;
                    }
                }
            }
        }
        let Some(branches) = st.ors.pop_front() else {
            return self.finish(&st);
        };
        for b in self.order(branches) {
            let r = self.dfs(st.clone(), vec![b]);
            if r.is_some() || self.steps > self.budget {
                return r;
            }
        }
        None
    }

    /// Branches in the order to try: those the preferred assignment
    /// satisfies first.
    fn order<'g, 'a>(&self, branches: &'g [Goal<'a>]) -> Vec<&'g Goal<'a>> {
        let Some(p) = self.prefer else {
            return branches.iter().collect();
        };
        let (mut yes, no): (Vec<_>, Vec<_>) = branches.iter().partition(|b| b.holds(&View(p)));
        yes.extend(no);
        yes
    }

    fn add<'g, 'a>(&mut self, st: &mut State<'g, 'a>, l: Lit<'a>) -> bool {
        st.lits.push(l);
        let Some(path) = leaf_path(l.leaf) else {
            st.scripts.push(l);
            return true;
        };
        let fs = st.fields.entry(path).or_default();
        if l.pos {
            fs.pos.push(l.leaf);
        } else {
            fs.neg.push(l.leaf);
        }
        let tests = Tests {
            path,
            pos: &fs.pos,
            neg: &fs.neg,
        };
        let prefer = self.prefer.and_then(|p| p.get(path)).map(Vec::as_slice);
        match field::solve(&tests, prefer, self.ctx) {
            Ok(v) => {
                fs.values = v;
                true
            }
            Err(why) => {
                self.note(why);
                false
            }
        }
    }

    fn finish(&mut self, st: &State) -> Option<Assignment> {
        let mut a: Assignment = st
            .fields
            .iter()
            .filter(|(_, f)| !f.values.is_empty())
            .map(|(p, f)| (p.to_string(), f.values.clone()))
            .collect();
        if !st.scripts.is_empty() {
            // Fields only scripts read start from their preferred values.
            if let Some(p) = self.prefer {
                for s in &st.scripts {
                    let Leaf::Script(sl) = s.leaf else { continue };
                    for f in &sl.fields {
                        let path = &*f.path;
                        if !st.fields.contains_key(path) && !a.contains_key(path) {
                            if let Some(v) = p.get(path) {
                                a.insert(path.to_string(), v.clone());
                            }
                        }
                    }
                }
            }
            let mut fresh = Assignment::new();
            for s in &st.scripts {
                let Leaf::Script(sl) = s.leaf else { continue };
                for f in &sl.fields {
                    let Some(fs) = st.fields.get(&*f.path) else {
                        continue;
                    };
                    let tests = Tests {
                        path: &f.path,
                        pos: &fs.pos,
                        neg: &fs.neg,
                    };
                    if let Ok(v) = field::solve(&tests, None, self.ctx) {
                        fresh.insert(f.path.to_string(), v);
                    }
                }
            }
            script::fix(&mut a, &st.scripts, &st.lits, &fresh, self.ctx);
        }
        if let Some(bad) = st.lits.iter().find(|l| !l.holds(&View(&a))) {
            self.note(format!(
                "no values found that satisfy {} together with the rest",
                crate::render::lit(bad.leaf, bad.pos)
            ));
            return None;
        }
        if !(self.accept)(&a) {
            self.note("the built event does not behave as expected".to_string());
            return None;
        }
        Some(a)
    }
}
