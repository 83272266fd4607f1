//! `talon hunt`: rules over events, alerts out, and a summary of
//! everything read, matched and skipped on stderr.
//!
//! Per event: routing and evaluation (the engine), then the rule's
//! exceptions (a suppressed match is counted, not alerted), then either
//! the alert is written at once, or, with `--schedule`, it goes to the
//! schedule replay, which writes the alerts Kibana's runs would have
//! created and warns for each run that reached max_signals.
//!
//! The input is read in batches that every thread evaluates, and what they
//! find is put back in input order ([`pipeline`]): the output is the same
//! whatever the thread count. With `--schedule`, what is put back goes to
//! the schedule replay ([`replay`]) in that same order.

mod pipeline;
mod replay;
mod threads;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use talon_alert::{AlertBuilder, AlertContext, AlertSink, OutputFormat};
use talon_engine::exceptions::{BoundExceptions, Suppression};
use talon_engine::prefilter::Prefilter;
use talon_engine::schedule::{RuleSchedule, ScheduleOptions, ScheduleStats, Scheduler};
use talon_engine::sequence::SequenceWarning;
use talon_engine::{compile_rules, runnable, EngineOptions, EngineStats, Runnable};
use talon_eql::QueryKind;
use talon_event::read::ReadOptions;
use talon_event::terminal::escape_controls;
use talon_event::untimed::{NoTime, Untimed, UntimedEvents};
use talon_rules::Rule;

use crate::cli::{AlertFormat, HuntArgs};
use crate::cmd::interrupt::{self, Interrupt};
use crate::cmd::{check, common};
use crate::output;
use crate::summary::{count, HuntSummary};
use pipeline::{AlertOut, Merger, Shared, Worker};
use replay::Matched;

