//! The engine's sequence runner as the stream's [`SequenceMatcher`].
//!
//! One [`SequenceRunner`] per sequence rule and partition. The runner does
//! not say which events it holds, so the replay log is bounded in event
//! time: with a `maxspan`, nothing older than twice the span plus the
//! re-ordering window can still take part in a match (twice, so a leading
//! missing-event mark before a sequence's first event is kept too); without
//! one the log is bounded by its share of
//! [`crate::state::MAX_CHECKPOINT_BYTES`] only.
//!
//! The re-ordering window ([`crate::Settings::reorder_window`]) matters
//! more here than over files: a routed sequence's events reach their
//! repartition partition from several event partitions, each read at its
//! own pace, so the window must cover the lag between the slowest and the
//! fastest partition (a worker's death and the group's takeover included),
//! or the late events are counted and not matched. A match is reported
//! once its partition's event time has moved one window past its last
//! event.

use std::sync::Arc;
use std::time::Duration;

use talon_engine::{CompiledRule, SequenceOptions, SequenceRunner};
use talon_event::mapping::Mapping;
use talon_event::Event;

use crate::state::{Horizon, MatcherFactory, SequenceHit, SequenceMatcher};

/// Makes a runner per sequence rule, with the mapping the rules were
/// compiled against.
pub struct RunnerFactory {
    mapping: Mapping,
    window_nanos: i64,
}

/// The factory of this build's sequence matchers.
pub fn factory(mapping: &Mapping, reorder_window: Duration) -> Option<Arc<dyn MatcherFactory>> {
    let window_nanos = i64::try_from(reorder_window.as_nanos()).unwrap_or(i64::MAX);
    Some(Arc::new(RunnerFactory {
        mapping: mapping.clone(),
        window_nanos,
    }))
}

impl MatcherFactory for RunnerFactory {
    fn matcher(&self, _rule_index: usize, rule: &CompiledRule) -> Option<Box<dyn SequenceMatcher>> {
        let opts = SequenceOptions {
            reorder_window_nanos: self.window_nanos,
            name: Some(rule.rule.name.clone()),
            ..SequenceOptions::default()
        };
        let span = rule.query.sequence()?.maxspan_nanos;
        let runner = SequenceRunner::new(&rule.query, &self.mapping, opts).ok()?;
        let horizon = match span {
            Some(s) => Horizon::Span(s.saturating_mul(2).saturating_add(self.window_nanos)),
            None => Horizon::Unknown,
        };
        Some(Box::new(RunnerMatcher { runner, horizon }))
    }
}

struct RunnerMatcher {
    runner: SequenceRunner,
    horizon: Horizon,
}

impl SequenceMatcher for RunnerMatcher {
    fn on_event(&mut self, event: &Arc<Event>, emit: &mut dyn FnMut(SequenceHit)) {
        self.runner.push(event, &mut |m| {
            // Missing-event placeholders have no event to alert on.
            emit(SequenceHit {
                events: m.events.into_iter().flatten().collect(),
            })
        });
    }

    fn horizon(&self) -> Horizon {
        self.horizon
    }

    fn pending(&self) -> Option<usize> {
        None
    }

    fn dropped(&self) -> (u64, u64) {
        let stats = self.runner.stats();
        (stats.late_events, stats.evicted)
    }
}
