//! The scanner against the flattener on one NDJSON file held in memory:
//! MB/s and ns per line on one core. Two figures per run: the CPU time of
//! the fastest of three runs, and the sum of each chunk of 1000 lines'
//! fastest time, which on a busy machine is closer to what a quiet one
//! gives. Run with `--release`:
//!
//! ```sh
//! cargo run --release -p talon-bench -- --size 100MB --seed 42 \
//!     --matches 1000 --out /tmp/ev100.ndjson
//! cargo run --release -p talon-event --example scan_bench -- /tmp/ev100.ndjson
//! ```
//!
//! The projection is every field the prebuilt rules read
//! (`tests/data/prebuilt-rule-fields.txt`, or a file given as the second
//! argument, one path per line). The flattener is measured with that list
//! as `talon hunt` passes it, and with its `data_stream` prefix entry
//! spelled as the three leaves, which is what the scanner gets.

use std::hint::black_box;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use talon_event::catalog::FieldCatalog;
use talon_event::flatten::{Flattener, Projection};
use talon_event::scan::{RawDoc, Scanner};
use talon_event::Fields;

/// Fields a rule evaluation reads from most events.
const READ: &[&str] = &[
    "event.category",
    "process.name",
    "host.os.type",
    "@timestamp",
    "process.args",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: scan_bench FILE [FIELDS_FILE]");
        std::process::exit(2);
    };
    let fields_file = args.next().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/prebuilt-rule-fields.txt")
            .display()
            .to_string()
    });
    let data = read(&path);
    let listed: Vec<String> = String::from_utf8_lossy(&read(&fields_file))
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let mut leaves: Vec<String> = listed
        .iter()
        .filter(|f| *f != "data_stream")
        .cloned()
        .collect();
    for leaf in [
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
    ] {
        if !leaves.iter().any(|f| f == leaf) {
            leaves.push(leaf.to_string());
        }
    }

    // Only UTF-8 lines, so that `lines[i]` and `texts[i]` are one line.
    let texts: Vec<&str> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| std::str::from_utf8(l).ok())
        .collect();
    let lines: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!(
        "{path}: {} lines, {:.1} MB, {:.0} bytes/line; projection {} fields ({} as leaves)",
        lines.len(),
        bytes as f64 / 1e6,
        bytes as f64 / lines.len() as f64,
        listed.len(),
        leaves.len()
    );
    println!(
        "{:<40} {:>17}  {:>21}",
        "", "CPU time, best run", "best chunk of 1000"
    );
    let per_line = |seconds: f64| {
        format!(
            "{:>6.0} MB/s {:>5.0} ns",
            bytes as f64 / seconds / 1e6,
            seconds * 1e9 / lines.len() as f64
        )
    };

    let listed_flat = Flattener::new().with_projection(Projection::only(&listed));
    let leaf_flat = Flattener::new().with_projection(Projection::only(&leaves));
    let scanner = Scanner::new(FieldCatalog::new(&leaves));
    let catalog = scanner.catalog();
    let read_ids: Vec<_> = READ.iter().filter_map(|p| catalog.lookup(p)).collect();
    // The runs share these; each owns its `RawDoc`.
    let (lines, texts, scanner, read_ids) = (&lines, &texts, &scanner, &read_ids);

    // A run reads the lines in a range and returns a count, so that it
    // can be timed whole and in chunks.
    type Run<'r> = Box<dyn FnMut(Range<usize>) -> usize + 'r>;
    let runs: Vec<(&str, String, Run)> = vec![
        (
            "flat-hunt",
            "flattener fields (hunt's list)".into(),
            Box::new(|r| {
                texts[r]
                    .iter()
                    .filter(|t| listed_flat.fields(t).is_ok())
                    .count()
            }),
        ),
        (
            "flat-hunt-event",
            "flattener event (hunt's list)".into(),
            Box::new(|r| {
                texts[r]
                    .iter()
                    .filter(|t| listed_flat.event(t).is_ok())
                    .count()
            }),
        ),
        (
            "flat",
            "flattener fields (leaves)".into(),
            Box::new(|r| {
                texts[r]
                    .iter()
                    .filter(|t| leaf_flat.fields(t).is_ok())
                    .count()
            }),
        ),
        ("scan", "scan".into(), {
            let mut doc = RawDoc::new();
            Box::new(move |r| {
                lines[r]
                    .iter()
                    .filter(|l| scanner.scan(l, &mut doc).is_ok())
                    .count()
            })
        }),
        (
            "read",
            format!("scan + read {} fields (Record::values)", READ.len()),
            {
                let mut doc = RawDoc::new();
                Box::new(move |r| {
                    let mut values = 0;
                    for line in &lines[r] {
                        if let Ok(record) = scanner.read(line, &mut doc) {
                            for p in READ {
                                values += black_box(record.values(p)).len();
                            }
                        }
                    }
                    values
                })
            },
        ),
        (
            "raw",
            format!("scan + raw strings of {} fields", read_ids.len()),
            {
                let mut doc = RawDoc::new();
                Box::new(move |r| {
                    let mut scratch = String::new();
                    let mut bytes = 0;
                    for line in &lines[r] {
                        if let Ok(record) = scanner.read(line, &mut doc) {
                            for &id in read_ids.iter() {
                                for raw in record.raw_strs(id) {
                                    bytes += black_box(raw.get(&mut scratch)).len();
                                }
                            }
                        }
                    }
                    bytes
                })
            },
        ),
        ("event", "scan + to_event (every kept field)".into(), {
            let mut doc = RawDoc::new();
            Box::new(move |r| {
                let mut values = 0;
                for line in &lines[r] {
                    if let Ok(event) = scanner.read(line, &mut doc).and_then(|r| r.to_event()) {
                        values += black_box(event).len();
                    }
                }
                values
            })
        }),
        (
            "floor",
            "floor: serde_json IgnoredAny".into(),
            Box::new(|r| {
                texts[r]
                    .iter()
                    .filter(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok())
                    .count()
            }),
        ),
    ];

    // `SCAN_BENCH_ONLY=NAME`: that run alone, ten times, for a profiler.
    let only = std::env::var("SCAN_BENCH_ONLY").ok();
    let all = 0..lines.len();
    for (name, what, mut run) in runs {
        match &only {
            Some(o) if o != name => continue,
            Some(_) => {
                let t = Clock::start();
                let n: usize = (0..10).map(|_| black_box(run(all.clone()))).sum();
                println!("{what} (x10): {}  {n}", per_line(t.seconds() / 10.0));
            }
            None => {
                let (whole, chunks, n) = measure(&mut run, lines.len());
                println!("{what:<40} {}  {}  {n}", per_line(whole), per_line(chunks));
            }
        }
    }
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    })
}

