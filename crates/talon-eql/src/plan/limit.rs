//! `| head N` and `| tail N`, combined as Elasticsearch's CombineLimits
//! rule does: the first pipe decides the direction, later pipes narrow it.
//!
//! - head∘head and tail∘tail keep the smaller count;
//! - `head a | tail b` (b < a) is the last b of the first a;
//! - `tail a | head b` (b < a) is the first b of the last a;
//! - a later pipe at least as large as the current window changes nothing.

use crate::ast::Pipe;

/// The result window of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// No pipe: the request `size` applies (Elasticsearch's default
    /// `result_position` is tail: the most recent matches, in order).
    None,
    Head(u64),
    Tail(u64),
    /// The last `tail` of the first `head` results.
    HeadThenTail {
        head: u64,
        tail: u64,
    },
    /// The first `head` of the last `tail` results.
    TailThenHead {
        tail: u64,
        head: u64,
    },
}

impl Limit {
    /// Combines the pipes in order.
    pub fn from_pipes(pipes: &[Pipe]) -> Limit {
        // (from the tail?, skipped from that end, count)
        let mut window: Option<(bool, u64, u64)> = None;
        for p in pipes {
            let (tail, n) = match p {
                Pipe::Head(n, _) => (false, *n),
                Pipe::Tail(n, _) => (true, *n),
            };
            window = Some(match window {
                None => (tail, 0, n),
                Some((wt, skip, count)) if wt == tail => (wt, skip, count.min(n)),
                Some((wt, skip, count)) if n < count => (wt, skip + (count - n), n),
                Some(w) => w,
            });
        }
        match window {
            None => Limit::None,
            Some((false, 0, n)) => Limit::Head(n),
            Some((true, 0, n)) => Limit::Tail(n),
            Some((false, skip, n)) => Limit::HeadThenTail {
                head: skip.saturating_add(n),
                tail: n,
            },
            Some((true, skip, n)) => Limit::TailThenHead {
                tail: skip.saturating_add(n),
                head: n,
            },
        }
    }

    /// Applies the window to results already in ascending order.
    pub fn apply<T>(&self, items: &mut Vec<T>) {
        let len = items.len() as u64;
        let (from, to) = match *self {
            Limit::None => (0, len),
            Limit::Head(n) => (0, n.min(len)),
            Limit::Tail(n) => (len.saturating_sub(n), len),
            Limit::HeadThenTail { head, tail } => {
                let end = head.min(len);
                (end.saturating_sub(tail), end)
            }
            Limit::TailThenHead { tail, head } => {
                let start = len.saturating_sub(tail);
                (start, start.saturating_add(head).min(len))
            }
        };
        // from <= to <= len, all within usize because len came from one.
        items.truncate(to as usize);
        items.drain(..from as usize);
    }
}
