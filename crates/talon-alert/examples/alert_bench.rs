//! Measures what an alert costs: building one JSON Lines alert per event
//! and writing it, in microseconds per alert, and what building the
//! per-rule [`AlertBuilder`]s costs for a whole rule folder.
//!
//! ```text
//! cargo run --release -p talon-alert --example alert_bench -- \
//!     [--rule RULE.toml] [--rules-dir DIR] [--rounds N] [EVENTS.ndjson]
//! ```
//!
//! Defaults: the seed rule and the prebuilt rule folder of the shared
//! corpora (`$TALON_CORPORA`, else `../shared/corpora` beside the
//! checkout), and the seed fixtures' Elastic Defend events. Every event is
//! turned into an alert whether or not the rule matches it: matching is not
//! what is measured. The alert time is pinned so runs compare, and the
//! allocator is the command line's (mimalloc). Each figure is the best of
//! the rounds, since on a shared machine the slow rounds measure the
//! neighbours.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use talon_alert::write::JsonLinesSink;
use talon_alert::{AlertBuilder, AlertContext, AlertSink};
use talon_event::read::{EventReader, ReadOptions};
use talon_event::Event;
use talon_rules::Rule;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    rule: PathBuf,
    rules_dir: PathBuf,
    events: PathBuf,
    rounds: usize,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("alert_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let ctx = AlertContext::with_now_override(Some("2026-01-01T00:00:00.000Z"))
        .map_err(|e| e.to_string())?;
    let rule = load_rules(&args.rule)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no rule", args.rule.display()))?;
    let events = read_events(&args.events)?;
    if events.is_empty() {
        return Err(format!("{}: no events", args.events.display()));
    }

    let builder = AlertBuilder::new(&rule, &ctx);
    let mut bytes = 0;
    let plain = best_of(args.rounds, events.len(), || {
        let mut counter = Counter(0);
        let mut sink = JsonLinesSink::new(&mut counter);
        for event in &events {
            let alert = builder.event_alert(event).map_err(|e| e.to_string())?;
            sink.write(&alert).map_err(|e| e.to_string())?;
        }
        sink.finish().map_err(|e| e.to_string())?;
        drop(sink);
        bytes = counter.0;
        Ok(())
    })?;
    println!(
        "{} events, rule {:?}, {} bytes per alert line",
        events.len(),
        rule.name,
        bytes / events.len()
    );
    println!("event_alert + JsonLinesSink::write: {plain:8.2} µs/alert");

    let rules = load_rules(&args.rules_dir)?;
    let startup = best_of(args.rounds.min(20), 1, || {
        let builders: Vec<AlertBuilder<'_>> =
            rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
        std::hint::black_box(&builders);
        Ok(())
    })?;
    println!(
        "AlertBuilder::new for {} rules: {:8.2} ms",
        rules.len(),
        startup / 1e3
    );
    Ok(())
}

/// Runs `round` `rounds` times; the best round's time in µs per item.
fn best_of(
    rounds: usize,
    items: usize,
    mut round: impl FnMut() -> Result<(), String>,
) -> Result<f64, String> {
    let mut best = f64::INFINITY;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        round()?;
        best = best.min(started.elapsed().as_secs_f64() * 1e6 / items.max(1) as f64);
    }
    Ok(best)
}

/// A writer that only counts, so the measure is building and encoding.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn parse_args() -> Result<Args, String> {
    let corpora = corpora();
    let mut args = Args {
        rule: corpora.join("detection-rules/seed-rule.toml"),
        rules_dir: corpora.join("detection-rules/rules"),
        events: workspace().join("tests/fixtures/seed/defend.ndjson"),
        rounds: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rule" => args.rule = PathBuf::from(value()?),
            "--rules-dir" => args.rules_dir = PathBuf::from(value()?),
            "--rounds" => {
                let text = value()?;
                args.rounds = text.parse().map_err(|_| format!("bad --rounds {text:?}"))?;
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ => args.events = PathBuf::from(arg),
        }
    }
    Ok(args)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpora() -> PathBuf {
    match std::env::var_os("TALON_CORPORA") {
        Some(dir) => PathBuf::from(dir),
        None => workspace().join("../shared/corpora"),
    }
}

fn load_rules(path: &Path) -> Result<Vec<Rule>, String> {
    let report = talon_rules::load_paths(&[path.to_path_buf()]);
    if report.rules.is_empty() {
        return Err(format!("{}: no rule loaded", path.display()));
    }
    Ok(report.rules)
}

fn read_events(path: &Path) -> Result<Vec<Event>, String> {
    let reader = EventReader::from_args(&[path.display().to_string()], ReadOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(reader.read_all().0)
}
