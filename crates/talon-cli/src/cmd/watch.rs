//! `talon watch`: a live Linux sensor. Subscribes to the kernel's process
//! events (the process connector, or audit netlink: `--source`), runs the
//! rules on every exec as it happens, and writes alerts (and, with
//! `--all-events`, every event) as JSON Lines until SIGINT, SIGTERM or
//! `--duration`; then flushes and prints what it saw.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use talon_alert::{Alert, AlertContext, AlertSink, OutputFormat};
use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::mapping::Mapping;
use talon_event::Event;
use talon_sensor::{Priority, Sensor, SourceChoice, WatchConfig, WatchSink};

use crate::cmd::common;

pub const WATCH_EXAMPLES: &str = "Examples:
  sudo talon watch                                   bundled rules, alerts on stdout
  sudo talon watch --rules rules/linux/ --output alerts.jsonl --all-events events.jsonl
  sudo talon watch --rules seed-rule.toml --duration 60 --ready-file /tmp/talon.ready
  sudo talon watch --source audit                    exec events from audit netlink

Needs root in the host's initial namespaces: the kernel's process connector
(CAP_NET_ADMIN) and audit netlink (CAP_AUDIT_CONTROL, CAP_AUDIT_READ) do not
report to containers. With audit, talon adds an execve rule (and turns audit
on if it is off) for the watch, and undoes both on exit.";

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Rule files or folders (detection-rules TOML, Kibana NDJSON exports,
    /// rule pages). Default: the bundled rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Also run rules saved with `enabled = false` (Kibana runs none of
    /// them, and neither does talon by default).
    #[arg(long)]
    pub include_disabled: bool,

    /// Write alerts (JSON Lines) to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write every event built (process starts and ends, JSON Lines)
    /// to FILE, or to stdout with `-` (alerts then need --output).
    #[arg(long, value_name = "FILE|-")]
    pub all_events: Option<String>,

    /// Stop after this many seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
    pub duration: Option<Duration>,

    /// Create FILE (holding talon's pid) once the kernel has accepted the
    /// subscription, so a script can start its commands then.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,

    /// The sensor's CPU priority. A process is read from /proc after its
    /// exec is reported; the sooner the sensor runs, the fewer short-lived
    /// processes are gone by then.
    #[arg(long, value_enum, default_value_t = PriorityArg::Boost)]
    pub priority: PriorityArg,

    /// Where process events come from.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// The process connector; audit netlink when the kernel refuses it.
    Auto,
    /// The kernel's process connector: execs, forks and exits; changes
    /// nothing on the host.
    ProcConnector,
    /// Audit netlink's read-only multicast group: execs only, complete
    /// even for processes gone at once; alongside auditd if one runs.
    Audit,
}

