//! Samples: `sample by keys [filter] [filter] ...`, unordered.
//!
//! A sample is one event per filter, all with the same join-key tuple, no
//! event used twice within a sample (samples of one key may share events).
//! As Elasticsearch does:
//! - each key keeps, per filter, at most `filters × max_samples_per_key`
//!   candidate events (the first seen, in input order);
//! - samples are picked by backtracking over those candidates in order
//!   (first filter's candidate first), up to `max_samples_per_key` per key;
//! - results are ordered by key tuple (null first, then byte order), then
//!   by the order they were picked; that ordering is the collector's job.
//!
//! No timestamp is needed and input order is kept. A sample is final as
//! soon as it is picked, so it is emitted then. A key that has all its
//! samples keeps only a marker. The number of keys held is capped; the
//! oldest unfinished keys are evicted first (and counted).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use talon_event::Event;

use super::keys::{KeyTuple, TermKeys};

/// Work allowed for one search of new samples of one key, so that
/// pathological pools (many filters, one event matching all) stay cheap.
const SEARCH_BUDGET: usize = 100_000;

struct Candidate {
    event: Arc<Event>,
}

struct KeyPools {
    /// Candidates per filter; emptied once the key is done.
    pools: Vec<Vec<Candidate>>,
    /// The candidate indexes of every sample picked so far.
    picked: Vec<Vec<u32>>,
    done: bool,
    /// When the key was first seen (eviction order).
    born: u64,
}

/// A picked sample.
pub(crate) struct Picked {
    pub key: KeyTuple,
    pub events: Vec<Arc<Event>>,
    /// Its rank among the key's samples.
    pub index: usize,
}

pub(crate) struct Sampler {
    filters: usize,
    per_key: usize,
    pool_cap: usize,
    keys: FxHashMap<KeyTuple, KeyPools>,
    max_keys: usize,
    born: u64,
    /// Pick as soon as a sample exists (streaming), or only at the end,
    /// over every key's full candidate lists (a search: the samples
    /// Elasticsearch's backtracking picks).
    eager: bool,
    pub(crate) evicted: u64,
}

impl Sampler {
    pub(crate) fn new(filters: usize, per_key: usize, max_keys: usize, eager: bool) -> Sampler {
        let per_key = per_key.max(1);
        Sampler {
            filters,
            per_key,
            pool_cap: filters.saturating_mul(per_key).max(1),
            keys: FxHashMap::default(),
            max_keys: max_keys.max(1),
            born: 0,
            eager,
            evicted: 0,
        }
    }

    /// End of input: picks the samples of every key not done yet, in key
    /// order.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Picked)) {
        let mut keys: Vec<KeyTuple> = self
            .keys
            .iter()
            .filter(|(_, k)| !k.done)
            .map(|(t, _)| t.clone())
            .collect();
        keys.sort();
        for key in keys {
            if let Some(entry) = self.keys.get_mut(&key) {
                pick(entry, self.per_key, &key, out);
            }
        }
    }

    /// Keys currently held.
    pub(crate) fn held(&self) -> usize {
        self.keys.len()
    }

    /// Offers an event with the key tuples of each filter it matched.
    /// Returns the number of keys evicted by the cap.
    pub(crate) fn push(
        &mut self,
        event: &Arc<Event>,
        hits: &[TermKeys],
        out: &mut dyn FnMut(Picked),
    ) -> u64 {
        // Every filter's pool gets the event before anything is picked, so
        // an event matching several filters is a candidate for each.
        let mut touched: Vec<&KeyTuple> = Vec::new();
        for (f, tuples) in hits.iter().enumerate().take(self.filters) {
            for key in tuples {
                let born = self.born;
                let filters = self.filters;
                let entry = self.keys.entry(key.clone()).or_insert_with(|| KeyPools {
                    pools: (0..filters).map(|_| Vec::new()).collect(),
                    picked: Vec::new(),
                    done: false,
                    born,
                });
                if entry.born == born {
                    self.born += 1;
                }
                if entry.done || entry.pools[f].len() >= self.pool_cap {
                    continue;
                }
                entry.pools[f].push(Candidate {
                    event: event.clone(),
                });
                if !touched.contains(&key) {
                    touched.push(key);
                }
            }
        }
        if self.eager {
            for key in touched {
                if let Some(entry) = self.keys.get_mut(key) {
                    pick(entry, self.per_key, key, out);
                }
            }
        }
        if self.keys.len() > self.max_keys {
            return self.evict();
        }
        0
    }

    fn evict(&mut self) -> u64 {
        let target = self.max_keys - self.max_keys / 10;
        let excess = self.keys.len().saturating_sub(target);
        if excess == 0 {
            return 0;
        }
        // Unfinished keys go first: evicting a finished one could let it
        // pick its samples again later.
        let mut ages: Vec<(bool, u64)> = self.keys.values().map(|k| (k.done, k.born)).collect();
        // The counters match the entries; the bound is a belt and braces.
        let excess = excess.min(ages.len());
        if excess == 0 {
            return 0;
        }
        let (_, cut, _) = ages.select_nth_unstable(excess - 1);
        let cut = *cut;
        let mut budget = excess;
        self.keys.retain(|_, k| {
            if budget > 0 && (k.done, k.born) <= cut {
                budget -= 1;
                return false;
            }
            true
        });
        let n = (excess - budget) as u64;
        self.evicted += n;
        n
    }
}

