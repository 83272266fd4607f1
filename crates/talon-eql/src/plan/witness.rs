//! Witnesses: tests on one field's string values, one of which every event
//! a query matches passes.
//!
//! They are what lets an engine with a thousand rules evaluate only the few
//! that can match an event: each rule's witness probes are inverted into
//! per-field tables (value → rules), and an event meets only the rules one
//! of whose probes its values satisfy. The derivation is sound for any
//! event, whatever its source:
//!
//! - `and` needs any one child's witness (the most selective is chosen),
//!   `or` needs one of every child's, `not` gives nothing (a negated test
//!   keeps events lacking the field), nor do ranges, regexes, scripts and
//!   existence tests;
//! - a term test (`==`, `in`, `:` without wildcards, `in~`) on a string
//!   field gives one probe per value: exact, or equal ignoring ASCII case
//!   for an ASCII value under `:`/`in~` (an ASCII pattern letter matches
//!   only its two ASCII cases, see `eval::text::ci_term_eq`);
//! - a wildcard test gives, per pattern, its longest literal piece as a
//!   "contains" probe, anchored to the start or end of the value when the
//!   piece opens or closes the pattern; a case-insensitive piece keeps its
//!   longest ASCII run;
//! - fields also compare their numbers and booleans as text (`"1"` equals
//!   the number 1; `*ru*` matches `true`), so a literal that such text
//!   could hold gives no probe: probes only ever look at string values.

use std::sync::Arc;

use crate::eval::text::longest_ascii_run;
use crate::eval::value::RVal;
use crate::eval::wildcard::{CaseMode, Part};

use super::ir::{Cond, Leaf, TermSet};
use super::needles::is_common;
use super::EventPlan;

/// One test on the string values of one field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// Some value equals `value`, byte for byte.
    Equals { path: Arc<str>, value: Arc<str> },
    /// Some value equals `value` (ASCII, lowercased) ignoring ASCII case.
    EqualsFolded { path: Arc<str>, value: Arc<str> },
    /// Some value contains `text` (ignoring ASCII case when `ci`, then
    /// lowercased), at its very start or end when anchored.
    Contains {
        path: Arc<str>,
        text: Arc<str>,
        ci: bool,
        at_start: bool,
        at_end: bool,
    },
}

/// As `-vvv` lists it, each case-sensitive unless marked `~`:
/// `process.name == "sysctl"`, `process.name ==~ "sh"` (ASCII case
/// ignored), `process.args like "*ip_forward*"`, `process.args like~
/// "*ip_forward*"` (ASCII case ignored; no `*` at an anchored end). Not
/// EQL's `:`, which ignores case whatever it is given.
impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Equals { path, value } => write!(f, "{path} == {value:?}"),
            Probe::EqualsFolded { path, value } => write!(f, "{path} ==~ {value:?}"),
            Probe::Contains {
                path,
                text,
                ci,
                at_start,
                at_end,
            } => {
                let (head, tail) = (
                    if *at_start { "" } else { "*" },
                    if *at_end { "" } else { "*" },
                );
                let op = if *ci { "like~" } else { "like" };
                write!(f, "{path} {op} {:?}", format!("{head}{text}{tail}"))
            }
        }
    }
}

impl Probe {
    /// The field the probe reads.
    pub fn path(&self) -> &Arc<str> {
        match self {
            Probe::Equals { path, .. }
            | Probe::EqualsFolded { path, .. }
            | Probe::Contains { path, .. } => path,
        }
    }
}

/// Contains-probes shorter than this select too little to be worth it.
const MIN_CONTAINS: usize = 3;

impl EventPlan {
    /// Probes one of which every event this plan matches passes; `None`
    /// when the plan implies none (every event routed to it must be
    /// evaluated). The category test is left to routing. An empty list
    /// means the plan can never match.
    pub fn witness(&self) -> Option<Vec<Probe>> {
        self.witnesses().into_iter().next()
    }

    /// Every witness the plan's top-level conjuncts give, each a list of
    /// probes one of which every event it matches passes: an event must
    /// pass one probe of *each* list. The most selective comes first (it
    /// is [`EventPlan::witness`]); none when the plan implies none.
    pub fn witnesses(&self) -> Vec<Vec<Probe>> {
        let kids: Vec<&Cond> = match self.condition() {
            Cond::And(kids) => kids.iter().collect(),
            c => vec![c],
        };
        let mut all: Vec<Vec<Probe>> = kids
            .into_iter()
            .filter_map(cond_witness)
            .map(|mut probes| {
                probes.sort();
                probes.dedup();
                probes
            })
            .collect();
        // Stable: of equally selective ones, the first written leads.
        all.sort_by_key(|p| std::cmp::Reverse(score(p)));
        // Without copying the lists (an `in` list of thousands of values
        // is one), and with Fx rather than SipHash: start-up cost.
        let first: Vec<bool> = {
            let mut seen = rustc_hash::FxHashSet::default();
            all.iter().map(|p| seen.insert(p.as_slice())).collect()
        };
        let mut keep = first.into_iter();
        all.retain(|_| keep.next().unwrap_or(true));
        all
    }
}

