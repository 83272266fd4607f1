//! What talon changes in the kernel's audit configuration, and undoing it.
//!
//! On start:
//! - if no loaded rule (other than another talon's) records every execve
//!   and execveat of the native architecture unconditionally, talon adds
//!   `-a always,exit -F arch=<native> -S execve -S execveat` keyed
//!   `talon-watch-<pid>`. The rule goes at the end of the exit list, so
//!   an administrator's `never` rules still exclude what they exclude;
//! - if audit is off (`enabled=0`), talon turns it on and will turn it off
//!   again. Its rule's key then ends in `-was-off`, so the duty survives
//!   talon: a talon that finds such a rule of a dead pid (a sensor killed
//!   with SIGKILL) deletes the rule and takes the duty over; one that
//!   finds it on a live talon carries the mark too. The last talon out
//!   turns audit off, unless an audit daemon has registered meanwhile;
//! - a locked configuration (`enabled=2`) is used as it is, when one of
//!   its rules records every exec; otherwise watching is refused.
//!
//! On exit (also on SIGINT/SIGTERM, errors and panics, through `Drop`):
//! the rule talon added is deleted, then audit is turned off if talon
//! turned it on and no other live talon still uses it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::audit::socket::Control;
use crate::audit::wire::{Arch, RuleData, Status};
use crate::error::SensorError;

/// Keys of talon's rules: `talon-watch-<pid>` or `talon-watch-<pid>-was-off`.
const KEY_PREFIX: &str = "talon-watch-";
const WAS_OFF: &str = "-was-off";

/// A rule key of talon's: the pid of the talon that added it, and
/// whether audit was off before talon turned it on.
pub(crate) fn parse_key(key: &str) -> Option<(u32, bool)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (pid, was_off) = match rest.strip_suffix(WAS_OFF) {
        Some(pid) => (pid, true),
        None => (rest, false),
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((pid.parse().ok()?, was_off))
}

pub(crate) fn key_for(pid: u32, was_off: bool) -> String {
    format!("{KEY_PREFIX}{pid}{}", if was_off { WAS_OFF } else { "" })
}

/// The loaded rules, sorted into talon's and the rest.
#[derive(Debug, Default)]
pub(crate) struct Survey {
    /// Rules of other talons still running.
    pub live: Vec<(RuleData, bool)>,
    /// Rules of talons that are gone.
    pub stale: Vec<(RuleData, bool)>,
    /// Some rule of anyone else records every exec.
    pub covered_by_others: bool,
    /// Some rule at all (talon's included) records every exec.
    pub covered_by_any: bool,
}

/// Sorts rules; `alive(pid)` tells whether a talon pid still runs.
pub(crate) fn survey(
    rules: &[RuleData],
    arch: Arch,
    own_pid: u32,
    alive: impl Fn(u32) -> bool,
) -> Survey {
    let mut s = Survey::default();
    for rule in rules {
        let every_exec = rule.records_every_exec(arch);
        s.covered_by_any |= every_exec;
        match rule.key().as_deref().and_then(parse_key) {
            Some((pid, _)) if pid == own_pid => {}
            Some((pid, was_off)) if alive(pid) => s.live.push((rule.clone(), was_off)),
            Some((_, was_off)) => s.stale.push((rule.clone(), was_off)),
            None => s.covered_by_others |= every_exec,
        }
    }
    s
}

/// What talon changed, and the socket to undo it with.
#[derive(Debug)]
pub(crate) struct AuditSetup {
    control: Control,
    arch: Arch,
    proc_root: PathBuf,
    pid: u32,
    /// The rule talon added, deleted on exit.
    added: Option<RuleData>,
    /// Turn audit off on exit (when no other talon still needs it).
    restore_off: bool,
    /// The kernel's lost-record counter when watching began.
    lost_at_start: u32,
    done: bool,
}

