//! The Rust side of `tools/diff_eql_sequences.py`: runs each query of a
//! file (one per line) over an NDJSON event file with [`SequenceSearch`]
//! and prints, per query, one line with the sequences as a JSON array of
//! `id` arrays, in result order.
//!
//! The events carry their category in `event_type` and their time in
//! `timestamp` (epoch milliseconds), as the Python `eql` engine reads them.
//!
//! ```text
//! cargo run --release -p talon-engine --example seq_diff -- events.ndjson queries.txt
//! ```

use std::sync::Arc;

use talon_engine::{ResultPosition, SequenceOptions, SequenceSearch};
use talon_eql::{compile_str, CompileOptions};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, InputSpec, ReadOptions};
use talon_event::Value;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [events_path, queries_path] = args.as_slice() else {
        eprintln!("usage: seq_diff EVENTS.ndjson QUERIES.txt");
        std::process::exit(2);
    };
    let reader = EventReader::new(vec![InputSpec::parse(events_path)], ReadOptions::default());
    let (events, stats) = reader.read_all();
    if stats.issue_count() > 0 {
        eprintln!("{} unreadable lines in {events_path}", stats.issue_count());
        std::process::exit(2);
    }
    let events: Vec<_> = events.into_iter().map(Arc::new).collect();
    let queries = match std::fs::read_to_string(queries_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{queries_path}: {e}");
            std::process::exit(2);
        }
    };
    let mapping = Mapping::default();
    let copts = CompileOptions {
        mapping: &mapping,
        event_category_field: "event_type",
        timestamp_field: "timestamp",
        tiebreaker_field: None,
    };
    for line in queries.lines().filter(|l| !l.trim().is_empty()) {
        let query = match compile_str(line, &copts) {
            Ok(q) => q,
            Err(d) => {
                println!("error: {:?}", d.first().map(|d| d.message.clone()));
                continue;
            }
        };
        let opts = SequenceOptions {
            timestamp_field: "timestamp".into(),
            reorder_window_nanos: i64::MAX,
            reorder_max_events: usize::MAX,
            size: usize::MAX,
            result_position: ResultPosition::Head,
            ..SequenceOptions::default()
        };
        let mut search = match SequenceSearch::new(&query, &mapping, opts) {
            Ok(s) => s,
            Err(e) => {
                println!("error: {e}");
                continue;
            }
        };
        for e in &events {
            search.push(e);
        }
        let result = search.finish();
        let rows: Vec<String> = result
            .sequences
            .iter()
            .map(|m| {
                let ids: Vec<String> = m
                    .events
                    .iter()
                    .map(|e| match e.as_ref().and_then(|e| e.first("id")) {
                        Some(Value::Int(i)) => i.to_string(),
                        _ => "-1".to_string(),
                    })
                    .collect();
                format!("[{}]", ids.join(","))
            })
            .collect();
        println!("[{}]", rows.join(","));
    }
}
