//! `talon query`: one EQL query over events, answered like Elasticsearch's
//! EQL search API (ordering, pipes, `size`, `result_position`), printed as
//! the API's response body (`--format es`), JSON Lines, CSV or a table.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;
use talon_event::terminal::{display_width, fit, pad};

use anyhow::Result;
use serde_json::value::RawValue;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use talon_engine::sequence::{SequenceOptions, SequenceResult, SequenceSearch};
use talon_engine::{ResultPosition, Search, SearchOptions};
use talon_eql::{CompileOptions, QueryKind};
use talon_event::read::ReadOptions;
use talon_event::{Event, Fields};

use crate::cli::{Format, Position, QueryArgs};
use crate::cmd::common;
use crate::cmd::interrupt::{self, Interrupt};
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
        eprint!(
            "{}",
            w.render("<query>", &args.query)
                .replacen("error:", "warning:", 1)
        );
    }

    // Raised by Ctrl-C once the handlers are in (below); the reader looks
    // at it too, to stop counting an input that is not JSON.
    let stop = Arc::new(AtomicBool::new(false));
    let mut read_opts = ReadOptions {
        mmap: !args.input.no_mmap,
        stop: Some(Arc::clone(&stop)),
        max_line: args.input.max_line,
        ..ReadOptions::default()
    };
    if let Some(index) = &args.input.index {
        read_opts = read_opts.with_index(index.clone());
    }
    if mapping.is_explicit() {
        read_opts = read_opts.with_mapping(&mapping);
    }
    // Checked before the input is read, not once the answer is ready.
    let mut inputs = common::event_paths(&args.input.events);
    inputs.extend(args.input.mapping.iter().cloned());
    common::refuse_output_over_inputs(args.output.output.as_deref(), "--output", &inputs)?;
    let mut reader = common::open_events(&args.input.events, args.input.source, read_opts, false)?;
    // From here on, Ctrl-C stops reading and answers over what was read.
    let interrupt = Interrupt::install(stop)?;
    if query.kind() != QueryKind::Event {
        return run_sequence(&args, &query, &mapping, reader, &interrupt, started, quiet);
    }
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
    let field = mapping.resolve(&args.event_category_field);
    let mut census = Categories::new(field, query.event_plan().and_then(|p| p.category()));
    // Issues are counted in the reader stats (and logged by it at -vv).
    while let Some(item) = interrupt.next_of(&mut reader) {
        let Ok(event) = item else { continue };
        census.note(&event);
        search.push(event);
    }
    let result = search.finish();
    let took = started.elapsed();

    let out = output::open(&args.output, "the results")?;
    let mut w = out.writer;
    let columns = Columns {
        mapping: &mapping,
        timestamp_field: &args.timestamp_field,
        category_field: &args.event_category_field,
    };
    let written = match out.format {
        Format::Es => write_es(&mut w, &result.events, took.as_millis() as u64),
        Format::Jsonl => write_jsonl(&mut w, &result.events),
        Format::Csv => write_csv(&mut w, &Rows::events(&result.events), &columns),
        Format::Table => write_table(&mut w, &Rows::events(&result.events), &columns),
    };
    let written = common::finish_output(
        written.and_then(|_| w.flush().map_err(Into::into)),
        "results",
        args.output.output.as_deref(),
    )?;

    if !quiet {
        let mut s = read_summary(&reader, took);
        s.push_str(&format!(
            "talon: {} matched, {} returned (--size {})\n",
            summary::count(result.matched, "event"),
            result.events.len(),
            args.size
        ));
        let _ = summary::write_untimed(&mut s, &result.untimed, &args.timestamp_field, |_| {
            " and sort last"
        });
        if result.matched == 0 {
            s.push_str(&census.none_matched(&args.event_category_field));
        }
        eprint!("{s}");
    }
    if written == common::Written::CutShort {
        return Ok(common::cut_short(quiet, common::Unread::Nothing));
    }
    if let Some(signal) = interrupt.signal() {
        return Ok(interrupt::interrupted(quiet, signal));
    }
    Ok(common::input_exit_code(&reader.stats()))
}

