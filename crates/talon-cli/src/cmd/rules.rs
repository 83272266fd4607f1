//! `talon rules`: what a rule folder covers and what of it can run.
//!
//! `--coverage` counts rules by type, OS tag, MITRE tactic and data source
//! (index pattern families and `Data Source:` tags), and lists every rule
//! that cannot run with the reason: a type talon does not run yet, or a
//! query error with its file, line and column. Without `--coverage`, one
//! line per rule. Either way, a rule whose `interval`, `from` or `to`
//! cannot be read is listed (it runs, but not under `hunt --schedule`) and
//! its error printed, as `check` prints it. When no rule listed can run,
//! the list ends with the error `hunt` gives over the same rules (exit 2).
//! The selection flags shared with `hunt` and `check` (tag,
//! tactic, technique, severity, id, name, building blocks) live here too.

use crate::summary::count;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use talon_engine::{compile_rule, RuleProblem, RuleSelector, Severity};
use talon_event::terminal::escape_controls;
use talon_rules::{IndexSource, Rule};

use crate::cmd::common;

pub const RULES_EXAMPLES: &str = "Examples:
  talon rules --coverage ../shared/corpora/detection-rules/rules
  talon rules --tag 'OS: Linux' --tactic TA0011 rules/
  talon rules --coverage --min-severity high";

/// Which rules to keep (any value of one flag, all flags given).
#[derive(Debug, Args, Default, Clone)]
pub struct SelectArgs {
    /// Keep rules with this tag (exact, any case); repeat for any-of.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Keep rules mapped to this MITRE tactic, by id or name.
    #[arg(long = "tactic", value_name = "ID|NAME")]
    pub tactics: Vec<String>,

    /// Keep rules mapped to this technique; a parent id also matches its
    /// sub-techniques.
    #[arg(long = "technique", value_name = "ID")]
    pub techniques: Vec<String>,

    /// Keep rules of this severity; repeat for any-of.
    #[arg(long = "severity", value_name = "LEVEL", value_parser = parse_severity)]
    pub severities: Vec<Severity>,

    /// Keep rules of at least this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,

    /// Keep the rule with this rule_id; repeat for any-of.
    #[arg(long = "rule-id", value_name = "ID")]
    pub rule_ids: Vec<String>,

    /// Keep rules whose name matches this glob (`*`, any case).
    #[arg(long = "rule-name", value_name = "GLOB")]
    pub rule_names: Vec<String>,

    /// Drop building-block rules.
    #[arg(long)]
    pub exclude_building_blocks: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    talon_engine::parse_severity(s).map_err(|e| e.to_string())
}

impl SelectArgs {
    pub fn selector(&self) -> Result<RuleSelector> {
        let s = RuleSelector {
            tags: self.tags.clone(),
            tactics: self.tactics.clone(),
            techniques: self.techniques.clone(),
            severities: self.severities.clone(),
            min_severity: self.min_severity,
            rule_ids: self.rule_ids.clone(),
            rule_names: self.rule_names.clone(),
            exclude_building_blocks: self.exclude_building_blocks,
        };
        s.validate().context("invalid rule selection")?;
        Ok(s)
    }

    /// Applies the selection; when it drops rules, says how many remain.
    fn apply(&self, rules: Vec<Rule>, quiet: bool) -> Result<Vec<Rule>> {
        let selector = self.selector()?;
        let total = rules.len();
        let (kept, dropped) = selector.apply(rules);
        if !selector.is_empty() && !quiet {
            eprintln!(
                "talon: selected {} of {} ({} left out by the selection)",
                kept.len(),
                crate::summary::count(total as u64, "rule"),
                dropped
            );
        }
        Ok(kept)
    }

