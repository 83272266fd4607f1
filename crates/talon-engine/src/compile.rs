//! Turning a loaded rule into something the engine can run.
//!
//! A rule that cannot run is never dropped silently: it becomes a
//! [`RuleProblem`] that names the rule, its file and, for query errors, the
//! line, column and offending span in that file.

use std::fmt;
use std::sync::Arc;

use talon_eql::{CompileOptions, CompiledQuery, Diagnostic, QueryKind};
use talon_event::index::IndexPatterns;
use talon_event::mapping::Mapping;
use talon_rules::{LoadError, Rule};

use crate::filters::RuleFilters;

/// A rule ready to run: its compiled query, the filters Kibana ANDs with
/// it, and the indices it searches.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    pub rule: Rule,
    pub query: CompiledQuery,
    pub filters: Arc<RuleFilters>,
    pub indices: IndexPatterns,
}

impl CompiledRule {
    pub fn kind(&self) -> QueryKind {
        self.query.kind()
    }
}

/// Why a rule does not run.
#[derive(Clone, Debug)]
pub enum RuleProblem {
    /// The rule type or language is not one talon runs (yet).
    Unsupported { rule: Box<Rule>, reason: String },
    /// The query does not parse or does not verify.
    Query {
        rule: Box<Rule>,
        diagnostics: Vec<Diagnostic>,
    },
    /// A filter holds a value Elasticsearch would refuse for its field's
    /// type (`abc` for a number), so Kibana's search fails: each error at
    /// its value in the rule file.
    Filter {
        rule: Box<Rule>,
        errors: Vec<LoadError>,
    },
}

impl RuleProblem {
    pub fn rule(&self) -> &Rule {
        match self {
            RuleProblem::Unsupported { rule, .. }
            | RuleProblem::Query { rule, .. }
            | RuleProblem::Filter { rule, .. } => rule,
        }
    }

    /// True for problems that are errors in the rule itself (not merely a
    /// rule type talon does not run).
    pub fn is_error(&self) -> bool {
        matches!(self, RuleProblem::Query { .. } | RuleProblem::Filter { .. })
    }

    /// The problem rendered with file, line, column and caret snippets.
    pub fn render(&self) -> String {
        match self {
            RuleProblem::Unsupported { rule, reason } => format!(
                "{}: skipped rule \"{}\": {reason}",
                rule.origin.path.display(),
                rule.name
            ),
            RuleProblem::Query { rule, diagnostics } => {
                let name = rule.origin.path.display().to_string();
                let mut out = String::new();
                for d in diagnostics {
                    out.push_str(&render_in_rule(rule, d, &name));
                }
                out
            }
            RuleProblem::Filter { errors, .. } => errors.iter().map(|e| format!("{e}\n")).collect(),
        }
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render().trim_end())
    }
}

/// Renders a query diagnostic at its place in the rule file.
pub fn render_in_rule(rule: &Rule, d: &Diagnostic, name: &str) -> String {
    let origin = &rule.origin;
    if origin.query_offsets.is_empty() {
        let query = rule.query.as_deref().unwrap_or("");
        return d.render(name, query);
    }
    d.render_at(name, &origin.text, |span| {
        let start = origin.file_offset(span.start as usize);
        let end = origin.file_offset(span.end as usize).max(start);
        (start, end)
    })
}

/// Compiles one rule against a mapping.
pub fn compile_rule(rule: Rule, mapping: &Mapping) -> Result<CompiledRule, RuleProblem> {
    if rule.rule_type != "eql" {
        let reason = format!("rule type `{}` is not supported yet", rule.rule_type);
        return Err(RuleProblem::Unsupported {
            rule: Box::new(rule),
            reason,
        });
    }
    if let Some(lang) = rule.language.as_deref() {
        if lang != "eql" {
            let reason = format!("query language `{lang}` is not supported for EQL rules");
            return Err(RuleProblem::Unsupported {
                rule: Box::new(rule),
                reason,
            });
        }
    }
    let Some(text) = rule.query.clone() else {
        let reason = "the rule has no query".to_string();
        return Err(RuleProblem::Unsupported {
            rule: Box::new(rule),
            reason,
        });
    };
    let opts = CompileOptions {
        mapping,
        event_category_field: rule
            .event_category_override
            .as_deref()
            .unwrap_or("event.category"),
        timestamp_field: rule.timestamp_field.as_deref().unwrap_or("@timestamp"),
        tiebreaker_field: rule.tiebreaker_field.as_deref(),
    };
    match talon_eql::compile_str(&text, &opts) {
        Ok(query) => {
            let (filters, problems) = RuleFilters::compile(&rule, mapping);
            if !problems.errors.is_empty() {
                return Err(RuleProblem::Filter {
                    rule: Box::new(rule),
                    errors: problems.errors,
                });
            }
            let mut rule = rule;
            // Filters not applied are noted where the loader notes what
            // it does not apply, for `check` and `hunt` to show.
            if !problems.warnings.is_empty() {
                rule.unapplied.extend(problems.warnings);
                rule.unapplied.sort_by_key(|n| (n.line, n.column));
            }
            let indices = IndexPatterns::new(&rule.searched_index());
            Ok(CompiledRule {
                rule,
                query,
                filters: Arc::new(filters),
                indices,
            })
        }
        Err(diagnostics) => Err(RuleProblem::Query {
            rule: Box::new(rule),
            diagnostics,
        }),
    }
}

/// Compiles every rule; the ones that cannot run come back as problems.
pub fn compile_rules(rules: Vec<Rule>, mapping: &Mapping) -> (Vec<CompiledRule>, Vec<RuleProblem>) {
    let mut ok = Vec::with_capacity(rules.len());
    let mut problems = Vec::new();
    for rule in rules {
        match compile_rule(rule, mapping) {
            Ok(c) => ok.push(c),
            Err(p) => problems.push(p),
        }
    }
    (ok, problems)
}
