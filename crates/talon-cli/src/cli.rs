//! Command-line interface: the commands, their flags and their help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run Elastic detection rules anywhere, with Elasticsearch's answers.
#[derive(Debug, Parser)]
#[command(name = "talon", version, propagate_version = true)]
#[command(
    after_help = "Run `talon hunt` with no arguments to see the bundled rules \
                        alert on the bundled demo events."
)]
pub struct Cli {
    /// More logging on stderr: -v per-file progress, -vv rule decisions,
    /// every skipped line or input and (hunt) the ten rules evaluated most
    /// often, -vvv (hunt) what each rule is evaluated on (its probes) and
    /// how often every rule was evaluated.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr (no summary); not with -v.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run detection rules over event files and write alerts.
    #[command(after_help = HUNT_EXAMPLES)]
    Hunt(Box<HuntArgs>),
    /// Search events with one EQL query, like Elasticsearch's EQL search API.
    #[command(after_help = QUERY_EXAMPLES)]
    Query(QueryArgs),
    /// Write events as Elastic Defend-shaped ECS: NDJSON, or an Elasticsearch _bulk body.
    #[command(after_help = crate::cmd::convert::CONVERT_EXAMPLES)]
    Convert(crate::cmd::convert::ConvertArgs),
    /// Parse and verify rules; report every problem; exit 1 on any error.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Inspect rules.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// List a rule folder, or report its coverage and what cannot run.
    #[command(after_help = crate::cmd::rules::RULES_EXAMPLES)]
    Rules(crate::cmd::rules::RulesArgs),
    /// Run as a Kafka consumer-group worker: events in, alerts out.
    #[cfg(feature = "kafka")]
    #[command(after_help = crate::cmd::stream::STREAM_EXAMPLES)]
    Stream(crate::cmd::stream::StreamArgs),
    /// Without the `kafka` feature: says how to build it (hidden).
    #[cfg(not(feature = "kafka"))]
    #[command(hide = true, disable_help_flag = true)]
    Stream {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Test events from a rule: events that make it fire, near-misses that must not.
    #[command(after_help = crate::cmd::synth::SYNTH_EXAMPLES)]
    Synth(crate::cmd::synth::SynthArgs),
    /// Watch this Linux host's process events live; alert as rules match.
    #[command(after_help = crate::cmd::watch::WATCH_EXAMPLES)]
    Watch(crate::cmd::watch::WatchArgs),
}

const HUNT_EXAMPLES: &str = "Examples:
  talon hunt                                   bundled rules over the bundled demo events
  talon hunt --rules rules/ logs/              every rule under rules/ over every file under logs/
  talon hunt --rules seed-rule.toml events.ndjson.gz --format jsonl --output alerts.jsonl
  zcat dump.json.gz | talon hunt --rules rules/ - --index logs-endpoint.events.process-default
  talon hunt --rules rules/ --all-indices export.ndjson
  talon hunt --rules rules/ --tag 'OS: Linux' --min-severity medium logs/
  talon hunt --rules rules/ --schedule logs/       as Kibana's schedule would have alerted
  talon hunt --rules rules/ --exceptions exceptions.ndjson --value-list ips=ips.txt logs/
  talon hunt --silence-host 'build-*' --silence-rule 'IPv4/IPv6 Forwarding Switched On via sysctl or procfs'";

const QUERY_EXAMPLES: &str = "Examples:
  talon query 'process where process.name == \"sysctl\"' events.ndjson
  talon query 'process where process.args : \"*ip_forward*\"' logs/ --size 100 --format jsonl
  talon query 'any where true | head 3' data.json --format es --mapping mapping.json \\
      --tiebreaker-field event.sequence";

const CHECK_EXAMPLES: &str = "Examples:
  talon check rules/
  talon check my-rule.toml export.ndjson page.md
  talon check rules/ --schema ecs_flat.yml --tag 'OS: Linux'";

/// Where alerts and results go, and in which format: `F` is the formats
/// the command writes ([`AlertFormat`] for hunt, [`Format`] for query).
#[derive(Debug, Args)]
pub struct OutputArgs<F: FormatArg> {
    /// Output format (default: csv for an --output file named *.csv, table
    /// on a terminal, jsonl otherwise).
    #[arg(long, short = 'f', value_parser = FormatParser::<F>(std::marker::PhantomData))]
    pub format: Option<F>,

    /// Write to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// A readable table.
    Table,
    /// The body of Elasticsearch's EQL search API response.
    Es,
}

/// What `hunt` writes alerts as: [`Format`] but `es`, the search API's
/// response, which holds events, not alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlertFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// A readable table.
    Table,
}

