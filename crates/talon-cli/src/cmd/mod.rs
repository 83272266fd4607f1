//! One module per command. Each `run` returns the exit code, or an error
//! for the binary to print (usage and I/O problems).

pub mod check;
pub mod convert;
pub mod hunt;
pub mod query;
pub mod rule_show;
pub mod rules;
#[cfg(feature = "kafka")]
pub mod stream;
pub mod synth;
pub mod watch;

pub(crate) mod common;
mod interrupt;
