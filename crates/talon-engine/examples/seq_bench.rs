//! Throughput and memory of the streaming sequence runner.
//!
//! Generates N events on the fly (none are kept) for
//! `sequence by host.id, process.entity_id with maxspan=1m
//!  [process where event.type == "start"] [network where true]`
//! and prints events per second (wall clock and CPU time), matches, the most sequences held at once
//! and the peak resident memory (VmHWM), plus the resident memory at each
//! tenth of the run, so a flat line shows that memory does not grow with
//! the input.
//!
//! ```text
//! cargo run --release -p talon-engine --example seq_bench -- 10000000
//! ```

use std::sync::Arc;
use std::time::Instant;

use talon_engine::{SequenceOptions, SequenceRunner};
use talon_eql::{compile_str, CompileOptions};
use talon_event::mapping::Mapping;
use talon_event::{Event, Value};

const QUERY: &str = r#"sequence by host.id, process.entity_id with maxspan=1m
  [process where event.type == "start"]
  [network where true]"#;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// User + system CPU seconds of this process (clock ticks at the usual
/// 100 Hz), so a loaded machine does not distort the rate.
fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)` part; utime and stime are the 12th and 13th.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One event: every millisecond, a process start (30%), a network event
/// of a recently started process (60%) or of a long-gone one (10%).
fn event(i: u64, rng: &mut Rng, started: &mut Vec<(u64, u64)>) -> Event {
    let mut e = Event::default();
    e.seq = i;
    e.push("@timestamp", Value::Int(1_700_000_000_000 + i as i64));
    let roll = rng.below(10);
    let (host, entity, category) = if roll < 3 || started.is_empty() {
        let host = rng.below(100);
        // A ring of the most recent starts.
        if started.len() < 100_000 {
            started.push((host, i));
        } else {
            let slot = (i as usize) % started.len();
            started[slot] = (host, i);
        }
        e.push("event.type", Value::str("start"));
        (host, i, "process")
    } else if roll < 9 {
        let recent = started.len().min(20_000) as u64;
        let idx = (started.len() as u64 - 1).saturating_sub(rng.below(recent)) as usize;
        let (host, entity) = started[idx];
        (host, entity, "network")
    } else {
        (rng.below(100), rng.below(i.max(1)), "network")
    };
    e.push("event.category", Value::str(category));
    e.push("host.id", Value::str(&format!("host-{host}")));
    e.push("process.entity_id", Value::str(&format!("proc-{entity}")));
    e
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let mapping = Mapping::default();
    let query = match compile_str(QUERY, &CompileOptions::default()) {
        Ok(q) => q,
        Err(d) => {
            eprintln!("query does not compile: {d:?}");
            std::process::exit(2);
        }
    };
    let opts = SequenceOptions {
        name: Some("seq_bench".into()),
        ..SequenceOptions::default()
    };
    let mut runner = match SequenceRunner::new(&query, &mapping, opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut started = Vec::new();
    let mut matches = 0u64;
    let mut rss = Vec::new();
    let start = Instant::now();
    let cpu_start = cpu_seconds().unwrap_or(0.0);
    for i in 0..n {
        let e = Arc::new(event(i, &mut rng, &mut started));
        runner.push(&e, &mut |_| matches += 1);
        if (i + 1) % (n / 10).max(1) == 0 {
            rss.push(status_kib("VmRSS:").unwrap_or(0) / 1024);
        }
    }
    let stats = runner.finish(&mut |_| matches += 1);
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(0.0) - cpu_start;
    println!("events: {n}");
    println!("events/s (wall): {:.0}", n as f64 / secs.max(1e-9));
    println!("events per CPU second: {:.0}", n as f64 / cpu.max(1e-9));
    println!("matches: {matches}");
    println!("peak sequences held: {}", stats.peak_held);
    println!("evicted: {}, late: {}", stats.evicted, stats.late_events);
    println!("RSS by tenth of the run (MiB): {rss:?}");
    println!(
        "peak RSS (VmHWM): {} MiB",
        status_kib("VmHWM:").unwrap_or(0) / 1024
    );
}
