//! The patterns of one wildcard leaf (`process.command_line : ("*-enc*",
//! "*downloadstring*", …)`), tested on a value together.
//!
//! Tried one by one, every unanchored pattern reads the whole value, and
//! the prebuilt rules hold lists of dozens of them on command lines. So
//! when a leaf has [`MIN_SCANNING`] or more such patterns, one
//! Aho-Corasick pass over the value looks for a piece of text each of them
//! needs (its longest literal piece; for a case-insensitive pattern, the
//! longest ASCII run of one, searched ignoring ASCII case, as an ASCII
//! pattern letter matches only its two ASCII cases). Only the patterns
//! whose piece is found are tried in full; patterns anchored at an end
//! (`x*`, `*x`, exact) cost a comparison of their own length and are
//! always tried directly. The automaton is built on first use, as most
//! leaves of a large rule set are never evaluated.
//!
//! The pass only decides which patterns to try, never the answer, so the
//! answer is the one-by-one answer ([`Patterns::matches_one_by_one`]); a
//! differential test pins the two together.

use std::ops::Deref;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::text::longest_ascii_run;
use super::wildcard::{CaseMode, Part, Wildcard};

/// Fewest patterns that read the whole value for the shared pass to be
/// worth an automaton.
const MIN_SCANNING: usize = 3;

/// The patterns of one leaf, in the order written.
#[derive(Clone, Debug, Default)]
pub struct Patterns {
    list: Vec<Wildcard>,
    filter: OnceLock<Option<Filter>>,
}

/// The shared pass: an automaton over the pieces, and which patterns it
/// leaves to try directly.
#[derive(Clone, Debug)]
struct Filter {
    ac: AhoCorasick,
    /// Per automaton pattern: the patterns (by index) that need that piece.
    uses: Vec<Vec<u32>>,
    /// Patterns tried on every value: anchored ones, and those without a
    /// piece to look for.
    direct: Vec<u32>,
}

impl Patterns {
    pub fn new(list: Vec<Wildcard>) -> Patterns {
        Patterns {
            list,
            filter: OnceLock::new(),
        }
    }

    /// Adds patterns (a merged `or` of several leaves on one field).
    pub fn extend(&mut self, more: impl IntoIterator<Item = Wildcard>) {
        self.list.extend(more);
        self.filter = OnceLock::new();
    }

    /// Whether any pattern matches `value`.
    pub fn matches(&self, value: &str) -> bool {
        match self.filter.get_or_init(|| Filter::build(&self.list)) {
            Some(f) => self.matches_filtered(f, value),
            None => self.matches_one_by_one(value),
        }
    }

    /// Every pattern in turn: the answer [`Patterns::matches`] must give.
    pub fn matches_one_by_one(&self, value: &str) -> bool {
        self.list.iter().any(|p| p.matches(value))
    }

    fn matches_filtered(&self, f: &Filter, value: &str) -> bool {
        let tried = |i: &u32| self.list.get(*i as usize).is_some_and(|p| p.matches(value));
        if f.direct.iter().any(tried) {
            return true;
        }
        // A pattern is tried once, however often its piece occurs.
        let mut done = Tried::default();
        for m in f.ac.find_overlapping_iter(value) {
            for i in &f.uses[m.pattern().as_usize()] {
                if done.first(*i) && tried(i) {
                    return true;
                }
            }
        }
        false
    }
}

impl Deref for Patterns {
    type Target = [Wildcard];

    fn deref(&self) -> &[Wildcard] {
        &self.list
    }
}

/// The text a pattern that reads the whole value needs, folded to lower
/// case when searched ignoring case; `None` for an anchored pattern (cheap
/// to try directly) or one without such text.
fn piece(p: &Wildcard) -> Option<String> {
    let parts = p.parts();
    let anchored = matches!(
        (parts.first(), parts.last()),
        (Some(Part::Text(_)), _) | (_, Some(Part::Text(_))) | (None, _)
    );
    if anchored {
        return None;
    }
    let ci = p.case() != CaseMode::Sensitive;
    parts
        .iter()
        .filter_map(|part| match part {
            Part::Text(t) if ci => Some(longest_ascii_run(t).to_ascii_lowercase()),
            Part::Text(t) => Some(t.clone()),
            _ => None,
        })
        .filter(|t| !t.is_empty())
        .max_by_key(String::len)
}

impl Filter {
    /// `None` when too few patterns read the whole value, or the automaton
    /// cannot be built (then every pattern is tried in turn).
    fn build(list: &[Wildcard]) -> Option<Filter> {
        let mut pieces: Vec<String> = Vec::new();
        let mut uses: Vec<Vec<u32>> = Vec::new();
        let mut direct = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let i = i as u32;
            match piece(p) {
                None => direct.push(i),
                Some(text) => match pieces.iter().position(|t| *t == text) {
                    Some(k) => uses[k].push(i),
                    None => {
                        pieces.push(text);
                        uses.push(vec![i]);
                    }
                },
            }
        }
        let scanning: usize = uses.iter().map(Vec::len).sum();
        if scanning < MIN_SCANNING {
            return None;
        }
        // Folded pieces are lower case; a case-sensitive piece found in
        // another case is a pattern tried for nothing, never a miss. A
        // contiguous NFA: a DFA searches values of a few dozen bytes no
        // faster and costs many times more to build.
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .prefilter(false)
            .build(&pieces)
            .ok()?;
        Some(Filter { ac, uses, direct })
    }
}

