//! Graceful shutdown: SIGINT and SIGTERM raise a flag that the poll loop
//! reads between messages, so the worker finishes the message in hand,
//! flushes, checkpoints, commits and leaves its group before it exits.
//! A second signal while stopping ends the process at once (signal-hook's
//! conditional default), for an operator who will not wait.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::StreamError;

/// Installs the handlers; the flag turns true on the first signal.
pub fn stop_flag() -> Result<Arc<AtomicBool>, StreamError> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Order matters: the conditional exit must see the flag before the
        // first signal sets it.
        signal_hook::flag::register_conditional_default(sig, stop.clone())
            .map_err(StreamError::Signals)?;
        signal_hook::flag::register(sig, stop.clone()).map_err(StreamError::Signals)?;
    }
    Ok(stop)
}