pub fn run(args: HuntArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let use_demo = args.rules.is_empty() && args.input.events.is_empty();

    let mapping = check::compile_mapping(&args.input.mapping, &args.schema)?;
    let report = common::load_rules(&args.rules, &mapping);
    let load_errors = common::report_load_problems(&report);
    if let Some(msg) = common::no_rule_files(&args.rules, &report) {
        anyhow::bail!(msg);
    }
    let rules = common::leave_out_disabled(report.rules, args.include_disabled, quiet)?;
    let Some(selected) = args.select.apply_keeping_some(rules, quiet, "run")? else {
        return Ok(ExitCode::from(2));
    };
    let (compiled, mut problems) = compile_rules(selected, &mapping);
    // `--schedule` replays `interval`, `from` and `to`: a rule whose values
    // cannot be read cannot be replayed, so it is reported at its value and
    // left out, as a rule whose query does not compile is, and the others
    // run. Without `--schedule` those fields are not used: the rule runs,
    // and the problem is a warning.
    let (compiled, unschedulable): (Vec<_>, Vec<_>) = compiled
        .into_iter()
        .partition(|c| !args.schedule || c.rule.can_schedule());
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
    for c in &unschedulable {
        for e in &c.rule.schedule_errors {
            eprintln!("{e}");
        }
        eprintln!(
            "{}: skipped rule \"{}\": its schedule cannot be replayed (--schedule)",
            escape_controls(&c.rule.origin.path.display().to_string()),
            escape_controls(&c.rule.name)
        );
    }
    if !args.schedule {
        let runs = event_rules.iter().chain(&seq_compiled);
        for e in runs.flat_map(|c| &c.rule.schedule_errors) {
            let mut w = e.clone();
            w.message
                .push_str("; only --schedule reads it, so the rule runs without it");
            eprintln!("{}", w.as_warning());
        }
    }
    // What the running rules hold but talon does not apply, once per rule
    // (not per alert): the rule runs without it.
    for c in event_rules.iter().chain(&seq_compiled) {
        for w in common::unapplied_warnings(c) {
            eprintln!("{w}");
        }
    }
    let compile_errors = problems.iter().filter(|p| p.is_error()).count() + unschedulable.len();
    let rule_errors = load_errors + compile_errors;
    if event_rules.is_empty() && seq_compiled.is_empty() {
        let unsupported = problems.iter().filter(|p| !p.is_error()).count();
        return Err(crate::cmd::common::no_rule_can_run(
            load_errors,
            compile_errors,
            unsupported,
        ));
    }

    // Alerts are built from the rule as loaded; the builder is per rule and
    // computed once, so the rules are cloned before the engines take them.
    let rules: Vec<Rule> = event_rules.iter().map(|r| r.rule.clone()).collect();
    let seq_rules: Vec<Rule> = seq_compiled.iter().map(|r| r.rule.clone()).collect();
    let seq_kinds: Vec<QueryKind> = seq_compiled.iter().map(|r| r.query.kind()).collect();
    let exception_set = crate::config::exception_set(&args.exceptions, &report.exceptions)?;
    let rule_refs: Vec<&Rule> = rules.iter().collect();
    let exceptions: BoundExceptions = exception_set.bind(&rule_refs, &mapping);
    for w in &exceptions.warnings {
        eprintln!("talon: warning: {w}");
    }
    let seq_rule_refs: Vec<&Rule> = seq_rules.iter().collect();
    let seq_exceptions: BoundExceptions = exception_set.bind(&seq_rule_refs, &mapping);
    for w in &seq_exceptions.warnings {
        eprintln!("talon: warning: {w}");
    }
    let running: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
    for w in exception_set.unused(&running) {
        eprintln!("talon: warning: {w}");
    }
    // The schedule replay covers both kinds of rule: event rules at
    // 0..rules.len(), sequence rules after them.
    let scheduler = if args.schedule {
        let both: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        Some(build_scheduler(&both, args.max_held_matches)?)
    } else {
        None
    };

    // Raised by Ctrl-C once the handlers are in (below), or when the
    // output fails; the reader looks at it too, to stop counting an input
    // that is not JSON.
    let stop_flag = Arc::new(AtomicBool::new(false));
    let mut read_opts = ReadOptions {
        mmap: !args.input.no_mmap,
        stop: Some(Arc::clone(&stop_flag)),
        max_line: args.input.max_line,
        ..ReadOptions::default()
    };
    if let Some(index) = &args.input.index {
        read_opts = read_opts.with_index(index.clone());
    }
    if mapping.is_explicit() {
        read_opts = read_opts.with_mapping(&mapping);
    }
    // Lines no rule can match are not parsed; not with a schedule replay
    // or sequence rules, which need every event's time (to know which runs
    // have ended, which events are late), nor when a `null_value` could
    // stand in for text the line lacks.
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
                } else if with == of {
                    "all parsed (too many needles to look for more cheaply than parsing)"
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
    let all_compiled: Vec<talon_engine::CompiledRule> =
        event_rules.into_iter().chain(seq_compiled).collect();
    let slim: Option<Vec<String>> = (!args.no_prefilter).then(|| {
        let seq: Vec<talon_engine::CompiledRule> = all_compiled
            .iter()
            .filter(|r| r.query.kind() != talon_eql::QueryKind::Event)
            .cloned()
            .collect();
        talon_engine::slim_fields(&seq)
    });
    // The engine's two stages run apart (see `pipeline`).
    let (stage, sequences, _) = talon_engine::stages(all_compiled, &opts, &mapping);
    // Events are read through the engine's numbering of the fields its
    // rules read, and only those fields are kept.
    if project {
        read_opts = read_opts.with_catalog(Arc::clone(stage.catalog()));
    }
    // With `--schedule`, workers read each event's window times and keep
    // what the scheduler reads of a match (its fields are among those the
    // rules read: see `talon_engine::fields_read`).
    let schedule_fields = scheduler.as_ref().map(|s| {
        let mut keep = s.fields();
        keep.push("@timestamp".to_string());
        keep.sort();
        keep.dedup();
        pipeline::ScheduleFields {
            times: s.clock_times(),
            keep,
        }
    });
    let threads = thread_count(&args);
    let mut events = common::open_events(
        &args.input.events,
        args.input.source,
        read_opts.clone(),
        use_demo,
    )?;

    let mut inputs = common::event_paths(&args.input.events);
    inputs.extend(args.rules.iter().cloned());
    inputs.extend(args.input.mapping.iter().cloned());
    inputs.extend(args.schema.iter().cloned());
    inputs.extend(crate::config::input_files(&args.exceptions));
    common::refuse_output_over_inputs(args.output.output.as_deref(), "--output", &inputs)?;
    if use_demo {
        common::refuse_output_over_demo(args.output.output.as_deref())?;
    }
    let out = output::open(&args.output, "the alerts")?;
    let format = match out.format {
        AlertFormat::Jsonl => OutputFormat::Jsonl,
        AlertFormat::Csv => OutputFormat::Csv,
        AlertFormat::Table => OutputFormat::Table,
    };
    let ctx = AlertContext::from_env().context("invalid TALON_NOW")?;
    let builders: Vec<AlertBuilder<'_>> =
        rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
    let seq_builders: Vec<AlertBuilder<'_>> = seq_rules
        .iter()
        .map(|r| AlertBuilder::new(r, &ctx))
        .collect();
    // From here on, Ctrl-C stops reading and keeps what was found.
    let interrupt = Interrupt::install(stop_flag)?;
    let stop = interrupt.stop();
    let shared = Shared {
        exceptions: &exceptions,
        seq_exceptions: &seq_exceptions,
        builders: &builders,
        seq_builders: &seq_builders,
        json: format == OutputFormat::Jsonl,
        slim_fields: slim.as_deref(),
        read: &read_opts,
        stop,
        schedule: schedule_fields.as_ref(),
    };
    let mut writer = Writer {
        out: match format {
            OutputFormat::Jsonl => Out::Json(crate::output::Lines::new(out.writer)),
            _ => Out::Sink(talon_alert::sink_for(format, out.writer)),
        },
        per_rule: vec![0u64; rules.len() + seq_rules.len()],
        matched: 0,
        untimed: UntimedEvents::default(),
        write_error: None,
        stop,
    };

    let merged = {
        let n_event_rules = stage.rules().len();
        let workers: Vec<Worker> = (0..threads)
            .map(|_| Worker::new(stage.fork(), &shared))
            .collect();
        tracing::info!("{threads} thread(s) evaluating events");
        let events_lock = Mutex::new(events);
        let side = scheduler.map(|s| replay::ScheduleSide::new(s, &shared, n_event_rules));
        let mut merger = Merger::new(&mut writer, sequences, &shared, n_event_rules, side);
        let workers = pipeline::run(&events_lock, workers, &mut merger, &shared);
        let (seq_warnings, schedule) = merger.finish();
        let sequences = merger.sequences.matches();
        let mut m = Merged {
            engine: EngineStats {
                rules: vec![Default::default(); n_event_rules],
                sequence_rules: vec![Default::default(); seq_rules.len()],
                ..EngineStats::default()
            },
            sequences,
            suppressed: Suppressed::new(rules.len() + seq_rules.len()),
            alert_errors: merger.alert_errors,
            seq_warnings,
            repeated_sequences: merger.repeated,
            schedule,
        };
        for mut w in workers {
            m.absorb(w.take_stats(), &w.suppressed, w.alert_errors);
        }
        events = events_lock
            .into_inner()
            .map_err(|_| anyhow::anyhow!("the event reader failed"))?;
        m
    };

    let finish = writer.finish();
    // A broken pipe (`| head`) is the reader saying it has seen enough:
    // reading stopped at once, and the summary says the run was cut short.
    // Any other write error is an I/O error.
    let mut cut_short = false;
    for e in writer.write_error.take().into_iter().chain(finish.err()) {
        if !common::io_is_broken_pipe(&e) {
            return Err(e).context(output::write_context(
                "alerts",
                args.output.output.as_deref(),
            ));
        }
        cut_short = true;
    }

    let (keyless, others): (Vec<_>, Vec<_>) = merged
        .seq_warnings
        .iter()
        .partition(|w| matches!(w, SequenceWarning::Keyless { .. }));
    for w in others {
        eprintln!("talon: warning: {w}");
    }
    for line in keyless_lines(&keyless) {
        eprintln!("talon: warning: {line}");
    }
    log_costliest(&rules, &seq_rules, &merged.engine);
    let input = events.stats();
    if !quiet {
        let all_rules: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        let mut engine = merged.engine.clone();
        engine.matched = writer.matched;
        let summary = HuntSummary {
            read: &input,
            engine: &engine,
            rules: &all_rules,
            alerts_per_rule: &writer.per_rule,
            // The schedule replay counts them itself (not alerted).
            matched_untimed: &writer.untimed,
            sequences: found_by(&seq_kinds, &merged.sequences, QueryKind::Sequence),
            samples: found_by(&seq_kinds, &merged.sequences, QueryKind::Sample),
            alert_errors: merged.alert_errors,
            rule_errors,
            rules_not_supported: problems.iter().filter(|p| !p.is_error()).count(),
            elapsed: started.elapsed(),
        };
        eprint!("{summary}");
        if merged.repeated_sequences > 0 {
            eprintln!(
                "talon: {} sequence(s) held the same events as one alerted before (on another \
                 value of a multi-valued join key): their alerts have its ids and were not \
                 written again, as Kibana keeps one alert per id",
                merged.repeated_sequences
            );
        }
        eprint!("{}", suppressed_lines(&all_rules, &merged.suppressed));
        if let Some(st) = &merged.schedule {
            eprint!("{}", schedule_lines(st, args.max_held_matches));
        }
    }
    if cut_short {
        return Ok(common::cut_short(quiet, common::Unread::Stopped));
    }
    if let Some(signal) = interrupt.signal() {
        return Ok(interrupt::interrupted(quiet, signal));
    }
    Ok(common::input_exit_code(&input))
}

