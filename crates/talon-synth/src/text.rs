//! Strings built from patterns: wildcards (several at once, for a value
//! that has to match one pattern of each of several tests) and regular
//! expressions (a walk over the pattern's syntax tree).
//!
//! Wildcards: `?` becomes one letter and `*` a filler ("" first). Several
//! patterns are merged as the longest literal start, every pattern's middle
//! pieces in order, and the longest literal end: a string that matches each
//! pattern whenever their starts and ends agree. Regexes: the pattern the
//! evaluator runs (Lucene syntax already translated) is parsed with
//! `regex-syntax`; alternatives and class members vary between variants.
//! Either way the caller checks the result with the real matcher.

use regex_syntax::hir::{Class, Hir, HirKind};
use talon_eql::eval::regex::RegexMatcher;
use talon_eql::eval::wildcard::{Part, Wildcard};

use crate::values::Ctx;

/// Most regex variants tried.
const REGEX_VARIANTS: usize = 6;
/// Longest string a regex walk builds.
const MAX_LEN: usize = 20_000;

/// Fillers for `*`, in order of preference.
pub(crate) fn fillers(ctx: &Ctx) -> Vec<String> {
    vec![
        String::new(),
        "x".to_string(),
        " ".to_string(),
        ctx.word.clone(),
    ]
}

