//! The host the sensor runs on, read once at start: the `host.*` and
//! `agent.*` fields every event carries, and the clock facts needed to
//! turn `/proc` start ticks into dates.

use std::fs;
use std::path::Path;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::procfs::ProcFs;

/// What every event says about where it happened.
#[derive(Clone, Debug)]
pub struct Host {
    pub name: String,
    /// `/etc/machine-id` (stable across reboots), empty when absent.
    pub id: String,
    pub kernel: String,
    pub os_name: String,
    pub os_version: String,
    pub os_platform: String,
    pub os_family: String,
    pub architecture: String,
    /// A UUIDv5 of the machine id: the same agent id on every run.
    pub agent_id: String,
    /// Boot time, milliseconds since the epoch.
    pub boot_time_ms: i64,
    /// Clock ticks per second of `/proc` times (`USER_HZ`).
    pub ticks_per_sec: u64,
}

impl Host {
    /// Reads the host facts from `etc` and `proc` (normally `/etc` and
    /// `/proc`). Anything unreadable is left empty rather than failing:
    /// events are still worth having without an OS version.
    pub fn detect(etc: &Path, proc: &ProcFs) -> Host {
        let read = |p: &Path| {
            fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let sys = proc.root().join("sys/kernel");
        let name = read(&sys.join("hostname"));
        let id = read(&etc.join("machine-id"));
        let release = read(&sys.join("osrelease"));
        let os = parse_os_release(&read(&etc.join("os-release")));
        let get = |k: &str| os.get(k).cloned().unwrap_or_default();
        let agent_id = Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("talon-agent:{id}:{name}").as_bytes(),
        );
        Host {
            name,
            id,
            kernel: release,
            os_name: get("NAME"),
            os_version: get("VERSION_ID"),
            os_platform: get("ID"),
            os_family: os.get("ID_LIKE").cloned().unwrap_or_else(|| get("ID")),
            architecture: std::env::consts::ARCH.to_owned(),
            agent_id: agent_id.to_string(),
            boot_time_ms: proc.boot_time().unwrap_or(0).saturating_mul(1000),
            ticks_per_sec: clock_ticks(),
        }
    }

    /// Takes the boot time from the clocks, to the millisecond, rather
    /// than from `btime` (whole seconds); for the live host only.
    pub fn with_precise_boot_time(mut self) -> Host {
        if let Some(ms) = crate::clock::boot_time_ms() {
            self.boot_time_ms = ms;
        }
        self
    }

    /// The `host` object of an event.
    pub fn host_json(&self) -> Value {
        let mut os = Map::new();
        os.insert("type".into(), json!("linux"));
        os.insert("kernel".into(), json!(self.kernel));
        for (k, v) in [
            ("name", &self.os_name),
            ("version", &self.os_version),
            ("platform", &self.os_platform),
            ("family", &self.os_family),
        ] {
            if !v.is_empty() {
                os.insert(k.into(), json!(v));
            }
        }
        let mut host = Map::new();
        host.insert("name".into(), json!(self.name));
        host.insert("hostname".into(), json!(self.name));
        if !self.id.is_empty() {
            host.insert("id".into(), json!(self.id));
        }
        host.insert("architecture".into(), json!(self.architecture));
        host.insert("os".into(), Value::Object(os));
        Value::Object(host)
    }

    /// The `agent` object of an event.
    pub fn agent_json(&self) -> Value {
        json!({ "type": "talon", "version": env!("CARGO_PKG_VERSION"), "id": self.agent_id })
    }

    /// Start ticks since boot → milliseconds since the epoch.
    pub fn ticks_to_millis(&self, ticks: u64) -> i64 {
        let tps = self.ticks_per_sec.max(1);
        let ms = (ticks / tps) as i64 * 1000 + ((ticks % tps) * 1000 / tps) as i64;
        self.boot_time_ms.saturating_add(ms)
    }
}

/// `KEY=value` and `KEY="value"` lines of os-release(5).
fn parse_os_release(text: &str) -> rustc_hash::FxHashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.trim().trim_matches(['"', '\'']).to_owned(),
            )
        })
        .collect()
}

/// `USER_HZ`, the unit of `/proc` times (100 on every common Linux).
fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a system constant; no pointers involved.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if n > 0 {
        n as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values() {
        let os = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\nID=debian\n# comment\n",
        );
        assert_eq!(os.get("NAME").map(String::as_str), Some("Debian GNU/Linux"));
        assert_eq!(os.get("VERSION_ID").map(String::as_str), Some("12"));
        assert_eq!(os.get("ID").map(String::as_str), Some("debian"));
    }

    #[test]
    fn from_fixture_files() {
        let dir = tempfile::tempdir().unwrap();
        let etc = dir.path().join("etc");
        let proc = dir.path().join("proc");
        fs::create_dir_all(&etc).unwrap();
        fs::create_dir_all(proc.join("sys/kernel")).unwrap();
        fs::write(etc.join("machine-id"), "0123456789abcdef0123456789abcdef\n").unwrap();
        fs::write(
            etc.join("os-release"),
            "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n",
        )
        .unwrap();
        fs::write(proc.join("sys/kernel/hostname"), "box1\n").unwrap();
        fs::write(proc.join("sys/kernel/osrelease"), "6.8.0-31-generic\n").unwrap();
        fs::write(proc.join("stat"), "btime 1700000000\n").unwrap();

        let host = Host::detect(&etc, &ProcFs::new(&proc));
        let h = host.host_json();
        assert_eq!(h["name"], "box1");
        assert_eq!(h["hostname"], "box1");
        assert_eq!(h["id"], "0123456789abcdef0123456789abcdef");
        assert_eq!(h["os"]["type"], "linux");
        assert_eq!(h["os"]["kernel"], "6.8.0-31-generic");
        assert_eq!(h["os"]["name"], "Ubuntu");
        assert_eq!(h["os"]["version"], "24.04");
        assert_eq!(h["os"]["family"], "debian");
        assert_eq!(host.agent_json()["type"], "talon");
        // 250 ticks at 100 Hz after boot.
        let h100 = Host {
            ticks_per_sec: 100,
            ..host
        };
        assert_eq!(h100.ticks_to_millis(250), 1_700_000_002_500);
    }
}
