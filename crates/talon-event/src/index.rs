//! Index names and Elasticsearch index patterns (multi-target syntax).
//!
//! [`IndexPatterns`] decides whether an event's index is one a rule's
//! `index` list targets, the way Elasticsearch resolves a search target:
//! - comma-separated lists, `*` wildcards (the only wildcard ES has in
//!   index expressions), case-sensitive;
//! - `-pattern` excludes what earlier expressions included; expressions are
//!   applied in order, so `logs-*,-logs-test*,logs-test-keep` re-includes;
//!   a leading `-pattern` has nothing to exclude from and matches nothing;
//! - a wildcard does not match a dot-prefixed (hidden/system) name unless the
//!   pattern itself starts with a dot;
//! - a data stream backing index (`.ds-<stream>-<yyyy.MM.dd>-<generation>`)
//!   also answers to its data stream's name, so
//!   `.ds-logs-endpoint.events.process-default-2024.01.01-000001` matches
//!   `logs-endpoint.events.process*`;
//! - `cluster:pattern` (cross-cluster search) is matched on the index part,
//!   and so is an event index of that form.
//!
//! No patterns at all, `*` and `_all` target everything.

/// A parsed list of index patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexPatterns {
    exprs: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Expr {
    exclude: bool,
    /// The index part (cluster prefix removed).
    pattern: String,
    /// The expression as written, for display.
    text: String,
}

impl IndexPatterns {
    /// Parses patterns; each string may itself be a comma-separated list.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> IndexPatterns {
        let mut exprs = Vec::new();
        for list in patterns {
            for raw in list.as_ref().split(',') {
                let text = raw.trim();
                if text.is_empty() {
                    continue;
                }
                let (exclude, body) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text),
                };
                let pattern = strip_cluster(body).to_string();
                exprs.push(Expr {
                    exclude,
                    pattern,
                    text: text.to_string(),
                });
            }
        }
        IndexPatterns { exprs }
    }

    /// Parses one comma-separated list.
    pub fn parse(list: &str) -> IndexPatterns {
        IndexPatterns::new(&[list])
    }

    /// True when every index is targeted (no patterns, `*`, `_all`).
    pub fn matches_all(&self) -> bool {
        self.exprs.is_empty()
            || (self.exprs.iter().all(|e| !e.exclude)
                && self
                    .exprs
                    .iter()
                    .any(|e| e.pattern == "*" || e.pattern == "_all"))
    }

    /// The expressions as written.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.exprs.iter().map(|e| e.text.as_str())
    }

    /// Whether `index` (an index, data stream or backing index name,
    /// optionally `cluster:`-prefixed) is targeted by these patterns.
    pub fn matches(&self, index: &str) -> bool {
        if self.exprs.is_empty() {
            return true;
        }
        let index = strip_cluster(index);
        let stream = backing_index_stream(index);
        let hit = |pattern: &str| {
            expr_matches(pattern, index) || stream.is_some_and(|s| expr_matches(pattern, s))
        };
        let mut matched = false;
        for (i, e) in self.exprs.iter().enumerate() {
            if e.exclude {
                // A first expression has nothing to exclude from; ES reads
                // it as a (never existing) name starting with '-'.
                if i > 0 && matched && hit(&e.pattern) {
                    matched = false;
                }
            } else if !matched && hit(&e.pattern) {
                matched = true;
            }
        }
        matched
    }
}

/// One expression against one name, with ES's hidden-name rule.
fn expr_matches(pattern: &str, name: &str) -> bool {
    if pattern == "_all" {
        return !name.starts_with('.');
    }
    if !pattern.contains('*') {
        return pattern == name;
    }
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    wildcard_match(pattern, name)
}

/// The index part of `cluster:index` (the whole string when there is no
/// cluster prefix).
pub fn strip_cluster(name: &str) -> &str {
    match name.split_once(':') {
        Some((_, index)) => index,
        None => name,
    }
}

/// The data stream a backing index belongs to:
/// `.ds-<stream>-<yyyy.MM.dd>-<generation>` → `<stream>`.
pub fn backing_index_stream(index: &str) -> Option<&str> {
    let rest = index.strip_prefix(".ds-")?;
    let (rest, generation) = rest.rsplit_once('-')?;
    if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (stream, date) = rest.rsplit_once('-')?;
    let b = date.as_bytes();
    let is_date = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'.'
            } else {
                c.is_ascii_digit()
            }
        });
    (is_date && !stream.is_empty()).then_some(stream)
}

/// Glob match where `*` matches any run of characters (including none) and
/// every other character matches itself. Linear-time greedy matching with
/// single-star backtracking, so hostile patterns cannot blow up.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("logs-*", "logs-endpoint"));
        assert!(wildcard_match("*-default", "logs-x-default"));
        assert!(wildcard_match("l*s-*t", "logs-endpoint"));
        assert!(!wildcard_match("logs-*", "Logs-endpoint"));
        assert!(wildcard_match("**", ""));
        assert!(!wildcard_match("a*b", "acbc"));
    }

    #[test]
    fn backing_indices_name_their_stream() {
        assert_eq!(
            backing_index_stream(".ds-logs-endpoint.events.process-default-2024.01.01-000001"),
            Some("logs-endpoint.events.process-default")
        );
        assert_eq!(backing_index_stream(".ds-x-2024.1.01-000001"), None);
        assert_eq!(backing_index_stream("logs-2024.01.01-000001"), None);
    }
}