impl AuditSetup {
    /// Makes sure every exec is recorded (see the module documentation).
    pub fn open(timeout: Duration, proc_root: &Path) -> Result<AuditSetup, SensorError> {
        let arch =
            Arch::native().ok_or(SensorError::AuditUnsupportedArch(std::env::consts::ARCH))?;
        if in_other_netns(proc_root) {
            return Err(SensorError::AuditWrongNetns);
        }
        let mut control = Control::open(timeout)?;
        let status = control.status()?;
        let (rules, undecodable) = control.rules()?;
        if undecodable > 0 {
            tracing::warn!("{undecodable} loaded audit rules could not be decoded");
        }
        let pid = std::process::id();
        let alive = |p: u32| proc_root.join(p.to_string()).exists();
        let found = survey(&rules, arch, pid, alive);
        let mut setup = AuditSetup {
            control,
            arch,
            proc_root: proc_root.to_path_buf(),
            pid,
            added: None,
            restore_off: false,
            lost_at_start: status.lost,
            done: false,
        };
        if status.enabled == 2 {
            if found.covered_by_any {
                tracing::info!("audit configuration locked; a loaded rule records every exec");
                return Ok(setup);
            }
            return Err(SensorError::AuditLocked);
        }
        for (rule, was_off) in &found.stale {
            match setup.control.del_rule(rule) {
                Ok(()) => {
                    tracing::info!(key = rule.key(), "deleted the rule of a talon that is gone");
                    setup.restore_off |= *was_off;
                }
                Err(e) => tracing::warn!("cannot delete a stale talon audit rule: {e}"),
            }
        }
        setup.restore_off |= found.live.iter().any(|(_, was_off)| *was_off);
        let turn_on = status.enabled == 0;
        let marked = turn_on || setup.restore_off;
        // A rule of talon's own carries the mark when there is one, even
        // where another rule already records every exec.
        if !found.covered_by_others || marked {
            let rule = RuleData::exec_rule(arch, &key_for(pid, marked));
            match setup.control.add_rule(&rule) {
                Ok(()) => {}
                // The very same rule (this pid's, from an earlier run that
                // was killed): it is ours now.
                Err(SensorError::Socket(_, e)) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(e),
            }
            tracing::info!(
                key = rule.key(),
                "added an audit rule for execve and execveat"
            );
            setup.added = Some(rule);
        } else {
            tracing::info!("a loaded audit rule already records every exec");
        }
        if turn_on {
            setup.control.set_enabled(1)?;
            setup.restore_off = true;
            tracing::info!("turned audit on (it will be turned off on exit)");
        }
        Ok(setup)
    }

    /// The request socket (talon's check message goes through it).
    pub fn control(&mut self) -> &mut Control {
        &mut self.control
    }

    /// Records the kernel could not queue or deliver since watching
    /// began (its global counter: backlog overflows, rate limits).
    pub fn kernel_lost(&mut self) -> Option<u64> {
        let now = self.control.status().ok()?;
        Some(u64::from(now.lost.wrapping_sub(self.lost_at_start)))
    }

