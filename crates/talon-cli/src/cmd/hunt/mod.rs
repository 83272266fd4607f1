//! `talon hunt`: rules over events, alerts out, and a summary of
//! everything read, matched and skipped on stderr.
//!
//! Per event: routing and evaluation (the engine), then the rule's
//! exceptions (a suppressed match is counted, not alerted), then either
//! the alert is written at once, or, with `--schedule`, it goes to the
//! schedule replay, which writes the alerts Kibana's runs would have
//! created and warns for each run that reached max_signals.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use talon_alert::{Alert, AlertBuilder, AlertContext, AlertSink, OutputFormat};
use talon_engine::exceptions::BoundExceptions;
use talon_engine::schedule::{
    parse_interval, RuleSchedule, ScheduleOptions, ScheduleStats, Scheduled, Scheduler,
};
use talon_engine::sequence::SequenceMatch;
use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::read::ReadOptions;
use talon_event::Event;
use talon_rules::Rule;
use tracing::warn;

use crate::cli::{Format, HuntArgs};
use crate::cmd::{check, common};
use crate::output;
use crate::summary::HuntSummary;

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
    let reorder_nanos = parse_interval(&args.reorder_window).with_context(|| {
        format!(
            "--reorder-window `{}`: expected a duration like 30s, 5m or 1h",
            args.reorder_window
        )
    })?;
    let opts = EngineOptions {
        all_indices: args.all_indices,
        reorder_window_nanos: Some(reorder_nanos),
        max_pending_sequences: Some(args.max_pending_sequences),
    };
    let (mut engine, unsupported) = Engine::with_mapping(compiled, &opts, &mapping);
    problems.extend(unsupported);
    for p in problems.iter().filter(|p| p.is_error()) {
        eprint!("{}", p.render());
    }
    for p in problems.iter().filter(|p| !p.is_error()) {
        tracing::info!("{p}");
    }
    if engine.rules().is_empty() && engine.sequence_rules().next().is_none() {
        bail!(
            "no rule can run ({} loaded with errors, {} not supported)",
            load_errors + problems.iter().filter(|p| p.is_error()).count(),
            problems.iter().filter(|p| !p.is_error()).count()
        );
    }

    // Alerts are built from the rule as loaded; the builder is per rule and
    // computed once, so the rules are cloned out of the engine first.
    let rules: Vec<Rule> = engine.rules().iter().map(|r| r.rule.clone()).collect();
    let seq_rules: Vec<Rule> = engine.sequence_rules().map(|r| r.rule.clone()).collect();
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
    let mut seq_suppressed = vec![0u64; seq_rules.len()];
    // The schedule replay covers both kinds of rule: event rules at
    // 0..rules.len(), sequence rules after them.
    let mut scheduler = if args.schedule {
        let both: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        Some(build_scheduler(&both, &args.reorder_window)?)
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
    let mut reader =
        common::open_events(&args.input.events, args.input.source, read_opts, use_demo)?;

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
    let mut suppressed = vec![0u64; rules.len()];
    let mut alert_errors = 0u64;
    let mut truncations = 0u64;
    let builders: Vec<AlertBuilder<'_>> =
        rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();
    let seq_builders: Vec<AlertBuilder<'_>> = seq_rules
        .iter()
        .map(|r| AlertBuilder::new(r, &ctx))
        .collect();
    // Sequences found while an event is being processed are collected and
    // written right after, so both closures need not borrow the sink.
    let mut found: Vec<(usize, SequenceMatch)> = Vec::new();

    let emit = |s: Scheduled<Vec<Alert>>, alerts: &mut Alerts<'_>, truncations: &mut u64| match s {
        Scheduled::Alert {
            rule_index,
            payload,
            ..
        } => {
            for a in &payload {
                alerts.write(rule_index, a);
            }
        }
        Scheduled::Truncated(t) => {
            *truncations += 1;
            eprintln!("warning: {t}");
        }
    };
    for item in reader.by_ref() {
        let event = match item {
            Ok(e) => Arc::new(e),
            // Counted in the reader's stats and logged there at -vv.
            Err(_) => continue,
        };
        if let Some(s) = scheduler.as_mut() {
            s.observe(&event);
        }
        engine.on_shared_event_admitting(
            &event,
            |d| {
                if exceptions.check(d.rule_index, d.event).is_some() {
                    if let Some(n) = suppressed.get_mut(d.rule_index) {
                        *n += 1;
                    }
                    return;
                }
                match builders[d.rule_index].event_alert(d.event) {
                    Ok(alert) => match scheduler.as_mut() {
                        Some(s) => {
                            let key = alert.uuid().to_string();
                            s.offer(d.rule_index, d.event, key, vec![alert]);
                        }
                        None => alerts.write(d.rule_index, &alert),
                    },
                    Err(e) => {
                        alert_errors += 1;
                        warn!(
                            "{}:{}: cannot build alert: {e}",
                            d.event.origin.file, d.event.origin.line
                        );
                    }
                }
            },
            |sd| found.push((sd.rule_index, sd.matched)),
            |i, e| {
                // An excepted event fills no term of the rule's sequences.
                let excepted = seq_exceptions.check(i, e).is_some();
                if excepted {
                    seq_suppressed[i] += 1;
                }
                !excepted
            },
        );
        for (i, m) in found.drain(..) {
            let slot = rules.len() + i;
            write_sequence(
                &seq_builders[i],
                &m,
                slot,
                &mut alerts,
                scheduler.as_mut(),
                &mut alert_errors,
            );
        }
        if let Some(s) = scheduler.as_mut() {
            s.advance(|x| emit(x, &mut alerts, &mut truncations));
        }
        if alerts.write_error.is_some() {
            break;
        }
    }
    // Sequences still settling at the end of input, then the last runs.
    let seq_warnings = engine.finish(|sd| found.push((sd.rule_index, sd.matched)));
    for (i, m) in found.drain(..) {
        let slot = rules.len() + i;
        write_sequence(
            &seq_builders[i],
            &m,
            slot,
            &mut alerts,
            scheduler.as_mut(),
            &mut alert_errors,
        );
    }
    let schedule_stats = scheduler.map(|s| s.finish(|x| emit(x, &mut alerts, &mut truncations)));
    let finish = alerts.sink.finish();
    if let Some(e) = alerts.write_error.take() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
    }
    if let Err(e) = finish {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
    }

    for w in &seq_warnings {
        eprintln!("warning: {w}");
    }

    if !quiet {
        let all_rules: Vec<&Rule> = rules.iter().chain(&seq_rules).collect();
        let per_rule: Vec<u64> = alerts.per_rule.clone();
        let summary = HuntSummary {
            read: &reader.stats(),
            engine: engine.stats(),
            rules: &all_rules,
            alerts_per_rule: &per_rule,
            sequences: (!seq_rules.is_empty()).then(|| engine.sequence_matches().iter().sum()),
            alert_errors,
            rule_errors: load_errors + problems.iter().filter(|p| p.is_error()).count(),
            rules_not_supported: problems.iter().filter(|p| !p.is_error()).count(),
            elapsed: started.elapsed(),
        };
        eprint!("{summary}");
        let all_suppressed: Vec<u64> = suppressed.iter().chain(&seq_suppressed).copied().collect();
        eprint!("{}", suppressed_lines(&all_rules, &all_suppressed));
        if let Some(st) = &schedule_stats {
            eprint!("{}", schedule_lines(st));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the alerts of one sequence: the shell alert, then a building
/// block per event, linked by `kibana.alert.group.id`, as Kibana writes
/// EQL sequence alerts. With a schedule replay, the group goes to the runs
/// whose window holds its first and last events instead.
fn write_sequence(
    builder: &AlertBuilder<'_>,
    m: &SequenceMatch,
    slot: usize,
    alerts: &mut Alerts<'_>,
    scheduler: Option<&mut Scheduler<Vec<Alert>>>,
    errors: &mut u64,
) {
    let events: Vec<&Event> = m.events.iter().flatten().map(|e| e.as_ref()).collect();
    match builder.sequence_alerts(&events) {
        Ok(docs) => match (scheduler, events.first(), events.last(), docs.first()) {
            (Some(s), Some(first), Some(last), Some(shell)) => {
                let key = shell.uuid().to_string();
                s.offer_span(slot, first, last, key, docs);
            }
            _ => {
                for a in &docs {
                    alerts.write(slot, a);
                }
            }
        },
        Err(e) => {
            *errors += 1;
            warn!("cannot build sequence alert: {e}");
        }
    }
}

fn build_scheduler(rules: &[&Rule], reorder: &str) -> Result<Scheduler<Vec<Alert>>> {
    let window = parse_interval(reorder).with_context(|| {
        format!("--reorder-window `{reorder}`: expected a duration like 30s, 5m or 1h")
    })?;
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