fn cond_witness(c: &Cond) -> Option<Vec<Probe>> {
    match c {
        Cond::Const(false) => Some(Vec::new()),
        Cond::Const(true) | Cond::Not(_) => None,
        Cond::And(kids) => kids
            .iter()
            .filter_map(cond_witness)
            .max_by_key(|p| score(p)),
        Cond::Or(kids) => {
            let mut all = Vec::new();
            for k in kids {
                all.extend(cond_witness(k)?);
            }
            Some(all)
        }
        Cond::Leaf(leaf) => leaf_witness(leaf),
    }
}

/// How selective a set of alternatives is: its weakest probe's worth, less
/// a little for long lists. Exact values beat fragments of values.
fn score(probes: &[Probe]) -> usize {
    let weakest = probes
        .iter()
        .map(|p| match p {
            Probe::Equals { value, .. } | Probe::EqualsFolded { value, .. } => {
                if is_common(value) {
                    1
                } else {
                    64
                }
            }
            Probe::Contains {
                text,
                at_start,
                at_end,
                ..
            } => text.len().min(24) + 4 * usize::from(*at_start || *at_end),
        })
        .min()
        // Never matches: the best witness there is.
        .unwrap_or(1000);
    (weakest * 64).saturating_sub(probes.len().min(63))
}

fn leaf_witness(leaf: &Leaf) -> Option<Vec<Probe>> {
    match leaf {
        Leaf::Term(slot, TermSet::Str(set)) => set
            .values()
            .iter()
            .map(|v| term_probe(&slot.path, v, set.is_ci()))
            .collect(),
        Leaf::Term(slot, TermSet::Dynamic { values, ci, .. }) => values
            .iter()
            .map(|v| match v {
                RVal::Str(s) => term_probe(&slot.path, s, *ci),
                _ => None,
            })
            .collect(),
        Leaf::Wildcard(slot, pats) => pats
            .iter()
            .map(|p| {
                let ci = p.case() != CaseMode::Sensitive;
                let parts = p.parts();
                let last = parts.len().saturating_sub(1);
                parts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, part)| match part {
                        Part::Text(t) => contains_probe(&slot.path, t, ci, i == 0, i == last),
                        _ => None,
                    })
                    .max_by_key(|p| match p {
                        Probe::Contains { text, .. } => text.len(),
                        _ => 0,
                    })
            })
            .collect(),
        _ => None,
    }
}

/// Whether the text of a number or a boolean could equal or hold `text`.
fn scalar_like(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || t.bytes().all(|b| b"0123456789.+-eE".contains(&b))
        || ["true", "false", "null"]
            .iter()
            .any(|w| w.contains(&t.to_ascii_lowercase()))
}

fn term_probe(path: &Arc<str>, value: &Arc<str>, ci: bool) -> Option<Probe> {
    if scalar_like(value) {
        return None;
    }
    if !ci {
        return Some(Probe::Equals {
            path: path.clone(),
            value: value.clone(),
        });
    }
    if value.is_ascii() {
        return Some(Probe::EqualsFolded {
            path: path.clone(),
            value: Arc::from(value.to_ascii_lowercase()),
        });
    }
    // Non-ASCII letters may fold to other letters: the longest ASCII run
    // must still be in the value, somewhere.
    contains_probe(path, value, true, false, false)
}

