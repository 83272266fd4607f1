//! The engine: events in, detections out, with a count of everything.
//!
//! Each event is routed by index and category ([`crate::router`]) to the
//! event-query rules that can see it, and each of those rules' compiled
//! query is evaluated; the engine keeps no event after `on_event` returns.
//! Sequence and sample rules each own a [`SequenceRunner`] fed through
//! [`Engine::on_shared_event`]; their state is bounded by maxspan and caps,
//! so memory stays flat however long the input is.

use std::sync::Arc;

use talon_eql::QueryKind;
use talon_event::mapping::Mapping;
use talon_event::Event;
use talon_rules::Rule;

use crate::compile::{CompiledRule, RuleProblem};
use crate::prefilter::{Candidates, Prefilter};
use crate::router::Router;
use crate::sequence::{SequenceMatch, SequenceOptions, SequenceRunner, SequenceWarning};

/// How the engine runs.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Ignore the rules' index patterns: every rule sees every event.
    pub all_indices: bool,
    /// Sequence rules: how far (event time) input may be out of order and
    /// still be matched in order; `None` keeps the runner's default.
    pub reorder_window_nanos: Option<i64>,
    /// Sequence rules: most in-flight sequences per rule; `None` keeps the
    /// runner's default.
    pub max_pending_sequences: Option<usize>,
    /// Evaluate every routed rule on every event, without the literal
    /// prefilter ([`crate::prefilter`]).
    pub no_prefilter: bool,
    /// Sequence rules hold slim copies of the events they wait on: the
    /// source text and the timestamp fields only (what alerts and the
    /// schedule replay read), instead of every field.
    pub slim_sequence_events: bool,
}

/// One rule matching one event.
#[derive(Clone, Copy, Debug)]
pub struct Detection<'a> {
    pub rule: &'a Rule,
    /// Position of the rule in [`Engine::rules`].
    pub rule_index: usize,
    pub event: &'a Event,
}

/// One sequence (or sample) rule matching a sequence of events.
#[derive(Debug)]
pub struct SequenceDetection<'a> {
    pub rule: &'a Rule,
    /// Position of the rule in [`Engine::sequence_rules`].
    pub rule_index: usize,
    pub matched: SequenceMatch,
}

/// A sequence or sample rule's runner; its rule sits at the same position
/// of `Engine::sequence_compiled`.
struct SequenceRule {
    runner: Option<SequenceRunner>,
    matched: u64,
}

impl std::fmt::Debug for SequenceRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceRule")
            .field("matched", &self.matched)
            .finish()
    }
}

/// Counts for one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Events routed to the rule (its index patterns matched).
    pub seen: u64,
    /// Of those, events its query was evaluated on (the others hold none
    /// of its needles: see [`crate::prefilter`]).
    pub evaluated: u64,
    /// Events the rule matched.
    pub matched: u64,
}

/// Counts for the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Events given to the engine.
    pub events: u64,
    /// Events that at least one rule matched.
    pub matched: u64,
    /// Events that no rule's index patterns reached, because the event has
    /// no index at all.
    pub no_index: u64,
    /// Events with an index that no loaded rule searches.
    pub index_not_searched: u64,
    /// The first few of those index names, for the summary.
    pub indices_not_searched: Vec<String>,
    /// Per rule, in the order of [`Engine::rules`].
    pub rules: Vec<RuleStats>,
}

/// Runs compiled rules over a stream of events.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    router: Router,
    stats: EngineStats,
    sequences: Vec<SequenceRule>,
    sequence_compiled: Vec<CompiledRule>,
    /// Routes events to sequence rules by index and by their terms'
    /// categories, as event rules are routed.
    sequence_router: Router,
    prefilter: Option<Arc<Prefilter>>,
    candidates: Candidates,
    /// `candidates` holds the current event's answer.
    candidates_ready: bool,
    /// The fields slim sequence events keep; `None`: events are kept whole.
    slim_fields: Option<Vec<String>>,
}

impl Engine {
    /// An engine over the rules it can run, without a mapping.
    pub fn new(rules: Vec<CompiledRule>, opts: &EngineOptions) -> (Engine, Vec<RuleProblem>) {
        Engine::with_mapping(rules, opts, &Mapping::default())
    }

