//! Event streams for sequences and samples: one event per positive term
//! (`runs` times), in term order, that together make the query fire once.
//!
//! - Join keys: one term (the leader, the first that can be solved alone)
//!   is solved freely; every other term is solved with its key fields
//!   pinned to the leader's key values, position by position (an empty key
//!   stays empty, so null joins with null);
//! - `until` and missing (`![...]`) terms get no event, and every event is
//!   built so that it does not match them either;
//! - timestamps are one second apart, or closer so that the whole stream
//!   fits inside `maxspan`.
//!
//! Each event is checked against its own term plan and the rule's index
//! patterns; the ordering and joining are the sequence engine's business,
//! and its tests run these streams through it.

use serde_json::Value as J;
use talon_eql::eval::value::{doc_value, FieldKind, RVal};
use talon_eql::plan::ir::{Leaf, Slot, TermSet};
use talon_eql::{CompiledQuery, QueryKind, TermPlan};
use talon_event::Value;
use talon_rules::Rule;

use crate::doc::{read_back, Setting};
use crate::goal::{Assignment, Goal};
use crate::solve::Solver;
use crate::{SynthError, SynthOptions};

const SEC: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;

/// The goal that `t`'s event matches: its category and condition.
fn matches_goal(t: &TermPlan, holds: bool) -> Goal<'_> {
    let cond = Goal::of(t.plan.condition(), holds);
    match t.plan.category_leaf() {
        Some(cat) if holds => Goal::And(vec![Goal::leaf(cat, true), cond]),
        Some(cat) => Goal::Or(vec![Goal::leaf(cat, false), cond]),
        None => cond,
    }
}

/// A test that pins a key field to the leader's values, exactly.
fn pin(path: &str, values: &[Value]) -> Leaf {
    let vals: Vec<RVal> = values
        .iter()
        .filter_map(|v| doc_value(v, FieldKind::Dynamic))
        .collect();
    Leaf::Term(
        Slot::new(path.into(), FieldKind::Dynamic),
        TermSet::dynamic(vals, false),
    )
}

struct Stream<'r> {
    setting: Setting,
    opts: &'r SynthOptions,
    blockers: Vec<&'r TermPlan>,
}

impl<'r> Stream<'r> {
    /// Whether the document reads back into the rule's indices, matches the
    /// term and no blocking term.
    fn behaves(&self, doc: &J, t: &TermPlan) -> bool {
        match read_back(doc) {
            Ok(ev) => {
                ev.index
                    .as_deref()
                    .is_some_and(|i| self.setting.patterns.matches(i))
                    && t.matches(&ev)
                    && !self.blockers.iter().any(|b| b.matches(&ev))
            }
            Err(_) => false,
        }
    }

    fn solve(
        &self,
        t: &TermPlan,
        pins: &[Leaf],
        empty: &[Leaf],
        prefer: Option<&Assignment>,
    ) -> Result<Assignment, String> {
        let target = self
            .setting
            .target(t.plan.category())
            .map_err(|e| e.to_string())?;
        let mut goals = vec![matches_goal(t, true)];
        goals.extend(self.blockers.iter().map(|b| matches_goal(b, false)));
        goals.extend(pins.iter().map(|l| Goal::leaf(l, true)));
        goals.extend(empty.iter().map(|l| Goal::leaf(l, false)));
        let goal = Goal::And(goals);
        let accept = |a: &Assignment| {
            let doc = self
                .setting
                .build(a, 0, self.setting.time(0, SEC), &target, &[]);
            self.behaves(&doc, t)
        };
        let mut solver = Solver::new(&self.setting.ctx, prefer, self.opts.budget, &accept);
        solver.solve(&goal).ok_or_else(|| solver.reason())
    }

