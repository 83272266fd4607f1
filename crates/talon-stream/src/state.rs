//! Sequence state per partition, and how it is saved and restored.
//!
//! The stream does not look inside a sequence matcher. It asks only two
//! things of one ([`SequenceMatcher`]): to take events in order and report
//! completed sequences, and to say which is the oldest event it still
//! needs. [`ReplayState`] keeps the events from that one on; a snapshot is
//! those events, and a restore feeds them to a fresh matcher with its
//! reports discarded (they were all delivered before the snapshot was
//! taken). A deterministic matcher fed the same events ends in the same
//! state, so the sequences pending on a partition survive a move to
//! another worker without the matcher knowing how to serialize itself.
//!
//! Every event's `seq` is its offset in the partition, so the order, and
//! the tiebreak of equal timestamps, replay exactly as they first ran.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use talon_engine::CompiledRule;
use talon_event::{time, Event, Origin};

use crate::decode::Decoder;

/// A completed sequence: its events in term order.
#[derive(Clone, Debug)]
pub struct SequenceHit {
    pub events: Vec<Arc<Event>>,
}

/// Which kept events a matcher can still need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Horizon {
    /// None: the matcher holds nothing.
    Nothing,
    /// Events whose `seq` is below this one.
    Seq(u64),
    /// Events more than this many nanoseconds (event time, `@timestamp`)
    /// older than the newest event: a `maxspan` plus the re-ordering
    /// window.
    Span(i64),
    /// It cannot tell: keep what [`MAX_CHECKPOINT_BYTES`] allows.
    Unknown,
}

/// One sequence rule's matcher over one partition's events.
pub trait SequenceMatcher: Send {
    /// Takes the next event of the partition (in offset order) and reports
    /// every sequence it completes.
    fn on_event(&mut self, event: &Arc<Event>, emit: &mut dyn FnMut(SequenceHit));

    /// Which events the matcher still needs (pending sequences,
    /// re-ordering window, `until` and missing-event marks). Older events
    /// are never needed to rebuild its state.
    fn horizon(&self) -> Horizon;

    /// Sequences waiting for their next event, when the matcher knows.
    fn pending(&self) -> Option<usize>;

    /// Events it could not match: (arrived later than its re-ordering
    /// window allows, dropped at its in-flight cap).
    fn dropped(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// Makes the matchers of sequence rules.
pub trait MatcherFactory: Send + Sync {
    /// A fresh matcher for `rule`, the one at `rule_index` among the loaded
    /// sequence rules; `None` when this factory cannot run it (the rule is
    /// then reported as not supported).
    fn matcher(&self, rule_index: usize, rule: &CompiledRule) -> Option<Box<dyn SequenceMatcher>>;
}

/// Most bytes one partition's checkpoint may take, shared by its rules: a
/// changelog record must fit one Kafka message (1 MB by default). Past a
/// rule's share the oldest events are dropped and counted.
pub const MAX_CHECKPOINT_BYTES: usize = 900 * 1024;

/// What one kept event costs in a snapshot beyond its text.
const SAVED_OVERHEAD: usize = 64;

/// A matcher plus the events that can rebuild it: every event fed to it
/// from the oldest one it still needs on, so a replay passes through the
/// same states (a sequence that completed meanwhile completes again, and
/// its report is dropped).
pub struct ReplayState {
    matcher: Box<dyn SequenceMatcher>,
    /// Each kept event with its `@timestamp` (for [`Horizon::Span`]).
    log: VecDeque<(Arc<Event>, Option<i64>)>,
    newest: Option<i64>,
    bytes: usize,
    max_bytes: usize,
    /// Events dropped because the state passed its share of
    /// [`MAX_CHECKPOINT_BYTES`].
    pub evicted: u64,
}

#[derive(Serialize)]
struct SavedOut<'a> {
    seq: u64,
    index: Option<&'a str>,
    event: &'a RawValue,
}

#[derive(Deserialize)]
struct SavedIn<'a> {
    seq: u64,
    #[serde(borrow)]
    index: Option<&'a str>,
    #[serde(borrow)]
    event: &'a RawValue,
}

