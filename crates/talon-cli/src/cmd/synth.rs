//! `talon synth`: test events from a rule, as NDJSON. For an event query,
//! events that make the rule fire (`talon.synth.expect: "alert"`) and
//! near-misses that must not, each with one condition flipped
//! (`"no-alert"`, and the condition in `talon.synth.flipped`); for a
//! sequence or sample, the ordered stream that makes it fire once.
//!
//! Exit code 1 when a rule does not compile, no event that makes it fire is
//! found, or none of the rules is one talon runs. Not finding one is not
//! proof that none exists: the search gives up on some script conditions
//! (`process.pid % 7 == 3`) that plenty of events meet, so the message says
//! what was found, and the reason says whether the condition cannot hold.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use talon_engine::compile_rule;
use talon_synth::{synthesize, SynthOptions};

use crate::cmd::common;
use crate::summary::count;

pub const SYNTH_EXAMPLES: &str = "Examples:
  talon synth rules/linux/command_and_control_ip_forwarding_enabled.toml
  talon synth 'IPv4/IPv6 Forwarding Activity' --rules ../shared/corpora/detection-rules/rules/ --output events.ndjson
  talon synth 5a138e2e-aec3-4240-9843-56825d0bc569 --rules ../shared/corpora/detection-rules/rules/ --no-near-misses
  talon synth rule.toml | talon hunt --rules rule.toml -";

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// A rule file, or a rule_id or name to find among --rules.
    #[arg(value_name = "RULE")]
    pub rule: String,

    /// Where to look for the rule by id or name. Default: the bundled rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Varies host names, ids and timestamps; the same seed gives the same
    /// events.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Also write near-misses, events that must not fire (the default).
    #[arg(long, overrides_with = "no_near_misses")]
    pub near_misses: bool,

    /// Write only the events that fire.
    #[arg(long, overrides_with = "near_misses")]
    pub no_near_misses: bool,

    /// An Elasticsearch index mapping to compile the rule against.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,

    /// Write to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: SynthArgs, quiet: bool) -> Result<ExitCode> {
    let mapping = common::load_mapping(&args.mapping)?;
    let rules = common::find_rules(&args.rule, &args.rules, &mapping)?;
    let opts = SynthOptions {
        seed: args.seed,
        near_misses: args.near_misses || !args.no_near_misses,
        ..SynthOptions::default()
    };
    let mut inputs: Vec<PathBuf> = args.rules.clone();
    inputs.extend(args.mapping.iter().cloned());
    let rule = Path::new(&args.rule);
    if rule.exists() {
        inputs.push(rule.to_path_buf());
    }
    common::refuse_output_over_inputs(args.output.as_deref(), "--output", &inputs)?;
    crate::output::refuse_csv_name(args.output.as_deref(), "synth")?;
    let (mut out, _) = crate::output::writer(args.output.as_deref(), "the events made")?;
    let mut failed = false;
    let mut made = 0usize;
    for rule in rules {
        let name = rule.name.clone();
        let compiled = match compile_rule(rule, &mapping) {
            Ok(c) => c,
            // A rule type talon does not run (KQL, ES|QL, ...): nothing to
            // test, said once, not an error.
            Err(problem) if !problem.is_error() => {
                if !quiet {
                    eprintln!("{}", problem.render().trim_end());
                }
                continue;
            }
            Err(problem) => {
                eprintln!("{}", problem.render().trim_end());
                failed = true;
                continue;
            }
        };
        // The events are made from the query alone: one the rule's filters
        // leave out does not alert, in Kibana or in `talon hunt`.
        if !compiled.filters.is_empty() {
            eprintln!(
                "talon: warning: rule \"{name}\": its {} filter(s) are not taken into account: \
                 an event marked to alert that a filter leaves out does not alert",
                compiled.filters.len()
            );
        }
        let s = synthesize(&compiled.rule, &compiled.query, &opts)
            .with_context(|| format!("rule \"{name}\""))?;
        if let Some(why) = &s.unsatisfiable {
            eprintln!("talon: rule \"{name}\": talon found no event that makes it fire: {why}");
            failed = true;
            continue;
        }
        let mut docs = s
            .positives
            .iter()
            .chain(s.near_misses.iter().map(|(_, d)| d));
        let wrote: Result<()> =
            docs.try_for_each(|doc| writeln!(out, "{doc}").map_err(anyhow::Error::from));
        if common::finish_output(wrote, "events", args.output.as_deref())?
            == common::Written::CutShort
        {
            return Ok(common::cut_short(quiet, common::Unread::Rules));
        }
        made += 1;
        if !quiet {
            summary(&name, compiled.query.kind(), &s);
        }
    }
    let flushed = out.flush().map_err(anyhow::Error::from);
    if common::finish_output(flushed, "events", args.output.as_deref())?
        == common::Written::CutShort
    {
        return Ok(common::cut_short(quiet, common::Unread::Rules));
    }
    Ok(if failed || made == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(name: &str, kind: talon_eql::QueryKind, s: &talon_synth::Synthesis) {
    if kind != talon_eql::QueryKind::Event {
        eprintln!(
            "{name}: {}, in order, that make it fire once",
            count(s.positives.len() as u64, "event")
        );
        return;
    }
    let fire = match s.positives.len() {
        1 => "1 event that fires".to_string(),
        n => format!("{n} events that fire"),
    };
    eprintln!(
        "{name}: {fire}, {} that must not",
        count(s.near_misses.len() as u64, "near-miss")
    );
    for (label, why) in &s.unflippable {
        tracing::info!("not flipped alone: {label}: {why}");
    }
}
