//! `talon hunt`: rules over events, alerts out, and a summary of
//! everything read, matched and skipped on stderr.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use talon_alert::{AlertBuilder, AlertContext, OutputFormat};
use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::read::ReadOptions;
use tracing::warn;

use crate::cli::{Format, HuntArgs};
use crate::cmd::common;
use crate::output;
use crate::summary::HuntSummary;

pub fn run(args: HuntArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let use_demo = args.rules.is_empty() && args.input.events.is_empty();

    let report = common::load_rules(&args.rules);
    let load_errors = common::report_load_problems(&report);
    let mapping = common::load_mapping(&args.input.mapping)?;
    let (compiled, mut problems) = compile_rules(report.rules, &mapping);
    let opts = EngineOptions { all_indices: args.all_indices };
    let (mut engine, unsupported) = Engine::new(compiled, &opts);
    problems.extend(unsupported);
    for p in problems.iter().filter(|p| p.is_error()) {
        eprint!("{}", p.render());
    }
    for p in problems.iter().filter(|p| !p.is_error()) {
        tracing::info!("{p}");
    }
    if engine.rules().is_empty() {
        bail!("no rule can run ({} loaded with errors, {} not supported)",
            load_errors + problems.iter().filter(|p| p.is_error()).count(),
            problems.iter().filter(|p| !p.is_error()).count());
    }

    let mut read_opts = ReadOptions::default();
    if let Some(index) = &args.input.index {
        read_opts = read_opts.with_index(index.clone());
    }
    if mapping.is_explicit() {
        read_opts = read_opts.with_mapping(&mapping);
    }
    let mut reader = common::open_events(&args.input.events, read_opts, use_demo)?;

    let out = output::open(&args.output)?;
    let format = match out.format {
        Format::Jsonl => OutputFormat::Jsonl,
        Format::Csv => OutputFormat::Csv,
        Format::Table => OutputFormat::Table,
        Format::Es => bail!("--format es is only for `talon query`"),
    };
    let mut sink = talon_alert::sink_for(format, out.writer);
    let ctx = AlertContext::from_env().context("invalid TALON_NOW")?;
    let mut alerts_per_rule = vec![0u64; engine.rules().len()];
    let mut alert_errors = 0u64;
    let mut write_error = None;
    // Alerts are built from the rule as loaded; the builder is per rule and
    // computed once, so the rules are cloned out of the engine first.
    let rules: Vec<_> = engine.rules().iter().map(|r| r.rule.clone()).collect();
    let builders: Vec<AlertBuilder<'_>> = rules.iter().map(|r| AlertBuilder::new(r, &ctx)).collect();

    for item in reader.by_ref() {
        let event = match item {
            Ok(e) => e,
            Err(issue) => {
                tracing::info!("{issue}");
                continue;
            }
        };
        engine.on_event(&event, |d| {
            match builders[d.rule_index].event_alert(d.event) {
                Ok(alert) => {
                    alerts_per_rule[d.rule_index] += 1;
                    if write_error.is_none() {
                        if let Err(e) = sink.write(&alert) {
                            write_error = Some(e);
                        }
                    }
                }
                Err(e) => {
                    alert_errors += 1;
                    warn!("{}:{}: cannot build alert: {e}", d.event.origin.file, d.event.origin.line);
                }
            }
        });
        if write_error.is_some() {
            break;
        }
    }
    let finish = sink.finish();
    if let Some(e) = write_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
    }
    if let Err(e) = finish {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write alerts");
        }
    }

    if !quiet {
        let summary = HuntSummary {
            read: reader.stats(),
            engine: engine.stats(),
            rules: &rules,
            alerts_per_rule: &alerts_per_rule,
            alert_errors,
            rule_errors: load_errors + problems.iter().filter(|p| p.is_error()).count(),
            rules_not_supported: problems.iter().filter(|p| !p.is_error()).count(),
            elapsed: started.elapsed(),
        };
        eprint!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
