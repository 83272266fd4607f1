//! Benchmark data for talon: a seeded generator of realistic ECS NDJSON.
//!
//! The stream mixes Linux and Windows activity the way an Elastic Defend
//! fleet produces it (process starts with parents and ancestry, file,
//! registry, network and DNS events, about 1 KB each), with a known number
//! of events that the seed rule ("IPv4/IPv6 Forwarding Activity") must
//! alert on and a known number of near misses it must not. A benchmark can
//! therefore check talon's answer as well as its speed.
//!
//! Output is a pure function of [`Config`]: the same seed gives the same
//! bytes on every machine, so results from different days compare.
//!
//! ```
//! use talon_bench::{generate, Config};
//!
//! let cfg = Config { size: 20_000, matches: 3, near_misses: 2, ..Config::default() };
//! let mut out = Vec::new();
//! let summary = generate(&cfg, &mut out).unwrap();
//! assert_eq!((summary.matches, summary.near_misses), (3, 2));
//! assert_eq!(summary.bytes, out.len() as u64);
//! ```

pub mod ecs;
pub mod fleet;
pub mod gen;
pub mod json;
pub mod linux;
pub mod rng;
pub mod seed;
pub mod size;
pub mod template;
pub mod windows;

pub use gen::{generate, Config, Kind, Summary, KINDS};

/// The version of what a seed produces. Bumped whenever a change to the
/// generator makes the same [`Config`] write different bytes, so that
/// stored data sets and results can tell they came from another version.
pub const FORMAT: u32 = 2;
pub use size::parse_size;
