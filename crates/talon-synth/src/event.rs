//! Event queries: the positives and the near-misses.
//!
//! The condition is seen as the category test and the top-level `and` of
//! conjuncts. Positives: one satisfying everything, then one more for each
//! other branch of every top-level `or`. Near-misses, each from the first
//! positive with one condition flipped and everything else still holding:
//! - the category;
//! - every conjunct;
//! - for a conjunct that is an `or`, each test of the branch the positive
//!   took (the other branches kept false), rather than the whole `or`;
//! - for a conjunct `not (A or B or ...)` (an exclusion list), each
//!   exclusion made true on its own.

use serde_json::Value as J;
use talon_eql::ast::QueryBody;
use talon_eql::plan::ir::{Cond, Leaf};
use talon_eql::{CompiledQuery, EventPlan};
use talon_rules::Rule;

use crate::doc::{read_back, Setting, Target};
use crate::goal::{Assignment, Goal, View};
use crate::label::{labels, Labels};
use crate::render;
use crate::solve::Solver;
use crate::{SynthError, SynthOptions, Synthesis};

const SEC: i64 = 1_000_000_000;

/// Longest label kept whole; longer ones (long value lists) are cut.
const MAX_LABEL: usize = 200;

fn short(label: String) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label;
    }
    let cut: String = label.chars().take(MAX_LABEL).collect();
    format!("{cut} ...")
}

/// One near-miss to build: the flipped condition's text and the goal.
struct Flip<'a> {
    label: String,
    goal: Goal<'a>,
}

struct Run<'r> {
    setting: Setting,
    target: Target,
    query: &'r CompiledQuery,
    opts: &'r SynthOptions,
    /// Documents emitted so far (numbers timestamps and ids).
    n: u64,
}

impl Run<'_> {
    /// Whether the document reads back into the rule's indices and the
    /// rule does (`expect`) or does not match it.
    fn behaves(&self, doc: &J, expect: bool) -> bool {
        match read_back(doc) {
            Ok(ev) => {
                ev.index
                    .as_deref()
                    .is_some_and(|i| self.setting.patterns.matches(i))
                    && self.query.matches(&ev) == expect
            }
            Err(_) => false,
        }
    }

    /// Solves a goal into a verified assignment, or says why not.
    fn solve(
        &self,
        goal: &Goal,
        prefer: Option<&Assignment>,
        expect: bool,
    ) -> Result<Assignment, String> {
        let accept = |a: &Assignment| {
            let doc =
                self.setting
                    .build(a, self.n, self.setting.time(self.n, SEC), &self.target, &[]);
            self.behaves(&doc, expect)
        };
        let mut solver = Solver::new(&self.setting.ctx, prefer, self.opts.budget, &accept);
        solver.solve(goal).ok_or_else(|| solver.reason())
    }

    /// The labelled document for an assignment, checked once more.
    fn emit(&mut self, a: &Assignment, expect: bool, flipped: Option<&str>) -> Option<J> {
        let mut labels = vec![(
            "talon.synth.expect",
            J::from(if expect { "alert" } else { "no-alert" }),
        )];
        if let Some(f) = flipped {
            labels.push(("talon.synth.flipped", J::from(f)));
        }
        let doc = self.setting.build(
            a,
            self.n,
            self.setting.time(self.n, SEC),
            &self.target,
            &labels,
        );
        if !self.behaves(&doc, expect) {
            return None;
        }
        self.n += 1;
        Some(doc)
    }
}

/// The conjuncts of a condition (none for `true`).
fn conjuncts(c: &Cond) -> Vec<&Cond> {
    match c {
        Cond::And(items) => items.iter().collect(),
        Cond::Const(true) => Vec::new(),
        other => vec![other],
    }
}

/// Labels per conjunct, from the query text where it lines up.
fn conjunct_labels(rule: &Rule, cond: &Cond, n: usize) -> Vec<Labels> {
    let source = rule.query.as_deref().unwrap_or("");
    let parsed = talon_eql::parse(source).ok();
    let expr = parsed.as_ref().and_then(|q| match &q.body {
        QueryBody::Event(e) => Some(&e.condition),
        _ => None,
    });
    let all = labels(cond, expr, source);
    match cond {
        Cond::And(_) if all.parts.len() == n => all.parts,
        _ if n == 1 => vec![all],
        _ => Vec::new(),
    }
}

fn label_at(labs: &[Labels], path: &[usize], fallback: impl FnOnce() -> String) -> String {
    let mut cur: Option<&Labels> = None;
    for (depth, i) in path.iter().enumerate() {
        cur = if depth == 0 {
            labs.get(*i)
        } else {
            cur.and_then(|l| l.parts.get(*i))
        };
    }
    cur.map(|l| l.text.clone()).unwrap_or_else(fallback)
}

/// The goal: the category (holding or not) and every conjunct, conjunct
/// `skip` replaced by `extra`.
fn compose<'a>(
    cat: Option<&'a Leaf>,
    cat_holds: bool,
    conj: &[Goal<'a>],
    skip: Option<usize>,
    extra: Vec<Goal<'a>>,
) -> Goal<'a> {
    let mut all: Vec<Goal<'a>> = cat.map(|l| Goal::leaf(l, cat_holds)).into_iter().collect();
    all.extend(
        conj.iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, g)| g.clone()),
    );
    all.extend(extra);
    Goal::And(all)
}