fn contains_probe(
    path: &Arc<str>,
    literal: &str,
    ci: bool,
    opens: bool,
    closes: bool,
) -> Option<Probe> {
    let (text, whole) = if ci && !literal.is_ascii() {
        (longest_ascii_run(literal).to_ascii_lowercase(), false)
    } else if ci {
        (literal.to_ascii_lowercase(), true)
    } else {
        (literal.to_string(), true)
    };
    if text.len() < MIN_CONTAINS || scalar_like(&text) {
        return None;
    }
    Some(Probe::Contains {
        path: path.clone(),
        text: Arc::from(text),
        ci,
        at_start: whole && opens,
        at_end: whole && closes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{compile_str, CompileOptions};

    fn witness(q: &str) -> Option<Vec<String>> {
        let c = compile_str(q, &CompileOptions::default()).expect(q);
        let plan = c.event_plan().expect("an event query");
        plan.witness().map(|ps| {
            ps.into_iter()
                .map(|p| match p {
                    Probe::Equals { path, value } => format!("{path}=={value}"),
                    Probe::EqualsFolded { path, value } => format!("{path}:{value}"),
                    Probe::Contains {
                        path,
                        text,
                        ci,
                        at_start,
                        at_end,
                    } => format!(
                        "{path}{}{}{text}{}",
                        if ci { "~" } else { "" },
                        if at_start { "^" } else { "*" },
                        if at_end { "$" } else { "*" }
                    ),
                })
                .collect()
        })
    }

    #[test]
    fn and_prefers_exact_uncommon_values() {
        assert_eq!(
            witness(r#"process where event.type == "start" and process.name == "sysctl""#),
            Some(vec!["process.name==sysctl".to_string()])
        );
        assert_eq!(
            witness(r#"process where event.type == "start" and process.name : ("Bash", "sh")"#),
            Some(vec![
                "process.name:bash".to_string(),
                "process.name:sh".to_string()
            ])
        );
    }

    #[test]
    fn or_needs_every_branch_and_negations_give_nothing() {
        assert_eq!(
            witness(
                r#"process where process.name == "sysctl" or process.args like~ "*IP_forward*""#
            ),
            Some(vec![
                "process.name==sysctl".to_string(),
                "process.args~*ip_forward*".to_string()
            ])
        );
        assert_eq!(
            witness(r#"process where process.name == "sysctl" or process.pid == 4"#),
            None
        );
        assert_eq!(
            witness(r#"process where not process.name == "sysctl""#),
            None
        );
        assert_eq!(witness("any where true"), None);
        assert_eq!(witness("any where false"), Some(vec![]));
    }

    #[test]
    fn patterns_keep_their_anchors_and_longest_piece() {
        assert_eq!(
            witness(r#"file where file.path like ("/tmp/*", "*/.x", "*/bin/*sh")"#),
            Some(vec![
                "file.path*/.x$".to_string(),
                "file.path*/bin/*".to_string(),
                "file.path^/tmp/*".to_string(),
            ])
        );
        // A piece too short to help leaves the pattern without a probe.
        assert_eq!(witness(r#"file where file.path like "*.x""#), None);
    }

    #[test]
    fn text_that_numbers_or_booleans_could_hold_gives_no_probe() {
        assert_eq!(witness(r#"process where process.name == "1.0""#), None);
        assert_eq!(witness(r#"process where process.name : "TRUE""#), None);
        assert_eq!(witness(r#"process where process.name like "*123*""#), None);
        assert_eq!(witness(r#"process where process.name like "*ru*""#), None);
    }

    #[test]
    fn each_conjunct_gives_a_witness_the_most_selective_first() {
        let c = compile_str(
            r#"process where host.os.type == "macos" and event.type == "start" and
               process.name : ("curl", "wget") and process.pid > 1 and
               not process.args == "-h" and (process.args == "-c" or process.name == "x")"#,
            &CompileOptions::default(),
        )
        .expect("query");
        let all: Vec<Vec<String>> = c
            .event_plan()
            .expect("an event query")
            .witnesses()
            .into_iter()
            .map(|ps| ps.iter().map(|p| p.to_string()).collect())
            .collect();
        assert_eq!(
            all,
            [
                vec![r#"process.name ==~ "curl""#, r#"process.name ==~ "wget""#],
                vec![r#"process.args == "-c""#, r#"process.name == "x""#],
                vec![r#"host.os.type == "macos""#],
                vec![r#"event.type == "start""#],
            ]
        );
        assert_eq!(witness("process where process.pid > 1"), None);
    }

    /// `-vvv`'s notation: `==` and `like` test case, `==~` and `like~`
    /// ignore ASCII case (EQL's `:` ignores case whatever it is given, so
    /// it names neither).
    #[test]
    fn probes_show_whether_they_ignore_case() {
        let shown = |q: &str| -> Vec<String> {
            let c = compile_str(q, &CompileOptions::default()).expect(q);
            let plan = c.event_plan().expect("an event query");
            let probes = plan.witness().expect("a witness");
            probes.iter().map(|p| p.to_string()).collect()
        };
        assert_eq!(
            shown(r#"process where process.args like ("*Ip_Forward*", "/tmp/*")"#),
            [
                r#"process.args like "/tmp/*""#,
                r#"process.args like "*Ip_Forward*""#
            ]
        );
        assert_eq!(
            shown(r#"process where process.args : ("*Ip_Forward*", "*.SH")"#),
            [
                r#"process.args like~ "*.sh""#,
                r#"process.args like~ "*ip_forward*""#
            ]
        );
        assert_eq!(
            shown(r#"process where process.name : "Bash" or process.name == "Sh""#),
            [r#"process.name == "Sh""#, r#"process.name ==~ "bash""#]
        );
    }

    #[test]
    fn case_insensitive_non_ascii_values_keep_their_ascii_run() {
        assert_eq!(
            witness(r#"process where process.name : "çmdexe.exe""#),
            Some(vec!["process.name~*mdexe.exe*".to_string()])
        );
    }
}