impl ReplayState {
    /// A state whose snapshot stays under `max_bytes`.
    pub fn new(matcher: Box<dyn SequenceMatcher>, max_bytes: usize) -> ReplayState {
        ReplayState {
            matcher,
            log: VecDeque::new(),
            newest: None,
            bytes: 0,
            max_bytes,
            evicted: 0,
        }
    }

    /// Feeds one event and keeps it for as long as the matcher needs it.
    pub fn on_event(&mut self, event: &Arc<Event>, emit: &mut dyn FnMut(SequenceHit)) {
        self.matcher.on_event(event, emit);
        let ts = event.first("@timestamp").and_then(time::parse_nanos);
        if ts > self.newest {
            self.newest = ts;
        }
        self.bytes += event.source().len() + SAVED_OVERHEAD;
        self.log.push_back((event.clone(), ts));
        self.prune();
    }

    fn prune(&mut self) {
        let horizon = self.matcher.horizon();
        while let Some((front, ts)) = self.log.front() {
            let unneeded = match horizon {
                Horizon::Nothing => true,
                Horizon::Seq(s) => front.seq < s,
                Horizon::Span(span) => match (ts, self.newest) {
                    (Some(t), Some(n)) => *t < n.saturating_sub(span),
                    _ => false,
                },
                Horizon::Unknown => false,
            };
            let over = self.bytes > self.max_bytes;
            if !unneeded && !over {
                break;
            }
            if over && !unneeded {
                self.evicted += 1;
            }
            self.bytes = self
                .bytes
                .saturating_sub(front.source().len() + SAVED_OVERHEAD);
            self.log.pop_front();
        }
    }

    pub fn pending(&self) -> Option<usize> {
        self.matcher.pending()
    }

    /// Events not matched or not kept: (late, evicted by the matcher or
    /// from the replay log).
    pub fn dropped(&self) -> (u64, u64) {
        let (late, evicted) = self.matcher.dropped();
        (late, evicted + self.evicted)
    }

    /// Events kept (for tests and logs).
    pub fn kept(&self) -> usize {
        self.log.len()
    }

    /// The kept events as one JSON array (each event's text kept as it
    /// was, not re-encoded).
    pub fn snapshot(&self) -> String {
        let mut out = String::with_capacity(self.bytes + 2);
        out.push('[');
        for (e, _) in &self.log {
            // The source was parsed as JSON when the event was read.
            let Ok(raw) = serde_json::from_str::<&RawValue>(e.source()) else {
                continue;
            };
            let saved = SavedOut {
                seq: e.seq,
                index: e.index.as_deref(),
                event: raw,
            };
            if let Ok(item) = serde_json::to_string(&saved) {
                if out.len() > 1 {
                    out.push(',');
                }
                out.push_str(&item);
            }
        }
        out.push(']');
        out
    }

