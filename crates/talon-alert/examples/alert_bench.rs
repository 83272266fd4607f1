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
//! allocator is the command line's (mimalloc). Times are the thread's CPU
//! time where Linux gives it, and each figure is the best of the rounds,
//! since on a shared machine the slow rounds measure the neighbours.

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
    /// Only the JSON Lines writer, for a profiler.
    fast_only: bool,
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
    if args.fast_only {
        let fast = time_fast(&builder, &events, args.rounds)?;
        println!("write_event_alert_jsonl: {fast:8.2} µs/alert");
        return Ok(());
    }
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

    let fast = time_fast(&builder, &events, args.rounds)?;
    println!("write_event_alert_jsonl:            {fast:8.2} µs/alert");
    same_bytes(&builder, &events)?;

    // Two-event sequences: a shell and two building blocks each.
    let pairs: Vec<[&Event; 2]> = events.chunks_exact(2).map(|p| [&p[0], &p[1]]).collect();
    let plain_seq = best_of(args.rounds, pairs.len(), || {
        let mut sink = JsonLinesSink::new(Counter(0));
        for pair in &pairs {
            for alert in builder.sequence_alerts(pair).map_err(|e| e.to_string())? {
                sink.write(&alert).map_err(|e| e.to_string())?;
            }
        }
        sink.finish().map_err(|e| e.to_string())
    })?;
    let mut lines = Vec::with_capacity(256 * 1024);
    let fast_seq = best_of(args.rounds, pairs.len(), || {
        for pair in &pairs {
            lines.clear();
            builder
                .write_sequence_alerts_jsonl(pair, &mut lines)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    println!("sequence_alerts + JsonLinesSink::write: {plain_seq:8.2} µs/sequence of 2");
    println!("write_sequence_alerts_jsonl:            {fast_seq:8.2} µs/sequence of 2");

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

/// The JSON Lines writer into one reused buffer, as a worker thread would
/// use it.
fn time_fast(builder: &AlertBuilder<'_>, events: &[Event], rounds: usize) -> Result<f64, String> {
    let mut line = Vec::with_capacity(64 * 1024);
    best_of(rounds, events.len(), || {
        for event in events {
            line.clear();
            builder
                .write_event_alert_jsonl(event, &mut line)
                .map_err(|e| e.to_string())?;
            std::hint::black_box(&line);
        }
        Ok(())
    })
}

/// Checks that both paths wrote the same lines, so the figures compare
/// like with like.
fn same_bytes(builder: &AlertBuilder<'_>, events: &[Event]) -> Result<(), String> {
    let mut plain = Vec::new();
    let mut sink = JsonLinesSink::new(&mut plain);
    for event in events {
        let alert = builder.event_alert(event).map_err(|e| e.to_string())?;
        sink.write(&alert).map_err(|e| e.to_string())?;
    }
    sink.finish().map_err(|e| e.to_string())?;
    drop(sink);
    let mut fast = Vec::new();
    for event in events {
        builder
            .write_event_alert_jsonl(event, &mut fast)
            .map_err(|e| e.to_string())?;
    }
    if plain != fast {
        return Err("the two paths wrote different bytes".to_owned());
    }
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
        let started = Clock::now();
        round()?;
        best = best.min(started.elapsed_us() / items.max(1) as f64);
    }
    Ok(best)
}

/// The time this thread spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`), else
/// the wall clock: on a machine shared with other work, the wall clock
/// also counts the time spent waiting for a core.
enum Clock {
    Cpu(u64),
    Wall(Instant),
}

impl Clock {
    fn now() -> Clock {
        match thread_cpu_ns() {
            Some(ns) => Clock::Cpu(ns),
            None => Clock::Wall(Instant::now()),
        }
    }

    fn elapsed_us(&self) -> f64 {
        match self {
            Clock::Cpu(start) => {
                let now = thread_cpu_ns().unwrap_or(*start);
                now.saturating_sub(*start) as f64 / 1e3
            }
            Clock::Wall(start) => start.elapsed().as_secs_f64() * 1e6,
        }
    }
}

fn thread_cpu_ns() -> Option<u64> {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid timespec for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    if status != 0 {
        return None;
    }
    let secs = u64::try_from(time.tv_sec).ok()?;
    let nanos = u64::try_from(time.tv_nsec).ok()?;
    Some(secs * 1_000_000_000 + nanos)
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
        fast_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rule" => args.rule = PathBuf::from(value()?),
            "--rules-dir" => args.rules_dir = PathBuf::from(value()?),
            "--fast-only" => args.fast_only = true,
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
