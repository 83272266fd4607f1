//! Background Linux activity as Elastic Defend records it: process
//! exec/fork/end with parents and ancestry, file changes, and network
//! connections.

use crate::ecs::{document, write_user, EventMeta, Proc};
use crate::fleet::{event_id, Host, User};
use crate::json::Obj;
use crate::rng::Rng;
use crate::template::{argv, fill, remote_ip};

/// Commands seen on servers every day: executable, then argv.
#[rustfmt::skip]
const COMMANDS: &[&[&str]] = &[
    &["/usr/bin/ls", "ls", "-la", "{dir}"],
    &["/usr/bin/grep", "grep", "-c", "{word}", "{log}"],
    &["/usr/bin/systemctl", "systemctl", "status", "{svc}", "--no-pager"],
    &["/usr/bin/systemctl", "systemctl", "is-active", "--quiet", "{svc}"],
    &["/usr/bin/python3", "python3", "/opt/{app}/manage.py", "migrate", "--noinput"],
    &["/usr/bin/python3", "python3", "-m", "pip", "install", "--user", "-r", "/srv/{app}/requirements.txt"],
    &["/usr/bin/curl", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "https://{domain}/healthz"],
    &["/usr/bin/curl", "curl", "-fsSL", "--retry", "3", "https://{domain}/v2/"],
    &["/usr/bin/git", "git", "-C", "/srv/{app}", "pull", "--ff-only", "origin", "main"],
    &["/usr/bin/tar", "tar", "-czf", "/var/backups/{app}-{n}.tar.gz", "/srv/{app}"],
    &["/usr/bin/docker", "docker", "ps", "--format", "{{.Names}}"],
    &["/usr/bin/docker", "docker", "pull", "registry.corp.example/{app}:{ver}"],
    &["/usr/local/bin/kubectl", "kubectl", "get", "pods", "-n", "{ns}", "-o", "wide"],
    &["/usr/bin/apt-get", "apt-get", "-qq", "install", "-y", "{pkg}"],
    &["/usr/bin/dpkg-query", "dpkg-query", "-W", "-f=${Version}", "{pkg}"],
    &["/usr/sbin/sysctl", "sysctl", "-n", "{sysctl}"],
    &["/usr/sbin/sysctl", "sysctl", "-w", "vm.max_map_count=262144"],
    &["/usr/sbin/sysctl", "sysctl", "--system"],
    &["/usr/bin/bash", "bash", "-c", "echo 3 > /proc/sys/vm/drop_caches"],
    &["/usr/bin/sh", "sh", "-c", "test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily"],
    &["/usr/bin/cat", "cat", "/proc/{n}/status"],
    &["/usr/bin/cat", "cat", "/etc/os-release"],
    &["/usr/bin/ps", "ps", "-eo", "pid,ppid,cmd,%mem,%cpu", "--sort=-%mem"],
    &["/usr/bin/find", "find", "/var/log", "-name", "*.gz", "-mtime", "+14", "-delete"],
    &["/usr/sbin/logrotate", "logrotate", "/etc/logrotate.conf"],
    &["/usr/bin/rsync", "rsync", "-az", "--delete", "/srv/{app}/", "backup01:/backups/{app}/"],
    &["/usr/bin/openssl", "openssl", "x509", "-noout", "-enddate", "-in", "/etc/ssl/certs/{app}.pem"],
    &["/usr/bin/node", "node", "/srv/{app}/dist/server.js", "--port", "{port}"],
    &["/usr/bin/java", "java", "-Xms512m", "-Xmx2g", "-jar", "/opt/{app}/{app}-{ver}.jar"],
    &["/usr/bin/crontab", "crontab", "-l", "-u", "{user}"],
    &["/usr/bin/id", "id", "-u"],
    &["/usr/bin/uname", "uname", "-a"],
    &["/usr/sbin/ip", "ip", "-br", "addr", "show"],
    &["/usr/sbin/iptables", "iptables", "-L", "-n", "-v"],
    &["/usr/bin/ss", "ss", "-tulpn"],
    &["/usr/bin/df", "df", "-h", "/"],
    &["/usr/bin/du", "du", "-sh", "/srv/{app}"],
    &["/usr/bin/sudo", "sudo", "systemctl", "restart", "{svc}"],
    &["/usr/bin/wget", "wget", "-q", "https://{domain}/releases/{app}-{ver}.tar.gz"],
    &["/usr/bin/journalctl", "journalctl", "-u", "{svc}", "--since", "-1h", "--no-pager"],
    &["/usr/bin/ssh", "ssh", "-o", "BatchMode=yes", "deploy@{ip}", "uptime"],
    &["/usr/bin/vim", "vim", "/etc/{svc}/{svc}.conf"],
    &["/usr/bin/psql", "psql", "-U", "postgres", "-d", "{app}", "-c", "VACUUM ANALYZE;"],
    &["/usr/bin/redis-cli", "redis-cli", "-h", "127.0.0.1", "INFO", "memory"],
];