    /// Rebuilds the state from a snapshot: every kept event replayed into
    /// the (fresh) matcher, its reports discarded.
    pub fn restore(
        &mut self,
        snapshot: &str,
        decoder: &Decoder,
        origin: &Origin,
    ) -> Result<(), String> {
        let saved: Vec<SavedIn<'_>> = serde_json::from_str(snapshot).map_err(|e| e.to_string())?;
        for (n, item) in saved.iter().enumerate() {
            let event = decoder.event_text(item.event.get(), item.index, origin.clone());
            let mut event = event.map_err(|e| format!("event {}: {e}", n + 1))?;
            event.seq = item.seq;
            let event = Arc::new(event);
            self.on_event(&event, &mut |_| {});
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A small deterministic matcher for the mechanism's own tests: two
    //! stages (`event.action` "a" then "b") joined by `user.name`, the
    //! most recent "a" of a user waiting.

    use super::*;
    use rustc_hash::FxHashMap;

    #[derive(Default)]
    pub struct TwoStep {
        waiting: FxHashMap<String, Arc<Event>>,
    }

    impl SequenceMatcher for TwoStep {
        fn on_event(&mut self, event: &Arc<Event>, emit: &mut dyn FnMut(SequenceHit)) {
            let (Some(action), Some(user)) = (
                event.first_str("event.action"),
                event.first_str("user.name"),
            ) else {
                return;
            };
            match action {
                "a" => {
                    self.waiting.insert(user.to_owned(), event.clone());
                }
                "b" => {
                    if let Some(first) = self.waiting.remove(user) {
                        emit(SequenceHit {
                            events: vec![first, event.clone()],
                        });
                    }
                }
                _ => {}
            }
        }

        fn horizon(&self) -> Horizon {
            self.waiting
                .values()
                .map(|e| e.seq)
                .min()
                .map_or(Horizon::Nothing, Horizon::Seq)
        }

        fn pending(&self) -> Option<usize> {
            Some(self.waiting.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::TwoStep;
    use super::*;

    fn ev(d: &Decoder, seq: u64, action: &str, user: &str) -> Arc<Event> {
        let text =
            format!("{{\"event\":{{\"action\":\"{action}\"}},\"user\":{{\"name\":\"{user}\"}}}}");
        let mut e = match d.event(Some(text.as_bytes()), Origin::default()) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        e.seq = seq;
        Arc::new(e)
    }

    #[test]
    fn a_restored_state_completes_the_sequence_the_old_one_was_waiting_for() {
        let d = Decoder::default();
        let mut s = ReplayState::new(Box::new(TwoStep::default()), MAX_CHECKPOINT_BYTES);
        let mut hits = Vec::new();
        for (seq, action, user) in [
            (0, "a", "u1"),
            (1, "x", "u1"),
            (2, "a", "u2"),
            (3, "b", "u2"),
        ] {
            s.on_event(&ev(&d, seq, action, user), &mut |h| hits.push(h));
        }
        assert_eq!(hits.len(), 1);
        assert_eq!(s.pending(), Some(1));
        // u1's "a" still waits, so it and everything after it is kept:
        // replaying from there rebuilds the state exactly.
        assert_eq!(s.kept(), 4);
        let snap = s.snapshot();

        let mut moved = ReplayState::new(Box::new(TwoStep::default()), MAX_CHECKPOINT_BYTES);
        let restored = moved.restore(&snap, &d, &Origin::default());
        assert_eq!(restored, Ok(()));
        assert_eq!(moved.pending(), Some(1));
        let mut late = Vec::new();
        moved.on_event(&ev(&d, 9, "b", "u1"), &mut |h| late.push(h));
        let seqs: Vec<Vec<u64>> = late
            .iter()
            .map(|h| h.events.iter().map(|e| e.seq).collect())
            .collect();
        assert_eq!(seqs, vec![vec![0, 9]]);
        assert_eq!(moved.kept(), 0);
    }

    #[test]
    fn a_corrupt_snapshot_is_an_error() {
        let d = Decoder::default();
        let mut s = ReplayState::new(Box::new(TwoStep::default()), MAX_CHECKPOINT_BYTES);
        let r = s.restore(
            "[{\"seq\":1,\"index\":null,\"event\":{}}, nope]",
            &d,
            &Origin::default(),
        );
        assert!(
            matches!(&r, Err(m) if m == "expected ident at line 1 column 38"),
            "{r:?}"
        );
        let r = s.restore(
            "[{\"seq\":1,\"index\":null,\"event\":[1]}]",
            &d,
            &Origin::default(),
        );
        assert_eq!(
            r,
            Err("event 1: payload is JSON but not an object".to_owned())
        );
    }

    #[test]
    fn the_kept_events_stay_within_their_share_of_a_checkpoint() {
        let d = Decoder::default();
        let mut s = ReplayState::new(Box::new(TwoStep::default()), 4096);
        // One user's "a" waits for ever; everything after it is kept until
        // the share is full, then the oldest go.
        for seq in 0..200 {
            s.on_event(
                &ev(&d, seq, if seq == 0 { "a" } else { "x" }, "u1"),
                &mut |_| {},
            );
        }
        assert!(s.evicted > 0);
        assert!(s.snapshot().len() <= 4096, "{}", s.snapshot().len());
    }
}