/// Which patterns a pass has tried: a bit per pattern for the first 128
/// (no allocation for any list the prebuilt rules hold), a list beyond.
#[derive(Default)]
struct Tried {
    bits: u128,
    more: Vec<u32>,
}

impl Tried {
    /// Records `i`; whether it was not recorded before.
    fn first(&mut self, i: u32) -> bool {
        if i < 128 {
            let bit = 1u128 << i;
            let new = self.bits & bit == 0;
            self.bits |= bit;
            new
        } else if self.more.contains(&i) {
            false
        } else {
            self.more.push(i);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pats: &[&str], case: CaseMode) -> Patterns {
        Patterns::new(pats.iter().map(|p| Wildcard::new(p, case)).collect())
    }

    #[test]
    fn pieces_are_the_longest_literal_text_of_unanchored_patterns() {
        let ci = |p: &str| piece(&Wildcard::new(p, CaseMode::Insensitive));
        let cs = |p: &str| piece(&Wildcard::new(p, CaseMode::Sensitive));
        assert_eq!(ci("*-EncodedCommand*"), Some("-encodedcommand".into()));
        assert_eq!(cs("*IEX*(New-Object*"), Some("(New-Object".into()));
        assert_eq!(ci("*ab?cdef*"), Some("cdef".into()));
        // The longest ASCII run of a case-insensitive piece.
        assert_eq!(ci("*déjà vu*"), Some(" vu".into()));
        assert_eq!(cs("*déjà vu*"), Some("déjà vu".into()));
        // Anchored, or nothing to look for: tried directly.
        assert_eq!(ci("powershell*"), None);
        assert_eq!(ci("*\\cmd.exe"), None);
        assert_eq!(ci("a*b"), None);
        assert_eq!(ci("*"), None);
        assert_eq!(ci("*?*"), None);
        assert_eq!(ci("*é*"), None);
    }

    #[test]
    fn the_shared_pass_is_built_only_for_enough_scanning_patterns() {
        let few = set(&["*a*", "*b*", "c*", "*d"], CaseMode::Insensitive);
        assert!(few.matches("xbx"));
        assert!(few.filter.get().is_some_and(Option::is_none));
        let many = set(&["*a1*", "*b2*", "*c3*", "d*"], CaseMode::Insensitive);
        assert!(many.matches("xB2x"));
        assert!(many.matches("d"));
        assert!(!many.matches("a2b3c1"));
        assert!(many.filter.get().is_some_and(Option::is_some));
    }

    #[test]
    fn a_piece_shared_by_patterns_tries_each_of_them() {
        let p = set(
            &["*enc*x*", "*enc*y*", "*enc*z*", "*other*"],
            CaseMode::Sensitive,
        );
        assert!(p.matches("encz"));
        assert!(!p.matches("ENCz"));
        assert!(!p.matches("enc"));
        assert!(p.matches("the other"));
    }

    /// Random lists of patterns over a small alphabet (cases, `?`, `*`,
    /// non-ASCII letters whose folding is not ASCII's) against random
    /// values: the shared pass and the one-by-one answer agree.
    #[test]
    fn the_shared_pass_agrees_with_trying_every_pattern() {
        let alphabet = [
            "a", "B", "b", "é", "É", "k", "\u{212A}", "-", "\\", "?", "*", "*",
        ];
        let text = [
            "a", "A", "b", "B", "é", "É", "k", "K", "\u{212A}", "-", "\\", "x",
        ];
        let mut rng = talon_bench::rng::Rng::new(0x5eed_1234_abcd_0042);
        let mut filtered = 0;
        for round in 0..3000 {
            let case = [CaseMode::Sensitive, CaseMode::Insensitive][round % 2];
            let n = 1 + rng.below(12) as usize;
            let pats: Vec<String> = (0..n)
                .map(|_| {
                    let len = rng.below(6) as usize;
                    let body: String = (0..len).map(|_| rng.pick(&alphabet)).collect();
                    match rng.below(4) {
                        0 | 1 => format!("*{body}*"),
                        2 => body,
                        _ => format!("*{body}"),
                    }
                })
                .collect();
            let refs: Vec<&str> = pats.iter().map(String::as_str).collect();
            let p = set(&refs, case);
            for _ in 0..20 {
                let len = rng.below(12) as usize;
                let v: String = (0..len).map(|_| rng.pick(&text)).collect();
                assert_eq!(
                    p.matches(&v),
                    p.matches_one_by_one(&v),
                    "{case:?} {pats:?} on {v:?}"
                );
            }
            if p.filter.get().is_some_and(Option::is_some) {
                filtered += 1;
            }
        }
        assert!(
            filtered > 1000,
            "only {filtered} lists used the shared pass"
        );
    }
}