/// One string per pattern and filler.
pub(crate) fn wildcard_texts(pats: &[Wildcard], ctx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    for f in fillers(ctx) {
        for p in pats {
            let parts = p.parts();
            let s = merge(&[parts.as_slice()], &f, &ctx.word);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

fn render(parts: &[Part], filler: &str, out: &mut String) {
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::One => out.push('x'),
            Part::Run => out.push_str(filler),
        }
    }
}

/// A string meant to match every shape (see the module notes). With the
/// empty filler, an open start before a dot (`*.exe`, `*.top`) gets
/// `word`, which reads like a name rather than a bare extension.
pub(crate) fn merge(shapes: &[&[Part]], filler: &str, word: &str) -> String {
    if let Some(exact) = shapes.iter().find(|s| !s.contains(&Part::Run)) {
        let mut out = String::new();
        render(exact, filler, &mut out);
        return out;
    }
    let split = |s: &[Part]| -> (String, Vec<Part>, String) {
        let first = s.iter().position(|p| *p == Part::Run).unwrap_or(0);
        let last = s.iter().rposition(|p| *p == Part::Run).unwrap_or(0);
        let (mut lead, mut trail) = (String::new(), String::new());
        render(&s[..first], filler, &mut lead);
        render(&s[last + 1..], filler, &mut trail);
        let mid = if last > first {
            s[first + 1..last].to_vec()
        } else {
            Vec::new()
        };
        (lead, mid, trail)
    };
    let pieces: Vec<(String, Vec<Part>, String)> = shapes.iter().map(|s| split(s)).collect();
    let lead = pieces
        .iter()
        .map(|p| &p.0)
        .max_by_key(|s| s.chars().count())
        .cloned()
        .unwrap_or_default();
    let trail = pieces
        .iter()
        .map(|p| &p.2)
        .max_by_key(|s| s.chars().count())
        .cloned()
        .unwrap_or_default();
    // Pieces of different patterns glued without a filler would run into
    // each other; a space keeps them apart and readable.
    let sep = if filler.is_empty() { " " } else { filler };
    let mut out = lead;
    out.push_str(filler);
    let next = pieces
        .iter()
        .find_map(|(_, mid, _)| match mid.first() {
            Some(Part::Text(t)) => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or(trail.as_str());
    if out.is_empty() && next.starts_with('.') {
        out.push_str(word);
    }
    let mut first = true;
    for (_, mid, _) in &pieces {
        if mid.is_empty() {
            continue;
        }
        if !first {
            out.push_str(sep);
        }
        first = false;
        render(mid, filler, &mut out);
    }
    out.push_str(filler);
    out.push_str(&trail);
    out
}

/// Strings the matcher may accept, best first.
pub(crate) fn regex_texts(m: &RegexMatcher, ctx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    match m {
        RegexMatcher::Rx(r) => {
            let Ok(hir) = regex_syntax::Parser::new().parse(r.as_str()) else {
                return out;
            };
            for v in 0..REGEX_VARIANTS {
                let mut s = String::new();
                walk(&hir, v, &ctx.word, &mut s);
                if s.len() <= MAX_LEN && !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        RegexMatcher::Never => {}
        RegexMatcher::Any(parts) => {
            for p in parts {
                out.extend(regex_texts(p, ctx));
            }
        }
        // Candidates of the first part that the others accept.
        RegexMatcher::All(parts) => {
            if let Some(first) = parts.first() {
                out = regex_texts(first, ctx)
                    .into_iter()
                    .filter(|s| m.matches(s))
                    .collect();
            }
        }
        RegexMatcher::Not(_) => {
            for s in [ctx.word.as_str(), "synth", "x", "", "0"] {
                if m.matches(s) {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

/// Characters preferred when a class allows them.
const NICE: &[char] = &['a', 'x', '0', '1', 'A', 'X', '_', '-', '.', '/', ' '];

fn walk(h: &Hir, variant: usize, word: &str, out: &mut String) {
    if out.len() > MAX_LEN {
        return;
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(c) => {
            if let Some(ch) = class_char(c, variant) {
                out.push(ch);
            }
        }
        HirKind::Repetition(r) => {
            // An open run of any character (`.*`) reads best as a word.
            if variant == 0 && r.min == 0 && r.max.is_none() {
                if let HirKind::Class(c) = r.sub.kind() {
                    if word.chars().all(|ch| contains(c, ch)) {
                        out.push_str(word);
                        return;
                    }
                }
            }
            // Otherwise variant 0 takes the fewest repetitions, the others
            // one more where allowed, which exercises optional parts.
            let want = if variant == 0 { r.min } else { r.min.max(1) };
            let n = match r.max {
                Some(max) => want.min(max),
                None => want,
            };
            for _ in 0..n {
                walk(&r.sub, variant, word, out);
                if out.len() > MAX_LEN {
                    return;
                }
            }
        }
        HirKind::Capture(c) => walk(&c.sub, variant, word, out),
        HirKind::Concat(items) => {
            for i in items {
                walk(i, variant, word, out);
            }
        }
        HirKind::Alternation(items) => {
            if !items.is_empty() {
                walk(&items[variant % items.len()], variant, word, out);
            }
        }
    }
}

fn contains(c: &Class, ch: char) -> bool {
    match c {
        Class::Unicode(u) => u.ranges().iter().any(|r| r.start() <= ch && ch <= r.end()),
        Class::Bytes(b) => {
            ch.is_ascii()
                && b.ranges()
                    .iter()
                    .any(|r| r.start() <= ch as u8 && ch as u8 <= r.end())
        }
    }
}

fn class_char(c: &Class, variant: usize) -> Option<char> {
    let nice: Vec<char> = NICE.iter().copied().filter(|ch| contains(c, *ch)).collect();
    if !nice.is_empty() {
        return Some(nice[variant % nice.len()]);
    }
    // The first printable members, one per variant (so `[bc]` gives `b`
    // and `c`, and a test ruling one out leaves the other), else the first
    // member.
    let starts: Vec<(char, char)> = match c {
        Class::Unicode(u) => u.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (char::from(r.start()), char::from(r.end())))
            .collect(),
    };
    let printable: Vec<char> = starts
        .iter()
        .flat_map(|(lo, hi)| (*lo).max(' ')..=*hi)
        .take(REGEX_VARIANTS)
        .collect();
    if !printable.is_empty() {
        return Some(printable[variant % printable.len()]);
    }
    starts.first().map(|(lo, _)| *lo)
}
