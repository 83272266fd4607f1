//! Rule selection: which loaded rules a run keeps, by tag, MITRE tactic or
//! technique, severity, rule id, name glob and building-block status.
//!
//! Each criterion given is a set of alternatives (any of them selects), and
//! every criterion given must hold (all of them), the way a detection
//! engineer filters the Kibana rules table. A selector with nothing set
//! keeps every rule.

use talon_event::index::wildcard_match;
use talon_rules::{Rule, Severity};

/// A severity a selection names: `low`, `medium`, `high` or `critical`,
/// in any case and with blanks around it (a rule's own severity is read
/// the same way).
pub fn parse_severity(s: &str) -> Result<Severity, SelectError> {
    Severity::parse(&s.trim().to_ascii_lowercase())
        .ok_or_else(|| SelectError::Severity(s.to_string()))
}

/// A selection value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("unknown severity `{0}` (expected low, medium, high or critical)")]
    Severity(String),
    #[error("empty {0} value")]
    Empty(&'static str),
}

/// What to keep. Empty lists mean "no condition".
#[derive(Clone, Debug, Default)]
pub struct RuleSelector {
    /// Exact tags (case-insensitive), e.g. `OS: Linux`; any of them.
    pub tags: Vec<String>,
    /// Tactic ids (`TA0011`) or names (`Command and Control`); any of them.
    pub tactics: Vec<String>,
    /// Technique or sub-technique ids (`T1090`, `T1090.003`); any of them.
    /// A technique id also selects rules mapped only to its sub-techniques.
    pub techniques: Vec<String>,
    /// Exact severities; any of them.
    pub severities: Vec<Severity>,
    /// Lowest severity kept.
    pub min_severity: Option<Severity>,
    /// Exact rule ids; any of them.
    pub rule_ids: Vec<String>,
    /// Name globs (`*` for any run of characters, case-insensitive); any of them.
    pub rule_names: Vec<String>,
    /// Drop building-block rules.
    pub exclude_building_blocks: bool,
}

impl RuleSelector {
    /// True when no criterion is set (every rule is kept).
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.tactics.is_empty()
            && self.techniques.is_empty()
            && self.severities.is_empty()
            && self.min_severity.is_none()
            && self.rule_ids.is_empty()
            && self.rule_names.is_empty()
            && !self.exclude_building_blocks
    }

    /// Checks the values once, so a typo is an error before anything runs.
    pub fn validate(&self) -> Result<(), SelectError> {
        let lists: [(&'static str, &[String]); 5] = [
            ("--tag", &self.tags),
            ("--tactic", &self.tactics),
            ("--technique", &self.techniques),
            ("--rule-id", &self.rule_ids),
            ("--rule-name", &self.rule_names),
        ];
        for (what, list) in lists {
            if list.iter().any(|v| v.trim().is_empty()) {
                return Err(SelectError::Empty(what));
            }
        }
        Ok(())
    }

    /// Whether the rule passes every criterion given.
    pub fn matches(&self, rule: &Rule) -> bool {
        if self.exclude_building_blocks && rule.is_building_block() {
            return false;
        }
        if !self.rule_ids.is_empty() && !self.rule_ids.iter().any(|id| id.trim() == rule.rule_id) {
            return false;
        }
        if !self.rule_names.is_empty()
            && !self.rule_names.iter().any(|g| name_matches(g, &rule.name))
        {
            return false;
        }
        if !self.tags.is_empty()
            && !self.tags.iter().any(|t| {
                rule.tags
                    .iter()
                    .any(|rt| rt.trim().eq_ignore_ascii_case(t.trim()))
            })
        {
            return false;
        }
        if !self.severities.is_empty() || self.min_severity.is_some() {
            // A severity outside the four values passes no severity filter.
            let Ok(sev) = parse_severity(&rule.severity) else {
                return false;
            };
            if !self.severities.is_empty() && !self.severities.contains(&sev) {
                return false;
            }
            if self.min_severity.is_some_and(|min| sev < min) {
                return false;
            }
        }
        if !self.tactics.is_empty() && !self.tactics.iter().any(|t| has_tactic(rule, t)) {
            return false;
        }
        if !self.techniques.is_empty() && !self.techniques.iter().any(|t| has_technique(rule, t)) {
            return false;
        }
        true
    }

    /// Splits rules into (kept, dropped-count).
    pub fn apply(&self, rules: Vec<Rule>) -> (Vec<Rule>, usize) {
        if self.is_empty() {
            return (rules, 0);
        }
        let before = rules.len();
        let kept: Vec<Rule> = rules.into_iter().filter(|r| self.matches(r)).collect();
        let dropped = before - kept.len();
        (kept, dropped)
    }
}

/// A name glob matches the whole name, ignoring ASCII case (rule names are
/// typed from memory; `*ip forwarding*` should find "IPv4/IPv6 Forwarding").
pub fn name_matches(glob: &str, name: &str) -> bool {
    wildcard_match(
        &glob.trim().to_ascii_lowercase(),
        &name.to_ascii_lowercase(),
    )
}

/// A tactic by id (`TA0011`) or name (`Command and Control`), either case.
fn has_tactic(rule: &Rule, want: &str) -> bool {
    let want = want.trim();
    rule.threat
        .iter()
        .any(|t| t.tactic.id.eq_ignore_ascii_case(want) || t.tactic.name.eq_ignore_ascii_case(want))
}

/// A technique id matches the rule's techniques and sub-techniques; a
/// sub-technique id (`T1090.003`) matches only that sub-technique, while
/// its parent (`T1090`) matches any of its sub-techniques too.
fn has_technique(rule: &Rule, want: &str) -> bool {
    let want = want.trim();
    let parent_of = |id: &str| id.split('.').next().unwrap_or(id).to_string();
    rule.threat
        .iter()
        .flat_map(|t| t.technique.iter())
        .any(|tech| {
            let ids = std::iter::once(tech.id.as_str())
                .chain(tech.subtechnique.iter().map(|s| s.id.as_str()));
            ids.into_iter().any(|id| {
                id.eq_ignore_ascii_case(want)
                    || (!want.contains('.') && parent_of(id).eq_ignore_ascii_case(want))
            })
        })
}
