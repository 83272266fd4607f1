//! Needles: text that must appear in an event's JSON for a query to match.
//!
//! A positive string test (`==`, `:`, `in`, `in~`, `like`, `regex` is not
//! used) can only succeed when the field holds a string that contains the
//! literal, and such a string sits in the document's JSON text, written as
//! JSON writes it. So a query implies "the document text contains one of
//! these needles", and an engine may skip, without parsing, every line that
//! contains none. The derivation is sound for documents whose fields come
//! from their own text (no `null_value` substitution, no fields added
//! after parsing):
//!
//! - `and` needs any one child's needles (the most selective is chosen),
//!   `or` needs one of every child's, `not` and non-string tests give
//!   nothing (a negated test keeps events lacking the field);
//! - a needle is the literal as it appears inside a JSON string: `"` and
//!   `\` escaped; a literal with control characters gives none (JSON may
//!   write them several ways). Values written with `\u` or `\/` escapes
//!   are the caller's to catch: a line holding an escape must be parsed;
//! - numbers and booleans may be compared with string literals after
//!   conversion (`"1.0"` equals `1`), so a literal made only of number
//!   characters gives no needle;
//! - case-insensitive tests fold ASCII letters only (an ASCII pattern
//!   letter matches only its two ASCII cases), so their needle is the
//!   longest ASCII run of the literal, searched ASCII-case-insensitively;
//! - a whole-value test (`==`, `in`, `:` without wildcards) on a mapped
//!   string field needs the value between its quotes (`"exec"`), and a
//!   pattern that starts or ends with text needs the opening or closing
//!   quote beside it: far more selective than the bare word, which
//!   occurs inside other values and keys. Values a keyword field may hold
//!   as JSON scalars (`true`, `false`, `null`, numbers) are never quoted.

use crate::eval::wildcard::Part;

use super::ir::{Cond, Leaf, TermSet};
use super::{CompiledQuery, EventPlan};

/// One piece of text a document must contain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Needle {
    /// The text as it appears between the quotes of a JSON string.
    pub text: String,
    /// Compared ASCII-case-insensitively.
    pub ci: bool,
    /// `text` includes the string's opening or closing quote (or both).
    pub quoted: bool,
}

/// Needles shorter than this are not worth a search: nearly every event
/// holds them.
const MIN_USEFUL: usize = 3;

/// Words nearly every ECS event holds (category and type values, OS
/// names): a needle, probe or term among them selects little, so `and`
/// prefers another child (see [`is_common`]).
const COMMON: &[&str] = &[
    "process",
    "start",
    "end",
    "info",
    "file",
    "network",
    "registry",
    "creation",
    "deletion",
    "change",
    "windows",
    "linux",
    "macos",
    "authentication",
    "event",
    "host",
    "exec",
    "fork",
    "library",
    "driver",
    "session",
    "connection",
    "protocol",
    "allowed",
    "success",
    "true",
    "false",
    "user",
    "iam",
    "dns",
    "logs",
    "endpoint",
];

/// Whether `word` is one nearly every ECS event holds (ASCII case
/// ignored): needles, witness probes and evaluation order all weigh it
/// low.
pub(crate) fn is_common(word: &str) -> bool {
    COMMON.iter().any(|c| c.eq_ignore_ascii_case(word))
}

impl CompiledQuery {
    /// Text one of which every matching event's JSON contains; `None` when
    /// the query implies none (every event must be evaluated). For a
    /// sequence or sample, the needles of every term, `until` and missing
    /// events included (an event may matter to any of them).
    pub fn needles(&self) -> Option<Vec<Needle>> {
        if let Some(p) = self.event_plan() {
            return p.needles();
        }
        let seq = self.sequence()?;
        let mut all = Vec::new();
        for t in seq.terms.iter().chain(seq.until.as_ref()) {
            all.extend(t.plan.needles()?);
        }
        all.sort();
        all.dedup();
        Some(all)
    }
}

impl EventPlan {
    /// As [`CompiledQuery::needles`], for one event plan.
    pub fn needles(&self) -> Option<Vec<Needle>> {
        let mut children: Vec<Option<Vec<Needle>>> = Vec::new();
        if let Some(leaf) = self.category_leaf() {
            children.push(leaf_needles(leaf));
        }
        children.push(cond_needles(self.condition()));
        best(children)
    }
}