/// The `--format` values of a command, and the two it picks from when
/// none is given.
pub trait FormatArg: ValueEnum + Copy + Send + Sync + std::fmt::Debug + 'static {
    /// On a terminal.
    const TABLE: Self;
    /// Otherwise.
    const JSONL: Self;
    /// For an `--output` file named `*.csv`.
    const CSV: Self;
}

impl FormatArg for Format {
    const TABLE: Self = Format::Table;
    const JSONL: Self = Format::Jsonl;
    const CSV: Self = Format::Csv;
}

impl FormatArg for AlertFormat {
    const TABLE: Self = AlertFormat::Table;
    const JSONL: Self = AlertFormat::Jsonl;
    const CSV: Self = AlertFormat::Csv;
}

/// `--format` for a command that writes `F`: clap's own parser for it
/// (the error lists `F`'s values, the help shows them), with a tip when
/// the value is a format only `talon query` writes (`hunt --format es`).
#[derive(Clone)]
pub struct FormatParser<F>(std::marker::PhantomData<F>);

impl<F: FormatArg> clap::builder::TypedValueParser for FormatParser<F> {
    type Value = F;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<F, clap::Error> {
        use clap::error::{ContextKind, ContextValue};
        let parsed = clap::builder::EnumValueParser::<F>::new().parse_ref(cmd, arg, value);
        parsed.map_err(|mut e| {
            let name = value.to_string_lossy();
            if Format::from_str(&name, false).is_ok() {
                let tip = format!("`--format {name}` is only for `talon query`");
                e.insert(
                    ContextKind::Suggested,
                    ContextValue::StyledStrs(vec![tip.into()]),
                );
            }
            e
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let values = F::value_variants().iter();
        Some(Box::new(values.filter_map(ValueEnum::to_possible_value)))
    }
}

/// How events are read.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// Event files or folders (ECS as NDJSON, JSON arrays, search responses;
    /// auditd, Sysmon, Falco, Tetragon, osquery, SentinelOne logs; .gz,
    /// .zst). `-` reads stdin.
    #[arg(value_name = "EVENTS")]
    pub events: Vec<String>,

    /// What wrote the events: `auto` recognises each input by its content;
    /// a source name reads every input as that source.
    #[arg(long, value_enum, default_value = "auto", value_name = "NAME")]
    pub source: SourceArg,

    /// Give every event this index name (overrides `_index` and data_stream).
    #[arg(long, value_name = "NAME", value_parser = parse_index_name)]
    pub index: Option<String>,

    /// An Elasticsearch index mapping (JSON) that types the fields.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,

    /// Read files instead of mapping them into memory. Mapping saves
    /// copying every byte, but a file cut shorter while talon reads it
    /// (log rotation with copytruncate) then stops talon at once with an
    /// error naming the file and no summary (exit 2).
    #[arg(long)]
    pub no_mmap: bool,

    /// The longest NDJSON line read, in bytes (`K`, `M`, `G`: KiB, MiB,
    /// GiB); a longer line is skipped and counted (`too-long`), and never
    /// held in memory.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_line_size)]
    pub max_line: usize,
}

/// `--source`: `auto` (`None`), or the one source every input is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceArg(pub Option<talon_sources::Source>);

const SOURCE_ARGS: [SourceArg; 1 + talon_sources::ALL_SOURCES.len()] = {
    let mut all = [SourceArg(None); 1 + talon_sources::ALL_SOURCES.len()];
    let mut i = 0;
    while i < talon_sources::ALL_SOURCES.len() {
        all[i + 1] = SourceArg(Some(talon_sources::ALL_SOURCES[i]));
        i += 1;
    }
    all
};

impl ValueEnum for SourceArg {
    fn value_variants<'a>() -> &'a [Self] {
        &SOURCE_ARGS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use talon_sources::Source::*;
        let (name, help) = match self.0 {
            None => ("auto", "recognise each input by its content"),
            Some(s) => (
                s.name(),
                match s {
                    Auditd => "raw Linux audit logs (audit.log)",
                    Auditbeat => "Auditbeat / Elastic Agent auditd documents",
                    Sysmon => "Sysmon for Linux: syslog XML or winlog JSON",
                    Falco => "Falco JSON alerts",
                    Tetragon => "Tetragon JSON export",
                    Osquery => "osquery process_events results",
                    SentinelOne => "SentinelOne Cloud Funnel events",
                    Ecs => "ECS already (Elastic Defend, Endgame, search hits): read as is",
                },
            ),
        };
        Some(clap::builder::PossibleValue::new(name).help(help))
    }
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Rule files or folders (detection-rules TOML, Kibana NDJSON exports,
    /// rule documentation pages in Markdown). Default: the bundled rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    #[command(flatten)]
    pub input: EventArgs,

    /// Let every rule see every event, whatever the rules' index patterns.
    #[arg(long)]
    pub all_indices: bool,

    /// A field list (ECS ecs_flat.yml, {field: type} JSON, `field [type]`
    /// lines, or a mapping) that queries must use: unknown fields are errors.
    #[arg(long, value_name = "FILE")]
    pub schema: Vec<PathBuf>,

    /// Replay the rules' schedules (interval, from, max_signals) over the
    /// events' time range: only the alerts Kibana would have created.
    #[arg(long)]
    pub schedule: bool,

    /// How far out of time order events may arrive and still be matched in
    /// order by sequence rules: 30s, 5m, 1h, 1d; 0s means no re-ordering
    /// (an event older than one already read is late). Held as
    /// nanoseconds. The --schedule replay takes input in any order.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_window, allow_hyphen_values = true)]
    pub reorder_window: i64,

    /// --schedule: most matches held until the end of input, all rules
    /// together (at least 1); past it the oldest go to their runs early,
    /// and a match that comes after its rule's runs have passed its time
    /// is counted as late.
    #[arg(long, value_name = "N", default_value_t = talon_engine::schedule::DEFAULT_MAX_HELD_MATCHES, value_parser = parse_max_held, allow_negative_numbers = true)]
    pub max_held_matches: usize,

    /// Most in-flight sequences held at once across all keys of a sequence
    /// rule (at least 1); beyond it the oldest are evicted, with a warning
    /// naming the rule.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = parse_max_pending, allow_negative_numbers = true)]
    pub max_pending_sequences: usize,

    /// Parse every line whole and evaluate every routed rule on every
    /// event. By default, a rule is only evaluated on events whose fields
    /// hold one of the values (or text) its query needs, NDJSON lines that
    /// hold none of any rule's literals are counted but not parsed (nor
    /// checked for being JSON) when that is cheap to find out, and only the
    /// fields rules read are kept from each event.
    #[arg(long)]
    pub no_prefilter: bool,

    /// Threads that parse events and evaluate rules, while one more reads
    /// the input and the results are put back in input order (1 to 256;
    /// default: the cores available). The alerts are the same, in the same
    /// order, whatever the count (with --schedule too).
    #[arg(long, value_name = "N", value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,

    /// Also run rules saved with `enabled = false` (Kibana runs none of
    /// them, and neither does talon by default).
    #[arg(long)]
    pub include_disabled: bool,

    #[command(flatten)]
    pub select: crate::cmd::rules::SelectArgs,

    #[command(flatten)]
    pub exceptions: crate::config::ExceptionArgs,

    #[command(flatten)]
    pub output: OutputArgs<AlertFormat>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The EQL query.
    pub query: String,

    #[command(flatten)]
    pub input: EventArgs,

    /// Field holding the event category.
    #[arg(
        long,
        default_value = "event.category",
        value_name = "FIELD",
        value_parser = parse_field_name
    )]
    pub event_category_field: String,

