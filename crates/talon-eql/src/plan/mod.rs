//! The checker and compiled plan: [`compile`] turns a syntax tree into a
//! [`CompiledQuery`] that answers exactly as Elasticsearch would.
//!
//! Guarantees:
//! - every field is resolved against the mapping (an unknown plain field is
//!   an error with its span when the mapping is explicit) and every type
//!   error Elasticsearch's verifier reports is a compile error here;
//! - the condition is optimized as Elasticsearch's optimizer does (null
//!   checks, folding, `A or null` → `A`), and a condition that folds to
//!   false or null compiles to a plan that never matches;
//! - the plan is two-valued at every leaf, with any-value semantics for
//!   multi-valued fields (see `ir` and `eval::leaf`);
//! - compiling never panics, whatever the input.
//!
//! Submodules: `check` (typing and optimizer rules), `calls` (functions),
//! `matching` (`:`, like, regex, in), `needles` and `witness` (what a
//! matching event must hold, for prefilters),
//! `lower` (query vs script leaves), `literal` (literals converted to field
//! types), `lucene` (regexp syntax), `limit` (pipes), `sequence`
//! (sequence and sample plans), `ir` (the plan types).

mod calls;
mod check;
pub mod ir;
mod key_constraints;
mod limit;
mod literal;
mod lower;
pub mod lucene;
mod matching;
pub mod needles;
mod order;
mod sequence;
pub mod witness;

use std::sync::LazyLock;

use talon_event::mapping::Mapping;
use talon_event::Fields;

use crate::ast::{self, Category, EventQuery, QueryBody};
use crate::diag::Diagnostic;
use crate::eval::cond_matches;
use crate::eval::value::FieldKind;
use check::Checker;
use ir::{Cond, Leaf, Slot, TermSet};

pub use limit::{Limit, ResultPosition};
pub use sequence::{JoinKey, SequencePlan, TermPlan};

/// What a query is compiled against.
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions<'a> {
    /// The index mapping; [`Mapping::default`] means no mapping (types come
    /// from ECS and the values, and any field name is accepted).
    pub mapping: &'a Mapping,
    /// The event category field (default `event.category`).
    pub event_category_field: &'a str,
    /// The timestamp field (default `@timestamp`).
    pub timestamp_field: &'a str,
    pub tiebreaker_field: Option<&'a str>,
}

static EMPTY_MAPPING: LazyLock<Mapping> = LazyLock::new(Mapping::default);

impl Default for CompileOptions<'static> {
    fn default() -> Self {
        CompileOptions {
            mapping: &EMPTY_MAPPING,
            event_category_field: "event.category",
            timestamp_field: "@timestamp",
            tiebreaker_field: None,
        }
    }
}

/// The form of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    Event,
    Sequence,
    Sample,
}

/// A compiled event query (also each term of a sequence or sample): the
/// category test and the condition.
#[derive(Clone, Debug)]
pub struct EventPlan {
    /// `None` for `any`.
    category: Option<(Slot, TermSet)>,
    /// The category test as a leaf, built once.
    category_leaf: Option<Leaf>,
    cond: Cond,
}

impl EventPlan {
    /// Whether the event is of the category and satisfies the condition.
    pub fn matches(&self, event: &dyn Fields) -> bool {
        if let Some(leaf) = &self.category_leaf {
            if !crate::eval::leaf::leaf_matches(leaf, event) {
                return false;
            }
        }
        cond_matches(&self.cond, event)
    }

    /// As [`EventPlan::matches`], sharing the answers of numbered leaves
    /// through `memo` (see [`crate::eval::cond_matches_memo`]).
    pub fn matches_memo(&self, event: &dyn Fields, memo: &mut crate::eval::Memo) -> bool {
        if let Some(leaf) = &self.category_leaf {
            if !crate::eval::leaf::leaf_matches(leaf, event) {
                return false;
            }
        }
        crate::eval::cond_matches_memo(&self.cond, event, memo)
    }

