//! Compiled sequences and samples: each term checked and compiled as an
//! event query, with its join keys, `runs`, missing flag, `maxspan` and
//! `until` term. Evaluation of sequences is not here (it needs ordering
//! across events); these plans give the evaluator everything it needs.
//!
//! As Elasticsearch does:
//! - `sequence by` keys are prepended to each term's own keys, and every
//!   term (and `until`) must end up with the same number of keys of
//!   compatible types, matched by position;
//! - join keys must be fields; an optional `?key` that the mapping does not
//!   have is a key that is always null;
//! - a mandatory (non-optional) key must be present: each term's plan
//!   requires it (AddMandatoryJoinKeyFilter), so `TermPlan::matches`
//!   already rejects events that lack one.

use std::sync::Arc;

use talon_event::Fields;

use crate::ast::{Expr, ExprKind, Sample, SeqTerm, Sequence, Span};
use crate::diag::Diagnostic;
use crate::eval::value::FieldKind;
use crate::plan::check::Checker;
use crate::plan::ir::{Cond, Leaf, Slot, TKind, Ty};
use crate::plan::key_constraints;
use crate::plan::{compile_event, CompileOptions, EventPlan, QueryKind};

/// One join key of a term.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinKey {
    /// The field to read (aliases followed); `None` for an optional field
    /// the mapping does not have (its value is always null).
    pub path: Option<Arc<str>>,
    /// Written `?field`: a null value is a valid key that joins with null.
    pub optional: bool,
    /// How the field's values read.
    pub kind: FieldKind,
}

/// One term of a sequence or one filter of a sample.
#[derive(Clone, Debug)]
pub struct TermPlan {
    pub plan: EventPlan,
    pub keys: Vec<JoinKey>,
    /// `with runs=N` (1 without it).
    pub runs: u32,
    /// `![...]`: an event that must not occur.
    pub missing: bool,
    pub span: Span,
    /// The term's own condition, without the presence of its mandatory
    /// keys that `plan` adds (`None` when it has none): what tells an
    /// event that matched but lacks a key from one that did not match.
    pub unkeyed: Option<EventPlan>,
}

impl TermPlan {
    /// Whether the event can fill this term (category, condition, and the
    /// presence of every mandatory key).
    pub fn matches(&self, event: &dyn Fields) -> bool {
        self.plan.matches(event)
    }

    /// As [`TermPlan::matches`], sharing leaf answers through `memo`.
    pub fn matches_memo(&self, event: &dyn Fields, memo: &mut crate::eval::Memo) -> bool {
        self.plan.matches_memo(event, memo)
    }
}

/// A compiled sequence or sample.
#[derive(Clone, Debug)]
pub struct SequencePlan {
    pub kind: QueryKind,
    /// The terms in order (sample: the filters).
    pub terms: Vec<TermPlan>,
    pub until: Option<TermPlan>,
    /// `with maxspan=…` in nanoseconds.
    pub maxspan_nanos: Option<i64>,
}

impl SequencePlan {
    /// True when some positive term can never match, so neither can the
    /// whole sequence or sample.
    pub fn never_matches(&self) -> bool {
        self.terms
            .iter()
            .any(|t| !t.missing && t.plan.never_matches())
    }

    pub(crate) fn uses_category(&self) -> bool {
        self.terms
            .iter()
            .chain(self.until.iter())
            .any(|t| t.plan.category().is_some())
    }
}

struct KeyInfo {
    key: JoinKey,
    ty: Ty,
    shown: String,
    span: Span,
}

fn compile_key(ck: &mut Checker, e: &Expr) -> Option<KeyInfo> {
    if !matches!(e.kind, ExprKind::Field(_)) {
        ck.err(format!("join keys must be fields, found [{e}]"), e.span);
        return None;
    }
    let t = ck.check(e)?;
    let optional =
        matches!(&e.kind, ExprKind::Field(f) if f.optional || ck.optional.contains(&f.path));
    let shown = e.to_string();
    match t.kind {
        TKind::Field(f) => Some(KeyInfo {
            key: JoinKey {
                path: Some(f.path.clone()),
                optional: f.optional,
                kind: f.kind,
            },
            ty: f.ty,
            shown,
            span: e.span,
        }),
        // An optional field no index maps: always null.
        TKind::Lit(_) => Some(KeyInfo {
            key: JoinKey {
                path: None,
                optional,
                kind: FieldKind::Dynamic,
            },
            ty: Ty::Null,
            shown,
            span: e.span,
        }),
        _ => {
            ck.err(format!("join keys must be fields, found [{e}]"), e.span);
            None
        }
    }
}

