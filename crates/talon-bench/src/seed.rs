//! Events for the seed rule, "IPv4/IPv6 Forwarding Activity"
//! (rule_id 5a138e2e-aec3-4240-9843-56825d0bc569): true matches, which it
//! must alert on, and near misses, which look alike but must not alert.
//!
//! True matches take the rule's two branches (`sysctl` writing a
//! forwarding key; a shell's `-c` running `echo` into `/proc/sys`) under
//! parents the rule does not exclude. Near misses each break exactly one
//! condition: an excluded parent (by name, case-folded name, executable or
//! arguments), a read-only `sysctl`, no `echo`, a fork or end event, no
//! parent, a wrapper binary, an IPv4 key the rule does not list, a fused
//! `-ec` flag. Each is a Linux Defend process document, routed to
//! `logs-endpoint.events.process-default` like a real one.

use crate::ecs::Proc;
use crate::fleet::{Host, User};
use crate::linux::{parent, process_event};
use crate::rng::Rng;

/// The child processes that take one of the rule's branches.
#[rustfmt::skip]
const MATCHING: &[(&str, &[&str])] = &[
    ("/usr/sbin/sysctl", &["sysctl", "-w", "net.ipv4.ip_forward=1"]),
    ("/usr/sbin/sysctl", &["sysctl", "-w", "net.ipv6.conf.all.forwarding=1"]),
    ("/usr/sbin/sysctl", &["sysctl", "--write", "net.ipv4.ip_forward=1"]),
    ("/usr/sbin/sysctl", &["sysctl", "net.ipv4.ip_forward=1"]),
    ("/usr/sbin/sysctl", &["/usr/sbin/sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"]),
    ("/usr/bin/sh", &["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]),
    ("/usr/bin/bash", &["bash", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"]),
    ("/usr/bin/dash", &["/bin/sh", "-c", "echo 1 | tee /proc/sys/net/ipv4/ip_forward"]),
    ("/usr/bin/zsh", &["zsh", "-c", "sysctl -w net.ipv4.ip_forward=1 && echo routing on"]),
];

/// Parents an intruder might run the change from, beside the host's usual
/// shells and services (none is excluded by the rule).
#[rustfmt::skip]
const INTRUDER_PARENTS: &[(&str, &[&str])] = &[
    ("/dev/shm/.k/kworker", &["[kworker/0:2]"]),
    ("/tmp/.X11-unix/.x/tunneld", &["/tmp/.X11-unix/.x/tunneld", "-c", "203.0.113.9:443"]),
    ("/usr/bin/python3", &["python3", "-c", "import pty;pty.spawn('/bin/bash')"]),
];

/// Writes one event the seed rule must alert on.
pub fn true_match(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = root(host);
    let parent = if rng.percent(25) {
        let (exe, args) = rng.pick(INTRUDER_PARENTS);
        spawn(host, exe, args, ts.saturating_sub(rng.range(500, 60_000)))
    } else {
        parent(rng, host, ts, &user.name)
    };
    let (exe, args) = rng.pick(MATCHING);
    let child = spawn(host, exe, args, ts);
    process_event(
        out,
        rng,
        host,
        ts,
        seq,
        "exec",
        &["start"],
        &child,
        Some(&parent),
        &user,
    );
}

/// The ways of looking like a match without being one.
#[derive(Clone, Copy, Debug)]
enum Miss {
    /// The parent's name or executable is on the rule's exclusion list.
    ExcludedParent(&'static str, &'static [&'static str]),
    /// The parent's arguments are on the exclusion list.
    ExcludedParentArgs(&'static [&'static str]),
    /// The child itself fails a condition (parent is an ordinary shell).
    Child(&'static str, &'static [&'static str]),
    ForkEvent,
    EndEvent,
    NoParent,
}

#[rustfmt::skip]
const MISSES: &[Miss] = &[
    Miss::ExcludedParent("/usr/bin/privsep-helper", &["/usr/bin/python3", "/usr/bin/privsep-helper", "--privsep_context", "neutron.privileged.default"]),
    Miss::ExcludedParent("/usr/libexec/platform-python3.6", &["/usr/libexec/platform-python3.6", "-Es", "/usr/sbin/tuned"]),
    Miss::ExcludedParent("/usr/libexec/Platform-Python3.9", &["/usr/libexec/Platform-Python3.9", "-Es", "/usr/sbin/tuned", "-l"]),
    Miss::ExcludedParent("/etc/sysconfig/network-scripts/init.ipv6-global", &["/bin/bash", "/etc/sysconfig/network-scripts/init.ipv6-global", "start"]),
    Miss::ExcludedParent("/usr/libexec/wsl-bootstrap", &["/usr/libexec/wsl-bootstrap"]),
    Miss::ExcludedParent("/usr/sbin/sshd", &["sshd: ops@notty"]),
    Miss::ExcludedParentArgs(&["/bin/sh", "/usr/bin/dockerd-rootless.sh"]),
    Miss::ExcludedParentArgs(&["/usr/lib/pritunl/usr/bin/python3", "/usr/lib/pritunl/usr/bin/pritunl", "start"]),
    Miss::ExcludedParentArgs(&["/bin/bash", "/etc/rc.d/init.d/network", "restart"]),
    Miss::ExcludedParentArgs(&["/bin/bash", "/etc/untangle/post-network-hook.d/040-forward"]),
    Miss::Child("/usr/sbin/sysctl", &["sysctl", "net.ipv4.ip_forward"]),
    Miss::Child("/usr/sbin/sysctl", &["sysctl", "-n", "net.ipv6.conf.all.forwarding"]),
    Miss::Child("/usr/sbin/sysctl", &["sysctl", "-w", "net.ipv4.conf.all.forwarding=1"]),
    Miss::Child("/usr/bin/cat", &["cat", "/proc/sys/net/ipv4/ip_forward"]),
    Miss::Child("/usr/bin/sh", &["sh", "-c", "printf 1 > /proc/sys/net/ipv4/ip_forward"]),
    Miss::Child("/usr/bin/bash", &["bash", "-ec", "echo 1 > /proc/sys/net/ipv4/ip_forward"]),
    Miss::Child("/usr/bin/busybox", &["busybox", "sysctl", "-w", "net.ipv4.ip_forward=1"]),
    Miss::ForkEvent,
    Miss::EndEvent,
    Miss::NoParent,
];

/// Writes one event that resembles a match but that the rule must not
/// alert on.
pub fn near_miss(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = root(host);
    let started = ts.saturating_sub(rng.range(500, 600_000));
    let sysctl_w: (&str, &[&str]) = (
        "/usr/sbin/sysctl",
        &["sysctl", "-w", "net.ipv4.ip_forward=1"],
    );
    let (parent, (exe, args), action, types): (Option<Proc>, _, &str, &[&str]) =
        match rng.pick(MISSES) {
            Miss::ExcludedParent(exe, args) => (
                Some(spawn(host, exe, args, started)),
                rng.pick(MATCHING),
                "exec",
                &["start"],
            ),
            Miss::ExcludedParentArgs(args) => {
                let exe = if args[0].contains("python") {
                    args[0]
                } else {
                    "/usr/bin/bash"
                };
                (
                    Some(spawn(host, exe, args, started)),
                    rng.pick(MATCHING),
                    "exec",
                    &["start"],
                )
            }
            Miss::Child(exe, args) => (
                Some(parent(rng, host, ts, &user.name)),
                (exe, args),
                "exec",
                &["start"],
            ),
            Miss::ForkEvent => (
                Some(parent(rng, host, ts, &user.name)),
                sysctl_w,
                "fork",
                &["start"],
            ),
            Miss::EndEvent => (
                Some(parent(rng, host, ts, &user.name)),
                sysctl_w,
                "end",
                &["end"],
            ),
            Miss::NoParent => (None, sysctl_w, "exec", &["start"]),
        };
    let child = spawn(host, exe, args, ts);
    process_event(
        out,
        rng,
        host,
        ts,
        seq,
        action,
        types,
        &child,
        parent.as_ref(),
        &user,
    );
}

fn spawn(host: &mut Host, exe: &str, args: &[&str], start: u64) -> Proc {
    let args = args.iter().map(|a| (*a).to_string()).collect();
    Proc::new(host, exe, args, start, "/root")
}

/// Changing kernel parameters needs root; every Linux host has it first.
fn root(host: &Host) -> User {
    host.users[0].clone()
}