/// The event categories a query's input holds, so that a query that
/// matched nothing can say when one of its categories is not among them
/// (a misspelt `proces where`, or `--event-category-field` naming a field
/// the events lack), rather than only "0 events matched".
struct Categories<'a> {
    field: &'a str,
    /// The query's categories (an event query's one, a sequence's or a
    /// sample's terms'), each with whether some event has it.
    wanted: Vec<(&'a str, bool)>,
    events: u64,
    without: u64,
    /// The first distinct categories, in the order met: one more than
    /// are shown, to know there are more.
    seen: Vec<String>,
}

/// Categories listed when the query's is not among them.
const CATEGORIES_SHOWN: usize = 8;

impl<'a> Categories<'a> {
    /// A census of `field` for the categories `wanted` (repeats once).
    fn new(field: &'a str, wanted: impl IntoIterator<Item = &'a str>) -> Categories<'a> {
        let mut list: Vec<(&str, bool)> = Vec::new();
        for w in wanted {
            if !list.iter().any(|(x, _)| *x == w) {
                list.push((w, false));
            }
        }
        Categories {
            field,
            wanted: list,
            events: 0,
            without: 0,
            seen: Vec::new(),
        }
    }

    fn note(&mut self, e: &Event) {
        self.events += 1;
        let values = e.values(self.field);
        self.without += u64::from(values.is_empty());
        for v in values {
            for (wanted, found) in &mut self.wanted {
                *found |= v.as_str() == Some(*wanted);
            }
            // A string is compared as it is; only another value (rare)
            // is written out to be compared.
            let known = match v.as_str() {
                Some(text) => self.seen.iter().any(|s| s == text),
                None => self.seen.contains(&v.to_string()),
            };
            if !known && self.seen.len() <= CATEGORIES_SHOWN {
                self.seen.push(v.to_string());
            }
        }
    }

    /// The summary line when the query matched nothing: empty when the
    /// input holds every category the query names (the rest of the query
    /// decided).
    fn none_matched(&self, flag_value: &str) -> String {
        let Some(wanted) = self
            .wanted
            .iter()
            .find(|(_, found)| !found)
            .map(|(w, _)| *w)
        else {
            return String::new();
        };
        if self.events == 0 {
            return String::new();
        }
        if self.without == self.events {
            return format!(
                "talon: no event has `{flag_value}` (--event-category-field), so no \
                 `{wanted} where` query or term can match; `any where` matches whatever the \
                 category\n"
            );
        }
        // Backquoted and escaped: a value may hold commas or line breaks.
        let mut shown: Vec<String> = self
            .seen
            .iter()
            .map(|c| format!("`{}`", talon_event::terminal::escape_controls(c)))
            .collect();
        let more = shown.len() > CATEGORIES_SHOWN;
        shown.truncate(CATEGORIES_SHOWN);
        format!(
            "talon: no event has category `{}`; the input's categories are {}{}\n",
            talon_event::terminal::escape_controls(wanted),
            shown.join(", "),
            if more { ", ..." } else { "" }
        )
    }
}

