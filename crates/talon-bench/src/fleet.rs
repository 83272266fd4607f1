//! The simulated estate: Linux and Windows hosts with their agents, users
//! and process ids, plus the clock and the id formats Elastic Defend uses.
//!
//! Everything is derived from the seed, so the same seed gives the same
//! host names, agent ids and entity ids on every run and machine.

use crate::ecs::Proc;
use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux,
    Windows,
}

/// One operating-system release as Defend reports it under `host.os`.
#[derive(Debug)]
pub struct OsRelease {
    pub family: &'static str,
    pub platform: &'static str,
    pub name: &'static str,
    pub full: &'static str,
    pub version: &'static str,
}

const LINUX_RELEASES: &[OsRelease] = &[
    OsRelease {
        family: "ubuntu",
        platform: "ubuntu",
        name: "Linux",
        full: "Ubuntu 22.04.4 LTS",
        version: "22.04.4",
    },
    OsRelease {
        family: "ubuntu",
        platform: "ubuntu",
        name: "Linux",
        full: "Ubuntu 24.04.1 LTS",
        version: "24.04.1",
    },
    OsRelease {
        family: "debian",
        platform: "debian",
        name: "Linux",
        full: "Debian GNU/Linux 12 (bookworm)",
        version: "12",
    },
    OsRelease {
        family: "rhel",
        platform: "rhel",
        name: "Linux",
        full: "Red Hat Enterprise Linux 9.3 (Plow)",
        version: "9.3",
    },
    OsRelease {
        family: "amzn",
        platform: "amzn",
        name: "Linux",
        full: "Amazon Linux 2023",
        version: "2023",
    },
];

const WINDOWS_RELEASES: &[OsRelease] = &[
    OsRelease {
        family: "windows",
        platform: "windows",
        name: "Windows",
        full: "Windows Server 2022 Datacenter 21H2 (10.0.20348.2402)",
        version: "21H2",
    },
    OsRelease {
        family: "windows",
        platform: "windows",
        name: "Windows",
        full: "Windows 11 Enterprise 23H2 (10.0.22631.3447)",
        version: "23H2",
    },
    OsRelease {
        family: "windows",
        platform: "windows",
        name: "Windows",
        full: "Windows 10 Pro 22H2 (10.0.19045.4291)",
        version: "22H2",
    },
];

/// An account on a host. Linux ids are uids, Windows ids are SIDs.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub id: String,
    pub domain: Option<String>,
}

#[derive(Debug)]
pub struct Host {
    pub os: Os,
    pub name: String,
    pub id: String,
    pub agent_id: String,
    pub ips: Vec<String>,
    pub release: &'static OsRelease,
    pub users: Vec<User>,
    /// Long-lived parents (shells, services), by parent template, so that
    /// many events share one parent entity as they do on a real host.
    pub parents: Vec<Option<Proc>>,
    next_pid: u64,
}

impl Host {
    /// A fresh pid: pids grow as on a real host, wrapping before the
    /// kernel's default `pid_max`.
    pub fn pid(&mut self) -> u64 {
        self.next_pid = if self.next_pid >= 4_194_000 {
            300
        } else {
            self.next_pid + 1
        };
        self.next_pid
    }

    pub fn os_type(&self) -> &'static str {
        match self.os {
            Os::Linux => "linux",
            Os::Windows => "windows",
        }
    }
}

/// All hosts, Linux first.
#[derive(Debug)]
pub struct Fleet {
    pub linux: Vec<Host>,
    pub windows: Vec<Host>,
}

#[rustfmt::skip]
const LINUX_ROLES: &[&str] = &["web", "api", "db", "k8s-node", "build", "gw", "cache", "etl"];
#[rustfmt::skip]
const LINUX_USERS: &[(&str, &str)] =
    &[("ubuntu", "1000"), ("deploy", "1001"), ("jenkins", "112"), ("postgres", "114"), ("www-data", "33")];
#[rustfmt::skip]
const WINDOWS_PEOPLE: &[&str] = &[
    "a.kowalski", "b.nguyen", "c.okafor", "d.martin", "e.svensson", "f.rossi", "g.tanaka",
    "h.dubois", "i.moreau", "j.smith",
];