    /// Numbers the leaves for [`EventPlan::matches_memo`]: equal leaves
    /// (by [`ir::Leaf::memo_key`]) get the number `numbers` already holds
    /// for them, new ones the next.
    pub fn number_leaves(&mut self, numbers: &mut rustc_hash::FxHashMap<String, u32>) {
        number_cond(&mut self.cond, numbers);
    }

    /// True when the condition folded to false or null.
    pub fn never_matches(&self) -> bool {
        matches!(self.cond, Cond::Const(false))
    }

    /// The compiled condition.
    pub fn condition(&self) -> &Cond {
        &self.cond
    }

    /// The category test as a term leaf on the category field; `None` for
    /// `any`.
    pub fn category_leaf(&self) -> Option<&Leaf> {
        self.category_leaf.as_ref()
    }

    /// See [`CompiledQuery::order_for_speed`].
    pub fn order_for_speed(&mut self) {
        self.cond.order_for_speed();
    }

    /// See [`CompiledQuery::bind_fields`].
    pub fn bind_fields(&mut self, bind: &dyn Fn(&str) -> talon_event::Binding) {
        let mut slot = |s: &mut Slot| s.binding = bind(&s.path);
        if let Some((s, _)) = &mut self.category {
            slot(s);
        }
        if let Some(leaf) = &mut self.category_leaf {
            leaf.for_each_slot(&mut slot);
        }
        self.cond.for_each_slot(&mut slot);
    }

    /// The category this plan requires, `None` for `any`.
    pub fn category(&self) -> Option<&str> {
        match &self.category {
            Some((_, TermSet::Str(set))) => set.first(),
            _ => None,
        }
    }
}

/// A checked, compiled query.
#[derive(Clone, Debug)]
pub struct CompiledQuery {
    kind: QueryKind,
    event: Option<EventPlan>,
    sequence: Option<SequencePlan>,
    pipes: Vec<ast::Pipe>,
    fields: Vec<String>,
    warnings: Vec<Diagnostic>,
}

impl CompiledQuery {
    pub fn kind(&self) -> QueryKind {
        self.kind
    }

    /// For an event query: the category test and the condition. Always
    /// false for sequences and samples (use [`CompiledQuery::sequence`]).
    pub fn matches(&self, event: &dyn Fields) -> bool {
        match &self.event {
            Some(p) => p.matches(event),
            None => false,
        }
    }

    /// The combined `head`/`tail` pipes.
    pub fn limit(&self) -> Limit {
        Limit::from_pipes(&self.pipes)
    }

    /// The results a search request returns: the pipes with the request's
    /// `size` and `result_position` (see [`Limit::for_request`]).
    pub fn window(&self, size: u64, position: ResultPosition) -> Limit {
        Limit::for_request(&self.pipes, size, position)
    }

    /// Every field path the query reads, after alias resolution: condition
    /// fields, the category field (unless every term is `any`) and join
    /// keys. The timestamp and tiebreaker fields are not included.
    pub fn referenced_fields(&self) -> Vec<String> {
        self.fields.clone()
    }

    /// True when the condition folded to false or null (nothing can match).
    pub fn never_matches(&self) -> bool {
        match (&self.event, &self.sequence) {
            (Some(p), _) => p.never_matches(),
            (None, Some(s)) => s.never_matches(),
            _ => true,
        }
    }

    /// Non-fatal findings, such as `==` with a `*` in the literal.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The compiled terms of a sequence or sample.
    pub fn sequence(&self) -> Option<&SequencePlan> {
        self.sequence.as_ref()
    }

    /// The plan of an event query.
    pub fn event_plan(&self) -> Option<&EventPlan> {
        self.event.as_ref()
    }

    /// For an event query, as [`CompiledQuery::matches`] with the answers
    /// of numbered leaves shared through `memo`.
    pub fn matches_memo(&self, event: &dyn Fields, memo: &mut crate::eval::Memo) -> bool {
        match &self.event {
            Some(p) => p.matches_memo(event, memo),
            None => false,
        }
    }