/// Where alerts go.
enum Out<'s> {
    /// JSON Lines, serialized by the workers already.
    Json(crate::output::Lines<Box<dyn std::io::Write + 's>>),
    Sink(Box<dyn AlertSink + 's>),
}

/// Where alerts go, and what happened to them.
struct Writer<'s> {
    out: Out<'s>,
    per_rule: Vec<u64>,
    /// Events some event rule matched.
    matched: u64,
    /// Of those, the events without a usable `@timestamp`.
    untimed: UntimedEvents,
    write_error: Option<std::io::Error>,
    stop: &'s AtomicBool,
}

impl Writer<'_> {
    fn write(&mut self, slot: usize, alerts: Vec<AlertOut>) {
        if let Some(n) = self.per_rule.get_mut(slot) {
            *n += alerts.iter().map(AlertOut::count).sum::<u64>();
        }
        if self.write_error.is_some() {
            return;
        }
        for a in alerts {
            let r = match (&mut self.out, a) {
                (Out::Json(w), AlertOut::Json { lines, .. }) => w.push(lines),
                (Out::Json(w), AlertOut::Doc(a)) => serde_json::to_vec(a.doc())
                    .map_err(std::io::Error::from)
                    .and_then(|mut line| {
                        line.push(b'\n');
                        w.push(line)
                    }),
                (Out::Sink(s), AlertOut::Doc(a)) => s.write(&a),
                (Out::Sink(_), AlertOut::Json { .. }) => Ok(()),
            };
            if let Err(e) = r {
                self.write_error = Some(e);
                self.stop.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Out::Json(w) => w.flush(),
            Out::Sink(s) => s.finish(),
        }
    }
}