pub(crate) fn synthesize_event(
    rule: &Rule,
    query: &CompiledQuery,
    plan: &EventPlan,
    opts: &SynthOptions,
) -> Result<Synthesis, SynthError> {
    let setting = Setting::new(rule, query, opts);
    let target = setting.target(plan.category())?;
    let mut out = Synthesis::default();
    if plan.never_matches() {
        out.unsatisfiable = Some("the condition folds to false or null as compiled (an optional `?field` the mapping lacks reads as null, for one): nothing can match".to_string());
        return Ok(out);
    }
    let mut run = Run {
        setting,
        target,
        query,
        opts,
        n: 0,
    };
    let cat = plan.category_leaf();
    let items = conjuncts(plan.condition());
    let labs = conjunct_labels(rule, plan.condition(), items.len());
    let conj: Vec<Goal> = items.iter().map(|c| Goal::of(c, true)).collect();

    let first = match run.solve(&compose(cat, true, &conj, None, Vec::new()), None, true) {
        Ok(a) => a,
        Err(why) => {
            out.unsatisfiable = Some(why);
            return Ok(out);
        }
    };
    let mut seen: Vec<Assignment> = Vec::new();
    if let Some(doc) = run.emit(&first, true, None) {
        out.positives.push(doc);
        seen.push(first.clone());
    }
    alternatives(&mut run, &mut out, &mut seen, cat, &items, &conj, &first);
    if !opts.near_misses {
        return Ok(out);
    }
    let mut misses: Vec<Assignment> = Vec::new();
    for mut t in near_miss_targets(cat, &items, &conj, &labs, &first) {
        t.label = short(t.label);
        match run.solve(&t.goal, Some(&first), false) {
            Ok(a) if misses.contains(&a) => {}
            Ok(a) => match run.emit(&a, false, Some(&t.label)) {
                Some(doc) => {
                    out.near_misses.push((t.label, doc));
                    misses.push(a);
                }
                None => out.unflippable.push((
                    t.label,
                    "the built event did not read back as expected".to_string(),
                )),
            },
            Err(why) => out.unflippable.push((t.label, why)),
        }
    }
    Ok(out)
}

/// More positives: each other branch of each top-level `or`.
#[allow(clippy::too_many_arguments)]
fn alternatives<'a>(
    run: &mut Run,
    out: &mut Synthesis,
    seen: &mut Vec<Assignment>,
    cat: Option<&'a Leaf>,
    items: &[&'a Cond],
    conj: &[Goal<'a>],
    first: &Assignment,
) {
    for (i, c) in items.iter().enumerate() {
        let Cond::Or(branches) = c else { continue };
        for b in branches {
            if out.positives.len() >= run.opts.max_positives {
                return;
            }
            if Goal::of(b, true).holds(&View(first)) {
                continue;
            }
            let goal = compose(cat, true, conj, Some(i), vec![Goal::of(b, true)]);
            let Ok(a) = run.solve(&goal, Some(first), true) else {
                continue;
            };
            if seen.contains(&a) {
                continue;
            }
            if let Some(doc) = run.emit(&a, true, None) {
                out.positives.push(doc);
                seen.push(a);
            }
        }
    }
}

fn near_miss_targets<'a>(
    cat: Option<&'a Leaf>,
    items: &[&'a Cond],
    conj: &[Goal<'a>],
    labs: &[Labels],
    first: &Assignment,
) -> Vec<Flip<'a>> {
    let mut out = Vec::new();
    if let Some(c) = cat {
        out.push(Flip {
            label: render::leaf(c),
            goal: compose(cat, false, conj, None, Vec::new()),
        });
    }
    for (i, c) in items.iter().enumerate() {
        let whole = || Flip {
            label: label_at(labs, &[i], || render::cond(c)),
            goal: compose(cat, true, conj, Some(i), vec![Goal::of(c, false)]),
        };
        match c {
            Cond::Or(branches) => {
                let taken = branches
                    .iter()
                    .position(|b| Goal::of(b, true).holds(&View(first)));
                let Some((bi, Cond::And(tests))) = taken.map(|bi| (bi, &branches[bi])) else {
                    out.push(whole());
                    continue;
                };
                for (j, t) in tests.iter().enumerate() {
                    let mut extra: Vec<Goal> = branches
                        .iter()
                        .enumerate()
                        .filter(|(m, _)| *m != bi)
                        .map(|(_, b)| Goal::of(b, false))
                        .collect();
                    extra.extend(
                        tests
                            .iter()
                            .enumerate()
                            .filter(|(k, _)| *k != j)
                            .map(|(_, x)| Goal::of(x, true)),
                    );
                    extra.push(Goal::of(t, false));
                    out.push(Flip {
                        label: label_at(labs, &[i, bi, j], || render::cond(t)),
                        goal: compose(cat, true, conj, Some(i), extra),
                    });
                }
            }
            Cond::Not(inner) => match &**inner {
                Cond::Or(excl) => {
                    for (j, x) in excl.iter().enumerate() {
                        let mut extra = vec![Goal::of(x, true)];
                        extra.extend(
                            excl.iter()
                                .enumerate()
                                .filter(|(m, _)| *m != j)
                                .map(|(_, y)| Goal::of(y, false)),
                        );
                        let text = label_at(labs, &[i, 0, j], || render::cond(x));
                        out.push(Flip {
                            label: format!("not {text}"),
                            goal: compose(cat, true, conj, Some(i), extra),
                        });
                    }
                }
                _ => out.push(whole()),
            },
            _ => out.push(whole()),
        }
    }
    out
}
