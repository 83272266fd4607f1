//! Command-line and path templates: `{name}` placeholders filled from
//! small vocabularies of plausible values.
//!
//! The vocabularies deliberately contain nothing about IP forwarding
//! (`ip_forward`, `conf/all/forwarding`), so background events can never
//! satisfy the seed rule; only [`crate::seed`] writes those strings.

use crate::rng::Rng;

#[rustfmt::skip]
const APPS: &[&str] = &[
    "billing", "checkout", "inventory", "auth", "search", "reports", "ledger", "gateway",
];
#[rustfmt::skip]
const SERVICES: &[&str] = &[
    "nginx", "postgresql", "redis-server", "docker", "kubelet", "sshd", "cron", "rsyslog",
    "chronyd",
];
#[rustfmt::skip]
const DIRS: &[&str] = &[
    "/var/log", "/etc", "/srv", "/opt", "/tmp", "/home/deploy", "/var/lib/docker", "/root",
];
#[rustfmt::skip]
const LOGS: &[&str] = &[
    "/var/log/syslog", "/var/log/auth.log", "/var/log/nginx/access.log",
    "/var/log/kern.log", "/var/log/messages",
];
#[rustfmt::skip]
const DOMAINS: &[&str] = &[
    "api.github.com", "registry-1.docker.io", "packages.microsoft.com", "deb.debian.org",
    "artifacts.corp.example", "s3.eu-west-1.amazonaws.com", "login.microsoftonline.com",
    "update.googleapis.com", "ntp.ubuntu.com", "pypi.org", "sentry.corp.example",
];
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "ERROR", "timeout", "Failed password", "OOM", "segfault", "refused", "denied",
];
#[rustfmt::skip]
const NAMESPACES: &[&str] = &["default", "kube-system", "payments", "monitoring", "ingress-nginx"];
#[rustfmt::skip]
const PACKAGES: &[&str] = &[
    "curl", "openssl", "libssl3", "python3-pip", "git", "jq", "htop", "tzdata",
];
#[rustfmt::skip]
const SYSCTL_KEYS: &[&str] = &[
    "vm.swappiness", "vm.max_map_count", "fs.file-max", "net.core.somaxconn",
    "kernel.pid_max", "net.ipv4.tcp_keepalive_time",
];
#[rustfmt::skip]
const WIN_SCRIPTS: &[&str] = &[
    "Backup-Shares", "Get-Inventory", "Rotate-Logs", "Sync-Printers", "Update-Agents",
];
#[rustfmt::skip]
const WIN_SERVICES: &[&str] = &[
    "Schedule", "BITS", "wuauserv", "EventLog", "Dnscache", "LanmanServer", "WinRM",
];

/// Replaces each `{name}` in `template` by a value drawn for it; unknown
/// names are left as written.
pub fn fill(rng: &mut Rng, template: &str, user: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..open + len];
        match name {
            "app" => out.push_str(rng.pick(APPS)),
            "svc" => out.push_str(rng.pick(SERVICES)),
            "dir" => out.push_str(rng.pick(DIRS)),
            "log" => out.push_str(rng.pick(LOGS)),
            "domain" => out.push_str(rng.pick(DOMAINS)),
            "word" => out.push_str(rng.pick(WORDS)),
            "ns" => out.push_str(rng.pick(NAMESPACES)),
            "pkg" => out.push_str(rng.pick(PACKAGES)),
            "sysctl" => out.push_str(rng.pick(SYSCTL_KEYS)),
            "ps1" => out.push_str(rng.pick(WIN_SCRIPTS)),
            "winsvc" => out.push_str(rng.pick(WIN_SERVICES)),
            "user" => out.push_str(user),
            "n" => out.push_str(&rng.range(1, 9_999).to_string()),
            "port" => out.push_str(&rng.range(1_024, 65_000).to_string()),
            "ver" => out.push_str(&format!(
                "{}.{}.{}",
                rng.range(1, 9),
                rng.range(0, 30),
                rng.range(0, 12)
            )),
            "hex" => out.push_str(&rng.hex(12)),
            "ip" => out.push_str(&format!(
                "10.{}.{}.{}",
                rng.range(0, 40),
                rng.range(0, 255),
                rng.range(2, 254)
            )),
            _ => out.push_str(&rest[open..=open + len]),
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

/// An argv template: the executable, then the arguments (each may hold
/// placeholders and spaces).
pub fn argv(rng: &mut Rng, template: &[&str], user: &str) -> (String, Vec<String>) {
    let exe = fill(rng, template[0], user);
    let args = template[1..].iter().map(|a| fill(rng, a, user)).collect();
    (exe, args)
}

/// A public-looking address for the far end of a connection.
pub fn remote_ip(rng: &mut Rng) -> String {
    let first = rng.pick(&[13u64, 20, 34, 52, 104, 140, 151, 185]);
    format!(
        "{first}.{}.{}.{}",
        rng.range(0, 255),
        rng.range(0, 255),
        rng.range(1, 254)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_and_keeps_unknown() {
        let mut rng = Rng::new(1);
        let s = fill(&mut rng, "ls {dir} {nope} --user={user} {", "bob");
        assert!(s.starts_with("ls /"));
        assert!(s.contains(" {nope} --user=bob {"));
    }
}