    /// Applies the selection for a command that works on the rules it
    /// keeps (`check` checks, `rules` lists, `hunt` runs): `None`, after
    /// an error naming `to`, when the selection keeps none of the rules
    /// loaded. A mistyped `--rule-id` would otherwise pass, having done
    /// nothing.
    pub fn apply_keeping_some(
        &self,
        rules: Vec<Rule>,
        quiet: bool,
        to: &str,
    ) -> Result<Option<Vec<Rule>>> {
        let loaded = rules.len();
        let kept = self.apply(rules, quiet)?;
        if kept.is_empty() && loaded > 0 {
            eprintln!(
                "talon: error: the selection left no rule to {to} ({} loaded, none kept)",
                count(loaded as u64, "rule")
            );
            return Ok(None);
        }
        Ok(Some(kept))
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Rule files or folders. Default: the bundled rules.
    #[arg(value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Counts by type, OS, tactic and data source, and what cannot run.
    #[arg(long)]
    pub coverage: bool,

    #[command(flatten)]
    pub select: SelectArgs,
}

pub fn run(args: RulesArgs, quiet: bool) -> Result<ExitCode> {
    crate::output::require_stdout("the rule list")?;
    let mapping = talon_event::mapping::Mapping::default();
    let report = common::load_rules(&args.rules, &mapping);
    let load_errors = common::report_load_problems(&report);
    if let Some(msg) = common::no_rule_files(&args.rules, &report) {
        eprintln!("talon: error: {msg}");
        return Ok(ExitCode::from(1));
    }
    // Paths given, and every rule in them failed to load (printed above):
    // no rule was found at all, as when they hold none.
    if !args.rules.is_empty() && report.rules.is_empty() {
        let given: Vec<String> = args.rules.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "talon: error: no rule loaded from {}: {}",
            given.join(", "),
            count(load_errors as u64, "load error")
        );
        return Ok(ExitCode::from(1));
    }
    let Some(rules) = args
        .select
        .apply_keeping_some(report.rules, quiet, "list")?
    else {
        return Ok(ExitCode::from(1));
    };
    // An `interval`, `from` or `to` that `hunt --schedule` cannot read:
    // an error at its value, as `check` prints it (the rule loads, and is
    // listed; it runs, but not under --schedule).
    let mut schedule_errors = 0;
    for r in &rules {
        for e in &r.schedule_errors {
            eprintln!("{e}");
        }
        schedule_errors += usize::from(!r.can_schedule());
    }
    if !args.coverage {
        // Columns as wide as their widest value, so a long rule id or type
        // (`machine_learning`) does not push the rest of its line along.
        let width = |f: &dyn Fn(&Rule) -> usize, least: usize| {
            rules.iter().map(f).max().unwrap_or(0).max(least)
        };
        let id_w = width(&|r| escape_controls(&r.rule_id).chars().count(), 0);
        let type_w = width(&|r| r.rule_type.chars().count(), 9);
        let severity_w = width(&|r| r.severity.chars().count(), 8);
        let (mut runnable, mut errors, mut unsupported) = (0, 0, 0);
        for r in rules {
            let line = format!(
                "{:<id_w$}  {:<type_w$} {:<severity_w$} {}",
                escape_controls(&r.rule_id),
                r.rule_type,
                r.severity,
                escape_controls(&r.name)
            );
            // A rule that will not run is marked, so the list does not
            // pass for a list of what `hunt` runs (`check` says why).
            let mark = match compile_rule(r, &mapping) {
                Ok(_) => {
                    runnable += 1;
                    ""
                }
                Err(RuleProblem::Query { .. }) => {
                    errors += 1;
                    "  [query error: see talon check]"
                }
                Err(RuleProblem::Filter { .. }) => {
                    errors += 1;
                    "  [filter error: see talon check]"
                }
                Err(RuleProblem::Unsupported { .. }) => {
                    unsupported += 1;
                    "  [not run: talon rules --coverage says why]"
                }
            };
            println!("{line}{mark}");
        }
        return listed(runnable, load_errors, errors, unsupported);
    }
    let mut c = Coverage::default();
    for rule in rules {
        c.add(&rule);
        match compile_rule(rule, &mapping) {
            Ok(_) => c.runnable += 1,
            Err(p @ (RuleProblem::Query { .. } | RuleProblem::Filter { .. })) => {
                c.cannot.push(p.render())
            }
            Err(RuleProblem::Unsupported { reason, .. }) => {
                *c.unsupported.entry(reason).or_default() += 1;
            }
        }
    }
    print!("{}", c.render(load_errors, schedule_errors));
    let unsupported = c.unsupported.values().sum();
    listed(c.runnable, load_errors, c.cannot.len(), unsupported)
}

