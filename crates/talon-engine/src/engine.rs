//! The engine: events in, detections out, with a count of everything.
//!
//! Each event is routed by index ([`crate::router`]) to the rules that
//! search that index, then each of those rules' compiled query is
//! evaluated. The engine keeps no event after `on_event` returns, so memory
//! does not grow with the input.

use talon_event::Event;
use talon_eql::QueryKind;
use talon_rules::Rule;

use crate::compile::{CompiledRule, RuleProblem};
use crate::router::Router;

/// How the engine runs.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Ignore the rules' index patterns: every rule sees every event.
    pub all_indices: bool,
}

/// One rule matching one event.
#[derive(Clone, Copy, Debug)]
pub struct Detection<'a> {
    pub rule: &'a Rule,
    /// Position of the rule in [`Engine::rules`].
    pub rule_index: usize,
    pub event: &'a Event,
}

/// Counts for one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Events routed to the rule (its index patterns matched).
    pub seen: u64,
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

/// Runs compiled event-query rules over a stream of events.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    router: Router,
    stats: EngineStats,
}

impl Engine {
    /// An engine over the rules it can run. Rules whose queries are
    /// sequences or samples are returned as problems: their evaluation is
    /// not supported yet.
    pub fn new(rules: Vec<CompiledRule>, opts: &EngineOptions) -> (Engine, Vec<RuleProblem>) {
        let mut runnable = Vec::with_capacity(rules.len());
        let mut problems = Vec::new();
        for r in rules {
            match r.query.kind() {
                QueryKind::Event => runnable.push(r),
                // TODO: sequences and samples (issue: sequences over streams).
                kind => problems.push(RuleProblem::Unsupported {
                    reason: format!("{} queries are not supported yet", kind_name(kind)),
                    rule: Box::new(r.rule),
                }),
            }
        }
        let router = Router::new(&runnable, opts.all_indices);
        let stats = EngineStats {
            rules: vec![RuleStats::default(); runnable.len()],
            ..EngineStats::default()
        };
        (Engine { rules: runnable, router, stats }, problems)
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Evaluates every rule the event reaches, calling `on_detection` for
    /// each match, in rule order.
    pub fn on_event(&mut self, event: &Event, mut on_detection: impl FnMut(Detection<'_>)) {
        self.stats.events += 1;
        let routed = self.router.route(&self.rules, event);
        let targets = routed.rules;
        if targets.is_empty() {
            // Searched but of no category a rule there accepts: not a
            // skipped event, just one no rule can match.
            if routed.index_searched {
                return;
            }
            if event.index.is_none() {
                self.stats.no_index += 1;
            } else {
                self.stats.index_not_searched += 1;
                let names = &mut self.stats.indices_not_searched;
                if let Some(index) = &event.index {
                    if names.len() < MAX_INDEX_NAMES && !names.iter().any(|n| **n == **index) {
                        names.push(index.to_string());
                    }
                }
            }
            return;
        }
        let mut any = false;
        for &i in targets.iter() {
            let rule = &self.rules[i];
            let st = &mut self.stats.rules[i];
            st.seen += 1;
            if rule.query.matches(event) {
                st.matched += 1;
                any = true;
                on_detection(Detection { rule: &rule.rule, rule_index: i, event });
            }
        }
        if any {
            self.stats.matched += 1;
        }
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
