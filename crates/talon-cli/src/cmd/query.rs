//! `talon query`: one EQL query over events, answered like Elasticsearch's
//! EQL search API (ordering, pipes, `size`, `result_position`), printed as
//! the API's response body (`--format es`), JSON Lines, CSV or a table.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::value::RawValue;
use talon_engine::{ResultPosition, Search, SearchOptions};
use talon_eql::{CompileOptions, QueryKind};
use talon_event::read::ReadOptions;
use talon_event::{Event, Fields};


use crate::cli::{Format, Position, QueryArgs};
use crate::cmd::common;
use crate::output;
use crate::summary;

pub fn run(args: QueryArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let mapping = common::load_mapping(&args.input.mapping)?;
    let opts = CompileOptions {
        mapping: &mapping,
        event_category_field: &args.event_category_field,
        timestamp_field: &args.timestamp_field,
        tiebreaker_field: args.tiebreaker_field.as_deref(),
    };
    let query = match talon_eql::compile_str(&args.query, &opts) {
        Ok(q) => q,
        Err(diags) => {
            for d in diags {
                eprint!("{}", d.render("<query>", &args.query));
            }
            return Ok(ExitCode::from(1));
        }
    };
    for w in query.warnings() {
        eprint!("{}", w.render("<query>", &args.query).replacen("error:", "warning:", 1));
    }
    if query.kind() != QueryKind::Event {
        // TODO: sequences and samples (issue: sequences over streams).
        bail!("sequence and sample queries are not supported yet");
    }

    let mut read_opts = ReadOptions::default();
    if let Some(index) = &args.input.index {
        read_opts = read_opts.with_index(index.clone());
    }
    if mapping.is_explicit() {
        read_opts = read_opts.with_mapping(&mapping);
    }
    let mut reader = common::open_events(&args.input.events, read_opts, false)?;
    let search_opts = SearchOptions {
        timestamp_field: args.timestamp_field.clone(),
        tiebreaker_field: args.tiebreaker_field.clone(),
        size: args.size,
        result_position: match args.result_position {
            Position::Head => ResultPosition::Head,
            Position::Tail => ResultPosition::Tail,
        },
    };
    let mut search = Search::new(&query, &mapping, search_opts);
    for item in reader.by_ref() {
        match item {
            Ok(event) => {
                search.push(event);
            }
            Err(issue) => tracing::info!("{issue}"),
        }
    }
    let result = search.finish();
    let took = started.elapsed();

    let out = output::open(&args.output)?;
    let mut w = out.writer;
    let written = match out.format {
        Format::Es => write_es(&mut w, &result.events, result.total, took.as_millis() as u64),
        Format::Jsonl => write_jsonl(&mut w, &result.events),
        Format::Csv => write_csv(&mut w, &result.events),
        Format::Table => write_table(&mut w, &result.events),
    };
    let flushed = written.and_then(|_| w.flush().map_err(Into::into));
    if let Err(e) = flushed {
        let broken = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        if !broken {
            return Err(e).context("cannot write results");
        }
    }

    if !quiet {
        let mut s = String::new();
        let _ = summary::write_read_line(&mut s, reader.stats(), took);
        let _ = summary::write_skipped(&mut s, reader.stats());
        s.push_str(&format!(
            "talon: {} events matched, {} returned (--size {})\n",
            result.total,
            result.events.len(),
            args.size
        ));
        if result.without_timestamp > 0 {
            s.push_str(&format!(
                "talon: {} matched events have no `{}` and sort last\n",
                result.without_timestamp, args.timestamp_field
            ));
        }
        eprint!("{s}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The document id Elasticsearch would report: the input's `_id`, else a
/// stable id derived from the document text.
fn doc_id(event: &Event) -> String {
    match &event.id {
        Some(id) => id.to_string(),
        None => uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, event.source().as_bytes())
            .simple()
            .to_string(),
    }
}

#[derive(serde::Serialize)]
struct Hit<'a> {
    #[serde(rename = "_index")]
    index: Option<&'a str>,
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "_source")]
    source: &'a RawValue,
}

fn write_es(w: &mut dyn Write, events: &[Event], total: u64, took: u64) -> Result<()> {
    let mut sources = Vec::with_capacity(events.len());
    for e in events {
        sources.push(RawValue::from_string(e.source().to_string())?);
    }
    let hits: Vec<Hit<'_>> = events
        .iter()
        .zip(&sources)
        .map(|(e, s)| Hit { index: e.index.as_deref(), id: doc_id(e), source: s })
        .collect();
    let body = serde_json::json!({
        "is_partial": false,
        "is_running": false,
        "took": took,
        "timed_out": false,
        "hits": {
            "total": { "value": total, "relation": "eq" },
            "events": hits,
        }
    });
    serde_json::to_writer_pretty(&mut *w, &body)?;
    writeln!(w)?;
    Ok(())
}

fn write_jsonl(w: &mut dyn Write, events: &[Event]) -> Result<()> {
    for e in events {
        // The source is one JSON document; NDJSON needs it on one line.
        if e.source().contains('\n') {
            let v: serde_json::Value = serde_json::from_str(e.source())?;
            serde_json::to_writer(&mut *w, &v)?;
            writeln!(w)?;
        } else {
            writeln!(w, "{}", e.source().trim())?;
        }
    }
    Ok(())
}

/// Columns shown for events in CSV and table output.
const EVENT_COLUMNS: [&str; 6] =
    ["@timestamp", "event.category", "host.name", "user.name", "process.name", "process.command_line"];

fn cell(e: &Event, field: &str) -> String {
    let vals: Vec<String> = e.values(field).iter().map(|v| v.to_string()).collect();
    vals.join(", ")
}

fn write_csv(w: &mut dyn Write, events: &[Event]) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let mut header: Vec<&str> = EVENT_COLUMNS.to_vec();
    header.push("source");
    csv.write_record(&header)?;
    for e in events {
        let mut row: Vec<String> = EVENT_COLUMNS.iter().map(|c| cell(e, c)).collect();
        row.push(format!("{}:{}", e.origin.file, e.origin.line));
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

fn write_table(w: &mut dyn Write, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        writeln!(w, "(no matching events)")?;
        return Ok(());
    }
    let width: usize = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(120);
    for e in events {
        let line = format!(
            "{}  {:<10} {:<16} {:<10} {}",
            cell(e, "@timestamp"),
            cell(e, "event.category"),
            cell(e, "host.name"),
            cell(e, "user.name"),
            {
                let cmd = cell(e, "process.command_line");
                if cmd.is_empty() { cell(e, "process.name") } else { cmd }
            }
        );
        writeln!(w, "{}", truncate(&line, width))?;
    }
    Ok(())
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}
