//! The per-event stage: routing, the witness index, event rules, and what
//! each event fills of the sequence rules.
//!
//! [`EventStage`] keeps no event and no sequence state, so several copies
//! ([`EventStage::fork`]) can evaluate different events at once, on
//! different threads; each writes what it found into an [`Outcome`], and
//! whoever holds the sequence state ([`super::sequences::SequenceStage`])
//! takes the sequence hits in input order. Its only mutable parts are
//! caches (routes, probe tables) and counts.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use talon_eql::eval::Memo;
use talon_event::catalog::FieldCatalog;
use talon_event::EventView;

use crate::compile::CompiledRule;
use crate::router::{Routed, Router};
use crate::sequence::{SequenceTerms, Settled, TermHits, TimeReader};
use crate::witness::{Marks, ProbeTables, Witnesses, MAX_WITNESSES};

use super::{EngineStats, RuleStats};

/// What the copies of a stage share, read-only.
#[derive(Debug)]
pub(crate) struct Plans {
    /// Event rules.
    pub rules: Vec<CompiledRule>,
    /// Sequence and sample rules.
    pub sequences: Vec<CompiledRule>,
    /// Per sequence rule: its terms, as events are evaluated against them.
    pub terms: Vec<Arc<SequenceTerms>>,
    /// Per sequence rule: the matcher ids of its terms (the until term
    /// last).
    pub term_ids: Vec<std::ops::Range<u32>>,
    /// Per term matcher (its id less the number of event rules): its
    /// sequence rule.
    pub term_owner: Vec<u32>,
    pub witnesses: Witnesses,
    /// The distinct ways sequence rules read time.
    pub clocks: Vec<TimeReader>,
    /// Per sequence rule: its clock.
    pub clock_of: Vec<usize>,
    /// Evaluate only witnessed candidates (off: every routed rule).
    pub use_witness: bool,
    /// Every field the rules read, numbered; the rules are bound to it.
    pub catalog: Arc<FieldCatalog>,
    /// How many distinct leaves the rules' plans number (`Memo`).
    pub leaves: usize,
}

/// Probes listed per witness at `-vvv`; the rest are counted (a rule
/// listing hundreds of values made one line of tens of thousands of
/// characters).
const PROBES_SHOWN: usize = 20;

/// `-vvv`: what a rule (or sequence term) is evaluated on.
fn trace_probes(name: &str, witnesses: &[Vec<talon_eql::plan::witness::Probe>]) {
    let name = talon_event::terminal::escape_controls(name);
    let witnesses = &witnesses[..witnesses.len().min(MAX_WITNESSES)];
    if witnesses.is_empty() {
        tracing::trace!("witness: `{name}` is evaluated on every event it routes to");
        return;
    }
    let each: Vec<String> = witnesses
        .iter()
        .map(|w| {
            let mut alts: Vec<String> = w
                .iter()
                .take(PROBES_SHOWN)
                .map(|p| talon_event::terminal::escape_controls(&p.to_string()).into_owned())
                .collect();
            if w.len() > PROBES_SHOWN {
                alts.push(format!("… and {} more", w.len() - PROBES_SHOWN));
            }
            format!("({})", alts.join(" | "))
        })
        .collect();
    tracing::trace!(
        "witness: `{name}` is evaluated on events where {}",
        each.join(" and ")
    );
}

/// How `-vvv` names sequence rule `name`'s term `i` (0-based) of `terms`:
/// `(term 1)`, a missing event's `(missing event 2)`, `(until)`.
fn term_label(name: &str, terms: &SequenceTerms, i: usize) -> String {
    match terms.plan.terms.get(i) {
        Some(t) if t.missing => format!("{name} (missing event {})", i + 1),
        Some(_) => format!("{name} (term {})", i + 1),
        None => format!("{name} (until)"),
    }
}

