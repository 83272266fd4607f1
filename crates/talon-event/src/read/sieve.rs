//! One pass over NDJSON bytes that both counts lines and finds literals.
//!
//! A line filter that looks for a few literals spends its time in two
//! trips over every byte: the literal search, then the newline count that
//! accounts for every line it skipped. [`Sieve`] makes a single trip. For
//! each 32 bytes it compares against `\n` and, for each literal, two of
//! its rarest bytes (a "packed pair": the block itself against the first,
//! the bytes as far on as the second lies from the first against the
//! second); only where both bytes of a literal agree is the literal
//! compared in full, and only a full match is shown to the caller, which
//! decides whether the line is worth parsing.
//!
//! A line that no literal picks is counted; when it does not start with
//! `{` it is also checked for being blank or a `//` comment, as
//! [`number_by_search`](crate::read::number_by_search) does, so both give
//! the same counts.
//!
//! The sieve needs AVX2 ([`Sieve::new`] gives `None` without it); callers
//! then search another way.

use std::ops::Range;

use crate::read::filter::{blank_or_comment, Numbered};

/// What the caller of [`Sieve::number_lines`] makes of a literal found
/// in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The line is worth parsing.
    Pick,
    /// Not this occurrence; the rest of the line may still hold one.
    Next,
    /// Nothing in this line is worth parsing: go on at the next line.
    SkipLine,
}

/// What decides a found literal's line ([`Sieve::number_lines`]): given
/// the text, the line (without its newline), where the literal starts and
/// which literal it is.
pub type Judge<'a> = dyn FnMut(&[u8], Range<usize>, usize, usize) -> Verdict + 'a;

/// Looks for a few literals in lines of text while counting the lines.
#[derive(Clone, Debug)]
pub struct Sieve {
    probes: Vec<Probe>,
    /// The largest distance between a probe's pair bytes: a block at
    /// `pos` reads up to `pos + 64 + reach`.
    reach: usize,
    /// The largest offset of a probe's first pair byte: a literal may
    /// start that far before the byte that finds it.
    lead: usize,
    /// Literals match in any ASCII case.
    fold: bool,
}

/// One literal and the two bytes of it the block scan compares.
#[derive(Clone, Debug)]
struct Probe {
    text: Box<[u8]>,
    /// Offsets in `text` of its two rarest bytes (the first the smaller).
    pair: (usize, usize),
}

impl Sieve {
    /// The most literals one sieve looks for: each costs two compares per
    /// block, and past a few a searcher built for many patterns wins.
    pub const MAX_LITERALS: usize = 4;

    /// A sieve for `literals`, matched exactly or, with `fold`, in any
    /// ASCII case; `None` when this processor lacks AVX2, or there are no
    /// literals or more than [`MAX_LITERALS`](Self::MAX_LITERALS), or one
    /// is shorter than two bytes or holds a newline.
    pub fn new<T: AsRef<[u8]>>(literals: &[T], fold: bool) -> Option<Sieve> {
        if !avx2() || literals.is_empty() || literals.len() > Self::MAX_LITERALS {
            return None;
        }
        let mut probes = Vec::with_capacity(literals.len());
        for lit in literals {
            let text = lit.as_ref();
            if text.len() < 2 || text.contains(&b'\n') {
                return None;
            }
            probes.push(Probe {
                pair: rarest_pair(text, fold),
                text: text.into(),
            });
        }
        let reach = probes
            .iter()
            .map(|p| p.pair.1 - p.pair.0)
            .max()
            .unwrap_or(0);
        let lead = probes.iter().map(|p| p.pair.0).max().unwrap_or(0);
        Some(Sieve {
            probes,
            reach,
            lead,
            fold,
        })
    }