/// The exit after the list: success when some rule listed can run, else
/// the error `hunt` gives over the same rules (exit 2), so that a list of
/// rules none of which runs does not pass for one of what `hunt` runs.
fn listed(
    runnable: usize,
    load_errors: usize,
    errors: usize,
    unsupported: usize,
) -> Result<ExitCode> {
    if runnable == 0 {
        return Err(common::no_rule_can_run(load_errors, errors, unsupported));
    }
    Ok(ExitCode::SUCCESS)
}

/// Counters for `--coverage`.
#[derive(Default)]
struct Coverage {
    total: usize,
    runnable: usize,
    by_type: BTreeMap<String, usize>,
    by_os: BTreeMap<String, usize>,
    by_tactic: BTreeMap<String, usize>,
    by_index_family: BTreeMap<String, usize>,
    by_data_source: BTreeMap<String, usize>,
    building_blocks: usize,
    /// Rules of types talon does not run, by reason.
    unsupported: BTreeMap<String, usize>,
    /// Query errors, rendered with file, line, column and caret.
    cannot: Vec<String>,
}

impl Coverage {
    fn add(&mut self, r: &Rule) {
        self.total += 1;
        *self.by_type.entry(r.rule_type.clone()).or_default() += 1;
        if r.is_building_block() {
            self.building_blocks += 1;
        }
        let mut os: Vec<&str> = r
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix("OS:"))
            .map(str::trim)
            .collect();
        if os.is_empty() {
            os.push("(no OS tag)");
        }
        os.dedup();
        for o in os {
            *self.by_os.entry(o.to_string()).or_default() += 1;
        }
        let mut tactics: Vec<String> = r
            .threat
            .iter()
            .map(|t| format!("{} {}", t.tactic.id, t.tactic.name))
            .collect();
        tactics.sort();
        tactics.dedup();
        if tactics.is_empty() {
            tactics.push("(no tactic)".to_string());
        }
        for t in tactics {
            *self.by_tactic.entry(t).or_default() += 1;
        }
        let mut families: Vec<String> = match r.index_source() {
            // ES|QL names its indices in the query; ML reads a job's results.
            IndexSource::NotRead => vec![format!("(none: `{}` rules)", r.rule_type)],
            // What Kibana searches for such a rule: its default patterns.
            IndexSource::Default => vec!["(no index: Kibana's default patterns)".to_string()],
            IndexSource::DataView(_) if r.index.is_empty() => {
                vec!["(a data view: every index here)".to_string()]
            }
            _ => r.index.iter().map(|p| index_family(p)).collect(),
        };
        families.sort();
        families.dedup();
        if families.is_empty() {
            families.push("(empty index list: every index)".to_string());
        }
        for f in families {
            *self.by_index_family.entry(f).or_default() += 1;
        }
        for d in r
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix("Data Source:"))
            .map(str::trim)
        {
            *self.by_data_source.entry(d.to_string()).or_default() += 1;
        }
    }

    fn render(&self, load_errors: usize, schedule_errors: usize) -> String {
        let mut out = String::new();
        let cannot = self.total - self.runnable;
        out.push_str(&format!(
            "{}: {} can run, {} cannot ({} of an unsupported type, {} with query errors); {}{}; {}\n",
            count(self.total as u64, "rule"),
            self.runnable,
            cannot,
            self.unsupported.values().sum::<usize>(),
            self.cannot.len(),
            match schedule_errors {
                0 => String::new(),
                n => format!("{n} with schedule errors (not run by --schedule); "),
            },
            count(self.building_blocks as u64, "building block"),
            count(load_errors as u64, "load error")
        ));
        section(&mut out, "By type", &self.by_type);
        section(&mut out, "By OS tag", &self.by_os);
        section(&mut out, "By tactic", &self.by_tactic);
        section(&mut out, "By index pattern family", &self.by_index_family);
        section(&mut out, "By Data Source tag", &self.by_data_source);
        if !self.unsupported.is_empty() || !self.cannot.is_empty() {
            out.push_str("\nCannot run:\n");
            for (reason, n) in &self.unsupported {
                out.push_str(&format!("  {n:>5}  {reason}\n"));
            }
            for rendered in &self.cannot {
                for line in rendered.lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        }
        out
    }
}