/// Picks new samples for a key, in backtracking order, until it has
/// `per_key` of them or no new one exists.
fn pick(k: &mut KeyPools, per_key: usize, key: &KeyTuple, out: &mut dyn FnMut(Picked)) {
    if k.pools.iter().any(Vec::is_empty) {
        return;
    }
    let mut budget = SEARCH_BUDGET;
    let mut chosen: Vec<u32> = Vec::with_capacity(k.pools.len());
    while k.picked.len() < per_key {
        chosen.clear();
        if !search(&k.pools, &k.picked, &mut chosen, &mut budget) {
            break;
        }
        let events = chosen
            .iter()
            .zip(&k.pools)
            .map(|(&i, pool)| pool[i as usize].event.clone())
            .collect();
        out(Picked {
            key: key.clone(),
            events,
            index: k.picked.len(),
        });
        k.picked.push(chosen.clone());
    }
    if k.picked.len() >= per_key {
        k.done = true;
        k.pools = Vec::new();
    }
}

/// Depth-first search for the first combination (in candidate order) of
/// distinct events, one per filter, not picked before.
fn search(
    pools: &[Vec<Candidate>],
    picked: &[Vec<u32>],
    chosen: &mut Vec<u32>,
    budget: &mut usize,
) -> bool {
    let depth = chosen.len();
    if depth == pools.len() {
        return !picked.iter().any(|p| p == chosen);
    }
    for (i, c) in pools[depth].iter().enumerate() {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        // Identity, not `seq`: events of separate readers may share one.
        let reused = chosen
            .iter()
            .enumerate()
            .any(|(f, &j)| Arc::ptr_eq(&pools[f][j as usize].event, &c.event));
        if reused {
            continue;
        }
        chosen.push(i as u32);
        if search(pools, picked, chosen, budget) {
            return true;
        }
        chosen.pop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::keys::KeyPart;

    fn ev(seq: u64) -> Arc<Event> {
        let mut e = Event::default();
        e.seq = seq;
        Arc::new(e)
    }

    fn key(s: &str) -> KeyTuple {
        KeyTuple::from(vec![KeyPart::Str(Arc::from(s))])
    }

    fn run(s: &mut Sampler, events: &[(u64, Vec<bool>)]) -> Vec<(usize, Vec<u64>)> {
        let mut out = Vec::new();
        for (seq, filters) in events {
            let hits: Vec<TermKeys> = filters
                .iter()
                .map(|m| {
                    if *m {
                        [key("k")].into()
                    } else {
                        TermKeys::new()
                    }
                })
                .collect();
            s.push(&ev(*seq), &hits, &mut |p| {
                out.push((p.index, p.events.iter().map(|e| e.seq).collect()))
            });
        }
        out
    }

    #[test]
    fn events_are_distinct_within_a_sample_and_shared_across() {
        let mut s = Sampler::new(2, 2, 100, true);
        // Event 1 matches both filters; 2 only the second; 3 only the first.
        let got = run(
            &mut s,
            &[
                (1, vec![true, true]),
                (2, vec![false, true]),
                (3, vec![true, false]),
            ],
        );
        assert_eq!(got, [(0, vec![1, 2]), (1, vec![3, 1])]);
    }

    #[test]
    fn deferred_picking_backtracks_over_all_candidates() {
        // Eagerly, (2, 1) is picked as soon as 2 arrives; over the full
        // lists backtracking prefers (1, 3).
        let events = [
            (1, vec![true, true]),
            (2, vec![true, false]),
            (3, vec![false, true]),
        ];
        let mut eager = Sampler::new(2, 1, 100, true);
        assert_eq!(run(&mut eager, &events), [(0, vec![2, 1])]);
        let mut deferred = Sampler::new(2, 1, 100, false);
        assert!(run(&mut deferred, &events).is_empty());
        let mut out = Vec::new();
        deferred.finish(&mut |p| out.push(p.events.iter().map(|e| e.seq).collect::<Vec<_>>()));
        assert_eq!(out, [vec![1, 3]]);
    }

    #[test]
    fn a_finished_key_keeps_only_a_marker() {
        let mut s = Sampler::new(2, 1, 100, true);
        let got = run(
            &mut s,
            &[
                (1, vec![true, false]),
                (2, vec![false, true]),
                (3, vec![true, true]),
            ],
        );
        assert_eq!(got, [(0, vec![1, 2])]);
        assert!(s.keys.values().all(|k| k.done && k.pools.is_empty()));
    }

    #[test]
    fn the_key_cap_evicts_unfinished_keys_first() {
        let mut s = Sampler::new(2, 1, 10, true);
        let mut out = 0;
        for i in 0..20u64 {
            let hits: [TermKeys; 2] = [[key(&format!("k{i}"))].into(), TermKeys::new()];
            s.push(&ev(i), &hits, &mut |_| out += 1);
        }
        assert!(s.held() <= 10);
        assert!(s.evicted >= 10);
        assert_eq!(out, 0);
    }
}