impl Plans {
    pub fn new(
        rules: Vec<CompiledRule>,
        sequences: Vec<CompiledRule>,
        terms: Vec<Arc<SequenceTerms>>,
        catalog: Arc<FieldCatalog>,
        leaves: usize,
        use_witness: bool,
    ) -> Plans {
        let mut witnesses = Witnesses::default();
        for r in &rules {
            let probes = r.query.event_plan().map(|p| p.witnesses());
            let probes = probes.unwrap_or_default();
            if use_witness {
                trace_probes(&r.rule.name, &probes);
            }
            witnesses.push(probes);
        }
        let mut term_ids = Vec::with_capacity(terms.len());
        let mut term_owner = Vec::new();
        let mut clocks: Vec<TimeReader> = Vec::new();
        let mut clock_of = Vec::with_capacity(terms.len());
        for (j, t) in terms.iter().enumerate() {
            let name = sequences.get(j).map_or("?", |r| r.rule.name.as_str());
            let first = witnesses.len() as u32;
            for (i, plan) in t.plans().enumerate() {
                let probes = plan.plan.witnesses();
                if use_witness {
                    trace_probes(&term_label(name, t, i), &probes);
                }
                witnesses.push(probes);
            }
            term_ids.push(first..witnesses.len() as u32);
            term_owner.extend(std::iter::repeat_n(
                j as u32,
                witnesses.len() - first as usize,
            ));
            let c = match clocks.iter().position(|c| c == t.time()) {
                Some(c) => c,
                None => {
                    clocks.push(t.time().clone());
                    clocks.len() - 1
                }
            };
            clock_of.push(c);
        }
        if use_witness {
            let (with, of) = witnesses.coverage();
            tracing::info!("witness index: {with} of {of} rules and sequence terms have probes");
        } else {
            tracing::debug!(
                "witness index off (--no-prefilter): every rule and sequence term is evaluated on every event \
                 routed to it"
            );
        }
        Plans {
            rules,
            sequences,
            terms,
            term_ids,
            term_owner,
            witnesses,
            clocks,
            clock_of,
            use_witness,
            catalog,
            leaves,
        }
    }

    /// The matcher ids of sequence rule `j`'s terms.
    fn term_ids(&self, j: usize) -> std::ops::Range<u32> {
        self.term_ids[j].clone()
    }
}

/// What one event gave.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The event rules it matched, in rule order.
    pub matched: Vec<usize>,
    /// What it filled of each sequence rule, in rule order.
    pub hits: Vec<(usize, TermHits)>,
    /// Its time on each clock of the sequence rules.
    pub clocks: Vec<Option<i64>>,
    /// Some rule searches its index.
    pub searched: bool,
}

impl Outcome {
    fn clear(&mut self) {
        self.matched.clear();
        self.hits.clear();
        self.clocks.clear();
        self.searched = false;
    }
}

/// Routing and evaluation of one event at a time, without sequence state.
#[derive(Debug)]
pub struct EventStage {
    plans: Arc<Plans>,
    router: Router,
    seq_router: Router,
    /// Probe tables per routing class (keyed by the routes' identity).
    tables: FxHashMap<(usize, usize), Class>,
    marks: Marks,
    /// The current event's candidate matchers, in id order.
    candidates: Vec<u32>,
    /// Per clock: read for the current event already.
    clock_read: Vec<bool>,
    /// Leaf answers of the current event, shared between rules.
    memo: Memo,
    /// Per sequence rule: this thread's settled terms (see [`Settled`]).
    settled: Vec<Settled>,
    stats: EngineStats,
}

/// A routing class: the event rules and sequence rules an event's index
/// and categories reach, their probe tables, and how many events reached
/// them since the counts were last settled (each rule's `seen` is counted
/// per class, not per rule and event).
#[derive(Debug)]
struct Class {
    tables: ProbeTables,
    rules: Arc<[usize]>,
    sequences: Option<Arc<[usize]>>,
    events: u64,
}

/// A route's identity: the router hands out the same list for the same
/// index and categories.
fn route_key(rules: &Arc<[usize]>) -> usize {
    if rules.is_empty() {
        0
    } else {
        Arc::as_ptr(rules) as *const usize as usize
    }
}