    /// Every positive term solved, with `leader` solved first.
    fn with_leader(
        &self,
        terms: &[&'r TermPlan],
        leader: usize,
    ) -> Result<Vec<Assignment>, String> {
        let nkeys = terms.first().map(|t| t.keys.len()).unwrap_or(0);
        // A key position some term cannot fill is null for everyone.
        let null_key: Vec<bool> = (0..nkeys)
            .map(|k| {
                terms
                    .iter()
                    .any(|t| t.keys.get(k).is_some_and(|j| j.path.is_none()))
            })
            .collect();
        let empty_for = |t: &TermPlan, only_null: bool| -> Vec<Leaf> {
            t.keys
                .iter()
                .enumerate()
                .filter(|(k, _)| !only_null || null_key.get(*k).copied().unwrap_or(false))
                .filter_map(|(_, j)| j.path.as_ref())
                .map(|p| Leaf::Exists(Slot::new(p.clone(), FieldKind::Dynamic)))
                .collect()
        };
        let lead = terms[leader];
        let lead_empty = empty_for(lead, true);
        let first = self.solve(lead, &[], &lead_empty, None)?;
        let key_values: Vec<Vec<Value>> = lead
            .keys
            .iter()
            .map(|j| {
                j.path
                    .as_ref()
                    .and_then(|p| first.get(&**p))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let mut out = Vec::with_capacity(terms.len());
        for (i, t) in terms.iter().enumerate() {
            if i == leader {
                out.push(first.clone());
                continue;
            }
            let mut pins = Vec::new();
            let mut empty = Vec::new();
            let mut prefer = Assignment::new();
            for (k, j) in t.keys.iter().enumerate() {
                let Some(p) = &j.path else { continue };
                match key_values.get(k) {
                    Some(v) if !v.is_empty() => {
                        pins.push(pin(p, v));
                        prefer.insert(p.to_string(), v.clone());
                    }
                    _ => empty.push(Leaf::Exists(Slot::new(p.clone(), FieldKind::Dynamic))),
                }
            }
            let a = self.solve(t, &pins, &empty, Some(&prefer))?;
            out.push(a);
        }
        Ok(out)
    }
}

pub(crate) fn synthesize_stream(
    rule: &Rule,
    query: &CompiledQuery,
    opts: &SynthOptions,
) -> Result<Vec<J>, SynthError> {
    let plan = query.sequence().ok_or(SynthError::NotASequence)?;
    if plan.never_matches() {
        return Err(SynthError::Unsatisfiable(
            "a term's condition folds to false or null as compiled (an optional `?field` the mapping lacks reads as null, for one): nothing can match".to_string(),
        ));
    }
    let stream = Stream {
        setting: Setting::new(rule, query, opts),
        opts,
        blockers: plan
            .terms
            .iter()
            .filter(|t| t.missing)
            .chain(plan.until.iter())
            .collect(),
    };
    let terms: Vec<&TermPlan> = plan.terms.iter().filter(|t| !t.missing).collect();
    if terms.is_empty() {
        return Err(SynthError::Unsatisfiable(
            "the query has no positive term".to_string(),
        ));
    }
    let mut why = String::new();
    let mut solved = None;
    for leader in 0..terms.len() {
        match stream.with_leader(&terms, leader) {
            Ok(a) => {
                solved = Some(a);
                break;
            }
            Err(e) => {
                if why.is_empty() {
                    why = e;
                }
            }
        }
    }
    let Some(assignments) = solved else {
        return Err(SynthError::Unsatisfiable(why));
    };
    let total: u64 = terms.iter().map(|t| u64::from(t.runs.max(1))).sum();
    let step = match (plan.kind, plan.maxspan_nanos) {
        // Within maxspan: the first and last events at most maxspan apart,
        // on whole milliseconds (the documents' precision).
        (QueryKind::Sequence, Some(m)) => (m / total.max(1) as i64).min(SEC) / MS * MS,
        _ => SEC,
    };
    let term_index = |t: &TermPlan| {
        plan.terms
            .iter()
            .position(|x| std::ptr::eq(x, t))
            .unwrap_or(0)
    };
    let mut out = Vec::new();
    let mut n = 0u64;
    for (t, a) in terms.iter().zip(&assignments) {
        let target = stream.setting.target(t.plan.category())?;
        for _ in 0..t.runs.max(1) {
            let labels = [
                ("talon.synth.expect", J::from("sequence")),
                ("talon.synth.term", J::from(term_index(t))),
            ];
            let doc = stream
                .setting
                .build(a, n, stream.setting.time(n, step), &target, &labels);
            if !stream.behaves(&doc, t) {
                return Err(SynthError::Unsatisfiable(format!(
                    "the event for term {} did not read back as expected",
                    term_index(t)
                )));
            }
            out.push(doc);
            n += 1;
        }
    }
    Ok(out)
}
