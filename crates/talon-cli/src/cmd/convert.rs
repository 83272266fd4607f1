//! `talon convert`: inputs in any format talon reads (auditd, Sysmon for
//! Linux, Falco, Tetragon, osquery, SentinelOne, Auditbeat, ECS) out as
//! Elastic Defend-shaped ECS, one JSON document per line, ready to be
//! indexed elsewhere; or, with `--bulk`, as an Elasticsearch `_bulk` body.
//!
//! What is written is each event's document as talon searched it (the
//! nested ECS a normalizer built, or the ECS input as it was), so `talon
//! query` over the output finds what it finds over the inputs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use talon_event::read::ReadOptions;
use talon_event::Event;

use crate::cli::SourceArg;
use crate::cmd::common;
use crate::cmd::interrupt::{self, Interrupt};
use crate::summary;

pub const CONVERT_EXAMPLES: &str = "Examples:
  talon convert /var/log/audit/audit.log -o events.ndjson
  talon convert --source falco falco-alerts.json.gz
  talon convert logs/ --bulk | curl -s -H 'Content-Type: application/x-ndjson' \\
      -XPOST \"$ES/_bulk\" --data-binary @-
  talon convert audit.log | talon query 'process where process.name == \"sysctl\"' -";

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input files or folders, in any format talon reads (.gz, .zst
    /// too). `-` reads stdin.
    #[arg(value_name = "INPUTS", required = true)]
    pub inputs: Vec<String>,

    /// What wrote the inputs: `auto` recognises each input by its content;
    /// a source name reads every input as that source.
    #[arg(long, value_enum, default_value = "auto", value_name = "NAME")]
    pub source: SourceArg,

    /// Give every event this index (with --bulk, the `_index` of each
    /// action; the documents themselves are written as they are).
    #[arg(long, value_name = "NAME", value_parser = crate::cli::parse_index_name)]
    pub index: Option<String>,

    /// Write an Elasticsearch `_bulk` body: a `create` action (what data
    /// streams accept) before each document.
    #[arg(long)]
    pub bulk: bool,

    /// Write to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Read files instead of mapping them into memory (see `talon hunt
    /// --help`).
    #[arg(long)]
    pub no_mmap: bool,

    /// The longest NDJSON line read (see `talon hunt --help`).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = crate::cli::parse_line_size)]
    pub max_line: usize,
}

pub fn run(args: ConvertArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    // Raised by Ctrl-C once the handlers are in (below); the reader looks
    // at it too, to stop counting an input that is not JSON.
    let stop = Arc::new(AtomicBool::new(false));
    let mut opts = ReadOptions {
        mmap: !args.no_mmap,
        stop: Some(Arc::clone(&stop)),
        max_line: args.max_line,
        ..ReadOptions::default()
    };
    if let Some(index) = &args.index {
        opts = opts.with_index(index.clone());
    }
    common::refuse_output_over_inputs(
        args.output.as_deref(),
        "--output",
        &common::event_paths(&args.inputs),
    )?;
    crate::output::refuse_csv_name(args.output.as_deref(), "convert")?;
    let mut events = common::open_events(&args.inputs, args.source, opts, false)?;
    let (mut w, _) = crate::output::writer(args.output.as_deref(), "the events")?;
    let mut written = 0u64;
    let mut no_index = 0u64;
    let mut result = Ok(());
    // From here on, Ctrl-C stops reading and keeps what was written whole.
    let interrupt = Interrupt::install(stop)?;
    while let Some(item) = interrupt.next_of(&mut events) {
        // An issue is counted, and logged at -vv, by the reader.
        let Ok(event) = item else {
            continue;
        };
        if args.bulk && event.index.is_none() {
            no_index += 1;
        }
        result = write_event(&mut w, &event, args.bulk);
        if result.is_err() {
            break;
        }
        written += 1;
    }
    let finished = common::finish_output(
        result.and_then(|_| w.flush().map_err(Into::into)),
        "events",
        args.output.as_deref(),
    )?;
    if !quiet {
        let stats = events.stats();
        let mut s = String::new();
        let _ = summary::write_read_line(&mut s, &stats, started.elapsed());
        s.push_str(&stats.to_string());
        let to = match crate::output::file(args.output.as_deref()) {
            Some(p) => p.display().to_string(),
            None => "stdout".to_string(),
        };
        let what = if args.bulk {
            " as _bulk create actions"
        } else {
            ""
        };
        // Broken off, the last events handed over may not have got out.
        let at_most = match finished {
            common::Written::Whole => "",
            common::Written::CutShort => "at most ",
        };
        s.push_str(&format!(
            "talon: wrote {at_most}{} to {to}{what}\n",
            summary::count(written, "event")
        ));
        if no_index > 0 {
            s.push_str(&format!(
                "talon: {} without an index: their actions name none, so the request must \
                 (POST /<index>/_bulk), or pass --index NAME\n",
                summary::count(no_index, "event")
            ));
        }
        eprint!("{s}");
    }
    if finished == common::Written::CutShort {
        return Ok(common::cut_short(quiet, common::Unread::Stopped));
    }
    if let Some(signal) = interrupt.signal() {
        return Ok(interrupt::interrupted(quiet, signal));
    }
    Ok(common::input_exit_code(&events.stats()))
}