/// Seconds this thread has run on a CPU (Linux: `/proc/thread-self/
/// schedstat`), so that other work on a shared machine does not count;
/// wall-clock seconds where that is not available.
struct Clock {
    wall: Instant,
    cpu: Option<u64>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: cpu_nanos(),
        }
    }

    fn seconds(&self) -> f64 {
        match (self.cpu, cpu_nanos()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

fn cpu_nanos() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

const RUNS: usize = 3;
const CHUNK: usize = 1000;

/// Three runs over all `n` lines: the CPU time of the fastest, the sum
/// over chunks of 1000 lines of each chunk's fastest wall time (a chunk
/// takes about a millisecond, so most chunks of some run go through
/// without being preempted or having their caches evicted on a busy
/// machine), and what the last run returned.
fn measure(run: &mut impl FnMut(Range<usize>) -> usize, n: usize) -> (f64, f64, usize) {
    let chunks: Vec<Range<usize>> = (0..n)
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(n))
        .collect();
    let mut whole = f64::INFINITY;
    let mut fastest = vec![f64::INFINITY; chunks.len()];
    let mut out = 0;
    for _ in 0..RUNS {
        let t = Clock::start();
        out = 0;
        for (i, c) in chunks.iter().enumerate() {
            let w = Instant::now();
            out += black_box(run(c.clone()));
            fastest[i] = fastest[i].min(w.elapsed().as_secs_f64());
        }
        whole = whole.min(t.seconds());
    }
    (whole, fastest.iter().sum(), out)
}