impl From<SourceArg> for SourceChoice {
    fn from(s: SourceArg) -> SourceChoice {
        match s {
            SourceArg::Auto => SourceChoice::Auto,
            SourceArg::ProcConnector => SourceChoice::ProcConnector,
            SourceArg::Audit => SourceChoice::Audit,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PriorityArg {
    /// As inherited.
    Normal,
    /// Nice -10: ahead of ordinary work, never starving it.
    Boost,
    /// SCHED_FIFO: the fewest partial events; a fork storm can cost the
    /// rest of the machine up to a CPU.
    Realtime,
}

impl From<PriorityArg> for Priority {
    fn from(p: PriorityArg) -> Priority {
        match p {
            PriorityArg::Normal => Priority::Normal,
            PriorityArg::Boost => Priority::Boost,
            PriorityArg::Realtime => Priority::Realtime,
        }
    }
}

pub fn run(args: WatchArgs, quiet: bool) -> Result<ExitCode> {
    let mut engine = load_engine(&args.rules, args.include_disabled, quiet)?;
    let mut outputs = Outputs::open(&args, engine.rules().len())?;
    let config = WatchConfig {
        all_events: args.all_events.is_some(),
        duration: args.duration,
        pinned_now: pinned_now()?,
        priority: args.priority.into(),
        source: args.source.into(),
        ..WatchConfig::default()
    };

    let stop = Arc::new(AtomicBool::new(false));
    talon_sensor::stop_on_signals(&stop).context("cannot install the SIGINT/SIGTERM handlers")?;
    let sensor = Sensor::open(config)?;
    if let Some(path) = &args.ready_file {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot create ready file {}", path.display()))?;
    }
    if !quiet {
        if let Some(why) = sensor.fallback_reason() {
            eprintln!("talon: not using the process connector: {why}");
        }
        eprintln!(
            "talon: watching process events from {} with {} rule{} (Ctrl-C stops)",
            sensor.source(),
            engine.rules().len(),
            if engine.rules().len() == 1 { "" } else { "s" }
        );
    }

    let stats = sensor.run(&mut engine, &mut outputs, &stop)?;
    if !quiet {
        eprint!("{stats}");
        let mut per_rule: Vec<(u64, usize)> = outputs
            .per_rule
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (*n, i))
            .collect();
        per_rule.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (n, i) in per_rule {
            let rule = &engine.rules()[i].rule;
            eprintln!(
                "talon: {n:>8}  {} [{}]",
                talon_event::terminal::escape_controls(&rule.name),
                rule.severity
            );
        }
    }
    if outputs.cut_short {
        return Ok(common::cut_short(quiet, common::Unread::Stopped));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads and compiles the rules as `talon hunt` does, reporting problems.
fn load_engine(paths: &[PathBuf], include_disabled: bool, quiet: bool) -> Result<Engine> {
    let mapping = Mapping::default();
    let report = common::load_rules(paths, &mapping);
    let load_errors = common::report_load_problems(&report);
    if let Some(msg) = common::no_rule_files(paths, &report) {
        anyhow::bail!(msg);
    }
    let rules = common::leave_out_disabled(report.rules, include_disabled, quiet)?;
    let (compiled, mut problems) = compile_rules(rules, &mapping);
    let (engine, unsupported) = Engine::new(compiled, &EngineOptions::default());
    problems.extend(unsupported);
    for p in problems.iter().filter(|p| p.is_error()) {
        eprint!("{}", p.render());
    }
    for p in problems.iter().filter(|p| !p.is_error()) {
        tracing::info!("{p}");
    }
    if engine.rules().is_empty() {
        return Err(super::common::no_rule_can_run(
            load_errors,
            problems.iter().filter(|p| p.is_error()).count(),
            problems.iter().filter(|p| !p.is_error()).count(),
        ));
    }
    Ok(engine)
}

/// `TALON_NOW` pins every alert's time, as in `talon hunt`; otherwise each
/// alert is stamped when raised.
fn pinned_now() -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    if std::env::var_os(talon_alert::context::NOW_ENV).is_none() {
        return Ok(None);
    }
    Ok(Some(
        AlertContext::from_env().context("invalid TALON_NOW")?.now,
    ))
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("not a number of seconds: {text:?}"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("not a usable duration: {text:?}"))
}

/// The alert sink, the optional event stream, and alerts per rule.
struct Outputs {
    alerts: Box<dyn AlertSink>,
    events: Option<BufWriter<Box<dyn Write>>>,
    per_rule: Vec<u64>,
    /// An output's reader went away (`| head`), which stopped the watch.
    cut_short: bool,
}

impl Outputs {
    fn open(args: &WatchArgs, rules: usize) -> Result<Outputs> {
        let events_to_stdout = args.all_events.as_deref() == Some("-");
        let output = crate::output::file(args.output.as_deref());
        if events_to_stdout && output.is_none() {
            bail!("--all-events - writes events to stdout; give alerts a file with --output FILE");
        }
        common::refuse_output_over_inputs(args.output.as_deref(), "--output", &args.rules)?;
        if let Some(path) = args.all_events.as_deref().filter(|p| *p != "-") {
            common::refuse_output_over_inputs(Some(Path::new(path)), "--all-events", &args.rules)?;
            // Two writers on one file overwrite each other's bytes.
            if let Some(out) = output.filter(|o| common::same_file(o, Path::new(path))) {
                bail!(
                    "--all-events {path} is the file --output {} writes the alerts to: \
                     the two would overwrite each other; nothing was written (give them \
                     different files)",
                    out.display()
                );
            }
        }
        let alerts: Box<dyn Write> = match output {
            Some(path) => crate::output::create(path, false)?,
            None => Box::new(io::stdout()),
        };
        let events: Option<Box<dyn Write>> = match args.all_events.as_deref() {
            None => None,
            Some("-") => Some(Box::new(io::stdout())),
            Some(path) => Some(crate::output::create(Path::new(path), false)?),
        };
        Ok(Outputs {
            alerts: talon_alert::sink_for(OutputFormat::Jsonl, alerts),
            events: events.map(BufWriter::new),
            per_rule: vec![0; rules],
            cut_short: false,
        })
    }

    /// Notes a broken pipe (the sensor stops on it without an error).
    fn noted(&mut self, r: io::Result<()>) -> io::Result<()> {
        if let Err(e) = &r {
            self.cut_short |= common::io_is_broken_pipe(e);
        }
        r
    }
}

impl WatchSink for Outputs {
    fn alert(&mut self, rule_index: usize, alert: &Alert) -> io::Result<()> {
        if let Some(n) = self.per_rule.get_mut(rule_index) {
            *n += 1;
        }
        let r = self.alerts.write(alert);
        self.noted(r)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let r = match &mut self.events {
            Some(w) => w
                .write_all(event.source().as_bytes())
                .and_then(|()| w.write_all(b"\n")),
            None => Ok(()),
        };
        self.noted(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let alerts = self.alerts.finish();
        let events = match &mut self.events {
            Some(w) => w.flush(),
            None => Ok(()),
        };
        let r = alerts.and(events);
        self.noted(r)
    }
}
