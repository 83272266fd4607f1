//! `talon stream`: run as one worker of a Kafka consumer group. ECS events
//! in from the event topics, Kibana-shaped alerts out to the alerts topic
//! (keyed by alert uuid), until SIGINT or SIGTERM; then commit, flush and
//! leave the group. Settings come from the `[stream]` section of
//! `talon.toml` and from flags, flags winning. Only built with the `kafka`
//! feature.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use talon_alert::AlertContext;
use talon_engine::{compile_rules, EngineOptions};
use talon_event::flatten::Flattener;
use talon_stream::decode::Decoder;
use talon_stream::http::MetricsServer;
use talon_stream::{Metrics, SecurityConfig, StreamConfig, StreamRules};

use crate::cmd::common;

pub const STREAM_EXAMPLES: &str = "Examples:
  talon stream --brokers 127.0.0.1:9092 --topic ecs-events --rules rules/
  talon stream --config talon.toml --metrics 127.0.0.1:9464 --alerts-file alerts.jsonl
  talon stream --brokers k1:9093 --topic ecs --security-protocol sasl_ssl \\
      --sasl-mechanism SCRAM-SHA-512 --sasl-username talon --sasl-password-env KAFKA_PW \\
      --ssl-ca-location ca.pem -X fetch.max.bytes=52428800

Run the same command on several machines (same --group) to share the
partitions. Alerts are keyed by their uuid: a re-delivered event gives the
same alert, so a consumer that upserts by id sees no duplicate.";

#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Rule files or folders. Default: the bundled rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Also run rules saved with `enabled = false` (Kibana runs none of
    /// them, and neither does talon by default).
    #[arg(long)]
    pub include_disabled: bool,

    /// talon.toml to read the [stream] section from (default:
    /// ./talon.toml when it exists).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Bootstrap brokers, host:port[,host:port].
    #[arg(long, value_name = "LIST")]
    pub brokers: Option<String>,

    /// Consumer group (default: talon).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,

    /// Event topic; repeat for several.
    #[arg(long = "topic", short = 't', value_name = "TOPIC")]
    pub topics: Vec<String>,

    /// Where alerts go (default: talon-alerts).
    #[arg(long, value_name = "TOPIC")]
    pub alerts_topic: Option<String>,

    /// Where malformed messages go, with the reason (default:
    /// talon-dead-letters).
    #[arg(long, value_name = "TOPIC")]
    pub dead_letter_topic: Option<String>,

    /// Where events of sequences joined on another key than the
    /// partitioning go (default: talon-repartition).
    #[arg(long, value_name = "TOPIC")]
    pub repartition_topic: Option<String>,

    /// Compacted topic holding pending-sequence checkpoints (default:
    /// talon-changelog).
    #[arg(long, value_name = "TOPIC")]
    pub changelog_topic: Option<String>,

    /// The field producers key events by (default: host.id).
    #[arg(long, value_name = "FIELD")]
    pub partition_key: Option<String>,

    /// Also append every alert to this JSON Lines file.
    #[arg(long, value_name = "FILE")]
    pub alerts_file: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics (loopback only).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Give every event this index name.
    #[arg(long, value_name = "NAME")]
    pub index: Option<String>,

    /// An Elasticsearch index mapping (JSON) that types the fields.
    #[arg(long, value_name = "FILE")]
    pub mapping: Vec<PathBuf>,

    /// Let every rule see every event, whatever the rules' index patterns.
    #[arg(long)]
    pub all_indices: bool,

    /// Milliseconds between offset commits (default: 500).
    #[arg(long, value_name = "MS")]
    pub commit_interval_ms: Option<u64>,

    /// Milliseconds between sequence-state checkpoints (default: 1000).
    #[arg(long, value_name = "MS")]
    pub checkpoint_interval_ms: Option<u64>,

    /// How far (event time, ms) sequence events may arrive out of order
    /// and still be matched (default: 60000).
    #[arg(long, value_name = "MS")]
    pub reorder_window_ms: Option<u64>,

    /// plaintext, ssl, sasl_plaintext or sasl_ssl.
    #[arg(long, value_name = "PROTOCOL")]
    pub security_protocol: Option<String>,

    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, value_name = "MECHANISM")]
    pub sasl_mechanism: Option<String>,

    #[arg(long, value_name = "USER")]
    pub sasl_username: Option<String>,

    /// Environment variable holding the SASL password.
    #[arg(long, value_name = "VAR")]
    pub sasl_password_env: Option<String>,

    /// CA certificate(s) to verify the brokers with (PEM).
    #[arg(long, value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,

    /// Client certificate (PEM), for brokers that require one.
    #[arg(long, value_name = "FILE")]
    pub ssl_certificate_location: Option<PathBuf>,

    /// Client private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub ssl_key_location: Option<PathBuf>,

    /// A librdkafka property, KEY=VALUE; repeat for several.
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub librdkafka: Vec<String>,
}

