//! Reading a process from `/proc/<pid>`: `stat` (name, parent, start
//! time), `status` (user and group ids), `cmdline` (arguments), and the
//! `exe` and `cwd` links.
//!
//! Everything here may fail because the process is gone: a short-lived
//! process can exit between the kernel's exec event and our read. Each
//! part is read on its own, so what could be read is kept and the caller
//! decides what is missing. The root is a parameter so the parsers are
//! tested on fixture trees.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where the proc filesystem is (normally `/proc`).
#[derive(Clone, Debug)]
pub struct ProcFs {
    root: PathBuf,
}

/// The fields of `/proc/<pid>/stat` the sensor uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// `comm`: the program name the kernel keeps, at most 15 bytes.
    pub comm: String,
    /// `R`, `S`, `Z` (exited, not yet reaped: its image is no longer
    /// readable), ...
    pub state: char,
    pub ppid: i32,
    /// Process group and session ids.
    pub pgrp: i32,
    pub session: i32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

/// The ids of `/proc/<pid>/status`: real, effective, saved, filesystem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    pub uid: [u32; 4],
    pub gid: [u32; 4],
}

impl Ids {
    pub fn real_uid(&self) -> u32 {
        self.uid[0]
    }
    pub fn effective_uid(&self) -> u32 {
        self.uid[1]
    }
    pub fn saved_uid(&self) -> u32 {
        self.uid[2]
    }
    pub fn real_gid(&self) -> u32 {
        self.gid[0]
    }
    pub fn effective_gid(&self) -> u32 {
        self.gid[1]
    }
    pub fn saved_gid(&self) -> u32 {
        self.gid[2]
    }
}

impl ProcFs {
    pub fn new(root: impl Into<PathBuf>) -> ProcFs {
        ProcFs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, pid: i32, file: &str) -> PathBuf {
        let mut p = self.root.join(pid.to_string());
        p.push(file);
        p
    }

    pub fn stat(&self, pid: i32) -> io::Result<Stat> {
        let text = read_proc_file(&self.path(pid, "stat"))?;
        parse_stat(&String::from_utf8_lossy(&text)).ok_or_else(|| malformed("stat"))
    }

    pub fn ids(&self, pid: i32) -> io::Result<Ids> {
        let text = read_proc_file(&self.path(pid, "status"))?;
        parse_status(&String::from_utf8_lossy(&text)).ok_or_else(|| malformed("status"))
    }

    /// The arguments. Empty for a zombie or a kernel thread.
    pub fn args(&self, pid: i32) -> io::Result<Vec<String>> {
        Ok(split_cmdline(&read_proc_file(&self.path(pid, "cmdline"))?))
    }

    /// The executable the process runs (the target of the `exe` link).
    pub fn exe(&self, pid: i32) -> io::Result<String> {
        link_text(&self.path(pid, "exe"))
    }

    pub fn cwd(&self, pid: i32) -> io::Result<String> {
        link_text(&self.path(pid, "cwd"))
    }

    /// Boot time in seconds since the epoch (`btime` of `/proc/stat`).
    pub fn boot_time(&self) -> io::Result<i64> {
        let text = fs::read_to_string(self.root.join("stat"))?;
        text.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| malformed("stat (btime)"))
    }
}

/// Reads a whole `/proc` file. `fs::read` first asks for the file's size,
/// which `/proc` files do not have (they report 0): one system call per
/// read wasted, on the path every exec takes. A page-sized first read
/// gets all of `stat` and `status` at once.
fn read_proc_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

fn link_text(path: &Path) -> io::Result<String> {
    let target = fs::read_link(path)?;
    Ok(target.to_string_lossy().into_owned())
}

fn malformed(file: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed /proc/<pid>/{file}"),
    )
}

/// Parses `/proc/<pid>/stat`. The name is between the first `(` and the
/// last `)`, since it may itself hold spaces and parentheses; the fields
/// after it are space-separated, `state` being field 3 and `starttime`
/// field 22 (1-based, as proc(5) numbers them).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
    let session = rest.next()?.parse().ok()?;
    // Fields 7..=21 (tty_nr .. itrealvalue), then starttime.
    let start_ticks = rest.nth(15)?.parse().ok()?;
    Some(Stat {
        comm,
        state,
        ppid,
        pgrp,
        session,
        start_ticks,
    })
}

/// Parses the `Uid:` and `Gid:` lines of `/proc/<pid>/status`.
pub fn parse_status(text: &str) -> Option<Ids> {
    let mut ids = Ids::default();
    let (mut have_uid, mut have_gid) = (false, false);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("Uid:") {
            ids.uid = four_ids(v)?;
            have_uid = true;
        } else if let Some(v) = line.strip_prefix("Gid:") {
            ids.gid = four_ids(v)?;
            have_gid = true;
        }
        if have_uid && have_gid {
            return Some(ids);
        }
    }
    None
}

fn four_ids(v: &str) -> Option<[u32; 4]> {
    let mut out = [0u32; 4];
    let mut it = v.split_ascii_whitespace();
    for slot in &mut out {
        *slot = it.next()?.parse().ok()?;
    }
    Some(out)
}

