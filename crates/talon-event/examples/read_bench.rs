//! Measures reader throughput against its floor on one input file: reading
//! the lines, validating them as JSON, the full reader, and the reader with
//! a projection of a few fields. Run with `--release`.

use std::io::BufRead;
use std::time::Instant;

use talon_event::flatten::Projection;
use talon_event::read::{EventReader, InputSpec, ReadOptions};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_bench FILE");
        std::process::exit(2);
    };
    let mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let report = |what: &str, start: Instant, n: u64| {
        let s = start.elapsed().as_secs_f64();
        println!("{what:<28} {n:>8} in {s:>6.3}s  {:>8.1} MB/s", mb / s);
    };

    let t = Instant::now();
    let mut n = 0u64;
    if let Ok(f) = std::fs::File::open(&path) {
        let mut r = std::io::BufReader::with_capacity(256 * 1024, f);
        let mut buf = Vec::new();
        while r
            .read_until(b'\n', &mut buf)
            .map(|k| k > 0)
            .unwrap_or(false)
        {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&buf).is_ok() {
                n += 1;
            }
            buf.clear();
        }
    }
    report("lines + serde IgnoredAny", t, n);

    let run = |what: &str, options: ReadOptions| {
        let t = Instant::now();
        let reader = EventReader::new(vec![InputSpec::parse(&path)], options);
        let mut fields = 0usize;
        let mut n = 0u64;
        for e in reader.flatten() {
            fields += e.len();
            n += 1;
        }
        report(what, t, n);
        fields
    };
    run("EventReader (all fields)", ReadOptions::default());
    let p = Projection::only([
        "event.action",
        "event.type",
        "event.category",
        "process.name",
        "process.args",
        "process.parent.name",
        "process.parent.executable",
        "host.os.type",
        "@timestamp",
    ]);
    run(
        "EventReader (9 fields)",
        ReadOptions::default().with_projection(p),
    );
}
