//! Test events from a rule: documents that make an EQL rule fire, and
//! near-misses that must not, so a detection engineer can test a rule
//! without data.
//!
//! The generator is a small constraint solver over the compiled plan (the
//! `Cond` tree of `talon_eql::plan::ir`), under Elasticsearch's semantics as
//! talon's evaluator implements them: every leaf is two-valued, a missing
//! field fails every field test (so it passes every negated one), and a
//! multi-valued field passes a test when any of its values does, which
//! lets one array satisfy several positive tests on the same field.
//!
//! Guarantees:
//! - every document handed out has been read back the way `talon hunt`
//!   reads it and checked with the real evaluator and the rule's index
//!   patterns: positives match, near-misses do not;
//! - each near-miss differs from a positive by one flipped condition, and
//!   names it (`talon.synth.flipped`, the condition's text in the query);
//! - the output depends only on the rule and [`SynthOptions::seed`];
//! - a query that cannot be satisfied by construction is reported with the
//!   reason, never papered over; nothing here panics on any rule.
//!
//! Modules: `goal` (the condition in negation normal form), `values`
//! (candidate values per test), `text` (strings from wildcards and
//! regexes), `field` (one field's values under all its tests), `script`
//! (script tests), `solve` (the search over `and`/`or`), `doc` (index,
//! timestamps and the JSON document), `label` (condition texts), `event`
//! (event queries: positives and near-misses), `sequence` (event streams
//! for sequences and samples), `render` (conditions as text).

mod doc;
mod event;
mod field;
mod goal;
mod label;
mod render;
mod script;
mod sequence;
mod solve;
mod text;
mod values;

use talon_eql::{CompiledQuery, QueryKind};
use talon_rules::Rule;

/// How events are generated.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Varies host names, ids, process ids and timestamps; the same seed
    /// gives the same output.
    pub seed: u64,
    /// Also build near-misses (event queries only).
    pub near_misses: bool,
    /// Most positive events per rule (one per alternative of a top-level
    /// `or`, the first always).
    pub max_positives: usize,
    /// Most search steps per solve before giving up.
    pub budget: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 0,
            near_misses: true,
            max_positives: 8,
            budget: 20_000,
        }
    }
}

/// What was generated for one rule.
#[derive(Clone, Debug, Default)]
pub struct Synthesis {
    /// Documents that make the rule fire (for a sequence or sample: the
    /// stream, in order, that makes it fire once).
    pub positives: Vec<serde_json::Value>,
    /// Documents that must not fire, each with the text of the condition
    /// that was flipped.
    pub near_misses: Vec<(String, serde_json::Value)>,
    /// Why no positive could be built, when none could.
    pub unsatisfiable: Option<String>,
    /// Conditions that could not be flipped alone (the others imply them),
    /// with the reason.
    pub unflippable: Vec<(String, String)>,
}

/// Why generation failed outright.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("not a sequence or sample query")]
    NotASequence,
    #[error("no index name matches the rule's index patterns [{0}]")]
    NoIndex(String),
    #[error("cannot build events for this query: {0}")]
    Unsatisfiable(String),
    #[error("a generated document does not read back as one event: {0}")]
    ReadBack(String),
}

/// Builds events for a rule: positives and near-misses for an event query;
/// for a sequence or sample, the stream of [`synthesize_sequence`] as the
/// positives.
pub fn synthesize(
    rule: &Rule,
    query: &CompiledQuery,
    opts: &SynthOptions,
) -> Result<Synthesis, SynthError> {
    match (query.kind(), query.event_plan()) {
        (QueryKind::Event, Some(plan)) => event::synthesize_event(rule, query, plan, opts),
        _ => match sequence::synthesize_stream(rule, query, opts) {
            Ok(stream) => Ok(Synthesis {
                positives: stream,
                ..Synthesis::default()
            }),
            Err(SynthError::Unsatisfiable(reason)) => Ok(Synthesis {
                unsatisfiable: Some(reason),
                ..Synthesis::default()
            }),
            Err(e) => Err(e),
        },
    }
}

/// An ordered event stream that makes a sequence or sample fire exactly
/// once: one event per positive term (repeated for `runs`), all sharing
/// their join-key values, timestamps one step apart within `maxspan`, and
/// no event that matches an `until` or missing (`![...]`) term.
pub fn synthesize_sequence(
    rule: &Rule,
    query: &CompiledQuery,
    opts: &SynthOptions,
) -> Result<Vec<serde_json::Value>, SynthError> {
    sequence::synthesize_stream(rule, query, opts)
}
