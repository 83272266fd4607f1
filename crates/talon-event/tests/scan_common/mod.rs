//! The scanner held to the flattener, line by line: shared by the scanner's
//! differential and robustness tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use talon_event::flatten::FieldMap;
use talon_event::record::Record;
use talon_event::scan::{Fallback, RawDoc, Scanner};
use talon_event::{Fields, Value};

/// What the scanner did with a line the comparison accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Scanned, and every kept field equals the flattener's.
    Fast,
    /// Handed back to the flattener, which rejects the line.
    Rejected,
    /// Handed back to the flattener, which accepts the line: a line the
    /// fast path chose not to handle.
    Fallback,
}

/// A value with floats compared by their bits (`-0.0` is not `0.0` here).
#[derive(Debug, PartialEq)]
enum Exact<'v> {
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(&'v str),
    Null,
}

fn exact(values: &[Value]) -> Vec<Exact<'_>> {
    values
        .iter()
        .map(|v| match v {
            Value::Bool(b) => Exact::Bool(*b),
            Value::Int(i) => Exact::Int(*i),
            Value::Float(f) => Exact::Float(f.to_bits()),
            Value::Str(s) => Exact::Str(s),
            Value::Null => Exact::Null,
        })
        .collect()
}

pub fn show(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

/// Scans `line` and, when the scanner accepts it, checks it against the
/// flattener of the same catalog: the flattener accepts it too, and gives
/// the same values for every field, through every way a record gives them.
/// Panics (with the line) on any difference.
pub fn check(scanner: &Scanner, doc: &mut RawDoc, line: &[u8]) -> Outcome {
    let catalog = scanner.catalog();
    let want = std::str::from_utf8(line)
        .ok()
        .map(|text| catalog.flattener().fields(text));
    if scanner.scan(line, doc) == Err(Fallback) {
        return match want {
            Some(Ok(_)) => Outcome::Fallback,
            _ => Outcome::Rejected,
        };
    }
    let want: FieldMap = match want {
        Some(Ok(fields)) => fields,
        Some(Err(e)) => panic!(
            "scanner accepted a line the flattener rejects ({e}):\n{}",
            show(line)
        ),
        None => panic!("scanner accepted a line that is not UTF-8:\n{}", show(line)),
    };
    let record = Record::new(line, doc, catalog).expect("a record of the scanned line");

    // Read half the fields by path first, then everything by id: the cache
    // must give the same answer whichever way a field is first read.
    for (i, (path, values)) in want.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(
                exact(record.values(path)),
                exact(values),
                "field {path} of\n{}",
                show(line)
            );
        }
    }
    for (path, values) in &want {
        let id = catalog.lookup(path).unwrap_or_else(|| {
            panic!(
                "the flattener kept {path}, which has no id, yet the line was scanned:\n{}",
                show(line)
            )
        });
        assert_eq!(
            exact(record.values_by_id(id)),
            exact(values),
            "field {path} of\n{}",
            show(line)
        );
        let strs: Vec<String> = {
            let mut scratch = String::new();
            record
                .raw_strs(id)
                .map(|s| s.get(&mut scratch).to_string())
                .collect()
        };
        // A `null_value` is not text of the line: raw strings leave it out.
        if catalog.null_value(id).is_none() {
            let want_strs: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            assert_eq!(strs, want_strs, "raw strings of {path} in\n{}", show(line));
        }
    }
    for &id in record.fields() {
        assert!(
            want.contains_key(catalog.path(id)),
            "scanner found {} where the flattener found nothing:\n{}",
            catalog.path(id),
            show(line)
        );
    }
    for id in catalog.ids() {
        assert_eq!(record.is_missing(id), !want.contains_key(catalog.path(id)));
    }

    let text = std::str::from_utf8(line).expect("checked above");
    let event = record.to_event().expect("an event of the scanned line");
    let flat = catalog.flattener().event(text).expect("checked above");
    assert_eq!(event.source(), flat.source());
    assert_eq!(event.fields_from_source(), flat.fields_from_source());
    assert_eq!(event.len(), flat.len());
    for (path, values) in flat.iter() {
        assert_eq!(
            exact(event.values(path)),
            exact(values),
            "event field {path}"
        );
    }
    Outcome::Fast
}

/// Counts of what `check` did over many lines.
#[derive(Debug, Default)]
pub struct Tally {
    pub fast: usize,
    pub rejected: usize,
    pub fallback: usize,
}

impl Tally {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Fast => self.fast += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Fallback => self.fallback += 1,
        }
    }
}

/// The field paths all prebuilt rules read (`talon_engine::fields_read`
/// over the 1,024 EQL rules of the shared corpus), as `talon hunt` projects
/// today. Regenerate with
/// `cargo run --release -p talon-bench --example fields_read -- ../shared/corpora/detection-rules/rules > crates/talon-event/tests/data/prebuilt-rule-fields.txt`.
pub fn prebuilt_fields() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/prebuilt-rule-fields.txt");
    std::fs::read_to_string(path)
        .expect("tests/data/prebuilt-rule-fields.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The same list with the `data_stream` prefix entry spelled as the three
/// leaves it stands for, so no leaf of a generated event lacks an id.
pub fn prebuilt_leaves() -> Vec<String> {
    let mut out: Vec<String> = prebuilt_fields()
        .into_iter()
        .filter(|f| f != "data_stream")
        .collect();
    for leaf in [
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
    ] {
        if !out.iter().any(|f| f == leaf) {
            out.push(leaf.to_string());
        }
    }
    out
}

/// Generated ECS events (the benchmark generator), one per line.
pub fn generated(size: u64, seed: u64, matches: u64) -> Vec<u8> {
    let cfg = talon_bench::Config {
        size,
        seed,
        matches,
        near_misses: matches,
        ..talon_bench::Config::default()
    };
    let mut out = Vec::new();
    talon_bench::generate(&cfg, &mut out).expect("generate into memory");
    out
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
