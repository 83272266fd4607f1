//! `talon check`: load and verify rules, print every problem with its file,
//! line, column and caret, and a count by outcome. Exit 1 on any error.
//!
//! With `--mapping` and/or `--schema` the queries are verified against
//! those fields as Elasticsearch's verifier would: an unknown plain field,
//! a comparison with a value of the wrong type or a function called with
//! the wrong arguments is an error at its span; an unknown `?field` is null.
//!
//! An `interval`, `from` or `to` that `hunt --schedule` cannot read is an
//! error at its value too, and the rule is counted "with schedule errors"
//! (it runs, but not under `--schedule`). What a rule that runs holds but
//! talon does not apply (`alert_suppression`, overrides of a sequence
//! rule) is a warning, once per rule.
//!
//! Paths that hold no rule, and a selection that keeps none of the rules
//! loaded, are errors too (exit 1): nothing was checked.

use crate::summary::count;
use std::collections::BTreeMap;
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::Result;
use talon_engine::{compile_rule, RuleProblem};
use talon_event::mapping::{Mapping, SchemaFormat};

use crate::cli::CheckArgs;
use crate::cmd::common;

pub fn run(args: CheckArgs, quiet: bool) -> Result<ExitCode> {
    crate::output::require_stdout("the check summary")?;
    let mapping = compile_mapping(&args.mapping, &args.schema)?;
    let report = common::load_rules(&args.rules, &mapping);
    let mut load_errors = common::report_load_problems(&report);
    // The exceptions a rule export carries are checked as `hunt` applies
    // them: one it could not use would let through what it should stop.
    let exception_problems =
        crate::config::add_exported(&mut Default::default(), &report.exceptions);
    for p in &exception_problems {
        eprintln!("talon: error: {p}");
    }
    load_errors += exception_problems.len();
    if let Some(msg) = common::no_rule_files(&args.rules, &report) {
        eprintln!("talon: error: {msg}");
        return Ok(ExitCode::from(1));
    }
    let report_warnings = report.warnings.len();
    let Some(rules) = args
        .select
        .apply_keeping_some(report.rules, quiet, "check")?
    else {
        return Ok(ExitCode::from(1));
    };

    let total = rules.len();
    let mut ok = 0usize;
    let mut query_errors = 0usize;
    // Loading's warnings (an export whose summary disagrees, ...) were
    // printed with the load errors; they count with the query warnings.
    let mut warnings = report_warnings;
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    // Rules whose query is fine but whose `interval`, `from` or `to`
    // cannot be read: they run, but not under `hunt --schedule`, which is
    // what those fields are for, so this is an error here.
    let mut schedule_errors = 0usize;
    // Every rule with such an error (also those counted for their query,
    // or not run), for the exit code.
    let mut any_schedule_error = false;
    for rule in rules {
        for e in &rule.schedule_errors {
            eprintln!("{e}");
        }
        let can_schedule = rule.can_schedule();
        any_schedule_error |= !can_schedule;
        match compile_rule(rule, &mapping) {
            Ok(c) => {
                if can_schedule {
                    ok += 1;
                } else {
                    schedule_errors += 1;
                }
                let name = c.rule.origin.path.display().to_string();
                for w in c.query.warnings() {
                    warnings += 1;
                    let text = talon_engine::compile::render_in_rule(&c.rule, w, &name);
                    eprint!("{}", text.replacen("error:", "warning:", 1));
                }
                for w in common::unapplied_warnings(&c) {
                    warnings += 1;
                    eprintln!("{w}");
                }
            }
            // A filter value Elasticsearch refuses fails the search as a
            // query error does.
            Err(p @ (RuleProblem::Query { .. } | RuleProblem::Filter { .. })) => {
                query_errors += 1;
                eprint!("{}", p.render());
            }
            Err(RuleProblem::Unsupported { reason, .. }) => {
                *unsupported.entry(reason).or_default() += 1;
            }
        }
    }

    if !quiet {
        println!(
            "{} loaded from {}: {} ok, {} with query errors, {}{}, {}",
            count(total as u64, "rule"),
            count(report.files as u64, "file"),
            ok,
            query_errors,
            match schedule_errors {
                0 => String::new(),
                n => format!("{n} with schedule errors, "),
            },
            // A file or a rule in one; or a path that could not be read,
            // which the file count leaves out.
            count(load_errors as u64, "load error"),
            count(warnings as u64, "warning")
        );
        if let Some(line) = common::files_without_rules_line(&report.files_without_rules) {
            println!("{line}");
        }
        for (reason, n) in &unsupported {
            println!("  {} not run: {reason}", count(*n as u64, "rule"));
        }
        if report.deprecated > 0 {
            println!(
                "  {} (loaded)",
                count(report.deprecated as u64, "deprecated rule")
            );
        }
    }
    Ok(if query_errors + load_errors > 0 || any_schedule_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one `--schema` file; a JSON syntax error shows its line and caret.
fn load_schema(path: &Path) -> Result<(Mapping, SchemaFormat)> {
    let text = common::read_mapping_text(path, "schema")?;
    Mapping::from_schema_str(&text, &path.display().to_string())
        .map_err(|e| common::mapping_error(e, &text))
}

/// The mapping queries compile against: the `--mapping` files and the
/// `--schema` field lists merged (the first definition of a field wins);
/// none of either means no mapping (types from ECS, any field allowed).
pub fn compile_mapping(mappings: &[PathBuf], schemas: &[PathBuf]) -> Result<Mapping> {
    let base = common::load_mapping(mappings)?;
    if schemas.is_empty() {
        return Ok(base);
    }
    let mut all = Vec::with_capacity(schemas.len() + 1);
    if base.is_explicit() {
        all.push(base);
    }
    for p in schemas {
        // The error names the file already, as a mapping's does.
        let (m, format) = load_schema(p)?;
        tracing::info!(
            "{}: read as {format:?}, {} fields",
            p.display(),
            m.field_paths().count()
        );
        all.push(m);
    }
    let (merged, conflicts) = Mapping::merged(all);
    for c in conflicts {
        eprintln!(
            "talon: warning: schema conflict on `{}`: kept {}, ignored {}",
            c.path, c.kept, c.ignored
        );
    }
    Ok(merged)
}