/// One event: its document on one line, after its action with `--bulk`.
fn write_event(w: &mut dyn Write, event: &Event, bulk: bool) -> Result<()> {
    if bulk {
        serde_json::to_writer(&mut *w, &bulk_action(event))?;
        w.write_all(b"\n")?;
    }
    w.write_all(common::source_line(event).as_bytes())?;
    w.write_all(b"\n")?;
    Ok(())
}

/// `{"create":{"_index":…,"_id":…}}`: `create` because data streams take
/// nothing else; `_id` when the input had one (a search hit), so indexing
/// the output twice does not duplicate it.
fn bulk_action(event: &Event) -> serde_json::Value {
    let mut meta = serde_json::Map::new();
    if let Some(index) = event.index.as_deref() {
        meta.insert("_index".into(), bulk_target(index).into());
    }
    if let Some(id) = event.id.as_deref() {
        meta.insert("_id".into(), id.into());
    }
    serde_json::json!({ "create": meta })
}

/// The index to write to: a data stream's backing index
/// (`.ds-<stream>-<yyyy.mm.dd>-<generation>`, what a search hit names)
/// becomes the stream, since Elasticsearch refuses `create` into a backing
/// index.
fn bulk_target(index: &str) -> &str {
    let Some(rest) = index.strip_prefix(".ds-") else {
        return index;
    };
    let mut parts = rest.rsplitn(3, '-');
    let (Some(generation), Some(date), Some(stream)) = (parts.next(), parts.next(), parts.next())
    else {
        return index;
    };
    let is_date = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'.'
            } else {
                b.is_ascii_digit()
            }
        });
    if is_date
        && !generation.is_empty()
        && generation.bytes().all(|b| b.is_ascii_digit())
        && !stream.is_empty()
    {
        stream
    } else {
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_indices_become_their_data_stream() {
        assert_eq!(
            bulk_target(".ds-logs-endpoint.events.process-default-2026.11.30-000001"),
            "logs-endpoint.events.process-default"
        );
        assert_eq!(
            bulk_target("logs-endpoint.events.process-default"),
            "logs-endpoint.events.process-default"
        );
        // Not the backing-index shape: left as it is.
        assert_eq!(bulk_target(".ds-x"), ".ds-x");
        assert_eq!(
            bulk_target(".ds-logs-a-2026.1.30-000001"),
            ".ds-logs-a-2026.1.30-000001"
        );
        assert_eq!(
            bulk_target(".ds-logs-a-2026.11.30-x1"),
            ".ds-logs-a-2026.11.30-x1"
        );
    }

    #[test]
    fn pretty_documents_are_written_on_one_line_with_their_action() {
        let flattener = talon_event::flatten::Flattener::default();
        let mut event = flattener
            .event("{\n  \"a\": 1.50,\n  \"b\": {\"c\": \"x y\\\" }\"}\n}")
            .expect("event");
        event.index = Some(".ds-logs-x-default-2026.01.02-000003".into());
        event.id = Some("abc".into());
        let mut out = Vec::new();
        write_event(&mut out, &event, true).expect("written");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"create\":{\"_index\":\"logs-x-default\",\"_id\":\"abc\"}}\n{\"a\":1.50,\"b\":{\"c\":\"x y\\\" }\"}}\n"
        );
    }
}