/// Parents that start those commands: executable, argv, working directory.
#[rustfmt::skip]
const PARENTS: &[(&str, &[&str], &str)] = &[
    ("/usr/bin/bash", &["-bash"], "/home/{user}"),
    ("/usr/bin/bash", &["/bin/bash", "/opt/{app}/bin/deploy.sh"], "/opt/{app}"),
    ("/usr/sbin/cron", &["/usr/sbin/cron", "-f", "-P"], "/"),
    ("/usr/lib/systemd/systemd", &["/sbin/init", "splash"], "/"),
    ("/usr/bin/python3", &["/usr/bin/python3", "/usr/bin/ansible-playbook", "site.yml"], "/srv/ansible"),
    ("/usr/bin/containerd-shim-runc-v2", &["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", "{hex}"], "/run/containerd"),
    ("/usr/bin/sudo", &["sudo", "-i"], "/root"),
    ("/usr/bin/make", &["make", "-j4", "release"], "/srv/{app}"),
    ("/usr/bin/zsh", &["-zsh"], "/home/{user}"),
];

/// A long-lived parent for `host`, reused for a while so that siblings
/// share it, then replaced (sessions end, services restart).
pub fn parent(rng: &mut Rng, host: &mut Host, now: u64, user: &str) -> Proc {
    let which = rng.below(PARENTS.len() as u64) as usize;
    if host.parents.len() < PARENTS.len() {
        host.parents.resize(PARENTS.len(), None);
    }
    if let Some(p) = &host.parents[which] {
        if !rng.percent(2) {
            return p.clone();
        }
    }
    let (exe, args, cwd) = PARENTS[which];
    let args = args.iter().map(|a| fill(rng, a, user)).collect();
    let cwd = fill(rng, cwd, user);
    let started = now.saturating_sub(rng.range(1_000, 3_600_000));
    let p = Proc::new(host, exe, args, started, &cwd);
    host.parents[which] = Some(p.clone());
    p
}

/// A Defend process document (exec, fork or end). `parent` is `None` for
/// processes whose parent Defend could not resolve.
#[allow(clippy::too_many_arguments)]
pub fn process_event(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    host: &Host,
    ts: u64,
    seq: u64,
    action: &str,
    types: &[&str],
    proc: &Proc,
    parent: Option<&Proc>,
    user: &User,
) {
    let meta = EventMeta {
        dataset: "endpoint.events.process",
        action,
        category: "process",
        types,
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        o.str("message", "Endpoint process event");
        o.obj("process", |p| {
            p.obj("Ext", |ext| {
                let mut ancestry: Vec<&str> = Vec::new();
                if let Some(parent) = parent {
                    ancestry.push(&parent.entity_id);
                }
                ext.strs("ancestry", &ancestry);
            });
            proc.write(p);
            p.bool(
                "interactive",
                parent.is_some_and(|pp| pp.args.first().is_some_and(|a| a.starts_with('-'))),
            );
            if let Some(parent) = parent {
                p.obj("parent", |pp| parent.write_parent(pp));
            }
        });
        write_user(o, user);
    });
}

