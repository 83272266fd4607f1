//! `talon`: the command-line edge. Parses arguments, sets up logging, runs
//! one command, and turns its outcome into an exit code:
//! 0 success, 1 problems found (rule errors for `check`), 2 usage or I/O
//! errors, 141 output closed by its reader (a broken pipe, as a shell
//! reports a process stopped by SIGPIPE), 130/143 a run that SIGINT or
//! SIGTERM stopped with its output finished (`cmd::interrupt`).

/// The exit status when the output's reader went away (`| head`).
pub const EXIT_BROKEN_PIPE: u8 = 141;

// The standard print macros panic when their stream fails (a closed pipe
// under `| head`). These replace them in every module of the binary
// (`macro_rules!` defined here shadow std's in the modules declared after):
// stderr failures are ignored (there is no one left to tell), and a failed
// stdout ends the process quietly, 141 for a broken pipe, 2 otherwise.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = std::io::stderr().write_fmt(format_args!($($arg)*));
    }};
}
macro_rules! eprintln {
    () => { eprint!("\n") };
    ($($arg:tt)*) => {{
        eprint!($($arg)*);
        eprint!("\n");
    }};
}
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_fmt(format_args!($($arg)*)) {
            $crate::stdout_failed(e);
        }
    }};
}
macro_rules! println {
    () => { print!("\n") };
    ($($arg:tt)*) => {{
        print!($($arg)*);
        print!("\n");
    }};
}

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
            let help = <Cli as clap::CommandFactory>::command().render_help();
            println!("{help}");
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
        #[cfg(not(feature = "kafka"))]
        Some(Command::Stream { .. }) => Err(anyhow::anyhow!(
            "this talon was built without Kafka: `talon stream` needs \
             `cargo build --release --features kafka` (see the README)"
        )),
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

/// Ends the process after stdout failed: quietly with 141 when its reader
/// closed it, with the error and 2 otherwise.
pub fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(EXIT_BROKEN_PIPE));
    }
    eprintln!("talon: error: cannot write to standard output: {e}");
    std::process::exit(2);
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .event_format(Prefixed)
        .try_init();
}

/// Log lines as the rest of talon's messages read: warnings and errors
/// as `talon: warning: ...` and `talon: error: ...`, what `-v` asks for
/// led by its level (` INFO`, `DEBUG`, `TRACE`).
struct Prefixed;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Prefixed
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        match *event.metadata().level() {
            tracing::Level::ERROR => write!(writer, "talon: error: ")?,
            tracing::Level::WARN => write!(writer, "talon: warning: ")?,
            level => write!(writer, "{level:>5} ")?,
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod log_format_tests {
    use std::sync::{Arc, Mutex};

    /// Log lines go to a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn warnings_and_errors_read_as_talons_other_messages() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .event_format(super::Prefixed)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("cannot build alert: {}", "x");
            tracing::error!("broken");
            tracing::info!("reading a.ndjson");
            tracing::debug!(n = 3, "rules");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "talon: warning: cannot build alert: x\ntalon: error: broken\n \
             INFO reading a.ndjson\nDEBUG rules n=3\n"
        );
    }
}
