//! `talon hunt`: rules over events, alerts out, and a summary of
//! everything read, matched and skipped on stderr.
//!
//! Per event: routing and evaluation (the engine), then the rule's
//! exceptions (a suppressed match is counted, not alerted), then either
//! the alert is written at once, or, with `--schedule`, it goes to the
//! schedule replay, which writes the alerts Kibana's runs would have
//! created and warns for each run that reached max_signals.
//!
//! With several threads the rules are shared out between shards
//! ([`shard`]), each with its own engine reading every input, and their
//! alerts merged back in input order ([`merge`]): the output is the same
//! whatever the thread count.

mod merge;
mod shard;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use talon_alert::{Alert, AlertBuilder, AlertContext, AlertSink, OutputFormat};
use talon_engine::exceptions::BoundExceptions;
use talon_engine::prefilter::Prefilter;
use talon_engine::schedule::{RuleSchedule, ScheduleOptions, ScheduleStats, Scheduler};
use talon_engine::{compile_rules, runnable, EngineOptions, EngineStats, IndexCensus, Runnable};
use talon_event::flatten::Projection;
use talon_event::read::ReadOptions;
use talon_rules::Rule;

use crate::cli::{Format, HuntArgs};
use crate::cmd::{check, common};
use crate::output;
use crate::summary::HuntSummary;
use shard::{ShardReport, ShardSpec, Shared};

/// Where alerts go, and what happened to them.
struct Alerts<'s> {
    sink: Box<dyn AlertSink + 's>,
    per_rule: Vec<u64>,
    write_error: Option<std::io::Error>,
}

impl Alerts<'_> {
    fn write(&mut self, rule_index: usize, alert: &Alert) {
        if let Some(n) = self.per_rule.get_mut(rule_index) {
            *n += 1;
        }
        if self.write_error.is_none() {
            if let Err(e) = self.sink.write(alert) {
                self.write_error = Some(e);
            }
        }
    }
}