    /// Undoes the changes; problems are returned as warnings (the watch
    /// itself went well), and logged.
    pub fn restore(&mut self) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let mut warnings = Vec::new();
        if let Some(rule) = self.added.take() {
            match self.control.del_rule(&rule) {
                Ok(()) => tracing::info!(key = rule.key(), "deleted talon's audit rule"),
                Err(SensorError::Socket(_, e)) if e.raw_os_error() == Some(libc::ENOENT) => {
                    warnings.push(format!(
                        "talon's audit rule {} was deleted by someone else while watching",
                        rule.key().unwrap_or_default()
                    ));
                }
                Err(e) => warnings.push(format!(
                    "cannot delete talon's audit rule {}: {e}",
                    rule.key().unwrap_or_default()
                )),
            }
        }
        if self.restore_off {
            if let Err(w) = self.turn_off() {
                warnings.push(w);
            }
        }
        for w in &warnings {
            tracing::warn!("{w}");
        }
        warnings
    }

    /// Turns audit off unless someone else needs it now.
    fn turn_off(&mut self) -> Result<(), String> {
        let status: Status = self
            .control
            .status()
            .map_err(|e| format!("cannot read the audit status to turn audit off: {e}"))?;
        if status.enabled != 1 {
            return Ok(());
        }
        if status.pid != 0 {
            return Err(format!(
                "audit left on: an audit daemon (pid {}) registered while talon watched",
                status.pid
            ));
        }
        let (rules, _) = self
            .control
            .rules()
            .map_err(|e| format!("cannot list audit rules to turn audit off: {e}"))?;
        let proc_root = self.proc_root.clone();
        let found = survey(&rules, self.arch, self.pid, |p| {
            proc_root.join(p.to_string()).exists()
        });
        if let Some((rule, _)) = found.live.first() {
            tracing::info!(
                key = rule.key(),
                "audit left on for another talon still watching"
            );
            return Ok(());
        }
        for (rule, _) in &found.stale {
            let _ = self.control.del_rule(rule);
        }
        self.control
            .set_enabled(0)
            .map_err(|e| format!("cannot turn audit back off: {e}"))?;
        tracing::info!("turned audit back off");
        Ok(())
    }
}

impl Drop for AuditSetup {
    fn drop(&mut self) {
        self.restore();
    }
}

/// Whether this process is in another network namespace than pid 1 (the
/// host's init, in the initial pid namespace audit requires anyway).
/// Unknown counts as no: the check message settles it then.
fn in_other_netns(proc_root: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let ns = |p: &str| std::fs::metadata(proc_root.join(p).join("ns/net")).ok();
    match (ns("self"), ns("1")) {
        (Some(me), Some(init)) => (me.dev(), me.ino()) != (init.dev(), init.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86_64: Arch = Arch {
        audit_arch: 0xC000_003E,
        execve: 59,
        execveat: 322,
    };

    #[test]
    fn keys_name_the_talon_and_the_duty() {
        assert_eq!(key_for(42, false), "talon-watch-42");
        assert_eq!(key_for(42, true), "talon-watch-42-was-off");
        assert_eq!(parse_key("talon-watch-42"), Some((42, false)));
        assert_eq!(parse_key("talon-watch-42-was-off"), Some((42, true)));
        for other in [
            "exec",
            "talon-watch-",
            "talon-watch-x1",
            "talon-watch-4 2",
            "talon",
        ] {
            assert_eq!(parse_key(other), None, "{other}");
        }
    }

    #[test]
    fn survey_sorts_talons_from_the_rest() {
        let ours = RuleData::exec_rule(X86_64, &key_for(10, false));
        let live = RuleData::exec_rule(X86_64, &key_for(11, true));
        let dead = RuleData::exec_rule(X86_64, &key_for(12, true));
        let mut auditd = RuleData::exec_rule(X86_64, "exec");
        let alive = |p: u32| p == 10 || p == 11;

        let s = survey(
            &[ours.clone(), live.clone(), dead.clone()],
            X86_64,
            10,
            alive,
        );
        assert_eq!(s.live, vec![(live.clone(), true)]);
        assert_eq!(s.stale, vec![(dead.clone(), true)]);
        // Other talons' rules go when they do: they do not count.
        assert!(!s.covered_by_others);
        assert!(s.covered_by_any);

        let s = survey(&[auditd.clone(), live], X86_64, 10, alive);
        assert!(s.covered_by_others);

        // An auditd rule with a condition covers only some execs.
        auditd.fields.push(crate::audit::wire::RuleField {
            field: 9, // AUDIT_LOGINUID
            op: crate::audit::wire::AUDIT_EQUAL,
            value: 1000,
        });
        let s = survey(&[auditd], X86_64, 10, alive);
        assert!(!s.covered_by_others && !s.covered_by_any);
    }
}