impl EventStage {
    pub(crate) fn new(plans: Arc<Plans>, all_indices: bool) -> EventStage {
        let mut router = Router::new(&plans.rules, all_indices);
        let mut seq_router = Router::new(&plans.sequences, all_indices);
        router.bind_fields(&|p| plans.catalog.bind(p));
        seq_router.bind_fields(&|p| plans.catalog.bind(p));
        let stats = EngineStats {
            rules: vec![RuleStats::default(); plans.rules.len()],
            sequence_rules: vec![RuleStats::default(); plans.sequences.len()],
            ..EngineStats::default()
        };
        EventStage {
            settled: plans.terms.iter().map(|t| Settled::new(t)).collect(),
            plans,
            router,
            seq_router,
            tables: FxHashMap::default(),
            marks: Marks::default(),
            candidates: Vec::new(),
            clock_read: Vec::new(),
            memo: Memo::default(),
            stats,
        }
    }

    /// A copy with the same rules and empty caches and counts, for
    /// another thread.
    pub fn fork(&self) -> EventStage {
        EventStage::new(Arc::clone(&self.plans), self.router.all_indices())
    }

    /// Every field the rules read, numbered: events read through this
    /// catalog (`ReadOptions::with_catalog`) have their fields read by
    /// number.
    pub fn catalog(&self) -> &Arc<FieldCatalog> {
        &self.plans.catalog
    }