    /// The lines of `text` (whole lines, the last one perhaps without its
    /// newline) that `judge` picks, each with how many lines of `text`
    /// come before it, pushed onto `out`; and every line counted.
    ///
    /// `judge` sees each occurrence of a literal in order: the text, the
    /// line that holds it (without its newline), where it starts and which
    /// literal it is (its index in [`Sieve::new`]'s list).
    pub fn number_lines(
        &self,
        text: &[u8],
        out: &mut Vec<(Range<usize>, u64)>,
        judge: &mut Judge<'_>,
    ) -> Numbered {
        let mut walk = Walk {
            text,
            line_start: 0,
            before: 0,
            blank: 0,
            out,
        };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a `Sieve` exists only when the processor has AVX2
        // (`Sieve::new` checks it).
        let from = unsafe {
            match self.probes.len() {
                1 => self.blocks_avx2::<1>(&mut walk, judge),
                2 => self.blocks_avx2::<2>(&mut walk, judge),
                3 => self.blocks_avx2::<3>(&mut walk, judge),
                _ => self.blocks_avx2::<4>(&mut walk, judge),
            }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let from = 0;
        self.tail(&mut walk, from, judge);
        walk.finish()
    }

    /// The block scan for `N` literals (all of them: `N` is their
    /// number), 64 bytes at a time from the start of `walk.text` while a
    /// block and its pair bytes fit; returns where the scan stopped.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn blocks_avx2<const N: usize>(
        &self,
        walk: &mut Walk<'_>,
        judge: &mut Judge<'_>,
    ) -> usize {
        use std::arch::x86_64::{
            __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8,
            _mm256_or_si256, _mm256_set1_epi8, _mm256_setzero_si256,
        };
        let text = walk.text;
        let newline = _mm256_set1_epi8(b'\n' as i8);
        // Per literal: how far its second pair byte lies from its first,
        // and for each of the two, the bits to set before comparing (0x20
        // for a letter matched in any case: `A` | 0x20 is `a`) and the byte
        // to compare with, repeated.
        let splat = |b: u8| {
            let (bits, byte) = match self.fold && b.is_ascii_alphabetic() {
                true => (0x20, b.to_ascii_lowercase()),
                false => (0, b),
            };
            (_mm256_set1_epi8(bits as i8), _mm256_set1_epi8(byte as i8))
        };
        type Pair = (usize, (__m256i, __m256i), (__m256i, __m256i));
        let pairs: [Pair; N] = std::array::from_fn(|k| {
            let p = &self.probes[k];
            (
                p.pair.1 - p.pair.0,
                splat(p.text[p.pair.0]),
                splat(p.text[p.pair.1]),
            )
        });
        // SAFETY (every load): the loop reads 32 bytes at most
        // `32 + reach` bytes past `pos`, and `pos + 64 + reach <= len`;
        // `loadu` takes any alignment.
        let load = |at: *const u8| unsafe { _mm256_loadu_si256(at.cast::<__m256i>()) };
        // Bit `i`: the literal's first pair byte is at `at + i` and its
        // second where it belongs.
        let literal = |v: __m256i, at: *const u8, (gap, (s1, b1), (s2, b2)): &Pair| unsafe {
            _mm256_and_si256(
                _mm256_cmpeq_epi8(_mm256_or_si256(v, *s1), *b1),
                _mm256_cmpeq_epi8(_mm256_or_si256(load(at.add(*gap)), *s2), *b2),
            )
        };
        let mask = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
        let mut pos = 0usize;
        while pos + 64 + self.reach <= text.len() {
            // SAFETY: `pos + 64 + reach <= len`: both halves' loads are in
            // `text`.
            let (lo, hi) = unsafe { (text.as_ptr().add(pos), text.as_ptr().add(pos + 32)) };
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                text.as_ptr().wrapping_add(pos + PREFETCH).cast::<i8>(),
            );
            let (v_lo, v_hi) = (load(lo), load(hi));
            let (mut any_lo, mut any_hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for pair in &pairs {
                any_lo = _mm256_or_si256(any_lo, literal(v_lo, lo, pair));
                any_hi = _mm256_or_si256(any_hi, literal(v_hi, hi, pair));
            }
            let newlines = mask(_mm256_cmpeq_epi8(v_lo, newline))
                | mask(_mm256_cmpeq_epi8(v_hi, newline)) << 32;
            if mask(any_lo) | mask(any_hi) == 0 {
                walk.newlines(pos, newlines);
                pos += 64;
                continue;
            }
            let hits: [u64; N] = std::array::from_fn(|k| {
                mask(literal(v_lo, lo, &pairs[k])) | mask(literal(v_hi, hi, &pairs[k])) << 32
            });
            pos = walk.block(pos, newlines, &hits, self, judge);
        }
        pos
    }