fn section(out: &mut String, title: &str, counts: &BTreeMap<String, usize>) {
    out.push_str(&format!("\n{title}:\n"));
    let mut rows: Vec<(&String, &usize)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (k, n) in rows {
        out.push_str(&format!("  {n:>5}  {k}\n"));
    }
}

/// The family of an index pattern: the integration of `logs-*`/`metrics-*`
/// data streams (`logs-endpoint.events.process-*` → `logs-endpoint.*`),
/// else the name up to its first separator (`winlogbeat-*`), leading dots
/// included (`.alerts-security.*` → `.alerts-*`). A pattern with no name
/// before a separator (`*`) is its own family.
pub fn index_family(pattern: &str) -> String {
    // A remote cluster's index (`cluster:logs-*`) belongs to the same
    // family as the local one; index names hold no `:`.
    let p = pattern.trim();
    let p = p.rsplit_once(':').map_or(p, |(_, index)| index).trim();
    if p.is_empty() {
        return "(empty)".to_string();
    }
    for prefix in ["logs-", "metrics-", "traces-"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            let end = rest.find(['.', '-', '*']).unwrap_or(rest.len());
            if end == 0 {
                return format!("{prefix}*");
            }
            return format!("{prefix}{}.*", &rest[..end]);
        }
    }
    // A leading dot names a hidden or system index (Kibana's alerts,
    // `.alerts-security.alerts-default`): part of the name, not a
    // separator, or every such pattern would be the family `-*`.
    let dots = p.len() - p.trim_start_matches('.').len();
    let end = p[dots..]
        .find(['-', '*', '.'])
        .map_or(p.len(), |at| dots + at);
    if end == p.len() || end == dots {
        return p.to_string();
    }
    format!("{}-*", &p[..end])
}

#[cfg(test)]
mod tests {
    use super::index_family;

    #[test]
    fn index_patterns_are_grouped_by_integration_or_name() {
        for (pattern, family) in [
            ("logs-endpoint.events.process-*", "logs-endpoint.*"),
            ("logs-windows.sysmon_operational-*", "logs-windows.*"),
            ("logs-okta*", "logs-okta.*"),
            ("logs-*", "logs-*"),
            ("traces-apm*", "traces-apm.*"),
            ("winlogbeat-*", "winlogbeat-*"),
            ("apm-*-transaction*", "apm-*"),
            ("ml_beaconing.all", "ml_beaconing-*"),
            ("auditbeat", "auditbeat"),
            // A hidden index keeps its dot, and groups as the others do.
            (".alerts-security.*", ".alerts-*"),
            (".alerts-security.alerts-default", ".alerts-*"),
            (".siem-signals-*", ".siem-*"),
            (" .alerts-security.* ", ".alerts-*"),
            // No name before a separator: the pattern is its own family.
            ("*", "*"),
            (".*", ".*"),
            ("-*", "-*"),
            ("*-x", "*-x"),
            (".", "."),
            // A remote cluster's index groups with the local one.
            ("cluster:.alerts-security.*", ".alerts-*"),
            ("remote:logs-endpoint.events.*", "logs-endpoint.*"),
            ("", "(empty)"),
            ("remote:", "(empty)"),
        ] {
            assert_eq!(index_family(pattern), family, "{pattern}");
        }
    }
}