    /// An engine over the rules it can run; sequence and sample rules read
    /// their timestamps and join keys through `mapping`. A sequence rule
    /// whose runner cannot be built comes back as a problem.
    pub fn with_mapping(
        rules: Vec<CompiledRule>,
        opts: &EngineOptions,
        mapping: &Mapping,
    ) -> (Engine, Vec<RuleProblem>) {
        let mut runnable = Vec::with_capacity(rules.len());
        let mut sequences = Vec::new();
        let mut sequence_compiled = Vec::new();
        let mut problems = Vec::new();
        for r in rules {
            if r.query.kind() == QueryKind::Event {
                runnable.push(r);
                continue;
            }
            match SequenceRunner::new(&r.query, mapping, sequence_options(&r, opts)) {
                Ok(runner) => {
                    sequences.push(SequenceRule {
                        runner: Some(runner),
                        matched: 0,
                    });
                    sequence_compiled.push(r);
                }
                Err(e) => problems.push(unsupported(r, &e)),
            }
        }
        let router = Router::new(&runnable, opts.all_indices);
        let stats = EngineStats {
            rules: vec![RuleStats::default(); runnable.len()],
            ..EngineStats::default()
        };
        let sequence_router = Router::new(&sequence_compiled, opts.all_indices);
        let prefilter = if opts.no_prefilter {
            None
        } else {
            Prefilter::new(&runnable, &sequence_compiled).map(Arc::new)
        };
        let slim_fields = opts
            .slim_sequence_events
            .then(|| slim_fields(&sequence_compiled));
        let engine = Engine {
            rules: runnable,
            router,
            stats,
            sequences,
            sequence_compiled,
            sequence_router,
            prefilter,
            candidates: Candidates::default(),
            candidates_ready: false,
            slim_fields,
        };
        (engine, problems)
    }

    /// The literal prefilter, when some rule has needles and it is not
    /// turned off.
    pub fn prefilter(&self) -> Option<&Arc<Prefilter>> {
        self.prefilter.as_ref()
    }

    /// Every field the engine reads: the rules' query fields (aliases
    /// resolved, join keys included), their timestamp, tiebreaker and
    /// category fields, and what routing and alert building read
    /// (`@timestamp`, `data_stream.*`). A reader may drop every other
    /// field ([`talon_event::Projection`]); rule exceptions and `talon.toml`
    /// read fields of their own, which the caller adds.
    pub fn fields_read(&self) -> Vec<String> {
        fields_read(self.rules.iter().chain(&self.sequence_compiled))
    }

    /// The sequence and sample rules, in the order
    /// [`SequenceDetection::rule_index`] refers to.
    pub fn sequence_rules(&self) -> impl Iterator<Item = &CompiledRule> {
        self.sequence_compiled.iter()
    }

    /// Sequences (or samples) found so far, per sequence rule.
    pub fn sequence_matches(&self) -> Vec<u64> {
        self.sequences.iter().map(|s| s.matched).collect()
    }