/// A sequence or sample search: `hits.sequences[]` with `join_keys` and
/// `events` (a missing event is `{"missing": true}`), as the API answers.
fn run_sequence(
    args: &QueryArgs,
    query: &talon_eql::CompiledQuery,
    mapping: &talon_event::mapping::Mapping,
    mut reader: common::Events,
    interrupt: &Interrupt,
    started: Instant,
    quiet: bool,
) -> Result<ExitCode> {
    let opts = SequenceOptions {
        timestamp_field: args.timestamp_field.clone(),
        tiebreaker_field: args.tiebreaker_field.clone(),
        size: args.size,
        result_position: match args.result_position {
            Position::Head => ResultPosition::Head,
            Position::Tail => ResultPosition::Tail,
        },
        max_samples_per_key: usize::try_from(args.max_samples_per_key).unwrap_or(usize::MAX),
        // A search orders the whole input, as Elasticsearch sorts an index;
        // the runner still caps how many events it holds to do so.
        reorder_window_nanos: i64::MAX,
        ..SequenceOptions::default()
    };
    let mut search =
        SequenceSearch::new(query, mapping, opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The categories the terms name, as for an event query.
    let field = mapping.resolve(&args.event_category_field);
    let plans = query
        .sequence()
        .map(|s| s.terms.iter().chain(s.until.iter()));
    let wanted = plans
        .into_iter()
        .flatten()
        .filter_map(|t| t.plan.category());
    let mut census = Categories::new(field, wanted);
    // Issues are counted in the reader stats (and logged by it at -vv).
    while let Some(item) = interrupt.next_of(&mut reader) {
        let Ok(event) = item else { continue };
        census.note(&event);
        search.push(&Arc::new(event));
    }
    let result = search.finish();
    let took = started.elapsed();
    let out = output::open(&args.output, "the results")?;
    let mut w = out.writer;
    let columns = Columns {
        mapping,
        timestamp_field: &args.timestamp_field,
        category_field: &args.event_category_field,
    };
    let kind = match query.kind() {
        QueryKind::Sample => "sample",
        _ => "sequence",
    };
    let written = match out.format {
        Format::Es => write_es_sequences(&mut w, &result, took.as_millis() as u64),
        Format::Jsonl => write_sequences_jsonl(&mut w, &result, kind),
        Format::Csv => write_csv(&mut w, &Rows::sequences(&result, kind), &columns),
        Format::Table => write_table(&mut w, &Rows::sequences(&result, kind), &columns),
    };
    let written = common::finish_output(
        written.and_then(|_| w.flush().map_err(Into::into)),
        "results",
        args.output.output.as_deref(),
    )?;
    if !quiet {
        let mut s = read_summary(&reader, took);
        s.push_str(&format!(
            "talon: {} found, {} returned (--size {})\n",
            summary::count(result.matched, kind),
            result.sequences.len(),
            args.size
        ));
        for w in &result.stats.warnings {
            s.push_str(&format!("talon: warning: {w}\n"));
        }
        if result.matched == 0 {
            s.push_str(&census.none_matched(&args.event_category_field));
        }
        eprint!("{s}");
    }
    if written == common::Written::CutShort {
        return Ok(common::cut_short(quiet, common::Unread::Nothing));
    }
    if let Some(signal) = interrupt.signal() {
        return Ok(interrupt::interrupted(quiet, signal));
    }
    Ok(common::input_exit_code(&reader.stats()))
}

/// The summary's first lines: what was read and skipped.
fn read_summary(reader: &common::Events, took: std::time::Duration) -> String {
    let mut s = String::new();
    let stats = reader.stats();
    let _ = summary::write_read_line(&mut s, &stats, took);
    s.push_str(&stats.to_string());
    s
}

fn write_es_sequences(w: &mut dyn Write, result: &SequenceResult, took: u64) -> Result<()> {
    // The raw sources first, one per event place (none for a missing
    // event): the hits borrow them.
    let sources = result
        .sequences
        .iter()
        .map(|m| {
            m.events
                .iter()
                .map(|e| e.as_deref().map(raw_source).transpose())
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let seqs: Vec<EsSequence<'_>> = result
        .sequences
        .iter()
        .zip(&sources)
        .map(|(m, sources)| {
            let events = m
                .events
                .iter()
                .zip(sources)
                .map(|(e, s)| match (e, s) {
                    (Some(e), Some(s)) => SequenceHit::Hit(Hit::of(e, s)),
                    _ => SequenceHit::Missing { missing: true },
                })
                .collect();
            let join_keys = m.join_keys.iter().map(value_json).collect();
            EsSequence { join_keys, events }
        })
        .collect();
    // As Elasticsearch, the total is the number of sequences returned.
    let body = EsBody::new(took, seqs.len(), EsResults::Sequences(seqs));
    serde_json::to_writer_pretty(&mut *w, &body)?;
    writeln!(w)?;
    Ok(())
}

/// An EQL search response body. Built as structs, not a `json!` value,
/// so that each hit's `_source` stays the raw text it was read as: a
/// `serde_json::Value` would turn an integer past 64 bits into a float
/// (`123456789012345678901234567890` into `1.2345678901234568e+29`),
/// where Elasticsearch returns the document as it was indexed.
#[derive(serde::Serialize)]
struct EsBody<'a> {
    is_partial: bool,
    is_running: bool,
    took: u64,
    timed_out: bool,
    hits: EsHits<'a>,
}

impl<'a> EsBody<'a> {
    fn new(took: u64, total: usize, results: EsResults<'a>) -> EsBody<'a> {
        EsBody {
            is_partial: false,
            is_running: false,
            took,
            timed_out: false,
            hits: EsHits {
                total: EsTotal {
                    value: total,
                    relation: "eq",
                },
                results,
            },
        }
    }
}

#[derive(serde::Serialize)]
struct EsHits<'a> {
    total: EsTotal,
    #[serde(flatten)]
    results: EsResults<'a>,
}

#[derive(serde::Serialize)]
struct EsTotal {
    value: usize,
    relation: &'static str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum EsResults<'a> {
    Events(Vec<Hit<'a>>),
    Sequences(Vec<EsSequence<'a>>),
}

#[derive(serde::Serialize)]
struct EsSequence<'a> {
    join_keys: Vec<serde_json::Value>,
    events: Vec<SequenceHit<'a>>,
}

/// An event of a sequence, or the place of a missing one.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum SequenceHit<'a> {
    Hit(Hit<'a>),
    Missing { missing: bool },
}

/// A join-key value as the API shows it.
fn value_json(v: &talon_event::Value) -> serde_json::Value {
    use talon_event::Value as V;
    match v {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => (*b).into(),
        V::Int(i) => (*i).into(),
        V::Float(f) => serde_json::Number::from_f64(*f)
            .map(Into::into)
            .unwrap_or(serde_json::Value::Null),
        V::Str(s) => s.to_string().into(),
    }
}

/// One JSON line per sequence (or sample): its number under `kind`
/// (`sequence` or `sample`), join keys and events.
fn write_sequences_jsonl(w: &mut dyn Write, result: &SequenceResult, kind: &str) -> Result<()> {
    for (i, m) in result.sequences.iter().enumerate() {
        let mut events = Vec::with_capacity(m.events.len());
        for e in &m.events {
            events.push(match e {
                Some(e) => raw_source(e)?,
                None => RawValue::from_string(r#"{"missing":true}"#.to_string())?,
            });
        }
        let keys: Vec<serde_json::Value> = m.join_keys.iter().map(value_json).collect();
        // Written in parts, not through `json!`: a `Value` would re-read
        // the raw sources.
        write!(w, "{{\"{kind}\":{},\"join_keys\":", i + 1)?;
        serde_json::to_writer(&mut *w, &keys)?;
        w.write_all(b",\"events\":")?;
        serde_json::to_writer(&mut *w, &events)?;
        writeln!(w, "}}")?;
    }
    Ok(())
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

/// A hit as the API shows it.
#[derive(serde::Serialize)]
struct Hit<'a> {
    /// Elasticsearch always knows a hit's index, so an event whose index
    /// is unknown has no `_index` rather than null.
    #[serde(rename = "_index", skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "_source")]
    source: &'a RawValue,
}

impl<'a> Hit<'a> {
    fn of(e: &'a Event, source: &'a RawValue) -> Hit<'a> {
        Hit {
            index: e.index.as_deref(),
            id: doc_id(e),
            source,
        }
    }
}

fn write_es(w: &mut dyn Write, events: &[Event], took: u64) -> Result<()> {
    let mut sources = Vec::with_capacity(events.len());
    for e in events {
        sources.push(raw_source(e)?);
    }
    let hits: Vec<Hit<'_>> = events
        .iter()
        .zip(&sources)
        .map(|(e, s)| Hit::of(e, s))
        .collect();
    // As Elasticsearch (`new TotalHits(values.size(), EQUAL_TO)`), the
    // total is the number of events returned, not of events matched.
    let body = EsBody::new(took, hits.len(), EsResults::Events(hits));
    serde_json::to_writer_pretty(&mut *w, &body)?;
    writeln!(w)?;
    Ok(())
}

fn write_jsonl(w: &mut dyn Write, events: &[Event]) -> Result<()> {
    for e in events {
        writeln!(w, "{}", common::source_line(e))?;
    }
    Ok(())
}

/// An event's document as it was read, on one line: numbers as written
/// (a `serde_json::Value` would turn an integer past 64 bits into a
/// float), keys in their order, escapes kept.
fn raw_source(e: &Event) -> Result<Box<RawValue>> {
    Ok(RawValue::from_string(common::source_line(e).into_owned())?)
}

/// Columns shown for events in CSV and table output, read through the
/// mapping (so `event.category` finds an aliased `event_type`).
struct Columns<'a> {
    mapping: &'a talon_event::mapping::Mapping,
    timestamp_field: &'a str,
    category_field: &'a str,
}

const EVENT_COLUMNS: [&str; 4] = [
    "host.name",
    "user.name",
    "process.name",
    "process.command_line",
];

/// How a cell writes a field with several values (and, for CSV, text a
/// spreadsheet would run).
#[derive(Clone, Copy)]
enum Lists {
    /// Joined with `", "`, for reading (the table).
    Joined,
    /// As a JSON array, so values holding commas read back, and formulas
    /// guarded (CSV).
    Json,
}

impl Lists {
    /// `text`, the text of `value` (`None` for several values or none),
    /// as a cell: in CSV, text a spreadsheet would run as a formula is
    /// guarded; a number is as it is.
    fn text_cell(self, text: String, value: Option<&talon_event::Value>) -> String {
        match self {
            Lists::Json if value.is_none_or(|v| v.as_f64().is_none()) => {
                talon_alert::write::csv_formula_guard(text)
            }
            _ => text,
        }
    }
}

impl Columns<'_> {
    fn cell(&self, e: &Event, field: &str, lists: Lists) -> String {
        let vals = e.values(self.mapping.resolve(field));
        match lists {
            Lists::Json
                if talon_alert::write::csv_cell_is_list(
                    vals.len(),
                    vals.first().and_then(|v| v.as_str()),
                ) =>
            {
                serde_json::Value::Array(vals.iter().map(value_json).collect()).to_string()
            }
            _ => {
                let texts: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
                lists.text_cell(texts.join(", "), vals.first())
            }
        }
    }

    /// The event time as ISO-8601 (epoch-millis sources included).
    fn time(&self, e: &Event, lists: Lists) -> String {
        let field = self.mapping.resolve(self.timestamp_field);
        match e.values(field).first() {
            Some(v) => match talon_event::time::parse_nanos(v) {
                Some(n) => talon_event::time::format_millis(n),
                None => lists.text_cell(v.to_string(), Some(v)),
            },
            None => String::new(),
        }
    }

    /// The event's cells, all empty for a missing event.
    fn row(&self, e: Option<&Event>, lists: Lists) -> Vec<String> {
        let Some(e) = e else {
            return vec![String::new(); 2 + EVENT_COLUMNS.len()];
        };
        let mut row = vec![
            self.time(e, lists),
            self.cell(e, self.category_field, lists),
        ];
        row.extend(EVENT_COLUMNS.iter().map(|c| self.cell(e, c, lists)));
        row
    }
}

/// The rows of the CSV and the table: one per event, each led by cells
/// that say which sequence or sample it belongs to (none for an event
/// search).
struct Rows<'e> {
    /// The leading columns' CSV headings (the table's are the same in
    /// capitals).
    lead: Vec<&'static str>,
    rows: Vec<Row<'e>>,
    /// What the table says when there is no row.
    none: &'static str,
}

struct Row<'e> {
    lead: Vec<String>,
    /// `None` for a missing event of a sequence (`![...]`).
    event: Option<&'e Event>,
}

