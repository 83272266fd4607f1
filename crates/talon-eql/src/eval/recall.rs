//! Answers of text tests remembered across events.
//!
//! A wildcard or regex leaf's answer for one string depends on the string
//! alone, and field values repeat from event to event (a process name, a
//! parent's command line, the same tool run with the same arguments). So
//! for a numbered leaf ([`crate::plan::ir::Slot::memo`]) each string's
//! answer is kept, and a string met again costs a hash lookup instead of
//! a pattern list or a regex.
//!
//! Bounded: strings longer than [`LONGEST`] are never kept; past
//! [`BUDGET`] bytes of kept strings everything is forgotten; and a leaf
//! whose strings rarely come back (under one look in five over [`TRIAL`]
//! looks) stops being remembered.

use rustc_hash::FxHashMap;

/// Most bytes of strings kept, over every leaf.
pub const BUDGET: usize = 4 << 20;
/// Longer strings are tested every time.
pub const LONGEST: usize = 512;
/// Looks over which a leaf's hit rate is judged.
pub const TRIAL: u32 = 2048;

/// The remembered answers, per numbered leaf.
#[derive(Debug, Default)]
pub struct Recall {
    leaves: Vec<LeafRecall>,
    /// Leaves holding answers (to forget them without a walk of all).
    holding: Vec<u32>,
    bytes: usize,
}

#[derive(Debug, Default)]
struct LeafRecall {
    answers: FxHashMap<Box<str>, bool>,
    looks: u32,
    hits: u32,
    off: bool,
}

impl Recall {
    /// Forgets everything, for `n` numbered leaves.
    pub fn reset(&mut self, n: usize) {
        self.leaves = Vec::new();
        self.leaves.resize_with(n, LeafRecall::default);
        self.holding.clear();
        self.bytes = 0;
    }

    /// Leaf `id`'s answer for `text`: remembered, or `test`'s (then kept).
    pub fn answer(&mut self, id: u32, text: &str, test: impl FnOnce(&str) -> bool) -> bool {
        let Some(leaf) = self.leaves.get_mut(id as usize) else {
            return test(text);
        };
        if leaf.off || text.len() > LONGEST {
            return test(text);
        }
        leaf.looks += 1;
        if let Some(&known) = leaf.answers.get(text) {
            leaf.hits += 1;
            return known;
        }
        let answer = test(text);
        if leaf.looks >= TRIAL {
            let rare = leaf.hits < leaf.looks / 5;
            leaf.looks = 0;
            leaf.hits = 0;
            if rare {
                leaf.off = true;
                self.bytes -= leaf.answers.keys().map(|k| k.len()).sum::<usize>();
                leaf.answers = FxHashMap::default();
                return answer;
            }
        }
        if self.bytes + text.len() > BUDGET {
            for &i in &self.holding {
                if let Some(l) = self.leaves.get_mut(i as usize) {
                    l.answers = FxHashMap::default();
                }
            }
            self.holding.clear();
            self.bytes = 0;
        }
        let Some(leaf) = self.leaves.get_mut(id as usize) else {
            return answer;
        };
        if leaf.answers.is_empty() {
            self.holding.push(id);
        }
        leaf.answers.insert(Box::from(text), answer);
        self.bytes += text.len();
        answer
    }

    /// Bytes of strings kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether leaf `id` stopped being remembered.
    pub fn is_off(&self, id: u32) -> bool {
        self.leaves.get(id as usize).is_some_and(|l| l.off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_met_again_is_not_tested_again() {
        let mut r = Recall::default();
        r.reset(2);
        let mut tests = 0;
        for text in ["cmd.exe", "sh", "cmd.exe", "cmd.exe", "sh"] {
            let answer = r.answer(1, text, |t| {
                tests += 1;
                t.ends_with(".exe")
            });
            assert_eq!(answer, text.ends_with(".exe"));
        }
        assert_eq!(tests, 2);
        // Another leaf does not see leaf 1's answers.
        assert!(!r.answer(0, "cmd.exe", |_| false));
        // A leaf without a number is tested every time.
        assert!(r.answer(7, "x", |_| true));
        assert_eq!(r.bytes(), "cmd.exe".len() * 2 + "sh".len());
    }

    #[test]
    fn long_strings_and_rare_repeats_are_not_kept() {
        let mut r = Recall::default();
        r.reset(1);
        let long = "a".repeat(LONGEST + 1);
        let mut tests = 0;
        for _ in 0..3 {
            r.answer(0, &long, |_| {
                tests += 1;
                true
            });
        }
        assert_eq!((tests, r.bytes()), (3, 0));
        for i in 0..TRIAL {
            r.answer(0, &format!("value {i}"), |_| false);
        }
        assert!(r.is_off(0));
        assert_eq!(r.bytes(), 0);
        let mut tests = 0;
        for _ in 0..2 {
            r.answer(0, "value 1", |_| {
                tests += 1;
                false
            });
        }
        assert_eq!(tests, 2, "an off leaf tests every time");
    }

    #[test]
    fn past_the_budget_everything_is_forgotten() {
        let mut r = Recall::default();
        r.reset(2);
        let text = |i: usize| format!("{i:0>512}");
        let fit = BUDGET / LONGEST;
        // Every string comes back once, so the leaves stay on.
        for i in 0..fit {
            r.answer((i % 2) as u32, &text(i), |_| true);
            r.answer((i % 2) as u32, &text(i), |_| unreachable!("remembered"));
        }
        assert_eq!(r.bytes(), BUDGET);
        r.answer(0, &text(fit), |_| false);
        assert_eq!(r.bytes(), LONGEST, "emptied, then one more");
        let mut tested = false;
        r.answer(1, &text(1), |_| {
            tested = true;
            true
        });
        assert!(tested, "forgotten");
    }
}