    /// Field holding the event time.
    #[arg(
        long,
        default_value = "@timestamp",
        value_name = "FIELD",
        value_parser = parse_field_name
    )]
    pub timestamp_field: String,

    /// Field that orders events with the same timestamp.
    #[arg(long, value_name = "FIELD", value_parser = parse_field_name)]
    pub tiebreaker_field: Option<String>,

    /// Most results to return (the API's `size`). With a `head` or `tail`
    /// pipe, it takes from that pipe's end, as Elasticsearch does.
    #[arg(long, default_value_t = 10, value_parser = parse_size, allow_negative_numbers = true)]
    pub size: usize,

    /// Which matches `--size` keeps when there are more and the query has
    /// no `head` or `tail` pipe.
    #[arg(long, value_enum, default_value_t = Position::Tail)]
    pub result_position: Position,

    /// Samples returned per join-key tuple (sample queries).
    #[arg(long, default_value_t = 1, value_parser = parse_samples_per_key, allow_negative_numbers = true)]
    pub max_samples_per_key: u64,

    #[command(flatten)]
    pub output: OutputArgs<Format>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Position {
    Head,
    Tail,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rule files or folders. Default: the bundled rules.
    #[arg(value_name = "RULES")]
    pub rules: Vec<PathBuf>,

    /// An Elasticsearch index mapping to verify field names and types against.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,

    /// A field list (ECS ecs_flat.yml, {field: type} JSON, `field [type]`
    /// lines) to verify field names and types against.
    #[arg(long, value_name = "FILE")]
    pub schema: Vec<PathBuf>,

    #[command(flatten)]
    pub select: crate::cmd::rules::SelectArgs,
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Show a rule's metadata, MITRE mapping, query, filters and investigation guide.
    #[command(after_help = "Examples:
  talon rule show rules/linux/command_and_control_ip_forwarding_enabled.toml
  talon rule show 95719b51-e9e0-446d-8fe3-b0ab368dbd75
  talon rule show 'IPv4/IPv6 Forwarding Activity' --rules ../shared/corpora/detection-rules/rules/")]
    Show(RuleShowArgs),
}