    /// The bytes from `from` to the end, one at a time; and the literals
    /// that start before `from` but that the block scan could not see,
    /// their first pair byte being at or past `from`.
    fn tail(&self, walk: &mut Walk<'_>, from: usize, judge: &mut Judge<'_>) {
        let text = walk.text;
        let mut pos = from.saturating_sub(self.lead).max(walk.line_start);
        'bytes: while pos < text.len() {
            if pos >= from && text[pos] == b'\n' {
                walk.newline(pos);
                pos += 1;
                continue;
            }
            for (k, p) in self.probes.iter().enumerate() {
                if pos + p.pair.0 >= from {
                    if let Some(next) = walk.hit(pos, k, self, judge) {
                        pos = next;
                        continue 'bytes;
                    }
                }
            }
            pos += 1;
        }
    }
}

const PREFETCH: usize = 2048;

/// The count so far of a [`Sieve::number_lines`] pass.
struct Walk<'a> {
    text: &'a [u8],
    /// Where the current line starts (past the end once the last line is
    /// picked).
    line_start: usize,
    /// Lines before the current one.
    before: u64,
    /// Blank and comment lines among those not picked.
    blank: u64,
    out: &'a mut Vec<(Range<usize>, u64)>,
}

impl Walk<'_> {
    /// The lines that end in the 64-byte block at `pos`: `newlines` has
    /// bit `i` set for a newline at `pos + i`.
    #[inline]
    fn newlines(&mut self, pos: usize, mut newlines: u64) {
        while newlines != 0 {
            self.newline(pos + newlines.trailing_zeros() as usize);
            newlines &= newlines - 1;
        }
    }

    /// The events of the 64-byte block at `pos`, in byte order:
    /// `newlines` has bit `i` set for a newline at `pos + i`, and
    /// `hits[k]` for literal `k`'s first pair byte there. Returns where
    /// the next block starts.
    #[inline(never)]
    fn block(
        &mut self,
        pos: usize,
        newlines: u64,
        hits: &[u64],
        sieve: &Sieve,
        judge: &mut Judge<'_>,
    ) -> usize {
        let mut events = hits.iter().fold(newlines, |m, h| m | h);
        while events != 0 {
            let bit = events.trailing_zeros();
            events &= events - 1;
            let at = pos + bit as usize;
            if newlines >> bit & 1 == 1 {
                self.newline(at);
                continue;
            }
            for (k, h) in hits.iter().enumerate() {
                // A literal does not start before the text does (and one
                // that would start before this line holds a newline).
                let Some(start) = at.checked_sub(sieve.probes[k].pair.0) else {
                    continue;
                };
                if h >> bit & 1 == 1 {
                    if let Some(next) = self.hit(start, k, sieve, judge) {
                        return next;
                    }
                }
            }
        }
        pos + 64
    }

    /// The line that started at `line_start` ends at `at`, unpicked.
    #[inline]
    fn newline(&mut self, at: usize) {
        let line = &self.text[self.line_start..at];
        if line.first() != Some(&b'{') {
            self.blank += u64::from(blank_or_comment(line));
        }
        self.before += 1;
        self.line_start = at + 1;
    }

    /// Literal `k` may start at `at`: when it does and `judge` picks its
    /// line, or rules the line out, the line is counted and the scan goes
    /// on at the next one (the returned position).
    fn hit(&mut self, at: usize, k: usize, sieve: &Sieve, judge: &mut Judge<'_>) -> Option<usize> {
        let lit = &sieve.probes[k].text;
        let here = self.text.get(at..at + lit.len());
        let found = match sieve.fold {
            true => here.is_some_and(|h| h.eq_ignore_ascii_case(lit)),
            false => here == Some(&lit[..]),
        };
        if !found {
            return None;
        }
        let end = memchr::memchr(b'\n', &self.text[at..]).map_or(self.text.len(), |i| at + i);
        let line = self.line_start..end;
        match judge(self.text, line.clone(), at, k) {
            Verdict::Next => None,
            Verdict::SkipLine if end == self.text.len() => Some(end),
            Verdict::SkipLine => {
                self.newline(end);
                Some(end + 1)
            }
            Verdict::Pick => {
                self.out.push((line, self.before));
                self.before += 1;
                self.line_start = end + 1;
                Some(end + 1)
            }
        }
    }

    /// The counts, the last line (if it has no newline) included.
    fn finish(self) -> Numbered {
        let mut n = Numbered {
            lines: self.before,
            blank: self.blank,
        };
        if let Some(last) = self.text.get(self.line_start..).filter(|l| !l.is_empty()) {
            n.lines += 1;
            n.blank += u64::from(blank_or_comment(last));
        }
        n
    }
}