    /// Numbers the leaves of every plan of the query (see
    /// [`EventPlan::number_leaves`]).
    pub fn number_leaves(&mut self, numbers: &mut rustc_hash::FxHashMap<String, u32>) {
        if let Some(p) = &mut self.event {
            p.number_leaves(numbers);
        }
        if let Some(seq) = &mut self.sequence {
            for t in seq.terms.iter_mut().chain(seq.until.iter_mut()) {
                t.plan.number_leaves(numbers);
            }
        }
    }

    /// Reorders the condition's tests so that evaluation stops as early as
    /// it can (see `plan::order`); answers do not change.
    pub fn order_for_speed(&mut self) {
        if let Some(p) = &mut self.event {
            p.order_for_speed();
        }
        if let Some(seq) = &mut self.sequence {
            for t in seq.terms.iter_mut().chain(seq.until.iter_mut()) {
                t.plan.order_for_speed();
            }
        }
    }

    /// Numbers every field the plan reads with `bind` (its
    /// [`talon_event::Binding`] in the catalog events will be read
    /// through), so evaluation reads them without a lookup. Answers do not
    /// change: an event of another catalog is read by path.
    pub fn bind_fields(&mut self, bind: &dyn Fn(&str) -> talon_event::Binding) {
        if let Some(p) = &mut self.event {
            p.bind_fields(bind);
        }
        if let Some(seq) = &mut self.sequence {
            for t in seq.terms.iter_mut().chain(seq.until.iter_mut()) {
                t.plan.bind_fields(bind);
            }
        }
    }
}

fn number_cond(c: &mut Cond, numbers: &mut rustc_hash::FxHashMap<String, u32>) {
    match c {
        Cond::Const(_) => {}
        Cond::And(kids) | Cond::Or(kids) => kids.iter_mut().for_each(|k| number_cond(k, numbers)),
        Cond::Not(x) => number_cond(x, numbers),
        Cond::Leaf(l) => {
            let Some(key) = l.memo_key() else { return };
            let next = numbers.len() as u32;
            let id = *numbers.entry(key).or_insert(next);
            l.for_each_slot(&mut |s| s.memo = id);
        }
    }
}

/// Parses and compiles query text.
pub fn compile_str(text: &str, opts: &CompileOptions) -> Result<CompiledQuery, Vec<Diagnostic>> {
    let query = crate::syntax::parse(text).map_err(|d| vec![d])?;
    compile(&query, opts)
}

/// Compiles a parsed query; every error found is returned.
pub fn compile(
    query: &ast::Query,
    opts: &CompileOptions,
) -> Result<CompiledQuery, Vec<Diagnostic>> {
    let mut ck = Checker::new(opts.mapping);
    // `?` on any mention makes the name optional everywhere.
    for e in optional_scan_roots(&query.body) {
        check::collect_optional(e, &mut ck.optional);
    }
    let pipes = query.pipes.clone();
    let (kind, event, sequence) = match &query.body {
        QueryBody::Event(eq) => (QueryKind::Event, compile_event(&mut ck, eq, opts), None),
        QueryBody::Sequence(s) => (
            QueryKind::Sequence,
            None,
            sequence::compile_sequence(&mut ck, s, opts),
        ),
        QueryBody::Sample(s) => (
            QueryKind::Sample,
            None,
            sequence::compile_sample(&mut ck, s, opts),
        ),
    };
    if !ck.errors.is_empty() {
        return Err(ck.errors);
    }
    let mut fields = ck.fields;
    let uses_category = match (&event, &sequence) {
        (Some(p), _) => p.category.is_some(),
        (None, Some(s)) => s.uses_category(),
        _ => false,
    };
    if uses_category {
        let cat = opts.mapping.resolve(opts.event_category_field).to_string();
        if !fields.contains(&cat) {
            fields.insert(0, cat);
        }
    }
    let warnings = ck.warnings;
    match (kind, event, sequence) {
        (QueryKind::Event, Some(p), _) => Ok(CompiledQuery {
            kind,
            event: Some(p),
            sequence: None,
            pipes,
            fields,
            warnings,
        }),
        (QueryKind::Sequence | QueryKind::Sample, _, Some(seq)) => Ok(CompiledQuery {
            kind,
            event: None,
            sequence: Some(seq),
            pipes,
            fields,
            warnings,
        }),
        _ => Err(vec![Diagnostic::new(
            "query could not be compiled",
            query.span,
        )]),
    }
}

