//! `talon`: the command-line edge. Parses arguments, sets up logging, runs
//! one command, and turns its outcome into an exit code:
//! 0 success, 1 problems found (rule errors for `check`), 2 usage or I/O
//! errors.

mod bundled;
mod cli;
mod cmd;
mod config;
mod output;
mod summary;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Reading an event allocates its field map and values, and dropping it
/// frees them: with glibc's allocator that was a quarter of a hunt over
/// all prebuilt rules (bench/README.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let quiet = cli.quiet;
    let result = match cli.command {
        None => {
            // Bare `talon`: the help, not a screenful of demo alerts.
            let _ = <Cli as clap::CommandFactory>::command().print_help();
            println!();
            return ExitCode::SUCCESS;
        }
        Some(Command::Hunt(args)) => cmd::hunt::run(*args, quiet),
        Some(Command::Query(args)) => cmd::query::run(args, quiet),
        Some(Command::Convert(args)) => cmd::convert::run(args, quiet),
        Some(Command::Check(args)) => cmd::check::run(args, quiet),
        Some(Command::Rule(cli::RuleCommand::Show(args))) => cmd::rule_show::run(args),
        Some(Command::Rules(args)) => cmd::rules::run(args, quiet),
        #[cfg(feature = "kafka")]
        Some(Command::Stream(args)) => cmd::stream::run(args, quiet),
        Some(Command::Synth(args)) => cmd::synth::run(args, quiet),
        Some(Command::Watch(args)) => cmd::watch::run(args, quiet),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("talon: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr through `tracing`: quiet by default, `-v` per-file
/// progress and counts, `-vv` rule-level decisions. `RUST_LOG` overrides.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}
