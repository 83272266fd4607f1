//! Helpers shared by the integration tests: reading text through the real
//! reader, and locating the shared corpora.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use talon_event::read::{
    Batch, ChunkCounts, EventReader, LineParser, ReadIssue, ReadOptions, ReadStats,
};
use talon_event::Event;

/// Reads `text` as one stdin-like input named `name`.
pub fn read_text(name: &str, text: &str, options: ReadOptions) -> (Vec<Event>, ReadStats) {
    EventReader::from_reader(
        name,
        std::io::Cursor::new(text.as_bytes().to_vec()),
        options,
    )
    .read_all()
}

/// Reads bytes; returns events, issues (all of them, in order) and stats.
pub fn read_bytes_all(name: &str, bytes: Vec<u8>) -> (Vec<Event>, Vec<ReadIssue>, ReadStats) {
    let mut reader =
        EventReader::from_reader(name, std::io::Cursor::new(bytes), ReadOptions::default());
    let mut events = Vec::new();
    let mut issues = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(e) => events.push(e),
            Err(i) => issues.push(i),
        }
    }
    (events, issues, reader.into_stats())
}

/// Reads `reader` to its end, item by item, or (`batch_bytes`) as `hunt`
/// does: a batch at a time, its line chunks parsed by a [`LineParser`]
/// with `options`. Calls `between` after each step (to change the file
/// while it is read). Returns the events counted and every issue, in
/// order.
pub fn read_stepwise(
    reader: &mut EventReader,
    options: &ReadOptions,
    batch_bytes: Option<usize>,
    between: &mut dyn FnMut(),
) -> (u64, Vec<ReadIssue>) {
    let mut parser = LineParser::new(options);
    let (mut events, mut issues) = (0u64, Vec::new());
    loop {
        let items = match batch_bytes {
            None => match reader.next() {
                Some(item) => vec![item],
                None => break,
            },
            Some(bytes) => match reader.next_batch(bytes) {
                Some(Batch::Items(items)) => items,
                Some(Batch::Lines(chunk)) => {
                    let mut counts = ChunkCounts::default();
                    parser.read(&chunk, &mut |_| events += 1, &mut counts);
                    issues.extend(counts.issues.iter().cloned());
                    reader.record_chunk(&counts);
                    Vec::new()
                }
                None => break,
            },
        };
        for item in items {
            match item {
                Ok(_) => events += 1,
                Err(i) => issues.push(i),
            }
        }
        between();
    }
    (events, issues)
}

/// The shared corpora: `$TALON_CORPORA`, else `shared/corpora` next to the
/// repository, else `/work/shared/corpora`. `None` (after printing why)
/// when none exists, so corpus tests skip instead of failing on machines
/// without it.
pub fn corpora() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("TALON_CORPORA") {
        candidates.push(PathBuf::from(dir));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(repo_parent) = manifest.ancestors().nth(3) {
        candidates.push(repo_parent.join("shared").join("corpora"));
    }
    candidates.push(PathBuf::from("/work/shared/corpora"));
    for c in &candidates {
        if c.is_dir() {
            return Some(c.clone());
        }
    }
    println!("skipped: corpus not found at {}", candidates[0].display());
    None
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).expect("zstd into memory")
}