impl pipeline::Sink for &mut Writer<'_> {
    fn alerts(&mut self, slot: usize, alerts: Vec<AlertOut>) {
        self.write(slot, alerts);
    }

    fn matched(&mut self, untimed: Option<Untimed>) {
        self.matched += 1;
        if let Some(u) = untimed {
            self.untimed.add(u);
        }
    }
}

/// At `-vv`: the ten event and sequence rules evaluated most often (the
/// witness index let the others skip most events), at `-vvv` every rule
/// evaluated at all, for anyone tuning a rule set. The counts are times
/// a rule was evaluated, not events: one event reaches many rules.
fn log_costliest(rules: &[Rule], seq_rules: &[Rule], engine: &EngineStats) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let sum = |stats: &[talon_engine::RuleStats]| {
        stats.iter().fold((0, 0, 0), |(s, e, m), r| {
            (s + r.seen, e + r.evaluated, m + r.matched)
        })
    };
    let (seen, evaluated, _) = sum(&engine.rules);
    tracing::debug!(
        "event rules reached {}, evaluated {} over {}",
        count(seen, "time"),
        count(evaluated, "time"),
        count(engine.events, "event")
    );
    let (seen, evaluated, filled) = sum(&engine.sequence_rules);
    tracing::debug!(
        "sequence rules reached {}, their terms evaluated {}, filled {}",
        count(seen, "time"),
        count(evaluated, "time"),
        count(filled, "time")
    );
    let kinds = [
        ("event rule", "matched", &engine.rules, rules),
        ("sequence rule", "filled", &engine.sequence_rules, seq_rules),
    ];
    for (kind, outcome, stats, rules) in kinds {
        let mut by: Vec<(u64, u64, &str)> = stats
            .iter()
            .zip(rules)
            .map(|(st, r)| (st.evaluated, st.matched, r.name.as_str()))
            .filter(|(n, _, _)| *n > 0)
            .collect();
        by.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(b.2)));
        // `-vvv` lists them all.
        let shown = if tracing::enabled!(tracing::Level::TRACE) {
            by.len()
        } else {
            10
        };
        for (n, m, name) in by.iter().take(shown) {
            let name = escape_controls(name);
            let times = if *n == 1 { "time" } else { "times" };
            tracing::debug!("{kind} evaluated {n:>9} {times} ({m} {outcome}): {name}");
        }
    }
}

