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
    /// The searchers' pattern id of the first escape (see [`ESCAPES`]).
    first_escape: usize,
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
                .extend(ESCAPES)
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
                    .build(texts.iter().map(String::as_str).chain(ESCAPES))
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
        let first_escape = match &packed {
            Some(_) => exact.len(),
            None => texts.len(),
        };
        Some(Prefilter {
            ac,
            packed,
            first_escape,
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

    /// The first byte at or after `from` that makes its line a candidate:
    /// a needle (perhaps an exact one in another case: the line is then
    /// parsed for nothing, which is harmless), or an escape that could
    /// hide one. Both are looked for in one pass: the searchers hold the
    /// two escapes (`\\u`, `\\/`) after the needles.
    fn next_hit(&self, text: &[u8], mut from: usize) -> Option<usize> {
        loop {
            let span = aho_corasick::Span::from(from..text.len());
            let (start, pattern) = match (&self.packed, &self.ac) {
                (Some(p), _) => p.find_in(text, span).map(|m| (m.start(), m.pattern()))?,
                (None, Some(ac)) => ac
                    .find(aho_corasick::Input::new(text).span(span))
                    .map(|m| (m.start(), m.pattern()))?,
                (None, None) => return None,
            };
            if pattern.as_usize() < self.first_escape || escapes_at(text, start) {
                return Some(start);
            }
            from = start + 1;
        }
    }
}

/// The reader's view of a prefilter whose rules all have needles.
#[derive(Debug)]
struct NeedleLines(Arc<Prefilter>);

impl LineFilter for NeedleLines {
    fn next_candidate(&self, text: &[u8], from: usize) -> Option<Range<usize>> {
        let hit = self.0.next_hit(text, from)?;
        Some(line_around(text, hit))
    }
}

/// Where the JSON escapes that can stand for a needle's character are
/// looked for, after the needles.
const ESCAPES: [&str; 2] = ["\\u", "\\/"];

/// Whether the backslash at `at` starts an escape (`\\u`, `\\/`): it is
/// the last of an odd run of backslashes (`\\\\u` is an escaped
/// backslash, then a plain `u`).
fn escapes_at(text: &[u8], at: usize) -> bool {
    let run = text[..=at]
        .iter()
        .rev()
        .take_while(|b| **b == b'\\')
        .count();
    run % 2 == 1 && matches!(text.get(at + 1), Some(b'u' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_found_only_where_they_escape() {
        let found = |t: &str| {
            (0..t.len())
                .filter(|&i| t.as_bytes()[i] == b'\\' && escapes_at(t.as_bytes(), i))
                .collect::<Vec<_>>()
        };
        assert_eq!(found(r#"{"a":"x\u0041"}"#), [7]);
        assert_eq!(found(r#"{"a":"C:\\users"}"#), Vec::<usize>::new());
        assert_eq!(found(r#"{"a":"C:\\\users"}"#), [10]);
        assert_eq!(found(r#"{"a":"\/bin\/sh"}"#), [6, 11]);
        assert_eq!(found(r#"{"a":"\n\t\""}"#), Vec::<usize>::new());
    }
}
