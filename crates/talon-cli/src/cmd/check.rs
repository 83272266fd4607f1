//! `talon check`: load and verify rules, print every problem with its file,
//! line, column and caret, and a count by outcome. Exit 1 on any error.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use talon_engine::{compile_rule, RuleProblem};

use crate::cli::CheckArgs;
use crate::cmd::common;

pub fn run(args: CheckArgs, quiet: bool) -> Result<ExitCode> {
    let report = common::load_rules(&args.rules);
    let load_errors = common::report_load_problems(&report);
    let mapping = common::load_mapping(&args.mapping)?;

    let total = report.rules.len();
    let mut ok = 0usize;
    let mut query_errors = 0usize;
    let mut warnings = 0usize;
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    for rule in report.rules {
        match compile_rule(rule, &mapping) {
            Ok(c) => {
                ok += 1;
                let name = c.rule.origin.path.display().to_string();
                for w in c.query.warnings() {
                    warnings += 1;
                    let text = talon_engine::compile::render_in_rule(&c.rule, w, &name);
                    eprint!("{}", text.replacen("error:", "warning:", 1));
                }
            }
            Err(p @ RuleProblem::Query { .. }) => {
                query_errors += 1;
                eprint!("{}", p.render());
            }
            Err(RuleProblem::Unsupported { rule, .. }) => {
                *unsupported.entry(rule.rule_type.clone()).or_default() += 1;
            }
        }
    }

    if !quiet {
        println!(
            "{} rules loaded from {} files: {} ok, {} with query errors, {} files or rules that \
             failed to load, {} warnings",
            total,
            report.files.max(usize::from(args.rules.is_empty())),
            ok,
            query_errors,
            load_errors,
            warnings
        );
        for (ty, n) in &unsupported {
            println!("  {n} rules of type `{ty}`: rule type `{ty}` is not supported yet");
        }
        if report.deprecated > 0 {
            println!("  {} deprecated rules (loaded)", report.deprecated);
        }
    }
    Ok(if query_errors + load_errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