/// How many threads evaluate events: `--threads` (default: the cores
/// available), and one when a schedule replay needs every alert in one
/// place.
fn thread_count(args: &HuntArgs) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    args.threads.unwrap_or(cores).max(1)
}

/// The counts of a run, put together.
struct Merged {
    engine: EngineStats,
    sequences: Vec<u64>,
    suppressed: Suppressed,
    alert_errors: u64,
    seq_warnings: Vec<talon_engine::sequence::SequenceWarning>,
    /// Sequences made of the events of one alerted before (a multi-valued
    /// `by` field): same alert ids, written once.
    repeated_sequences: u64,
    schedule: Option<ScheduleStats>,
}

impl Merged {
    /// Adds one worker's counts.
    fn absorb(&mut self, e: EngineStats, suppressed: &Suppressed, alert_errors: u64) {
        let m = &mut self.engine;
        m.events += e.events;
        m.no_index += e.no_index;
        m.index_not_searched += e.index_not_searched;
        for name in &e.indices_not_searched {
            m.note_unsearched(name);
        }
        let pairs = m.rules.iter_mut().zip(e.rules);
        for (into, from) in pairs.chain(m.sequence_rules.iter_mut().zip(e.sequence_rules)) {
            into.seen += from.seen;
            into.evaluated += from.evaluated;
            into.matched += from.matched;
        }
        self.suppressed.add(suppressed);
        self.alert_errors += alert_errors;
    }
}

fn build_scheduler(rules: &[&Rule], max_held_matches: usize) -> Result<Scheduler<Matched>> {
    let mut scheds = Vec::with_capacity(rules.len());
    for r in rules {
        // A rule Kibana could not schedule cannot be replayed either.
        let s = RuleSchedule::from_rule(r).map_err(anyhow::Error::from)?;
        scheds.push((r.name.clone(), s));
    }
    Ok(Scheduler::new(scheds, ScheduleOptions { max_held_matches }))
}

/// Matches that exceptions or silences kept from alerting.
#[derive(Clone, Debug, Default)]
pub(super) struct Suppressed {
    /// Per slot: event rules, then sequence rules.
    pub per_slot: Vec<u64>,
    /// Of them all, those a silence suppressed.
    pub silenced: u64,
}

impl Suppressed {
    pub fn new(slots: usize) -> Suppressed {
        Suppressed {
            per_slot: vec![0; slots],
            silenced: 0,
        }
    }

    /// Counts a match of slot `slot` that `why` suppressed.
    pub fn note(&mut self, slot: usize, why: &Suppression<'_>) {
        if let Some(n) = self.per_slot.get_mut(slot) {
            *n += 1;
        }
        self.silenced += u64::from(why.is_silence());
    }

    /// Adds another worker's counts.
    fn add(&mut self, other: &Suppressed) {
        for (into, n) in self.per_slot.iter_mut().zip(&other.per_slot) {
            *into += n;
        }
        self.silenced += other.silenced;
    }
}

