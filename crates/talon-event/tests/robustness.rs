//! No input makes the readers, the flattener, the mapping parser or the
//! pattern matcher panic: deterministic pseudo-random JSON-like garbage and
//! mutations of real documents are fed through all of them.

mod common;

use talon_event::flatten::flatten;
use talon_event::index::IndexPatterns;
use talon_event::mapping::Mapping;

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
        (self.next() % n as u64) as usize
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
    "\"a\"",
    "\"_source\"",
    "\"hits\"",
    "\"type\"",
    "\"doc\"",
    "\"value\"",
    "\"events\"",
    "\"_id\"",
    "\"_index\"",
    "1",
    "-0.5e3",
    "null",
    "true",
    "\n",
    "\r\n",
    " ",
    "//",
    "#",
    "\u{feff}",
    "é",
    "\u{1F600}",
    "\"properties\"",
    "\"mappings\"",
    "\"fields\"",
    "\"alias\"",
    "\"path\"",
    "\"null_value\"",
    "*",
    "-",
    ".ds-",
    "2024.01.01",
    "000001",
];

fn garbage(rng: &mut Rng) -> Vec<u8> {
    let n = rng.below(60);
    let mut out = Vec::new();
    for _ in 0..n {
        if rng.below(10) == 0 {
            out.push(rng.next() as u8);
        } else {
            out.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
        }
    }
    out
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            break;
        }
        let at = rng.below(v.len());
        match rng.below(3) {
            0 => {
                v.remove(at);
            }
            1 => v.insert(at, TOKENS[rng.below(TOKENS.len())].as_bytes()[0]),
            _ => v.truncate(at),
        }
    }
    v
}

const SEEDS: &[&str] = &[
    "{\"n\":\"a\",\"x\":{\"y\":[1,{\"z\":null}]}}\n{\"n\":\"b\"}\n",
    "[\n {\"n\": \"a\"},\n // c\n {\"n\": \"b\"}\n]\n",
    "{\"hits\":{\"hits\":[{\"_index\":\"i\",\"_id\":\"1\",\"_source\":{\"n\":\"a\"}}]}}",
    "{\n \"type\": \"doc\",\n \"value\": {\"id\": \"1\", \"index\": \"x\", \"source\": {\"n\": 1}}\n}\n\n",
    "{\"events\":[{\"a\":1},{\"b\":2}]}",
];

#[test]
fn readers_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let bytes = if round % 2 == 0 {
            garbage(&mut rng)
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
            mutate(&mut rng, seed)
        };
        let input = if round % 5 == 0 {
            common::gzip(&bytes)
        } else {
            bytes.clone()
        };
        let (events, issues, stats) = common::read_bytes_all("fuzz", input);
        assert_eq!(stats.events, events.len() as u64);
        assert_eq!(stats.issue_count(), issues.len() as u64);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = flatten(text);
            let _ = Mapping::from_es_json(text);
            let pats = IndexPatterns::parse(text);
            let _ = pats.matches(text);
        }
    }
}

#[test]
fn truncated_compressed_streams_never_panic() {
    let text = SEEDS.concat().repeat(20);
    for bytes in [common::gzip(text.as_bytes()), common::zstd(text.as_bytes())] {
        for cut in (0..bytes.len()).step_by(7) {
            let (_, _, stats) = common::read_bytes_all("cut", bytes[..cut].to_vec());
            assert!(stats.files == 1);
        }
    }
}