/// Splits `cmdline` on NUL. The kernel ends each argument with a NUL; a
/// process that rewrote its arguments (a process title) may leave one
/// string without it, which is kept whole. Invalid UTF-8 is replaced, as
/// Elastic Defend does.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (sh) S 4200 4242 4100 34816 4242 4194304 116 0 0 0 0 0 0 0 20 0 1 0 \
                        987654 2818048 214 18446744073709551615 1 1 0 0 0 0 0 0 65538 0 0 0 17 1 0 0 0 0 0\n";

    #[test]
    fn stat_fields() {
        let s = parse_stat(STAT).unwrap();
        assert_eq!(
            s,
            Stat {
                comm: "sh".into(),
                state: 'S',
                ppid: 4200,
                pgrp: 4242,
                session: 4100,
                start_ticks: 987654
            }
        );
    }

    #[test]
    fn stat_name_with_spaces_and_parentheses() {
        let text = "77 (my (odd) name) Z 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.comm, "my (odd) name");
        assert_eq!((s.state, s.ppid, s.start_ticks), ('Z', 1, 555));
    }

    #[test]
    fn stat_malformed() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("12 (x) S 1 2"), None);
        assert_eq!(parse_stat("12 (x) S one 2 3 4"), None);
        assert_eq!(parse_stat("12 )x( S 1 2 3"), None);
    }

    #[test]
    fn status_ids() {
        let text = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPPid:\t4200\n\
                    Uid:\t1000\t0\t0\t0\nGid:\t100\t27\t27\t27\nFDSize:\t64\n";
        let ids = parse_status(text).unwrap();
        assert_eq!(
            (ids.real_uid(), ids.effective_uid(), ids.saved_uid()),
            (1000, 0, 0)
        );
        assert_eq!(
            (ids.real_gid(), ids.effective_gid(), ids.saved_gid()),
            (100, 27, 27)
        );
        assert_eq!(parse_status("Name:\tsh\nUid:\t1 2 3 4\n"), None);
        assert_eq!(parse_status("Uid:\t1 2\nGid:\t1 2 3 4\n"), None);
    }

    #[test]
    fn cmdline_splitting() {
        assert_eq!(
            split_cmdline(b"sh\0-c\0echo net.ipv4.ip_forward=1 > /dev/null\0"),
            vec!["sh", "-c", "echo net.ipv4.ip_forward=1 > /dev/null"]
        );
        // An empty argument in the middle is kept.
        assert_eq!(split_cmdline(b"a\0\0b\0"), vec!["a", "", "b"]);
        // A rewritten process title without the trailing NUL.
        assert_eq!(
            split_cmdline(b"nginx: worker process"),
            vec!["nginx: worker process"]
        );
        assert_eq!(split_cmdline(b""), Vec::<String>::new());
        assert_eq!(split_cmdline(b"\xff\0"), vec!["\u{fffd}"]);
    }

    #[test]
    fn reads_a_fixture_tree() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("4242");
        fs::create_dir_all(&p).unwrap();
        fs::write(p.join("stat"), STAT).unwrap();
        fs::write(p.join("status"), "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n").unwrap();
        fs::write(p.join("cmdline"), b"sh\0-c\0true\0").unwrap();
        std::os::unix::fs::symlink("/usr/bin/dash", p.join("exe")).unwrap();
        std::os::unix::fs::symlink("/tmp", p.join("cwd")).unwrap();
        fs::write(
            dir.path().join("stat"),
            "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n",
        )
        .unwrap();

        let proc = ProcFs::new(dir.path());
        assert_eq!(proc.stat(4242).unwrap().ppid, 4200);
        assert_eq!(proc.ids(4242).unwrap().effective_uid(), 0);
        assert_eq!(proc.args(4242).unwrap(), vec!["sh", "-c", "true"]);
        assert_eq!(proc.exe(4242).unwrap(), "/usr/bin/dash");
        assert_eq!(proc.cwd(4242).unwrap(), "/tmp");
        assert_eq!(proc.boot_time().unwrap(), 1_700_000_000);
        // Arguments longer than the first page-sized read.
        let long = "x".repeat(10_000);
        fs::write(p.join("cmdline"), format!("python3\0-c\0{long}\0")).unwrap();
        assert_eq!(
            proc.args(4242).unwrap(),
            vec!["python3".to_owned(), "-c".to_owned(), long]
        );
        let gone = proc.stat(4243).unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn reads_this_process() {
        let proc = ProcFs::new("/proc");
        let me = std::process::id() as i32;
        let stat = proc.stat(me).unwrap();
        assert_eq!(stat.ppid, std::os::unix::process::parent_id() as i32);
        let exe = std::env::current_exe().unwrap();
        assert_eq!(proc.exe(me).unwrap(), exe.to_string_lossy());
        assert_eq!(proc.args(me).unwrap().len(), std::env::args().count());
        assert!(proc.boot_time().unwrap() > 1_000_000_000);
    }
}
