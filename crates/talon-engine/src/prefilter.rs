//! The literal prefilter: never evaluate a rule that cannot match.
//!
//! Each rule's query implies text one of which every event it matches
//! holds in its JSON ([`talon_eql::CompiledQuery::needles`]). All rules'
//! needles go into one ASCII case-insensitive Aho-Corasick automaton
//! (exact needles are checked byte for byte where it finds them), each
//! needle pointing back at the rules that need it. Two uses:
//!
//! - per event ([`Prefilter::candidates`]): one pass over the event's
//!   source text gives the rules whose needles it holds; the others are
//!   not evaluated. Only for events whose fields all come from their
//!   source text ([`Event::fields_from_source`]);
//! - per line, before parsing ([`Prefilter::line_filter`]): when every
//!   loaded rule has needles, an NDJSON line holding none of them cannot
//!   match anything and is not parsed at all; the reader counts it.
//!
//! JSON may write any character of a string as a `\uXXXX` escape (and `/`
//! as `\/`), which hides a needle from a byte search; a line or event
//! holding such an escape is therefore always a candidate for every rule.

use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use talon_eql::plan::needles::Needle;
use talon_event::read::{line_around, LineFilter};
use talon_event::Event;

use crate::compile::CompiledRule;

/// Which rules a needle serves: event rules first, then sequence rules.
type RuleSet = Vec<u32>;

/// The needles of every loaded rule, searchable at once.
#[derive(Debug)]
pub struct Prefilter {
    /// Every needle in one pass: which needles a text holds (and, for the
    /// line filter, where the first one is).
    holds: Option<Holds>,
    /// When every needle is exact and they are few: the SIMD (Teddy)
    /// searcher, faster than the automaton at finding the first.
    packed: Option<aho_corasick::packed::Searcher>,
    /// Per rule slot (event rules, then sequence rules): whether it has
    /// needles (rules without are candidates for every event).
    filtered: Vec<bool>,
    event_rules: usize,
}

/// All needles, exact ones included, in one ASCII case-insensitive
/// overlapping automaton (one pass over the text rather than two); a hit
/// on a pattern counts for its exact needles only where the text's bytes
/// are theirs.
#[derive(Debug)]
struct Holds {
    ac: AhoCorasick,
    patterns: Vec<HeldPattern>,
}

#[derive(Debug, Default)]
struct HeldPattern {
    /// Rules served by the case-insensitive needle with this text.
    folded: RuleSet,
    /// Exact needles folding to this text, with the rules each serves.
    exact: Vec<(Box<[u8]>, RuleSet)>,
}

impl Holds {
    fn build(exact: &[(String, RuleSet)], folded: &[(String, RuleSet)]) -> Option<Holds> {
        let mut patterns: Vec<HeldPattern> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut index = rustc_hash::FxHashMap::default();
        let mut at = |key: String| -> usize {
            *index.entry(key.clone()).or_insert_with(|| {
                texts.push(key);
                patterns.push(HeldPattern::default());
                patterns.len() - 1
            })
        };
        let mut slots = Vec::new();
        for (text, rules) in folded {
            slots.push((at(text.to_ascii_lowercase()), None, rules));
        }
        for (text, rules) in exact {
            slots.push((at(text.to_ascii_lowercase()), Some(text), rules));
        }
        for (i, text, rules) in slots {
            match text {
                None => patterns[i].folded.extend(rules),
                Some(t) => patterns[i].exact.push((t.as_bytes().into(), rules.clone())),
            }
        }
        let build = |dfa: bool| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(dfa.then_some(aho_corasick::AhoCorasickKind::DFA))
                .build(&texts)
        };
        // The pass runs over every candidate event: a DFA is several
        // times faster than the default NFA there.
        match build(true).or_else(|_| build(false)) {
            Ok(ac) => {
                tracing::debug!("prefilter: {} needles in a {:?}", texts.len(), ac.kind());
                Some(Holds { ac, patterns })
            }
            Err(e) => {
                tracing::warn!("prefilter: cannot build the needle search: {e}");
                None
            }
        }
    }

    /// Marks in `hit` every rule slot one of whose needles `text` holds.
    /// `done` is scratch space: a pattern's rules are marked once per
    /// text, however often it occurs (`"process"` does, in every event).
    fn mark(&self, text: &[u8], hit: &mut [bool], done: &mut Vec<bool>) {
        done.clear();
        done.resize(self.patterns.len(), false);
        for m in self.ac.find_overlapping_iter(text) {
            let id = m.pattern().as_usize();
            let p = &self.patterns[id];
            if p.exact.is_empty() && std::mem::replace(&mut done[id], true) {
                continue;
            }
            for &slot in &p.folded {
                hit[slot as usize] = true;
            }
            for (needle, rules) in &p.exact {
                if text[m.range()] == **needle {
                    for &slot in rules {
                        hit[slot as usize] = true;
                    }
                }
            }
        }
    }
}