/// The most selective of several necessary conditions.
fn best(children: Vec<Option<Vec<Needle>>>) -> Option<Vec<Needle>> {
    children
        .into_iter()
        .flatten()
        .filter(|n| score(n) > 0)
        .max_by_key(|n| score(n))
}

/// Words that are also ECS object names: as keys they are in nearly
/// every event, quoted or not.
const KEYS: &[&str] = &[
    "process", "file", "network", "registry", "host", "user", "event", "dns", "session", "driver",
    "library", "logs",
];

/// How selective a set of alternatives is: its weakest needle's length
/// (1 for a quoted common value such as `"start"`, which still keeps out
/// events of other kinds; 0 when one is too short or too common to
/// help), less a little for long lists.
fn score(needles: &[Needle]) -> usize {
    let weakest = needles
        .iter()
        .map(|n| {
            let word = if n.quoted {
                n.text.trim_matches('"')
            } else {
                n.text.as_str()
            };
            let is = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(word));
            if n.text.len() < MIN_USEFUL || is(KEYS) || (is(COMMON) && !n.quoted) {
                0
            } else if is(COMMON) {
                1
            } else {
                n.text.len().min(16)
            }
        })
        .min()
        .unwrap_or(16);
    if weakest == 0 {
        return 0;
    }
    (weakest * 64).saturating_sub(needles.len().min(63))
}

fn cond_needles(c: &Cond) -> Option<Vec<Needle>> {
    match c {
        // Never matches: no event is needed at all.
        Cond::Const(false) => Some(Vec::new()),
        Cond::Const(true) | Cond::Not(_) => None,
        Cond::And(kids) => best(kids.iter().map(cond_needles).collect()),
        Cond::Or(kids) => {
            let mut all = Vec::new();
            for k in kids {
                all.extend(cond_needles(k)?);
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        Cond::Leaf(leaf) => leaf_needles(leaf),
    }
}

fn leaf_needles(leaf: &Leaf) -> Option<Vec<Needle>> {
    match leaf {
        Leaf::Term(_, TermSet::Str(set)) => set
            .values()
            .iter()
            .map(|v| needle(v, set.is_ci()).map(|n| quote(n, v, true, true)))
            .collect(),
        Leaf::Term(_, TermSet::Dynamic { values, ci, .. }) => values
            .iter()
            .map(|v| match v {
                crate::eval::value::RVal::Str(s) => needle(s, *ci).map(|n| quote(n, s, true, true)),
                _ => None,
            })
            .collect(),
        Leaf::Wildcard(_, pats) => pats
            .iter()
            .map(|p| {
                let ci = p.case() != crate::eval::wildcard::CaseMode::Sensitive;
                // The longest literal piece of the pattern, with the
                // quote beside it when it opens or closes the value.
                let parts = p.parts();
                let last = parts.len().saturating_sub(1);
                parts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, part)| match part {
                        Part::Text(t) => needle(t, ci).map(|n| quote(n, t, i == 0, i == last)),
                        _ => None,
                    })
                    .max_by_key(|n| n.text.len())
            })
            .collect(),
        _ => None,
    }
}

/// `n` (the needle for `literal`) with the value's opening quote when
/// the literal starts the value and its closing quote when it ends it;
/// unchanged when the needle is only part of the literal or the value
/// could be a JSON scalar rather than a string.
fn quote(mut n: Needle, literal: &str, opens: bool, closes: bool) -> Needle {
    let whole = !n.ci || literal.is_ascii();
    let scalar = ["true", "false", "null"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(literal));
    if !whole || scalar || !(opens || closes) {
        return n;
    }
    if opens {
        n.text.insert(0, '"');
    }
    if closes {
        n.text.push('"');
    }
    n.quoted = true;
    n
}