impl Fleet {
    pub fn new(rng: &mut Rng, linux: usize, windows: usize) -> Fleet {
        let linux = (0..linux)
            .map(|i| linux_host(&mut rng.fork(i as u64), i))
            .collect();
        let windows = (0..windows)
            .map(|i| windows_host(&mut rng.fork(1 << 20 | i as u64), i))
            .collect();
        Fleet { linux, windows }
    }
}

fn linux_host(rng: &mut Rng, i: usize) -> Host {
    let role = LINUX_ROLES[i % LINUX_ROLES.len()];
    let mut users = vec![User {
        name: "root".into(),
        id: "0".into(),
        domain: None,
    }];
    for (name, id) in LINUX_USERS {
        if rng.percent(60) {
            users.push(User {
                name: (*name).into(),
                id: (*id).into(),
                domain: None,
            });
        }
    }
    let net = rng.range(1, 250);
    Host {
        os: Os::Linux,
        name: format!("{role}-{:02}", i / LINUX_ROLES.len() + 1),
        id: rng.hex(32),
        agent_id: uuid(rng),
        ips: vec![format!(
            "10.{net}.{}.{}",
            rng.range(0, 255),
            rng.range(2, 254)
        )],
        release: rng.pick_ref(LINUX_RELEASES),
        users,
        parents: Vec::new(),
        next_pid: rng.range(1_000, 90_000),
    }
}

fn windows_host(rng: &mut Rng, i: usize) -> Host {
    let name = match i {
        0 => "DC01".to_string(),
        1 => "SRV-FILE-01".to_string(),
        _ => format!(
            "WS-{}-{:03}",
            rng.pick(&["FIN", "ENG", "HR", "OPS", "SALES"]),
            i
        ),
    };
    let domain = "CORP".to_string();
    let rid_base = rng.range(1_100, 9_000);
    let machine_sid = format!(
        "S-1-5-21-{}-{}-{}",
        rng.range(1_000_000_000, 4_000_000_000),
        rng.range(1_000_000_000, 4_000_000_000),
        rng.range(100_000_000, 999_999_999)
    );
    let mut users = vec![User {
        name: "SYSTEM".into(),
        id: "S-1-5-18".into(),
        domain: Some("NT AUTHORITY".into()),
    }];
    for k in 0..2 {
        let person = rng.pick(WINDOWS_PEOPLE);
        users.push(User {
            name: (*person).into(),
            id: format!("{machine_sid}-{}", rid_base + k),
            domain: Some(domain.clone()),
        });
    }
    Host {
        os: Os::Windows,
        name,
        id: uuid(rng),
        agent_id: uuid(rng),
        ips: vec![format!("10.20.{}.{}", rng.range(0, 255), rng.range(2, 254))],
        release: rng.pick_ref(WINDOWS_RELEASES),
        users,
        parents: Vec::new(),
        next_pid: rng.range(1_000, 30_000),
    }
}

/// A random (version 4 shaped) UUID, as agents and Windows hosts get.
pub fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Event time: milliseconds since the Unix epoch, moving forward a few
/// milliseconds per event (about 100 events per second across the fleet).
#[derive(Debug)]
pub struct Clock {
    pub ms: u64,
}

impl Clock {
    /// 2026-01-12T08:00:00Z, a Monday morning.
    pub fn new() -> Clock {
        Clock {
            ms: 1_768_204_800_000,
        }
    }

    pub fn tick(&mut self, rng: &mut Rng) -> u64 {
        self.ms += rng.range(0, 20);
        self.ms
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// `2026-01-12T08:00:00.123Z`.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar, counting in 400-year eras that start on March 1st so that the
/// leap day falls at the end of each year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Defend's `entity_id`: base64 of agent id, pid and start time, so ids are
/// unique across hosts and pid reuse.
pub fn entity_id(agent_id: &str, pid: u64, start_ms: u64) -> String {
    let text = format!(
        "{agent_id}-{pid}-{}.{:03}000000",
        start_ms / 1000,
        start_ms % 1000
    );
    base64(text.as_bytes())
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Defend's `event.id`: 24 characters of its base64-like alphabet.
pub fn event_id(rng: &mut Rng) -> String {
    rng.token(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+",
        24,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_768_204_800_123), "2026-01-12T08:00:00.123Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
