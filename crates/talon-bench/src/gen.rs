//! The mix: which kind of event comes next, and where the seed rule's true
//! matches and near misses fall in the file.
//!
//! Special events are placed by byte offset, drawn uniformly over the
//! requested size before writing starts, so they are spread through the
//! whole file whatever the average event size turns out to be, and exactly
//! the requested number is written even if the last background event
//! overshoots the size.

use std::io::{self, Write};

use crate::fleet::{Clock, Fleet};
use crate::rng::Rng;
use crate::{linux, seed, windows};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stop once this many bytes are written (the last event may overshoot
    /// by one line).
    pub size: u64,
    pub seed: u64,
    /// Events the seed rule must alert on.
    pub matches: u64,
    /// Events that look like matches but must not alert.
    pub near_misses: u64,
    pub linux_hosts: usize,
    pub windows_hosts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 100_000_000,
            seed: 42,
            matches: 1_000,
            near_misses: 1_000,
            linux_hosts: 48,
            windows_hosts: 64,
        }
    }
}

/// Kinds of background event, with their share of the stream in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    LinuxProcess,
    LinuxFile,
    LinuxNetwork,
    WindowsProcess,
    WindowsRegistry,
    WindowsFile,
    WindowsNetwork,
    WindowsDns,
}

/// Network and file activity outnumber process starts on real endpoints;
/// process events still make up a third, since most rules read them.
pub const KINDS: [(Kind, u32); 8] = [
    (Kind::LinuxProcess, 22),
    (Kind::LinuxFile, 10),
    (Kind::LinuxNetwork, 14),
    (Kind::WindowsProcess, 11),
    (Kind::WindowsRegistry, 11),
    (Kind::WindowsFile, 10),
    (Kind::WindowsNetwork, 10),
    (Kind::WindowsDns, 12),
];

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub bytes: u64,
    /// Events the seed rule must alert on: exactly [`Config::matches`].
    pub matches: u64,
    pub near_misses: u64,
    /// Background events per kind, in the order of [`KINDS`].
    pub by_kind: [u64; 8],
}

/// Writes NDJSON to `out` until `cfg.size` bytes are written and every
/// special event is out. Deterministic: the same `cfg` gives the same
/// bytes.
pub fn generate(cfg: &Config, out: &mut impl Write) -> io::Result<Summary> {
    let mut rng = Rng::new(cfg.seed);
    let mut fleet = Fleet::new(
        &mut rng.fork(1),
        cfg.linux_hosts.max(1),
        cfg.windows_hosts.max(1),
    );
    let specials = schedule(&mut rng.fork(2), cfg);
    let mut rng = rng.fork(3);
    let mut clock = Clock::new();
    let weights: Vec<u32> = KINDS.iter().map(|(_, w)| *w).collect();
    let mut summary = Summary::default();
    let mut line = Vec::with_capacity(4096);
    let mut next = 0;
    while summary.bytes < cfg.size || next < specials.len() {
        line.clear();
        let ts = clock.tick(&mut rng);
        let seq = summary.events;
        let special = specials
            .get(next)
            .filter(|(at, _)| *at <= summary.bytes || summary.bytes >= cfg.size);
        if let Some(&(_, is_match)) = special {
            next += 1;
            let host = pick_mut(&mut rng, &mut fleet.linux);
            if is_match {
                seed::true_match(&mut line, &mut rng, host, ts, seq);
                summary.matches += 1;
            } else {
                seed::near_miss(&mut line, &mut rng, host, ts, seq);
                summary.near_misses += 1;
            }
        } else {
            let k = rng.weighted(&weights);
            background(KINDS[k].0, &mut line, &mut rng, &mut fleet, ts, seq);
            summary.by_kind[k] += 1;
        }
        line.push(b'\n');
        out.write_all(&line)?;
        summary.events += 1;
        summary.bytes += line.len() as u64;
    }
    out.flush()?;
    Ok(summary)
}

/// Byte offsets of the special events, ascending; `true` marks a match.
fn schedule(rng: &mut Rng, cfg: &Config) -> Vec<(u64, bool)> {
    let span = cfg.size.max(1);
    let mut s: Vec<(u64, bool)> = Vec::with_capacity((cfg.matches + cfg.near_misses) as usize);
    s.extend((0..cfg.matches).map(|_| (rng.below(span), true)));
    s.extend((0..cfg.near_misses).map(|_| (rng.below(span), false)));
    s.sort_unstable();
    s
}

fn pick_mut<'a, T>(rng: &mut Rng, items: &'a mut [T]) -> &'a mut T {
    let i = rng.below(items.len() as u64) as usize;
    &mut items[i]
}

fn background(kind: Kind, line: &mut Vec<u8>, rng: &mut Rng, fleet: &mut Fleet, ts: u64, seq: u64) {
    let hosts = match kind {
        Kind::LinuxProcess | Kind::LinuxFile | Kind::LinuxNetwork => &mut fleet.linux,
        _ => &mut fleet.windows,
    };
    let host = pick_mut(rng, hosts);
    let write = match kind {
        Kind::LinuxProcess => linux::background_process,
        Kind::LinuxFile => linux::background_file,
        Kind::LinuxNetwork => linux::background_network,
        Kind::WindowsProcess => windows::background_process,
        Kind::WindowsRegistry => windows::background_registry,
        Kind::WindowsFile => windows::background_file,
        Kind::WindowsNetwork => windows::background_network,
        Kind::WindowsDns => windows::background_dns,
    };
    write(line, rng, host, ts, seq);
}
