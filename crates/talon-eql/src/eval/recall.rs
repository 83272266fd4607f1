//! Answers of text tests remembered across events.
//!
//! A wildcard or regex leaf's answer for one string depends on the string
//! alone, and field values repeat from event to event (a process name, a
//! parent's command line, the same tool run with the same arguments). So
//! for a numbered leaf ([`crate::plan::ir::Slot::memo`]) each string's
//! answer is kept, and a string met again costs a hash lookup instead of
//! a pattern list or a regex.
//!
//! Bounded ([`ValueMemo`], which the witness index uses too): strings
//! longer than [`LONGEST`] are never kept; past [`BUDGET`] bytes of kept
//! strings everything is forgotten; and a leaf whose strings rarely come
//! back (under one look in five over [`TRIAL`] looks) stops being
//! remembered.

use rustc_hash::FxHashMap;

/// Most bytes of strings kept, over every leaf.
pub const BUDGET: usize = 4 << 20;
/// Longer strings are tested every time.
pub const LONGEST: usize = 512;
/// Looks over which a memo's hit rate is judged.
pub const TRIAL: u32 = 4096;

/// Answers kept per string, for a test whose answer depends on the
/// string alone (a leaf here; the witness index's fragment search too).
/// Strings longer than [`LONGEST`] are not kept, and a memo whose strings
/// rarely come back (under one look in five over [`TRIAL`] looks) stops
/// keeping and forgets. How many bytes it may hold is its owner's to
/// bound ([`ValueMemo::bytes`], [`ValueMemo::clear`]).
#[derive(Debug)]
pub struct ValueMemo<V> {
    answers: FxHashMap<Box<str>, V>,
    /// Bytes of the strings kept.
    bytes: usize,
    looks: u32,
    hits: u32,
    off: bool,
}

impl<V> Default for ValueMemo<V> {
    fn default() -> Self {
        ValueMemo {
            answers: FxHashMap::default(),
            bytes: 0,
            looks: 0,
            hits: 0,
            off: false,
        }
    }
}

impl<V> ValueMemo<V> {
    /// The answer kept for `text`, if any; the look is counted.
    pub fn get(&mut self, text: &str) -> Option<&V> {
        if !self.wants(text) {
            return None;
        }
        self.looks += 1;
        let hit = self.answers.get(text);
        if hit.is_some() {
            self.hits += 1;
        }
        hit
    }

    /// Whether an answer for `text` would be kept.
    pub fn wants(&self, text: &str) -> bool {
        !self.off && text.len() <= LONGEST
    }

    /// Keeps `answer` for `text` (one [`ValueMemo::wants`]), unless the
    /// looks so far show strings rarely come back: then the memo stops
    /// and forgets.
    pub fn keep(&mut self, text: &str, answer: V) {
        if self.looks >= TRIAL {
            let rare = self.hits < self.looks / 5;
            self.looks = 0;
            self.hits = 0;
            if rare {
                self.off = true;
                self.clear();
                return;
            }
        }
        self.bytes += text.len();
        self.answers.insert(Box::from(text), answer);
    }

    /// Forgets every answer (the memo goes on keeping new ones).
    pub fn clear(&mut self) {
        self.answers = FxHashMap::default();
        self.bytes = 0;
    }

    /// Bytes of the strings kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many strings have an answer kept.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// Whether the memo stopped keeping answers.
    pub fn is_off(&self) -> bool {
        self.off
    }
}

/// The remembered answers, per numbered leaf.
#[derive(Debug, Default)]
pub struct Recall {
    leaves: Vec<ValueMemo<bool>>,
    /// Leaves holding answers (to forget them without a walk of all).
    holding: Vec<u32>,
    bytes: usize,
}

impl Recall {
    /// Forgets everything, for `n` numbered leaves.
    pub fn reset(&mut self, n: usize) {
        self.leaves = Vec::new();
        self.leaves.resize_with(n, ValueMemo::default);
        self.holding.clear();
        self.bytes = 0;
    }

    /// Leaf `id`'s answer for `text`: remembered, or `test`'s (then kept).
    pub fn answer(&mut self, id: u32, text: &str, test: impl FnOnce(&str) -> bool) -> bool {
        let Some(leaf) = self.leaves.get_mut(id as usize) else {
            return test(text);
        };
        if let Some(&known) = leaf.get(text) {
            return known;
        }
        let answer = test(text);
        if !leaf.wants(text) {
            return answer;
        }
        if self.bytes + text.len() > BUDGET {
            for &i in &self.holding {
                if let Some(l) = self.leaves.get_mut(i as usize) {
                    l.clear();
                }
            }
            self.holding.clear();
            self.bytes = 0;
        }
        let Some(leaf) = self.leaves.get_mut(id as usize) else {
            return answer;
        };
        if leaf.is_empty() {
            self.holding.push(id);
        }
        let before = leaf.bytes();
        leaf.keep(text, answer);
        // Keeping may also have turned the leaf off, forgetting its bytes.
        self.bytes = self.bytes - before + leaf.bytes();
        answer
    }

    /// Bytes of strings kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether leaf `id` stopped being remembered.
    pub fn is_off(&self, id: u32) -> bool {
        self.leaves.get(id as usize).is_some_and(ValueMemo::is_off)
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