/// The needle for one literal, `None` when it cannot be one.
fn needle(text: &str, ci: bool) -> Option<Needle> {
    let text = if ci {
        // Only ASCII letters fold to ASCII.
        crate::eval::text::longest_ascii_run(text)
    } else {
        text
    };
    // A number-like literal may equal a JSON number (` 1` equals `1`).
    let bare = text.trim();
    if bare.is_empty() || bare.bytes().all(|b| b"0123456789.+-eE".contains(&b)) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => return None,
            c => out.push(c),
        }
    }
    Some(Needle {
        text: out,
        ci,
        quoted: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::plan::{compile_str, CompileOptions};

    fn needles(q: &str) -> Option<Vec<(String, bool)>> {
        let c = compile_str(q, &CompileOptions::default()).expect(q);
        c.needles()
            .map(|v| v.into_iter().map(|n| (n.text, n.ci)).collect())
    }

    fn n(t: &str, ci: bool) -> (String, bool) {
        (t.to_string(), ci)
    }

    #[test]
    fn and_picks_the_most_selective_child() {
        assert_eq!(
            needles(r#"process where event.type == "start" and process.name == "sysctl""#),
            Some(vec![n("\"sysctl\"", false)])
        );
    }

    #[test]
    fn or_needs_every_branch() {
        assert_eq!(
            needles(r#"process where process.name : "sysctl" or process.args like "*ip_forward*""#),
            Some(vec![n("\"sysctl\"", true), n("ip_forward", false)])
        );
        assert_eq!(
            needles(r#"process where process.name == "sysctl" or process.pid == 4"#),
            None
        );
    }

    #[test]
    fn negations_and_numbers_give_nothing() {
        assert_eq!(
            needles(r#"process where not process.name == "sysctl""#),
            None
        );
        assert_eq!(needles(r#"process where process.name == "1.0""#), None);
        assert_eq!(needles(r#"any where true"#), None);
    }

    #[test]
    fn literals_are_json_escaped_and_ci_keeps_ascii_runs() {
        assert_eq!(
            needles(r#"process where process.executable == "C:\\Windows\\cmd.exe""#),
            Some(vec![n(r#""C:\\Windows\\cmd.exe""#, false)])
        );
        assert_eq!(
            needles(r#"process where process.name : "çmdexe.exe""#),
            Some(vec![n("mdexe.exe", true)])
        );
        assert_eq!(needles("process where process.name == \"a\\nb\""), None);
    }

    #[test]
    fn whole_values_and_anchored_patterns_keep_their_quotes() {
        assert_eq!(
            needles(r#"process where process.executable like ("/tmp/*", "*/.x", "*/bin/*")"#),
            Some(vec![
                n("\"/tmp/", false),
                n("/.x\"", false),
                n("/bin/", false)
            ])
        );
        // Scalars a keyword may hold unquoted, and ASCII runs of longer
        // case-insensitive literals, stay bare.
        let quoted = |lit: &str, ci: bool| {
            let n = super::needle(lit, ci).unwrap();
            super::quote(n, lit, true, true).text
        };
        assert_eq!(quoted("true", false), "true");
        assert_eq!(quoted("NULL", true), "NULL");
        assert_eq!(quoted("çmd.exe", true), "md.exe");
        assert_eq!(quoted("çmd.exe", false), "\"çmd.exe\"");
        // A number-like literal gives nothing, spaces or not.
        assert_eq!(needles(r#"any where process.pid == " 4""#), None);
    }

    #[test]
    fn common_values_serve_quoted_only_when_nothing_better_does() {
        // `"exec"` keeps out every event of another kind; `.` helps nothing.
        assert_eq!(
            needles(r#"process where event.action == "exec" and process.name like ".*""#),
            Some(vec![n("\"exec\"", false)])
        );
        assert_eq!(
            needles(r#"process where event.action == "exec" and process.name : "*curl*""#),
            Some(vec![n("curl", true)])
        );
        // An ECS object name is a key in nearly every event: never a needle.
        assert_eq!(
            needles(r#"any where event.category == "process" and process.name like ".*""#),
            None
        );
    }

    #[test]
    fn sequences_need_every_term_including_missing_ones() {
        assert_eq!(
            needles(
                r#"sequence by host.id with maxspan=1m [process where process.name == "curl"] ![process where process.name == "wget"]"#
            ),
            Some(vec![n("\"curl\"", false), n("\"wget\"", false)])
        );
        assert_eq!(
            needles(r#"sequence [process where process.name == "curl"] [file where true]"#),
            None
        );
    }
}