impl<'e> Rows<'e> {
    fn events(events: &'e [Event]) -> Rows<'e> {
        Rows {
            lead: Vec::new(),
            rows: events
                .iter()
                .map(|e| Row {
                    lead: Vec::new(),
                    event: Some(e),
                })
                .collect(),
            none: "(no matching events)",
        }
    }

    /// Every event of each sequence (or sample), led by the match's
    /// number and its join keys as a JSON array, as `--format es` gives
    /// them: a key holding `, ` or a null key reads back unambiguously.
    fn sequences(result: &'e SequenceResult, kind: &'static str) -> Rows<'e> {
        let mut rows = Vec::new();
        for (i, m) in result.sequences.iter().enumerate() {
            let number = (i + 1).to_string();
            let keys: Vec<serde_json::Value> = m.join_keys.iter().map(value_json).collect();
            let keys = serde_json::Value::from(keys).to_string();
            for e in &m.events {
                rows.push(Row {
                    lead: vec![number.clone(), keys.clone()],
                    event: e.as_deref(),
                });
            }
        }
        Rows {
            lead: vec![kind, "join_keys"],
            rows,
            none: match kind {
                "sample" => "(no matching samples)",
                _ => "(no matching sequences)",
            },
        }
    }
}

/// What the `source` column (and the table, for an event without a
/// command) shows: where the event was read from.
fn place(event: Option<&Event>) -> String {
    match event {
        Some(e) => e.origin.to_string(),
        None => "(missing event)".to_string(),
    }
}

