//! No bytes make the scanner panic, loop or accept what the flattener
//! rejects: deterministic pseudo-random JSON-like garbage and mutations of
//! real and edge-case lines go through the scanner and, whenever it
//! accepts one, through the flattener too, value by value (the stable
//! counterpart of the `scan_line` fuzz target).

mod scan_common;

use scan_common::{check, generated, prebuilt_leaves, Tally};
use talon_event::catalog::FieldCatalog;
use talon_event::flatten::Flattener;
use talon_event::scan::{RawDoc, Scanner};
use talon_event::Value;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    " ",
    "\t",
    "\r\n",
    "\"a\"",
    "\"a\":",
    "\"b\"",
    "\"b.c\"",
    "\"arr\"",
    "\"n\"",
    "\"s\"",
    "\"\"",
    "\"zz\"",
    "\"x\\u0041\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\/\"",
    "\"é\"",
    "0",
    "-0",
    "1",
    "-1.5e3",
    "1e400",
    "01",
    "1.",
    "9223372036854775808",
    "18446744073709551616",
    "null",
    "true",
    "false",
    "nul",
    "\u{feff}",
    "\u{1}",
    "\u{0c}",
];

/// A line of random tokens, mostly shaped like an object.
fn soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = String::new();
    if rng.below(8) != 0 {
        out.push('{');
    }
    for _ in 0..rng.below(40) {
        out.push_str(rng.pick::<&str>(TOKENS));
    }
    if rng.below(8) != 0 {
        out.push('}');
    }
    out.into_bytes()
}

/// One random edit of `line`.
fn mutate(rng: &mut Rng, line: &[u8]) -> Vec<u8> {
    let mut out = line.to_vec();
    let at = rng.below(out.len() + 1);
    match rng.below(9) {
        0 if !out.is_empty() => {
            out.remove(at.min(out.len() - 1));
        }
        1 => out.insert(
            at,
            *rng.pick(b"{}[],:\"\\ 0123456789-+.eE\x00\x1f\x7f\xc3\xa9\xff"),
        ),
        2 if !out.is_empty() => {
            let i = at.min(out.len() - 1);
            out[i] ^= 1 << rng.below(8);
        }
        3 => out.truncate(at),
        4 => {
            let t = rng.pick(TOKENS).as_bytes();
            out.splice(at..at, t.iter().copied());
        }
        // A member repeated right after itself: a duplicate key wherever
        // the member stood.
        5 => {
            if let Some(start) = out[..at].iter().rposition(|&b| b == b'"') {
                let end = (start + 1 + rng.below(40)).min(out.len());
                let piece = out[start..end].to_vec();
                out.splice(end..end, piece);
            }
        }
        // Deep nesting around a value.
        6 => {
            let n = 120 + rng.below(12);
            let open: Vec<u8> = (0..n)
                .map(|i| if i % 3 == 0 { b'{' } else { b'[' })
                .collect();
            let inner = if open.first() == Some(&b'{') {
                "\"d\":"
            } else {
                ""
            };
            let mut deep = Vec::new();
            for &b in &open {
                deep.push(b);
                if b == b'{' {
                    deep.extend_from_slice(inner.as_bytes());
                }
            }
            deep.push(b'1');
            for &b in open.iter().rev() {
                deep.push(if b == b'{' { b'}' } else { b']' });
            }
            if let Some(colon) = out[..at].iter().rposition(|&b| b == b':') {
                out.splice(colon + 1..colon + 1, deep);
            }
        }
        7 => out
            .splice(at..at, b" \t\r\n".iter().copied())
            .for_each(drop),
        _ => {
            let i = rng.below(out.len() + 1);
            let (a, b) = (at.min(i), at.max(i));
            out.drain(a..b);
        }
    }
    out
}

fn scanners(seed_lines: &[Vec<u8>]) -> Vec<(&'static str, Scanner)> {
    let mut leaves = std::collections::BTreeSet::new();
    for line in seed_lines {
        if let Ok(text) = std::str::from_utf8(line) {
            if let Ok(fields) = Flattener::new().fields(text) {
                leaves.extend(fields.keys().map(|k| k.to_string()));
            }
        }
    }
    let edge = ["a", "b.c", "b.d", "arr", "n", "s", "zz.q", "é"];
    vec![
        ("every leaf", Scanner::new(FieldCatalog::new(&leaves))),
        (
            "prebuilt leaves",
            Scanner::new(FieldCatalog::new(prebuilt_leaves())),
        ),
        (
            "edge with nulls",
            Scanner::new(FieldCatalog::new(edge).with_null_value("n", Value::Int(-1))),
        ),
        (
            "prefixes",
            Scanner::new(FieldCatalog::new(["b", "process", "a"])),
        ),
    ]
}

/// Rounds per test: `TALON_SCAN_ROUNDS` for a longer search, with
/// `TALON_SCAN_SEED` to vary it.
fn rounds(default: usize) -> (usize, u64) {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = var("TALON_SCAN_ROUNDS").map_or(default, |n| n as usize);
    (rounds, var("TALON_SCAN_SEED").unwrap_or(0))
}

fn seed_lines() -> Vec<Vec<u8>> {
    let data = generated(60_000, 11, 3);
    let mut lines: Vec<Vec<u8>> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    for doc in [
        r#"{"a":1,"b":{"c":"x","d":[1,2,{"e":null}]},"arr":[[1],{"k":2}],"n":null,"s":"\u00e9\"\\"}"#,
        r#"{"a.b":1,"a":{"b":2},"zz":{"q":[1e400,"\ud800"]},"s":"é"}"#,
        r#" { "a" : [ ] , "b" : { } , "n" : [ null ] } "#,
    ] {
        lines.push(doc.as_bytes().to_vec());
    }
    lines
}

#[test]
fn mutated_lines_never_disagree_with_the_flattener() {
    let seeds = seed_lines();
    let scanners = scanners(&seeds);
    let (n, seed) = rounds(40_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
    let mut doc = RawDoc::new();
    let mut tally = Tally::default();
    for round in 0..n {
        let mut line = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(3) {
            line = mutate(&mut rng, &line);
        }
        let (_, scanner) = &scanners[round % scanners.len()];
        tally.add(check(scanner, &mut doc, &line));
    }
    println!("{tally:?}");
    assert!(tally.fast > 100 && tally.rejected > 100, "{tally:?}");
}

#[test]
fn token_soup_never_disagrees_with_the_flattener() {
    let scanners = scanners(&seed_lines());
    let (n, seed) = rounds(40_000);
    let mut rng = Rng(42 ^ seed);
    let mut doc = RawDoc::new();
    let mut tally = Tally::default();
    for round in 0..n {
        let line = soup(&mut rng);
        let (_, scanner) = &scanners[round % scanners.len()];
        tally.add(check(scanner, &mut doc, &line));
    }
    println!("{tally:?}");
    assert!(tally.fast > 0, "{tally:?}");
}

#[test]
fn random_bytes_never_disagree_with_the_flattener() {
    let scanners = scanners(&[]);
    let (n, seed) = rounds(20_000);
    let mut rng = Rng(7 ^ seed);
    let mut doc = RawDoc::new();
    let mut tally = Tally::default();
    for round in 0..n {
        let len = rng.below(64);
        let mut line: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 {
            line.insert(0, b'{');
        }
        let (_, scanner) = &scanners[round % scanners.len()];
        tally.add(check(scanner, &mut doc, &line));
    }
    println!("{tally:?}");
    assert!(tally.rejected > tally.fast, "{tally:?}");
}