/// Whether the block scan can run here.
fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The offsets of the two bytes of `text` least likely in JSON logs (see
/// [`commonness`]; with `fold`, a letter counts as its lower case, which
/// it also matches), the first the smaller; ties go to the earlier byte.
fn rarest_pair(text: &[u8], fold: bool) -> (usize, usize) {
    let rarity = |b: u8| match fold {
        true => commonness(b.to_ascii_lowercase()),
        false => commonness(b),
    };
    let mut by_rarity: Vec<usize> = (0..text.len()).collect();
    by_rarity.sort_by_key(|&i| (std::cmp::Reverse(rarity(text[i])), i));
    let (a, b) = (by_rarity[0], by_rarity[1]);
    (a.min(b), a.max(b))
}

/// How often a byte turns up in JSON event logs, roughly: 0 for the
/// commonest. JSON punctuation, spaces and digits are everywhere; lower
/// case letters follow English letter frequency; upper case letters and
/// other punctuation are rarer still.
fn commonness(b: u8) -> u8 {
    const LETTERS: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";
    match b {
        b'"' | b':' | b',' | b' ' | b'.' | b'/' | b'-' | b'_' | b'{' | b'}' | b'0'..=b'9' => 0,
        b'a'..=b'z' => {
            let rank = LETTERS.iter().position(|l| *l == b).unwrap_or(0);
            1 + (rank / 3) as u8
        }
        b'\\' | b'[' | b']' => 5,
        b'A'..=b'Z' => 10,
        0x80.. => 12,
        _ => 11,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::filter::{number_by_search, LineFilter};

    /// The reference: lines holding one of the literals (in any ASCII
    /// case with `.1`), through the plain search-then-count path.
    #[derive(Debug)]
    struct Holding(Vec<&'static [u8]>, bool);

    impl LineFilter for Holding {
        fn next_candidate(&self, text: &[u8], from: usize) -> Option<Range<usize>> {
            let fold = |b: &[u8]| match self.1 {
                true => b.to_ascii_lowercase(),
                false => b.to_vec(),
            };
            let rest = fold(&text[from..]);
            let at = self
                .0
                .iter()
                .filter_map(|l| memchr::memmem::find(&rest, &fold(l)))
                .min()?;
            Some(crate::read::line_around(text, from + at))
        }
    }

    type Lines = (Numbered, Vec<(Range<usize>, u64)>);

    fn sieved(lits: &[&'static [u8]], text: &[u8], fold: bool) -> Lines {
        let sieve = Sieve::new(lits, fold).expect("AVX2: this test needs it");
        let mut out = Vec::new();
        let n = sieve.number_lines(text, &mut out, &mut |_, _, _, _| Verdict::Pick);
        (n, out)
    }

    fn searched(lits: &[&'static [u8]], text: &[u8], fold: bool) -> Lines {
        let mut out = Vec::new();
        let n = number_by_search(&Holding(lits.to_vec(), fold), text, &mut out);
        (n, out)
    }

    #[test]
    fn rare_bytes_are_compared() {
        assert_eq!(rarest_pair(b"forward", false), (0, 3));
        assert_eq!(rarest_pair(b"\\u00", false), (0, 1));
        assert_eq!(rarest_pair(b"ab", false), (0, 1));
        assert_eq!(rarest_pair(b"cmd.EXE", false), (4, 5));
        // In any case, `E` is as common as `e`: `x` and `m` are rarer.
        assert_eq!(rarest_pair(b"cmd.EXE", true), (1, 5));
    }

    #[test]
    fn literals_it_cannot_look_for_are_refused() {
        assert!(Sieve::new::<&[u8]>(&[], false).is_none());
        assert!(Sieve::new(&[b"a".as_slice()], false).is_none());
        assert!(Sieve::new(&[b"a\nb".as_slice()], true).is_none());
        assert!(Sieve::new(&[b"ab"; 5], false).is_none());
    }

    /// Lines picked and lines counted, blank and comment lines apart, as
    /// the search-then-count path gives them, with literals at every
    /// offset of a block, lines that end at block edges, and text that
    /// ends without a newline.
    #[test]
    fn it_numbers_lines_as_searching_then_counting_does() {
        if !avx2() {
            eprintln!("skipped: this processor has no AVX2, so no sieve is ever built");
            return;
        }
        // `abcDE` is found by its `D`, three bytes in.
        let lits: &[&'static [u8]] = &[b"forward", b"\\u00", b"abcDE"];
        assert_eq!(Sieve::new(lits, false).map(|s| s.lead), Some(3));
        let fillers = [
            "{\"a\":1}",
            "",
            "  ",
            "// a comment with forward in it",
            "{\"p\":\"/proc/sys/net/ipv4/ip_forward\"}",
            "{\"x\":\"\\u0041\"}",
            "{\"y\":\"forwar\"}",
            "{\"q\":\"abcDE\"}",
            "{\"q\":\"ABCde\",\"w\":\"FORward\"}",
            "@bcDE [orward",
            "abcDE",
            "bcDE abcD",
            " {\"z\":\"f\"}",
            "\u{a0}",
            "{\"long\":\"0123456789012345678901234567890123456789012345678901234567890\"}",
        ];
        // A little generator: which line comes next, and its padding.
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..300 {
            let mut text = String::new();
            for _ in 0..next(40) {
                text.push_str(&" ".repeat(next(3)));
                text.push_str(fillers[next(fillers.len())]);
                text.push_str(&"x".repeat(next(33)));
                text.push('\n');
            }
            if round % 3 == 0 {
                text.push_str(&"x".repeat(next(70)));
                text.push_str(fillers[next(fillers.len())]);
            }
            let text = text.as_bytes();
            for fold in [false, true] {
                assert_eq!(
                    sieved(lits, text, fold),
                    searched(lits, text, fold),
                    "round {round}, fold {fold}: {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    /// A literal at every position of texts of every length around two
    /// blocks: wherever the block scan hands over to the byte-by-byte
    /// tail, a literal that straddles the handover is found once.
    #[test]
    fn literals_across_the_end_of_the_block_scan_are_found() {
        if !avx2() {
            eprintln!("skipped: this processor has no AVX2, so no sieve is ever built");
            return;
        }
        let lits: &[&'static [u8]] = &[b"abcDE", b"forward"];
        for len in 60..200 {
            for at in 0..len - 5 {
                let mut text = vec![b'x'; len];
                text[len / 3] = b'\n';
                text[at..at + 5].copy_from_slice(b"abcDE");
                for fold in [false, true] {
                    assert_eq!(
                        sieved(lits, &text, fold),
                        searched(lits, &text, fold),
                        "{len} {at}"
                    );
                }
            }
        }
    }

    /// A judge that rules a line out moves the scan to the next line (and
    /// counts the skipped one); one that says `Next` lets a later literal
    /// of the same line pick it.
    #[test]
    fn the_judge_decides_line_by_line() {
        let Some(sieve) = Sieve::new(&[b"ab".as_slice(), b"cd".as_slice()], false) else {
            eprintln!("skipped: this processor has no AVX2");
            return;
        };
        let text = format!("{}ab cd\nab ab\n// ab\n{{cd}}\nzz\n", " ".repeat(40));
        let mut seen = Vec::new();
        let mut out = Vec::new();
        let n = sieve.number_lines(text.as_bytes(), &mut out, &mut |t, line, at, k| {
            seen.push((at, k));
            match &t[line][..2] {
                // The first line: pick only on its second literal.
                b"  " => [Verdict::Next, Verdict::Pick][k],
                b"ab" | b"//" => Verdict::SkipLine,
                _ => Verdict::Pick,
            }
        });
        assert_eq!(seen, [(40, 0), (43, 1), (46, 0), (55, 0), (59, 1)]);
        assert_eq!(out, [(0..45, 0), (58..62, 3)]);
        assert_eq!(n, Numbered { lines: 5, blank: 1 });
    }
}