pub fn run(args: HuntArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let use_demo = args.rules.is_empty() && args.input.events.is_empty();

    let report = common::load_rules(&args.rules);
    let load_errors = common::report_load_problems(&report);
    let selected = args.select.apply(report.rules, quiet)?;
    let mapping = check::compile_mapping(&args.input.mapping, &args.schema)?;
    let (compiled, mut problems) = compile_rules(selected, &mapping);
    let reorder_nanos = args.reorder_window;
    let opts = EngineOptions {
        all_indices: args.all_indices,
        reorder_window_nanos: Some(reorder_nanos),
        max_pending_sequences: Some(args.max_pending_sequences),
        no_prefilter: args.no_prefilter,
        slim_sequence_events: !args.no_prefilter,
    };
    let Runnable {
        event: event_rules,
        sequence: seq_compiled,
        problems: unsupported,
    } = runnable(compiled, &opts, &mapping);
    problems.extend(unsupported);
    for p in problems.iter().filter(|p| p.is_error()) {
        eprint!("{}", p.render());
    }
    for p in problems.iter().filter(|p| !p.is_error()) {
        tracing::info!("{p}");
    }
    if event_rules.is_empty() && seq_compiled.is_empty() {
        bail!(
            "no rule can run ({} loaded with errors, {} not supported)",
            load_errors + problems.iter().filter(|p| p.is_error()).count(),
            problems.iter().filter(|p| !p.is_error()).count()
        );
    }

    // Alerts are built from the rule as loaded; the builder is per rule and
    // computed once, so the rules are cloned before the engines take them.
    let rules: Vec<Rule> = event_rules.iter().map(|r| r.rule.clone()).collect();
    let seq_rules: Vec<Rule> = seq_compiled.iter().map(|r| r.rule.clone()).collect();
    let exception_set = crate::config::exception_set(&args.exceptions, &report.exceptions)?;
    let rule_refs: Vec<&Rule> = rules.iter().collect();
    let exceptions: BoundExceptions = exception_set.bind(&rule_refs, &mapping);
    for w in &exceptions.warnings {
        eprintln!("warning: {w}");
    }
    let seq_rule_refs: Vec<&Rule> = seq_rules.iter().collect();
    let seq_exceptions: BoundExceptions = exception_set.bind(&seq_rule_refs, &mapping);
    for w in &seq_exceptions.warnings {
        eprintln!("warning: {w}");
    }
    // The schedule replay covers both kinds of rule: event rules at
    // 0..rules.len(), sequence rules after them.
    let scheduler = if args.schedule {
        let both: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        Some(build_scheduler(&both, args.reorder_window)?)
    } else {
        None
    };

    let mut read_opts = ReadOptions::default();
    if let Some(index) = &args.input.index {
        read_opts = read_opts.with_index(index.clone());
    }
    if mapping.is_explicit() {
        read_opts = read_opts.with_mapping(&mapping);
    }
    // Lines no rule can match are not parsed; not with a schedule replay
    // or sequence rules, which need every event's time (to know which runs
    // have ended, which events are late), nor when a `null_value` could
    // stand in for text the line lacks. Every shard reads the same lines.
    let can_skip_lines = !args.no_prefilter
        && !args.schedule
        && seq_compiled.is_empty()
        && mapping.null_values().next().is_none();
    let line_filter = can_skip_lines
        .then(|| Prefilter::new(&event_rules, &seq_compiled))
        .flatten()
        .and_then(|p| {
            let (with, of) = p.coverage();
            let filter = Arc::new(p).line_filter();
            tracing::info!(
                "prefilter: {with} of {of} rules need literals; lines {}",
                if filter.is_some() {
                    "filtered before parsing"
                } else {
                    "all parsed"
                }
            );
            filter
        });
    if let Some(f) = line_filter {
        read_opts = read_opts.with_line_filter(f);
    }
    // Only the fields something reads are kept. Exceptions read fields of
    // their own (with mapping-aware variants), so with any exception
    // loaded every field is kept.
    let project = !args.no_prefilter && exceptions.is_empty() && seq_exceptions.is_empty();

    let threads = thread_count(&args, event_rules.len() + seq_compiled.len());
    let census = IndexCensus::new(event_rules.iter().chain(&seq_compiled), args.all_indices);
    let mut specs = share_out(event_rules, seq_compiled, threads);
    for spec in &mut specs {
        let mut read = read_opts.clone();
        if project {
            let rules = spec.event.iter().chain(&spec.sequence).map(|(_, r)| r);
            read = read.with_projection(Projection::only(talon_engine::fields_read(rules)));
        }
        spec.reader = Some(common::open_events(
            &args.input.events,
            args.input.source,
            read,
            use_demo,
        )?);
    }
    tracing::info!(
        "{threads} thread(s), {} rules each at most",
        specs
            .iter()
            .map(|s| s.event.len() + s.sequence.len())
            .max()
            .unwrap_or(0)
    );
    let mut scheduler = scheduler;
    let mut census = Some(census);

    let out = output::open(&args.output)?;
    let format = match out.format {
        Format::Jsonl => OutputFormat::Jsonl,
        Format::Csv => OutputFormat::Csv,
        Format::Table => OutputFormat::Table,
        Format::Es => bail!("--format es is only for `talon query`"),
    };
    let ctx = AlertContext::from_env().context("invalid TALON_NOW")?;
    let mut alerts = Alerts {
        sink: talon_alert::sink_for(format, out.writer),
        per_rule: vec![0u64; rules.len() + seq_rules.len()],
        write_error: None,
    };
    let builders: Vec<AlertBuilder<'_>> =
        rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
    let seq_builders: Vec<AlertBuilder<'_>> = seq_rules
        .iter()
        .map(|r| AlertBuilder::new(r, &ctx))
        .collect();
    let stop = AtomicBool::new(false);
    let shared = Shared {
        opts: &opts,
        mapping: &mapping,
        exceptions: &exceptions,
        seq_exceptions: &seq_exceptions,
        builders: &builders,
        seq_builders: &seq_builders,
        event_rules: rules.len(),
        stop: &stop,
    };

    let (matched, reports) = std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(specs.len());
        let mut handles = Vec::with_capacity(specs.len());
        for spec in specs {
            let (tx, rx) = sync_channel(4096);
            receivers.push(rx);
            let spec = ShardSpec {
                event: spec.event,
                sequence: spec.sequence,
                reader: spec.reader.expect("opened above"),
                scheduler: scheduler.take(),
                census: census.take(),
            };
            let shared = &shared;
            handles.push(scope.spawn(move || shard::run(spec, shared, tx)));
        }
        let matched = merge::merge(receivers, |slot, docs| {
            for a in &docs {
                alerts.write(slot, a);
            }
            if alerts.write_error.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
        });
        let reports: Vec<ShardReport> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (matched, reports)
    });

    let finish = alerts.sink.finish();
    // A broken pipe (`| head`) is the reader saying it has seen enough:
    // reading stopped at once (the shards watch `stop`), and the summary
    // says the run was cut short. Any other write error is an I/O error.
    let mut cut_short = false;
    for e in alerts.write_error.take().into_iter().chain(finish.err()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
        cut_short = true;
    }

    let merged = Merged::of(reports, rules.len(), seq_rules.len(), matched);
    for w in &merged.seq_warnings {
        eprintln!("warning: {w}");
    }

    if let (false, Some(input)) = (quiet, &merged.input) {
        let all_rules: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        let per_rule: Vec<u64> = alerts.per_rule.clone();
        let summary = HuntSummary {
            read: input,
            engine: &merged.engine,
            rules: &all_rules,
            alerts_per_rule: &per_rule,
            sequences: (!seq_rules.is_empty()).then(|| merged.sequences.iter().sum()),
            alert_errors: merged.alert_errors,
            rule_errors: load_errors + problems.iter().filter(|p| p.is_error()).count(),
            rules_not_supported: problems.iter().filter(|p| !p.is_error()).count(),
            elapsed: started.elapsed(),
        };
        eprint!("{summary}");
        eprint!("{}", suppressed_lines(&all_rules, &merged.suppressed));
        if let Some(st) = &merged.schedule {
            eprint!("{}", schedule_lines(st));
        }
    }
    if cut_short {
        if !quiet {
            eprintln!(
                "talon: output cut short: its reader closed it (broken pipe), so reading \
                 stopped early; the counts above cover only what was read until then"
            );
        }
        return Ok(ExitCode::from(crate::EXIT_BROKEN_PIPE));
    }
    Ok(match &merged.input {
        Some(input) => common::input_exit_code(input),
        None => ExitCode::SUCCESS,
    })
}

