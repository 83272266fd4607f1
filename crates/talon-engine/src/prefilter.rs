//! The line filter: never parse a line no rule can match.
//!
//! Each rule's query implies text one of which every event it matches
//! holds in its JSON ([`talon_eql::CompiledQuery::needles`]). When every
//! loaded rule has needles, an NDJSON line holding none of them cannot
//! match anything and is not parsed at all; the reader counts it. Whether
//! an event's *fields* can satisfy a rule is the witness index's job
//! ([`crate::witness`]); this is the cheaper, coarser look at raw bytes.
//!
//! The filter is only worth it when looking costs little next to parsing
//! ([`Prefilter::new`] gives `None` otherwise): all needles exact and few
//! enough for the SIMD (Teddy) searcher, or few enough (case-insensitive
//! ones too) for a small automaton.
//!
//! JSON may write any character of a string as a `\uXXXX` escape (and `/`
//! as `\/`), which hides a needle from a byte search; a line holding such
//! an escape is therefore always a candidate.

use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use talon_eql::plan::needles::Needle;
use talon_event::read::{line_around, LineFilter};

use crate::compile::CompiledRule;

/// Most needles a line filter looks for with the automaton.
const CHEAP_NEEDLES: usize = 64;

/// The needles of every loaded rule, searchable at once.
#[derive(Debug)]
pub struct Prefilter {
    /// A few needles, ASCII case-insensitive, in one small automaton (an
    /// exact needle met in another case costs a parse for nothing, no
    /// more); built only when there is no `packed` searcher.
    ac: Option<AhoCorasick>,
    /// When every needle is exact and they are few: the SIMD (Teddy)
    /// searcher.
    packed: Option<aho_corasick::packed::Searcher>,
    /// Per rule (event rules, then sequence rules): whether it has needles
    /// (a rule without makes every line a candidate).
    filtered: Vec<bool>,
    /// Distinct needles, as the automaton would hold them.
    needles: usize,
}

impl Prefilter {
    /// The needles of the event rules and sequence rules; `None` when no
    /// rule has any (the prefilter could skip nothing).
    pub fn new(event_rules: &[CompiledRule], sequence_rules: &[CompiledRule]) -> Option<Prefilter> {
        let mut exact: Vec<String> = Vec::new();
        let mut folded: Vec<String> = Vec::new();
        let mut filtered = Vec::new();
        for r in event_rules.iter().chain(sequence_rules) {
            let needles: Option<Vec<Needle>> = r.query.needles();
            match &needles {
                None => tracing::debug!(
                    "prefilter: `{}` ({:?}) needs no literal: every line may matter to it",
                    r.rule.name,
                    r.query.kind()
                ),
                Some(n) => tracing::trace!(
                    "prefilter: `{}` needs one of {:?}",
                    r.rule.name,
                    n.iter().map(|n| &n.text).collect::<Vec<_>>()
                ),
            }
            filtered.push(needles.is_some());
            for n in needles.into_iter().flatten() {
                if n.ci {
                    folded.push(n.text.to_ascii_lowercase());
                } else {
                    exact.push(n.text);
                }
            }
        }
        if !filtered.iter().any(|f| *f) {
            return None;
        }
        exact.sort();
        exact.dedup();
        folded.sort();
        folded.dedup();
        let mut texts: Vec<String> = exact
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .chain(folded.iter().cloned())
            .collect();
        texts.sort();
        texts.dedup();
        let packed = if folded.is_empty() {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(&exact)
                .build()
        } else {
            None
        };
        let ac = (packed.is_none() && texts.len() <= CHEAP_NEEDLES)
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostFirst)
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&texts)
                    .map_err(|e| tracing::warn!("prefilter: cannot build the needle search: {e}"))
                    .ok()
            })
            .flatten();
        tracing::debug!(
            "prefilter: {} needles ({})",
            texts.len(),
            match (&packed, &ac) {
                (Some(_), _) => "SIMD searcher",
                (None, Some(_)) => "automaton",
                (None, None) => "too many to look for more cheaply than parsing",
            }
        );
        Some(Prefilter {
            ac,
            packed,
            filtered,
            needles: texts.len(),
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
    /// every line may matter to some rule, and all must be parsed) and
    /// they can be looked for cheaply (see the module notes).
    pub fn line_filter(self: &Arc<Self>) -> Option<Arc<dyn LineFilter>> {
        let cheap = self.packed.is_some() || self.ac.is_some();
        (cheap && self.filtered.iter().all(|f| *f))
            .then(|| Arc::new(NeedleLines(Arc::clone(self))) as Arc<dyn LineFilter>)
    }

    /// Distinct needles of all the rules.
    pub fn needle_count(&self) -> usize {
        self.needles
    }

    /// Where a needle (perhaps an exact one in another case: the line is
    /// then parsed for nothing, which is harmless) is first found at or
    /// after `from`.
    fn first_needle(&self, text: &[u8], from: usize) -> Option<usize> {
        let span = aho_corasick::Span::from(from..text.len());
        if let Some(p) = &self.packed {
            return p.find_in(text, span).map(|m| m.start());
        }
        let ac = self.ac.as_ref()?;
        ac.find(aho_corasick::Input::new(text).span(span))
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
    fn escapes_are_found_only_where_they_escape() {
        assert_eq!(next_escape(br#"{"a":"x\u0041"}"#, 0), Some(7));
        assert_eq!(next_escape(br#"{"a":"C:\\users"}"#, 0), None);
        assert_eq!(next_escape(br#"{"a":"C:\\\users"}"#, 0), Some(10));
        assert_eq!(next_escape(br#"{"a":"\/bin\/sh"}"#, 0), Some(6));
        assert_eq!(next_escape(br#"{"a":"\n\t\""}"#, 0), None);
        assert_eq!(next_escape(b"\\", 0), None);
    }
}
