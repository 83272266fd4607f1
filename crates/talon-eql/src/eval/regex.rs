//! Compiled regular expressions for `regex`/`regex~`.
//!
//! Lucene's regexp language has intersection (`&`) and complement (`~`),
//! which a regular-expression engine cannot express. The planner
//! (`crate::plan::lucene`) translates everything else to the `regex` crate
//! and keeps intersections and complements as a boolean combination of
//! whole-value matches; this module evaluates that combination.

/// A regular expression matched against the whole value.
#[derive(Clone, Debug)]
pub enum RegexMatcher {
    /// An anchored `regex` crate expression.
    Rx(regex::Regex),
    /// The empty language: matches nothing.
    Never,
    /// Every part must match (Lucene `&`).
    All(Vec<RegexMatcher>),
    /// Any part must match (a union that contains `&` or `~`).
    Any(Vec<RegexMatcher>),
    /// The part must not match (Lucene `~`).
    Not(Box<RegexMatcher>),
}

impl RegexMatcher {
    pub fn matches(&self, value: &str) -> bool {
        match self {
            RegexMatcher::Rx(r) => r.is_match(value),
            RegexMatcher::Never => false,
            RegexMatcher::All(parts) => parts.iter().all(|p| p.matches(value)),
            RegexMatcher::Any(parts) => parts.iter().any(|p| p.matches(value)),
            RegexMatcher::Not(p) => !p.matches(value),
        }
    }
}