/// Background process activity: mostly execs, some forks and exits.
pub fn background_process(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts, &user.name);
    let template: &[&str] = rng.pick(COMMANDS);
    let (exe, args) = argv(rng, template, &user.name);
    let proc = Proc::new(host, &exe, args, ts, &parent.working_directory);
    let (action, types): (&str, &[&str]) = match rng.below(100) {
        0..=69 => ("exec", &["start"]),
        70..=84 => ("fork", &["start"]),
        _ => ("end", &["end"]),
    };
    process_event(
        out,
        rng,
        host,
        ts,
        seq,
        action,
        types,
        &proc,
        Some(&parent),
        &user,
    );
}

#[rustfmt::skip]
const FILE_PATHS: &[&str] = &[
    "/var/log/{svc}/{svc}.log",
    "/tmp/{app}-{hex}.tmp",
    "/srv/{app}/releases/{ver}/config.yml",
    "/etc/{svc}/conf.d/{app}.conf",
    "/home/{user}/.bash_history",
    "/var/lib/docker/overlay2/{hex}/diff/app/cache.db",
    "/var/backups/{app}-{n}.tar.gz",
];

/// A file created, changed or deleted by a running process.
pub fn background_file(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts, &user.name);
    let template: &str = rng.pick(FILE_PATHS);
    let path = fill(rng, template, &user.name);
    let (action, ty) = rng.pick(&[
        ("creation", "creation"),
        ("modification", "change"),
        ("deletion", "deletion"),
        ("rename", "change"),
    ]);
    let meta = EventMeta {
        dataset: "endpoint.events.file",
        action,
        category: "file",
        types: &[ty],
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        write_file(o, &path, '/');
        o.str("message", "Endpoint file event");
        o.obj("process", |p| parent.write_brief(p));
        write_user(o, &user);
    });
}

/// `file.{directory,extension,name,path}` split at `sep`.
pub fn write_file(o: &mut Obj<'_>, path: &str, sep: char) {
    let (dir, name) = path.rsplit_once(sep).unwrap_or(("", path));
    o.obj("file", |f| {
        f.str("directory", dir);
        if let Some((_, ext)) = name.rsplit_once('.') {
            f.str("extension", ext);
        }
        f.str("name", name).str("path", path);
    });
}

/// An outbound or inbound TCP connection.
pub fn background_network(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts, &user.name);
    let egress = rng.percent(70);
    let local = host.ips[0].clone();
    let remote = remote_ip(rng);
    let (action, types): (&str, &[&str]) = match (egress, rng.percent(80)) {
        (true, true) => ("connection_attempted", &["start"]),
        (false, true) => ("connection_accepted", &["start"]),
        (_, false) => ("disconnect_received", &["end"]),
    };
    let meta = EventMeta {
        dataset: "endpoint.events.network",
        action,
        category: "network",
        types,
        id: event_id(rng),
        sequence: seq,
    };
    let service_port = rng.pick(&[443u64, 443, 80, 22, 5432, 6379, 8443]);
    let ephemeral = rng.range(32_768, 60_999);
    let ((sip, sport), (dip, dport)) = if egress {
        ((local, ephemeral), (remote, service_port))
    } else {
        ((remote, ephemeral), (local, service_port))
    };
    document(out, host, ts, &meta, |o| {
        o.obj("destination", |d| {
            d.str("address", &dip).str("ip", &dip).num("port", dport);
        })
        .str("message", "Endpoint network event")
        .obj("network", |n| {
            n.str("direction", if egress { "egress" } else { "ingress" })
                .str("transport", "tcp")
                .str("type", "ipv4");
        })
        .obj("process", |p| parent.write_brief(p))
        .obj("source", |s| {
            s.str("address", &sip).str("ip", &sip).num("port", sport);
        });
        write_user(o, &user);
    });
}