fn write_csv(w: &mut dyn Write, rows: &Rows<'_>, cols: &Columns<'_>) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let mut header: Vec<&str> = rows.lead.clone();
    header.extend([cols.timestamp_field, cols.category_field]);
    header.extend(EVENT_COLUMNS);
    header.push("source");
    csv.write_record(&header)?;
    for r in &rows.rows {
        let mut row = r.lead.clone();
        row.extend(cols.row(r.event, Lists::Json));
        row.push(Lists::Json.text_cell(place(r.event), None));
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

fn write_table(w: &mut dyn Write, rows: &Rows<'_>, cols: &Columns<'_>) -> Result<()> {
    if rows.rows.is_empty() {
        writeln!(w, "{}", rows.none)?;
        return Ok(());
    }
    let width = talon_alert::TableOptions::from_env().width;
    // The leading columns are as wide as their widest cell, up to
    // LEAD_WIDTH (longer join keys are cut, so the event columns stay).
    let headings: Vec<String> = rows
        .lead
        .iter()
        .map(|h| h.to_uppercase().replace('_', " "))
        .collect();
    let widths: Vec<usize> = headings
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.rows
                .iter()
                .map(|r| display_width(&r.lead[i]))
                .fold(display_width(h), usize::max)
                .min(LEAD_WIDTH)
        })
        .collect();
    let lead = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, &n)| format!("{}  ", pad(c, n)))
            .collect()
    };
    writeln!(
        w,
        "{}",
        fit(
            &format!(
                "{}{:<24}  {:<10} {:<16} {:<10} COMMAND",
                lead(&headings),
                "TIME",
                "CATEGORY",
                "HOST",
                "USER"
            ),
            width
        )
    )?;
    for r in &rows.rows {
        let cells = cols.row(r.event, Lists::Joined);
        let command = if cells[5].is_empty() {
            cells[4].clone()
        } else {
            cells[5].clone()
        };
        let what = if command.is_empty() {
            place(r.event)
        } else {
            command
        };
        // Cells are padded (and cut) by the terminal columns they take,
        // so a wide letter or an emoji does not shift the columns after it.
        let line = format!(
            "{}{}  {} {} {} {}",
            lead(&r.lead),
            pad(&cells[0], 24),
            pad(&cells[1], 10),
            pad(&cells[2], 16),
            pad(&cells[3], 10),
            what
        );
        writeln!(w, "{}", fit(&line, width))?;
    }
    Ok(())
}

/// Widest a table's leading column (a match's join keys) grows.
const LEAD_WIDTH: usize = 32;
