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
//! an escape is therefore always a candidate. The searchers look for as
//! few patterns as that allows ([`Searched`]): a needle that holds another
//! is dropped, only `\u00` escapes can hide an ASCII needle, and `\/` is
//! looked for only when some needle has a `/`.

use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use talon_eql::plan::needles::Needle;
use talon_event::read::{line_around, number_by_search, LineFilter, Numbered, Sieve, Verdict};

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
    /// When a few pieces of text cover every needle ([`Factors`]): the
    /// one-pass search that also counts lines.
    sieve: Option<(Sieve, Factors)>,
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
        let Searched {
            exact,
            folded,
            escapes,
        } = Searched::new(exact, folded);
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
                .extend(&escapes)
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
                    .build(
                        texts
                            .iter()
                            .map(String::as_str)
                            .chain(escapes.iter().copied()),
                    )
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
        let sieve = match packed.is_some() || ac.is_some() {
            true => one_pass(
                &exact,
                &texts,
                !folded.is_empty(),
                escapes.contains(&"\\u00"),
            ),
            false => None,
        };
        Some(Prefilter {
            ac,
            packed,
            first_escape,
            sieve,
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

    /// With a sieve: one pass that finds the factors and escapes and
    /// counts the lines; a line holding a factor is a candidate when the
    /// searchers find a needle or an escape in it, as they would have
    /// found it without the sieve.
    fn number_lines(&self, text: &[u8], out: &mut Vec<(Range<usize>, u64)>) -> Numbered {
        let Some((sieve, factors)) = &self.0.sieve else {
            return number_by_search(self, text, out);
        };
        sieve.number_lines(text, out, &mut |text, line, at, k| {
            if k >= factors.count {
                return match escapes_at(text, at) {
                    true => Verdict::Pick,
                    false => Verdict::Next,
                };
            }
            match self.0.next_hit(&text[line], 0) {
                Some(_) => Verdict::Pick,
                None => Verdict::SkipLine,
            }
        })
    }
}

/// The sieve for a prefilter whose searchers can confirm what it finds:
/// pieces of the `exact` needles, matched exactly, or with `fold` pieces
/// of every needle (`lowered`: all of them in lower case) in any case, as
/// the automaton matches them; `ascii` when every needle is.
fn one_pass(
    exact: &[String],
    lowered: &[String],
    fold: bool,
    ascii: bool,
) -> Option<(Sieve, Factors)> {
    let needles = match fold {
        true => without_holders(lowered.to_vec(), &[]),
        false => exact.to_vec(),
    };
    let f = Factors::new(&needles, ascii);
    let sieve = Sieve::new(&f.probes, fold)?;
    tracing::debug!(
        "prefilter: one pass for the lines and {:?}{}",
        f.probes,
        if fold { " (in any case)" } else { "" }
    );
    Some((sieve, f))
}

/// Pieces of text, each held by some needle, that between them cover
/// every needle: a line holding no piece holds no needle. Looking for
/// them instead of the needles takes fewer patterns: the seed rule's four
/// needles (`net.ipv4.ip_forward`, `/proc/sys/net/ipv6/conf/all/forwarding`
/// ...) share `forward`.
#[derive(Debug, PartialEq, Eq)]
struct Factors {
    /// The pieces, then the escapes that could hide one of their
    /// characters (`\\u00` or `\\u`, and `\\/` when a piece holds a
    /// `/`).
    probes: Vec<String>,
    /// How many of `probes` are pieces.
    count: usize,
}

impl Factors {
    /// The fewest pieces of at least [`FACTOR_MIN`] bytes (a needle that
    /// short is its own piece) that cover `needles`: each time, of the
    /// first needle left, the piece held by the most needles left, one
    /// without a `/` (which needs no `\\/` escape looked for) before one
    /// with, then the longest. Past the pieces a [`Sieve`] looks for, the
    /// needles left are taken whole, unsearched: the sieve refuses that
    /// many anyway, and the search is cubic in a needle's length.
    fn new(needles: &[String], ascii: bool) -> Factors {
        let mut left: Vec<&str> = needles.iter().map(String::as_str).collect();
        let mut probes: Vec<String> = Vec::new();
        while let Some(first) = left.first() {
            if probes.len() >= Sieve::MAX_LITERALS {
                probes.extend(left.drain(..).map(str::to_string));
                break;
            }
            let min = FACTOR_MIN.min(first.len());
            let ends = || (0..=first.len()).filter(|i| first.is_char_boundary(*i));
            let best = ends()
                .flat_map(|a| {
                    ends()
                        .filter(move |b| *b >= a + min)
                        .map(move |b| &first[a..b])
                })
                .max_by_key(|f| {
                    let held = left.iter().filter(|n| n.contains(f)).count();
                    (held, !f.contains('/'), f.len())
                })
                .unwrap_or(first);
            left.retain(|n| !n.contains(best));
            probes.push(best.to_string());
        }
        let count = probes.len();
        let slash = probes.iter().any(|p| p.contains('/'));
        probes.push(if ascii { "\\u00" } else { "\\u" }.to_string());
        if slash {
            probes.push("\\/".to_string());
        }
        Factors { probes, count }
    }
}

/// The shortest piece [`Factors`] cuts from a longer needle: shorter
/// ones turn up in too many lines that then hold no needle.
const FACTOR_MIN: usize = 4;

/// The patterns the searchers look for: the needles, as few as will do,
/// and the escapes that could hide them.
#[derive(Debug, PartialEq, Eq)]
struct Searched {
    /// Exact needles, sorted.
    exact: Vec<String>,
    /// ASCII-case-insensitive needles, lowercased, sorted.
    folded: Vec<String>,
    /// The escapes that could hide a needle's character, looked for after
    /// the needles: `\\u00` when every needle is ASCII (only its ASCII
    /// characters could be escaped), else `\\u`; and `\\/` when some
    /// needle has a `/`.
    escapes: Vec<&'static str>,
}

impl Searched {
    fn new(exact: Vec<String>, folded: Vec<String>) -> Searched {
        let slash = exact.iter().chain(&folded).any(|t| t.contains('/'));
        let ascii = exact.iter().chain(&folded).all(|t| t.is_ascii());
        let folded = without_holders(folded, &[]);
        let exact = without_holders(exact, &folded);
        let mut escapes = vec![if ascii { "\\u00" } else { "\\u" }];
        if slash {
            escapes.push("\\/");
        }
        Searched {
            exact,
            folded,
            escapes,
        }
    }
}

/// `needles`, sorted and deduplicated, less those that hold another of
/// them (byte for byte) or one of `folded` (ignoring ASCII case): a line
/// holding the longer one holds the shorter one too.
///
/// One automaton over the needles finds, in each needle's own text, the
/// others it holds; testing every pair made start-up quadratic in the
/// needles (minutes for an `in (...)` list of 200,000 values). Should an
/// automaton not build, every needle is kept: a holder costs a longer
/// search, never a line.
fn without_holders(mut needles: Vec<String>, folded: &[String]) -> Vec<String> {
    needles.sort();
    needles.dedup();
    // `folded` is lower case: searched ASCII-insensitively, it finds what
    // it would in each needle's lower case, without lowering every needle.
    let built = AhoCorasick::new(&needles).and_then(|own| {
        let folded = match folded.is_empty() {
            true => None,
            false => Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(folded)?,
            ),
        };
        Ok((own, folded))
    });
    let (own, folded) = match built {
        Ok(searchers) => searchers,
        Err(e) => {
            tracing::warn!("prefilter: cannot build the search for needles that hold others: {e}");
            return needles;
        }
    };
    let mut me = 0;
    needles.retain(|n| {
        // The needles are distinct: a match of another pattern is another
        // needle, and a needle meets itself only once, at its end.
        let holds_another = own
            .find_overlapping_iter(n)
            .any(|m| m.pattern().as_usize() != me);
        me += 1;
        let holds_folded = folded.as_ref().is_some_and(|f| f.is_match(n));
        !holds_another && !holds_folded
    });
    needles
}

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

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn holders_are_dropped_and_only_the_escapes_that_could_hide_a_needle_kept() {
        let s = Searched::new(
            strings(&["net.ipv4.ip_forward", "ipv4.ip_", "ip_forward"]),
            Vec::new(),
        );
        assert_eq!(s.exact, ["ip_forward", "ipv4.ip_"]);
        assert_eq!(s.escapes, ["\\u00"]);
        // A `/` may be written `\/`.
        let s = Searched::new(strings(&["/proc/sys/net", "\"sh\""]), Vec::new());
        assert_eq!(s.exact, ["\"sh\"", "/proc/sys/net"]);
        assert_eq!(s.escapes, ["\\u00", "\\/"]);
        // A non-ASCII needle could hide behind any `\u` escape.
        let s = Searched::new(strings(&["caf\u{e9}s"]), Vec::new());
        assert_eq!(s.escapes, ["\\u"]);
        // An exact needle holding a folded one (in any case) is dropped.
        let s = Searched::new(strings(&["Cmd.exe", "xyz"]), strings(&["cmd"]));
        assert_eq!((s.exact, s.folded), (strings(&["xyz"]), strings(&["cmd"])));
    }

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
        }
    }

    /// [`without_holders`] by its definition: each needle, shortest
    /// first, against every needle kept before it and every folded one.
    fn without_holders_pairwise(mut needles: Vec<String>, folded: &[String]) -> Vec<String> {
        needles.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        let mut kept: Vec<String> = Vec::new();
        for n in needles {
            let lower = n.to_ascii_lowercase();
            let held = kept.iter().any(|k| n.contains(k.as_str()))
                || folded.iter().any(|f| lower.contains(f.as_str()));
            if !held {
                kept.push(n);
            }
        }
        kept.sort();
        kept
    }

    #[test]
    fn holders_are_found_as_by_testing_every_pair() {
        // Few letters and short needles, so that needles repeat, hold one
        // another, and meet the folded ones in another case.
        let letters = ["a", "b", "A", "B", "/", "\u{e9}"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let some = |rng: &mut Rng, most: usize, max_len: usize| -> Vec<String> {
            (0..1 + rng.below(most))
                .map(|_| {
                    let len = rng.below(max_len + 1);
                    (0..len)
                        .map(|_| letters[rng.below(letters.len())])
                        .collect()
                })
                .collect()
        };
        let mut dropped = 0;
        for round in 0..400 {
            let mut needles = some(&mut rng, 40, 6);
            // No empty needle in most rounds: every other one holds it.
            if round % 10 != 0 {
                needles.retain(|n| !n.is_empty());
            }
            let mut folded: Vec<String> = match round % 3 {
                0 => Vec::new(),
                _ => some(&mut rng, 4, 4),
            };
            folded.retain(|f| !f.is_empty() || round % 20 == 1);
            let folded: Vec<String> = folded.iter().map(|f| f.to_ascii_lowercase()).collect();
            let want = without_holders_pairwise(needles.clone(), &folded);
            let got = without_holders(needles.clone(), &folded);
            assert_eq!(got, want, "needles {needles:?}, folded {folded:?}");
            dropped += needles.len() - got.len();
        }
        // The rounds did drop needles (duplicates and holders).
        assert!(dropped > 1000, "{dropped}");
        // Equal needles are one, and a needle holding it goes.
        assert_eq!(
            without_holders(strings(&["ab", "ab", "xaby", "b"]), &[]),
            ["b"]
        );
        assert_eq!(
            without_holders(strings(&["ab", "ab", "xy"]), &[]),
            ["ab", "xy"]
        );
        // An exact needle equal to a folded one, in any case, goes.
        assert_eq!(
            without_holders(strings(&["CMD", "cmd", "sh"]), &strings(&["cmd"])),
            ["sh"]
        );
        // Every needle holds the empty one, which alone is left.
        assert_eq!(without_holders(strings(&["x", "", "yz"]), &[]), [""]);
    }

    #[test]
    fn few_pieces_cover_the_needles() {
        let f = |needles: &[&str]| Factors::new(&strings(needles), true);
        // The seed rule's four needles share `forward`, which has no `/`:
        // no `\/` escape to look for.
        let seed = f(&[
            "/proc/sys/net/ipv4/ip_forward",
            "/proc/sys/net/ipv6/conf/all/forwarding",
            "net.ipv4.ip_forward",
            "net.ipv6.conf.all.forwarding",
        ]);
        assert_eq!(
            (seed.probes, seed.count),
            (strings(&["forward", "\\u00"]), 1)
        );
        // Nothing shared: the longest piece of each (the whole needle).
        let apart = f(&["cmd.exe", "whoami"]);
        assert_eq!(apart.probes, ["cmd.exe", "whoami", "\\u00"]);
        // A needle too short to cut is its own piece; one with a `/` in
        // every piece brings `\/`.
        let short = f(&["sh", "/a/b"]);
        assert_eq!(short.probes, ["sh", "/a/b", "\\u00", "\\/"]);
        // More pieces than a sieve takes: the rest go whole, unsearched.
        let many: Vec<String> = (0..40).map(|i| format!("q{i:03}x")).collect();
        let f = Factors::new(&many, true);
        assert_eq!(f.count, 40);
        assert_eq!(f.probes[4], "q004x");
        // A needle that is not ASCII may hide behind any `\u` escape.
        assert_eq!(
            Factors::new(&strings(&["caf\u{e9}"]), false).probes,
            ["caf\u{e9}", "\\u"]
        );
    }

    #[test]
    fn a_needle_is_found_however_its_line_escapes_it() {
        let rule = |q: &str| {
            let text = format!(
                "[rule]\nname = \"r\"\nrule_id = \"r\"\ntype = \"eql\"\nlanguage = \"eql\"\n\
                 index = [\"logs-*\"]\nseverity = \"low\"\nrisk_score = 21\ndescription = \"d\"\n\
                 query = '''\n{q}\n'''\n"
            );
            let path = std::path::Path::new("r.toml");
            let (mut rules, errors) =
                talon_rules::load_str(&text, path, talon_rules::RuleFormat::Toml);
            assert!(errors.is_empty(), "{errors:?}");
            crate::compile_rule(rules.remove(0), &Default::default()).expect(q)
        };
        // `:` folds case: the automaton looks, or the sieve in any case.
        // `like` does not: the SIMD searcher, or the sieve, exactly.
        for op in [":", "like"] {
            let q = format!(
                "process where process.command_line {op} \"*/proc/sys/net/ipv4/ip_forward*\""
            );
            let p = Arc::new(Prefilter::new(&[rule(&q)], &[]).expect("needles"));
            let f = p.line_filter().expect("cheap");
            assert!(p.sieve.is_some() || !std::is_x86_feature_detected!("avx2"));
            // The search and the one-pass count (through the sieve, when
            // there is one) pick the same lines.
            let picked = |line: &str| {
                let mut out = Vec::new();
                // Long enough for the sieve's block scan, not only its tail.
                let text = format!("{line:>200}\n{{}}\n");
                let n = f.number_lines(text.as_bytes(), &mut out);
                assert_eq!(n.lines, 2);
                let searched = f.next_candidate(line.as_bytes(), 0).is_some();
                assert_eq!(out.len() == 1, searched, "{op} {line}");
                searched
            };
            assert!(picked(r#"{"a":"echo 1 > /proc/sys/net/ipv4/ip_forward"}"#));
            assert!(picked(
                r#"{"a":"echo 1 > \/proc\/sys\/net\/ipv4\/ip_forward"}"#
            ));
            assert!(picked(
                r#"{"a":"echo 1 > /proc/sys/net/ipv4/ip\u005fforward"}"#
            ));
            assert!(picked(
                r#"{"a":"echo 1 > /proc/sys/net/ipv4/ip_for\u0077ard"}"#
            ));
            assert!(!picked(r#"{"a":"echo 1 > /proc/sys/net/ipv4/ip-forward"}"#));
            // The sieve's piece alone, without the needle, is not enough.
            assert!(!picked(r#"{"a":"ip_forward","b":"/proc/sys/net/ipv4/"}"#));
            // Another case: a candidate for `:`, not for `like`.
            assert_eq!(
                picked(r#"{"a":"echo 1 > /PROC/sys/net/ipv4/IP_FORWARD"}"#),
                op == ":"
            );
            // An escaped backslash before a `u` is no escape.
            assert!(!picked(r#"{"a":"C:\\u00"}"#));
        }
    }

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