/// `talon: N matches suppressed by exceptions` (or `by silences`, or `by
/// exceptions (X) and silences (Y)`), then per rule.
fn suppressed_lines(rules: &[&Rule], suppressed: &Suppressed) -> String {
    let (silenced, suppressed) = (suppressed.silenced, &suppressed.per_slot);
    let total: u64 = suppressed.iter().sum();
    if total == 0 {
        return String::new();
    }
    let by = match silenced {
        0 => "exceptions".to_string(),
        s if s == total => "silences".to_string(),
        s => format!("exceptions ({}) and silences ({s})", total - s),
    };
    let mut out = format!("talon: {} suppressed by {by}\n", count(total, "match"));
    for (n, r) in crate::summary::nonzero_by_count(suppressed, rules) {
        out.push_str(&format!(
            "talon: {n:>8}  suppressed  {}\n",
            escape_controls(&r.name)
        ));
    }
    out
}

fn schedule_lines(st: &ScheduleStats, max_held: usize) -> String {
    let mut out = format!(
        "talon: schedule: {}, {} alerted, {} reached max_signals ({} left out)\n",
        count(st.runs, "run"),
        // Matches, not alerts: a sequence match is a shell alert and one
        // per event (what `max_signals` counts, and what is left out).
        count(st.alerts, "match"),
        count(st.truncated_runs, "run"),
        count(st.dropped_by_max_signals, "match")
    );
    if st.released_early > 0 {
        out.push_str(&format!(
            "talon: schedule: {} went to {} runs before the end of input (--max-held-matches {max_held} reached)\n",
            count(st.released_early, "match"),
            if st.released_early == 1 { "its" } else { "their" }
        ));
    }
    if st.late > 0 {
        out.push_str(&format!(
            "talon: schedule: {} arrived after newer ones had gone to their runs (not alerted; raise --max-held-matches, or sort the input by the rules' time field)\n",
            count(st.late, "match")
        ));
    }
    if st.unsearched > 0 {
        out.push_str(&format!(
            "talon: schedule: {} fell in no run's window (not alerted)\n",
            count(st.unsearched, "match")
        ));
    }
    let untimed = &st.untimed;
    for (n, first, what) in [
        (untimed.unusable, &untimed.first_unusable, "an unusable"),
        (untimed.missing, &untimed.first_missing, "no"),
    ] {
        let Some(first) = first else { continue };
        let value = match &first.why {
            NoTime::Missing => format!("no `{}`", first.field),
            NoTime::Unusable(v) => format!("`{}` is {v}", first.field),
        };
        out.push_str(&format!(
            "talon: schedule: {} {what} timestamp (not alerted; first: {}:{}: {})\n",
            match n {
                1 => "1 match has".to_string(),
                n => format!("{n} matches have"),
            },
            escape_controls(&first.origin.file),
            first.origin.line,
            escape_controls(&value)
        ));
    }
    out
}

/// What the sequence or sample rules (`kind`) found, by their counts in
/// `found` (one per rule, whose kinds are `kinds`); `None` when no such
/// rule ran.
fn found_by(kinds: &[QueryKind], found: &[u64], kind: QueryKind) -> Option<u64> {
    let mut of_kind = kinds
        .iter()
        .zip(found)
        .filter(|(k, _)| **k == kind)
        .peekable();
    of_kind.peek()?;
    Some(of_kind.map(|(_, n)| n).sum())
}

/// The warnings of sequence rules that cannot fire for want of a join key:
/// each in full when there are few; else one line per missing key,
/// counting the rules and naming the first event (`-v` lists each rule's
/// own warning), so that a source lacking `host.id` does not bury the
/// summary under a warning per rule.
fn keyless_lines(warnings: &[&SequenceWarning]) -> Vec<String> {
    const IN_FULL: usize = 3;
    if warnings.len() <= IN_FULL {
        return warnings.iter().map(|w| w.to_string()).collect();
    }
    let mut by_key: Vec<(&str, usize, String)> = Vec::new();
    for w in warnings {
        tracing::info!("{w}");
        let SequenceWarning::Keyless { key, first, .. } = w else {
            continue;
        };
        match by_key.iter_mut().find(|(k, _, _)| *k == &**key) {
            Some((_, n, _)) => *n += 1,
            None => by_key.push((key, 1, format!("{}:{}", first.file, first.line))),
        }
    }
    by_key
        .into_iter()
        .map(|(key, n, first)| {
            format!(
                "{} cannot fire: events match one of their terms but have no value for the \
                 join key `{key}` (e.g. {first}), and none that has one does; check that the \
                 source writes it (-v names the rules)",
                count(n as u64, "sequence rule"),
            )
        })
        .collect()
}