    /// Evaluates every event-query rule the event reaches (as
    /// [`Engine::on_event`]) and feeds every sequence rule whose indices
    /// include the event's; completed sequences go to `on_sequence` as soon
    /// as they are final.
    pub fn on_shared_event(
        &mut self,
        event: &Arc<Event>,
        on_detection: impl FnMut(Detection<'_>),
        on_sequence: impl FnMut(SequenceDetection<'_>),
    ) {
        self.on_shared_event_admitting(event, on_detection, on_sequence, |_, _| true);
    }

    /// As [`Engine::on_shared_event`], but a sequence rule only sees the
    /// event when `admit(rule_index, event)` says so: Kibana applies a
    /// rule's exceptions as a filter on its EQL search, so an excepted event
    /// can fill no term of that rule's sequences.
    pub fn on_shared_event_admitting(
        &mut self,
        event: &Arc<Event>,
        on_detection: impl FnMut(Detection<'_>),
        mut on_sequence: impl FnMut(SequenceDetection<'_>),
        mut admit: impl FnMut(usize, &Event) -> bool,
    ) {
        self.stats.events += 1;
        let searched = self.event_rules(event, on_detection);
        let (targets, seq_searched): (Arc<[usize]>, bool) = if self.sequences.is_empty() {
            (Arc::from(Vec::new()), false)
        } else {
            let routed = self.sequence_router.route(&self.sequence_compiled, event);
            (routed.rules, routed.index_searched)
        };
        if !searched && !seq_searched {
            self.count_unsearched(event);
        }
        if !targets.is_empty() {
            self.compute_candidates(event);
        }
        // One slim copy per event, made when a runner first keeps it.
        let mut slim: Option<Arc<Event>> = None;
        let slim_fields = self.slim_fields.as_deref();
        let mut keep = || match slim_fields {
            None => Arc::clone(event),
            Some(f) => Arc::clone(slim.get_or_insert_with(|| Arc::new(event.slim(f)))),
        };
        for &i in targets.iter() {
            if !admit(i, event) {
                continue;
            }
            // An event holding none of the rule's needles fills no term,
            // but still moves the rule's event time on, as it would have
            // had its terms been evaluated.
            let fills = self
                .prefilter
                .as_ref()
                .is_none_or(|p| p.sequence_candidate(&self.candidates, i));
            let seq = &mut self.sequences[i];
            let Some(runner) = seq.runner.as_mut() else {
                continue;
            };
            let rule = &self.sequence_compiled[i].rule;
            let matched = &mut seq.matched;
            let mut found = |m| {
                *matched += 1;
                on_sequence(SequenceDetection {
                    rule,
                    rule_index: i,
                    matched: m,
                });
            };
            if fills {
                runner.push_keeping(event, &mut keep, &mut found);
            } else {
                runner.push_unmatched(event, &mut found);
            }
        }
    }

    /// Ends the input: sequences still waiting on a window or a missing
    /// event are settled and handed out. Returns every warning the
    /// sequence runners raised (late events, evictions), naming the rule.
    pub fn finish(
        &mut self,
        mut on_sequence: impl FnMut(SequenceDetection<'_>),
    ) -> Vec<SequenceWarning> {
        let mut warnings = Vec::new();
        for (i, (seq, compiled)) in self
            .sequences
            .iter_mut()
            .zip(&self.sequence_compiled)
            .enumerate()
        {
            let Some(runner) = seq.runner.take() else {
                continue;
            };
            let rule = &compiled.rule;
            let matched = &mut seq.matched;
            let stats = runner.finish(&mut |m| {
                *matched += 1;
                on_sequence(SequenceDetection {
                    rule,
                    rule_index: i,
                    matched: m,
                });
            });
            warnings.extend(stats.warnings);
        }
        warnings
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Evaluates every event-query rule the event reaches, calling
    /// `on_detection` for each match, in rule order.
    pub fn on_event(&mut self, event: &Event, on_detection: impl FnMut(Detection<'_>)) {
        self.stats.events += 1;
        if !self.event_rules(event, on_detection) {
            self.count_unsearched(event);
        }
    }

    /// Runs the event-query rules; false when the event's index is one no
    /// event rule searches (or it has none).
    fn event_rules(&mut self, event: &Event, mut on_detection: impl FnMut(Detection<'_>)) -> bool {
        self.candidates_ready = false;
        let routed = self.router.route(&self.rules, event);
        let targets = routed.rules;
        if targets.is_empty() {
            // Searched but of no category a rule there accepts: not a
            // skipped event, just one no rule can match.
            return routed.index_searched;
        }
        self.compute_candidates(event);
        let mut any = false;
        for &i in targets.iter() {
            let rule = &self.rules[i];
            let st = &mut self.stats.rules[i];
            st.seen += 1;
            if self.prefilter.is_some() && !self.candidates.event_rule(i) {
                continue;
            }
            st.evaluated += 1;
            if rule.query.matches(event) {
                st.matched += 1;
                any = true;
                on_detection(Detection {
                    rule: &rule.rule,
                    rule_index: i,
                    event,
                });
            }
        }
        if any {
            self.stats.matched += 1;
        }
        true
    }

    fn count_unsearched(&mut self, event: &Event) {
        self.stats.count_unsearched(event);
    }

    /// Runs the prefilter over `event` once, when some rule it reaches
    /// needs the answer.
    fn compute_candidates(&mut self, event: &Event) {
        if let (false, Some(p)) = (self.candidates_ready, &self.prefilter) {
            p.candidates(event, &mut self.candidates);
            self.candidates_ready = true;
        }
    }
}

impl EngineStats {
    /// Counts an event that no rule's index patterns reached.
    pub fn count_unsearched(&mut self, event: &Event) {
        match &event.index {
            None => self.no_index += 1,
            Some(index) => {
                self.index_not_searched += 1;
                let names = &mut self.indices_not_searched;
                if names.len() < MAX_INDEX_NAMES && !names.iter().any(|n| **n == **index) {
                    names.push(index.to_string());
                }
            }
        }
    }
}

/// The rules an engine can run, by kind, in their order; a sequence or
/// sample rule whose runner cannot be built is a problem instead.
#[derive(Debug, Default)]
pub struct Runnable {
    pub event: Vec<CompiledRule>,
    pub sequence: Vec<CompiledRule>,
    pub problems: Vec<RuleProblem>,
}

/// Sorts `rules` as [`Engine::with_mapping`] would, without building an
/// engine: a caller that splits rules between several engines (one per
/// thread) gives each only rules that run.
pub fn runnable(rules: Vec<CompiledRule>, opts: &EngineOptions, mapping: &Mapping) -> Runnable {
    let mut out = Runnable::default();
    for r in rules {
        if r.query.kind() == QueryKind::Event {
            out.event.push(r);
            continue;
        }
        match SequenceRunner::new(&r.query, mapping, sequence_options(&r, opts)) {
            Ok(_) => out.sequence.push(r),
            Err(e) => out.problems.push(unsupported(r, &e)),
        }
    }
    out
}

/// What [`Engine::fields_read`] gives for an engine over `rules`.
pub fn fields_read<'r>(rules: impl IntoIterator<Item = &'r CompiledRule>) -> Vec<String> {
    let mut out: Vec<String> = ["@timestamp", "event.category", "data_stream"]
        .map(String::from)
        .to_vec();
    for r in rules {
        out.extend(r.query.referenced_fields());
        let rule = &r.rule;
        let own = [
            &rule.timestamp_override,
            &rule.timestamp_field,
            &rule.tiebreaker_field,
            &rule.event_category_override,
        ];
        out.extend(own.into_iter().flatten().cloned());
    }
    out.sort();
    out.dedup();
    out
}

/// What slim sequence events keep: `@timestamp` (the alert's original
/// time) and each rule's own timestamp and tiebreaker fields.
fn slim_fields(rules: &[CompiledRule]) -> Vec<String> {
    let mut out = vec!["@timestamp".to_string()];
    for r in rules {
        let rule = &r.rule;
        let own = [
            &rule.timestamp_override,
            &rule.timestamp_field,
            &rule.tiebreaker_field,
        ];
        out.extend(own.into_iter().flatten().cloned());
    }
    out.sort();
    out.dedup();
    out
}

fn sequence_options(r: &CompiledRule, opts: &EngineOptions) -> SequenceOptions {
    let defaults = SequenceOptions::default();
    SequenceOptions {
        timestamp_field: r
            .rule
            .timestamp_field
            .clone()
            .unwrap_or_else(|| "@timestamp".into()),
        tiebreaker_field: r.rule.tiebreaker_field.clone(),
        name: Some(r.rule.name.clone()),
        reorder_window_nanos: opts
            .reorder_window_nanos
            .unwrap_or(defaults.reorder_window_nanos),
        max_pending_total: opts
            .max_pending_sequences
            .unwrap_or(defaults.max_pending_total),
        ..defaults
    }
}

fn unsupported(r: CompiledRule, e: &dyn std::fmt::Display) -> RuleProblem {
    RuleProblem::Unsupported {
        reason: format!("{} query cannot run: {e}", kind_name(r.query.kind())),
        rule: Box::new(r.rule),
    }
}

/// How many unsearched index names the stats keep for display.
const MAX_INDEX_NAMES: usize = 5;

fn kind_name(kind: QueryKind) -> &'static str {
    match kind {
        QueryKind::Event => "event",
        QueryKind::Sequence => "sequence",
        QueryKind::Sample => "sample",
    }
}