#[derive(Debug, Args)]
pub struct RuleShowArgs {
    /// A rule file, or a rule_id or name to find among --rules.
    pub rule: String,

    /// Where to look for the rule by id or name. Default: the bundled rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// An index name as Elasticsearch accepts one: not empty, lowercase, none
/// of `\ / * ? " < > | , #` or spaces, not starting with `-`, `_` or `+`.
pub(crate) fn parse_index_name(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("an index name cannot be empty".into());
    }
    if s.chars().any(|c| c.is_uppercase()) {
        return Err(format!(
            "index names are lowercase in Elasticsearch: `{}`",
            s.to_lowercase()
        ));
    }
    if let Some(c) = s.chars().find(|c| r#"\/*?"<>|,# "#.contains(*c)) {
        return Err(format!("an index name cannot contain `{c}`"));
    }
    if s.starts_with(['-', '_', '+']) {
        return Err("an index name cannot start with `-`, `_` or `+`".into());
    }
    Ok(s.to_string())
}

/// A field name given as an option: Elasticsearch's EQL search refuses an
/// empty timestamp, tiebreaker or event category field ("... field is null
/// or empty"); one of blanks alone names no field either.
pub(crate) fn parse_field_name(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("a field name cannot be empty".into());
    }
    Ok(s.to_string())
}

/// `--reorder-window`: a duration like 30s, 5m, 1h or 1d, in nanoseconds;
/// zero (`0s`, `0m`, ...) is allowed and means no re-ordering.
pub fn parse_window(s: &str) -> Result<i64, String> {
    use talon_engine::schedule::{parse_duration, DurationError};
    parse_duration(s.trim()).map_err(|e| match e {
        DurationError::TooLong => {
            "too long: at most 106751d (times are held as nanoseconds)".to_string()
        }
        DurationError::NotADuration if s.trim_start().starts_with('-') => {
            "cannot be negative: expected a duration like 0s, 30s, 5m, 1h or 1d".to_string()
        }
        DurationError::NotADuration => "expected a duration like 0s, 30s, 5m, 1h or 1d".to_string(),
    })
}

/// A count from 1 to `max`, with what 0 would have meant.
fn at_least_one(s: &str, max: usize, what: &str) -> Result<usize, String> {
    match count(s, max)? {
        0 => Err(format!("must be at least 1 ({what})")),
        n => Ok(n),
    }
}

/// A whole number from 0 to `max`: why not, when it is not one.
fn count(s: &str, max: usize) -> Result<usize, String> {
    use std::num::IntErrorKind;
    let s = s.trim();
    match s.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("at most {max}")),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(format!("at most {max}")),
        Err(_) if s.starts_with('-') => Err("cannot be negative".to_string()),
        Err(_) => Err("expected a whole number".to_string()),
    }
}

/// `--max-line`: bytes, with an optional binary unit (`64K`, `256M`,
/// `1G`, `KiB`, `MB` and the like), at least 1.
pub fn parse_line_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err("expected bytes, or a number with K, M or G (as 256M)".to_string()),
    };
    let n = at_least_one(number, usize::MAX, "a line must be allowed a byte")?;
    match n.checked_mul(1 << shift) {
        Some(bytes) if bytes <= MAX_LINE_CAP => Ok(bytes),
        _ => Err(format!("at most {}G", MAX_LINE_CAP >> 30)),
    }
}

/// The largest `--max-line`: 64 GiB, far past any line worth holding, and
/// far from the ends of the integers the readers count bytes in.
const MAX_LINE_CAP: usize = 64 << 30;

/// `--size`: how many results, 0 or more.
fn parse_size(s: &str) -> Result<usize, String> {
    count(s, usize::MAX)
}

/// `--max-samples-per-key`: at least 1.
fn parse_samples_per_key(s: &str) -> Result<u64, String> {
    let what = "a sample query returns this many samples per key";
    at_least_one(s, usize::MAX, what).map(|n| n as u64)
}

/// More threads than this only costs memory and start-up (each holds
/// batches in flight); far more would fail to start.
const MAX_THREADS: usize = 256;

fn parse_threads(s: &str) -> Result<usize, String> {
    at_least_one(s, MAX_THREADS, "leave --threads out to use every core")
}

fn parse_max_held(s: &str) -> Result<usize, String> {
    at_least_one(
        s,
        usize::MAX,
        "it caps the matches --schedule holds; 0 would hold none",
    )
}

fn parse_max_pending(s: &str) -> Result<usize, String> {
    at_least_one(
        s,
        usize::MAX,
        "it caps the sequences a rule holds in flight; 0 would hold none",
    )
}