    /// The event rules, in the order [`Outcome::matched`] refers to.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.plans.rules
    }

    /// The sequence and sample rules, in the order [`Outcome::hits`]
    /// refers to.
    pub fn sequence_rules(&self) -> &[CompiledRule] {
        &self.plans.sequences
    }

    pub fn stats(&mut self) -> &EngineStats {
        self.settle();
        &self.stats
    }

    /// Adds the events each routing class saw to its rules' `seen`.
    fn settle(&mut self) {
        let stats = &mut self.stats;
        for c in self.tables.values_mut() {
            let n = std::mem::take(&mut c.events);
            if n == 0 {
                continue;
            }
            for &i in c.rules.iter() {
                stats.rules[i].seen += n;
            }
            for &j in c.sequences.iter().flat_map(|s| s.iter()) {
                stats.sequence_rules[j].seen += n;
            }
        }
    }

    /// Takes the counts so far, leaving zeros.
    pub fn take_stats(&mut self) -> EngineStats {
        self.settle();
        let fresh = EngineStats {
            rules: vec![RuleStats::default(); self.plans.rules.len()],
            sequence_rules: vec![RuleStats::default(); self.plans.sequences.len()],
            ..EngineStats::default()
        };
        std::mem::replace(&mut self.stats, fresh)
    }

    /// The event rules and the sequence rules (when there are any) the
    /// event's index and categories reach.
    fn route(&mut self, event: &dyn EventView) -> (Routed, Option<Routed>) {
        let plans = &*self.plans;
        let routed = self.router.route(&plans.rules, event);
        let seq_routed =
            (!plans.sequences.is_empty()).then(|| self.seq_router.route(&plans.sequences, event));
        (routed, seq_routed)
    }

    /// Whether some loaded rule searches the event's index.
    pub fn searches(&mut self, event: &dyn EventView) -> bool {
        let (routed, seq_routed) = self.route(event);
        routed.index_searched || seq_routed.is_some_and(|r| r.index_searched)
    }

    /// Notes the sequence hits of an event that the caller keeps, once
    /// its exceptions are applied: an event they leave out is no event for
    /// the rule, so it must not stop this thread from looking at the next
    /// event that lacks a join key (see [`Settled`]).
    pub fn settle_kept(&mut self, hits: &[(usize, TermHits)]) {
        for (j, hit) in hits {
            if let Some(settled) = self.settled.get_mut(*j) {
                settled.note(hit);
            }
        }
    }

    /// Routes and evaluates one event; what it gave goes to `out`. The
    /// hits kept go back through [`EventStage::settle_kept`].
    pub fn on_event(&mut self, event: &dyn EventView, out: &mut Outcome) {
        out.clear();
        self.stats.events += 1;
        let (routed, seq_routed) = self.route(event);
        let plans = &*self.plans;
        out.searched =
            routed.index_searched || seq_routed.as_ref().is_some_and(|r| r.index_searched);
        if !out.searched {
            self.stats.count_unsearched(event);
        }
        let seq_rules = seq_routed.map(|r| r.rules);
        let seq_list: &[usize] = seq_rules.as_deref().unwrap_or(&[]);
        // An event moves a clock only when it reaches a sequence rule that
        // reads time on it: one in an index no such rule searches (dated
        // far ahead, say) must not make the rules' own events late.
        out.clocks.resize(plans.clocks.len(), None);
        self.clock_read.clear();
        self.clock_read.resize(plans.clocks.len(), false);
        for &j in seq_list {
            let c = plans.clock_of[j];
            if !std::mem::replace(&mut self.clock_read[c], true) {
                out.clocks[c] = plans.clocks[c].read(event);
            }
        }
        if routed.rules.is_empty() && seq_list.is_empty() {
            return;
        }

        if plans.use_witness {
            let key = (
                route_key(&routed.rules),
                seq_rules.as_ref().map_or(0, route_key),
            );
            let class = self.tables.entry(key).or_insert_with(|| {
                let ids = routed.rules.iter().map(|&i| i as u32);
                let terms = seq_list.iter().flat_map(|&j| plans.term_ids(j));
                Class {
                    tables: plans.witnesses.tables(ids.chain(terms), &plans.catalog),
                    rules: Arc::clone(&routed.rules),
                    sequences: seq_rules.clone(),
                    events: 0,
                }
            });
            class.events += 1;
            self.marks.reset(&plans.witnesses);
            class.tables.mark(event, &mut self.marks);
            class
                .tables
                .candidates(&plans.witnesses, &self.marks, &mut self.candidates);
        } else {
            // Without the index every routed rule is a candidate, and
            // `seen` is counted here, per rule.
            self.candidates.clear();
            for &i in routed.rules.iter() {
                self.stats.rules[i].seen += 1;
                self.candidates.push(i as u32);
            }
            for &j in seq_list {
                self.stats.sequence_rules[j].seen += 1;
                self.candidates.extend(plans.term_ids(j));
            }
            self.candidates.sort_unstable();
        }
        self.memo.reset(plans.leaves);
        let memo = &mut self.memo;
        let marks = &self.marks;
        let candidate = |m: u32| !plans.use_witness || plans.witnesses.admits(m, marks);

        // Candidates are in id order: event rules, then each sequence
        // rule's terms.
        let event_rules = plans.rules.len() as u32;
        let split = self.candidates.partition_point(|&m| m < event_rules);
        let (rules, terms) = self.candidates.split_at(split);
        for &i in rules {
            let i = i as usize;
            let st = &mut self.stats.rules[i];
            st.evaluated += 1;
            // The rule's filters are ANDed with its query, as Kibana
            // ANDs them into the search.
            let rule = &plans.rules[i];
            if rule.query.matches_memo(event, memo) && rule.filters.matches(event) {
                st.matched += 1;
                out.matched.push(i);
            }
        }
        if !out.matched.is_empty() {
            self.stats.matched += 1;
        }

        let mut last = None;
        for &m in terms {
            let j = plans.term_owner[(m - event_rules) as usize] as usize;
            if last == Some(j) {
                continue;
            }
            last = Some(j);
            let st = &mut self.stats.sequence_rules[j];
            st.evaluated += 1;
            let base = plans.term_ids(j).start;
            let ts = out.clocks.get(plans.clock_of[j]).copied();
            let fills = |t: usize| candidate(base + t as u32);
            let Some(settled) = self.settled.get_mut(j) else {
                continue;
            };
            if let Some(hit) = plans.terms[j].evaluate(event, &fills, ts, memo, settled) {
                // The filters are part of the search's `filter`, so an
                // event they leave out is no event for the sequence: it
                // fills no term, missing and `until` ones included. The
                // caller settles the terms of the hits it keeps (its
                // exceptions are part of the filter too: see
                // [`EventStage::settle_kept`]).
                if plans.sequences[j].filters.matches(event) {
                    // A keyless event fills no term (and how many are seen
                    // depends on how many threads look: see [`Settled`]).
                    st.matched += u64::from(!hit.is_keyless());
                    out.hits.push((j, hit));
                }
            }
        }
    }
}