/// Rule candidates for one event, reused from event to event.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Per rule slot; meaningful only when `all` is false.
    hit: Vec<bool>,
    /// Every rule is a candidate (no prefilter, or an escape in the text).
    all: bool,
    /// Per needle pattern: its rules are marked already.
    done: Vec<bool>,
}

impl Candidates {
    /// Whether event rule `i` may match.
    pub fn event_rule(&self, i: usize) -> bool {
        self.all || self.hit.get(i).copied().unwrap_or(true)
    }

    /// Whether the sequence rule at slot `i` (event rules count first) may
    /// see the event.
    fn slot(&self, slot: usize) -> bool {
        self.all || self.hit.get(slot).copied().unwrap_or(true)
    }
}

impl Prefilter {
    /// The needles of the event rules and sequence rules; `None` when no
    /// rule has any (the prefilter could skip nothing).
    pub fn new(event_rules: &[CompiledRule], sequence_rules: &[CompiledRule]) -> Option<Prefilter> {
        let mut exact: Vec<(String, RuleSet)> = Vec::new();
        let mut folded: Vec<(String, RuleSet)> = Vec::new();
        let mut index_exact = rustc_hash::FxHashMap::default();
        let mut index_folded = rustc_hash::FxHashMap::default();
        let mut filtered = Vec::new();
        for (slot, r) in event_rules.iter().chain(sequence_rules).enumerate() {
            let needles: Option<Vec<Needle>> = r.query.needles();
            if needles.is_none() {
                tracing::debug!(
                    "prefilter: `{}` ({:?}) needs no literal: it is evaluated on every event routed to it",
                    r.rule.name,
                    r.query.kind()
                );
            }
            if let Some(n) = &needles {
                tracing::trace!(
                    "prefilter: `{}` needs one of {:?}",
                    r.rule.name,
                    n.iter().map(|n| &n.text).collect::<Vec<_>>()
                );
            }
            filtered.push(needles.is_some());
            for n in needles.into_iter().flatten() {
                let (list, index) = if n.ci {
                    (&mut folded, &mut index_folded)
                } else {
                    (&mut exact, &mut index_exact)
                };
                let key = if n.ci {
                    n.text.to_ascii_lowercase()
                } else {
                    n.text
                };
                let at = *index.entry(key.clone()).or_insert_with(|| {
                    list.push((key, Vec::new()));
                    list.len() - 1
                });
                let rules = &mut list[at].1;
                if rules.last() != Some(&(slot as u32)) {
                    rules.push(slot as u32);
                }
            }
        }
        if !filtered.iter().any(|f| *f) {
            return None;
        }
        Some(Prefilter {
            holds: Holds::build(&exact, &folded),
            packed: if folded.is_empty() {
                aho_corasick::packed::Config::new()
                    .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                    .builder()
                    .extend(exact.iter().map(|(t, _)| t))
                    .build()
            } else {
                None
            },
            filtered,
            event_rules: event_rules.len(),
        })
    }

    /// How many rules (event and sequence) have needles, of how many.
    pub fn coverage(&self) -> (usize, usize) {
        (
            self.filtered.iter().filter(|f| **f).count(),
            self.filtered.len(),
        )
    }

    /// A line filter for the reader, when every rule has needles (else
    /// every line may matter to some rule, and all must be parsed).
    pub fn line_filter(self: &Arc<Self>) -> Option<Arc<dyn LineFilter>> {
        if self.filtered.iter().all(|f| *f) {
            Some(Arc::new(NeedleLines(Arc::clone(self))))
        } else {
            None
        }
    }

    /// Whether looking for the needles costs little next to parsing a
    /// line: all of them exact and few enough for the SIMD searcher. With
    /// hundreds of needles, the automaton's pass over every byte costs
    /// about as much as the scanner's, and common needles let most lines
    /// through anyway.
    pub fn is_cheap(&self) -> bool {
        self.packed.is_some()
    }