/// One shard's rules before its reader is opened.
struct Share {
    event: Vec<(usize, talon_engine::CompiledRule)>,
    sequence: Vec<(usize, talon_engine::CompiledRule)>,
    reader: Option<common::Events>,
}

/// How many shards: `--threads` (default: the cores available), never
/// more than there are rules, and one when the input can only be read
/// once (stdin, the bundled demo) or a schedule replay needs every alert
/// in one place.
fn thread_count(args: &HuntArgs, rules: usize) -> usize {
    let once = args.input.events.is_empty() || args.input.events.iter().any(|e| e == "-");
    if args.schedule || once {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    args.threads.unwrap_or(cores).clamp(1, rules.max(1))
}

/// Deals the rules out round-robin, keeping each rule's global index:
/// neighbours in a rule folder tend to cost alike, so dealing spreads the
/// cost evenly.
fn share_out(
    event: Vec<talon_engine::CompiledRule>,
    sequence: Vec<talon_engine::CompiledRule>,
    n: usize,
) -> Vec<Share> {
    let mut shares: Vec<Share> = (0..n)
        .map(|_| Share {
            event: Vec::new(),
            sequence: Vec::new(),
            reader: None,
        })
        .collect();
    for (i, r) in event.into_iter().enumerate() {
        shares[i % n].event.push((i, r));
    }
    for (j, r) in sequence.into_iter().enumerate() {
        shares[j % n].sequence.push((j, r));
    }
    shares
}

/// The shards' counts, put together by global rule index.
struct Merged {
    /// What shard 0 read (every shard read the same events).
    input: Option<crate::summary::InputStats>,
    engine: EngineStats,
    sequences: Vec<u64>,
    suppressed: Vec<u64>,
    alert_errors: u64,
    seq_warnings: Vec<talon_engine::sequence::SequenceWarning>,
    schedule: Option<ScheduleStats>,
}

impl Merged {
    fn of(reports: Vec<ShardReport>, event_rules: usize, seq_rules: usize, matched: u64) -> Merged {
        let mut m = Merged {
            input: None,
            engine: EngineStats {
                rules: vec![Default::default(); event_rules],
                ..EngineStats::default()
            },
            sequences: vec![0; seq_rules],
            suppressed: vec![0; event_rules + seq_rules],
            alert_errors: 0,
            seq_warnings: Vec::new(),
            schedule: None,
        };
        for (i, r) in reports.into_iter().enumerate() {
            if i == 0 {
                m.input = r.reader.as_ref().map(|reader| reader.stats());
                m.engine.events = r.engine.events;
            }
            if let Some(u) = r.unsearched {
                m.engine.no_index = u.no_index;
                m.engine.index_not_searched = u.index_not_searched;
                m.engine.indices_not_searched = u.indices_not_searched;
            }
            for (g, n) in r.rule_matched {
                m.engine.rules[g].matched = n;
            }
            for (g, n) in r.sequences {
                m.sequences[g] = n;
            }
            for (slot, n) in r.suppressed {
                m.suppressed[slot] += n;
            }
            m.alert_errors += r.alert_errors;
            m.seq_warnings.extend(r.seq_warnings);
            if r.schedule.is_some() {
                m.schedule = r.schedule;
            }
        }
        m.engine.matched = matched;
        m
    }
}

fn build_scheduler(rules: &[&Rule], window: i64) -> Result<Scheduler<Vec<Alert>>> {
    let mut scheds = Vec::with_capacity(rules.len());
    for r in rules {
        // A rule Kibana could not schedule cannot be replayed either.
        let s = RuleSchedule::from_rule(r).map_err(anyhow::Error::from)?;
        scheds.push((r.name.clone(), s));
    }
    Ok(Scheduler::new(
        scheds,
        ScheduleOptions {
            reorder_window_nanos: window,
        },
    ))
}

/// `talon: N matches suppressed by exceptions`, then per rule.
fn suppressed_lines(rules: &[&Rule], suppressed: &[u64]) -> String {
    let total: u64 = suppressed.iter().sum();
    if total == 0 {
        return String::new();
    }
    let mut out = format!("talon: {total} matches suppressed by exceptions\n");
    for (n, r) in crate::summary::nonzero_by_count(suppressed, rules) {
        out.push_str(&format!("talon: {n:>8}  suppressed  {}\n", r.name));
    }
    out
}

fn schedule_lines(st: &ScheduleStats) -> String {
    let mut out = format!(
        "talon: schedule: {} runs, {} alerts, {} runs reached max_signals ({} matches left out)\n",
        st.runs, st.alerts, st.truncated_runs, st.dropped_by_max_signals
    );
    if st.late > 0 {
        out.push_str(&format!(
            "talon: schedule: {} matches arrived later than the reorder window allows (not alerted; see --reorder-window)\n",
            st.late
        ));
    }
    if st.unsearched > 0 {
        out.push_str(&format!(
            "talon: schedule: {} matches fell in no run's window (not alerted)\n",
            st.unsearched
        ));
    }
    if st.no_timestamp > 0 {
        out.push_str(&format!(
            "talon: schedule: {} matches have no usable timestamp (not alerted)\n",
            st.no_timestamp
        ));
    }
    out
}