fn compile_term(
    ck: &mut Checker,
    t: &SeqTerm,
    shared: &[Expr],
    opts: &CompileOptions,
) -> Option<(TermPlan, Vec<KeyInfo>)> {
    let plan = compile_event(ck, &t.query, opts);
    let mut keys = Vec::new();
    let mut ok = true;
    for k in shared.iter().chain(t.by.iter()) {
        match compile_key(ck, k) {
            Some(ki) => keys.push(ki),
            None => ok = false,
        }
    }
    let mut plan = plan?;
    if !ok {
        return None;
    }
    // Mandatory keys must exist on the event.
    let required: Vec<Cond> = keys
        .iter()
        .filter(|k| !k.key.optional)
        .filter_map(|k| {
            k.key
                .path
                .as_ref()
                .map(|p| Cond::Leaf(Box::new(Leaf::Exists(Slot::new(p.clone(), k.key.kind)))))
        })
        .collect();
    let mut unkeyed = None;
    if !required.is_empty() {
        unkeyed = Some(plan.clone());
        plan = plan.with_required(required);
    }
    let runs = t.runs.map(|(n, _)| n).unwrap_or(1);
    let term = TermPlan {
        plan,
        keys: keys.iter().map(|k| k.key.clone()).collect(),
        runs,
        missing: t.missing,
        span: t.span,
        unkeyed,
    };
    for k in &keys {
        if let Some(p) = &k.key.path {
            if !ck.fields.iter().any(|f| **f == **p) {
                ck.fields.push(p.to_string());
            }
        }
    }
    Some((term, keys))
}

/// Checks that key `i` of every term has a type compatible with term 0's.
fn check_key_types(ck: &mut Checker, what: &str, all: &[Vec<KeyInfo>]) {
    let Some(first) = all.first() else { return };
    for keys in &all[1..] {
        if keys.len() != first.len() {
            // The parser reports differing key counts; nothing to add.
            continue;
        }
        for (a, b) in first.iter().zip(keys) {
            if !a.ty.compatible(b.ty) {
                ck.errors.push(Diagnostic::new(
                    format!(
                        "{what} key [{}] type [{}] is incompatible with key [{}] type [{}]",
                        b.shown,
                        b.ty.name(),
                        a.shown,
                        a.ty.name()
                    ),
                    b.span,
                ));
            }
        }
    }
}

/// Compiles the terms and `until`, and checks their keys' types: first
/// as written, so that every problem is told once, where it is written,
/// and keys of incompatible types get the key error rather than one from
/// a condition moved next to the other key. Then, when an `and` part of a
/// term reads a join key, the terms again with those parts shared
/// ([`key_constraints`]); `until` keeps its own condition.
fn compile_terms(
    ck: &mut Checker,
    terms: &[SeqTerm],
    until: Option<&SeqTerm>,
    shared: &[Expr],
    opts: &CompileOptions,
    what: &str,
) -> Option<(Vec<TermPlan>, Option<TermPlan>)> {
    let start = ck.diagnostics();
    let errors = start.0;
    let mut plans = Vec::new();
    let mut infos = Vec::new();
    let mut ok = true;
    for t in terms.iter().chain(until) {
        match compile_term(ck, t, shared, opts) {
            Some((plan, ki)) => {
                plans.push(plan);
                infos.push(ki);
            }
            None => ok = false,
        }
    }
    if ok {
        check_key_types(ck, what, &infos);
    }
    if !ok || ck.errors.len() != errors {
        return None;
    }
    let until = match until {
        Some(_) => plans.pop(),
        None => None,
    };
    let Some(shared_terms) = key_constraints::propagate(terms, shared) else {
        return Some((plans, until));
    };
    let before = ck.diagnostics();
    let again: Option<Vec<TermPlan>> = shared_terms
        .iter()
        .map(|t| compile_term(ck, t, shared, opts).map(|(plan, _)| plan))
        .collect();
    match again {
        Some(again) if ck.errors.len() == errors => {
            // The shared parts compiled once already, where they are
            // written: what they say again in other terms is not told
            // twice.
            ck.dedup_since(start);
            Some((again, until))
        }
        // TODO: a part that compiles as written but not beside another
        // term's key (types the key check allows, a function's argument
        // types it does not) keeps its own term only, where
        // Elasticsearch would share it.
        _ => {
            ck.errors.truncate(before.0);
            ck.warnings.truncate(before.1);
            Some((plans, until))
        }
    }
}

pub(crate) fn compile_sequence(
    ck: &mut Checker,
    s: &Sequence,
    opts: &CompileOptions,
) -> Option<SequencePlan> {
    let (terms, until) = compile_terms(ck, &s.terms, s.until.as_ref(), &s.by, opts, "Sequence")?;
    Some(SequencePlan {
        kind: QueryKind::Sequence,
        terms,
        until,
        maxspan_nanos: s.maxspan.map(|m| m.as_nanos()),
    })
}

pub(crate) fn compile_sample(
    ck: &mut Checker,
    s: &Sample,
    opts: &CompileOptions,
) -> Option<SequencePlan> {
    let (terms, _) = compile_terms(ck, &s.filters, None, &s.by, opts, "Sample")?;
    Some(SequencePlan {
        kind: QueryKind::Sample,
        terms,
        until: None,
        maxspan_nanos: None,
    })
}

impl EventPlan {
    /// The plan with extra required conditions ANDed in.
    pub(crate) fn with_required(self, mut required: Vec<Cond>) -> EventPlan {
        let cond = match self.cond {
            Cond::Const(true) => {
                if required.len() == 1 {
                    required.remove(0)
                } else {
                    Cond::And(required)
                }
            }
            Cond::Const(false) => Cond::Const(false),
            Cond::And(mut items) => {
                items.extend(required);
                Cond::And(items)
            }
            other => {
                let mut items = vec![other];
                items.extend(required);
                Cond::And(items)
            }
        };
        EventPlan {
            category: self.category,
            category_leaf: self.category_leaf,
            cond,
        }
    }
}
