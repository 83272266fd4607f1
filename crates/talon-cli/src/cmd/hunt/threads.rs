//! The threads of a hunt: one reader, `n` workers, and the calling thread
//! taking the workers' results back in input order.
//!
//! Tickets bound how far reading runs ahead of the caller: at most
//! `in_flight` batches are read and not yet taken. A worker that panics
//! says so before it dies, so the caller stops taking and every other
//! thread winds down, and the panic reaches the caller instead of leaving
//! the others waiting on each other for good.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// What a worker hands back.
enum Done<O> {
    /// The result of batch `no`.
    Batch(u64, O),
    /// The worker panicked; its panic is in its join handle.
    Panicked,
}

/// Sends [`Done::Panicked`] when dropped during a panic.
struct PanicNotice<O>(SyncSender<Done<O>>);

impl<O> Drop for PanicNotice<O> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.try_send(Done::Panicked);
        }
    }
}

/// Runs `process` over the batches `next` reads, on one thread per worker,
/// and hands the results to `take` in the order the batches were read.
/// `stop` ends reading early. Returns the workers (for their counts). A
/// panic in a worker is resumed on the calling thread.
pub(super) fn ordered_parallel<W, B, O>(
    workers: Vec<W>,
    in_flight: usize,
    stop: &AtomicBool,
    next: impl FnMut() -> Option<B> + Send,
    process: impl Fn(&mut W, B) -> O + Sync,
    mut take: impl FnMut(O),
) -> Vec<W>
where
    W: Send,
    B: Send,
    O: Send,
{
    let in_flight = in_flight.max(1);
    let process = &process;
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = sync_channel::<(u64, B)>(in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        // One slot more than batches in flight, for a panic notice.
        let (done_tx, done_rx) = sync_channel::<Done<O>>(in_flight + 1);
        let (ticket_tx, ticket_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            let _ = ticket_tx.send(());
        }

        scope.spawn(move || read(next, job_tx, ticket_rx, stop));
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut w| {
                let job_rx = Arc::clone(&job_rx);
                let done_tx = done_tx.clone();
                scope.spawn(move || {
                    let _notice = PanicNotice(done_tx.clone());
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok((no, batch)) = job else { break };
                        let out = process(&mut w, batch);
                        if done_tx.send(Done::Batch(no, out)).is_err() {
                            break;
                        }
                    }
                    w
                })
            })
            .collect();
        drop(done_tx);
        take_in_order(done_rx, &ticket_tx, stop, &mut take);
        // The reader waits on tickets, the workers on the reader.
        drop(ticket_tx);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The reader thread: one batch per ticket, numbered in input order.
fn read<B>(
    mut next: impl FnMut() -> Option<B>,
    jobs: SyncSender<(u64, B)>,
    tickets: Receiver<()>,
    stop: &AtomicBool,
) {
    let mut no = 0u64;
    while tickets.recv().is_ok() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let Some(batch) = next() else { break };
        if jobs.send((no, batch)).is_err() {
            break;
        }
        no += 1;
    }
}

/// Takes the workers' results back in input order, until every worker is
/// done or one panicked (which also stops reading).
fn take_in_order<O>(
    done: Receiver<Done<O>>,
    tickets: &SyncSender<()>,
    stop: &AtomicBool,
    take: &mut impl FnMut(O),
) {
    let mut waiting: BTreeMap<u64, O> = BTreeMap::new();
    let mut next = 0u64;
    for d in done {
        let (no, out) = match d {
            Done::Batch(no, out) => (no, out),
            Done::Panicked => {
                stop.store(true, Ordering::Relaxed);
                return;
            }
        };
        waiting.insert(no, out);
        while let Some(out) = waiting.remove(&next) {
            take(out);
            next += 1;
            let _ = tickets.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::time::{Duration, Instant};

    fn numbers(upto: u64) -> impl FnMut() -> Option<u64> + Send {
        let mut i = 0;
        move || {
            i += 1;
            (i <= upto).then_some(i)
        }
    }

    #[test]
    fn results_come_back_in_input_order_whatever_the_workers_take() {
        let stop = AtomicBool::new(false);
        let mut got = Vec::new();
        let workers = ordered_parallel(
            vec![0u64; 4],
            3,
            &stop,
            numbers(200),
            |seen: &mut u64, n: u64| {
                // Uneven work, so later batches often finish first.
                std::thread::sleep(Duration::from_micros((n * 7919) % 300));
                *seen += 1;
                n * 2
            },
            |out| got.push(out),
        );
        assert_eq!(got, (1..=200).map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(
            workers.iter().sum::<u64>(),
            200,
            "every batch processed once"
        );
    }

    #[test]
    fn a_worker_that_panics_ends_the_run_with_its_panic_instead_of_a_hang() {
        // Before, the other threads waited on each other for good: the
        // caller for the lost batch, the reader for a ticket, the workers
        // for the reader.
        let started = Instant::now();
        let stop = AtomicBool::new(false);
        let mut taken = 0u64;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            ordered_parallel(
                vec![(); 3],
                2,
                &stop,
                numbers(10_000),
                |_: &mut (), n: u64| {
                    if n == 5 {
                        panic!("batch five");
                    }
                    n
                },
                |_| taken += 1,
            )
        }));
        let payload = outcome.expect_err("the worker's panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"batch five"));
        assert!(taken < 5, "nothing past the lost batch was taken: {taken}");
        assert!(stop.load(Ordering::Relaxed), "reading was stopped");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