    /// Fills `out` with the rules that may match `event`.
    pub fn candidates(&self, event: &Event, out: &mut Candidates) {
        let text = event.source().as_bytes();
        if !event.fields_from_source() || next_escape(text, 0).is_some() {
            out.all = true;
            return;
        }
        out.all = false;
        out.hit.clear();
        out.hit.extend(self.filtered.iter().map(|f| !*f));
        match &self.holds {
            Some(h) => h.mark(text, &mut out.hit, &mut out.done),
            None => out.all = true,
        }
    }

    /// Whether sequence rule `i` may see the event `out` was computed for.
    pub fn sequence_candidate(&self, out: &Candidates, i: usize) -> bool {
        out.slot(self.event_rules + i)
    }

    /// Where a needle (perhaps an exact one in another case: the line is
    /// then parsed for nothing, which is harmless) is first found at or
    /// after `from`.
    fn first_needle(&self, text: &[u8], from: usize) -> Option<usize> {
        let span = aho_corasick::Span::from(from..text.len());
        if let Some(p) = &self.packed {
            return p.find_in(text, span).map(|m| m.start());
        }
        let h = self.holds.as_ref()?;
        h.ac.find(aho_corasick::Input::new(text).span(span))
            .map(|m| m.start())
    }

    /// The first byte at or after `from` that makes its line a candidate:
    /// a needle, or an escape that could hide one.
    fn next_hit(
        &self,
        text: &[u8],
        from: usize,
        cache: &mut [Option<Option<usize>>; 2],
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (k, slot) in cache.iter_mut().enumerate() {
            let stale = match slot {
                None => true,
                Some(Some(at)) => *at < from,
                Some(None) => false,
            };
            if stale {
                *slot = Some(if k == 0 {
                    self.first_needle(text, from)
                } else {
                    next_escape(text, from)
                });
            }
            if let Some(Some(at)) = slot {
                best = Some(best.map_or(*at, |b| b.min(*at)));
            }
        }
        best
    }
}

/// The reader's view of a prefilter whose rules all have needles.
#[derive(Debug)]
struct NeedleLines(Arc<Prefilter>);

impl LineFilter for NeedleLines {
    fn candidate_lines(&self, text: &[u8], out: &mut Vec<Range<usize>>) {
        let mut cache = [None; 2];
        let mut from = 0;
        while from < text.len() {
            let Some(hit) = self.0.next_hit(text, from, &mut cache) else {
                break;
            };
            let line = line_around(text, hit);
            from = line.end + 1;
            out.push(line);
        }
    }
}

/// The position of the next JSON escape at or after `from` that can stand
/// for a needle's character: `\u` or `\/` after an even run of
/// backslashes (`\\u` is an escaped backslash, then a plain `u`).
fn next_escape(text: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = memchr::memchr(b'\\', &text[at..]) {
        let start = at + i;
        let mut end = start;
        while end < text.len() && text[end] == b'\\' {
            end += 1;
        }
        let run = end - start;
        if run % 2 == 1 && matches!(text.get(end), Some(b'u' | b'/')) {
            return Some(end - 1);
        }
        at = end;
        if at >= text.len() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_needles_count_only_in_their_own_case_in_the_shared_pass() {
        let exact = [("Foo".to_string(), vec![0]), ("bar".to_string(), vec![2])];
        let folded = [("fOO".to_string(), vec![1])];
        let holds = Holds::build(&exact, &folded).unwrap();
        let marked = |text: &str| {
            let mut hit = vec![false; 3];
            holds.mark(text.as_bytes(), &mut hit, &mut Vec::new());
            hit
        };
        assert_eq!(marked("x Foo y"), [true, true, false]);
        assert_eq!(marked("x FOO y"), [false, true, false]);
        assert_eq!(marked("x foo BAR"), [false, true, false]);
        assert_eq!(marked("barFoo"), [true, true, true]);
        assert_eq!(marked("nothing"), [false, false, false]);
    }

    #[test]
    fn escapes_are_found_only_where_they_escape() {
        assert_eq!(next_escape(br#"{"a":"x\u0041"}"#, 0), Some(7));
        assert_eq!(next_escape(br#"{"a":"C:\\users"}"#, 0), None);
        assert_eq!(next_escape(br#"{"a":"C:\\\users"}"#, 0), Some(10));
        assert_eq!(next_escape(br#"{"a":"\/bin\/sh"}"#, 0), Some(6));
        assert_eq!(next_escape(br#"{"a":"\n\t\""}"#, 0), None);
        assert_eq!(next_escape(b"\\", 0), None);
    }
}
