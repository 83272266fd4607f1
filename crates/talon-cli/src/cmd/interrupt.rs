//! Ctrl-C (SIGINT) and SIGTERM for the commands that read a file to its
//! end (`hunt`, `query`, `convert`).
//!
//! A hunter who stops a long run still wants what it found: the first
//! signal stops reading at the next batch, what was read is evaluated as
//! if the input ended there, the output is finished whole (a `.gz` or
//! `.zst` file gets its trailer) and the summary says the run was cut
//! short. The exit status is the one a shell gives a process the signal
//! ended (130 for SIGINT, 143 for SIGTERM), so scripts still see it. A
//! second signal ends the process at once, as if talon had no handler,
//! unless it comes within [`SAME_SIGNAL`] of the first: `timeout` sends its
//! signal to talon and then to talon's process group, talon included, and
//! that second copy ended talon without its summary or the end of its
//! output (a `.gz` file without its trailer) whenever it came after the
//! first was handled.
//!
//! TODO: a read blocked on an idle pipe (stdin fed by `tail -f`) is not
//! interrupted: the first signal takes effect when data or the end
//! arrives.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

/// How long after the first signal another is taken for the same one
/// sent twice (see the module doc), not for a second.
pub const SAME_SIGNAL: Duration = Duration::from_millis(500);

/// The signals' mark: `stop` is raised on the first one, after `signal`
/// records which it was.
#[derive(Debug)]
pub struct Interrupt {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers for SIGINT and SIGTERM, which raise `stop`:
    /// given to the event reader beforehand
    /// ([`talon_event::read::ReadOptions::with_stop`]), it also stops an
    /// input that is only being counted (not JSON) before its end.
    pub fn install(stop: Arc<AtomicBool>) -> Result<Interrupt> {
        let signal = Arc::new(AtomicUsize::new(0));
        // Raised SAME_SIGNAL after the first signal, by the thread below.
        let armed = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // In order: a signal once `armed` is up takes the default
            // action (the process ends); else the signal's number is
            // recorded, then `stop` raised.
            signal_hook::flag::register_conditional_default(sig, Arc::clone(&armed))
                .and_then(|_| {
                    signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
                })
                .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
                .context("cannot install the SIGINT/SIGTERM handlers")?;
        }
        // The watcher sleeps on a self-pipe the handlers write to, rather
        // than waking to look for a signal all run long.
        let (mut woken, wake) =
            std::os::unix::net::UnixStream::pair().context("cannot create the signal pipe")?;
        for sig in [SIGINT, SIGTERM] {
            let pipe = wake.try_clone().context("cannot create the signal pipe")?;
            signal_hook::low_level::pipe::register(sig, pipe)
                .context("cannot install the SIGINT/SIGTERM handlers")?;
        }
        std::thread::Builder::new()
            .name("interrupt".to_string())
            .spawn(move || {
                // Any byte, or the pipe's end: no signal can arm it then.
                if let Ok(1) = std::io::Read::read(&mut woken, &mut [0u8]) {
                    std::thread::sleep(SAME_SIGNAL);
                    armed.store(true, Ordering::Relaxed);
                }
            })
            .context("cannot start the SIGINT/SIGTERM watcher")?;
        Ok(Interrupt { stop, signal })
    }

    /// The flag readers look at between batches. Others may raise it too
    /// (`hunt` does when its output fails): [`Interrupt::signal`] tells
    /// whether a signal did.
    pub fn stop(&self) -> &AtomicBool {
        &self.stop
    }

    /// The next item of `items` unless reading should stop (a signal, or
    /// whoever else raised the flag). The flag is looked at before an item
    /// is taken, so every item taken is one answered.
    pub fn next_of<I: Iterator>(&self, items: &mut I) -> Option<I::Item> {
        match self.stop.load(Ordering::Relaxed) {
            true => None,
            false => items.next(),
        }
    }

    /// The signal that arrived, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::Relaxed) {
            0 => None,
            s => i32::try_from(s).ok(),
        }
    }
}

/// Ends a command a signal stopped: unless `quiet`, the line that ends
/// its summary; and the shell's status for the signal.
pub fn interrupted(quiet: bool, signal: i32) -> ExitCode {
    if !quiet {
        let name = match signal {
            SIGINT => "SIGINT (Ctrl-C)",
            SIGTERM => "SIGTERM",
            _ => "a signal",
        };
        eprintln!(
            "talon: interrupted by {name}: reading stopped early; the counts above cover only \
             what was read until then, and the output was finished whole"
        );
    }
    ExitCode::from(u8::try_from(128 + signal).unwrap_or(1))
}
