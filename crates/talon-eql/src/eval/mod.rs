//! Evaluation of a compiled query against one event.
//!
//! The plan (`crate::plan::ir::Cond`) is a boolean tree over two-valued
//! leaves, so evaluating it is plain boolean logic with short-circuits; all
//! of Elasticsearch's null behaviour lives in how leaves read fields
//! ([`leaf`]) and in script expressions ([`script`]).
//!
//! Modules: [`value`] (runtime values and doc-value conversion), [`text`]
//! (Java string semantics and case folding), [`wildcard`] (one pattern),
//! [`patterns`] (a leaf's list of them, tested together), [`regex`],
//! [`ip`], [`version`], [`functions`] (the EQL functions), [`script`],
//! [`leaf`], [`recall`] (text tests' answers kept across events).

pub mod functions;
pub mod ip;
pub mod leaf;
pub mod patterns;
pub mod recall;
pub mod regex;
pub mod script;
pub mod text;
pub mod value;
pub mod version;
pub mod wildcard;

use talon_event::Fields;

use crate::plan::ir::Cond;

/// Whether the condition holds for the event.
pub fn cond_matches(c: &Cond, ev: &dyn Fields) -> bool {
    match c {
        Cond::Const(b) => *b,
        Cond::And(items) => items.iter().all(|i| cond_matches(i, ev)),
        Cond::Or(items) => items.iter().any(|i| cond_matches(i, ev)),
        Cond::Not(x) => !cond_matches(x, ev),
        Cond::Leaf(l) => leaf::leaf_matches(l, ev),
    }
}

/// As [`cond_matches`], remembering the answers of numbered leaves
/// ([`crate::plan::ir::Slot::memo`]) in `memo` for the rest of the event:
/// many rules test the same thing (`host.os.type == "linux"`, `event.type
/// == "start"`), and an engine running them all pays for it once. Their
/// wildcard and regex tests' answers per string outlive the event
/// ([`recall`]).
pub fn cond_matches_memo(c: &Cond, ev: &dyn Fields, memo: &mut Memo) -> bool {
    match c {
        Cond::Const(b) => *b,
        Cond::And(items) => items.iter().all(|i| cond_matches_memo(i, ev, memo)),
        Cond::Or(items) => items.iter().any(|i| cond_matches_memo(i, ev, memo)),
        Cond::Not(x) => !cond_matches_memo(x, ev, memo),
        Cond::Leaf(l) => {
            let id = l.memo_slot().map_or(crate::plan::ir::NO_MEMO, |s| s.memo);
            if let Some(known) = memo.get(id) {
                return known;
            }
            let answer = leaf::leaf_matches_recalling(l, ev, &mut memo.recall);
            memo.set(id, answer);
            answer
        }
    }
}

/// The answers of numbered leaves on the current event, and the text
/// tests' answers kept across events ([`recall`]). One `Memo` serves one
/// numbering of leaves (one engine's plans): the kept answers are forgotten
/// only when the number of leaves changes, so a `Memo` must not move to
/// plans numbered apart.
#[derive(Debug, Default)]
pub struct Memo {
    /// Per leaf: the event stamp its answer is for.
    stamp: Vec<u32>,
    answer: Vec<bool>,
    current: u32,
    /// Text tests' answers kept across events.
    recall: recall::Recall,
}

impl Memo {
    /// Starts a new event over `n` numbered leaves: every answer is
    /// forgotten, but for the text tests' answers per string, which hold
    /// as long as the leaves are numbered alike.
    pub fn reset(&mut self, n: usize) {
        if self.stamp.len() != n {
            self.stamp = vec![0; n];
            self.answer = vec![false; n];
            self.current = 0;
            self.recall.reset(n);
        }
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.current = 1;
        }
    }

    fn get(&self, id: u32) -> Option<bool> {
        let i = id as usize;
        (self.stamp.get(i) == Some(&self.current)).then(|| self.answer[i])
    }

    fn set(&mut self, id: u32, answer: bool) {
        let i = id as usize;
        if let (Some(s), Some(a)) = (self.stamp.get_mut(i), self.answer.get_mut(i)) {
            *s = self.current;
            *a = answer;
        }
    }
}