fn optional_scan_roots(body: &QueryBody) -> Vec<&ast::Expr> {
    let mut out = Vec::new();
    fn term<'q>(t: &'q ast::SeqTerm, out: &mut Vec<&'q ast::Expr>) {
        out.push(&t.query.condition);
        out.extend(t.by.iter());
    }
    match body {
        QueryBody::Event(e) => out.push(&e.condition),
        QueryBody::Sequence(s) => {
            out.extend(s.by.iter());
            for t in &s.terms {
                term(t, &mut out);
            }
            if let Some(u) = &s.until {
                term(u, &mut out);
            }
        }
        QueryBody::Sample(s) => {
            out.extend(s.by.iter());
            for t in &s.filters {
                term(t, &mut out);
            }
        }
    }
    out
}

/// Compiles one `<category> where <condition>`.
pub(crate) fn compile_event(
    ck: &mut Checker,
    eq: &EventQuery,
    opts: &CompileOptions,
) -> Option<EventPlan> {
    let category = match &eq.category {
        Category::Any(_) => None,
        Category::Named(name, _) => {
            let path = opts.mapping.resolve(opts.event_category_field);
            let kind = match opts.mapping.get(opts.event_category_field) {
                Some(fm) => check::field_type(fm.ty).1,
                None => FieldKind::Keyword,
            };
            // The category is a term query on the field: exact, any value.
            let kind = if kind == FieldKind::Dynamic {
                FieldKind::Keyword
            } else {
                kind
            };
            let set = literal_category(kind, name);
            Some((Slot::new(std::sync::Arc::from(path), kind), set))
        }
    };
    let cond = ck.check_condition(&eq.condition)?;
    let cond = lower::lower(&cond, &mut ck.errors)?;
    let category_leaf = category
        .as_ref()
        .map(|(slot, set)| Leaf::Term(slot.clone(), set.clone()));
    Some(EventPlan {
        category,
        category_leaf,
        cond: simplify(cond),
    })
}

fn literal_category(kind: FieldKind, name: &str) -> TermSet {
    let v = crate::eval::value::RVal::str(name);
    literal::term_set(kind, &[v], false)
        .unwrap_or_else(|_| TermSet::Str(ir::StrSet::new(vec![std::sync::Arc::from(name)], false)))
}

/// Flattens nested `and`/`or` and drops constants left by lowering.
fn simplify(c: Cond) -> Cond {
    match c {
        Cond::And(items) => {
            let mut out = Vec::new();
            for i in items {
                match simplify(i) {
                    Cond::Const(true) => {}
                    Cond::Const(false) => return Cond::Const(false),
                    Cond::And(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Cond::Const(true),
                1 => out.remove(0),
                _ => Cond::And(out),
            }
        }
        Cond::Or(items) => {
            let mut out = Vec::new();
            for i in items {
                match simplify(i) {
                    Cond::Const(false) => {}
                    Cond::Const(true) => return Cond::Const(true),
                    Cond::Or(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Cond::Const(false),
                1 => out.remove(0),
                _ => Cond::Or(out),
            }
        }
        Cond::Not(x) => match simplify(*x) {
            Cond::Const(b) => Cond::Const(!b),
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        },
        leaf => leaf,
    }
}
