//! The detection engine: compiled rules, routing of events to the rules
//! that can see them, and evaluation.
//!
//! - [`compile`]: a loaded [`talon_rules::Rule`] becomes a [`CompiledRule`],
//!   or a [`RuleProblem`] that says why it cannot run (query error with its
//!   span, unsupported rule type);
//! - [`router`]: which rules an event reaches, by index and event
//!   category, decided once per distinct index name and category values;
//! - [`witness`]: the rules' witnesses (field values every match has)
//!   inverted into per-field tables, so rules that cannot match an event
//!   are not evaluated;
//! - [`prefilter`]: the rules' needles (text every match holds) in one
//!   pass over raw lines, so that, when every rule has needles, lines
//!   that hold none are not parsed;
//! - [`engine`]: [`Engine`], fed one event at a time, reporting each
//!   [`Detection`] and keeping [`EngineStats`]; its two stages (per-event
//!   evaluation, sequence state) can also run apart, on several threads;
//! - [`filters`]: a rule's `filters`, compiled against the mapping: an
//!   event matches the rule only when they hold too, as Kibana ANDs them
//!   with the query;
//! - [`exceptions`]: rule exception items (Kibana lists, `talon.toml`,
//!   silenced rules and hosts) that keep a match from alerting;
//! - [`schedule`]: replay of Kibana's rule schedule (interval, lookback,
//!   max_signals, overlap dedup) over events in any order;
//! - [`select`]: which loaded rules a run keeps (tags, MITRE, severity,
//!   ids, names, building blocks);
//! - [`search`]: an ad-hoc EQL search (`talon query`), ordered and limited
//!   as Elasticsearch's EQL search API orders and limits results.

pub mod compile;
pub mod engine;
pub mod exceptions;
pub mod filters;
pub mod prefilter;
pub mod router;
pub mod schedule;
pub mod search;
pub mod select;
pub mod sequence;
pub mod witness;

pub use compile::{compile_rule, compile_rules, CompiledRule, RuleProblem};
pub use engine::events::{EventStage, Outcome};
pub use engine::sequences::SequenceStage;
pub use engine::{
    fields_read, runnable, slim_fields, stages, Detection, Engine, EngineOptions, EngineStats,
    RuleStats, Runnable, SequenceDetection,
};
pub use router::{CategoryNeed, IndexCensus, Routed, Router};
pub use search::{ResultPosition, Search, SearchOptions, SearchResult};
pub use select::{parse_severity, RuleSelector, SelectError};
pub use sequence::{
    SequenceError, SequenceMatch, SequenceOptions, SequenceResult, SequenceRunner, SequenceSearch,
    SequenceStats, SequenceTerms, SequenceWarning, TermHits,
};
pub use talon_rules::Severity;
