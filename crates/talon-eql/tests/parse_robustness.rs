//! Robustness: the parser must never panic, whatever the text, and every
//! text it accepts must print to EQL that parses back to the same tree.
//! Inputs are corpus queries cut and damaged at many points, and random
//! soups of EQL fragments from a fixed-seed generator (so failures repeat).

mod common;

use common::{corpus_root, round_trip};
use talon_eql::parse;

/// A small deterministic generator (xorshift64*), to avoid a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "process",
    "where",
    "any",
    "sequence",
    "sample",
    "join",
    "[",
    "]",
    "![",
    "(",
    ")",
    "a",
    "b.c",
    "?d",
    "`e f`",
    "==",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "in~",
    "not",
    "and",
    "or",
    ":",
    "like",
    "like~",
    "regex~",
    "\"x*\"",
    "\"\"\"r\\s\"\"\"",
    "1",
    "1.5",
    ".5",
    "1e3",
    "-",
    "+",
    "*",
    "/",
    "%",
    "|",
    "head",
    "tail",
    "unique",
    "5",
    "by",
    "with",
    "maxspan",
    "runs",
    "5m",
    "until",
    ",",
    "f(",
    "g~(",
    "~",
    "'",
    "\\",
    "\"\\u{41}\"",
    "é",
    "/*",
    "*/",
    "//",
    "\n",
    "true",
    "null",
    "child",
    "of",
    "\"",
    "`",
    "!",
    "&&",
    "?",
    "99999999999999999999",
    "\"\\q\"",
    "AND",
    "Where",
    ".",
];

fn soup(rng: &mut Rng) -> String {
    let n = 1 + rng.below(24);
    let mut out = String::new();
    for _ in 0..n {
        out.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        if rng.below(4) != 0 {
            out.push(' ');
        }
    }
    out
}

/// Parses `text`; on success, checks the round trip. Panics propagate and
/// fail the test.
fn exercise(origin: &str, text: &str) -> Option<String> {
    match parse(text) {
        Ok(_) => round_trip(origin, text).err(),
        Err(d) => {
            // The span must lie inside the text and on char boundaries.
            let (s, e) = (d.span.start as usize, d.span.end as usize);
            if s > e || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                return Some(format!("{origin}: bad span {s}..{e} for {text:?}: {d}"));
            }
            None
        }
    }
}

#[test]
fn random_fragment_soups() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut accepted = 0;
    let mut failures = Vec::new();
    for i in 0..40_000 {
        let text = soup(&mut rng);
        if parse(&text).is_ok() {
            accepted += 1;
        }
        if let Some(f) = exercise(&format!("soup {i}"), &text) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The soup is nearly all garbage; this only checks it was not all.
    assert!(accepted > 0, "no soup parsed");
}

/// A random valid expression and its binding level (1 = `or` … 8 = atom),
/// with parentheses wherever precedence needs them and sometimes where it
/// does not.
fn expression(rng: &mut Rng, budget: usize) -> (String, u8) {
    const ATOMS: &[&str] = &[
        "a",
        "b.c",
        "?d.e",
        "`f g`",
        "\"s\"",
        "\"\"\"r\\x\"\"\"",
        "1",
        "2.5",
        "true",
        "null",
        "\"t\\u{200f}\\n\"",
        "@timestamp",
    ];
    if budget == 0 || rng.below(4) == 0 {
        return (ATOMS[rng.below(ATOMS.len())].to_string(), 8);
    }
    let b = budget / 2;
    match rng.below(9) {
        0 | 1 => {
            let (op, level) = [("or", 1), ("and", 2)][rng.below(2)];
            let l = child(rng, b, level);
            let r = child(rng, b, level + 1);
            (format!("{l} {op} {r}"), level)
        }
        2 => (format!("not {}", child(rng, b, 3)), 3),
        3 => {
            let op = ["==", "!=", "<", "<=", ">", ">="][rng.below(6)];
            let l = child(rng, b, 5);
            let r = child(rng, b, 5);
            (format!("{l} {op} {r}"), 4)
        }
        4 => {
            let op = [":", "like", "like~", "regex", "regex~"][rng.below(5)];
            let l = child(rng, b, 5);
            let r = if rng.below(2) == 0 {
                child(rng, b, 5)
            } else {
                format!("({}, {})", child(rng, b, 1), child(rng, b, 1))
            };
            (format!("{l} {op} {r}"), 4)
        }
        5 => {
            let op = ["in", "in~", "not in", "not in~"][rng.below(4)];
            let l = child(rng, b, 5);
            (
                format!("{l} {op} ({}, {})", child(rng, b, 1), child(rng, b, 1)),
                4,
            )
        }
        6 => {
            let (op, level) = [("+", 5), ("-", 5), ("*", 6), ("/", 6), ("%", 6)][rng.below(5)];
            let l = child(rng, b, level);
            let r = child(rng, b, level + 1);
            (format!("{l} {op} {r}"), level)
        }
        7 => (format!("-{}", child(rng, b, 7)), 7),
        _ => {
            let name = ["length", "CONCAT", "startsWith~", "f"][rng.below(4)];
            (
                format!("{name}({}, {})", child(rng, b, 1), child(rng, b, 1)),
                8,
            )
        }
    }
}

/// A sub-expression for a place that needs at least level `min`.
fn child(rng: &mut Rng, budget: usize, min: u8) -> String {
    let (text, level) = expression(rng, budget);
    if level < min || rng.below(6) == 0 {
        format!("({text})")
    } else {
        text
    }
}

#[test]
fn random_valid_expressions_parse_and_round_trip() {
    let mut rng = Rng(0xfeed_0bad_f00d_0042);
    let mut failures = Vec::new();
    for i in 0..20_000 {
        let budget = 1 + rng.below(40);
        let (expr, _) = expression(&mut rng, budget);
        let text = format!("process where {expr}");
        if let Err(d) = parse(&text) {
            failures.push(format!("{text}\n  {}", d));
        } else if let Some(f) = exercise(&format!("expression {i}"), &text) {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn damaged_corpus_queries() {
    let Some(root) = corpus_root() else { return };
    let dir = root.join("detection-rules/rules");
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let mut failures = Vec::new();
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if entry.path().extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        if rule.get("language").and_then(|l| l.as_str()) != Some("eql") {
            continue;
        }
        let Some(query) = rule.get("query").and_then(|q| q.as_str()) else {
            continue;
        };
        seen += 1;
        let bounds: Vec<usize> = (0..=query.len())
            .filter(|&i| query.is_char_boundary(i))
            .collect();
        for _ in 0..6 {
            let a = bounds[rng.below(bounds.len())];
            let b = bounds[rng.below(bounds.len())];
            let (lo, hi) = (a.min(b), a.max(b));
            let name = entry.path().display().to_string();
            // Truncated, with a slice cut out, and with a slice doubled.
            let variants = [
                query[..lo].to_string(),
                format!("{}{}", &query[..lo], &query[hi..]),
                format!("{}{}", &query[..hi], &query[lo..]),
            ];
            for v in variants {
                if let Some(f) = exercise(&name, &v) {
                    failures.push(f);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(seen, 1024);
}
