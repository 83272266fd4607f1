//! `talon-bench-gen`: writes the benchmark's NDJSON and says how many
//! events the seed rule must alert on.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Parser;
use talon_bench::{generate, parse_size, Config, Summary, FORMAT, KINDS};

/// Generate realistic Elastic Defend NDJSON (Linux and Windows process,
/// file, registry, network and DNS events) with an exact number of
/// seed-rule matches.
#[derive(Debug, Parser)]
#[command(name = "talon-bench-gen", version)]
#[command(
    after_help = "Example:\n  talon-bench-gen --size 100MB --seed 42 --matches 1000 \
                        --out bench/data/events-100m.ndjson"
)]
struct Args {
    /// Bytes to write: 100MB, 1GB, 2MiB, ... (KB/MB/GB are powers of 1000).
    #[arg(long, default_value = "100MB", value_parser = parse_size)]
    size: u64,

    /// Seed: the same seed gives the same file, byte for byte.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Events the seed rule (IPv4/IPv6 Forwarding Activity) must alert on.
    #[arg(long, default_value_t = 1000)]
    matches: u64,

    /// Look-alike events it must not alert on (default: as many as --matches).
    #[arg(long)]
    near_misses: Option<u64>,

    /// Output file (`-` for stdout). Written to a temporary name first, so
    /// an interrupted run leaves no truncated file behind.
    #[arg(long, short = 'o', required_unless_present = "print_format")]
    out: Option<PathBuf>,

    /// Print the data format version (see the report's `format:`) and exit.
    #[arg(long)]
    print_format: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.print_format {
        println!("{FORMAT}");
        return Ok(());
    }
    let Some(out) = args.out else {
        anyhow::bail!("--out is required");
    };
    let cfg = Config {
        size: args.size,
        seed: args.seed,
        matches: args.matches,
        near_misses: args.near_misses.unwrap_or(args.matches),
        ..Config::default()
    };
    if out.as_os_str() == "-" {
        let stdout = io::stdout();
        let summary = generate(&cfg, &mut BufWriter::with_capacity(1 << 20, stdout.lock()))?;
        // The data owns stdout here, so the summary goes to stderr.
        eprint!("{}", report(&summary, &cfg));
        return Ok(());
    }
    let summary = write_file(&cfg, &out)?;
    print!("{}", report(&summary, &cfg));
    Ok(())
}

fn write_file(cfg: &Config, path: &Path) -> Result<Summary> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let summary = generate(cfg, &mut w).with_context(|| format!("writing {}", tmp.display()))?;
    w.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(summary)
}

/// `key: value` lines, easy to read and to `awk`.
fn report(s: &Summary, cfg: &Config) -> String {
    let mut out = String::new();
    let avg = s.bytes.checked_div(s.events).unwrap_or(0);
    out.push_str(&format!(
        "events: {}\nbytes: {}\navg_event_bytes: {avg}\n",
        s.events, s.bytes
    ));
    out.push_str(&format!(
        "format: {FORMAT}\nseed: {}\nmatches: {}\nnear_misses: {}\n",
        cfg.seed, s.matches, s.near_misses
    ));
    for ((kind, _), n) in KINDS.iter().zip(s.by_kind) {
        out.push_str(&format!("kind.{kind:?}: {n}\n"));
    }
    out
}
