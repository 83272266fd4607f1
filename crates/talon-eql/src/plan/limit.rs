//! `| head N` and `| tail N`, combined as Elasticsearch's CombineLimits
//! rule does: the first pipe decides the direction, later pipes narrow it.
//!
//! - head∘head and tail∘tail keep the smaller count;
//! - `head a | tail b` (b < a) is the last b of the first a;
//! - `tail a | head b` (b < a) is the first b of the last a;
//! - a later pipe at least as large as the current window changes nothing.
//!
//! A search request's `size` is one more limit, placed as Elasticsearch's
//! LogicalPlanBuilder places it (see [`Limit::for_request`]).

use std::iter;

use crate::ast::Pipe;

/// Which end of the ordered results a limit keeps: the search API's
/// `result_position`, and the direction of a `head` or `tail` pipe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResultPosition {
    /// The earliest results.
    Head,
    /// The most recent results (Elasticsearch's default `result_position`),
    /// still returned in ascending order.
    #[default]
    Tail,
}

/// One limit: the first or last `n` results.
#[derive(Clone, Copy, Debug)]
struct Take {
    end: ResultPosition,
    n: u64,
}

impl Take {
    fn of(pipe: &Pipe) -> Take {
        match *pipe {
            Pipe::Head(n, _) => Take {
                end: ResultPosition::Head,
                n,
            },
            Pipe::Tail(n, _) => Take {
                end: ResultPosition::Tail,
                n,
            },
        }
    }
}

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
        Limit::combine(pipes.iter().map(Take::of))
    }

    /// The window of a search request with these pipes, `size` and
    /// `result_position`, as Elasticsearch builds it
    /// (LogicalPlanBuilder.visitStatement): `size` is a limit of the first
    /// pipe's own kind placed under it (`head 100` with size 3 is `head 3 |
    /// head 100`: the first 3) and later pipes narrow what it keeps
    /// (`head 10 | tail 3` with size 5 is the last 3 of the first 5). So
    /// `result_position` only matters when there is no pipe: then `size`
    /// takes from the end it names.
    pub fn for_request(pipes: &[Pipe], size: u64, position: ResultPosition) -> Limit {
        let takes = pipes.iter().map(Take::of);
        let end = takes.clone().next().map_or(position, |t| t.end);
        Limit::combine(iter::once(Take { end, n: size }).chain(takes))
    }

    fn combine(takes: impl IntoIterator<Item = Take>) -> Limit {
        // (from the tail?, skipped from that end, count)
        let mut window: Option<(bool, u64, u64)> = None;
        for Take { end, n } in takes {
            let tail = end == ResultPosition::Tail;
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

    /// What a bounded heap must keep while results stream in: how many
    /// (`usize::MAX`: all, for no limit) and whether from the tail (the
    /// latest) rather than the head. [`Limit::apply`] then cuts the
    /// window's other end from what was kept.
    pub fn first_cut(&self) -> (bool, usize) {
        let keep = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        match *self {
            Limit::None => (false, usize::MAX),
            Limit::Head(n) | Limit::HeadThenTail { head: n, .. } => (false, keep(n)),
            Limit::Tail(n) | Limit::TailThenHead { tail: n, .. } => (true, keep(n)),
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