pub fn run(args: StreamArgs, quiet: bool) -> Result<ExitCode> {
    let settings = settings(&args)?;
    let mapping = common::load_mapping(&args.mapping)?;
    let report = common::load_rules(&args.rules, &mapping);
    let load_errors = common::report_load_problems(&report);
    if let Some(msg) = common::no_rule_files(&args.rules, &report) {
        anyhow::bail!(msg);
    }
    let rules = common::leave_out_disabled(report.rules, args.include_disabled, quiet)?;
    let (compiled, problems) = compile_rules(rules, &mapping);
    let opts = EngineOptions {
        all_indices: args.all_indices,
        ..EngineOptions::default()
    };
    let factory = talon_stream::runner::factory(&mapping, settings.reorder_window);
    let (rules, unsupported) =
        StreamRules::new(compiled, &opts, &settings.partition_key, factory.as_deref());
    for p in problems.iter().filter(|p| p.is_error()) {
        eprint!("{}", p.render());
    }
    for p in problems
        .iter()
        .chain(unsupported.iter())
        .filter(|p| !p.is_error())
    {
        if !quiet {
            eprintln!("{}", p.render());
        }
    }
    if rules.is_empty() {
        return Err(super::common::no_rule_can_run(
            load_errors,
            problems.iter().filter(|p| p.is_error()).count(),
            unsupported.len() + problems.iter().filter(|p| !p.is_error()).count(),
        ));
    }
    let (local, routed) = rules.placements();
    tracing::info!(
        "{} rules; sequences: {local} on the event partitions, {routed} through {}",
        rules.len(),
        settings.repartition_topic
    );

    let ctx = AlertContext::from_env().context("invalid TALON_NOW")?;
    let metrics = Arc::new(Metrics::default());
    let _server = match settings.metrics {
        Some(addr) => {
            let server = MetricsServer::start(addr, metrics.clone())?;
            tracing::info!("metrics at http://{}/metrics", server.addr());
            Some(server)
        }
        None => None,
    };
    let stop = talon_stream::shutdown::stop_flag()?;
    let decoder = Decoder::new(
        Flattener::default().with_mapping(&mapping),
        settings.index.as_deref(),
    );
    let summary = talon_stream::run(&settings, rules, factory, &ctx, decoder, metrics, &stop)?;
    if !quiet {
        eprintln!(
            "talon stream: {} events, {} alerts, {} dead letters",
            summary.events, summary.alerts, summary.dead_letters
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The file's [stream] section, overridden by the flags, resolved.
fn settings(args: &StreamArgs) -> Result<talon_stream::Settings> {
    let file = match &args.config {
        Some(path) => StreamConfig::from_file(path)?,
        None if Path::new("talon.toml").is_file() => {
            StreamConfig::from_file(Path::new("talon.toml"))?
        }
        None => StreamConfig::default(),
    };
    let mut librdkafka = BTreeMap::new();
    for kv in &args.librdkafka {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("-X {kv}: expected KEY=VALUE (a librdkafka property)");
        };
        librdkafka.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let flags = StreamConfig {
        brokers: args.brokers.clone(),
        group: args.group.clone(),
        topics: args.topics.clone(),
        alerts_topic: args.alerts_topic.clone(),
        dead_letter_topic: args.dead_letter_topic.clone(),
        repartition_topic: args.repartition_topic.clone(),
        changelog_topic: args.changelog_topic.clone(),
        partition_key: args.partition_key.clone(),
        alerts_file: args.alerts_file.clone(),
        metrics: args.metrics.clone(),
        index: args.index.clone(),
        commit_interval_ms: args.commit_interval_ms,
        checkpoint_interval_ms: args.checkpoint_interval_ms,
        reorder_window_ms: args.reorder_window_ms,
        security: SecurityConfig {
            protocol: args.security_protocol.clone(),
            sasl_mechanism: args.sasl_mechanism.clone(),
            sasl_username: args.sasl_username.clone(),
            sasl_password: None,
            sasl_password_env: args.sasl_password_env.clone(),
            ssl_ca_location: args.ssl_ca_location.clone(),
            ssl_certificate_location: args.ssl_certificate_location.clone(),
            ssl_key_location: args.ssl_key_location.clone(),
            ssl_key_password: None,
        },
        librdkafka,
    };
    Ok(file.overridden_by(flags).resolve()?)
}
